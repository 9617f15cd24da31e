package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// apiDocument is openapi.yaml, loaded and validated as OpenAPI 3, and its router.
var apiDocument = sync.OnceValues(func() (*apiSpec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapiYAML)
	if err != nil {
		return nil, fmt.Errorf("loading openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not valid OpenAPI 3: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing openapi.yaml: %w", err)
	}
	return &apiSpec{doc: doc, router: router}, nil
})

type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

// TestOpenAPIDocumentValid: openapi.yaml loads and validates as OpenAPI 3, and it is typed
// throughout: every operation has an operationId (unique), every response a JSON (or the
// document's own YAML) schema, and every success status is documented explicitly.
func TestOpenAPIDocumentValid(t *testing.T) {
	spec, err := apiDocument()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for path, item := range spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, ok := ids[op.OperationID]; ok {
				t.Errorf("%s and %s share operationId %q", where, other, op.OperationID)
			}
			ids[op.OperationID] = where
			if op.Responses.Default() == nil {
				t.Errorf("%s has no default (error) response", where)
			}
			for status, ref := range op.Responses.Map() {
				r := ref.Value
				if r == nil || len(r.Content) == 0 {
					t.Errorf("%s response %s has no content", where, status)
					continue
				}
				for ct, mt := range r.Content {
					if mt.Schema == nil || mt.Schema.Value == nil {
						t.Errorf("%s response %s (%s) has no schema", where, status, ct)
					} else if s := mt.Schema.Value; s.Type.Is("object") && len(s.Properties) == 0 && s.AdditionalProperties.Schema == nil {
						t.Errorf("%s response %s (%s) is an untyped object", where, status, ct)
					}
				}
			}
		}
	}
}

// apiValidated serves h and checks each request and its response against openapi.yaml,
// failing t with the route, the status and the validation error when they do not match:
//   - a request to a path and method the document does not list must be answered 404/405;
//   - a request the document refuses must be answered 4xx;
//   - every response must be documented: a success status explicitly, with its
//     Content-Type and a body valid against its schema.
func apiValidated(t testing.TB, h http.Handler) http.Handler {
	spec, err := apiDocument()
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		check := r.Clone(context.Background())
		check.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := spec.check(check, rec); err != nil {
			t.Errorf("openapi.yaml: %s %s answered %d: %v\nresponse: %.500s", r.Method, r.URL.Path, rec.Code, err, rec.Body.Bytes())
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func (s *apiSpec) check(req *http.Request, rec *httptest.ResponseRecorder) error {
	ctx := context.Background()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("no operation in the document: %w", err)
	}
	op := fmt.Sprintf("%s (%s %s)", route.Operation.OperationID, route.Method, route.Path)
	reqOpts := &openapi3filter.Options{
		MultiError:                        true,
		RejectWhenRequestBodyNotSpecified: true,
		AuthenticationFunc:                bearerPresent,
	}
	reqOpts.WithCustomSchemaErrorFunc(shortSchemaError)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: reqOpts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if reqErr != nil && (rec.Code < 400 || rec.Code >= 500) && rec.Code != http.StatusServiceUnavailable {
		return fmt.Errorf("operation %s: the request is not valid, yet it was answered %d: %w", op, rec.Code, reqErr)
	}
	if rec.Code < 400 && route.Operation.Responses.Status(rec.Code) == nil {
		return fmt.Errorf("operation %s: status %d is not documented", op, rec.Code)
	}
	respOpts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	respOpts.WithCustomSchemaErrorFunc(shortSchemaError)
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                respOpts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("operation %s: the response is not valid: %w", op, err)
	}
	return nil
}

// bearerPresent accepts a request that carries a bearer token; whether the token is good is
// the server's to judge (and then a 401 is a documented answer).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme.Type == "http" && in.SecurityScheme.Scheme == "bearer" &&
		strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return nil
	}
	return errors.New("no bearer token")
}

// shortSchemaError names the place in the body and the rule, not the whole schema and value.
func shortSchemaError(err *openapi3.SchemaError) string {
	return "at /" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
}

