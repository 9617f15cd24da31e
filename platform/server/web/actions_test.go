package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/store/sessions"
)

// The worker's availability switch, decline (the offer moves to the next worker) and the
// customer's block and rating go through the API's rules.
func TestWorkerAndCustomerActions(t *testing.T) {
	c := newCoop(t)
	ana, _ := c.member("Ana Driver", "worker")
	bea, _ := c.member("Bea Driver", "worker")
	cust, custTok := c.member("Cy Rider", "customer")
	work := c.request(custTok, 1000) // offered to Ana

	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	p := s.do("POST", fmt.Sprintf("/app/work/%d/decline", work), url.Values{"csrf": {csrf}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("decline: %d", p.status)
	}
	w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", work), custTok, nil)
	if w["state"] != "offered" || int64(w["workerId"].(float64)) != bea {
		t.Fatalf("after Ana declined: %v", w)
	}
	if home := s.do("GET", "/app/home", nil); strings.Contains(home.body, fmt.Sprintf("/app/work/%d/accept", work)) {
		t.Fatal("the declined offer is still on Ana's page")
	}
	// The availability switch.
	if p := s.do("POST", "/app/availability", url.Values{"csrf": {csrf}, "available": {"false"}}); p.status != http.StatusSeeOther {
		t.Fatalf("availability: %d", p.status)
	}
	if m := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), adminToken, nil); m["available"] != false {
		t.Fatalf("Ana is still available: %v", m)
	}
	if home := s.do("GET", "/app/home", nil); !strings.Contains(home.body, "You are not available") {
		t.Fatal("the home page does not say Ana is not available")
	}

	// The customer blocks Bea after her work and rates it; a second rating is refused.
	cs := c.session(t)
	ccsrf := cs.signIn(c.code(cust))
	bs := c.session(t)
	bcsrf := bs.signIn(c.code(bea))
	for _, step := range []string{"accept", "start", "complete"} {
		if p := bs.do("POST", fmt.Sprintf("/app/work/%d/%s", work, step), url.Values{"csrf": {bcsrf}}); p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %.300s", step, p.status, p.body)
		}
	}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/rate", work), url.Values{"csrf": {ccsrf}, "stars": {"9"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "field-error") {
		t.Fatalf("9 stars: %d", p.status)
	}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/rate", work), url.Values{"csrf": {ccsrf}, "stars": {"4"}}); p.status != http.StatusSeeOther {
		t.Fatalf("rate: %d", p.status)
	}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/rate", work), url.Values{"csrf": {ccsrf}, "stars": {"5"}}); p.status != http.StatusConflict {
		t.Fatalf("second rating: %d", p.status)
	}
	// A block takes the box ticked: without it, nothing is blocked and the page says so.
	blocks := func() string {
		return fmt.Sprint(c.must(http.StatusOK, "GET", "/v1/blocks", custTok, nil)["workerIds"])
	}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/block", work), url.Values{"csrf": {ccsrf}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="block-error">Tick the box first`) || blocks() != "[]" {
		t.Fatalf("a block without its box ticked: %d %s", p.status, p.body)
	}
	// The block goes to the work's worker, whatever member id a forged form names (Ana).
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/block", work), url.Values{"csrf": {ccsrf}, "confirm": {"yes"}, "workerId": {fmt.Sprint(ana)}}); p.status != http.StatusSeeOther {
		t.Fatalf("block: %d", p.status)
	}
	if p := cs.do("GET", fmt.Sprintf("/app/work/%d", work), nil); !strings.Contains(p.body, `id="blocked"`) || !strings.Contains(p.body, `id="unblock"`) ||
		blocks() != fmt.Sprintf("[%d]", bea) {
		t.Fatalf("the page of the blocked worker's work: %s", p.body)
	}
	// Blocked, Bea is not offered Cy's next request (nobody is: Ana is unavailable).
	next := c.must(http.StatusCreated, "POST", "/v1/work", custTok, map[string]any{"kind": "ride", "priceCents": 900,
		"details": map[string]string{"pickup": "A", "dropoff": "B"}})
	c.must(http.StatusConflict, "POST", fmt.Sprintf("/v1/work/%v/match", next["id"]), custTok, nil)
	// Ana, named by the forged form, is not blocked: available again, she is offered it.
	if p := s.do("POST", "/app/availability", url.Values{"csrf": {csrf}, "available": {"true"}}); p.status != http.StatusSeeOther {
		t.Fatalf("availability: %d", p.status)
	}
	o := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%v/match", next["id"]), custTok, nil)
	if o["workerId"] != float64(ana) {
		t.Fatalf("Cy's next request went to %v, want Ana (not blocked)", o["workerId"])
	}
	// The block is lifted from the same page.
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/unblock", work), url.Values{"csrf": {ccsrf}}); p.status != http.StatusSeeOther || blocks() != "[]" {
		t.Fatalf("unblock: %d, blocks %s", p.status, blocks())
	}
	if p := cs.do("GET", fmt.Sprintf("/app/work/%d", work), nil); strings.Contains(p.body, `id="blocked"`) || !strings.Contains(p.body, `id="block-confirm"`) {
		t.Fatalf("the page once the block is lifted: %s", p.body)
	}
	// A body over the form's limit is 413 with a page that says so, not a CSRF refusal.
	big := url.Values{"csrf": {ccsrf}, "stars": {strings.Repeat("x", 70<<10)}}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/rate", work), big); p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "too large") {
		t.Fatalf("a body of 70 KiB: %d", p.status)
	}
}

// Under the delegate model a member gives their vote to another and takes it back; the
// page says whom they delegated to, and offers to take it back only then.
func TestDelegation(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"one-member-one-vote"`, `"delegate"`, 1))
	ana, _ := c.member("Ana Driver", "worker")
	bea, _ := c.member("Bea Driver", "worker")
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	if p := s.do("GET", "/app/governance", nil); !strings.Contains(p.body, `action="/app/delegation"`) || !strings.Contains(p.body, `id="delegated">You vote yourself`) ||
		strings.Contains(p.body, `id="undelegate"`) {
		t.Fatalf("the delegation before Ana delegates: %s", p.body)
	}
	if p := s.do("POST", "/app/delegation", url.Values{"csrf": {csrf}, "delegateId": {fmt.Sprint(bea)}}); p.status != http.StatusSeeOther {
		t.Fatalf("delegate: %d %.300s", p.status, p.body)
	}
	var n int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM delegations WHERE member_id = $1 AND delegate_id = $2`, ana, bea).Scan(&n); err != nil || n != 1 {
		t.Fatalf("delegation not recorded: %d %v", n, err)
	}
	// The page says to whom, and offers to take it back.
	if p := s.do("GET", "/app/governance", nil); !strings.Contains(p.body, fmt.Sprintf(`id="delegated">You delegated your vote to member no. %d`, bea)) ||
		!strings.Contains(p.body, `id="undelegate"`) {
		t.Fatalf("the delegation once Ana delegated: %s", p.body)
	}
	if p := s.do("POST", "/app/delegation", url.Values{"csrf": {csrf}, "delegateId": {fmt.Sprint(ana)}}); p.status < 400 {
		t.Fatalf("delegating to oneself: %d", p.status)
	}
	if p := s.do("POST", "/app/delegation/remove", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("take back: %d", p.status)
	}
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM delegations WHERE member_id = $1`, ana).Scan(&n); err != nil || n != 0 {
		t.Fatalf("delegation not taken back: %d %v", n, err)
	}
}

// The request form follows the co-op's vertical: home services ask for an address, a
// service and a date and time (sent to the API in RFC 3339, UTC).
func TestRequestFormFollowsTheVertical(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"ride-sharing"`, `"home-services"`, 1))
	cust, custTok := c.member("Cy Client", "customer")
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	form := s.do("GET", "/app/request", nil).body
	for _, want := range []string{`name="details.address"`, `name="details.service"`, `name="details.scheduledAt" type="datetime-local"`, `name="details.notes"`, `id="price"`} {
		if !strings.Contains(form, want) {
			t.Errorf("the home-services form lacks %s", want)
		}
	}
	if strings.Contains(form, "details.pickup") {
		t.Error("the home-services form asks for a pick-up")
	}
	p := s.do("POST", "/app/request", url.Values{"csrf": {csrf}, "kind": {"booking"}, "details.address": {"3 rue Mercière"},
		"details.service": {"plumbing"}, "details.scheduledAt": {"2026-12-03T14:30"}, "price": {"45"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/app/work/") {
		t.Fatalf("request: %d %q %.400s", p.status, p.header.Get("Location"), p.body)
	}
	var id int64
	if _, err := fmt.Sscanf(p.header.Get("Location"), "/app/work/%d", &id); err != nil {
		t.Fatal(err)
	}
	w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", id), custTok, nil)
	d := w["details"].(map[string]any)
	if d["scheduledAt"] != "2026-12-03T14:30:00Z" || d["address"] != "3 rue Mercière" || w["priceCents"] != float64(4500) {
		t.Fatalf("the request as recorded: %v", w)
	}
	// A missing required field is refused next to it, in French for a French browser.
	p = s.do("POST", "/app/request", url.Values{"csrf": {csrf}, "kind": {"booking"}, "details.address": {"x"},
		"details.scheduledAt": {"2026-12-03T14:30"}, "price": {"45"}}, "Accept-Language", "fr")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="f-service-error">Ce champ est obligatoire.`) {
		t.Fatalf("missing service: %d %s", p.status, p.body[strings.Index(p.body, "<main"):])
	}
}

// A distance that is not a number is refused next to its field, "NaN" included (which Go's
// float parser reads), and nothing is requested.
func TestRequestFormRefusesADistanceThatIsNoNumber(t *testing.T) {
	withFares := strings.TrimSuffix(strings.TrimSpace(testPolicy), "}") + `,"fares":{"baseCents":250,"perKmCents":120,"perMinuteCents":30,"minimumCents":700}}`
	c := newCoopWith(t, withFares)
	cust, _ := c.member("Cy Rider", "customer")
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	for _, km := range []string{"NaN", "Inf", "-1", "douze"} {
		p := s.do("POST", "/app/request", url.Values{"csrf": {csrf}, "kind": {"ride"}, "details.pickup": {"A"}, "details.dropoff": {"B"}, "distanceKm": {km}})
		// The form's own check answers, before any request reaches the API.
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="distanceKm-error">Type a number.</span>`) {
			t.Errorf("distance %q: %d %s", km, p.status, p.body[strings.Index(p.body, "<main"):])
		}
	}
	var n int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM work_items`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("work requested: %d %v", n, err)
	}
}

// hiddenInput is the value of the hidden input name of a page, "" when it has none.
func hiddenInput(body, name string) string {
	m := regexp.MustCompile(`<input type="hidden" name="` + regexp.QuoteMeta(name) + `" value="([^"]*)">`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// confirm sets on form what the quote of a request form's page (body) carries, as a click
// on its confirm button sends it.
func confirm(form url.Values, body string) {
	for _, name := range []string{"quotedPriceCents", "quotedSurgeCents", "quotedFor"} {
		form.Set(name, hiddenInput(body, name))
	}
}

// TestRequestFormQuotesThePriceFirst: under a fare rule the member sees the price before
// anything is requested, and requests at that price. A price that moved meanwhile (a
// surge window opened) is not charged: the form says so and shows the price now, and
// nothing is requested until the member confirms it; measures changed after the quote are
// quoted again; a request refused for an address left out keeps the price seen. The rule's
// zones and packages are asked for, and priced.
func TestRequestFormQuotesThePriceFirst(t *testing.T) {
	fares := `,"fares":{"baseCents":250,"perKmCents":100,"perPackageCents":50,` +
		`"zones":[{"name":"presqu-ile","baseCents":400}],"surge":[{"days":["tue"],"from":"10:00","to":"23:59","percent":50}]}}`
	c := newCoopWith(t, strings.TrimSuffix(strings.TrimSpace(testPolicy), "}")+fares)
	cust, _ := c.member("Cy Rider", "customer")
	c.member("Ana Driver", "worker")
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	requested := func() int {
		var n int
		if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM work_items`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	form := s.do("GET", "/app/request?kind=ride", nil).body
	if !strings.Contains(form, `id="packages"`) || !strings.Contains(form, `<option value="presqu-ile">presqu-ile</option>`) || !strings.Contains(form, ">See the price</button>") {
		t.Fatalf("the form under a rule of zones and packages: %s", form)
	}

	ride := url.Values{"csrf": {csrf}, "kind": {"ride"}, "details.pickup": {"Vieux Lyon"}, "details.dropoff": {"Croix-Rousse"}, "distanceKm": {"4"}, "packages": {"3"}}
	p := s.do("POST", "/app/request", ride)
	// 250 + 4 km at 100 + 2 packages beyond the first at 50.
	if p.status != http.StatusOK || !strings.Contains(p.body, `<strong id="quote-price">7.50</strong>`) || !strings.Contains(p.body, ">Request at 7.50</button>") || requested() != 0 {
		t.Fatalf("the quote: %d %s (%d requested)", p.status, p.body, requested())
	}
	confirm(ride, p.body)

	// Measures changed after the quote: quoted again, nothing requested.
	moved := maps.Clone(ride)
	moved.Set("zone", "presqu-ile")
	if p := s.do("POST", "/app/request", moved); p.status != http.StatusOK || !strings.Contains(p.body, `<strong id="quote-price">9.00</strong>`) || requested() != 0 {
		t.Fatalf("a quote whose measures changed: %d %s (%d requested)", p.status, p.body, requested())
	}

	// A surge window opens before the member confirms: nothing is charged at the new price
	// without their seeing it.
	c.clock.Step(90 * time.Minute) // 10:30, in the window
	p = s.do("POST", "/app/request", ride)
	if p.status != http.StatusConflict || !strings.Contains(p.body, `id="quote-changed"`) || !strings.Contains(p.body, `<strong id="quote-price">11.25</strong>`) ||
		!strings.Contains(p.body, `<span id="quote-surge">(of which 3.75 surge`) || requested() != 0 {
		t.Fatalf("the price moved: %d %s (%d requested)", p.status, p.body, requested())
	}
	confirm(ride, p.body)

	// Refused for an address left out: the price seen stands, and the form sent again
	// with it requests at that price.
	noPickup := maps.Clone(ride)
	noPickup.Set("details.pickup", "")
	if p := s.do("POST", "/app/request", noPickup); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="f-pickup-error"`) ||
		hiddenInput(p.body, "quotedPriceCents") != "1125" || requested() != 0 {
		t.Fatalf("a confirmed request without its pick-up: %d %s", p.status, p.body)
	}
	if p := s.do("POST", "/app/request", ride); p.status != http.StatusSeeOther {
		t.Fatalf("the confirmed request: %d %s", p.status, p.body)
	}
	var price, surge int64
	if err := c.owner.QueryRow(t.Context(), `SELECT price_cents, surge_cents FROM work_items`).Scan(&price, &surge); err != nil || price != 1125 || surge != 375 {
		t.Fatalf("requested at %d cents (surge %d), %v; want the 1125 (375) confirmed", price, surge, err)
	}
}

// TestRequestFormFollowsTheRuleInForce: the request form asks for what the API takes. In a
// co-op without a fare rule, a price; once the members voted one (the policy file still
// has none), the measures the rule prices, and the request is priced by it. Where workers
// set their own price, a price even under a fare rule (its floor).
func TestRequestFormFollowsTheRuleInForce(t *testing.T) {
	c := newCoop(t)
	cust, _ := c.member("Cy Rider", "customer")
	_, workerTok := c.member("Ana Driver", "worker")
	s := c.session(t)
	s.signIn(c.code(cust))
	if p := s.do("GET", "/app/request?kind=ride", nil); !strings.Contains(p.body, `id="price"`) || strings.Contains(p.body, `id="distanceKm"`) {
		t.Fatalf("without a fare rule the form does not ask for a price: %s", p.body)
	}
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", workerTok, map[string]any{"title": "Fares", "field": "fares",
		"value": map[string]any{"baseCents": 500, "perKmCents": 200}})["id"].(float64))
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), workerTok, map[string]any{"choice": "yes"})
	c.clock.Step(8 * 24 * time.Hour)
	c.must(http.StatusOK, "GET", "/v1/proposals", workerTok, nil) // closes it at its deadline; the platform applies a fare rule itself
	s = c.session(t)                                              // a week later: signed in again
	csrf := s.signIn(c.code(cust))
	// A new fare proposal starts from the rule the members voted, not the policy file's
	// (which has none): changing one rate does not put the others back.
	if p := s.do("GET", "/app/proposals/new?field=fares", nil); !strings.Contains(p.body, `name="fare.baseCents" inputmode="decimal" value="5.00"`) || !strings.Contains(p.body, `name="fare.perKmCents" inputmode="decimal" value="2.00"`) {
		t.Fatalf("the fare proposal's form under the voted rule: %s", p.body)
	}
	if p := s.do("GET", "/app/proposals/new?field=fares&as=json", nil); !strings.Contains(p.body, `&#34;baseCents&#34;:500`) || !strings.Contains(p.body, `&#34;perKmCents&#34;:200`) {
		t.Fatalf("the fare proposal's JSON under the voted rule: %s", p.body)
	}
	p := s.do("GET", "/app/request?kind=ride", nil)
	if strings.Contains(p.body, `id="price"`) || !strings.Contains(p.body, `id="distanceKm"`) {
		t.Fatalf("under the voted fare rule the form does not ask for the measures: %s", p.body)
	}
	ride := url.Values{"csrf": {csrf}, "kind": {"ride"}, "details.pickup": {"A"}, "details.dropoff": {"B"}, "distanceKm": {"5"}}
	if p := s.do("POST", "/app/request", ride); p.status != http.StatusOK || !strings.Contains(p.body, `<strong id="quote-price">15.00</strong>`) {
		t.Fatalf("quote under the voted rule: %d %s", p.status, p.body)
	} else {
		confirm(ride, p.body)
	}
	if p := s.do("POST", "/app/request", ride); p.status != http.StatusSeeOther {
		t.Fatalf("request under the voted rule: %d %s", p.status, p.body)
	}
	var price int64
	if err := c.owner.QueryRow(t.Context(), `SELECT price_cents FROM work_items ORDER BY id DESC LIMIT 1`).Scan(&price); err != nil || price != 500+200*5 {
		t.Fatalf("the request was priced %d (%v), want 1500 by the voted rule", price, err)
	}

	home := strings.Replace(strings.TrimSuffix(strings.TrimSpace(testPolicy), "}")+`,"fares":{"baseCents":0,"floorCents":3000}}`, `"vertical":"ride-sharing"`, `"vertical":"home-services"`, 1)
	hc := newCoopWith(t, home)
	hcust, _ := hc.member("Hu Home", "customer")
	hs := hc.session(t)
	hs.signIn(hc.code(hcust))
	if p := hs.do("GET", "/app/request?kind=booking", nil); !strings.Contains(p.body, `id="price"`) {
		t.Fatalf("where workers set their price the form does not ask for it: %s", p.body)
	}

	// A marketplace order is priced by its listing: the form asks for no price, and the
	// order goes through.
	market := strings.Replace(strings.TrimSuffix(strings.TrimSpace(testPolicy), "}")+`,"fares":{"baseCents":0,"floorCents":500}}`, `"vertical":"ride-sharing"`, `"vertical":"marketplace"`, 1)
	mc := newCoopWith(t, market)
	buyer, _ := mc.member("Bea Buyer", "customer")
	makerTok := mc.must(http.StatusCreated, "POST", "/v1/members", adminToken, map[string]any{"name": "Mia Maker", "email": "mia@example.org", "roles": []string{"worker"}})["token"].(string)
	lid := int64(mc.must(http.StatusCreated, "POST", "/v1/listings", makerTok, map[string]any{"title": "Stoneware bowl", "priceCents": 2500, "stock": 3})["id"].(float64))
	ms := mc.session(t)
	mcsrf := ms.signIn(mc.code(buyer))
	if p := ms.do("GET", "/app/request?kind=order", nil); strings.Contains(p.body, `id="price"`) || strings.Contains(p.body, `id="distanceKm"`) {
		t.Fatalf("the order form asks for a price or measures: %s", p.body)
	}
	if p := ms.do("POST", "/app/request", url.Values{"csrf": {mcsrf}, "kind": {"order"}, "details.listingId": {fmt.Sprint(lid)},
		"details.shippingAddress": {"2 quai Saint-Antoine"}, "details.quantity": {"2"}}); p.status != http.StatusSeeOther {
		t.Fatalf("an order through the form: %d %s", p.status, p.body)
	}
	if err := mc.owner.QueryRow(t.Context(), `SELECT price_cents FROM work_items ORDER BY id DESC LIMIT 1`).Scan(&price); err != nil || price != 5000 {
		t.Fatalf("the order was priced %d (%v), want 5000 by its listing", price, err)
	}
}

