package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/pricing"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/fares"
	"github.com/cooperator-dev/cooperator/platform/server/store/proposals"
)

// workerPriced are the verticals where workers set their own price, at or above the
// co-op's voted floor (fares.floorCents); elsewhere the fare rule sets it.
var workerPriced = []string{"home-services", "freelance", "marketplace"}

// fareRule is the fare rule in force: the newest a passed proposal voted, else the
// policy file's; nil when there is none (then the requester's price stands). source
// says which: "proposal <id>" or "policy".
func (s *Server) fareRule(ctx context.Context, db store.DBTX) (*policy.Fares, string, error) {
	f, id, err := fares.On(db).Current(ctx)
	if err == nil {
		return &f, fmt.Sprintf("proposal %d", id), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return nil, "", err
	}
	return pol.Fares, "policy", nil
}

// applyPlatformChange applies a passed proposal's change of a part of the policy the
// platform owns (the fare rule) inside the closing transaction, and records it applied,
// so the operator never takes it for a change of the Cooperative.
func (s *Server) applyPlatformChange(ctx context.Context, tx pgx.Tx, id int64, passed bool, at time.Time) error {
	if !passed {
		return nil
	}
	q := proposals.On(tx)
	field, value, err := q.Change(ctx, id)
	if err != nil || field != policy.PartFares {
		return err
	}
	if err := fares.On(tx).Apply(ctx, value, id, at); err != nil {
		return err
	}
	return q.MarkApplied(ctx, id, "the platform prices requests with this fare rule from now on", at)
}

// measures are a request's measures for its price.
type measures struct {
	DistanceMeters  *int64 `json:"distanceMeters"`
	DurationMinutes *int64 `json:"durationMinutes"`
	Packages        *int64 `json:"packages"`
	// Zone names one of the fare rule's zones.
	Zone *string `json:"zone"`
}

func (m measures) input() (pricing.Input, error) {
	var in pricing.Input
	for _, f := range []struct {
		name string
		v    *int64
		max  int64
		to   *int64
	}{{"distanceMeters", m.DistanceMeters, pricing.MaxDistanceMeters, &in.DistanceMeters},
		{"durationMinutes", m.DurationMinutes, pricing.MaxDurationMinutes, &in.DurationMinutes},
		{"packages", m.Packages, pricing.MaxPackages, &in.Packages}} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 || *f.v > f.max {
			return in, badField(f.name, fmt.Sprintf("must be an integer from 0 to %d", f.max))
		}
		*f.to = *f.v
	}
	if m.Zone != nil {
		in.Zone = *m.Zone
	}
	return in, nil
}

// quote prices a request from the fare rule in force at the service's clock.
func (s *Server) quote(ctx context.Context, m measures) (pricing.Breakdown, string, error) {
	in, err := m.input()
	if err != nil {
		return pricing.Breakdown{}, "", err
	}
	f, source, err := s.fareRule(ctx, s.pool)
	if err != nil {
		return pricing.Breakdown{}, "", err
	}
	if f == nil {
		return pricing.Breakdown{}, "", conflict("", "the co-op has no fare rule: the policy sets no fares and no proposal voted one")
	}
	b, err := pricing.Quote(*f, in, s.clock())
	if errors.Is(err, policy.ErrUnknownZone) {
		return b, "", badField("zone", fmt.Sprintf("%q is not a zone of the co-op's fare rule", in.Zone))
	}
	if errors.Is(err, pricing.ErrTooExpensive) {
		return b, "", badField(dearest(b), err.Error())
	}
	return b, source, err
}

// dearest is the measure that adds the most to a price: the one to give less of when the
// price is too large.
func dearest(b pricing.Breakdown) string {
	field, most := "distanceMeters", b.DistanceCents
	if t := b.TimeCents + b.HourlyCents; t > most {
		field, most = "durationMinutes", t
	}
	if b.PackagesCents > most {
		field = "packages"
	}
	return field
}

// quoteInput is what a quote prices: the measures, and optionally the kind of work and
// its details, which price it as a request of that kind with those details is priced
// (a booking for the slot it reserves: its durationMinutes measure, else its details'
// durationMinutes, else the default; the two given must agree, as slotMinutes says).
type quoteInput struct {
	measures
	Kind    string            `json:"kind"`
	Details map[string]string `json:"details"`
}

