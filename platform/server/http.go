package server

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
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
	tokenID  int64 // the member's token the request came with
	// session is the SHA-256 of the members' app session the request came from (nil: the
	// JSON API, with a bearer token).
	session []byte
	// signedIn is when the member signed in to that session.
	signedIn time.Time
	roles    []string
	class    string
	active   bool
}

// credential is the member credential the request came with, as the member store locks it
// (the zero value for staff's admin token).
func (p principal) credential() members.Credential {
	if p.admin {
		return members.Credential{}
	}
	return members.Credential{TokenID: p.tokenID, Session: p.session}
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
	// retryAfter, in seconds, is sent as the Retry-After header when positive.
	retryAfter int
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.field, e.message) }

func badField(field, msg string) error {
	return &apiError{status: http.StatusBadRequest, field: field, message: msg}
}
func conflict(field, msg string) error {
	return &apiError{status: http.StatusConflict, field: field, message: msg}
}
func notFound(what string) error {
	return &apiError{status: http.StatusNotFound, message: what + " not found"}
}
func forbidden(msg string) error { return &apiError{status: http.StatusForbidden, message: msg} }

// refNotFound answers 404 for a reference in the request (field) to a record that does
// not exist, such as an unknown member id.
func refNotFound(field, what string) error {
	return &apiError{status: http.StatusNotFound, field: field, message: "no " + what + " with this id"}
}

// unavailableRetry is the Retry-After, in seconds, of a 503 while the database is down.
const unavailableRetry = 5

// errNUL is the answer to a string holding the NUL character, which PostgreSQL cannot
// store in text.
// asNotFound is err, with the store's ErrNotFound turned into the API's 404 naming what.
func asNotFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(what)
	}
	return err
}

func errNUL(field string) error {
	return nulError(field)
}

func nulError(field string) *apiError {
	return &apiError{status: http.StatusBadRequest, field: field, message: "must not contain the NUL character (\\u0000)"}
}

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
		switch {
		case rt.pattern == "/healthz" || rt.pattern == "/readyz":
			h = rt.raw
		case rt.raw != nil:
			h = s.limitByIP(rt.raw)
		default:
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveJSON(w, r, rt) })
		}
		mux.Handle(rt.method+" "+rt.pattern, s.instrument(rt.pattern, h))
	}
	// The members' app (platform/server/web): HTML pages over the same routes.
	app := s.webApp()
	mux.Handle("/app/", s.instrument("/app/", app))
	mux.Handle("GET /{$}", http.RedirectHandler("/app/", http.StatusSeeOther))
	return noSniffNoStore(jsonMuxErrors(mux))
}