// Urgent care is offered to several carers at once and names none of them as its worker
// until one accepts: each sees the offer on their home page and can accept it from there
// or from its page; once one has, the others no longer see it. Before, the app listed only
// work that named the member as its worker, and showed Accept only to that worker.
func TestUrgentOffersReachEveryCarerOfferedIt(t *testing.T) {
	doc := strings.Replace(testPolicy, `"ride-sharing"`, `"care"`, 1)
	doc = strings.TrimSuffix(strings.TrimSpace(doc), "}") + `,"work":{"urgentFanOut":2}}`
	c := newCoopWith(t, doc)
	_, clientTok := c.member("Cleo Client", "customer")
	carer := func(name string) int64 {
		m := c.must(http.StatusCreated, "POST", "/v1/members", adminToken, map[string]any{"name": name,
			"email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", "roles": []string{"worker"}, "qualifications": []string{"booking"}})
		id := int64(m["member"].(map[string]any)["id"].(float64))
		c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/availability", id), m["token"].(string), map[string]any{"available": true})
		c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", id), adminToken, map[string]any{"skills": []string{"emergency backup"},
			"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-01", "expiresAt": "2027-11-01T00:00:00Z"}})
		return id
	}
	ana, bea := carer("Ana Carer"), carer("Bea Carer")
	w := c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "urgent": true, "priceCents": 4000,
		"details": map[string]string{"address": "3 rue Mercière", "careType": "emergency backup", "scheduledAt": "2026-12-10T10:00:00Z", "durationMinutes": "120"}})
	id := int64(w["id"].(float64))
	if o := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), clientTok, nil); len(o["workerIds"].([]any)) != 2 {
		t.Fatalf("urgent offer %v", o)
	}

	sa, sb := c.session(t), c.session(t)
	csrfA := sa.signIn(c.code(ana))
	sb.signIn(c.code(bea))
	accept := fmt.Sprintf(`id="accept-%d"`, id)
	for name, s := range map[string]*session{"Ana": sa, "Bea": sb} {
		if p := s.do("GET", "/app/home", nil); !strings.Contains(p.body, accept) {
			t.Errorf("%s's home does not offer the urgent work", name)
		}
		if p := s.do("GET", fmt.Sprintf("/app/work/%d", id), nil); !strings.Contains(p.body, fmt.Sprintf(`action="/app/work/%d/accept"`, id)) {
			t.Errorf("%s's page of the urgent work has no Accept", name)
		}
	}
	if p := sa.do("POST", fmt.Sprintf("/app/work/%d/accept", id), url.Values{"csrf": {csrfA}}); p.status != http.StatusSeeOther {
		t.Fatalf("Ana accepting: %d %.300s", p.status, p.body)
	}
	got := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", id), clientTok, nil)
	if got["state"] != "accepted" || got["workerId"] != float64(ana) {
		t.Fatalf("after Ana accepted: %v", got)
	}
	if p := sb.do("GET", "/app/home", nil); strings.Contains(p.body, accept) {
		t.Error("Bea is still offered the work Ana took")
	}
	if p := sb.do("GET", fmt.Sprintf("/app/work/%d", id), nil); strings.Contains(p.body, fmt.Sprintf(`action="/app/work/%d/accept"`, id)) {
		t.Error("Bea's page still offers to accept the work Ana took")
	}
}

// A carer offered more work than the home page shows (50 offers, the feed's oldest first)
// is told so, with a link to the next ones, where the rest can be accepted; the page of
// an urgent work offered after the first 50 still has its Accept. Before, the home page
// showed the first 50 and nothing said that more were waiting.
func TestOffersBeyondTheHomePage(t *testing.T) {
	doc := strings.Replace(testPolicy, `"ride-sharing"`, `"care"`, 1)
	doc = strings.TrimSuffix(strings.TrimSpace(doc), "}") + `,"work":{"urgentFanOut":2}}`
	c := newCoopWith(t, doc)
	_, clientTok := c.member("Cleo Client", "customer")
	m := c.must(http.StatusCreated, "POST", "/v1/members", adminToken, map[string]any{"name": "Ana Carer",
		"email": "ana.carer@example.org", "roles": []string{"worker"}, "qualifications": []string{"booking"}})
	ana := int64(m["member"].(map[string]any)["id"].(float64))
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/availability", ana), m["token"].(string), map[string]any{"available": true})
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", ana), adminToken, map[string]any{"skills": []string{"emergency backup"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-01", "expiresAt": "2027-11-01T00:00:00Z"}})
	// Urgent care on as many days: each offered to Ana, none naming her as its worker.
	var ids []int64
	offer := func(n int) {
		for range n {
			day := time.Date(2026, 12, 10, 10, 0, 0, 0, time.UTC).AddDate(0, 0, len(ids))
			w := c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "urgent": true, "priceCents": 4000,
				"details": map[string]string{"address": "3 rue Mercière", "careType": "emergency backup", "scheduledAt": day.Format(time.RFC3339), "durationMinutes": "120"}})
			id := int64(w["id"].(float64))
			if o := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), clientTok, nil); len(o["workerIds"].([]any)) != 1 {
				t.Fatalf("urgent offer %v", o)
			}
			ids = append(ids, id)
		}
	}
	accepts := func(p answer, want []int64) {
		t.Helper()
		var missing []int64
		for _, id := range want {
			if !strings.Contains(p.body, fmt.Sprintf(`id="accept-%d"`, id)) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("no Accept for work %v", missing)
		}
		if n := strings.Count(p.body, `id="accept-`); n != len(want) {
			t.Errorf("%d offers shown, want %d", n, len(want))
		}
	}
	next := regexp.MustCompile(`<p><a href="(/app/offers\?cursor=[^"]+)">`)
	s := c.session(t)
	s.signIn(c.code(ana))

	offer(50)
	home := s.do("GET", "/app/home", nil)
	accepts(home, ids)
	if strings.Contains(home.body, `id="more-offers"`) || next.MatchString(home.body) {
		t.Error("the home page says more offers wait when all 50 are shown")
	}

	offer(5)
	home = s.do("GET", "/app/home", nil)
	accepts(home, ids[:50])
	if !strings.Contains(home.body, "More offers are waiting for you: these are the 50 that have waited longest.") {
		t.Error("the home page does not say that more offers wait")
	}
	link := next.FindStringSubmatch(home.body)
	if link == nil {
		t.Fatal("the home page has no link to the next offers")
	}
	rest := s.do("GET", html.UnescapeString(link[1]), nil)
	if rest.status != http.StatusOK {
		t.Fatalf("the next offers: %d", rest.status)
	}
	accepts(rest, ids[50:])
	if strings.Contains(rest.body, `id="more-offers"`) || next.MatchString(rest.body) {
		t.Error("the last page of offers says more wait")
	}
	last := ids[len(ids)-1]
	if p := s.do("GET", fmt.Sprintf("/app/work/%d", last), nil); !strings.Contains(p.body, fmt.Sprintf(`action="/app/work/%d/accept"`, last)) {
		t.Errorf("the page of the 55th offer has no Accept")
	}
	if p := s.do("POST", fmt.Sprintf("/app/work/%d/accept", last), url.Values{"csrf": {rest.csrf(t)}}); p.status != http.StatusSeeOther {
		t.Fatalf("accepting the 55th offer: %d %.300s", p.status, p.body)
	}
	if p := s.do("GET", "/app/offers?cursor=forged", nil); p.status != http.StatusBadRequest {
		t.Errorf("a cursor the API never returned: %d, want 400", p.status)
	}
}

// A member with more work than the home page shows (their 50 most recent items) is told
// so, with a link to the older ones, which /app/work lists 50 a page, newest first;
// another member sees none of it. Before, the home page showed the 50 most recent and
// nothing said that older work existed.
func TestWorkBeyondTheHomePage(t *testing.T) {
	c := newCoop(t)
	cy, cyTok := c.member("Cy Rider", "customer")
	di, diTok := c.member("Di Rider", "customer")
	var ids []int64 // Cy's requests, oldest first
	request := func(n int) {
		for range n {
			w := c.must(http.StatusCreated, "POST", "/v1/work", cyTok, map[string]any{"kind": "ride", "priceCents": 1000 + len(ids),
				"details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"}})
			ids = append(ids, int64(w["id"].(float64)))
		}
	}
	diWork := int64(c.must(http.StatusCreated, "POST", "/v1/work", diTok, map[string]any{"kind": "ride", "priceCents": 700,
		"details": map[string]string{"pickup": "Perrache", "dropoff": "Vaise"}})["id"].(float64))
	links := regexp.MustCompile(`href="/app/work/(\d+)"`)
	shown := func(p answer) []int64 {
		t.Helper()
		if p.status != http.StatusOK {
			t.Fatalf("page answered %d", p.status)
		}
		var out []int64
		for _, m := range links.FindAllStringSubmatch(p.body, -1) {
			id, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	newestFirst := func(xs []int64) []int64 {
		out := make([]int64, len(xs))
		for i, x := range xs {
			out[len(xs)-1-i] = x
		}
		return out
	}
	older := regexp.MustCompile(`href="(/app/work\?before=\d+)"`)
	s := c.session(t)
	s.signIn(c.code(cy))

	request(50)
	home := s.do("GET", "/app/home", nil)
	if got := shown(home); fmt.Sprint(got) != fmt.Sprint(newestFirst(ids)) {
		t.Fatalf("the home page lists %v, want Cy's 50 requests newest first", got)
	}
	if strings.Contains(home.body, `id="more-work"`) || older.MatchString(home.body) {
		t.Error("the home page says older work exists when all 50 items are shown")
	}

	request(5)
	home = s.do("GET", "/app/home", nil)
	if got := shown(home); fmt.Sprint(got) != fmt.Sprint(newestFirst(ids[5:])) {
		t.Fatalf("the home page lists %v, want the 50 most recent newest first", got)
	}
	if !strings.Contains(home.body, "You have more work than this page shows: these are your 50 most recent items.") {
		t.Error("the home page does not say that older work exists")
	}
	link := older.FindStringSubmatch(home.body)
	if link == nil {
		t.Fatal("the home page has no link to the older work")
	}
	rest := s.do("GET", link[1], nil)
	if got := shown(rest); fmt.Sprint(got) != fmt.Sprint(newestFirst(ids[:5])) {
		t.Fatalf("the older work lists %v, want %v", got, newestFirst(ids[:5]))
	}
	if strings.Contains(rest.body, `id="more-work"`) || older.MatchString(rest.body) {
		t.Error("the last page of work says more is older")
	}
	// The whole list, from the newest, 50 a page.
	all := s.do("GET", "/app/work", nil)
	if got := shown(all); fmt.Sprint(got) != fmt.Sprint(newestFirst(ids[5:])) || !older.MatchString(all.body) {
		t.Fatalf("/app/work lists %v", got)
	}
	for _, bad := range []string{"/app/work?before=abc", "/app/work?before=0", "/app/work?before=-3"} {
		if p := s.do("GET", bad, nil); p.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, p.status)
		}
	}

	// Another member sees only her own work, on every page of it.
	ds := c.session(t)
	ds.signIn(c.code(di))
	for _, path := range []string{"/app/home", "/app/work", fmt.Sprintf("/app/work?before=%d", ids[len(ids)-1]+100), link[1]} {
		p := ds.do("GET", path, nil)
		if got := shown(p); len(got) > 1 || (len(got) == 1 && got[0] != diWork) || strings.Contains(p.body, "Bellecour") {
			t.Errorf("Di's %s lists %v", path, got)
		}
	}
}