// createQuote shows the price of a request before it is made, with its breakdown and
// the rule that made it (any member, staff).
func (s *Server) createQuote(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	var q quoteInput
	if err := decode(r, &q); err != nil {
		return 0, nil, err
	}
	in := q.measures
	if slices.Contains(workerPriced, s.vertical()) {
		return 0, nil, conflict("", "in this co-op workers set their own price, at or above the voted floor (fares.floorCents)")
	}
	if q.Kind != "" {
		if _, ok := kindsFor(s.vertical())[q.Kind]; !ok {
			return 0, nil, badField("kind", fmt.Sprintf("must be one of: %s", kindList(s.vertical())))
		}
		if w := (workInput{measures: in, Kind: q.Kind, Details: q.Details}); scheduled(s.vertical(), &w) {
			// As priceWork prices the request: for the slot it reserves (a measure and
			// details that say two durations refused, as the request is).
			minutes, err := slotMinutes(&w)
			if err != nil {
				return 0, nil, err
			}
			in.DurationMinutes = &minutes
		}
	} else if in.DurationMinutes == nil && everyKindScheduled(s.vertical()) {
		// A booking that says nothing of its length reserves the default slot and is
		// priced for it (priceWork): so is its quote, or the quote would not be its price.
		m := int64(defaultSlotMinutes)
		in.DurationMinutes = &m
	}
	b, source, err := s.quote(r.Context(), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"priceCents": b.PriceCents, "surgeCents": b.SurgeCents, "breakdown": b, "rule": source}, nil
}

// everyKindScheduled says whether every kind of work of vertical is booked for a slot
// (care): a quote, which names no kind, is then priced as a booking.
func everyKindScheduled(vertical string) bool {
	kinds := kindsFor(vertical)
	for k := range kinds {
		if !scheduled(vertical, &workInput{Kind: k}) {
			return false
		}
	}
	return len(kinds) > 0
}

// priceWork sets a request's price by the rule in force: computed from the fare rule
// (typed prices and surges refused), or, where workers set their price, the price asked
// if at or above the floor. Without a fare rule the requester's price stands. Scheduled
// work is priced for the time its slot reserves (slotMinutes).
func (s *Server) priceWork(ctx context.Context, in *workInput) (*pricing.Breakdown, error) {
	if _, err := in.input(); err != nil {
		return nil, err
	}
	f, _, err := s.fareRule(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	if f == nil {
		// Surge carries no platform fee and no fund share (ledger.Compute): a surge the
		// requester typed would let any request leave the co-op's voted fee out.
		if in.SurgeCents != nil && *in.SurgeCents != 0 {
			return nil, badField("surgeCents", "must be 0: only a fare rule's surge windows set a surge, and the co-op has no fare rule")
		}
	}
	if in.QuotedPriceCents != nil && *in.QuotedPriceCents <= 0 {
		return nil, badField("quotedPriceCents", "must be a positive integer (the priceCents of the quote)")
	}
	if in.QuotedPriceCents != nil && (f == nil || slices.Contains(workerPriced, s.vertical())) {
		return nil, badField("quotedPriceCents", "is for a price a fare rule computes (POST /v1/quotes); here the request's priceCents is the price")
	}
	if f == nil {
		return nil, nil
	}
	if in.SurgeCents != nil {
		return nil, badField("surgeCents", "is set by the co-op's fare rule (its surge windows), not by the request")
	}
	if slices.Contains(workerPriced, s.vertical()) {
		if in.PriceCents != nil && *in.PriceCents < f.FloorCents {
			return nil, badField("priceCents", fmt.Sprintf("must be at least the co-op's voted floor of %d cents (fares.floorCents)", f.FloorCents))
		}
		return nil, nil
	}
	if in.PriceCents != nil {
		return nil, badField("priceCents", "is computed from the co-op's fare rule (see POST /v1/quotes), not set by the request")
	}
	if scheduled(s.vertical(), in) {
		// Priced for the slot it reserves, however the request says how long that is.
		minutes, err := slotMinutes(in)
		if err != nil {
			return nil, err
		}
		in.DurationMinutes = &minutes
	}
	b, _, err := s.quote(ctx, in.measures)
	if err != nil {
		return nil, err
	}
	if in.QuotedPriceCents != nil && *in.QuotedPriceCents != b.PriceCents {
		return nil, conflict("quotedPriceCents", fmt.Sprintf("the fare of this request is now %d cents (surge %d), not the %d quoted: a surge window opened or closed, the fare rule changed, or the request's measures are not the quote's; quote again", b.PriceCents, b.SurgeCents, *in.QuotedPriceCents))
	}
	in.PriceCents, in.SurgeCents = &b.PriceCents, &b.SurgeCents
	return &b, nil
}
