package web

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Both catalogues hold the same keys, and no message is empty.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	for lang, cat := range catalogues {
		for other, oc := range catalogues {
			var missing []string
			for k := range cat {
				if _, ok := oc[k]; !ok {
					missing = append(missing, k)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("%s has keys %s lacks: %v", lang, other, missing)
			}
		}
		for k, v := range cat {
			if v == "" {
				t.Errorf("%s: %s is empty", lang, k)
			}
		}
	}
}

func TestParseCents(t *testing.T) {
	for in, want := range map[string]int64{"12": 1200, "12.5": 1250, "12,50": 1250, " 0.01 ": 1, "3.": 300} {
		if got, ok := parseCents(in); !ok || got != want {
			t.Errorf("parseCents(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0", "0.00", "-1", "1.234", "abc", ".5", "1e3", "99999999999"} {
		if got, ok := parseCents(in); ok {
			t.Errorf("parseCents(%q) = %d, want refused", in, got)
		}
	}
}

func TestMoneyByLanguage(t *testing.T) {
	for _, c := range []struct {
		lang  string
		cents int64
		want  string
	}{{"en", 1940, "19.40"}, {"fr", 1940, "19,40"}, {"en", 5, "0.05"}, {"en", -250, "-2.50"}} {
		if got := money(c.lang, c.cents); got != c.want {
			t.Errorf("money(%s, %d) = %q, want %q", c.lang, c.cents, got, c.want)
		}
	}
}

// The API's error messages that a form shows are in the member's language.
func TestAPIMessagesByLanguage(t *testing.T) {
	for _, tc := range []struct{ msg, lang, want string }{
		{"must be in 1970 or later and at most 10 years after the service's clock", "fr", "Choisissez une date entre 1970 et dans 10 ans."},
		{"must be in 1970 or later and at most 10 years after the service's clock", "en", "Choose a time from 1970 to 10 years from now."},
		{"must be a date like 2026-12-24", "fr", "Tapez une date."},
		{"must be at least the co-op's voted floor of 3000 cents (fares.floorCents)", "fr", "Le prix doit être d'au moins 30,00, le tarif minimum voté par la coop."},
		{"must be at least the co-op's voted floor of 3000 cents (fares.floorCents)", "en", "The price must be at least 30.00, the co-op's voted minimum."},
		{"payments for this work add up to at most its agreed price, 1000 cents; 250 cents are left", "fr",
			"Les paiements pour ce travail ne peuvent dépasser son prix convenu, 10,00 : vous pouvez encore payer 2,50 au plus."},
		{"payments for this work add up to at most its agreed price, 1000 cents; 250 cents are left", "en",
			"Payments for this work add up to at most its agreed price, 10.00: you can pay at most 2.50 more."},
		{"something the catalogue does not know", "fr", "something the catalogue does not know"},
		{"this payment has already been refunded", "fr", "Ce paiement a déjà été remboursé."},
		{"the proposal passed, but the refund takes 20 cents back from the hardship fund, which holds 0 cents after its disbursements: a fund cannot go below zero", "fr",
			"Un fonds ne détient plus sa part de ce paiement (il l'a versée) : le remboursement ne peut pas être fait pour le moment."},
		{"a refund of this payment is already put to the vote: proposal 7", "fr", "Un remboursement de ce paiement est déjà soumis au vote des membres."},
		{"the refund takes 20 cents back from the hardship fund, which holds 0 cents after its disbursements: a fund cannot go below zero", "fr",
			"Un fonds ne détient plus sa part de ce paiement (il l'a versée) : le remboursement ne peut pas être fait pour le moment."},
	} {
		if got := trAPI(tc.lang, tc.msg); got != tc.want {
			t.Errorf("trAPI(%s, %q) = %q, want %q", tc.lang, tc.msg, got, tc.want)
		}
	}
}

// apiSource is the text of the API's Go source (platform/server, its tests left out),
// where every message it answers with is written.
func apiSource(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("../*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("the API's source: %v (%d files)", err, len(files))
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}

// composedAPIText are the messages and prefixes of the catalogue the API writes in
// pieces rather than in one string: each piece, verbatim in its source.
var composedAPIText = map[string][]string{
	// settleRefund: "the proposal passed, but " + the refusal of the refund.
	"the proposal passed, but the refund takes ": {`"the proposal passed, but " + ae.message`, `"the refund takes `},
}

// inAPISource says whether the API's source writes msg: verbatim (as Go writes it in a
// string), in the pieces composedAPIText names, or, for "<what> not found" and "no <what>
// with this id", as notFound, asNotFound and refNotFound make them.
func inAPISource(src, msg string) bool {
	if strings.Contains(src, msg) || strings.Contains(src, strings.Trim(strconv.Quote(msg), `"`)) {
		return true
	}
	if pieces, ok := composedAPIText[msg]; ok {
		for _, p := range pieces {
			if !strings.Contains(src, p) {
				return false
			}
		}
		return true
	}
	if what, ok := strings.CutSuffix(msg, " not found"); ok {
		return regexp.MustCompile(`(?:\bnotFound|\basNotFound)\([^()"]*"` + regexp.QuoteMeta(what) + `"\)`).MatchString(src)
	}
	if what, ok := strings.CutPrefix(msg, "no "); ok {
		if what, ok := strings.CutSuffix(what, " with this id"); ok {
			return regexp.MustCompile(`\brefNotFound\("[^"]*", "` + regexp.QuoteMeta(what) + `"\)`).MatchString(src)
		}
	}
	return false
}

// Every API message the catalogues translate, and every prefix of apiPrefixes, is one the
// API's source still writes: a message the API words anew must not lose its translation
// without a test saying so (the member would read it in English again).
func TestAPITranslationsFollowTheAPISource(t *testing.T) {
	src := apiSource(t)
	named := map[string]bool{}
	for prefix, key := range apiPrefixes {
		named[key] = true
		if !inAPISource(src, prefix) {
			t.Errorf("apiPrefixes: %q is in none of the API's messages (platform/server/*.go)", prefix)
		}
		verbs := regexp.MustCompile(`%.`).FindAllString(strings.ReplaceAll(prefix, "%%", ""), -1)
		for _, v := range verbs {
			if v != "%d" && v != "%s" && v != "%q" {
				t.Errorf("apiPrefixes: %q has the verb %s, which trAPI does not match", prefix, v)
			}
		}
		for lang, cat := range catalogues {
			s, ok := cat[key]
			if !ok {
				t.Errorf("apiPrefixes: %q translates to %s, which the %s catalogue lacks", prefix, key, lang)
				continue
			}
			for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
				if n, _ := strconv.Atoi(m[1]); n > len(verbs) {
					t.Errorf("%s: %s says value {%d}, but %q has %d", lang, key, n, prefix, len(verbs))
				}
			}
		}
	}
	for key := range catalogues["en"] {
		msg, ok := strings.CutPrefix(key, "api.")
		if !ok || named[key] {
			continue
		}
		if !inAPISource(src, msg) {
			t.Errorf("the catalogues translate %q, which the API's source no longer writes", msg)
		}
	}
}

// A translation that says a value its prefix did not match is not shown half filled: the
// member reads the API's own message instead.
func TestAPIValuesMissingKeepTheAPIText(t *testing.T) {
	if got, ok := fillValues("fr", "il reste {3:money}", []string{"1", "2"}); ok {
		t.Errorf("fillValues filled a third value of two: %q", got)
	}
	if got, ok := fillValues("fr", "{1:money}", []string{"x"}); ok {
		t.Errorf("fillValues took x for an amount: %q", got)
	}
	if got, ok := fillValues("fr", "{2} puis {1:money}", []string{"1250", "B"}); !ok || got != "B puis 12,50" {
		t.Errorf("fillValues = %q, %v", got, ok)
	}
}