// The page of urgent work (which names no worker) offered to a carer who holds more
// offers than the feed's ten pages of 100 still has its Accept: the page reads the
// carer's own offer of that work, not the feed. Another carer, never offered it, gets 404.
// Before, the page looked for the offer in the first 1,000 of the feed and showed no
// Accept beyond them.
func TestOfferFoundBeyondAThousandOffers(t *testing.T) {
	doc := strings.Replace(testPolicy, `"ride-sharing"`, `"care"`, 1)
	doc = strings.TrimSuffix(strings.TrimSpace(doc), "}") + `,"work":{"urgentFanOut":2}}`
	c := newCoopWith(t, doc)
	client, clientTok := c.member("Cleo Client", "customer")
	carer := func(name string) int64 {
		m := c.must(http.StatusCreated, "POST", "/v1/members", adminToken, map[string]any{"name": name,
			"email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", "roles": []string{"worker"}, "qualifications": []string{"booking"}})
		return int64(m["member"].(map[string]any)["id"].(float64))
	}
	ana, bea := carer("Ana Carer"), carer("Bea Carer")
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", ana), adminToken, map[string]any{"skills": []string{"emergency backup"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-01", "expiresAt": "2027-11-01T00:00:00Z"}})
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/availability", ana), adminToken, map[string]any{"available": true})
	// 1,000 standing offers of urgent work on demand to Ana, older than the one under test.
	if _, err := c.owner.Exec(t.Context(), `WITH w AS (
			INSERT INTO work_items (vertical, kind, customer_id, state, details, price_cents, urgent)
			SELECT 'care', 'booking', $1, 'offered', '{"address": "3 rue Mercière", "careType": "emergency backup"}', 4000, true
			FROM generate_series(1, 1000) RETURNING id)
		INSERT INTO offers (work_id, worker_id, reason) SELECT id, $2, 'urgent: offered to 1 workers at once' FROM w`, client, ana); err != nil {
		t.Fatal(err)
	}
	w := c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "urgent": true, "priceCents": 4000,
		"details": map[string]string{"address": "3 rue Mercière", "careType": "emergency backup", "scheduledAt": "2026-12-10T10:00:00Z", "durationMinutes": "120"}})
	id := int64(w["id"].(float64))
	if o := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), clientTok, nil); fmt.Sprint(o["workerIds"]) != fmt.Sprintf("[%d]", ana) {
		t.Fatalf("urgent offer %v", o)
	}

	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	accept := fmt.Sprintf(`action="/app/work/%d/accept"`, id)
	if p := s.do("GET", fmt.Sprintf("/app/work/%d", id), nil); p.status != http.StatusOK || !strings.Contains(p.body, accept) {
		t.Fatalf("the page of Ana's 1,001st offer: %d, Accept shown: %v", p.status, strings.Contains(p.body, accept))
	}
	bs := c.session(t)
	bs.signIn(c.code(bea))
	if p := bs.do("GET", fmt.Sprintf("/app/work/%d", id), nil); p.status != http.StatusNotFound || strings.Contains(p.body, accept) {
		t.Fatalf("the page of work Bea was never offered: %d", p.status)
	}
	if p := s.do("POST", fmt.Sprintf("/app/work/%d/accept", id), url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("accepting the 1,001st offer: %d %.300s", p.status, p.body)
	}
	if p := s.do("GET", fmt.Sprintf("/app/work/%d", id), nil); strings.Contains(p.body, accept) {
		t.Error("the page still offers to accept work Ana took")
	}
}

// An offer past its time is gone from its worker's home page and offers page at once, and
// reading them writes nothing (the offer's row and its work stay as they were); accepting
// it is refused (409), which moves the work on to the next worker; its page says the
// offer expired and has no Accept. Before, every read of the offer feed moved on every
// due offer of the co-op.
func TestExpiredOfferOnThePages(t *testing.T) {
	c := newCoop(t)
	ana, _ := c.member("Ana Driver", "worker")
	bea, _ := c.member("Bea Driver", "worker")
	_, custTok := c.member("Cy Rider", "customer")
	work := c.request(custTok, 1000) // offered to Ana, for the default 300 seconds
	rows := func() string {
		t.Helper()
		var s string
		if err := c.owner.QueryRow(t.Context(), `SELECT concat_ws(' | ',
				(SELECT string_agg(concat_ws(',', id, worker_id, status, expires_at), ';' ORDER BY id) FROM offers WHERE work_id = $1),
				(SELECT concat_ws(',', state, worker_id, updated_at) FROM work_items WHERE id = $1),
				(SELECT count(*) FROM work_history WHERE work_id = $1))`, work).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	acceptID := fmt.Sprintf(`id="accept-%d"`, work)
	if p := s.do("GET", "/app/home", nil); !strings.Contains(p.body, acceptID) {
		t.Fatal("Ana's home page does not offer her the work")
	}
	c.clock.Step(301 * time.Second)
	before := rows()
	if !strings.Contains(before, ",offered,") {
		t.Fatalf("the offer before the reads: %s", before)
	}
	for _, path := range []string{"/app/home", "/app/offers"} {
		if p := s.do("GET", path, nil); p.status != http.StatusOK || strings.Contains(p.body, acceptID) {
			t.Errorf("%s: %d, still offers the expired work: %v", path, p.status, strings.Contains(p.body, acceptID))
		}
	}
	// Her list of work holds what she requested or took, not work once offered to her.
	if p := s.do("GET", "/app/work", nil); p.status != http.StatusOK || strings.Contains(p.body, fmt.Sprintf(`href="/app/work/%d"`, work)) {
		t.Errorf("/app/work: %d, lists the work whose offer to her expired: %v", p.status, strings.Contains(p.body, fmt.Sprintf(`href="/app/work/%d"`, work)))
	}
	if after := rows(); after != before {
		t.Fatalf("reading the pages wrote:\n%s\n->\n%s", before, after)
	}
	if p := s.do("POST", fmt.Sprintf("/app/work/%d/accept", work), url.Values{"csrf": {csrf}}); p.status != http.StatusConflict || !strings.Contains(p.body, "Your offer expired: the work has gone to the next worker.") {
		t.Fatalf("accepting the expired offer: %d %.300s", p.status, p.body)
	}
	if after := rows(); !strings.Contains(after, fmt.Sprintf("%d,expired,", ana)) || !strings.Contains(after, fmt.Sprintf("%d,offered,", bea)) {
		t.Fatalf("after the refused accept: %s, want Ana's offer expired and Bea's standing", after)
	}
	p := s.do("GET", fmt.Sprintf("/app/work/%d", work), nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="offer-expired"`) || strings.Contains(p.body, fmt.Sprintf(`action="/app/work/%d/accept"`, work)) {
		t.Fatalf("the work's page for Ana: %d, says expired: %v", p.status, strings.Contains(p.body, `id="offer-expired"`))
	}
	// The offer ended: the work is not Ana's to read any more (the API answers her 404),
	// and the page shows nothing of it (its customer's addresses).
	if strings.Contains(p.body, "Bellecour") || strings.Contains(p.body, "Part-Dieu") {
		t.Fatalf("the work's page for Ana shows the work's details after her offer expired: %.600s", p.body)
	}
	bs := c.session(t)
	bs.signIn(c.code(bea))
	if p := bs.do("GET", "/app/home", nil); !strings.Contains(p.body, acceptID) {
		t.Error("Bea's home page does not offer her the work")
	}
}

// The worker a payment paid refunds it from its page, once they tick the box that says
// what a refund takes back (without it: 400 next to the box, and nothing is written); the
// page then says the worker refunded it and offers no second refund. Its payer's page has
// no refund form, and a payer's POST is refused by the API (400: the payer's refund is
// put to the members' vote with a reason), as the page's rule is only what it shows.
func TestWorkerRefundsFromThePaymentPage(t *testing.T) {
	c := newCoop(t)
	ana, _, cy, paid := c.paidRide()
	page := fmt.Sprintf("/app/payments/%d", paid)
	refunded := func() bool {
		t.Helper()
		return c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/payments/%d", paid), adminToken, nil)["refunded"] == true
	}

	cs := c.session(t)
	cyCSRF := cs.signIn(c.code(cy))
	if p := cs.do("GET", page, nil); p.status != http.StatusOK || strings.Contains(p.body, `id="refund"`) {
		t.Fatalf("the payer's page: %d, offers a refund: %v", p.status, strings.Contains(p.body, `id="refund"`))
	}
	// The payer's refund is the members' to vote on, with a reason the app's form does not
	// ask for: the API refuses it (400), and nothing is refunded.
	if p := cs.do("POST", page+"/refund", url.Values{"csrf": {cyCSRF}, "confirm": {"yes"}}); p.status != http.StatusBadRequest || refunded() {
		t.Fatalf("the payer's refund: %d, refunded: %v", p.status, refunded())
	}

	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	if p := s.do("GET", page, nil); !strings.Contains(p.body, `id="refund"`) {
		t.Fatal("the worker's page offers no refund")
	}
	if p := s.do("POST", page+"/refund", url.Values{"csrf": {csrf}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="confirm-error"`) || refunded() {
		t.Fatalf("a refund without the box ticked: %d, refunded: %v", p.status, refunded())
	}
	p := s.do("POST", page+"/refund", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != page+"?done=refund" || !refunded() {
		t.Fatalf("the refund: %d to %q, refunded: %v", p.status, p.header.Get("Location"), refunded())
	}
	p = s.do("GET", page+"?done=refund", nil)
	if !strings.Contains(p.body, "The payment is refunded.") || !strings.Contains(p.body, "refunded by the worker") || strings.Contains(p.body, `id="refund"`) {
		t.Fatalf("the page after the refund: %.1500s", p.body)
	}
	// The same form sent again (a second tab): 409, and the page says why.
	if p := s.do("POST", page+"/refund", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); p.status != http.StatusConflict || !strings.Contains(p.body, `id="confirm-error"`) || !strings.Contains(p.body, "already been refunded") {
		t.Fatalf("a second refund: %d %.1500s", p.status, p.body)
	}
}

// A member's data page lists the tokens that open their account, with who issued each,
// and revokes one they do not know: a token the admin token made for them stops working.
func TestTokensOnTheDataPage(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	staffs := c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/tokens", ana), adminToken, nil)
	staffTok, staffID := staffs["token"].(string), int64(staffs["id"].(float64))
	// Ana signs in with a code she issued with her own (the registration's) token: the
	// session ends with that token, and the page says so on its row.
	s := c.session(t)
	s.signIn(c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", ana), anaTok, nil)["code"].(string))
	p := s.do("GET", "/app/data", nil)
	if n := strings.Count(p.body, "issued by the co-op&#39;s staff"); p.status != http.StatusOK || n != 2 || !strings.Contains(p.body, fmt.Sprintf(`id="revoke-%d"`, staffID)) {
		t.Fatalf("the data page: %d, %d tokens issued by staff (want 2, the registration's and the one made since): %.2000s", p.status, n, p.body)
	}
	toks := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/tokens", ana), adminToken, nil)["tokens"].([]any)
	first := int64(toks[0].(map[string]any)["id"].(float64))
	if !regexp.MustCompile(fmt.Sprintf(`id="token-%d-what">[^<]*<strong id="token-current">`, first)).MatchString(p.body) || strings.Count(p.body, `id="token-current"`) != 1 {
		t.Fatalf("the page does not mark the token the session ends with (token %d): %.2000s", first, p.body)
	}
	// Another member cannot revoke Ana's token from their own page: the API's delete is
	// scoped to the member who asks (404), and the token still works.
	bo, _ := c.member("Bo Rider", "customer")
	bs := c.session(t)
	boCSRF := bs.signIn(c.code(bo))
	if r := bs.do("POST", fmt.Sprintf("/app/tokens/%d/revoke", staffID), url.Values{"csrf": {boCSRF}}); r.status != http.StatusNotFound {
		t.Fatalf("another member revoking Ana's token: %d", r.status)
	}
	c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), staffTok, nil)
	r := s.do("POST", fmt.Sprintf("/app/tokens/%d/revoke", staffID), url.Values{"csrf": {p.csrf(t)}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/data?done=revoke" {
		t.Fatalf("revoking: %d to %q", r.status, r.header.Get("Location"))
	}
	c.must(http.StatusUnauthorized, "GET", fmt.Sprintf("/v1/members/%d", ana), staffTok, nil)
	c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), anaTok, nil)
	if p := s.do("GET", "/app/data?done=revoke", nil); !strings.Contains(p.body, "The token is revoked.") || strings.Contains(p.body, fmt.Sprintf(`id="token-%d"`, staffID)) {
		t.Fatalf("the data page after the revocation: %.2000s", p.body)
	}
}

// A member claims their account from the data page, in a session opened with a code of
// the token staff issued them at registration: the page shows the key the claim gave,
// once; the session stays open (it now ends with that key); the tokens staff issued end,
// and so does a session another staff code opened; staff issue them no sign-in code any
// more; the page says the account is claimed, and its record lists each step with who.
// Signed out, the member signs in with the key in place of a code; a revoked token does
// not sign in.
func TestClaimFromTheDataPage(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	staffTok := c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/tokens", ana), adminToken, nil)["token"].(string)
	s := c.session(t)
	csrf := s.signIn(c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", ana), anaTok, nil)["code"].(string))
	other := c.session(t)
	other.signIn(c.code(ana))

	if h := s.do("GET", "/app/home", nil); !strings.Contains(h.body, `id="claim-prompt"`) {
		t.Fatalf("the home page of an unclaimed account does not say so: %.2000s", h.body)
	}
	p := s.do("GET", "/app/data", nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="unclaimed"`) || !strings.Contains(p.body, `id="claim"`) ||
		!strings.Contains(p.body, `<td>token issued</td><td>the co-op&#39;s staff</td>`) {
		t.Fatalf("the data page before the claim: %d %.3000s", p.status, p.body)
	}
	if r := s.do("POST", "/app/data/claim", url.Values{"csrf": {"forged"}}); r.status != http.StatusForbidden {
		t.Fatalf("a claim without the session's CSRF token: %d", r.status)
	}
	c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), staffTok, nil)
	// The session was opened with a code of the registration's token, which staff issued:
	// what Ana does in it reads so.
	registration := int64(c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/tokens", ana), anaTok, nil)["tokens"].([]any)[0].(map[string]any)["id"].(float64))
	fromStaffToken := fmt.Sprintf("you, in the app, in a session of token #%d, which the co-op&#39;s staff issued", registration)
	form := url.Values{"csrf": {csrf}, "session": {regexp.MustCompile(`name="session" value="(\d+)"`).FindStringSubmatch(p.body)[1]}}
	p = s.do("POST", "/app/data/claim", form)
	key := regexp.MustCompile(`<code id="new-key">(cpt_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(p.body)
	if p.status != http.StatusOK || key == nil || !strings.Contains(p.body, `id="claimed"`) || strings.Contains(p.body, `id="claim"`) ||
		!strings.Contains(p.body, "<td>account claimed</td><td>"+fromStaffToken+"</td>") || strings.Count(p.body, "<td>token revoked</td><td>"+fromStaffToken+"</td>") != 2 ||
		!regexp.MustCompile(`<td>sign-in code issued</td><td>you, with token #\d+, which the co-op&#39;s staff issued</td>`).MatchString(p.body) ||
		strings.Count(p.body, `id="token-current"`) != 1 || strings.Count(p.body, `<li id="token-`) != 1 {
		t.Fatalf("the data page the claim answers: %d %.4000s", p.status, p.body)
	}
	for _, tok := range []string{anaTok, staffTok} {
		c.must(http.StatusUnauthorized, "GET", fmt.Sprintf("/v1/members/%d", ana), tok, nil)
	}
	c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), key[1], nil)
	if r := other.do("GET", "/app/home", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/app/sign-in") {
		t.Fatalf("the session a staff code opened, after the claim: %d to %q", r.status, r.header.Get("Location"))
	}
	c.must(http.StatusForbidden, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", ana), adminToken, nil)
	if p := s.do("GET", "/app/data", nil); p.status != http.StatusOK || strings.Contains(p.body, "new-key") || !strings.Contains(p.body, `id="rekey"`) {
		t.Fatalf("the data page shown again: %d %.3000s", p.status, p.body)
	}
	if h := s.do("GET", "/app/home", nil); h.status != http.StatusOK || strings.Contains(h.body, `id="claim-prompt"`) {
		t.Fatalf("the home page of a claimed account: %d, still prompts: %v", h.status, strings.Contains(h.body, `id="claim-prompt"`))
	}
	// The same form sent again (a refresh): no second claim, the key shown stays good.
	if r := s.do("POST", "/app/data/claim", form); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/data?done=claimStale" {
		t.Fatalf("the claim form sent again: %d to %q", r.status, r.header.Get("Location"))
	}
	c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), key[1], nil)

	// Signed out, Ana signs in with her key; a revoked token signs in no one.
	s.do("POST", "/app/sign-out", url.Values{"csrf": {csrf}})
	withKey := c.session(t)
	withKey.signIn(key[1])
	revoked := c.session(t)
	signIn := revoked.do("GET", "/app/sign-in", nil)
	if r := revoked.do("POST", "/app/sign-in", url.Values{"csrf": {signIn.csrf(t)}, "code": {anaTok}}); r.status != http.StatusUnauthorized || !strings.Contains(r.body, `id="code-error"`) {
		t.Fatalf("signing in with a revoked token: %d %.1500s", r.status, r.body)
	}
	// The key's session ends with the key.
	keyID := int64(c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/tokens", ana), key[1], nil)["tokens"].([]any)[0].(map[string]any)["id"].(float64))
	c.must(http.StatusOK, "DELETE", fmt.Sprintf("/v1/members/%d/tokens/%d", ana, keyID), key[1], nil)
	if r := withKey.do("GET", "/app/home", nil); r.status != http.StatusSeeOther {
		t.Fatalf("the key's session after the key was revoked: %d", r.status)
	}
}

