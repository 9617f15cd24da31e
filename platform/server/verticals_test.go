package server

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestValidateWorkPerVertical(t *testing.T) {
	price := int64(1000)
	cases := []struct {
		vertical, kind string
		details        map[string]string
		field          string // "" when valid
	}{
		{"delivery", "delivery", map[string]string{"pickup": "a", "dropoff": "b"}, ""},
		{"delivery", "ride", map[string]string{"pickup": "a", "dropoff": "b"}, "kind"},
		{"ride-sharing", "ride", map[string]string{"pickup": "a", "dropoff": "b", "seats": "2"}, ""},
		{"home-services", "booking", map[string]string{"address": "a", "service": "plumbing", "scheduledAt": "2026-07-14T09:30:00Z"}, ""},
		{"home-services", "booking", map[string]string{"address": "a", "service": "plumbing", "scheduledAt": "tomorrow"}, "details.scheduledAt"},
		{"care", "booking", map[string]string{"address": "a", "careType": "night", "scheduledAt": "2026-07-14T21:00:00+02:00"}, ""},
		{"care", "booking", map[string]string{"address": "a", "scheduledAt": "2026-07-14T21:00:00Z"}, "details.careType"},
		{"freelance", "gig", map[string]string{"title": "Logo", "description": "A logo", "deadline": "2026-08-01"}, ""},
		{"freelance", "gig", map[string]string{"title": "Logo", "description": "A logo", "deadline": "01/08/2026"}, "details.deadline"},
		{"marketplace", "listing", map[string]string{"title": "Bike", "description": "Blue"}, ""},
		{"marketplace", "order", map[string]string{"listingId": "12", "shippingAddress": "x"}, ""},
		{"marketplace", "order", map[string]string{"listingId": "12"}, "details.shippingAddress"},
		{"housing", "stay", map[string]string{"unit": "3B", "checkIn": "2026-07-01", "checkOut": "2026-07-08"}, ""},
		{"housing", "stay", map[string]string{"unit": "3B", "checkIn": "2026-07-08", "checkOut": "2026-07-01"}, "details.checkOut"},
		{"housing", "stay", map[string]string{"unit": "3B", "checkIn": "2026-07-01", "checkOut": "2026-07-08", "pets": "2"}, "details.pets"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/%s", c.vertical, c.kind, c.field), func(t *testing.T) {
			err := validateWork(c.vertical, &workInput{Kind: c.kind, Details: c.details, PriceCents: &price}, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.field != c.field || ae.status != 400 {
				t.Fatalf("got %v, want a 400 on %s", err, c.field)
			}
		})
	}
}

// TestHousingVerticalAndInactiveMembers runs a stay through a housing co-op and checks
// that a deactivated member can neither request work nor be matched nor vote.
func TestHousingVerticalAndInactiveMembers(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "housing"))
	tenant := e.member("Tia Tenant", []string{"customer"}, "")
	host := e.member("Hal Host", []string{"worker"}, "", "stay")
	e.setAvailable(host, true)
	stay := map[string]any{"kind": "stay", "details": map[string]string{"unit": "3B", "checkIn": "2026-07-01", "checkOut": "2026-07-08"}, "priceCents": 70000}
	id := num(e.must(201, "POST", "/v1/work", tenant.token, stay)["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), tenant.token, nil); num(o["workerId"]) != host.id {
		t.Fatalf("offer %v", o)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), tenant.token, map[string]any{"reason": "plans changed"})

	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", host.id), adminToken, map[string]any{"active": false})
	id = num(e.must(201, "POST", "/v1/work", tenant.token, stay)["id"])
	e.must(409, "POST", fmt.Sprintf("/v1/work/%d/match", id), tenant.token, nil) // the host is inactive
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", tenant.id), adminToken, map[string]any{"active": false})
	// Deactivation revoked the tenant's tokens (TestSecurity_DeactivationRevokesTokens).
	e.must(401, "POST", "/v1/work", tenant.token, stay)
	prop := num(e.must(201, "POST", "/v1/proposals", adminToken, map[string]any{"title": "t"})["id"])
	e.must(401, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", prop), tenant.token, map[string]any{"choice": "yes"})
	// Staff export an inactive member's data for them.
	e.must(200, "GET", fmt.Sprintf("/v1/members/%d/export", tenant.id), adminToken, nil)
}
