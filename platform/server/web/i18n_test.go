package web

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
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
		if got := trAPI(tc.lang, time.UTC, tc.msg); got != tc.want {
			t.Errorf("trAPI(%s, %q) = %q, want %q", tc.lang, tc.msg, got, tc.want)
		}
	}
}

// apiSource is the text of the API's Go source (platform/server, its tests left out),
// where every message it answers with is written.
func apiSource(t *testing.T) string {
	t.Helper()
	return goSource(t, "../*.go")
}

// appliedSource is the text of the Go source that writes what became of a passed
// proposal's change: the platform (platform/server), the operator's governance loop
// (controllers/governance) and the check of a platform template it asks
// (api/v1alpha1), their tests left out.
func appliedSource(t *testing.T) string {
	t.Helper()
	return goSource(t, "../*.go", "../../../controllers/governance/*.go", "../../../api/v1alpha1/platformtemplate_types.go")
}

// goSource is the text of the Go files each of globs names (each names some), tests left
// out.
func goSource(t *testing.T, globs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil || len(files) == 0 {
			t.Fatalf("the source %s: %v (%d files)", g, err, len(files))
		}
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
	}
	return b.String()
}

// composedAPIText are the messages and prefixes of the catalogue the API writes in
// pieces rather than in one string: each piece, verbatim in its source.
var composedAPIText = map[string][]string{
	// settleRefund: "the proposal passed, but " + the refusal of the refund.
	"the proposal passed, but the refund takes ": {`"the proposal passed, but " + ae.message`, `"the refund takes `},
	// settleDisbursement: "the proposal passed, but " + fundCovers's refusal.
	"the proposal passed, but the fund %s holds %d cents": {`"the proposal passed, but "+ae.message`, `"the fund %s holds %d cents`},
	// castBallot: "must be "+allowed+" under "+g.Model.
	"must be yes, no or abstain under ":     {`"must be "+allowed+" under "`, `"yes, no or abstain"`},
	"must be yes, abstain or object under ": {`"must be "+allowed+" under "`, `"yes, abstain or object"`},
	// SetCredentials: "must be one of "+strings.Join(checkStatuses, ", ").
	"must be one of clear, pending, failed": {`"must be one of "+strings.Join(checkStatuses, ", ")`, `checkStatuses = []string{"clear", "pending", "failed"}`},
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
	named := checkPrefixes(t, "apiPrefixes", apiPrefixes, func(prefix string) bool { return inAPISource(src, prefix) }, "the API's messages (platform/server/*.go)")
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

// checkPrefixes checks each prefix of prefixes (apiPrefixes or appliedPrefixes, named
// name) is one its writers' source still writes (in, said as where), takes only the verbs
// trPrefixed matches, and translates to a key both catalogues have that says no value the
// prefix does not match. It returns the keys the prefixes name.
func checkPrefixes(t *testing.T, name string, prefixes map[string]string, in func(string) bool, where string) map[string]bool {
	t.Helper()
	named := map[string]bool{}
	for prefix, key := range prefixes {
		named[key] = true
		if !in(prefix) {
			t.Errorf("%s: %q is in none of %s", name, prefix, where)
		}
		verbs := regexp.MustCompile(`%.`).FindAllString(strings.ReplaceAll(prefix, "%%", ""), -1)
		for _, v := range verbs {
			if v != "%d" && v != "%s" && v != "%q" {
				t.Errorf("%s: %q has the verb %s, which trPrefixed does not match", name, prefix, v)
			}
		}
		for lang, cat := range catalogues {
			s, ok := cat[key]
			if !ok {
				t.Errorf("%s: %q translates to %s, which the %s catalogue lacks", name, prefix, key, lang)
				continue
			}
			for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
				if n, _ := strconv.Atoi(m[1]); n > len(verbs) {
					t.Errorf("%s: %s says value {%d}, but %q has %d", lang, key, n, prefix, len(verbs))
				}
			}
		}
	}
	return named
}

// composedAppliedText are the prefixes of appliedPrefixes their writer writes in pieces
// rather than in one format string: each piece, verbatim in its source.
var composedAppliedText = map[string][]string{
	// applyChange: the API server's own message after its words.
	"the API server refused the new value: %s": {`fail("the API server refused the new value: " + apiMessage(err))`},
}

