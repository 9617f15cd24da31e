package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/listings"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// Listing is a maker's listing in a marketplace co-op.
type Listing = listings.Listing

const (
	maxStock         = 1_000_000
	maxOrderQuantity = 1000
)

// ListingInput is a new listing.
type ListingInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	PriceCents  *int64 `json:"priceCents"`
	Stock       *int64 `json:"stock"`
}

// CreateListing records a listing owned by its maker, an active worker of a marketplace
// co-op; its price must be at least the voted floor (fares.floorCents).
func (s *Server) CreateListing(ctx context.Context, owner int64, in ListingInput) (Listing, error) {
	if s.vertical() != "marketplace" {
		return Listing{}, conflict("", "listings belong to marketplace co-ops")
	}
	if t := strings.TrimSpace(in.Title); t == "" || utf8.RuneCountInString(t) > 200 || strings.ContainsRune(t, 0) {
		return Listing{}, badField("title", "must be 1 to 200 characters")
	}
	if utf8.RuneCountInString(in.Description) > 1000 || strings.ContainsRune(in.Description, 0) {
		return Listing{}, badField("description", "must be at most 1000 characters")
	}
	if in.PriceCents == nil || *in.PriceCents <= 0 || *in.PriceCents > policy.MaxFareCents {
		return Listing{}, badField("priceCents", fmt.Sprintf("must be an integer from 1 to %d", policy.MaxFareCents))
	}
	if in.Stock == nil || *in.Stock < 0 || *in.Stock > maxStock {
		return Listing{}, badField("stock", fmt.Sprintf("must be an integer from 0 to %d", maxStock))
	}
	if err := s.checkFloor(ctx, *in.PriceCents); err != nil {
		return Listing{}, err
	}
	var l Listing
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		// The maker's row first (lockSelf): a listing sent during their erasure waits for
		// it and is refused, rather than kept after it with their words.
		if err := lockSelf(ctx, tx, owner); err != nil {
			return err
		}
		l, err = listings.On(tx).Create(ctx, Listing{OwnerID: owner, Title: strings.TrimSpace(in.Title), Description: in.Description,
			PriceCents: *in.PriceCents, Stock: *in.Stock})
		return err
	})
	return l, err
}

// checkFloor refuses a worker's price below the floor the co-op voted.
func (s *Server) checkFloor(ctx context.Context, price int64) error {
	f, _, err := s.fareRule(ctx, s.pool)
	if err != nil {
		return err
	}
	if f != nil && price < f.FloorCents {
		return badField("priceCents", fmt.Sprintf("must be at least the co-op's voted floor of %d cents (fares.floorCents)", f.FloorCents))
	}
	return nil
}

