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
	"time"
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
func trAPI(lang string, zone *time.Location, msg string) string {
	if s, ok := catalogues[lang]["api."+msg]; ok {
		return s
	}
	return trPrefixed(lang, zone, msg, apiPatterns)
}

// trApplied translates what became of a passed proposal's change, as the platform or the
// operator wrote it back (proposals.application_message) and the governance page shows it:
// by the first of appliedPrefixes (the longest) the message starts with, as trAPI does.
// An unknown message stays as its writer wrote it (English).
func trApplied(lang string, zone *time.Location, msg string) string {
	return trPrefixed(lang, zone, msg, appliedPatterns)
}

// trPrefixed translates msg by the first of patterns it matches, its values filled in;
// msg itself when none matches, or when the catalogue lacks the match's translation or
// its translation says a value msg does not have.
func trPrefixed(lang string, zone *time.Location, msg string, patterns []apiPattern) string {
	for _, p := range patterns {
		m := p.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		if s, ok := catalogues[lang][p.key]; ok {
			if s, ok := fillValues(lang, zone, s, m[1:]); ok {
				return s
			}
		}
		break
	}
	return msg
}

// apiPrefixes map the start of an API message with variable parts to the catalogue's key
// of its translation. A prefix is the API's own text (its format string, as far as the
// member needs it), in which %d stands for an integer, %s for any text (the rest of the
// message when it ends the prefix) and %q for a quoted string; the translation may say
// the values they matched, in their order, as {1}, {2}…, {1:money} shows an integer as an
// amount of cents (12,50 in French) and {1:date} a time as RFC 3339 writes it
// (2026-12-01T09:00:00Z) as the pages show a time. Each prefix occurs verbatim in the
// API's source (i18n_test.go checks it).
var apiPrefixes = map[string]string{
	"overlaps weekly[%d] on %s":              "api.overlapsWindow",
	"must hold at most %d entries":           "api.maxEntries",
	"must add up to priceCents (%d), not %d": "api.milestonesSum",
	"payments for this work add up to at most its agreed price, %d cents; %d cents are left": "api.paymentTooMuch",
	"work in state":       "api.wrongState",
	"must be a date like": "api.date",
	"must be a time like": "api.time",
	"must be in 1970 or later and at most %d years":                               "api.timeWindow",
	"must be at least the co-op's voted floor of %d cents":                        "api.floor",
	"is required (at most 1000 characters)":                                       "askRefund.reasonRequired",
	"a refund of this payment is already put to the vote":                         "api.refundPending",
	"voting closed at the proposal's deadline":                                    "api.votingClosed",
	"you have %d proposals open":                                                  "api.tooManyOpen",
	"your offer expired":                                                          "api.offerExpired",
	"your offer was withdrawn":                                                    "api.offerWithdrawn",
	"only an active member holding the worker role accepts work":                  "api.notWorker",
	"the refund takes ":                                                           "api.fundShort",
	"the proposal passed, but the refund takes ":                                  "api.fundShort",
	"worker %d is booked from %s to %s (work %d)":                                 "api.overlap",
	"the maker of listing %d did not take this order":                             "api.makerDidNotTake",
	"the maker of listing %d is no longer an active worker":                       "api.makerGone",
	"a scheduled slot lasts from 1 to %d minutes":                                 "api.slotMinutes",
	"must be a whole number of minutes from 1 to %d":                              "api.detailMinutes",
	"must be an integer from 0 to %d":                                             "api.measureRange",
	"must be a whole number from 1 to %d":                                         "api.quantityRange",
	"only %d left of listing %d":                                                  "api.stockLeft",
	"%s is taken for some of the nights from %s to %s;":                           "api.stayBooked",
	"must be yes, no or abstain under ":                                           "api.choice",
	"must be yes, abstain or object under ":                                       "api.choiceConsent",
	"the member is not on this proposal's roll":                                   "api.notOnRoll",
	"%s from the members' app takes a sign-in of the last %d minutes":             "api.signInAgain",
	"weekly hours are on the co-op's clock, in %s; leave timeZone out or send %s": "api.scheduleZone",
	"work %d is booked from %s to %s, within the time off":                        "api.timeOffBooked",
	"the schedule holds %d exceptions, the most it may":                           "api.tooManyExceptions",
	"the fund %s holds %d cents: a disbursement cannot take it below zero":        "api.fundHolds",
	"the proposal passed, but the fund %s holds %d cents":                         "api.fundHoldsAfterVote",
	"is required: a date like 2026-12-31 (the co-op's date, included)":            "api.exportDate",
	"must be from from to %d days after it":                                       "api.exportPeriod",
	"must be between the co-op's minimum of %d hours and %d hours":                "api.votingPeriod",
	"must be fares, governance or one of the policy's governed fields: ":          "api.governedField",
	"%q is not a zone of the co-op's fare rule":                                   "api.notAZone",
	"milestone %d is %s; the worker submits it first":                             "api.milestoneNotSubmitted",
	"milestone %d is %s":                                                          "api.milestoneNotOpen",
	"milestones move while the project is in progress, not %s":                    "api.milestonesNotInProgress",
}