// Every message of appliedPrefixes is one its writer still writes, verbatim (as Go writes
// it in a string): the platform (platform/server/*.go), the operator
// (controllers/governance/*.go) or the template check it asks
// (api/v1alpha1/platformtemplate_types.go). An operator's message worded anew fails here
// rather than showing in English on the governance page. And every applied.* key of the
// catalogues is one of appliedPrefixes.
func TestAppliedTranslationsFollowTheirSource(t *testing.T) {
	src := appliedSource(t)
	in := func(prefix string) bool {
		if pieces, ok := composedAppliedText[prefix]; ok {
			return !slices.ContainsFunc(pieces, func(p string) bool { return !strings.Contains(src, p) })
		}
		return strings.Contains(src, prefix) || strings.Contains(src, strings.Trim(strconv.Quote(prefix), `"`))
	}
	named := checkPrefixes(t, "appliedPrefixes", appliedPrefixes, in,
		"the messages of platform/server/*.go, controllers/governance/*.go and api/v1alpha1/platformtemplate_types.go")
	for key := range catalogues["en"] {
		if strings.HasPrefix(key, "applied.") && !named[key] {
			t.Errorf("the catalogues translate %s, which no prefix of appliedPrefixes names", key)
		}
	}
}

// appliedMessages are what the governance page can show of a passed proposal's change
// after its state, as the platform and the operator write them (values filled in), by
// their writer: each one is shown to the member in their language.
var appliedMessages = []struct{ writer, msg string }{
	{"platform: applyPlatformChange", "the platform prices requests with this fare rule from now on"},

	{"operator: applyOne, applyChange", "applied to Cooperative fairride-lyon"},
	{"operator: decide (TallyMismatch)", "the operator's re-tally of the ballots does not give the recorded result (it gives: blocked by 1 standing objection(s)); nothing was applied"},
	{"operator: decide (ClosedEarly)", "it closed 2h0m0s after it opened, before the co-op's minimum voting period of 24 hours, while 3 members " +
		"of its electorate had not voted; nothing was applied"},
	{"operator: decide (ClosedEarly, no deadline)", "it has no deadline and closed while 2 members of its electorate had not voted; nothing was applied"},
	{"operator: closedBeforeDecided", "it closed at 2026-11-02T09:00:00Z, before proposals the operator has decided since (the newest closed at 2026-11-20T10:30:00Z): " +
		"the co-op's database seems restored to an earlier point, and this change may have been applied and changed again since; nothing was applied " +
		"(propose it again if it still stands)"},
	{"operator: decide (ChangeNotApplicable)", "the co-op's governance rules changed while the proposal was open; propose it again"},
	{"operator: decide (ChangeNotApplicable)", "plan is not one of the co-op's governed fields (spec.governance.governedFields) now"},
	{"operator: applyChange", `HostingPlan "large" does not exist`},
	{"operator: applyChange", "the change removes peer lyon-2, which holds the co-op's primary database since a switchover (spec.federation.primary): " +
		"the co-op's admins must switch the primary back first, then the members may propose it again"},
	{"operator: applyChange", `the API server refused the new value: Cooperative.coop.cooperator.dev "fairride-lyon" is invalid: spec.plan: Invalid value: "x"`},
	{"operator: SetSpecPart", "decoding the new value of plan: json: cannot unmarshal number into Go value of type string"},
	{"operator: SetSpecPart", "federation.primary: a switchover is the co-op admins' decision, not a vote"},
	{"operator: SpecPart, SetSpecPart", `"fares" is not a governed part`},
	{"operator: coopv1.ResolveTemplate", `PlatformTemplate "ride-sharing" does not exist`},
	{"operator: coopv1.ResolveTemplate", `PlatformTemplate "care-plus" serves vertical care, the co-op is ride-sharing`},
	{"operator: coopv1.ResolveTemplate", `PlatformTemplate "ride-sharing" has no version "2.0" (it has 1.4, 1.5)`},
	{"operator: tooLarge (ProposalTooLarge)", "its change, its rules or its recorded result is larger than the 64 KiB the operator reads of each; nothing was applied"},
	{"operator: tooLarge (ProposalTooLarge)", "its roll or its delegations hold more than the 200000 entries the operator tallies; nothing was applied"},
}

