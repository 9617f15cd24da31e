package web

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// recordingBackend counts the API calls; the app's other needs are not this test's.
type recordingBackend struct {
	Backend
	calls int
}

func (b *recordingBackend) Call(context.Context, Member, string, string, http.Header, []byte) (int, []byte) {
	b.calls++
	return http.StatusOK, []byte(`{}`)
}

// A body that cannot be encoded as JSON is not sent as an empty one: the API is not
// called, and the page gets a 500 in the API's error shape, logged without the body.
func TestCallSendsNoBodyItCannotEncode(t *testing.T) {
	var logs bytes.Buffer
	backend := &recordingBackend{}
	a := &App{cfg: Config{Backend: backend}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	q := &req{w: httptest.NewRecorder(), r: httptest.NewRequest(http.MethodPost, "/app/request", nil), member: &Member{ID: 1}}

	st, body := a.call(q, http.MethodPost, "/v1/work", map[string]any{"distanceMeters": math.NaN(), "details": map[string]string{"pickup": "12 rue Secrète"}}, nil)
	if st != http.StatusInternalServerError || backend.calls != 0 {
		t.Fatalf("status %d after %d calls of the API", st, backend.calls)
	}
	if _, msg := parseAPIErr(body); msg != "internal error" {
		t.Errorf("body %s", body)
	}
	if !strings.Contains(logs.String(), "encoding an API request failed") || strings.Contains(logs.String(), "rue Secrète") {
		t.Errorf("log: %s", logs.String())
	}

	if st, _ := a.call(q, http.MethodPost, "/v1/work", map[string]any{"distanceMeters": 1200}, nil); st != http.StatusOK || backend.calls != 1 {
		t.Fatalf("an encodable body: %d after %d calls", st, backend.calls)
	}
}

// quoteGoneBackend is a co-op whose fare rule went between the request form's reading of
// it and the quote: the form read a rule, the quote finds none.
type quoteGoneBackend struct {
	Backend
	ruleGone bool
}

func (b *quoteGoneBackend) Kinds() map[string]Kind {
	return map[string]Kind{"ride": {Required: []string{"pickup", "dropoff"}}}
}
func (b *quoteGoneBackend) Policy() *policy.Policy { return nil }
func (b *quoteGoneBackend) Pricing(context.Context) (Pricing, error) {
	return Pricing{Rule: !b.ruleGone}, nil
}
func (b *quoteGoneBackend) Call(_ context.Context, _ Member, method, path string, _ http.Header, _ []byte) (int, []byte) {
	if method == http.MethodPost && path == "/v1/quotes" {
		b.ruleGone = true
		return http.StatusConflict, []byte(`{"error":{"message":"the co-op has no fare rule: the policy sets no fares and no proposal voted one"}}`)
	}
	return http.StatusInternalServerError, []byte(`{"error":{"message":"not this test's"}}`)
}

// A quote refused because the fare rule went meanwhile (a vote took effect between the
// form and its quote) shows the form again, which asks for a price now, with why; the
// member's entries stay.
func TestAQuoteWithoutARuleShowsTheFormAgain(t *testing.T) {
	a := New(Config{Backend: &quoteGoneBackend{}, Logger: slog.New(slog.DiscardHandler)})
	form := url.Values{"kind": {"ride"}, "details.pickup": {"Vieux Lyon"}, "details.dropoff": {"Croix-Rousse"}, "distanceKm": {"4"}}
	r := httptest.NewRequest(http.MethodPost, "/app/request", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	a.requestWork(&req{w: w, r: r, lang: "en", member: &Member{ID: 1}})
	body := w.Body.String()
	if w.Code != http.StatusConflict || !strings.Contains(body, "the co-op has no fare rule") || !strings.Contains(body, `id="price"`) ||
		!strings.Contains(body, `value="Vieux Lyon"`) {
		t.Fatalf("a quote once the rule went: %d %s", w.Code, body)
	}
}

// Every part of the policy the members may govern has a name in both catalogues, so the
// proposal form names each (a part added to the policy fails this until it is named).
func TestEveryGovernedPartIsNamed(t *testing.T) {
	for _, part := range append(slices.Clone(policy.GovernedParts), policy.PartFares) {
		for _, lang := range []string{"en", "fr"} {
			if got := tr(lang, "part."+part); strings.HasPrefix(got, "⟦") {
				t.Errorf("%s has no name in %s", part, lang)
			}
		}
	}
}

// Amounts and percents typed in the forms are digits with at most two decimals: a sign, an
// exponent or a third decimal is refused, rather than read as another number ("-0.50" was
// read as 0.50).
func TestAmountsTakeNoSign(t *testing.T) {
	for in, want := range map[string]int64{"12": 1200, "12,5": 1250, " 0.05 ": 5, "-0.50": -1, "+1": -1, "1e2": -1, "1.-5": -1, "1.255": -1, "": -1, "0": -1} {
		got, ok := parseCents(in)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("parseCents(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]int64{"3": 300, "2,5": 250, "0.05": 5, "100": 10000, "0": 0, "100.5": -1, "-0": -1, "0.-5": -1, "1e2": -1} {
		got, ok := basisPoints(in)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("basisPoints(%q) = %d, want %d", in, got, want)
		}
	}
}