// appliedPrefixes are every message the governance page can show of what became of a
// passed proposal's change (its application's message, after its state), each the start
// of the message as its writer formats it, as apiPrefixes are, to the catalogue's key of
// its translation. Each occurs verbatim in the source that writes it (i18n_test.go checks
// it): a message worded anew fails a test rather than showing in English. Not here: a
// message the operator passes on from elsewhere (policy.ParseChange's refusal of the
// value, which the platform made already when the proposal opened; encoding/json's): it
// shows as written.
var appliedPrefixes = map[string]string{
	// The platform, applying a part of the policy itself when the vote closes
	// (platform/server/prices.go, applyPlatformChange).
	"the platform prices requests with this fare rule from now on": "applied.fareRule",

	// The operator (controllers/governance/reconciler.go), writing back its verdict with
	// governance.RecordApplication. Applied (applyOne, applyChange):
	"applied to Cooperative %s": "applied.cooperative",
	// Refused by its checks of the vote (decide: ReasonTallyMismatch, ReasonClosedEarly;
	// closedBeforeDecided: ReasonClosedBeforeDecided).
	"the operator's re-tally of the ballots does not give the recorded result (it gives: %s); nothing was applied": "applied.recount",
	"it closed %s after it opened, before the co-op's minimum voting period of %d hours, while %d members":         "applied.closedEarly",
	"it has no deadline and closed while %d members of its electorate had not voted":                               "applied.noDeadline",
	"it closed at %s, before proposals the operator has decided since (the newest closed at %s)":                   "applied.restored",
	// Refused unread (tooLarge): larger than the operator reads of a co-op's database.
	"its change, its rules or its recorded result is larger than the %d KiB the operator reads of each": "applied.tooLarge",
	"its roll or its delegations hold more than the %d entries the operator tallies":                    "applied.tooMany",
	// Passed, but not applicable (decide and applyChange: ReasonChangeNotApplicable).
	"the co-op's governance rules changed while the proposal was open; propose it again": "applied.rulesChanged",
	"%s is not one of the co-op's governed fields (spec.governance.governedFields) now":  "applied.notGoverned",
	"HostingPlan %q does not exist": "applied.noPlan",
	"the change removes peer %s, which holds the co-op's primary database since a switchover": "applied.primaryPeer",
	// (Written "the API server refused the new value: " + the API server's message.)
	"the API server refused the new value: %s": "applied.apiServer",
	// SetSpecPart and SpecPart, which applyChange calls.
	"decoding the new value of %s: ":                                             "applied.undecodable",
	"federation.primary: a switchover is the co-op admins' decision, not a vote": "applied.primaryByVote",
	"%q is not a governed part":                                                  "applied.notAPart",
	// coopv1.ResolveTemplate (api/v1alpha1/platformtemplate_types.go), which applyChange
	// asks of a change of the platform's template or version.
	"PlatformTemplate %q does not exist":                      "applied.noTemplate",
	"PlatformTemplate %q serves vertical %s, the co-op is %s": "applied.templateVertical",
	"PlatformTemplate %q has no version %q (it has %s)":       "applied.noVersion",
}

// appliedPatterns are appliedPrefixes, the longest first.
var appliedPatterns = compileAPIPrefixes(appliedPrefixes)

// apiPattern is one of apiPrefixes (or appliedPrefixes), as trAPI (trApplied) matches it.
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
			if rest[i:i+2] == "%s" && i+2 == len(rest) {
				re.WriteString(`(.*)`) // the rest of the message
			} else {
				re.WriteString(verbs.Replace(rest[i : i+2]))
			}
			rest = rest[i+2:]
		}
		out = append(out, apiPattern{re: regexp.MustCompile(re.String()), key: prefixes[p]})
	}
	return out
}

// placeholder is {n}, {n:money} or {n:date} in a translation of apiPrefixes.
var placeholder = regexp.MustCompile(`\{([1-9][0-9]*)(:money|:date)?\}`)

// fillValues puts the values a message's prefix matched into its translation s; false
// when s says a value the message does not have, an amount that is no integer or a date
// that is no RFC 3339 time.
func fillValues(lang string, zone *time.Location, s string, values []string) (string, bool) {
	ok := true
	out := placeholder.ReplaceAllStringFunc(s, func(ph string) string {
		m := placeholder.FindStringSubmatch(ph)
		n, _ := strconv.Atoi(m[1])
		if n > len(values) {
			ok = false
			return ph
		}
		v := values[n-1]
		switch m[2] {
		case "":
			return v
		case ":date":
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				ok = false
				return ph
			}
			return dateTime(lang, zone, at)
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