// The member who paid a payment puts its refund to the members' vote from its page, with
// why (without it: 400 next to the field, and no proposal is opened); the page then says
// the refund is put to the vote and offers no second request; the worker's page says so
// too. The proposal is the API's (its rules are TestRefundByVote's).
func TestPayerAsksForARefundFromThePaymentPage(t *testing.T) {
	c := newCoop(t)
	ana, anaTok, cy, paid := c.paidRide()
	page := fmt.Sprintf("/app/payments/%d", paid)
	proposals := func() int {
		t.Helper()
		return len(c.must(http.StatusOK, "GET", "/v1/proposals", anaTok, nil)["proposals"].([]any))
	}
	before := proposals()

	s := c.session(t)
	csrf := s.signIn(c.code(cy))
	if p := s.do("GET", page, nil); !strings.Contains(p.body, `id="ask-refund"`) || strings.Contains(p.body, `id="refund"`) {
		t.Fatalf("the payer's page: asks: %v, refunds: %v", strings.Contains(p.body, `id="ask-refund"`), strings.Contains(p.body, `id="refund"`))
	}
	if p := s.do("POST", page+"/ask-refund", url.Values{"csrf": {csrf}, "reason": {"  "}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `<span class="field-error" id="reason-error">Say why, in at most 1000 characters.</span>`) || proposals() != before {
		t.Fatalf("asking without a reason: %d, proposals %d -> %d", p.status, before, proposals())
	}
	p := s.do("POST", page+"/ask-refund", url.Values{"csrf": {csrf}, "reason": {"The driver took a long detour"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != page+"?done=askRefund" || proposals() != before+1 {
		t.Fatalf("asking: %d to %q, proposals %d -> %d", p.status, p.header.Get("Location"), before, proposals())
	}
	p = s.do("GET", page+"?done=askRefund", nil)
	if !strings.Contains(p.body, "Your request is put to the members&#39; vote.") || !strings.Contains(p.body, `id="refund-pending"`) || strings.Contains(p.body, `id="ask-refund"`) {
		t.Fatalf("the payer's page after asking: %.2000s", p.body)
	}
	ws := c.session(t)
	ws.signIn(c.code(ana))
	if p := ws.do("GET", page, nil); !strings.Contains(p.body, `id="refund-pending"`) || !strings.Contains(p.body, `id="refund"`) {
		t.Fatalf("the worker's page while the vote is open: %.2000s", p.body)
	}

	// Nobody votes: at its deadline the proposal fails, and the payer's page says the vote
	// turned the request down, naming the proposal, and offers to ask again.
	c.clock.Step(8 * 24 * time.Hour)
	rr := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/payments/%d/refund-requests", paid), anaTok, nil)["refundRequests"].([]any)[0].(map[string]any)
	if rr["status"] != "rejected" {
		t.Fatalf("the request after its deadline: %v", rr)
	}
	s = c.session(t)
	csrf = s.signIn(c.code(cy))
	p = s.do("GET", page, nil)
	outcome := fmt.Sprintf("The members&#39; vote turned down the last request for a refund of this payment (proposal %d, ", int64(rr["proposalId"].(float64)))
	if !strings.Contains(p.body, `id="refund-outcome"`) || !strings.Contains(p.body, outcome) || !strings.Contains(p.body, `id="ask-refund"`) || strings.Contains(p.body, `id="refund-pending"`) {
		t.Fatalf("the payer's page after the vote turned it down: %.2000s", p.body)
	}
	// A reason over the API's 1000 characters: its 400, in the member's words, next to the
	// field, and nothing opened.
	before = proposals()
	if p := s.do("POST", page+"/ask-refund", url.Values{"csrf": {csrf}, "reason": {strings.Repeat("é", 1001)}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `<span class="field-error" id="reason-error">Say why, in at most 1000 characters.</span>`) || proposals() != before {
		t.Fatalf("asking with a reason too long: %d, proposals %d -> %d: %.2000s", p.status, before, proposals(), p.body)
	}
}

// paidRide registers Ana (a worker) and Cy (a customer), and has Ana take a ride Cy asked
// for at 20.00 through to completion; it returns them and the ride's payment.
func (c *coop) paidRide() (ana int64, anaTok string, cy, paid int64) {
	c.t.Helper()
	ana, anaTok = c.member("Ana Driver", "worker")
	cy, cyTok := c.member("Cy Rider", "customer")
	work := c.request(cyTok, 2000)
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", work, step), anaTok, nil)
	}
	paid = int64(c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", work), anaTok, nil)["paymentId"].(float64))
	return ana, anaTok, cy, paid
}

// TestAClaimTakesARecentSignIn: a session older than sessions.FreshFor (a browser left
// signed in, which someone else may be using) cannot claim the account nor erase its data:
// the data page asks to sign in again in place of their buttons, a form sent anyway does
// nothing, and a fresh sign-in claims.
func TestAClaimTakesARecentSignIn(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	p := s.do("GET", "/app/data", nil)
	form := url.Values{"csrf": {csrf}, "session": {regexp.MustCompile(`name="session" value="(\d+)"`).FindStringSubmatch(p.body)[1]}}
	c.clock.Step(sessions.FreshFor + time.Minute)

	p = s.do("GET", "/app/data", nil)
	if p.status != http.StatusOK || strings.Contains(p.body, `id="claim"`) || !strings.Contains(p.body, `id="claim-sign-in"`) ||
		!strings.Contains(p.body, `id="sign-in-again"`) || !strings.Contains(p.body, "of the last 10 minutes") {
		t.Fatalf("the data page of an old session: %d %.3000s", p.status, p.body)
	}
	if r := s.do("POST", "/app/data/claim", form); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/data?done=signInAgain" {
		t.Fatalf("a claim from an old session: %d to %q %.1000s", r.status, r.header.Get("Location"), r.body)
	}
	if f := s.do("GET", "/app/data?done=signInAgain", nil); !strings.Contains(f.body, "Nothing was done: this session is too old") {
		t.Fatalf("the data page after a claim refused for an old session says nothing: %.2000s", f.body)
	}
	if me := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), anaTok, nil); me["claimedAt"] != nil {
		t.Fatalf("an old session claimed the account: %v", me)
	}
	// Nor erases the member's data, which cannot be undone.
	if !strings.Contains(p.body, `id="erase-sign-in"`) || strings.Contains(p.body, `action="/app/data/erase"`) {
		t.Fatalf("the erasure of an old session's data page: %.3000s", p.body)
	}
	if r := s.do("POST", "/app/data/erase", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/data?done=signInAgain" {
		t.Fatalf("an erasure from an old session: %d to %q", r.status, r.header.Get("Location"))
	}
	c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), anaTok, nil)

	fresh := c.session(t)
	csrf = fresh.signIn(c.code(ana))
	p = fresh.do("GET", "/app/data", nil)
	form = url.Values{"csrf": {csrf}, "session": {regexp.MustCompile(`name="session" value="(\d+)"`).FindStringSubmatch(p.body)[1]}}
	if p = fresh.do("POST", "/app/data/claim", form); p.status != http.StatusOK || !strings.Contains(p.body, `id="new-key"`) {
		t.Fatalf("a claim from a fresh session: %d %.2000s", p.status, p.body)
	}
}

// TestSignInsAreInTheAudit: every sign-in to the app is in the member's audit, with what
// opened it (a code staff issued, a code of one of their tokens, a token), so a sign-in
// the member did not make shows on their data page; the API's entry holds ids only.
func TestSignInsAreInTheAudit(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	registration := int64(c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/tokens", ana), anaTok, nil)["tokens"].([]any)[0].(map[string]any)["id"].(float64))
	staffCode := c.code(ana)
	c.session(t).signIn(staffCode)
	ownCode := c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", ana), anaTok, nil)["code"].(string)
	c.session(t).signIn(ownCode)
	s := c.session(t)
	s.signIn(anaTok)

	p := s.do("GET", "/app/data", nil)
	for _, who := range []string{
		"you, with a sign-in code the co-op&#39;s staff issued",
		fmt.Sprintf("you, with a sign-in code of token #%d, which the co-op&#39;s staff issued", registration),
		fmt.Sprintf("you, with token #%d, which the co-op&#39;s staff issued", registration),
	} {
		if !strings.Contains(p.body, "<td>signed in to the app</td><td>"+who+"</td>") {
			t.Errorf("the data page has no sign-in %q: %.4000s", who, p.body)
		}
	}
	entries := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/audit", ana), anaTok, nil)["entries"].([]any)
	var got []string
	for _, e := range entries {
		e := e.(map[string]any)
		if e["event"] != "signedIn" {
			continue
		}
		nv := e["newValue"].(map[string]any)
		got = append(got, fmt.Sprintf("%v %v %v", e["actor"], e["credential"], nv["with"]))
		for _, secret := range []string{staffCode, ownCode, anaTok} {
			if strings.Contains(fmt.Sprint(e), secret) {
				t.Errorf("a sign-in entry holds a secret: %v", e)
			}
		}
	}
	want := []string{ // newest first
		fmt.Sprintf("member:%d token:%d token", ana, registration),
		fmt.Sprintf("member:%d code:token:%d code", ana, registration),
		fmt.Sprintf("member:%d code code", ana),
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("the sign-ins in the audit: %v, want %v", got, want)
	}
	// The API reads them alone, and the newest of them.
	only := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/audit?event=signedIn&limit=2", ana), anaTok, nil)["entries"].([]any)
	if len(only) != 2 || only[0].(map[string]any)["credential"] != fmt.Sprintf("token:%d", registration) {
		t.Errorf("the two newest sign-ins: %v", only)
	}

	// A year of daily sign-ins later (more entries than one read of the audit answers), the
	// page still says that the token Ana signs in with is one staff issued.
	if _, err := c.owner.Exec(t.Context(), `INSERT INTO member_audit (member_id, event, new_value, actor, credential)
		SELECT $1::bigint, 'signedIn', jsonb_build_object('with', 'code'), 'member:' || $1::bigint, 'code' FROM generate_series(1, 1100)`, ana); err != nil {
		t.Fatal(err)
	}
	later := c.session(t)
	later.signIn(anaTok)
	p = later.do("GET", "/app/data", nil)
	if !strings.Contains(p.body, "<td>signed in to the app</td><td>"+fmt.Sprintf("you, with token #%d, which the co-op&#39;s staff issued", registration)+"</td>") {
		t.Errorf("the data page, 1,100 entries after the token was issued: %.3000s", p.body)
	}
}

// TestASecondClickClaimsNothing: the claim's button clicked twice (two requests of one
// session, both waiting while the member's row is held): the claims take the member's row
// in turn, the first claims and shows the key, and the second, whose session the first
// rebound to that key, claims nothing and says so (claimStale); the key shown is good.
func TestASecondClickClaimsNothing(t *testing.T) {
	c := newCoop(t)
	ana, _ := c.member("Ana Driver", "worker")
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	p := s.do("GET", "/app/data", nil)
	form := url.Values{"csrf": {csrf}, "session": {regexp.MustCompile(`name="session" value="(\d+)"`).FindStringSubmatch(p.body)[1]}}
	ctx := t.Context()
	tx, err := c.owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM members WHERE id = $1 FOR UPDATE`, ana); err != nil {
		t.Fatal(err)
	}
	answers := make(chan answer, 2)
	for range 2 {
		click := &session{t: t, c: c, cookies: maps.Clone(s.cookies)}
		go func() { answers <- click.do("POST", "/app/data/claim", form) }()
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var waiting int
		if err := c.owner.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= 2 {
			break
		}
		if len(answers) > 0 || time.Now().After(deadline) {
			t.Fatalf("the two claims did not both wait on the member's row (%d waiting, %d answered)", waiting, len(answers))
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var key string
	stale := 0
	for range 2 {
		a := <-answers
		switch m := regexp.MustCompile(`<code id="new-key">(cpt_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(a.body); {
		case a.status == http.StatusOK && m != nil && key == "":
			key = m[1]
		case a.status == http.StatusSeeOther && a.header.Get("Location") == "/app/data?done=claimStale":
			stale++
		default:
			t.Errorf("a click: %d to %q %.1500s", a.status, a.header.Get("Location"), a.body)
		}
	}
	if key == "" || stale != 1 {
		t.Fatalf("one claim and one stale click expected: key %t, %d stale", key != "", stale)
	}
	c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), key, nil)
}

// project is a freelance co-op's project paid by two milestones (Design 300.00, Build
// 600.00), accepted and started by its worker.
type project struct {
	c                 *coop
	client, dev, id   int64
	clientTok, devTok string
}

func startedProject(t *testing.T) project {
	c := newVerticalCoop(t, "freelance")
	client, clientTok := c.member("Cia Client", "customer")
	dev, devTok := c.worker("Dev Freelancer", "gig")
	id := int64(c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "gig", "priceCents": 90000,
		"details":    map[string]string{"title": "Website", "description": "A co-op's website"},
		"milestones": []map[string]any{{"title": "Design", "amountCents": 30000}, {"title": "Build", "amountCents": 60000}}})["id"].(float64))
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), clientTok, nil)
	for _, step := range []string{"accept", "start"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), devTok, nil)
	}
	return project{c: c, client: client, dev: dev, id: id, clientTok: clientTok, devTok: devTok}
}

// TestMilestonesInTheApp: a freelance project paid by milestones moves in the app: its
// worker marks each milestone done (and no "complete" step is offered: the project
// completes with its last milestone), its client accepts each, which pays it; neither
// sees the other's button, and the project is complete once the last is accepted.
func TestMilestonesInTheApp(t *testing.T) {
	p0 := startedProject(t)
	c, client, clientTok, dev, id := p0.c, p0.client, p0.clientTok, p0.dev, p0.id
	page := fmt.Sprintf("/app/work/%d", id)
	ws, cs := c.session(t), c.session(t)
	wcsrf, ccsrf := ws.signIn(c.code(dev)), cs.signIn(c.code(client))

	// The home page offers no "complete" step either (it read the project without its
	// milestones, and offered one that only ended on an error page).
	if p := ws.do("GET", "/app/home", nil); strings.Contains(p.body, fmt.Sprintf(`id="complete-%d"`, id)) || !strings.Contains(p.body, fmt.Sprintf(`href="/app/work/%d"`, id)) {
		t.Fatalf("the worker's home page with a project by milestones: %s", p.body)
	}
	p := ws.do("GET", page, nil)
	if !strings.Contains(p.body, `id="submit-milestone-1"`) || !strings.Contains(p.body, `id="submit-milestone-2"`) || strings.Contains(p.body, `id="next-step"`) ||
		strings.Contains(p.body, `id="accept-milestone-`) {
		t.Fatalf("the worker's page of a project by milestones: %s", p.body)
	}
	if p := cs.do("GET", page, nil); strings.Contains(p.body, `id="submit-milestone-`) || strings.Contains(p.body, `id="accept-milestone-`) ||
		!strings.Contains(p.body, `<span id="milestone-1-name">Design</span>: 300.00, <span class="milestone-state">to do</span>`) {
		t.Fatalf("the client's page before a milestone is done: %s", p.body)
	}
	for n := 1; n <= 2; n++ {
		if p := ws.do("POST", page+"/submit-milestone", url.Values{"csrf": {wcsrf}, "n": {fmt.Sprint(n)}}); p.status != http.StatusSeeOther {
			t.Fatalf("submitting milestone %d: %d %s", n, p.status, p.body)
		}
	}
	if p := ws.do("GET", page+"?done=submit-milestone", nil); !strings.Contains(p.body, "The milestone is marked done") {
		t.Fatalf("after the worker submitted: %s", p.body)
	}
	p = cs.do("GET", page, nil)
	if !strings.Contains(p.body, `id="accept-milestone-1"`) || !strings.Contains(p.body, ">Accept and pay 300.00</button>") {
		t.Fatalf("the client's page once milestones are done: %s", p.body)
	}
	// The worker cannot accept their own milestone through the app's form.
	if p := ws.do("POST", page+"/accept-milestone", url.Values{"csrf": {wcsrf}, "n": {"1"}}); p.status != http.StatusForbidden {
		t.Fatalf("the worker accepting a milestone: %d %s", p.status, p.body)
	}
	for n := 1; n <= 2; n++ {
		if p := cs.do("POST", page+"/accept-milestone", url.Values{"csrf": {ccsrf}, "n": {fmt.Sprint(n)}}); p.status != http.StatusSeeOther {
			t.Fatalf("accepting milestone %d: %d %s", n, p.status, p.body)
		}
	}
	// A second click pays nothing more: the work's page says why.
	if p := cs.do("POST", page+"/accept-milestone", url.Values{"csrf": {ccsrf}, "n": {"2"}}); p.status != http.StatusConflict || !strings.Contains(p.body, `id="milestones-error"`) {
		t.Fatalf("accepting a milestone twice: %d %s", p.status, p.body)
	}
	w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", id), clientTok, nil)
	if w["state"] != "completed" {
		t.Fatalf("after the last milestone was accepted: %v", w)
	}
	var paid int64
	if err := c.owner.QueryRow(t.Context(), `SELECT coalesce(sum(gross_cents), 0) FROM payments WHERE work_id = $1`, id).Scan(&paid); err != nil || paid != 90000 {
		t.Fatalf("paid %d for the project, %v; want 90000", paid, err)
	}
}