// noSniffNoStore marks every answer of the service, before its handler writes it (the
// JSON API's, its errors and the mux's, the CSV exports, the members' app's, which sets
// the same), as one a browser takes for its declared type only (X-Content-Type-Options:
// nosniff: a JSON body that holds a member's words is never run as a script or a page)
// and that no cache keeps (Cache-Control: no-store: the answers carry tokens, members'
// data, payments and exports, which a shared or a browser's cache would keep after
// sign-out).
func noSniffNoStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) apiRoutes() []route {
	return []route{
		{method: "GET", pattern: "/healthz", raw: http.HandlerFunc(s.healthz)},
		{method: "GET", pattern: "/readyz", raw: http.HandlerFunc(s.readyz)},
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
		{"GET", "/v1/members/{id}/schedule", member, s.getSchedule, nil},
		{"PUT", "/v1/members/{id}/schedule", member, s.putSchedule, nil},
		{"POST", "/v1/members/{id}/schedule/exceptions", member, s.addScheduleException, nil},
		{"DELETE", "/v1/members/{id}/schedule/exceptions/{exceptionId}", member, s.removeScheduleException, nil},
		{"GET", "/v1/members/{id}/offers", member, s.listWorkerOffers, nil},
		{"GET", "/v1/members/{id}/work", member, s.listWorkerWork, nil},
		{"GET", "/v1/credentials", member, s.listCredentials, nil},
		{"GET", "/v1/members/{id}/credentials", member, s.getCredentials, nil},
		{"PUT", "/v1/members/{id}/credentials", member, s.putCredentials, nil},
		{"GET", "/v1/members/{id}/team", member, s.getTeam, nil},
		{"PUT", "/v1/members/{id}/team", member, s.putTeam, nil},
		{"GET", "/v1/members/{id}/ratings", member, s.getRatings, nil},
		{"POST", "/v1/members/{id}/tokens", member, s.createToken, nil},
		{"GET", "/v1/members/{id}/tokens", member, s.listTokens, nil},
		{"DELETE", "/v1/members/{id}/tokens/{tokenId}", member, s.revokeToken, nil},
		{"GET", "/v1/members/{id}/export", member, s.exportMember, nil},
		{"GET", "/v1/members/{id}/earnings", member, s.memberEarnings, nil},
		{"POST", "/v1/members/{id}/sign-in-codes", member, s.createSignInCode, nil},
		{"POST", "/v1/members/{id}/claim", member, s.claimAccount, nil},
		{"DELETE", "/v1/members/{id}/claim", admin, s.releaseClaim, nil},
		{"GET", "/v1/members/{id}/audit", member, s.memberAuditOf, nil},
		{"GET", "/v1/members/{id}/notifications", member, s.listNotifications, nil},
		{"POST", "/v1/members/{id}/notifications/read", member, s.markNotificationsRead, nil},

		{"POST", "/v1/blocks", member, s.createBlock, nil},
		{"GET", "/v1/blocks", member, s.listBlocks, nil},
		{"DELETE", "/v1/blocks/{workerId}", member, s.deleteBlock, nil},

		{"POST", "/v1/quotes", member, s.createQuote, nil},
		{"POST", "/v1/work", member, s.createWork, nil},
		{"POST", "/v1/listings", member, s.createListing, nil},
		{"GET", "/v1/listings", member, s.listListings, nil},
		{"GET", "/v1/listings/{id}", member, s.getListing, nil},
		{"PUT", "/v1/listings/{id}/stock", member, s.setListingStock, nil},
		{"GET", "/v1/work/{id}", member, s.getWork, nil},
		{"POST", "/v1/work/{id}/match", member, s.matchWork, nil},
		{"POST", "/v1/work/{id}/accept", member, s.acceptWork, nil},
		{"POST", "/v1/work/{id}/decline", member, s.declineWork, nil},
		{"POST", "/v1/work/{id}/start", member, s.startWork, nil},
		{"POST", "/v1/work/{id}/complete", member, s.completeWork, nil},
		{"POST", "/v1/work/{id}/cancel", member, s.cancelWork, nil},
		{"POST", "/v1/work/{id}/rating", member, s.rateWork, nil},
		{"POST", "/v1/work/{id}/milestones/{n}/submit", member, s.submitMilestone, nil},
		{"POST", "/v1/work/{id}/milestones/{n}/accept", member, s.acceptMilestone, nil},

		{"POST", "/v1/payments", member, s.createPayment, nil},
		{"GET", "/v1/payments/{id}", member, s.getPayment, nil},
		{"POST", "/v1/payments/{id}/refund", member, s.refundPayment, nil},
		{"GET", "/v1/payments/{id}/refund-requests", member, s.listRefundRequests, nil},
		{"GET", "/v1/reports/funds", member, s.fundReport, nil},
		{"GET", "/v1/reports/hub", member, s.hubReport, nil},
		{"GET", "/v1/reports/earnings", member, s.earningsReport, nil},
		{"GET", "/v1/funds/{name}", member, s.fundHistory, nil},
		{"GET", "/v1/funds/{name}/movements", member, s.fundMovements, nil},
		{"POST", "/v1/disbursements", member, s.createDisbursement, nil},
		{"GET", "/v1/disbursements/{id}", member, s.getDisbursement, nil},
		{"GET", "/v1/exports/{report}", member, s.exportReport, nil},

		{"POST", "/v1/proposals", member, s.createProposal, nil},
		{"GET", "/v1/proposals", member, s.listProposals, nil},
		{"GET", "/v1/proposals/{id}", member, s.getProposal, nil},
		{"PUT", "/v1/proposals/{id}/ballot", member, s.castBallot, nil},
		{"POST", "/v1/proposals/{id}/close", admin, s.closeProposal, nil},
		{"GET", "/v1/delegation", member, s.getDelegation, nil},
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
		s.metrics.requests.WithLabelValues(pattern, methodLabel(r.Method), strconv.Itoa(sw.status)).Inc()
		s.metrics.duration.WithLabelValues(pattern).Observe(d.Seconds())
		probe := pattern == "/healthz" || pattern == "/readyz"
		if sw.status >= 500 && !probe {
			s.log.Error("request", "method", methodLabel(r.Method), "route", pattern, "status", sw.status, "durationMs", d.Milliseconds())
		} else if !probe {
			s.log.Debug("request", "method", methodLabel(r.Method), "route", pattern, "status", sw.status, "durationMs", d.Milliseconds())
		}
	})
}