// What became of a passed proposal's change is in the member's language: every message
// of appliedMessages in French, not its writer's English, with no value left unsaid as
// {n}; and every prefix of appliedPrefixes is one of them.
func TestAppliedMessagesInFrench(t *testing.T) {
	used := map[string]bool{}
	for _, a := range appliedMessages {
		fr, en := trApplied("fr", time.UTC, a.msg), trApplied("en", time.UTC, a.msg)
		if fr == a.msg || fr == en {
			t.Errorf("%s: %q is not translated to French: %q", a.writer, a.msg, fr)
		}
		for lang, s := range map[string]string{"fr": fr, "en": en} {
			if placeholder.MatchString(s) || strings.Contains(s, "⟦") {
				t.Errorf("%s: %q in %s says %q", a.writer, a.msg, lang, s)
			}
		}
		for _, p := range appliedPatterns {
			if p.re.MatchString(a.msg) {
				used[p.key] = true
				break
			}
		}
	}
	for prefix, key := range appliedPrefixes {
		if !used[key] {
			t.Errorf("appliedPrefixes: no message of appliedMessages is %q", prefix)
		}
	}
	// The values the member needs are said, dates as the pages show them.
	for _, c := range []struct{ lang, msg, want string }{
		{"fr", "applied to Cooperative fairride-lyon", "Le hub l'a appliquée à la coop fairride-lyon."},
		{"fr", appliedMessages[5].msg, "Elle a été close le 02/11/2026 09:00 UTC, avant d'autres propositions que le hub a déjà traitées " +
			"(la plus récente close le 20/11/2026 10:30 UTC) : la base de données de la coop semble avoir été restaurée à un état antérieur, " +
			"et ce changement a peut-être été appliqué puis modifié depuis. Rien n'a été appliqué : proposez-la à nouveau si elle vaut toujours."},
		{"fr", appliedMessages[3].msg, "Elle a été close avant la fin de la durée minimale de vote de la coop (24 h), alors que des membres " +
			"appelés à voter ne l'avaient pas fait (votes manquants : 3). Rien n'a été appliqué."},
		{"en", appliedMessages[2].msg, "The hub's recount of the ballots does not give the recorded result (it gives: blocked by 1 standing objection(s)). Nothing was applied."},
		{"en", appliedMessages[10].msg, `The cluster that hosts the co-op refused the new value: Cooperative.coop.cooperator.dev "fairride-lyon" is invalid: spec.plan: Invalid value: "x"`},
		{"fr", appliedMessages[16].msg, `Le modèle de plateforme "ride-sharing" n'a pas de version "2.0" (il a : 1.4, 1.5).`},
		{"fr", appliedMessages[15].msg, `Le modèle de plateforme "care-plus" sert l'activité care, pas celle de la coop (ride-sharing).`},
		// A message the catalogues do not know stays as its writer wrote it.
		{"fr", "json: cannot unmarshal number into Go value of type string", "json: cannot unmarshal number into Go value of type string"},
	} {
		if got := trApplied(c.lang, time.UTC, c.msg); got != c.want {
			t.Errorf("trApplied(%s, %q) = %q, want %q", c.lang, c.msg, got, c.want)
		}
	}
}