// worker registers an available worker qualified for quals (the harness's member gives
// workers the ride-sharing kind).
func (c *coop) worker(name string, quals ...string) (int64, string) {
	c.t.Helper()
	m := c.must(http.StatusCreated, "POST", "/v1/members", adminToken, map[string]any{"name": name,
		"email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", "roles": []string{"worker"}, "qualifications": quals})
	id, tok := int64(m["member"].(map[string]any)["id"].(float64)), m["token"].(string)
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/availability", id), tok, map[string]any{"available": true})
	return id, tok
}

// TestShopInTheApp: in a marketplace co-op the app has a shop: a maker lists what they
// sell and keeps its stock there, a buyer orders from it (the request form comes with
// the listing), and another maker cannot change a listing that is not theirs. Outside a
// marketplace co-op there is no shop.
func TestShopInTheApp(t *testing.T) {
	c := newVerticalCoop(t, "marketplace")
	maker, _ := c.worker("Mia Maker")
	other, _ := c.worker("Oz Other")
	buyer, _ := c.member("Bea Buyer", "customer")
	ms, oth, bs := c.session(t), c.session(t), c.session(t)
	mcsrf, ocsrf := ms.signIn(c.code(maker)), oth.signIn(c.code(other))
	bs.signIn(c.code(buyer))

	if p := ms.do("GET", "/app/listings", nil); !strings.Contains(p.body, `href="/app/listings" aria-current="page"`) || !strings.Contains(p.body, "You list nothing yet.") {
		t.Fatalf("the maker's shop before any listing: %s", p.body)
	}
	if p := ms.do("POST", "/app/listings", url.Values{"csrf": {mcsrf}, "title": {"Stoneware bowl"}, "price": {"douze"}, "stock": {"3"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="listing-price-error"`) || !strings.Contains(p.body, `value="Stoneware bowl"`) {
		t.Fatalf("a listing without a price: %d %s", p.status, p.body)
	}
	if p := ms.do("POST", "/app/listings", url.Values{"csrf": {mcsrf}, "title": {""}, "price": {"25"}, "stock": {"3"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="listing-title-error"`) {
		t.Fatalf("a listing without a title: %d %s", p.status, p.body)
	}
	if p := ms.do("POST", "/app/listings", url.Values{"csrf": {mcsrf}, "title": {"Stoneware bowl"}, "description": {"Glazed"}, "price": {"25,00"}, "stock": {"3"}}); p.status != http.StatusSeeOther {
		t.Fatalf("listing a bowl: %d %s", p.status, p.body)
	}
	var lid, stock, price int64
	if err := c.owner.QueryRow(t.Context(), `SELECT id, stock, price_cents FROM listings WHERE owner_id = $1`, maker).Scan(&lid, &stock, &price); err != nil || stock != 3 || price != 2500 {
		t.Fatalf("the listing: stock %d, price %d, %v", stock, price, err)
	}
	if p := ms.do("POST", fmt.Sprintf("/app/listings/%d/stock", lid), url.Values{"csrf": {mcsrf}, "stock": {"7"}}); p.status != http.StatusSeeOther {
		t.Fatalf("the maker's stock change: %d %s", p.status, p.body)
	}
	// A refused stock change is said beside its row; the other rows keep their stock.
	if p := ms.do("POST", "/app/listings", url.Values{"csrf": {mcsrf}, "title": {"Jug"}, "price": {"30"}, "stock": {"2"}}); p.status != http.StatusSeeOther {
		t.Fatalf("listing a jug: %d %s", p.status, p.body)
	}
	if p := ms.do("POST", fmt.Sprintf("/app/listings/%d/stock", lid), url.Values{"csrf": {mcsrf}, "stock": {"-1"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, fmt.Sprintf(`id="stock-%d-error"`, lid)) || !strings.Contains(p.body, fmt.Sprintf(`id="stock-%d" name="stock" inputmode="numeric" size="6" aria-label="How many of Jug are left" value="2"`, lid+1)) {
		t.Fatalf("a refused stock change: %d %s", p.status, p.body)
	}
	if p := oth.do("POST", fmt.Sprintf("/app/listings/%d/stock", lid), url.Values{"csrf": {ocsrf}, "stock": {"0"}}); p.status != http.StatusForbidden {
		t.Fatalf("another maker's stock change: %d %s", p.status, p.body)
	}
	if err := c.owner.QueryRow(t.Context(), `SELECT stock FROM listings WHERE id = $1`, lid).Scan(&stock); err != nil || stock != 7 {
		t.Fatalf("stock %d, %v; want the maker's 7", stock, err)
	}

	p := bs.do("GET", "/app/listings", nil)
	order := fmt.Sprintf(`href="/app/request?kind=order&amp;listing=%d" id="order-%d"`, lid, lid)
	if !strings.Contains(p.body, "Stoneware bowl") || !strings.Contains(p.body, "7 left") || !strings.Contains(p.body, order) || strings.Contains(p.body, "Your listings") {
		t.Fatalf("the buyer's shop: %s", p.body)
	}
	if p := bs.do("GET", fmt.Sprintf("/app/request?kind=order&listing=%d", lid), nil); !strings.Contains(p.body, fmt.Sprintf(`name="details.listingId" type="text" value="%d"`, lid)) ||
		!strings.Contains(p.body, `id="ordering" role="status">You order: Stoneware bowl, at 25.00 each (7 left).`) {
		t.Fatalf("the order form of the listing: %s", p.body)
	}
	if p := ms.do("GET", "/app/listings", nil); strings.Contains(p.body, fmt.Sprintf(`id="order-%d"`, lid)) {
		t.Fatalf("the maker is offered to order their own listing: %s", p.body)
	}

	ride := newCoop(t)
	rider, _ := ride.member("Cy Rider", "customer")
	rs := ride.session(t)
	rs.signIn(ride.code(rider))
	if p := rs.do("GET", "/app/home", nil); strings.Contains(p.body, `href="/app/listings"`) {
		t.Fatalf("a shop in the menu of a ride-sharing co-op: %s", p.body)
	}
	if p := rs.do("GET", "/app/listings", nil); p.status != http.StatusConflict {
		t.Fatalf("the shop of a ride-sharing co-op: %d", p.status)
	}
}

// TestProposeInTheApp: a member puts a motion, a new fee split (on a form prefilled with
// the split in force, in percent) or another governed part (as JSON) to the vote from the
// app; a value the form or the API refuses is said next to its field and nothing is
// proposed; a part the members do not govern is not offered, and sending it anyway
// proposes nothing.
func TestProposeInTheApp(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	proposals := func() []map[string]any {
		var out []map[string]any
		for _, p := range c.must(http.StatusOK, "GET", "/v1/proposals", anaTok, nil)["proposals"].([]any) {
			out = append(out, p.(map[string]any))
		}
		return out
	}
	if p := s.do("GET", "/app/governance", nil); !strings.Contains(p.body, `href="/app/proposals/new" id="propose"`) {
		t.Fatalf("the governance page links no proposal form: %s", p.body)
	}
	p := s.do("GET", "/app/proposals/new", nil)
	if !strings.Contains(p.body, `<option value="feeSplit">the fee split</option>`) || !strings.Contains(p.body, `<option value="fares">the fare rule</option>`) ||
		!strings.Contains(p.body, `<option value="governance">the voting rules</option>`) || strings.Contains(p.body, `<option value="database">`) {
		t.Fatalf("the parts offered: %s", p.body)
	}
	// Another part's form holds its value in force, to edit.
	if p := s.do("GET", "/app/proposals/new?field=governance", nil); !strings.Contains(p.body, `&#34;model&#34;:&#34;one-member-one-vote&#34;`) {
		t.Fatalf("the voting rules' form: %s", p.body)
	}

	// A motion.
	if p := s.do("POST", "/app/proposals", url.Values{"csrf": {csrf}, "field": {""}, "title": {""}, "body": {"Picnic"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="p-title-error"`) || !strings.Contains(p.body, "Picnic") || len(proposals()) != 0 {
		t.Fatalf("a motion without a title: %d %s", p.status, p.body)
	}
	if p := s.do("POST", "/app/proposals", url.Values{"csrf": {csrf}, "field": {""}, "title": {"A summer picnic"}, "body": {"In the park"}}); p.status != http.StatusSeeOther {
		t.Fatalf("a motion: %d %s", p.status, p.body)
	}

	// A new fee split, from the split in force.
	p = s.do("GET", "/app/proposals/new?field=feeSplit", nil)
	for _, want := range []string{`name="platformFee" inputmode="decimal" value="3"`, `name="fund.hardship" inputmode="decimal" value="1"`,
		`name="fund.reserve" inputmode="decimal" value="0.5"`, `name="surgeToWorkers" inputmode="numeric" value="100"`} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("the fee split's form lacks %s: %s", want, p.body)
		}
	}
	split := url.Values{"csrf": {csrf}, "field": {"feeSplit"}, "title": {"A lower fee"}, "body": {"Drivers keep more"},
		"platformFee": {"2,5"}, "fund.hardship": {"1"}, "fund.reserve": {"0.25"}, "surgeToWorkers": {"100"}, "votingPeriodHours": {""}}
	for _, fee := range []string{"2.555", "-0.5", "100.5", "1e2"} {
		bad := maps.Clone(split)
		bad.Set("platformFee", fee)
		if p := s.do("POST", "/app/proposals", bad); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="p-platformFee-error"`) || len(proposals()) != 1 {
			t.Fatalf("a fee of %q: %d %s", fee, p.status, p.body)
		}
	}
	over := maps.Clone(split)
	over.Set("fund.hardship", "2.4")
	if p := s.do("POST", "/app/proposals", over); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="p-split-error" role="alert">The funds&#39; shares add up to more`) || len(proposals()) != 1 {
		t.Fatalf("funds over the fee: %d %s", p.status, p.body)
	}
	if p := s.do("POST", "/app/proposals", split); p.status != http.StatusSeeOther {
		t.Fatalf("a new fee split: %d %s", p.status, p.body)
	}
	got := proposals()
	var fee map[string]any
	for _, p := range got {
		if p["field"] == "feeSplit" {
			fee = p
		}
	}
	v, _ := json.Marshal(fee["value"])
	if fee == nil || string(v) != `{"funds":[{"basisPoints":100,"name":"hardship"},{"basisPoints":25,"name":"reserve"}],"platformFeeBasisPoints":250,"surgeToWorkersPercent":100}` {
		t.Fatalf("the fee split proposed: %v (%s)", fee, v)
	}

	// Another part, as JSON.
	plan := url.Values{"csrf": {csrf}, "field": {"plan"}, "title": {"A bigger plan"}, "value": {`"large`}}
	if p := s.do("POST", "/app/proposals", plan); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="p-value-error"`) || len(proposals()) != 2 {
		t.Fatalf("a plan that is no JSON: %d %s", p.status, p.body)
	}
	plan.Set("value", `"large"`)
	if p := s.do("POST", "/app/proposals", plan); p.status != http.StatusSeeOther || len(proposals()) != 3 {
		t.Fatalf("a new plan: %d %s", p.status, p.body)
	}

	// A part the members do not govern.
	if p := s.do("POST", "/app/proposals", url.Values{"csrf": {csrf}, "field": {"database"}, "title": {"x"}, "value": {`{}`}}); p.status != http.StatusBadRequest || len(proposals()) != 3 {
		t.Fatalf("a part not governed: %d %s", p.status, p.body)
	}
}

// TestScheduleInTheApp: a worker sets their weekly hours in the app, several windows a day;
// their dated exceptions stay; a window with one time, or one the API refuses (its end
// before its start, two that overlap), is said beside its row and nothing changes; the
// hours then decide which offers come to them. A member who is no worker has no such page.
func TestScheduleInTheApp(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	cust, custTok := c.member("Cy Rider", "customer")
	sched := fmt.Sprintf("/v1/members/%d/schedule", ana)
	c.must(http.StatusOK, "PUT", sched, anaTok, map[string]any{"weekly": []map[string]string{{"day": "mon", "from": "00:00", "to": "24:00"}},
		"exceptions": []map[string]any{{"from": "2026-12-24T00:00:00Z", "to": "2026-12-26T00:00:00Z", "available": false}}})
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	p := s.do("GET", "/app/schedule", nil)
	if !strings.Contains(p.body, `name="mon.0.from" inputmode="numeric" size="5" placeholder="09:00" value="00:00"`) ||
		!strings.Contains(p.body, `name="mon.0.to" inputmode="numeric" size="5" placeholder="17:00" value="24:00"`) ||
		!strings.Contains(p.body, `name="mon.1.from" inputmode="numeric" size="5" placeholder="09:00" value=""`) ||
		!strings.Contains(p.body, "Time off from 2026-12-24 00:00 UTC to 2026-12-26 00:00 UTC") {
		t.Fatalf("the schedule page: %s", p.body)
	}
	hours := url.Values{"csrf": {csrf}, "mon.0.from": {"09:00"}, "mon.0.to": {"12:00"}, "mon.1.from": {"13:00"}, "mon.1.to": {"17:00"}, "tue.0.from": {"08:00"}, "tue.0.to": {"10:00"}}
	for name, bad := range map[string]url.Values{
		"one time":         {"csrf": {csrf}, "wed.0.from": {"09:00"}},
		"the end first":    {"csrf": {csrf}, "wed.0.from": {"17:00"}, "wed.0.to": {"09:00"}},
		"two that overlap": {"csrf": {csrf}, "thu.0.from": {"09:00"}, "thu.0.to": {"12:00"}, "thu.1.from": {"11:00"}, "thu.1.to": {"13:00"}},
	} {
		row := map[string]string{"one time": "wed.0", "the end first": "wed.0", "two that overlap": "thu.1"}[name]
		if p := s.do("POST", "/app/schedule", bad); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="`+row+`-error"`) {
			t.Fatalf("a window with %s: %d %s", name, p.status, p.body)
		}
	}
	if got := c.must(http.StatusOK, "GET", sched, anaTok, nil); len(got["weekly"].([]any)) != 1 {
		t.Fatalf("the schedule after refused forms: %v", got)
	}
	if p := s.do("POST", "/app/schedule?lang=fr", url.Values{"csrf": {csrf}, "wed.0.from": {"17:00"}, "wed.0.to": {"09:00"}}); !strings.Contains(p.body, "La fin doit venir après le début.") {
		t.Fatalf("a refused window in French: %s", p.body)
	}
	s.do("GET", "/app/home?lang=en", nil)
	// The page as it came (Monday all day, to 24:00) saves unchanged.
	if p := s.do("POST", "/app/schedule", url.Values{"csrf": {csrf}, "mon.0.from": {"00:00"}, "mon.0.to": {"24:00"}}); p.status != http.StatusSeeOther {
		t.Fatalf("saving the page as it came: %d %s", p.status, p.body)
	}
	if got := c.must(http.StatusOK, "GET", sched, anaTok, nil)["weekly"].([]any); len(got) != 1 || got[0].(map[string]any)["to"] != "24:00" {
		t.Fatalf("the hours saved unchanged: %v", got)
	}
	// A day of many windows (more than ten) is shown and saved whole.
	many := url.Values{"csrf": {csrf}}
	for i := 0; i < 12; i++ {
		many.Set(fmt.Sprintf("fri.%d.from", i), fmt.Sprintf("%02d:00", 6+i))
		many.Set(fmt.Sprintf("fri.%d.to", i), fmt.Sprintf("%02d:30", 6+i))
	}
	if p := s.do("POST", "/app/schedule", many); p.status != http.StatusSeeOther {
		t.Fatalf("saving twelve windows on a Friday: %d %s", p.status, p.body)
	}
	if p := s.do("GET", "/app/schedule", nil); !strings.Contains(p.body, `name="fri.11.to" inputmode="numeric" size="5" placeholder="17:00" value="17:30"`) ||
		!strings.Contains(p.body, `name="fri.12.from"`) {
		t.Fatalf("the page of twelve windows on a Friday: %s", p.body)
	}
	if got := c.must(http.StatusOK, "GET", sched, anaTok, nil)["weekly"].([]any); len(got) != 12 {
		t.Fatalf("%d windows saved, want 12", len(got))
	}
	// Times typed loosely (9:00, or with seconds as some browsers send them).
	hours.Set("mon.0.from", "9:00")
	hours.Set("mon.0.to", "12:00:00")
	if p := s.do("POST", "/app/schedule", hours); p.status != http.StatusSeeOther {
		t.Fatalf("saving the hours: %d %s", p.status, p.body)
	}
	got := c.must(http.StatusOK, "GET", sched, anaTok, nil)
	w, _ := json.Marshal(got["weekly"])
	if string(w) != `[{"day":"mon","from":"09:00","to":"12:00"},{"day":"mon","from":"13:00","to":"17:00"},{"day":"tue","from":"08:00","to":"10:00"}]` ||
		len(got["exceptions"].([]any)) != 1 {
		t.Fatalf("the schedule saved: %v", got)
	}
	// The service's clock is a Tuesday at 09:00 UTC: within Ana's hours, a ride is offered
	// to her; once she keeps Tuesdays free, it is offered to nobody.
	ride := map[string]any{"kind": "ride", "details": map[string]string{"pickup": "A", "dropoff": "B"}, "priceCents": 1500}
	id := int64(c.must(http.StatusCreated, "POST", "/v1/work", custTok, ride)["id"].(float64))
	if o := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), custTok, nil); int64(o["workerId"].(float64)) != ana {
		t.Fatalf("the offer within Ana's hours: %v", o)
	}
	if p := s.do("POST", "/app/schedule", url.Values{"csrf": {csrf}, "mon.0.from": {"09:00"}, "mon.0.to": {"17:00"}}); p.status != http.StatusSeeOther {
		t.Fatalf("keeping Tuesdays free: %d %s", p.status, p.body)
	}
	id = int64(c.must(http.StatusCreated, "POST", "/v1/work", custTok, ride)["id"].(float64))
	c.must(http.StatusConflict, "POST", fmt.Sprintf("/v1/work/%d/match", id), custTok, nil) // a Tuesday Ana keeps free
	cs := c.session(t)
	cs.signIn(c.code(cust))
	if p := cs.do("GET", "/app/schedule", nil); p.status != http.StatusForbidden {
		t.Fatalf("a customer's schedule page: %d", p.status)
	}
}

