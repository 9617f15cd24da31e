package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed openapi.yaml
var openapiYAML []byte

// access says who may call a route.
type access int

const (
	public access = iota // no token
	member               // any member token, or the admin token
	admin                // the admin token only
)

// principal is the caller.
type principal struct {
	admin    bool
	memberID int64
	roles    []string
	class    string
	active   bool
}

func (p principal) hasRole(r string) bool {
	for _, x := range p.roles {
		if x == r {
			return true
		}
	}
	return false
}

// handlerFunc handles one API call and returns the status and the JSON body.
type handlerFunc func(r *http.Request, p principal) (int, any, error)

type route struct {
	method, pattern string
	access          access
	h               handlerFunc
	raw             http.Handler // for non-JSON routes
}

// apiError is an error answered to the client.
type apiError struct {
	status  int
	field   string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.field, e.message) }

func badField(field, msg string) error { return &apiError{http.StatusBadRequest, field, msg} }
func conflict(field, msg string) error { return &apiError{http.StatusConflict, field, msg} }
func notFound(what string) error       { return &apiError{http.StatusNotFound, "", what + " not found"} }
func forbidden(msg string) error       { return &apiError{http.StatusForbidden, "", msg} }

type errorBody struct {
	Error errorDetail `json:"error"`
}
type errorDetail struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (s *Server) buildHandler() http.Handler {
	s.routes = s.apiRoutes()
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		rt := rt
		var h http.Handler
		if rt.raw != nil {
			h = rt.raw
		} else {
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveJSON(w, r, rt) })
		}
		mux.Handle(rt.method+" "+rt.pattern, s.instrument(rt.pattern, h))
	}
	return jsonMuxErrors(mux)
}

func (s *Server) apiRoutes() []route {
	return []route{
		{method: "GET", pattern: "/healthz", raw: http.HandlerFunc(s.healthz)},
		{method: "GET", pattern: "/readyz", raw: http.HandlerFunc(s.readyz)},
		{method: "GET", pattern: "/metrics", raw: promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})},
		{method: "GET", pattern: "/openapi.yaml", raw: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/yaml")
			_, _ = w.Write(openapiYAML)
		})},
		{"GET", "/v1/policy", member, s.getPolicy, nil},

		{"POST", "/v1/members", admin, s.createMember, nil},
		{"GET", "/v1/members", admin, s.listMembers, nil},
		{"GET", "/v1/audit/members", admin, s.memberAudit, nil},
		{"GET", "/v1/members/{id}", member, s.getMember, nil},
		{"PATCH", "/v1/members/{id}", admin, s.updateMember, nil},
		{"DELETE", "/v1/members/{id}", member, s.eraseMember, nil},
		{"PUT", "/v1/members/{id}/availability", member, s.setAvailability, nil},
		{"POST", "/v1/members/{id}/tokens", member, s.createToken, nil},
		{"GET", "/v1/members/{id}/export", member, s.exportMember, nil},
		{"GET", "/v1/members/{id}/earnings", member, s.memberEarnings, nil},

		{"POST", "/v1/blocks", member, s.createBlock, nil},
		{"DELETE", "/v1/blocks/{workerId}", member, s.deleteBlock, nil},

		{"POST", "/v1/work", member, s.createWork, nil},
		{"GET", "/v1/work/{id}", member, s.getWork, nil},
		{"POST", "/v1/work/{id}/match", member, s.matchWork, nil},
		{"POST", "/v1/work/{id}/accept", member, s.acceptWork, nil},
		{"POST", "/v1/work/{id}/decline", member, s.declineWork, nil},
		{"POST", "/v1/work/{id}/start", member, s.startWork, nil},
		{"POST", "/v1/work/{id}/complete", member, s.completeWork, nil},
		{"POST", "/v1/work/{id}/cancel", member, s.cancelWork, nil},
		{"POST", "/v1/work/{id}/rating", member, s.rateWork, nil},

		{"POST", "/v1/payments", member, s.createPayment, nil},
		{"GET", "/v1/payments/{id}", member, s.getPayment, nil},
		{"POST", "/v1/payments/{id}/refund", admin, s.refundPayment, nil},
		{"GET", "/v1/reports/funds", member, s.fundReport, nil},

		{"POST", "/v1/proposals", member, s.createProposal, nil},
		{"GET", "/v1/proposals", member, s.listProposals, nil},
		{"GET", "/v1/proposals/{id}", member, s.getProposal, nil},
		{"PUT", "/v1/proposals/{id}/ballot", member, s.castBallot, nil},
		{"POST", "/v1/proposals/{id}/close", admin, s.closeProposal, nil},
		{"PUT", "/v1/delegation", member, s.setDelegation, nil},
		{"DELETE", "/v1/delegation", member, s.deleteDelegation, nil},
	}
}

