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

// fareInput is what the fare rule prices a request by: its measures, validated, and the
// time whose time rate and surge price it.
type fareInput struct {
	pricing.Input
	// at is when the work starts, for scheduled work and stays: they are priced at the
	// time rate and surge in force then, not when they are asked for. Zero: the service's
	// clock (work on demand, and a quote that says no start).
	at time.Time
	// lengthField names what says the request's length, in the refusal of a price too
	// large: the durationMinutes measure, or a stay's details.checkOut.
	lengthField string
}

// fareInputOf is what a request of w's kind, details and measures is priced by, for its
// quote and for the request itself (priceWork) alike: its measures, but a booking is
// priced for the slot it reserves (slotMinutes: a measure and details that say two
// durations are refused), and a stay for the time from its checkIn to its checkOut on the
// co-op's calendar (staySlot; a durationMinutes measure that says another is refused);
// both at the time rate and surge in force when they start (a quote of a booking that
// gives no scheduledAt: at the service's clock). A
// request that names no kind where every kind is a booking (care) is priced as one that
// says nothing of its length: for the default slot. Where every kind is a stay, the kind
// and its dates are required.
func (s *Server) fareInputOf(w *workInput) (fareInput, error) {
	in, err := w.input()
	if err != nil {
		return fareInput{}, err
	}
	out := fareInput{Input: in, lengthField: "durationMinutes"}
	switch {
	case isStay(w):
		start, end, err := staySlot(w.Details, s.location(), s.now())
		if err != nil {
			return out, err
		}
		minutes := int64(end.Sub(start) / time.Minute)
		if w.DurationMinutes != nil && *w.DurationMinutes != minutes {
			return out, badField("durationMinutes", fmt.Sprintf("a stay lasts from its checkIn to its checkOut: %d minutes on the co-op's calendar, not %d; leave durationMinutes out",
				minutes, *w.DurationMinutes))
		}
		out.DurationMinutes, out.lengthField, out.at = minutes, "details.checkOut", start
	case scheduled(s.vertical(), w):
		if out.DurationMinutes, err = slotMinutes(w); err != nil {
			return out, err
		}
		if _, ok := w.Details["scheduledAt"]; ok {
			if out.at, err = scheduledStart(w, s.now()); err != nil {
				return out, err
			}
		}
	case w.Kind == "" && everyKind(s.vertical(), isStay):
		return out, badField("kind", "is required: a stay is priced for its nights (kind stay, with details.checkIn and details.checkOut)")
	case w.Kind == "" && w.DurationMinutes == nil && everyKind(s.vertical(), func(k *workInput) bool { return scheduled(s.vertical(), k) }):
		out.DurationMinutes = defaultSlotMinutes
	}
	return out, nil
}

// quote prices a request from the fare rule in force, at the time rate and surge of its
// start on the co-op's clock (in.at; the service's clock when it has none).
func (s *Server) quote(ctx context.Context, in fareInput) (pricing.Breakdown, string, error) {
	f, source, err := s.fareRule(ctx, s.pool)
	if err != nil {
		return pricing.Breakdown{}, "", err
	}
	if f == nil {
		return pricing.Breakdown{}, "", conflict("", "the co-op has no fare rule: the policy sets no fares and no proposal voted one")
	}
	at := s.clock()
	if !in.at.IsZero() {
		at = in.at.In(s.location())
	}
	b, err := pricing.Quote(*f, in.Input, at)
	if errors.Is(err, policy.ErrUnknownZone) {
		return b, "", badField("zone", fmt.Sprintf("%q is not a zone of the co-op's fare rule", in.Zone))
	}
	if errors.Is(err, pricing.ErrTooExpensive) {
		field := dearest(b)
		if field == "durationMinutes" {
			field = in.lengthField
		}
		return b, "", badField(field, err.Error())
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
// (fareInputOf: a booking for the slot it reserves, a stay for its nights).
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
	if slices.Contains(workerPriced, s.vertical()) {
		return 0, nil, conflict("", "in this co-op workers set their own price, at or above the voted floor (fares.floorCents)")
	}
	if _, ok := kindsFor(s.vertical())[q.Kind]; q.Kind != "" && !ok {
		return 0, nil, badField("kind", fmt.Sprintf("must be one of: %s", kindList(s.vertical())))
	}
	in, err := s.fareInputOf(&workInput{measures: q.measures, Kind: q.Kind, Details: q.Details})
	if err != nil {
		return 0, nil, err
	}
	b, source, err := s.quote(r.Context(), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"priceCents": b.PriceCents, "surgeCents": b.SurgeCents, "breakdown": b, "rule": source}, nil
}

// everyKind says whether every kind of work of vertical is of a sort (care's every kind
// is a booking, housing's a stay): a quote that names no kind is then priced as one.
func everyKind(vertical string, is func(*workInput) bool) bool {
	kinds := kindsFor(vertical)
	for k := range kinds {
		if !is(&workInput{Kind: k}) {
			return false
		}
	}
	return len(kinds) > 0
}

// priceWork sets a request's price by the rule in force: computed from the fare rule
// (typed prices and surges refused), or, where workers set their price, the price asked
// if at or above the floor. Without a fare rule the requester's price stands. Scheduled
// work is priced for the time its slot reserves, a stay for its nights (fareInputOf).
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
	fi, err := s.fareInputOf(in)
	if err != nil {
		return nil, err
	}
	b, _, err := s.quote(ctx, fi)
	if err != nil {
		return nil, err
	}
	if in.QuotedPriceCents != nil && *in.QuotedPriceCents != b.PriceCents {
		return nil, conflict("quotedPriceCents", fmt.Sprintf("the fare of this request is now %d cents (surge %d), not the %d quoted: a surge window opened or closed, the fare rule changed, or the request's measures are not the quote's; quote again", b.PriceCents, b.SurgeCents, *in.QuotedPriceCents))
	}
	in.PriceCents, in.SurgeCents = &b.PriceCents, &b.SurgeCents
	return &b, nil
}