// TestTimeOffInTheApp: a carer with hours of their own is not shown the home page's
// switch, which would replace them, and a switch sent anyway (a page read before) changes
// nothing; they take time off, and an extra shift, on the schedule's page, and remove
// them; time off over a booking they took is refused naming it (in French too), a form
// without its times or with the end first is said beside its field; the home page says
// until when they are off; another worker cannot remove theirs.
func TestTimeOffInTheApp(t *testing.T) {
	c := newVerticalCoop(t, "care") // the service's clock: Tuesday 2026-12-01 09:00 UTC
	client, clientTok := c.member("Cid Client", "customer")
	cara, caraTok := c.worker("Cara Carer", "booking")
	dee, _ := c.worker("Dee Carer", "booking")
	sched := fmt.Sprintf("/v1/members/%d/schedule", cara)
	var week []map[string]string
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		week = append(week, map[string]string{"day": d, "from": "08:00", "to": "18:00"})
	}
	c.must(http.StatusOK, "PUT", sched, caraTok, map[string]any{"weekly": week})
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", cara), adminToken, map[string]any{"skills": []string{"night"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-02", "expiresAt": "2027-11-02T00:00:00Z"}})
	booked := int64(c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "priceCents": 4000,
		"details": map[string]string{"address": "1 rue de la Paix", "careType": "night", "scheduledAt": "2026-12-03T10:00:00Z"}})["id"].(float64))
	// Staff offer it to Cara by name (a client names only a carer who did their care).
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", booked), adminToken, map[string]any{"workerId": cara})
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/accept", booked), caraTok, nil)
	_ = client

	s := c.session(t)
	csrf := s.signIn(c.code(cara))
	p := s.do("GET", "/app/home", nil)
	if !strings.Contains(p.body, `id="own-hours"`) || strings.Contains(p.body, `id="availability-switch"`) {
		t.Fatalf("the home page of a carer with hours of her own: %s", p.body)
	}
	if p := s.do("POST", "/app/availability", url.Values{"csrf": {csrf}, "available": {"false"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/schedule?done=ownHours" {
		t.Fatalf("the switch sent anyway: %d %s", p.status, p.header.Get("Location"))
	}
	if got := c.must(http.StatusOK, "GET", sched, caraTok, nil); len(got["weekly"].([]any)) != 5 {
		t.Fatalf("the hours after the switch was sent: %v", got)
	}

	add := func(v url.Values) answer {
		t.Helper()
		v.Set("csrf", csrf)
		return s.do("POST", "/app/schedule/exceptions", v)
	}
	// Refused forms, said beside their field; nothing is written.
	for name, tc := range map[string]struct {
		form  url.Values
		field string
		says  string
	}{
		"no end":        {url.Values{"x.kind": {"off"}, "x.from": {"2026-12-24T00:00"}}, "x-to", "Required."},
		"the end first": {url.Values{"x.kind": {"off"}, "x.from": {"2026-12-24T00:00"}, "x.to": {"2026-12-23T00:00"}}, "x-to", "after"},
		"not a time":    {url.Values{"x.kind": {"off"}, "x.from": {"Christmas"}, "x.to": {"2026-12-26T00:00"}}, "x-from", "Give a date and a time."},
		"over a booking": {url.Values{"x.kind": {"off"}, "x.from": {"2026-12-03T00:00"}, "x.to": {"2026-12-04T00:00"}}, "x-from",
			fmt.Sprintf("You have work %d booked from 2026-12-03 10:00 UTC to", booked)},
	} {
		p := add(tc.form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="`+tc.field+`-error">`) || !strings.Contains(p.body, tc.says) ||
			!strings.Contains(p.body, `value="`+tc.form.Get("x.from")+`"`) {
			t.Fatalf("%s: %d %s", name, p.status, p.body)
		}
	}
	if p := s.do("POST", "/app/schedule/exceptions?lang=fr", url.Values{"csrf": {csrf}, "x.kind": {"off"}, "x.from": {"2026-12-03T00:00"}, "x.to": {"2026-12-04T00:00"}}); !strings.Contains(p.body,
		fmt.Sprintf("Vous avez un travail (n° %d) prévu de 03/12/2026 10:00 UTC", booked)) {
		t.Fatalf("time off over a booking, in French: %s", p.body)
	}
	s.do("GET", "/app/home?lang=en", nil)
	if got := c.must(http.StatusOK, "GET", sched, caraTok, nil); len(got["exceptions"].([]any)) != 0 {
		t.Fatalf("exceptions after refused forms: %v", got)
	}

	// Christmas off, a Saturday shift, and today off.
	for _, v := range []url.Values{
		{"x.kind": {"off"}, "x.from": {"2026-12-24T00:00"}, "x.to": {"2026-12-27T00:00"}},
		{"x.kind": {"extra"}, "x.from": {"2026-12-05T09:00"}, "x.to": {"2026-12-05T13:00"}},
		{"x.kind": {"off"}, "x.from": {"2026-12-01T00:00"}, "x.to": {"2026-12-02T00:00"}},
	} {
		if p := add(v); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/app/schedule?done=timeOff") {
			t.Fatalf("adding %v: %d %s", v, p.status, p.body)
		}
	}
	p = s.do("GET", "/app/schedule", nil)
	for _, want := range []string{"Time off from 2026-12-24 00:00 UTC to 2026-12-27 00:00 UTC", "Extra shift from 2026-12-05 09:00 UTC to 2026-12-05 13:00 UTC",
		"Time off from 2026-12-01 00:00 UTC to 2026-12-02 00:00 UTC"} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("the schedule page lacks %q: %s", want, p.body)
		}
	}
	if p := s.do("GET", "/app/home", nil); !strings.Contains(p.body, `id="off-until">You are off until 2026-12-02 00:00 UTC.`) {
		t.Fatalf("the home page of a carer off today: %s", p.body)
	}
	// A booking today is offered to Dee, not to Cara.
	today := int64(c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "priceCents": 4000,
		"details": map[string]string{"address": "1 rue de la Paix", "careType": "night", "scheduledAt": "2026-12-01T14:00:00Z"}})["id"].(float64))
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", dee), adminToken, map[string]any{"skills": []string{"night"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-02", "expiresAt": "2027-11-02T00:00:00Z"}})
	if o := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", today), clientTok, nil); int64(o["workerId"].(float64)) != dee {
		t.Fatalf("today's booking offered to %v, want Dee", o["workerId"])
	}

	// Removed: Christmas. Another worker cannot remove Cara's.
	var christmas int64
	for _, x := range c.must(http.StatusOK, "GET", sched, caraTok, nil)["exceptions"].([]any) {
		if x := x.(map[string]any); x["from"] == "2026-12-24T00:00:00Z" {
			christmas = int64(x["id"].(float64))
		}
	}
	ds := c.session(t)
	dcsrf := ds.signIn(c.code(dee))
	if p := ds.do("POST", fmt.Sprintf("/app/schedule/exceptions/%d/remove", christmas), url.Values{"csrf": {dcsrf}}); p.status != http.StatusNotFound {
		t.Fatalf("another worker removing Cara's time off: %d %s", p.status, p.body)
	}
	if p := s.do("POST", fmt.Sprintf("/app/schedule/exceptions/%d/remove", christmas), url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("removing Christmas: %d %s", p.status, p.body)
	}
	if got := c.must(http.StatusOK, "GET", sched, caraTok, nil); len(got["exceptions"].([]any)) != 2 || len(got["weekly"].([]any)) != 5 {
		t.Fatalf("the schedule after a removal: %v", got)
	}
}

// TestRequestKeptWhenItsStateRefuses: a request the API refuses for the state of what it
// asks for (409: a stay over another, an order of more than the stock) shows the form
// again with everything typed and the refusal beside its field, in the member's language;
// before, the member got the error page and lost what they typed.
func TestRequestKeptWhenItsStateRefuses(t *testing.T) {
	t.Run("a stay over another", func(t *testing.T) {
		c := newVerticalCoop(t, "housing")
		c.worker("Hal Host", "stay")
		_, annTok := c.member("Ann Member", "customer")
		ben, _ := c.member("Ben Member", "customer")
		c.must(http.StatusCreated, "POST", "/v1/work", annTok, map[string]any{"kind": "stay", "priceCents": 5000,
			"details": map[string]string{"unit": "3B", "checkIn": "2026-12-20", "checkOut": "2026-12-27"}})
		s := c.session(t)
		csrf := s.signIn(c.code(ben))
		p := s.do("POST", "/app/request", url.Values{"csrf": {csrf}, "kind": {"stay"}, "details.unit": {"3B"}, "details.checkIn": {"2026-12-22"},
			"details.checkOut": {"2026-12-24"}, "details.notes": {"two adults, one cot please"}, "price": {"50"}}, "Accept-Language", "fr")
		if p.status != http.StatusConflict || !strings.Contains(p.body, "two adults, one cot please") || !strings.Contains(p.body, `value="2026-12-22"`) ||
			!strings.Contains(p.body, "3B est déjà réservé pour certaines des nuits du 2026-12-22 au 2026-12-24") {
			t.Fatalf("a stay over another: %d %s", p.status, p.body)
		}
	})
	t.Run("an order of more than the stock", func(t *testing.T) {
		c := newVerticalCoop(t, "marketplace")
		_, makerTok := c.worker("Mia Maker")
		lid := int64(c.must(http.StatusCreated, "POST", "/v1/listings", makerTok, map[string]any{"title": "Bowl", "priceCents": 2500, "stock": 2})["id"].(float64))
		buyer, _ := c.member("Bea Buyer", "customer")
		s := c.session(t)
		csrf := s.signIn(c.code(buyer))
		p := s.do("POST", "/app/request", url.Values{"csrf": {csrf}, "kind": {"order"}, "details.listingId": {fmt.Sprint(lid)},
			"details.shippingAddress": {"12 rue des Lilas, 69003 Lyon"}, "details.quantity": {"3"}})
		if p.status != http.StatusConflict || !strings.Contains(p.body, "12 rue des Lilas, 69003 Lyon") ||
			!strings.Contains(p.body, `id="f-quantity-error"`) {
			t.Fatalf("an order of more than the stock: %d %s", p.status, p.body)
		}
	})
}

// TestMerchantRequestsDeliveries: in a delivery co-op a merchant (a shop sending
// deliveries) requests them, as the API lets them: the menu has the request form and the
// home page their open deliveries; a merchant elsewhere, as the API refuses them, has
// neither.
func TestMerchantRequestsDeliveries(t *testing.T) {
	c := newVerticalCoop(t, "delivery")
	shop, shopTok := c.member("Sol Shop", "merchant")
	id := int64(c.must(http.StatusCreated, "POST", "/v1/work", shopTok, map[string]any{"kind": "delivery", "priceCents": 900,
		"details": map[string]string{"pickup": "3 rue Mercière", "dropoff": "12 quai Saint-Antoine"}})["id"].(float64))
	s := c.session(t)
	s.signIn(c.code(shop))
	p := s.do("GET", "/app/home", nil)
	if !strings.Contains(p.body, `<a href="/app/request"`) || !strings.Contains(p.body, `id="req-h"`) || !strings.Contains(p.body, fmt.Sprintf(`<a href="/app/work/%d">`, id)) {
		t.Fatalf("a merchant's home page in a delivery co-op: %s", p.body)
	}
	if p := s.do("GET", "/app/request", nil); p.status != http.StatusOK || !strings.Contains(p.body, `name="details.pickup"`) {
		t.Fatalf("a merchant's request form: %d %s", p.status, p.body)
	}

	ride := newCoop(t)
	other, otherTok := ride.member("Mo Merchant", "merchant")
	ride.must(http.StatusForbidden, "POST", "/v1/work", otherTok, map[string]any{"kind": "ride", "priceCents": 900,
		"details": map[string]string{"pickup": "A", "dropoff": "B"}})
	os := ride.session(t)
	os.signIn(ride.code(other))
	if p := os.do("GET", "/app/home", nil); strings.Contains(p.body, `<a href="/app/request"`) || strings.Contains(p.body, `id="req-h"`) {
		t.Fatalf("a merchant's home page in a ride co-op: %s", p.body)
	}
}

// TestCancelInTheApp: the worker who took work cancels it from its page, saying why; the
// customer reads why in its history; the customer cancels work until it starts (as the
// API lets them), then its worker only; nobody else is offered the button, and a reason the API refuses is said
// beside its field, as typed.
func TestCancelInTheApp(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	cy, cyTok := c.member("Cy Rider", "customer")
	id := c.request(cyTok, 1500)
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/accept", id), anaTok, nil)
	page := fmt.Sprintf("/app/work/%d", id)
	ws, cs := c.session(t), c.session(t)
	wcsrf, ccsrf := ws.signIn(c.code(ana)), cs.signIn(c.code(cy))
	if p := ws.do("GET", page, nil); !strings.Contains(p.body, `id="cancel"`) || !strings.Contains(p.body, `id="cancel-reason"`) {
		t.Fatalf("the worker's page of work she took: %s", p.body)
	}
	long := strings.Repeat("x", 501)
	if p := ws.do("POST", page+"/cancel", url.Values{"csrf": {wcsrf}, "reason": {long}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="cancel-reason-error"`) || !strings.Contains(p.body, ">"+long+"</textarea>") {
		t.Fatalf("a reason too long: %d %s", p.status, p.body)
	}
	if p := ws.do("POST", page+"/cancel", url.Values{"csrf": {wcsrf}, "reason": {"My car broke down"}}); p.status != http.StatusSeeOther {
		t.Fatalf("the worker cancelling: %d %s", p.status, p.body)
	}
	if p := cs.do("GET", page, nil); !strings.Contains(p.body, `<q class="note">My car broke down</q>`) || strings.Contains(p.body, `id="cancel"`) {
		t.Fatalf("the customer's page of work its worker cancelled: %s", p.body)
	}

	// Taken, not started: the customer may cancel it.
	id = c.request(cyTok, 1500)
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/accept", id), anaTok, nil)
	page = fmt.Sprintf("/app/work/%d", id)
	if p := cs.do("POST", page+"/cancel", url.Values{"csrf": {ccsrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("the customer cancelling work taken: %d %s", p.status, p.body)
	}
	if w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", id), cyTok, nil); w["state"] != "cancelled" {
		t.Fatalf("work cancelled by its customer: %v", w)
	}
	// Under way: no longer the customer's to cancel (staff are asked), still its worker's.
	id = c.request(cyTok, 1500)
	for _, step := range []string{"accept", "start"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), anaTok, nil)
	}
	page = fmt.Sprintf("/app/work/%d", id)
	if p := cs.do("GET", page, nil); strings.Contains(p.body, `id="cancel"`) {
		t.Fatalf("the customer's page of work under way: %s", p.body)
	}
	if p := cs.do("POST", page+"/cancel", url.Values{"csrf": {ccsrf}}); p.status != http.StatusConflict {
		t.Fatalf("the customer cancelling work under way: %d %s", p.status, p.body)
	}
	if p := ws.do("GET", page, nil); !strings.Contains(p.body, `id="cancel"`) {
		t.Fatalf("the worker's page of work under way: %s", p.body)
	}
	if p := ws.do("POST", page+"/cancel", url.Values{"csrf": {wcsrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("the worker cancelling work under way: %d %s", p.status, p.body)
	}
	// Offered to a worker: she declines it, she does not cancel it.
	id = c.request(cyTok, 1500)
	if p := ws.do("GET", fmt.Sprintf("/app/work/%d", id), nil); strings.Contains(p.body, `id="cancel"`) {
		t.Fatalf("the page of an offer: %s", p.body)
	}
}

// TestCardsSayWhatAndWhen: a carer sees what the staff verified of her (skills, the
// background check's expiry); her offer says until when it stands, and her current
// work its details (the address); their buttons name the work they act on for a screen
// reader; the family's requests say when; the work's page names its carer by number.
func TestCardsSayWhatAndWhen(t *testing.T) {
	c := newVerticalCoop(t, "care") // the service's clock: Tuesday 2026-12-01 09:00 UTC
	client, clientTok := c.member("Cid Client", "customer")
	cara, caraTok := c.worker("Cara Carer", "booking")
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", cara), adminToken, map[string]any{"skills": []string{"night"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-02", "expiresAt": "2027-11-02T00:00:00Z"}})
	id := int64(c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "priceCents": 4000,
		"details": map[string]string{"address": "1 rue de la Paix", "careType": "night", "scheduledAt": "2026-12-03T10:00:00Z"}})["id"].(float64))
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), clientTok, nil)

	ws := c.session(t)
	ws.signIn(c.code(cara))
	p := ws.do("GET", "/app/home", nil)
	// What the staff verified, for the carer to see (and ask about before it expires).
	if !strings.Contains(p.body, `id="credentials-skills">Verified skills: night.`) || !strings.Contains(p.body, `id="credentials-check">Background check: clear, until 2027-11-02 00:00 UTC.`) {
		t.Fatalf("the carer's credentials: %s", p.body)
	}
	for _, want := range []string{fmt.Sprintf(`id="offer-%d-until">Open to you until 2026-12-01 09:05 UTC`, id),
		fmt.Sprintf(`id="accept-%d" aria-describedby="offer-%d-h"`, id, id), fmt.Sprintf(`id="decline-%d" aria-describedby="offer-%d-h"`, id, id)} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("the carer's offer lacks %s: %s", want, p.body)
		}
	}
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/accept", id), caraTok, nil)
	p = ws.do("GET", "/app/home", nil)
	current := between(p.body, `id="current-h"`, "</section>")
	if !strings.Contains(current, "1 rue de la Paix") || !strings.Contains(current, fmt.Sprintf(`id="start-%d" aria-describedby="current-%d-h"`, id, id)) {
		t.Fatalf("the carer's current work: %s", current)
	}

	cs := c.session(t)
	cs.signIn(c.code(client))
	if p := cs.do("GET", "/app/home", nil); !strings.Contains(between(p.body, `id="req-h"`, "</section>"), "2026-12-03 10:00 UTC") {
		t.Fatalf("the family's requests: %s", p.body)
	}
	if p := cs.do("GET", fmt.Sprintf("/app/work/%d", id), nil); !strings.Contains(p.body, fmt.Sprintf(`id="work-worker">no. %d`, cara)) {
		t.Fatalf("the family's page of the booking: %s", p.body)
	}
}