// statusWriter records the status for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) instrument(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(pattern, r.Method, strconv.Itoa(sw.status)).Inc()
		s.metrics.duration.WithLabelValues(pattern).Observe(d.Seconds())
		probe := pattern == "/healthz" || pattern == "/readyz" || pattern == "/metrics"
		if sw.status >= 500 && !probe {
			s.log.Error("request", "method", r.Method, "route", pattern, "status", sw.status, "durationMs", d.Milliseconds())
		} else if !probe {
			s.log.Debug("request", "method", r.Method, "route", pattern, "status", sw.status, "durationMs", d.Milliseconds())
		}
	})
}

// jsonMuxErrors turns the mux's own plain-text 404 and 405 answers into JSON.
func jsonMuxErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&muxErrorWriter{ResponseWriter: w}, r)
	})
}

type muxErrorWriter struct {
	http.ResponseWriter
	swallow bool
}

func (w *muxErrorWriter) WriteHeader(code int) {
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.swallow = true
		msg := "no such route"
		if code == http.StatusMethodNotAllowed {
			msg = "method not allowed; allowed: " + w.Header().Get("Allow")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Del("X-Content-Type-Options")
		w.ResponseWriter.WriteHeader(code)
		_ = json.NewEncoder(w.ResponseWriter).Encode(errorBody{Error: errorDetail{Message: msg}})
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, rt route) {
	p, err := s.authenticate(r, rt.access)
	if err == nil {
		var status int
		var body any
		status, body, err = rt.h(r, p)
		if err == nil {
			writeJSON(w, status, body)
			return
		}
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = s.classify(err)
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cooperator"`)
	}
	writeJSON(w, ae.status, errorBody{Error: errorDetail{Field: ae.field, Message: ae.message}})
}

// classify maps an unexpected error to a response, logging server-side failures.
func (s *Server) classify(err error) *apiError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "40001" {
		return &apiError{http.StatusConflict, "", "concurrent update; retry"}
	}
	if errors.Is(err, context.Canceled) {
		return &apiError{499, "", "request cancelled"}
	}
	s.log.Error("internal error", "error", err)
	return &apiError{http.StatusInternalServerError, "", "internal error"}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func (s *Server) authenticate(r *http.Request, a access) (principal, error) {
	if a == public {
		return principal{}, nil
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return principal{}, &apiError{http.StatusUnauthorized, "Authorization", "a bearer token is required"}
	}
	if s.isAdminToken(tok) {
		return principal{admin: true, active: true}, nil
	}
	if a == admin {
		return principal{}, forbidden("this endpoint needs the co-op staff's admin token")
	}
	sum := sha256.Sum256([]byte(tok))
	p := principal{}
	err := s.pool.QueryRow(r.Context(), `SELECT m.id, m.roles, m.stakeholder_class, m.active FROM member_tokens t
		JOIN members m ON m.id = t.member_id WHERE t.token_hash = $1 AND m.erased_at IS NULL`, sum[:]).
		Scan(&p.memberID, &p.roles, &p.class, &p.active)
	if errors.Is(err, pgx.ErrNoRows) {
		return principal{}, &apiError{http.StatusUnauthorized, "Authorization", "unknown token"}
	}
	return p, err
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// decode reads a JSON object strictly into v: unknown fields, trailing data and wrong
// types are refused with the offending field named.
func decode(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badField("", "could not read the body")
	}
	if len(data) > maxBody {
		return &apiError{http.StatusRequestEntityTooLarge, "", "body larger than 1 MiB"}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &apiError{http.StatusUnsupportedMediaType, "Content-Type", "must be application/json"}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return badField("", "a JSON object body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				return badField("", "the body must be a JSON object")
			}
			return badField(field, "must be "+typeName(te.Type.Kind().String()))
		case errors.As(err, &se):
			return badField("", fmt.Sprintf("malformed JSON at byte %d", se.Offset))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badField(f, "unknown field")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badField("", "truncated JSON")
		}
		return badField("", "malformed JSON")
	}
	if dec.More() {
		return badField("", "trailing data after the JSON object")
	}
	return nil
}

func typeName(kind string) string {
	switch kind {
	case "int64", "int", "int32":
		return "an integer"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "a " + kind
}

func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badField(name, "must be a positive integer id")
	}
	return id, nil
}

// selfOrAdmin refuses a member acting on another member's resource.
func selfOrAdmin(p principal, id int64) error {
	if p.admin || p.memberID == id {
		return nil
	}
	return forbidden("members may only act on their own data")
}

func requireActiveMember(p principal) error {
	if p.admin {
		return nil
	}
	if !p.active {
		return forbidden("the member is not active")
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	problems := []string{}
	if !s.migrated.Load() {
		problems = append(problems, "migrations not applied")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		problems = append(problems, "database unreachable")
	}
	if s.policy.Current() == nil {
		problems = append(problems, "no valid policy")
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "problems": problems})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