// memberRefusals are the API's refusals a member can meet through the app's own pages
// and forms, as the API words them (values filled in), by the route that answers them:
// each one is shown to the member in their language.
var memberRefusals = []struct{ route, msg string }{
	// Any of the routes a member writes through.
	{"every write", "the member is not active"},
	{"every write", "concurrent update; retry"},
	{"every route", "the database is unavailable; retry later"},
	{"routes under the policy", "no valid policy loaded"},
	{"PUT /v1/members/{id}/availability", "the member's data has been erased"},
	{"PUT /v1/members/{id}/availability", "only active workers can be available"},
	{"POST /v1/members/{id}/schedule/exceptions", "work 12 is booked from 2026-12-03T10:00:00Z to 2026-12-03T11:00:00Z, within the time off: it is done, or cancelled, before the time off is taken"},
	{"POST /v1/members/{id}/schedule/exceptions", "the schedule holds 200 exceptions, the most it may: remove one first"},
	{"POST /v1/disbursements", "the fund hardship holds 1000 cents: a disbursement cannot take it below zero"},
	{"GET /v1/exports/{report} (staff)", "is required: a date like 2026-12-31 (the co-op's date, included)"},
	{"GET /v1/exports/{report} (staff)", "must be from from to 400 days after it"},
	{"GET /v1/disbursements/{id} (its outcome)", "the proposal passed, but the fund hardship holds 0 cents: a disbursement cannot take it below zero"},

	// The work page and its buttons.
	{"GET and POST /v1/work/{id}…", "work not found"},
	{"POST /v1/work/{id}/match|start|complete|cancel", "work in state offered cannot go to offered"},
	{"POST /v1/work/{id}/decline", "work in state requested has no open offer to decline"},
	{"POST /v1/work/{id}/accept", "only an active member holding the worker role accepts work: this offer's worker is no longer one (deactivated, erased or without the worker role)"},
	{"POST /v1/work/{id}/accept", "your offer expired: an offer stands for 2m0s (the policy's work.offerTimeoutSeconds), then the work goes to the next worker"},
	{"POST /v1/work/{id}/accept", "another worker accepted this work first"},
	{"POST /v1/work/{id}/accept", "your offer was withdrawn when you could no longer take it (deactivated, without the worker role, or no longer meeting what the work needs); the work went on to the next worker"},
	{"POST /v1/work/{id}/accept", "your offer was withdrawn (the worker took time off); the work went on to the next worker"},
	{"POST /v1/work/{id}/accept", "you no longer meet what this work needs (its kind among your qualifications, a verified skill, language or background check, or the customer's choice): your offer is withdrawn and the work goes to the next worker"},
	{"POST /v1/work/{id}/accept", "worker 4 is booked from 2026-12-24T10:00:00Z to 2026-12-24T11:00:00Z (work 17): a slot that overlaps it cannot be booked; one that starts when it ends can"},
	{"POST /v1/work/{id}/complete", "a project paid by milestones completes when its client accepts the last one"},
	{"POST /v1/work/{id}/match", "no available, qualified worker right now; try again later"},
	{"POST /v1/work/{id}/match", "the maker of listing 3 did not take this order (they declined it or let the offer expire), and an order goes to its maker only: cancel it to give its quantity back to the listing's stock"},
	{"POST /v1/work/{id}/match", "the maker of listing 3 is no longer an active worker and cannot take the order: cancel it to give its quantity back to the listing's stock"},
	{"POST /v1/work/{id}/rating", "must be an integer from 1 to 5"},
	{"POST /v1/work/{id}/rating", "only completed work can be rated"},
	{"POST /v1/work/{id}/rating", "this work has already been rated"},
	{"POST /v1/payments", "payments for this work add up to at most its agreed price, 1000 cents; 250 cents are left"},
	{"POST /v1/payments", "work in state in_progress cannot be paid for; only completed work can"},
	{"POST /v1/payments", "this key was used for a different payment"},
	{"POST /v1/payments", "the payer's data was erased: no new payment names them (a payment made before the erasure keeps its id)"},

	// The request form (POST /v1/work), in every vertical.
	{"POST /v1/work", "is required"},
	{"POST /v1/work", "must be at most 1000 characters"},
	{"POST /v1/work", "must be a date like 2026-07-14"},
	{"POST /v1/work", "must be a time like 2026-07-14T09:30:00Z"},
	{"POST /v1/work", "must be in 1970 or later and at most 10 years after the service's clock"},
	{"POST /v1/work", "must be after checkIn"},
	{"POST /v1/work", "a scheduled slot lasts from 1 to 1440 minutes"},
	{"POST /v1/work", "must be a whole number of minutes from 1 to 1440"},
	{"POST /v1/work", "must be an integer from 0 to 10000000"},
	{"POST /v1/work", "must be at least the co-op's voted floor of 3000 cents (fares.floorCents)"},
	{"POST /v1/work", "must be the id of a listing"},
	{"POST /v1/work", "must be a whole number from 1 to 1000"},
	{"POST /v1/work", "no listing with this id"},
	{"POST /v1/work", "is your own listing"},
	{"POST /v1/work", "only 2 left of listing 3"},
	{"POST /v1/work", "Loft 2 is taken for some of the nights from 2026-12-20 to 2026-12-27; a stay may begin on the day another ends"},

	// The payment page: the worker's refund, the payer's request of one, and what became
	// of the last request.
	{"GET /v1/payments/{id}…", "payment not found"},
	{"POST /v1/payments/{id}/refund", "this payment has already been refunded"},
	{"POST /v1/payments/{id}/refund", "the refund takes 20 cents back from the hardship fund, which holds 0 cents after its disbursements: a fund cannot go below zero"},
	{"POST /v1/payments/{id}/refund", "is required (at most 1000 characters): the members vote on a refund its payer asks for, and read why"},
	{"POST /v1/payments/{id}/refund", "a refund of this payment is already put to the vote: proposal 7"},
	{"GET /v1/payments/{id}/refund-requests", "the proposal passed, but the payment was refunded meanwhile"},
	{"GET /v1/payments/{id}/refund-requests", "the proposal passed, but the refund takes 20 cents back from the hardship fund, which holds 0 cents after its disbursements: a fund cannot go below zero"},

	// Votes.
	{"PUT /v1/proposals/{id}/ballot", "must be yes, no or abstain under one-member-one-vote"},
	{"PUT /v1/proposals/{id}/ballot", "must be yes, abstain or object under consent"},
	{"PUT /v1/proposals/{id}/ballot", "proposal not found"},
	{"PUT /v1/proposals/{id}/ballot", "the proposal is closed"},
	{"PUT /v1/proposals/{id}/ballot", "voting closed at the proposal's deadline 2026-12-08T09:00:00Z"},
	{"PUT /v1/proposals/{id}/ballot", "the member is not on this proposal's roll: the electorate was fixed when it opened (one-member-one-vote rules)"},
	{"PUT /v1/delegation", "must be a positive integer id"},
	{"PUT /v1/delegation", "cannot delegate to yourself"},
	{"PUT /v1/delegation", "no active member with this id"},
	{"PUT /v1/delegation", "this delegation would create a cycle"},
	{"DELETE /v1/delegation", "delegation not found"},

	// My data.
	{"DELETE /v1/members/{id}/tokens/{tokenId}", "token not found"},
	{"DELETE /v1/members/{id}/tokens/{tokenId}", "the token (or app session) this request came with has ended: a claim or a release of the account ended it"},
	{"POST /v1/members/{id}/claim", "claiming the account from the members' app takes a sign-in of the last 10 minutes: sign in again, then try again"},
	{"POST /v1/members/{id}/claim", "the member is not active (or erased): nothing to claim"},
	{"DELETE /v1/members/{id}", "erasing your data from the members' app takes a sign-in of the last 10 minutes: sign in again, then try again"},
	{"DELETE /v1/members/{id}", "the member's work or payments are changing right now (a match, an acceptance, a completion, a refund or a vote's close is under way); try again in a moment"},
	{"DELETE /v1/members/{id}", "the member's data has already been erased"},
	{"DELETE /v1/members/{id}", "the member has work under way; finish or cancel it first"},

	// Weekly hours, further drop-offs, a care team, the shop, proposals.
	{"PUT /v1/members/{id}/schedule", "must be after from"},
	{"PUT /v1/members/{id}/schedule", "overlaps weekly[3] on thu"},
	{"PUT /v1/members/{id}/schedule", "must be a time of day HH:MM (00:00 to 23:59, on the co-op's clock)"},
	{"PUT /v1/members/{id}/schedule", "must be a time of day HH:MM (00:01 to 24:00, on the co-op's clock)"},
	{"PUT /v1/members/{id}/schedule", "weekly hours are on the co-op's clock, in Europe/Lisbon; leave timeZone out or send Europe/Lisbon"},
	{"POST /v1/work", "must be 1 to 1000 characters"},
	{"PUT /v1/members/{id}/team", "is not a worker of this co-op"},
	{"PUT /v1/members/{id}/team", "must hold at most 20 workers"},
	{"POST /v1/work", "must add up to priceCents (90000), not 80000"},
	{"POST /v1/work", "only customers (and merchants in a delivery co-op) request work"},
	{"POST /v1/quotes, POST /v1/work", `"north" is not a zone of the co-op's fare rule`},
	{"POST /v1/work/{id}/milestones/{n}/submit", "milestone 2 is submitted"},
	{"POST /v1/work/{id}/milestones/{n}/accept", "milestone 2 is accepted; the worker submits it first"},
	{"POST /v1/work/{id}/milestones/{n}/submit|accept", "milestones move while the project is in progress, not completed"},
	{"POST /v1/listings", "must be 1 to 200 characters"},
	{"POST /v1/listings", "listings are made by active workers, who own them"},
	{"PUT /v1/listings/{id}/stock", "only the listing's maker or staff change its stock"},
	{"POST /v1/proposals", "is required (at most 200 characters)"},
	{"POST /v1/proposals", "must be at most 20000 characters"},
	{"POST /v1/proposals", "you have 5 proposals open, the most a member may have at once: send this one once one of them has closed"},
	{"POST /v1/proposals", "must be between the co-op's minimum of 168 hours and 8760 hours"},
	{"POST /v1/proposals", "must be fares, governance or one of the policy's governed fields: feeSplit, plan"},
	{"POST /v1/proposals", "must be fares: the co-op has no governed fields (spec.governance.governedFields)"},

	// The workers' credentials, staff's page.
	{"GET /v1/credentials, PUT /v1/members/{id}/credentials", "only staff record verified skills and background checks"},
	{"PUT /v1/members/{id}/credentials", "staff do not certify themselves: another member of staff or the admin token records their credentials"},
	{"PUT /v1/members/{id}/credentials", "must hold at most 50 entries"},
	{"PUT /v1/members/{id}/credentials", "must be 1 to 100 characters"},
	{"PUT /v1/members/{id}/credentials", "must be one of clear, pending, failed"},
	{"PUT /v1/members/{id}/credentials", "must be a date like 2026-07-14"},
	{"PUT /v1/members/{id}/credentials", "must be a time after checkedOn"},
	{"PUT /v1/members/{id}/credentials", "only workers have verified skills"},
	{"PUT /v1/members/{id}/credentials", "member not found"},
}