// TestBatchedDeliveryInTheApp: in a delivery co-op the request form takes further
// drop-offs, which make one batched delivery for one courier (its stops, in the form's
// order, the dropoff first); notes without an address, or a stop the API refuses, are
// said beside their row and nothing is requested; a single drop-off stays a plain one.
func TestBatchedDeliveryInTheApp(t *testing.T) {
	c := newVerticalCoop(t, "delivery")
	cust, custTok := c.member("Cy Shop", "customer")
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	if p := s.do("GET", "/app/request", nil); !strings.Contains(p.body, `<label for="stop-1-address">Drop-off 2</label>`) || strings.Contains(p.body, `id="stop-5-address"`) {
		t.Fatalf("the delivery form: %s", p.body)
	}
	requested := func() int {
		var n int
		if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM work_items`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	form := url.Values{"csrf": {csrf}, "kind": {"delivery"}, "details.pickup": {"Bakery, 3 rue Mercière"}, "details.dropoff": {"12 quai Saint-Antoine"},
		"price": {"18"}, "stop.1.address": {"4 rue Longue"}, "stop.2.notes": {"ring twice"}, "stop.3.address": {"9 place Sathonay"}}
	if p := s.do("POST", "/app/request", form); p.status != http.StatusBadRequest || !strings.Contains(p.body, `name="stop.2.address" value="" aria-invalid="true" aria-describedby="stop-2-address-error"`) || requested() != 0 {
		t.Fatalf("notes without an address: %d %s", p.status, p.body)
	}
	first := maps.Clone(form)
	first.Del("stop.2.notes")
	first.Set("details.dropoff", "")
	if p := s.do("POST", "/app/request", first); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="f-dropoff-error">Give the first drop-off here`) || requested() != 0 {
		t.Fatalf("further drop-offs without the first: %d %s", p.status, p.body)
	}
	long := maps.Clone(form)
	long.Del("stop.2.notes")
	long.Set("stop.3.address", strings.Repeat("x", 1001))
	if p := s.do("POST", "/app/request", long); p.status != http.StatusBadRequest || !strings.Contains(p.body, `aria-describedby="stop-3-address-error"`) || requested() != 0 {
		t.Fatalf("a drop-off the API refuses: %d %s", p.status, p.body)
	}
	// Notes the API refuses mark the notes, not the address.
	longNotes := maps.Clone(form)
	longNotes.Del("stop.2.notes")
	longNotes.Set("stop.3.notes", strings.Repeat("x", 1001))
	if p := s.do("POST", "/app/request", longNotes); p.status != http.StatusBadRequest || !strings.Contains(p.body, `aria-describedby="stop-3-notes-error"`) ||
		strings.Contains(p.body, `stop-3-address-error`) || requested() != 0 {
		t.Fatalf("a drop-off's notes the API refuses: %d %s", p.status, p.body)
	}
	form.Del("stop.2.notes")
	form.Set("stop.3.notes", "back door")
	if p := s.do("POST", "/app/request", form); p.status != http.StatusSeeOther {
		t.Fatalf("a batched delivery: %d %s", p.status, p.body)
	}
	var id int64
	if err := c.owner.QueryRow(t.Context(), `SELECT id FROM work_items`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", id), custTok, nil)
	stops, _ := json.Marshal(w["stops"])
	if string(stops) != `[{"address":"12 quai Saint-Antoine"},{"address":"4 rue Longue"},{"address":"9 place Sathonay","notes":"back door"}]` || w["details"].(map[string]any)["dropoff"] != nil {
		t.Fatalf("the delivery's stops: %s, details %v", stops, w["details"])
	}
	single := url.Values{"csrf": {csrf}, "kind": {"delivery"}, "details.pickup": {"Bakery"}, "details.dropoff": {"12 quai Saint-Antoine"}, "price": {"9"}}
	if p := s.do("POST", "/app/request", single); p.status != http.StatusSeeOther {
		t.Fatalf("a single delivery: %d %s", p.status, p.body)
	}
	var plain int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM work_items WHERE stops IS NULL AND details->>'dropoff' = '12 quai Saint-Antoine'`).Scan(&plain); err != nil || plain != 1 {
		t.Fatalf("%d plain deliveries, %v", plain, err)
	}
}

// TestCareTeamReadsAllTheClientsBookings: a carer who did a client's booking long ago, 200
// bookings of another carer since, is still among those the client may choose (the page
// read the client's newest 200 work items for them).
func TestCareTeamReadsAllTheClientsBookings(t *testing.T) {
	c := newVerticalCoop(t, "care")
	client, clientTok := c.member("Cid Client", "customer")
	cara, caraTok := c.worker("Cara Carer", "booking")
	dee, _ := c.worker("Dee Carer", "booking")
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", cara), adminToken, map[string]any{"skills": []string{"night"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-02", "expiresAt": "2027-11-02T00:00:00Z"}})
	id := int64(c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "priceCents": 4000,
		"details": map[string]string{"address": "1 rue de la Paix", "careType": "night", "scheduledAt": "2026-12-01T10:00:00Z"}})["id"].(float64))
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), clientTok, nil)
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), caraTok, nil)
	}
	// 200 completed bookings of Dee's since, as the database holds them (copies of Cara's).
	var cols []string
	rows, err := c.owner.Query(t.Context(), `SELECT column_name FROM information_schema.columns WHERE table_name = 'work_items' AND column_name <> 'id' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var col string
		if err := rows.Scan(&col); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, col)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	sel := strings.Replace(strings.Join(cols, ", "), "worker_id", "$2::bigint", 1)
	if _, err := c.owner.Exec(t.Context(), `INSERT INTO work_items (`+strings.Join(cols, ", ")+`) SELECT `+sel+` FROM work_items, generate_series(1, 200) WHERE id = $1`, id, dee); err != nil {
		t.Fatal(err)
	}
	s := c.session(t)
	s.signIn(c.code(client))
	p := s.do("GET", "/app/team", nil)
	if !strings.Contains(p.body, fmt.Sprintf(`id="carer-%d"> Carer no. %d (1 of your bookings)`, cara, cara)) ||
		!strings.Contains(p.body, fmt.Sprintf(`id="carer-%d"> Carer no. %d (200 of your bookings)`, dee, dee)) {
		t.Fatalf("the team page after 200 bookings of Dee's: %s", p.body[strings.Index(p.body, "<main"):])
	}
}

