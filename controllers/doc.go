// Package controllers holds the reconcilers of cooperator, one package each, and the helpers
// they share.
package controllers