// jsonMuxErrors turns the mux's own plain-text 404 and 405 answers into JSON. They keep
// the headers every answer has (noSniffNoStore): the mux's http.Error sets nosniff too.
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
	p, lookedUp, err := s.authenticate(r, rt.access)
	client := ""
	switch {
	case err == nil && p.admin:
		client = "admin"
	case err == nil && p.memberID != 0:
		client = "member:" + strconv.FormatInt(p.memberID, 10)
	case !lookedUp:
		// Public routes, a missing token, a member's token on a staff route: no query.
		client = "ip:" + s.clients.Of(r)
	}
	// A token that was looked up and not found, or refused before its lookup, was counted
	// in its address's budget of credentials (lookUpCredential); one that could not be
	// looked up answers 503 at once, as the database is down for everyone.
	if client != "" {
		if ok, retry := s.limits.allow(client); !ok {
			writeError(w, tooMany(retry))
			return
		}
	}
	if err != nil {
		s.respondError(w, err)
		return
	}
	s.respond(w, r, rt, p)
}

// freshActions are the routes a members' app session takes only soon after its member
// signed in (requireFreshSession), with the words that name what they do: what turns a
// session into a lasting credential, or cannot be undone. The rule is the route's, checked
// before its handler runs, on the JSON API and in the members' app alike.
var freshActions = map[string]string{
	"POST /v1/members/{id}/tokens":        "making a token",
	"POST /v1/members/{id}/sign-in-codes": "issuing a sign-in code",
	"POST /v1/members/{id}/claim":         "claiming the account",
	"DELETE /v1/members/{id}":             "erasing your data",
}

// respond runs the route's handler for the authenticated principal p and writes its answer.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, rt route, p principal) {
	if what, ok := freshActions[rt.method+" "+rt.pattern]; ok {
		if err := s.requireFreshSession(p, what); err != nil {
			s.respondError(w, err)
			return
		}
	}
	status, body, err := rt.h(r, p)
	if f, ok := body.(*csvFile); ok && err == nil {
		f.write(w)
		return
	}
	if err == nil {
		if err := writeJSON(w, status, body); err != nil {
			s.log.Error("answer not encoded", "method", r.Method, "route", rt.pattern, "error", err)
		}
		return
	}
	s.respondError(w, err)
}

func (s *Server) respondError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = s.classify(err)
	}
	writeError(w, ae)
}

func writeError(w http.ResponseWriter, ae *apiError) {
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cooperator"`)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	_ = writeJSON(w, ae.status, errorBody{Error: errorDetail{Field: ae.field, Message: ae.message}})
}