// notMemberRefusals are messages the catalogues translate that the app's pages do not
// lead to (kept: they cost nothing, and the API may answer them to the app one day).
var notMemberRefusals = map[string]string{
	"api.urgent work is accepted by one of the workers it was offered to": "staff's accept of urgent work",
	"api.must be a positive integer":                                      "the forms check amounts and prices before they send them",
	"api.no member with this id":                                          "staff's reference to a member id; a member is told \"no active member with this id\" of every id that is none",
}

// Every refusal a member can meet through the app is in their language: in French, not the
// API's English, and with the values it needs filled in; and every API message the
// catalogues translate is one of them (or said in notMemberRefusals).
func TestMemberRefusalsInFrench(t *testing.T) {
	used := map[string]bool{}
	for _, r := range memberRefusals {
		fr, en := trAPI("fr", time.UTC, r.msg), trAPI("en", time.UTC, r.msg)
		if fr == r.msg {
			t.Errorf("%s: %q is not translated to French", r.route, r.msg)
		}
		for lang, s := range map[string]string{"fr": fr, "en": en} {
			if placeholder.MatchString(s) || strings.Contains(s, "⟦") {
				t.Errorf("%s: %q in %s says %q", r.route, r.msg, lang, s)
			}
		}
		if _, ok := catalogues["fr"]["api."+r.msg]; ok {
			used["api."+r.msg] = true
		}
		for _, p := range apiPatterns {
			if p.re.MatchString(r.msg) {
				used[p.key] = true
				break
			}
		}
	}
	for key := range catalogues["fr"] {
		if (strings.HasPrefix(key, "api.") || slices.Contains(slices.Collect(maps.Values(apiPrefixes)), key)) && !used[key] && notMemberRefusals[key] == "" {
			t.Errorf("the catalogues translate %s, which no refusal of memberRefusals is", key)
		}
	}
	// The values the member needs are said.
	for _, c := range []struct{ msg, want string }{
		{"only 2 left of listing 3", "Il n'en reste que 2 pour l'annonce n° 3."},
		{"worker 4 is booked from 2026-12-24T10:00:00Z to 2026-12-24T11:00:00Z (work 17): a slot that overlaps it cannot be booked; one that starts when it ends can",
			"Vous avez déjà un travail (n° 17) prévu de 24/12/2026 10:00 UTC à 24/12/2026 11:00 UTC : un créneau qui le chevauche ne peut pas être pris ; un créneau qui commence à sa fin, si."},
		{"must be between the co-op's minimum of 168 hours and 8760 hours", "Choisissez une durée de vote de 168 à 8760 heures."},
		{"milestone 2 is accepted; the worker submits it first", "L'étape 2 n'attend pas votre acceptation : rechargez la page pour voir où elle en est."},
		{"milestone 2 is submitted", "L'étape 2 n'est plus ouverte : rechargez la page pour voir où elle en est."},
		{"erasing your data from the members' app takes a sign-in of the last 10 minutes: sign in again, then try again", "Rien n'a été fait : cela demande une connexion de moins de 10 minutes, et cette session est plus ancienne. Déconnectez-vous, reconnectez-vous, puis réessayez."},
	} {
		if got := trAPI("fr", time.UTC, c.msg); got != c.want {
			t.Errorf("trAPI(fr, %q) = %q, want %q", c.msg, got, c.want)
		}
	}
	// On the co-op's clock: in Paris, 10:00 UTC on 24 December is 11:00.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	msg := "worker 4 is booked from 2026-12-24T10:00:00Z to 2026-12-24T11:00:00Z (work 17): a slot that overlaps it cannot be booked; one that starts when it ends can"
	if got, want := trAPI("en", paris, msg), "You already have work 17 booked from 2026-12-24 11:00 CET to 2026-12-24 12:00 CET: a slot that overlaps it cannot be taken; one that starts when it ends can."; got != want {
		t.Errorf("trAPI(en, Paris, %q) = %q, want %q", msg, got, want)
	}
}