// TestAPIValidationRefuses: the check apiValidated makes fails, naming the operation and the
// rule, on a response or a request that does not match openapi.yaml.
func TestAPIValidationRefuses(t *testing.T) {
	spec, err := apiDocument()
	if err != nil {
		t.Fatal(err)
	}
	const member = `{"id":1,"name":"Ann","email":"ann@example.org","roles":["worker"],"qualifications":[],"active":true,"available":false,"rating":"","ratingCount":0,"createdAt":"2026-01-01T00:00:00Z"}`
	for _, c := range []struct {
		name, method, path, token, reqBody string
		status                             int
		contentType, respBody              string
		want                               string // "" when the exchange is valid
	}{
		{"valid", "GET", "/v1/members/1", "t", "", 200, "application/json", member, ""},
		{"valid error", "GET", "/v1/members/1", "t", "", 404, "application/json", `{"error":{"field":"id","message":"no such member"}}`, ""},
		{"undocumented field", "GET", "/v1/members/1", "t", "", 200, "application/json", strings.Replace(member, `"id":1`, `"id":1,"secret":"x"`, 1), `operation getMember (GET /v1/members/{id}): the response is not valid: response body doesn't match schema #/components/schemas/Member: at /: property "secret" is unsupported`},
		{"wrong type", "GET", "/v1/members/1", "t", "", 200, "application/json", strings.Replace(member, `"id":1`, `"id":"1"`, 1), `at /id`},
		{"missing required field", "GET", "/v1/members/1", "t", "", 200, "application/json", strings.Replace(member, `"active":true,`, ``, 1), `"active"`},
		{"no content type", "GET", "/v1/members/1", "t", "", 200, "", member, `Content-Type`},
		{"undocumented success status", "GET", "/v1/members/1", "t", "", 202, "application/json", member, `status 202 is not documented`},
		{"error not in the error shape", "GET", "/v1/members/1", "t", "", 400, "application/json", `{"message":"bad"}`, `the response is not valid`},
		{"route not in the document", "GET", "/v1/nowhere", "t", "", 200, "application/json", `{}`, `no operation in the document`},
		{"unknown route answered 404", "GET", "/v1/nowhere", "t", "", 404, "application/json", `{"error":{"message":"not found"}}`, ""},
		{"invalid request accepted", "POST", "/v1/work/1/rating", "t", `{"stars":9}`, 200, "application/json", `{}`, `the request is not valid, yet it was answered 200`},
		{"invalid request refused", "POST", "/v1/work/1/rating", "t", `{"stars":9}`, 400, "application/json", `{"error":{"field":"stars","message":"must be 1 to 5"}}`, ""},
		{"no token yet served", "GET", "/v1/members/1", "", "", 200, "application/json", member, `the request is not valid`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.reqBody != "" {
				body = strings.NewReader(c.reqBody)
			}
			req := httptest.NewRequest(c.method, c.path, body)
			if c.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			if c.contentType != "" {
				rec.Header().Set("Content-Type", c.contentType)
			}
			rec.WriteHeader(c.status)
			_, _ = rec.WriteString(c.respBody)
			err := spec.check(req, rec)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("valid exchange refused: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q lacks %q", err, c.want)
			}
		})
	}
}

// apiClient is an HTTP client for tests that reach the API over a real listener: like
// apiValidated, it checks every request and response against openapi.yaml.
func apiClient(t testing.TB) *http.Client {
	spec, err := apiDocument()
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: apiTransport{t: t, spec: spec, base: http.DefaultTransport}}
}

type apiTransport struct {
	t    testing.TB
	spec *apiSpec
	base http.RoundTripper
}

func (a apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	check := req.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := a.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	rec := httptest.NewRecorder()
	for k, v := range resp.Header {
		rec.Header()[k] = v
	}
	rec.WriteHeader(resp.StatusCode)
	_, _ = rec.Write(respBody)
	if err := a.spec.check(check, rec); err != nil {
		a.t.Errorf("openapi.yaml: %s %s answered %d: %v\nresponse: %.500s", req.Method, req.URL.Path, resp.StatusCode, err, respBody)
	}
	return resp, nil
}

// TestOpenAPIBoundsAreThePolicys: the bounds and lists the document states for the policy's
// rules are the ones the policy package defines (api/policy, whose governed parts are the
// CRD's), so that the document cannot drift from the rule it describes.
func TestOpenAPIBoundsAreThePolicys(t *testing.T) {
	spec, err := apiDocument()
	if err != nil {
		t.Fatal(err)
	}
	schemas := spec.doc.Components.Schemas
	property := func(path ...string) *openapi3.Schema {
		t.Helper()
		ref := schemas[path[0]]
		for _, p := range path[1:] {
			if ref == nil || ref.Value == nil {
				break
			}
			ref = ref.Value.Properties[p]
		}
		if ref == nil || ref.Value == nil {
			t.Fatalf("openapi.yaml has no schema %s", strings.Join(path, "."))
		}
		return ref.Value
	}
	bound := func(p *float64) int64 {
		if p == nil {
			return -1
		}
		return int64(*p)
	}
	for _, tc := range []struct {
		path     []string
		min, max int64
	}{
		{[]string{"Policy", "work", "offerTimeoutSeconds"}, policy.MinOfferTimeoutSeconds, policy.MaxOfferTimeoutSeconds},
		{[]string{"Policy", "work", "urgentFanOut"}, 1, policy.MaxUrgentFanOut},
		{[]string{"ProposalInput", "votingPeriodHours"}, 1, policy.MaxVotingPeriodHours},
		{[]string{"PaymentInput", "amountCents"}, 1, policy.MaxAmountCents},
		{[]string{"DisbursementInput", "amountCents"}, 1, policy.MaxAmountCents},
	} {
		s := property(tc.path...)
		if got := [2]int64{bound(s.Min), bound(s.Max)}; got != [2]int64{tc.min, tc.max} {
			t.Errorf("%s: the document says %d..%d; the policy package %d..%d", strings.Join(tc.path, "."), got[0], got[1], tc.min, tc.max)
		}
	}

	var fields []string
	for _, v := range property("ProposalInput", "field").Enum {
		fields = append(fields, fmt.Sprint(v))
	}
	want := append(slices.Clone(policy.GovernedParts), policy.PartFares)
	if !slices.Equal(fields, want) {
		t.Errorf("ProposalInput.field: the document lists %v; the governed fields and fares are %v", fields, want)
	}
}