// classify maps an unexpected error to a response, logging server-side failures. The
// database's own refusals that a request can cause answer 4xx; a database that cannot be
// reached answers 503 with Retry-After.
func (s *Server) classify(err error) *apiError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "40001" || pe.Code == "40P01":
			return &apiError{status: http.StatusConflict, message: "concurrent update; retry"}
		case pe.Code == "22P05" || pe.Code == "22021":
			// untranslatable_character (\u0000 in jsonb), character_not_in_repertoire (NUL in text)
			return nulError("")
		case pe.Code == "23503" && strings.HasPrefix(pe.Message, "insert or update"):
			return &apiError{status: http.StatusNotFound, field: fkField(pe), message: "refers to a record that does not exist"}
		case pe.Code == "23514" && pe.ConstraintName != "":
			// check_violation of a table's constraint: a value the request gave that the
			// API's own check let through (each rule should be the API's, naming the field);
			// the database's rule still refuses it, and the client's request is what breaks
			// it. Logged, as a check the API misses. One raised by the database's own
			// functions and triggers (the ledger's balance, the vote's), which names no
			// constraint, is the service's failure, not the client's: a 500.
			s.log.Warn("request refused by a database check", "constraint", pe.ConstraintName, "table", pe.TableName)
			return &apiError{status: http.StatusBadRequest, message: "breaks a rule of the co-op's records (" + pe.ConstraintName + ")"}
		case strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300":
			return s.unavailable(err)
		}
	}
	if errors.Is(err, context.Canceled) {
		return &apiError{status: 499, message: "request cancelled"}
	}
	if dbUnreachable(err) {
		return s.unavailable(err)
	}
	s.log.Error("internal error", "error", err)
	return &apiError{status: http.StatusInternalServerError, message: "internal error"}
}

func (s *Server) unavailable(err error) *apiError {
	s.log.Warn("database unavailable", "error", err)
	return &apiError{status: http.StatusServiceUnavailable, message: "the database is unavailable; retry later", retryAfter: unavailableRetry}
}

// dbUnreachable reports whether err says the database could not be reached (refused or
// timed-out connection, a connection lost mid-request).
func dbUnreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ce) || errors.As(err, &oe) || errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded)
}