// TestCareTeamInTheApp: a care client chooses their regular carers in the app among the
// carers who did their bookings (and those already on their team); the team is saved
// through the API and offered the client's next booking first. A member who is no care
// client has no such page.
func TestCareTeamInTheApp(t *testing.T) {
	c := newVerticalCoop(t, "care")
	client, clientTok := c.member("Cid Client", "customer")
	cara, caraTok := c.worker("Cara Carer", "booking")
	dee, _ := c.worker("Dee Carer", "booking")
	for _, id := range []int64{cara, dee} {
		c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", id), adminToken, map[string]any{"skills": []string{"night"},
			"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-02", "expiresAt": "2027-11-02T00:00:00Z"}})
	}
	booking := func(at string) int64 {
		return int64(c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "priceCents": 4000,
			"details": map[string]string{"address": "1 rue de la Paix", "careType": "night", "scheduledAt": at}})["id"].(float64))
	}
	s := c.session(t)
	csrf := s.signIn(c.code(client))
	if p := s.do("GET", "/app/team", nil); !strings.Contains(p.body, `id="no-carers"`) {
		t.Fatalf("the team page before any booking: %s", p.body)
	}
	// Cara does a booking (the fair rotation offers it to her first: no one was assigned yet).
	id := booking("2026-12-01T10:00:00Z")
	offer := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), clientTok, nil)
	if int64(offer["workerId"].(float64)) != cara {
		t.Fatalf("the first booking went to %v", offer["workerId"])
	}
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), caraTok, nil)
	}
	p := s.do("GET", "/app/team", nil)
	if !strings.Contains(p.body, fmt.Sprintf(`id="carer-%d"> Carer no. %d (1 of your bookings)`, cara, cara)) || strings.Contains(p.body, fmt.Sprintf(`id="carer-%d"`, dee)) {
		t.Fatalf("the team page after Cara's booking: %s", p.body)
	}
	if p := s.do("POST", "/app/team", url.Values{"csrf": {csrf}, "carer": {fmt.Sprint(cara)}}); p.status != http.StatusSeeOther {
		t.Fatalf("choosing Cara: %d %s", p.status, p.body)
	}
	team := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/team", client), clientTok, nil)
	if ids := team["workerIds"].([]any); len(ids) != 1 || int64(ids[0].(float64)) != cara {
		t.Fatalf("the team saved: %v", team)
	}
	if p := s.do("GET", "/app/team", nil); !strings.Contains(p.body, fmt.Sprintf(`id="carer-%d" checked>`, cara)) {
		t.Fatalf("the team page once Cara is on the team: %s", p.body)
	}
	// The next booking goes to Cara first, where the rotation would have chosen Dee.
	next := booking("2026-12-01T13:00:00Z")
	if o := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", next), clientTok, nil); int64(o["workerId"].(float64)) != cara {
		t.Fatalf("the booking after Cara joined the team went to %v", o["workerId"])
	}
	// A carer who is not a worker of the co-op is refused by the API, said on the page.
	if p := s.do("POST", "/app/team", url.Values{"csrf": {csrf}, "carer": {fmt.Sprint(client)}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="form-error"`) {
		t.Fatalf("a team of the client: %d %s", p.status, p.body)
	}
	// A carer who is no longer a worker is named beside their box.
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/cancel", next), clientTok, nil)
	c.must(http.StatusOK, "PATCH", fmt.Sprintf("/v1/members/%d", cara), adminToken, map[string]any{"roles": []string{"customer"}})
	if p := s.do("POST", "/app/team", url.Values{"csrf": {csrf}, "carer": {fmt.Sprint(cara)}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, fmt.Sprintf(`<span class="field-error" id="carer-%d-error">This carer is no longer a worker of the co-op`, cara)) {
		t.Fatalf("a team of a carer who left the worker role: %d %s", p.status, p.body)
	}
	// Unticking everyone empties the team.
	if p := s.do("POST", "/app/team", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("emptying the team: %d %s", p.status, p.body)
	}
	if team := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/team", client), clientTok, nil); len(team["workerIds"].([]any)) != 0 {
		t.Fatalf("the team after unticking everyone: %v", team)
	}
	ws := c.session(t)
	ws.signIn(c.code(dee))
	if p := ws.do("GET", "/app/team", nil); p.status != http.StatusForbidden {
		t.Fatalf("a carer's team page: %d", p.status)
	}
}

// TestMilestonesRequestedInTheApp: a freelance client splits a project's price into
// milestones on the request form; a row without a title, or milestones that do not add up
// to the price (the API's refusal, in the member's language), are said on the form and
// nothing is requested; an empty form requests a project paid at its end.
func TestMilestonesRequestedInTheApp(t *testing.T) {
	c := newVerticalCoop(t, "freelance")
	client, clientTok := c.member("Cia Client", "customer")
	c.worker("Dev Freelancer", "gig")
	s := c.session(t)
	csrf := s.signIn(c.code(client))
	if p := s.do("GET", "/app/request", nil); !strings.Contains(p.body, `<label for="milestone-1-title">Milestone 1</label>`) || strings.Contains(p.body, `id="milestone-6-title"`) {
		t.Fatalf("the gig form: %s", p.body)
	}
	requested := func() int {
		var n int
		if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM work_items`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	gig := url.Values{"csrf": {csrf}, "kind": {"gig"}, "details.title": {"Website"}, "details.description": {"A co-op's website"}, "price": {"900"},
		"milestone.1.title": {"Design"}, "milestone.1.amount": {"300"}, "milestone.3.title": {"Build"}, "milestone.3.amount": {"600"}}
	noTitle := maps.Clone(gig)
	noTitle.Set("milestone.2.amount", "50")
	if p := s.do("POST", "/app/request", noTitle); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="milestone-2-error"`) || requested() != 0 {
		t.Fatalf("a milestone without a title: %d %s", p.status, p.body)
	}
	short := maps.Clone(gig)
	short.Set("milestone.3.amount", "500")
	if p := s.do("POST", "/app/request?lang=fr", short); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="milestones-error" role="alert">Les étapes font 800,00 au total, et non le prix de 900,00.`) || requested() != 0 {
		t.Fatalf("milestones short of the price: %d %s", p.status, p.body)
	}
	s.do("GET", "/app/home?lang=en", nil)
	if p := s.do("POST", "/app/request", gig); p.status != http.StatusSeeOther {
		t.Fatalf("a project by milestones: %d %s", p.status, p.body)
	}
	var id int64
	if err := c.owner.QueryRow(t.Context(), `SELECT id FROM work_items`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	ms, _ := json.Marshal(c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", id), clientTok, nil)["milestones"])
	if string(ms) != `[{"amountCents":30000,"n":1,"state":"open","title":"Design"},{"amountCents":60000,"n":2,"state":"open","title":"Build"}]` {
		t.Fatalf("the project's milestones: %s", ms)
	}
	plain := url.Values{"csrf": {csrf}, "kind": {"gig"}, "details.title": {"Logo"}, "details.description": {"A logo"}, "price": {"200"}}
	if p := s.do("POST", "/app/request", plain); p.status != http.StatusSeeOther {
		t.Fatalf("a project paid at its end: %d %s", p.status, p.body)
	}
	var none int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM milestones m JOIN work_items w ON w.id = m.work_id WHERE w.details->>'title' = 'Logo'`).Scan(&none); err != nil || none != 0 {
		t.Fatalf("%d milestones of a project paid at its end, %v", none, err)
	}
}

// TestAskAFundInTheApp: a member in need asks the hardship fund for help in the app,
// warned that every member reads the amount and the reason but not their name; a request
// without a reason, or of more than the fund holds, is said beside its field, in the
// member's language, and nothing is asked; the form sent twice asks once. The request's
// page follows the vote, which names nobody, to the payment; nobody else reads it.
func TestAskAFundInTheApp(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	bea, _ := c.member("Bea Driver", "worker")
	_, cyTok := c.member("Cy Rider", "customer")
	work := c.request(cyTok, 100000) // 1,000.00: 1 % of it, 10.00, to the hardship fund
	for _, step := range []string{"accept", "start", "complete"} {
		who := anaTok
		if w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", work), cyTok, nil); int64(w["workerId"].(float64)) != ana {
			t.Fatalf("the ride went to %v, want Ana", w["workerId"])
		}
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", work, step), who, nil)
	}
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	if p := s.do("GET", "/app/money", nil); !strings.Contains(p.body, `href="/app/funds/ask" id="ask-fund"`) {
		t.Fatalf("the money page has no way to ask a fund: %s", p.body)
	}
	p := s.do("GET", "/app/funds/ask", nil)
	if !strings.Contains(p.body, `id="ask-fund-privacy"`) || !strings.Contains(p.body, `<option value="hardship"`) {
		t.Fatalf("the form: %s", p.body)
	}
	key := hiddenInput(p.body, "key")
	count := func() int64 {
		var n int64
		if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM disbursements`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ask := func(amount, reason string, headers ...string) answer {
		t.Helper()
		return s.do("POST", "/app/funds/ask", url.Values{"csrf": {csrf}, "key": {key}, "fund": {"hardship"}, "amount": {amount}, "reason": {reason}}, headers...)
	}
	// (A refused form's page says so first in its title, for a screen reader.)
	if p := ask("5.00", ""); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="ask-reason-error">Say why`) || count() != 0 ||
		!strings.Contains(p.body, "<title>Error: Ask a fund for help") {
		t.Fatalf("without a reason: %d %s", p.status, p.body)
	}
	if p := ask("50,00", "My car broke down"); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="ask-amount-error">The hardship fund holds 10.00`) ||
		!strings.Contains(p.body, "My car broke down</textarea>") || count() != 0 {
		t.Fatalf("more than the fund holds: %d %s", p.status, p.body)
	}
	if p := s.do("POST", "/app/funds/ask?lang=fr", url.Values{"csrf": {csrf}, "key": {key}, "fund": {"hardship"}, "amount": {"50"}, "reason": {"x"}}); !strings.Contains(p.body, "Le fonds hardship détient 10,00") {
		t.Fatalf("more than the fund holds, in French: %s", p.body)
	}
	s.do("GET", "/app/home?lang=en", nil)
	p = ask("5.00", "My car broke down")
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/app/disbursements/") {
		t.Fatalf("asking: %d %s", p.status, p.body)
	}
	if again := ask("5.00", "My car broke down"); again.header.Get("Location") != loc || count() != 1 {
		t.Fatalf("the form sent twice: %s, %d disbursements", again.header.Get("Location"), count())
	}
	page := strings.TrimSuffix(loc, "?done=askedFund")
	p = s.do("GET", page, nil)
	if !strings.Contains(p.body, `id="disbursement-status">Put to the members&#39; vote`) || !strings.Contains(p.body, `id="disbursement-vote"`) {
		t.Fatalf("the request's page: %s", p.body)
	}
	bs := c.session(t)
	bs.signIn(c.code(bea))
	if p := bs.do("GET", page, nil); p.status != http.StatusNotFound {
		t.Fatalf("another member reads the request: %d", p.status)
	}
	// The vote names nobody; it passes, the fund pays, and the page says so.
	var proposal int64
	if err := c.owner.QueryRow(t.Context(), `SELECT proposal_id FROM disbursements`).Scan(&proposal); err != nil {
		t.Fatal(err)
	}
	gov := between(bs.do("GET", "/app/governance", nil).body, fmt.Sprintf(`id="proposal-%d"`, proposal), "</article>")
	if strings.Contains(gov, "Ana") || !strings.Contains(gov, "My car broke down") {
		t.Fatalf("the vote: %s", gov)
	}
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", proposal), anaTok, map[string]any{"choice": "yes"})
	bs.do("POST", fmt.Sprintf("/app/proposals/%d/ballot", proposal), url.Values{"csrf": {hiddenInput(bs.do("GET", "/app/governance", nil).body, "csrf")}, "choice": {"yes"}})
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/proposals/%d/close", proposal), adminToken, nil)
	if p := s.do("GET", page, nil); !strings.Contains(p.body, `id="disbursement-status">Paid`) {
		t.Fatalf("the request's page once paid: %s", p.body)
	}
	if p := s.do("GET", "/app/notifications", nil); !strings.Contains(p.body, `href="`+page+`"`) {
		t.Fatalf("the notification of the payment does not lead to the request: %s", p.body)
	}
}

// TestTreasurerExportsInTheApp: a member of staff downloads the co-op's books of a period
// as CSV from the app (the money page links to it), the last month by default; a period
// the API refuses is said beside its field, in French too; a member who is not staff has
// neither the link nor the page nor the file.
func TestTreasurerExportsInTheApp(t *testing.T) {
	c := newCoop(t) // the service's clock: 2026-12-01
	tess, _ := c.member("Tess Treasurer", "staff")
	ana, anaTok := c.member("Ana Driver", "worker")
	_, cyTok := c.member("Cy Rider", "customer")
	work := c.request(cyTok, 2000)
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", work, step), anaTok, nil)
	}
	s := c.session(t)
	s.signIn(c.code(tess))
	if p := s.do("GET", "/app/money", nil); !strings.Contains(p.body, `id="exports-link"`) {
		t.Fatalf("the treasurer's money page: %s", p.body)
	}
	p := s.do("GET", "/app/exports", nil)
	if !strings.Contains(p.body, `id="export-from" name="from" type="date" value="2026-11-01"`) || !strings.Contains(p.body, `id="export-to" name="to" type="date" value="2026-11-30"`) {
		t.Fatalf("the exports page: %s", p.body)
	}
	p = s.do("GET", "/app/exports/download?report=payments&from=2026-12-01&to=2026-12-31", nil)
	if p.status != http.StatusOK || p.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		p.header.Get("Content-Disposition") != `attachment; filename="payments-2026-12-01-2026-12-31.csv"` ||
		!strings.Contains(p.body, fmt.Sprint(work)) || strings.Count(p.body, "\r\n") != 2 {
		t.Fatalf("the payments' export: %d %v %q", p.status, p.header, p.body)
	}
	if p := s.do("GET", "/app/exports/download?report=ledger&from=2026-12-31&to=2026-12-01", nil); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="to-error">The end comes on or after the start`) {
		t.Fatalf("a period backwards: %d %s", p.status, p.body)
	}
	if p := s.do("GET", "/app/exports/download?report=ledger&from=soon&to=2026-12-01&lang=fr", nil); !strings.Contains(p.body, `id="from-error">Donnez une date`) {
		t.Fatalf("a date that is none, in French: %s", p.body)
	}
	s.do("GET", "/app/home?lang=en", nil)
	as := c.session(t)
	as.signIn(c.code(ana))
	if p := as.do("GET", "/app/money", nil); strings.Contains(p.body, `id="exports-link"`) {
		t.Fatal("a worker's money page links to the exports")
	}
	for _, path := range []string{"/app/exports", "/app/exports/download?report=payments&from=2026-12-01&to=2026-12-31"} {
		if p := as.do("GET", path, nil); p.status != http.StatusForbidden || strings.Contains(p.body, fmt.Sprint(work)+",") {
			t.Fatalf("a worker at %s: %d", path, p.status)
		}
	}
}

// TestEmergencyBackupInTheApp: a care family asks for emergency backup on the request
// form: the booking is urgent, offered to several carers at once; the box is offered in a
// care co-op only, and kept as ticked when the form is refused.
func TestEmergencyBackupInTheApp(t *testing.T) {
	c := newVerticalCoop(t, "care")
	client, clientTok := c.member("Cid Client", "customer")
	for _, name := range []string{"Cara Carer", "Dee Carer", "Eve Carer"} {
		id, _ := c.worker(name, "booking")
		c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", id), adminToken, map[string]any{"skills": []string{"night"},
			"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-02", "expiresAt": "2027-11-02T00:00:00Z"}})
	}
	s := c.session(t)
	csrf := s.signIn(c.code(client))
	if p := s.do("GET", "/app/request", nil); !strings.Contains(p.body, `id="urgent"`) {
		t.Fatalf("the care request form has no emergency backup: %s", p.body)
	}
	form := url.Values{"csrf": {csrf}, "kind": {"booking"}, "details.address": {"1 rue de la Paix"}, "details.careType": {"night"},
		"details.scheduledAt": {"2026-12-01T20:00"}, "price": {"40"}, "urgent": {"yes"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("details.address", "")
	if p := s.do("POST", "/app/request", bad); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="urgent" checked`) {
		t.Fatalf("a refused urgent request: %d %s", p.status, p.body)
	}
	p := s.do("POST", "/app/request", form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("an urgent request: %d %s", p.status, p.body)
	}
	var id int64
	if _, err := fmt.Sscanf(p.header.Get("Location"), "/app/work/%d", &id); err != nil {
		t.Fatalf("an urgent request led to %q", p.header.Get("Location"))
	}
	if w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", id), clientTok, nil); w["urgent"] != true || w["state"] != "offered" {
		t.Fatalf("the urgent booking: %v", w)
	}
	var offered int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM offers WHERE work_id = $1 AND status = 'offered'`, id).Scan(&offered); err != nil || offered < 2 {
		t.Fatalf("the urgent booking is offered to %d carers (%v), want several", offered, err)
	}
	// Elsewhere, no such box.
	ride := newCoop(t)
	cy, _ := ride.member("Cy Rider", "customer")
	rs := ride.session(t)
	rs.signIn(ride.code(cy))
	if p := rs.do("GET", "/app/request", nil); strings.Contains(p.body, `id="urgent"`) {
		t.Fatal("a ride co-op's request form offers emergency backup")
	}
}

// The work page of a booking whose carer took time off while it was offered to her tells
// its client only that the offer moved on, not why (the carer's reason is hers).
func TestWorkPageSaysOnlyThatTheOfferMovedOn(t *testing.T) {
	c := newVerticalCoop(t, "care")
	client, clientTok := c.member("Cid Client", "customer")
	cara, caraTok := c.worker("Cara Carer", "booking")
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", cara), adminToken, map[string]any{"skills": []string{"night"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-02", "expiresAt": "2027-11-02T00:00:00Z"}})
	id := int64(c.must(http.StatusCreated, "POST", "/v1/work", clientTok, map[string]any{"kind": "booking", "priceCents": 4000,
		"details": map[string]string{"address": "1 rue de la Paix", "careType": "night", "scheduledAt": "2026-12-03T10:00:00Z"}})["id"].(float64))
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), adminToken, map[string]any{"workerId": cara}) // staff name any carer
	c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/schedule/exceptions", cara), caraTok,
		map[string]any{"from": "2026-12-03T00:00:00Z", "to": "2026-12-04T00:00:00Z", "available": false})
	s := c.session(t)
	s.signIn(c.code(client))
	p := s.do("GET", fmt.Sprintf("/app/work/%d", id), nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, `<q class="note">the offer moved on; no other worker available</q>`) || strings.Contains(p.body, "time off") {
		t.Fatalf("the client's page of the work: %d %s", p.status, p.body)
	}
}

// TestStepPressedTwice: a step pressed twice (or sent again after a lost answer) that the
// first press did says it done, as the first did, rather than an error; one that another
// member did, or that left the work elsewhere, is still refused.
func TestStepPressedTwice(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	_, custTok := c.member("Cy Rider", "customer")
	cust2, cust2Tok := c.member("Dee Rider", "customer")
	work := c.request(custTok, 1000) // offered to Ana
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	for _, step := range []string{"accept", "start", "complete"} {
		for press := 1; press <= 2; press++ {
			p := s.do("POST", fmt.Sprintf("/app/work/%d/%s", work, step), url.Values{"csrf": {csrf}})
			if p.status != http.StatusSeeOther || p.header.Get("Location") != fmt.Sprintf("/app/work/%d?done=%s", work, step) {
				t.Fatalf("%s, press %d: %d %s %.300s", step, press, p.status, p.header.Get("Location"), p.body)
			}
		}
	}
	// Accept pressed on work that is already further along: refused.
	if p := s.do("POST", fmt.Sprintf("/app/work/%d/accept", work), url.Values{"csrf": {csrf}}); p.status != http.StatusConflict {
		t.Fatalf("accept of completed work: %d", p.status)
	}
	// Cancelled by its worker, then a customer's cancel: not the customer's doing.
	other := c.request(cust2Tok, 1000)
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/accept", other), anaTok, nil)
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/cancel", other), anaTok, nil)
	cs := c.session(t)
	ccsrf := cs.signIn(c.code(cust2))
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/cancel", other), url.Values{"csrf": {ccsrf}}); p.status != http.StatusConflict {
		t.Fatalf("the customer cancelling work its worker cancelled: %d", p.status)
	}
	// Her own cancel pressed twice.
	mine := c.request(cust2Tok, 1000)
	for press := 1; press <= 2; press++ {
		if p := cs.do("POST", fmt.Sprintf("/app/work/%d/cancel", mine), url.Values{"csrf": {ccsrf}}); p.status != http.StatusSeeOther {
			t.Fatalf("cancel, press %d: %d %.300s", press, p.status, p.body)
		}
	}
}
