package web

import (
	"embed"
	"encoding/json"
	"strings"
)

// The message catalogues, one JSON object of key to message per language.
//
//go:embed messages/*.json
var messagesFS embed.FS

// catalogues hold every string of the app, per language. tr of a key missing from a
// catalogue renders "⟦key⟧", which the tests look for on every page in every language.
var catalogues = map[string]map[string]string{"en": loadCatalogue("en"), "fr": loadCatalogue("fr")}

func loadCatalogue(lang string) map[string]string {
	b, err := messagesFS.ReadFile("messages/" + lang + ".json")
	if err != nil {
		panic(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic("messages/" + lang + ".json: " + err.Error())
	}
	return m
}

func tr(lang, key string) string {
	if s, ok := catalogues[lang][key]; ok {
		return s
	}
	return "⟦" + key + "⟧"
}

// trField names a field of a work request.
func trField(lang, f string) string {
	if s, ok := catalogues[lang]["field."+f]; ok {
		return s
	}
	return "⟦field." + f + "⟧"
}

// trAPI translates the API's error messages the forms show; an unknown message stays as
// the API wrote it (English), after the field's name.
func trAPI(lang, msg string) string {
	if s, ok := catalogues[lang]["api."+msg]; ok {
		return s
	}
	for prefix, key := range apiPrefixes {
		if strings.HasPrefix(msg, prefix) {
			if s, ok := catalogues[lang][key]; ok {
				return s
			}
		}
	}
	return msg
}

var apiPrefixes = map[string]string{
	"payments for this work add up to at most its agreed price": "api.paymentTooMuch",
	"work in state":                                              "api.wrongState",
	"must be a date like":                                        "api.date",
	"must be a time like":                                        "api.time",
	"must be in 1970 or later":                                   "api.timeWindow",
	"must be at least the voted floorCents":                      "api.floor",
	"is required (at most 1000 characters)":                      "askRefund.reasonRequired",
	"a refund of this payment is already put to the vote":        "api.refundPending",
	"voting closed at the proposal's deadline":                   "api.votingClosed",
	"your offer expired":                                         "api.offerExpired",
	"your offer was withdrawn":                                   "api.offerWithdrawn",
	"only an active member holding the worker role accepts work": "api.notWorker",
	"the refund takes ":                                          "api.fundShort",
	"the proposal passed, but the refund takes ":                 "api.fundShort",
}