// fkField names the request field of a foreign key constraint (<table>_<column>_fkey,
// PostgreSQL's default name) in the API's camelCase: payments_payer_id_fkey is payerId.
func fkField(pe *pgconn.PgError) string {
	col := strings.TrimSuffix(strings.TrimPrefix(pe.ConstraintName, pe.TableName+"_"), "_fkey")
	parts := strings.Split(col, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// writeJSON answers status with body as JSON. The body is encoded before anything is
// written: a body that cannot be encoded (a time outside years 0 to 9999) answers 500 with
// a JSON error instead of the status with an empty body, and the error is returned for the
// caller to log.
func writeJSON(w http.ResponseWriter, status int, body any) error {
	var buf bytes.Buffer
	var encErr error
	if body != nil {
		if encErr = json.NewEncoder(&buf).Encode(body); encErr != nil {
			status = http.StatusInternalServerError
			buf.Reset()
			_ = json.NewEncoder(&buf).Encode(errorBody{Error: errorDetail{Message: "internal error"}})
			encErr = fmt.Errorf("encoding the answer: %w", encErr)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return encErr
}

// authenticate finds the caller of a route with access a; lookedUp says whether a member
// token was looked up (or refused before its lookup: lookUpCredential).
func (s *Server) authenticate(r *http.Request, a access) (p principal, lookedUp bool, err error) {
	if a == public {
		return principal{}, false, nil
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return principal{}, false, &apiError{status: http.StatusUnauthorized, field: "Authorization", message: "a bearer token is required"}
	}
	if s.isAdminToken(tok) {
		return principal{admin: true, active: true}, false, nil
	}
	if a == admin {
		return principal{}, false, forbidden("this endpoint needs the co-op staff's admin token")
	}
	sum := members.HashToken(tok)
	var c members.Caller
	retry, err := s.lookUpCredential(r, sum, func() (err error) {
		c, err = members.On(s.pool).Authenticate(r.Context(), sum[:])
		return err
	})
	switch {
	case retry > 0:
		return principal{}, true, tooMany(retry)
	case errors.Is(err, store.ErrNotFound):
		return principal{}, true, &apiError{status: http.StatusUnauthorized, field: "Authorization", message: "unknown token"}
	case err != nil:
		return principal{}, true, err
	}
	return principal{memberID: c.MemberID, tokenID: c.TokenID, roles: c.Roles, class: c.Class, active: c.Active}, true, nil
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
		return &apiError{status: http.StatusRequestEntityTooLarge, message: "body larger than 1 MiB"}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &apiError{status: http.StatusUnsupportedMediaType, field: "Content-Type", message: "must be application/json"}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return badField("", "a JSON object body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		var pe *time.ParseError
		switch {
		case errors.As(err, &pe):
			// encoding/json does not say where a time it could not parse was: the field
			// is the one holding that text.
			return badField(pathOfTime(data, v, pe.Value), "must be a time like 2026-07-14T09:30:00Z (RFC 3339)")
		case err.Error() == "Time.UnmarshalJSON: input is not a JSON string":
			return badField("", "a time must be a JSON string like \"2026-07-14T09:30:00Z\" (RFC 3339)")
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
	if f, ok := nulField(reflect.ValueOf(v), ""); ok {
		return errNUL(f)
	}
	return nil
}

// pathOfTime names, by its JSON path (exceptions[0].from), the first field of the JSON
// document data, in the order of the paths, that decodes into a time of target and holds
// the text value; "" when none.
func pathOfTime(data []byte, target any, value string) string {
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return ""
	}
	var paths []string
	var walk func(v any, t reflect.Type, path string)
	walk = func(v any, t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == reflect.TypeFor[time.Time]() {
			if s, ok := v.(string); ok && s == value {
				paths = append(paths, path)
			}
			return
		}
		join := func(k string) string {
			if path == "" {
				return k
			}
			return path + "." + k
		}
		switch x := v.(type) {
		case []any:
			if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
				for i, e := range x {
					walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
				}
			}
		case map[string]any:
			for k, e := range x {
				switch t.Kind() {
				case reflect.Struct:
					if f, ok := jsonField(t, k); ok {
						walk(e, f, join(k))
					}
				case reflect.Map:
					walk(e, t.Elem(), join(k))
				}
			}
		}
	}
	walk(doc, reflect.TypeOf(target), "")
	if len(paths) == 0 {
		return ""
	}
	return slices.Min(paths)
}

// jsonField is the type of the field of struct type t that encoding/json decodes the key
// name into (its tag's name, else its own, either case; embedded structs' fields too).
func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if ft, ok := jsonField(et, name); ok {
					return ft, true
				}
			}
			continue
		}
		if tag, ok := jsonName(f); ok && strings.EqualFold(tag, name) {
			return f.Type, true
		}
	}
	return nil, false
}

// jsonName is the name encoding/json gives the struct field f (its tag's, else its own);
// false for a field it leaves out.
func jsonName(f reflect.StructField) (string, bool) {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if !f.IsExported() || name == "-" {
		return "", false
	}
	if name == "" {
		name = f.Name
	}
	return name, true
}

// nulField finds the first string in v holding a NUL character and names it by its JSON
// path (details.notes, roles[1]); PostgreSQL refuses NUL in text and jsonb.
func nulField(v reflect.Value, path string) (string, bool) {
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return nulField(v.Elem(), path)
	case reflect.String:
		return path, strings.ContainsRune(v.String(), 0)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name, ok := jsonName(t.Field(i))
			if !ok {
				continue
			}
			if p, ok := nulField(v.Field(i), join(name)); ok {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage: PostgreSQL's error answers
			return "", false
		}
		for i := range v.Len() {
			if p, ok := nulField(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			name := join(fmt.Sprint(k))
			if k.Kind() == reflect.String && strings.ContainsRune(k.String(), 0) {
				return path, true
			}
			if p, ok := nulField(v.MapIndex(k), name); ok {
				return p, true
			}
		}
	}
	return "", false
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

// selfOrAdminPath is the member id of the request's path, which only that member and
// staff may act on (403 for other members).
func selfOrAdminPath(r *http.Request, p principal) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	return id, selfOrAdmin(p, id)
}