func (s *Server) createListing(r *http.Request, p principal) (int, any, error) {
	if p.admin || !p.active || !p.hasRole("worker") {
		return 0, nil, forbidden("listings are made by active workers, who own them")
	}
	var in ListingInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	l, err := s.CreateListing(r.Context(), p.memberID, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, l, nil
}

// ListingPage is a page of listings, newest first.
type ListingPage struct {
	Listings   []Listing `json:"listings"`
	NextCursor string    `json:"nextCursor,omitempty"`
}

// Listings is a page of listings (the listings store's Page): owner's when owner is not 0,
// all of them when all, else only those that can be ordered (their maker an active member).
func (s *Server) Listings(ctx context.Context, owner int64, all bool, pg Page) (ListingPage, error) {
	if s.vertical() != "marketplace" {
		return ListingPage{}, conflict("", "listings belong to marketplace co-ops")
	}
	cur, err := decodeCursor(pg.Cursor)
	if err != nil {
		return ListingPage{}, err
	}
	ls, err := listings.On(s.pool).Page(ctx, owner, cur.ID, pg.Limit+1, !all)
	if err != nil {
		return ListingPage{}, err
	}
	var out ListingPage
	out.Listings, out.NextCursor = trimPage(ls, pg, func(l listings.Listing) work.Cursor { return work.Cursor{ID: l.ID} })
	return out, nil
}

// listListings shows the listings members may order, newest first, or one maker's
// (?owner=): any active member, staff. A maker's own, and staff, read all of a maker's;
// anyone else only those that can be ordered (an erased maker's listing, its words
// wiped, says nothing more about them).
func (s *Server) listListings(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	var owner int64
	if v := r.URL.Query().Get("owner"); v != "" {
		if owner, err = strconv.ParseInt(v, 10, 64); err != nil || owner <= 0 {
			return 0, nil, badField("owner", "must be a positive integer id")
		}
	}
	out, err := s.Listings(r.Context(), owner, owner != 0 && (p.admin || owner == p.memberID), pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// getListing shows a listing: to its maker and staff whatever becomes of the maker; to
// anyone else only one that can be ordered, as the list does (a listing of a maker who
// left, or was erased, is not found: it tells no one more about them).
func (s *Server) getListing(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	l, err := listings.On(s.pool).Get(r.Context(), id)
	if err != nil {
		return 0, nil, asNotFound(err, "listing")
	}
	if !p.admin && l.OwnerID != p.memberID {
		if ok, err := s.orderable(r.Context(), l); err != nil || !ok {
			return 0, nil, cmp.Or(err, notFound("listing"))
		}
	}
	return http.StatusOK, l, nil
}

// orderable says whether a listing can be ordered: its maker is an active member whose
// data was not erased (listings.Page's orderable says it for a page).
func (s *Server) orderable(ctx context.Context, l Listing) (bool, error) {
	active, err := members.On(s.pool).Activity(ctx, l.OwnerID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return active, err
}

func (s *Server) setListingStock(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Stock *int64 `json:"stock"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Stock == nil || *in.Stock < 0 || *in.Stock > maxStock {
		return 0, nil, badField("stock", fmt.Sprintf("must be an integer from 0 to %d", maxStock))
	}
	var l Listing
	err = s.memberTx(r.Context(), p, func(tx pgx.Tx) (err error) {
		q := listings.On(tx)
		l, err = q.Get(r.Context(), id)
		if err != nil {
			return asNotFound(err, "listing")
		}
		if !p.admin && l.OwnerID != p.memberID {
			return forbidden("only the listing's maker or staff change its stock")
		}
		l, err = q.SetStock(r.Context(), id, *in.Stock)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, l, nil
}

// pricedByListing says whether a request of kind is priced by the listing it names (a
// marketplace order) rather than by its requester or a fare rule.
func pricedByListing(vertical, kind string) bool {
	return vertical == "marketplace" && kind == "order"
}

// order is a marketplace order's listing and quantity.
type order struct {
	listing  Listing
	quantity int64
}

// prepareOrder reads the listing a marketplace order names and prices the order: the
// listing's price times the quantity (a typed priceCents is refused).
func (s *Server) prepareOrder(ctx context.Context, customer int64, in *workInput) (*order, error) {
	if !pricedByListing(s.vertical(), in.Kind) || in.Details == nil {
		return nil, nil
	}
	lid, err := strconv.ParseInt(in.Details["listingId"], 10, 64)
	if err != nil || lid <= 0 {
		return nil, badField("details.listingId", "must be the id of a listing")
	}
	qty := int64(1)
	if v, ok := in.Details["quantity"]; ok {
		qty, err = strconv.ParseInt(v, 10, 64)
		if err != nil || qty < 1 || qty > maxOrderQuantity {
			return nil, badField("details.quantity", fmt.Sprintf("must be a whole number from 1 to %d", maxOrderQuantity))
		}
	}
	if in.PriceCents != nil {
		return nil, badField("priceCents", "an order's price is its listing's price times the quantity; leave it out")
	}
	l, err := listings.On(s.pool).Get(ctx, lid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refNotFound("details.listingId", "listing")
	}
	if err != nil {
		return nil, err
	}
	if l.OwnerID == customer {
		return nil, badField("details.listingId", "is your own listing")
	}
	// An order goes to the listing's maker: one who is no longer active could never take
	// it, and their listing is not found, as its page and the shop have it (which tells
	// no one more about the maker).
	if ok, err := s.orderable(ctx, l); err != nil || !ok {
		return nil, cmp.Or(err, refNotFound("details.listingId", "listing"))
	}
	price := l.PriceCents * qty
	in.PriceCents = &price
	return &order{listing: l, quantity: qty}, nil
}

// reserve takes what a request holds, in its transaction: an order's stock (409 naming
// details.quantity when not enough is left) and a stay's dates at its place (409 naming
// details.checkIn when another stay of the place overlaps; one may begin the day another
// ends).
func reserve(ctx context.Context, tx pgx.Tx, in *workInput, o *order) error {
	q := listings.On(tx)
	if o != nil {
		_, err := q.Take(ctx, o.listing.ID, o.quantity)
		if errors.Is(err, store.ErrNotFound) {
			l, err := q.Get(ctx, o.listing.ID)
			if err != nil {
				return err
			}
			return conflict("details.quantity", fmt.Sprintf("only %d left of listing %d", l.Stock, l.ID))
		}
		return err
	}
	if in.Kind == "stay" {
		unit := in.Details["unit"] // trimmed by createWork, as it is stored
		checkIn, checkOut := in.Details["checkIn"], in.Details["checkOut"]
		if err := q.LockPlace(ctx, unit); err != nil {
			return err
		}
		overlaps, err := q.StayOverlaps(ctx, unit, checkIn, checkOut)
		if err != nil {
			return err
		}
		if overlaps {
			// The guest's own dates: not the other stay's, whose dates, guest and id are
			// another's.
			return conflict("details.checkIn", fmt.Sprintf("%s is taken for some of the nights from %s to %s; a stay may begin on the day another ends", unit, checkIn, checkOut))
		}
	}
	return nil
}

// releaseOrder puts a cancelled order's quantity back into its listing's stock.
func releaseOrder(ctx context.Context, tx pgx.Tx, w *Work) error {
	if w.Vertical != "marketplace" || w.Kind != "order" {
		return nil
	}
	lid, err1 := strconv.ParseInt(w.Details["listingId"], 10, 64)
	qty := int64(1)
	var err2 error
	if v, ok := w.Details["quantity"]; ok {
		qty, err2 = strconv.ParseInt(v, 10, 64)
	}
	if err1 != nil || err2 != nil {
		return nil
	}
	return listings.On(tx).Restock(ctx, lid, qty)
}

// offerToOwner offers a marketplace order to its listing's maker, the only one who can
// fill it; when the maker declined, let it expire or left (moved), it goes back to
// requested. Matching it again then offers it to nobody: 409 saying so, and to cancel it,
// which gives its quantity back to the listing's stock; so is matching an order whose
// maker is no longer an active worker (checked under a lock of their row, as an accept
// does).
func (s *Server) offerToOwner(ctx context.Context, tx pgx.Tx, w *Work, p principal, pol *policy.Policy, moved string) (Offer, error) {
	lid, _ := strconv.ParseInt(w.Details["listingId"], 10, 64)
	l, err := listings.On(tx).Get(ctx, lid)
	if err != nil {
		return Offer{}, err
	}
	if moved != "" {
		if err := setState(ctx, tx, w, stRequested, nil, p, "the maker did not take the order"); err != nil {
			return Offer{}, err
		}
		return Offer{WorkID: w.ID, State: w.State, Reason: "an order goes to its listing's maker only, who did not take it: the order is back to requested"}, nil
	}
	q := work.On(tx)
	status, _, err := q.OfferStatus(ctx, w.ID, l.OwnerID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Offer{}, err
	}
	if err == nil && status != "withdrawn" {
		return Offer{}, conflict("state", fmt.Sprintf("the maker of listing %d did not take this order (they declined it or let the offer expire), and an order goes to its maker only: cancel it to give its quantity back to the listing's stock", l.ID))
	}
	mayWork, err := q.LockWorker(ctx, l.OwnerID)
	if err != nil {
		return Offer{}, err
	}
	if !mayWork {
		return Offer{}, conflict("details.listingId", fmt.Sprintf("the maker of listing %d is no longer an active worker and cannot take the order: cancel it to give its quantity back to the listing's stock", l.ID))
	}
	expires := s.now().Add(pol.Work.OfferTimeout())
	reason := fmt.Sprintf("an order goes to the maker of listing %d", l.ID)
	if err := work.On(tx).Offer(ctx, w.ID, l.OwnerID, reason, &expires, false); err != nil {
		return Offer{}, err
	}
	owner := l.OwnerID
	if err := setState(ctx, tx, w, stOffered, &owner, p, reason); err != nil {
		return Offer{}, err
	}
	return Offer{WorkID: w.ID, State: w.State, WorkerID: &owner, Reason: reason, ExpiresAt: &expires}, nil
}
