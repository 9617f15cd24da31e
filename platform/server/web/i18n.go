package web

import (
	"cmp"
	"embed"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The message catalogues, one JSON object of key to message per language.
//
//go:embed messages/*.json
var messagesFS embed.FS

// catalogues hold every string of the app, per language. tr of a key missing from a
// catalogue renders "⟦key⟧", which the tests look for on every page in every language.
var catalogues = map[string]map[string]string{"en": loadCatalogue("en"), "fr": loadCatalogue("fr")}

func loadCatalogue(lang string) map[string]string {
	b, err := messagesFS.ReadFile("messages/" + lang + ".json")
	if err != nil {
		panic(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic("messages/" + lang + ".json: " + err.Error())
	}
	return m
}

func tr(lang, key string) string {
	if s, ok := catalogues[lang][key]; ok {
		return s
	}
	return "⟦" + key + "⟧"
}

// trField names a field of a work request.
func trField(lang, f string) string {
	if s, ok := catalogues[lang]["field."+f]; ok {
		return s
	}
	return "⟦field." + f + "⟧"
}

// trAPI translates the API's error messages the forms and pages show: a message the
// catalogue has under "api.<message>", else the first of apiPrefixes (the longest) the
// message starts with, its values filled in where the catalogue's text says them (see
// apiPrefixes). An unknown message stays as the API wrote it (English).
func trAPI(lang, msg string) string {
	if s, ok := catalogues[lang]["api."+msg]; ok {
		return s
	}
	for _, p := range apiPatterns {
		m := p.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		if s, ok := catalogues[lang][p.key]; ok {
			if s, ok := fillValues(lang, s, m[1:]); ok {
				return s
			}
		}
		break
	}
	return msg
}

// apiPrefixes map the start of an API message with variable parts to the catalogue's key
// of its translation. A prefix is the API's own text (its format string, as far as the
// member needs it), in which %d stands for an integer, %s for any text and %q for a
// quoted string; the translation may say the values they matched, in their order, as
// {1}, {2}…, and {1:money} shows an integer as an amount of cents (12,50 in French). Each
// prefix occurs verbatim in the API's source (i18n_test.go checks it).
var apiPrefixes = map[string]string{
	"payments for this work add up to at most its agreed price, %d cents; %d cents are left": "api.paymentTooMuch",
	"work in state":       "api.wrongState",
	"must be a date like": "api.date",
	"must be a time like": "api.time",
	"must be in 1970 or later and at most %d years":                        "api.timeWindow",
	"must be at least the co-op's voted floor of %d cents":                 "api.floor",
	"is required (at most 1000 characters)":                                "askRefund.reasonRequired",
	"a refund of this payment is already put to the vote":                  "api.refundPending",
	"voting closed at the proposal's deadline":                             "api.votingClosed",
	"your offer expired":                                                   "api.offerExpired",
	"your offer was withdrawn":                                             "api.offerWithdrawn",
	"only an active member holding the worker role accepts work":           "api.notWorker",
	"the refund takes ":                                                    "api.fundShort",
	"the proposal passed, but the refund takes ":                           "api.fundShort",
	"worker %d is booked from %s to %s (work %d)":                          "api.overlap",
	"the maker of listing %d did not take this order":                      "api.makerDidNotTake",
	"the maker of listing %d is no longer an active worker":                "api.makerGone",
	"a scheduled slot lasts from 1 to %d minutes":                          "api.slotMinutes",
	"must be a whole number of minutes from 1 to %d":                       "api.detailMinutes",
	"must be an integer from 0 to %d":                                      "api.measureRange",
	"must be a whole number from 1 to %d":                                  "api.quantityRange",
	"only %d left of listing %d":                                           "api.stockLeft",
	"%s is booked from %s to %s; a stay may begin on the day another ends": "api.stayBooked",
	"must be yes, no or abstain under ":                                    "api.choice",
	"must be yes, abstain or object under ":                                "api.choiceConsent",
	"the member is not on this proposal's roll":                            "api.notOnRoll",
	"%s from the members' app takes a sign-in of the last %d minutes":      "api.signInAgain",
}

// apiPattern is one of apiPrefixes, as trAPI matches it.
type apiPattern struct {
	re  *regexp.Regexp
	key string
}

// apiPatterns are apiPrefixes, the longest first: a message that starts with two of them
// is translated by the one that says more of it, whatever the map's order.
var apiPatterns = compileAPIPrefixes(apiPrefixes)

func compileAPIPrefixes(prefixes map[string]string) []apiPattern {
	verbs := strings.NewReplacer("%d", `(-?\d+)`, "%s", `(.*?)`, "%q", `("(?:[^"\\]|\\.)*")`, "%%", "%")
	var out []apiPattern
	for _, p := range slices.SortedFunc(maps.Keys(prefixes), func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) }) {
		// The literal text quoted, its verbs turned into groups.
		var re strings.Builder
		re.WriteString("^")
		rest := p
		for {
			i := strings.IndexByte(rest, '%')
			if i < 0 || i+1 >= len(rest) {
				re.WriteString(regexp.QuoteMeta(rest))
				break
			}
			re.WriteString(regexp.QuoteMeta(rest[:i]))
			if !slices.Contains([]string{"%d", "%s", "%q", "%%"}, rest[i:i+2]) {
				panic("apiPrefixes: " + rest[i:i+2] + " in " + strconv.Quote(p) + " is not a verb the prefixes take (%d, %s, %q)")
			}
			re.WriteString(verbs.Replace(rest[i : i+2]))
			rest = rest[i+2:]
		}
		out = append(out, apiPattern{re: regexp.MustCompile(re.String()), key: prefixes[p]})
	}
	return out
}

// placeholder is {n} or {n:money} in a translation of apiPrefixes.
var placeholder = regexp.MustCompile(`\{([1-9][0-9]*)(:money)?\}`)

// fillValues puts the values a message's prefix matched into its translation s; false
// when s says a value the message does not have, or an amount that is no integer.
func fillValues(lang, s string, values []string) (string, bool) {
	ok := true
	out := placeholder.ReplaceAllStringFunc(s, func(ph string) string {
		m := placeholder.FindStringSubmatch(ph)
		n, _ := strconv.Atoi(m[1])
		if n > len(values) {
			ok = false
			return ph
		}
		v := values[n-1]
		if m[2] == "" {
			return v
		}
		cents, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			ok = false
			return ph
		}
		return money(lang, cents)
	})
	return out, ok
}
