package web

import (
	"sort"
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
		{"must be in 1970 or later and at most 10 years after the service's clock", "fr", "Choisissez une date entre 1970 et dans dix ans."},
		{"must be in 1970 or later and at most 10 years after the service's clock", "en", "Choose a time from 1970 to ten years from now."},
		{"must be a date like 2026-12-24", "fr", "Tapez une date."},
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
