package web

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
