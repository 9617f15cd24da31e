package web

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/sessions"
)

func sessionsOn(db store.DBTX) sessions.Store { return sessions.On(db) }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func sha256Sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// language is the member's language: the one they chose (?lang=, kept in a cookie), else
// the first of the browser's languages the app speaks, else English.
func (a *App) language(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); catalogues[l] != nil {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/app/", MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && catalogues[c.Value] != nil {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if catalogues[base] != nil {
			return base
		}
	}
	return "en"
}

// money renders cents in the language's way (12.34 or 12,34), in integer arithmetic.
func money(lang string, cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	sep := "."
	if lang == "fr" {
		sep = ","
	}
	return fmt.Sprintf("%s%d%s%02d", sign, cents/100, sep, cents%100)
}

// dateTime shows a time in the co-op's time zone, with the zone's abbreviation (UTC, CET,
// or the offset, such as -05, where the zone has no letters of its own).
func dateTime(lang string, zone *time.Location, t any) string {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v == nil {
			return ""
		}
		tt = *v
	default:
		return ""
	}
	if zone == nil {
		zone = time.UTC
	}
	if lang == "fr" {
		return tt.In(zone).Format("02/01/2006 15:04 MST")
	}
	return tt.In(zone).Format("2006-01-02 15:04 MST")
}

var funcs = template.FuncMap{
	"T": func(lang, key string, args ...any) string {
		s := tr(lang, key)
		if len(args) > 0 {
			return fmt.Sprintf(s, args...)
		}
		return s
	},
	"money":     money,
	"join":      func(xs []string) string { return strings.Join(xs, ", ") },
	"decimal":   decimalText,
	"date":      dateTime,
	"state":     func(lang, s string) string { return tr(lang, "state."+s) },
	"fieldName": func(lang, f string) string { return trField(lang, f) },
	"applied":   trApplied,
	// apiText is a message of the API's (a disbursement's outcome) in the member's
	// language where the catalogue has it, as written otherwise.
	"apiText": trAPI,
	// detail shows a work item's detail: a time (RFC 3339, as scheduledAt is stored) on
	// the co-op's clock, anything else as written.
	"detail": func(lang string, zone *time.Location, v string) string {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return dateTime(lang, zone, t)
		}
		return v
	},
	"account": accountName,
	"deref": func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	},
	"eq64":   func(p *int64, v int64) bool { return p != nil && *p == v },
	"chartW": func() int { return chartWidth },
	"labelW": func() int { return chartLabelW },
}

func init() {
	funcs["str"] = func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	funcs["list5"] = func() []int { return []int{1, 2, 3, 4, 5} }
	// dict makes a map of name, value pairs: the data of a template called with several.
	funcs["dict"] = func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, errors.New("dict takes name, value pairs")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: name %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	}
}
