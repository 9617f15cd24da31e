package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store/listings"
)

// listingView is a listing as the API shows it.
type listingView = listings.Listing

type listingPage struct {
	Listings   []listingView `json:"listings"`
	NextCursor string        `json:"nextCursor"`
}

// shopData is the shop's page: what members may order, and a maker's own listings with
// the form of a new one.
type shopData struct {
	Catalogue listingPage
	// Cursor is the catalogue page's own cursor ("" for the first page).
	Cursor string
	Maker  bool
	Mine   listingPage
	// MineCursor is the page of the maker's own listings shown ("" for the newest 100): a
	// link's, or the stock form's that came from it.
	MineCursor string
}

// listings shows a marketplace co-op's shop: the listings members may order (a page at a
// time), and for a maker (an active worker) their own listings, with their stock, and
// the form of a new one.
func (a *App) listings(q *req) {
	a.showShop(q, http.StatusOK, nil, nil)
}

func (a *App) showShop(q *req, status int, errs, form map[string]string) {
	var d shopData
	d.Cursor = q.r.URL.Query().Get("cursor")
	path := "/v1/listings?limit=30"
	if d.Cursor != "" {
		path += "&cursor=" + url.QueryEscape(d.Cursor)
	}
	if !a.get(q, path, &d.Catalogue) {
		return
	}
	if d.Maker = q.member.Has("worker"); d.Maker {
		d.MineCursor = q.r.URL.Query().Get("mine")
		if q.r.Method == http.MethodPost {
			d.MineCursor = q.r.PostForm.Get("mine")
		}
		mine := fmt.Sprintf("/v1/listings?owner=%d&limit=100", q.member.ID)
		if d.MineCursor != "" {
			mine += "&cursor=" + url.QueryEscape(d.MineCursor)
		}
		if !a.get(q, mine, &d.Mine) {
			return
		}
	}
	a.render(q, status, "listings", "listings.title", page{Data: d, Errors: errs, Form: form, Flash: flashFrom(q), Nav: "listings"})
}

// createListing lists what a maker sells.
func (a *App) createListing(q *req) {
	f := q.r.PostForm
	form := map[string]string{"title": f.Get("title"), "description": f.Get("description"), "price": f.Get("price"), "stock": f.Get("stock")}
	errs := map[string]string{}
	cents, ok := parseCents(form["price"])
	switch {
	case !ok:
		errs["price"] = tr(q.lang, "pay.amountInvalid")
	case cents > policy.MaxFareCents: // the API's bound of a listing's price
		errs["price"] = fmt.Sprintf(tr(q.lang, "listings.priceInvalid"), money(q.lang, policy.MaxFareCents))
	}
	stock, err := strconv.ParseInt(strings.TrimSpace(form["stock"]), 10, 64)
	if err != nil || stock < 0 {
		errs["stock"] = tr(q.lang, "listings.stockInvalid")
	}
	if len(errs) == 0 {
		body := map[string]any{"title": form["title"], "description": form["description"], "priceCents": cents, "stock": stock}
		fld, msg, ok := a.create(q, "/v1/listings", body, "/app/listings?done=listed")
		if !ok {
			return
		}
		switch fld {
		case "priceCents":
			fld = "price"
		case "title", "description", "stock":
		default:
			fld = "form"
		}
		errs[fld] = msg
	}
	a.showShop(q, http.StatusBadRequest, errs, form)
}

// setStock sets how many of a listing are left, by its maker.
func (a *App) setStock(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	key := fmt.Sprintf("stock-%d", id)
	stock, err := strconv.ParseInt(strings.TrimSpace(q.r.PostForm.Get("stock")), 10, 64)
	if err != nil || stock < 0 {
		a.showShop(q, http.StatusBadRequest, map[string]string{key: tr(q.lang, "listings.stockInvalid")}, map[string]string{key: q.r.PostForm.Get("stock")})
		return
	}
	st, rb := a.call(q, http.MethodPut, fmt.Sprintf("/v1/listings/%d/stock", id), map[string]int64{"stock": stock}, nil)
	switch st {
	case http.StatusOK:
		back := "/app/listings?done=stock"
		if mine := q.r.PostForm.Get("mine"); mine != "" {
			back += "&mine=" + url.QueryEscape(mine) // the page of the listing changed
		}
		a.redirect(q, back)
	case http.StatusBadRequest:
		a.showShop(q, st, map[string]string{key: apiMessage(q.lang, q.zone, rb)}, map[string]string{key: q.r.PostForm.Get("stock")})
	default:
		a.failAPI(q, st, rb)
	}
}