// activeMemberRef checks a request's reference (field) to a member who must be active:
// 404 when no member has the id, 400 when the member is inactive or erased. It holds the
// member's row for share until tx ends (members.LockActive): a deactivation or erasure
// under way is waited for, and what tx writes for the member is not written after it.
func activeMemberRef(ctx context.Context, tx pgx.Tx, field string, id int64) error {
	active, err := members.On(tx).LockActive(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return refNotFound(field, "member")
	}
	if err != nil {
		return err
	}
	if !active {
		return badField(field, "no active member with this id")
	}
	return nil
}

// activeMemberRefBy is activeMemberRef for a request from p. Staff are told whether no
// member has the id (404) or its member is inactive or erased (400); a member is told one
// thing of every id that is no active member's, 404 "no active member with this id", so
// that no member learns from it who the members are or were.
func activeMemberRefBy(ctx context.Context, tx pgx.Tx, p principal, field string, id int64) error {
	err := activeMemberRef(ctx, tx, field, id)
	var ae *apiError
	if !p.admin && errors.As(err, &ae) {
		return refNotFound(field, "active member")
	}
	return err
}

// lockSelf holds the acting member's own row for key share until tx ends, as
// activeMemberRef holds a referenced member's: 403 when the member is no longer active
// (deactivated or erased while the request was under way, which it waits for). Every
// write a member makes takes it (memberTx, changeWork), after the work items it locks and
// before any other row (members.LockActive).
func lockSelf(ctx context.Context, tx pgx.Tx, id int64) error {
	active, err := members.On(tx).LockActive(ctx, id)
	if err != nil {
		return err
	}
	if !active {
		return forbidden("the member is not active")
	}
	return nil
}

// memberTx runs fn in a transaction that, for a member's request, first holds the member's
// row (lockSelf): what a member writes waits for their erasure under way and is refused
// after it, rather than written after the erasure that would have removed it. Staff's
// requests hold the rows of the members they write about instead (lockKept,
// activeMemberRef). A write that locks work items locks them first (changeWork).
func (s *Server) memberTx(ctx context.Context, p principal, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if !p.admin {
			if err := lockSelf(ctx, tx, p.memberID); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// errErased refuses a write about a member whose data has been erased.
var errErased = &apiError{status: http.StatusConflict, message: "the member's data has been erased"}

// lockKept holds the row of member id, whom a write is about, for key share until tx ends
// (members.LockActive), whoever makes the write: 404 when there is no such member, 409
// when their data has been erased (an erasure under way is waited for). It reports whether
// the member is active.
func lockKept(ctx context.Context, tx pgx.Tx, id int64) (active bool, err error) {
	active, erased, err := members.On(tx).LockStanding(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, notFound("member")
	}
	if err != nil {
		return false, err
	}
	if erased {
		return false, errErased
	}
	return active, nil
}

// asSelf is err, but a refusal of a write about a member whose data was erased (errErased)
// is the member's own refusal (403, as lockSelf's) when they sent it themselves.
func asSelf(p principal, id int64, err error) error {
	if errors.Is(err, errErased) && !p.admin && p.memberID == id {
		return forbidden("the member is not active")
	}
	return err
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
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
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
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetry))
		_ = writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "problems": problems})
		return
	}
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// methodLabel is a request's method as a metric label and in the log: one of HTTP's
// methods, else OTHER. A client may send any token as its method (the members' app's
// routes take every method), and each distinct one would be a new series, without bound.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