// A translation that says a value its prefix did not match is not shown half filled: the
// member reads the API's own message instead.
func TestAPIValuesMissingKeepTheAPIText(t *testing.T) {
	if got, ok := fillValues("fr", time.UTC, "il reste {3:money}", []string{"1", "2"}); ok {
		t.Errorf("fillValues filled a third value of two: %q", got)
	}
	if got, ok := fillValues("fr", time.UTC, "{1:money}", []string{"x"}); ok {
		t.Errorf("fillValues took x for an amount: %q", got)
	}
	if got, ok := fillValues("fr", time.UTC, "{2} puis {1:money}", []string{"1250", "B"}); !ok || got != "B puis 12,50" {
		t.Errorf("fillValues = %q, %v", got, ok)
	}
	if got, ok := fillValues("fr", time.UTC, "le {1:date}", []string{"hier"}); ok {
		t.Errorf("fillValues took hier for a date: %q", got)
	}
	if got, ok := fillValues("fr", time.UTC, "le {1:date}", []string{"2026-12-01T09:05:00Z"}); !ok || got != "le 01/12/2026 09:05 UTC" {
		t.Errorf("fillValues = %q, %v", got, ok)
	}
}

// TestClock: times of day as members type them, on a keyboard or a phone's number pad,
// become HH:MM; anything else is left for the API or the form to refuse.
func TestClock(t *testing.T) {
	for in, want := range map[string]string{
		"09:00": "09:00", "9:00": "09:00", "09:00:00": "09:00", "24:00": "24:00", " 17:30 ": "17:30",
		"0930": "09:30", "930": "09:30", "9": "09:00", "17": "17:00", "2400": "24:00", "9.30": "09:30", "9h30": "09:30", "17h": "17:00",
		"": "", "9:5": "9:5", "12345": "12345", "nine": "nine", "9:30:15": "9:30:15", "-9": "-9",
	} {
		if got := clock(in); got != want {
			t.Errorf("clock(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFieldIndex: the index of a list's item in the field an API refusal names.
func TestFieldIndex(t *testing.T) {
	for _, c := range []struct {
		fld, list string
		n, i      int
		rest      string
		ok        bool
	}{
		{"stops[2].notes", "stops", 3, 2, ".notes", true},
		{"weekly[0].from", "weekly", 1, 0, ".from", true},
		{"value.surge[1].to", "value.surge", 2, 1, ".to", true},
		{"workerIds[3]", "workerIds", 4, 3, "", true},
		{"stops[3].notes", "stops", 3, 0, "", false},
		{"stops[-1]", "stops", 3, 0, "", false},
		{"stops[x]", "stops", 3, 0, "", false},
		{"stops", "stops", 3, 0, "", false},
		{"milestones[0]", "stops", 3, 0, "", false},
	} {
		i, rest, ok := fieldIndex(c.fld, c.list, c.n)
		if i != c.i || rest != c.rest || ok != c.ok {
			t.Errorf("fieldIndex(%q, %q, %d) = %d %q %v, want %d %q %v", c.fld, c.list, c.n, i, rest, ok, c.i, c.rest, c.ok)
		}
	}
}
