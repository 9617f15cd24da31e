package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestHandlersHoldNoSQL: the handler files decode, validate, call a store and encode;
// every query is in a store package (store/members, work, payments, proposals, funds,
// fares). A call of Query, QueryRow or Exec in a handler file fails this test.
func TestHandlersHoldNoSQL(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				switch sel.Sel.Name {
				case "Query", "QueryRow", "Exec", "SendBatch", "CopyFrom":
					// r.URL.Query() is the request's query string, not SQL.
					if x, ok := sel.X.(*ast.SelectorExpr); ok && x.Sel.Name == "URL" {
						return true
					}
					t.Errorf("%s: %s in a handler file: move the query to its store package", fset.Position(call.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}
