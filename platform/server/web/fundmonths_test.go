package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// fundBackend serves a fund's months as the API answers a member: n months, the newest
// 2026-12, each closing at its number of months since the oldest plus one, newest first,
// at most limit of them, and nextBefore when older ones exist. It records the paths asked.
type fundBackend struct {
	Backend
	n     int
	paths *[]string
}

func (b fundBackend) Call(_ context.Context, _ Member, _, path string, _ http.Header, _ []byte) (int, []byte) {
	*b.paths = append(*b.paths, path)
	u, _ := url.Parse(path)
	if u.Path != "/v1/funds/hardship" {
		return http.StatusNotFound, []byte(`{"error":{"message":"not found"}}`)
	}
	limit, _ := strconv.Atoi(u.Query().Get("limit"))
	type month struct {
		Month        string `json:"month"`
		BalanceCents int64  `json:"balanceCents"`
	}
	out := struct {
		BalanceCents int64   `json:"balanceCents"`
		Months       []month `json:"months"`
		NextBefore   *string `json:"nextBefore,omitempty"`
	}{BalanceCents: int64(b.n), Months: []month{}}
	newest := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < b.n && len(out.Months) < limit; i++ {
		out.Months = append(out.Months, month{newest.AddDate(0, -i, 0).Format("2006-01"), int64(b.n - i)})
	}
	if b.n > limit {
		next := out.Months[len(out.Months)-1].Month
		out.NextBefore = &next
	}
	body, _ := json.Marshal(out)
	return http.StatusOK, body
}

func fundReq() *req {
	return &req{w: httptest.NewRecorder(), r: httptest.NewRequest(http.MethodGet, "/app/money", nil), lang: "en", zone: time.UTC, member: &Member{ID: 7}}
}

// The fund chart says older months are left out only when the API says older months
// exist: not for a fund of exactly as many months as the chart shows.
func TestFundChartSaysWhenOlderMonthsAreLeftOut(t *testing.T) {
	for _, tc := range []struct {
		n    int
		left bool
	}{{fundHistoryMonths, false}, {fundHistoryMonths + 1, true}, {2, false}} {
		var paths []string
		a := New(Config{Backend: fundBackend{n: tc.n, paths: &paths}})
		fh, ok := a.fundMonths(fundReq(), "hardship")
		if !ok || fh.OlderLeftOut != tc.left || len(fh.Months) != min(tc.n, fundHistoryMonths) {
			t.Errorf("a fund of %d months: read %v, %d months, older months left out %v, want %v", tc.n, ok, len(fh.Months), fh.OlderLeftOut, tc.left)
		}
	}
}

// The chart reads the fund's months, oldest first, each at the balance the API says it
// closed at, in one request for the months: never the fund's movements one by one, which
// are staff's.
func TestFundChartReadsTheMonths(t *testing.T) {
	var paths []string
	a := New(Config{Backend: fundBackend{n: 2, paths: &paths}})
	fh, ok := a.fundMonths(fundReq(), "hardship")
	if want := []period{{"2026-11", 1}, {"2026-12", 2}}; !ok || !slices.Equal(fh.Months, want) {
		t.Errorf("the fund's months: %v, want %v", fh.Months, want)
	}
	if want := []string{fmt.Sprintf("/v1/funds/hardship?limit=%d", fundHistoryMonths)}; !slices.Equal(paths, want) {
		t.Errorf("the chart asked %v, want %v", paths, want)
	}
}
