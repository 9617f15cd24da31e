/*
Copyright 2026 The cooperator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Decimal is an exact decimal number of the API, such as an amount of money or a weight.
// People write it as they write Kubernetes quantities: a quoted string ("412.50",
// "0.125"), or, for a whole number, a plain YAML or JSON integer (1). An unquoted number
// with decimals (0.125) is refused: YAML and JSON read it as floating point, which is not
// exact. Each field adds the pattern of its precision (two decimals for money). In Go it
// is a string.
//
// +kubebuilder:validation:XIntOrString
// +kubebuilder:validation:Type=""
// +kubebuilder:validation:XValidation:rule="type(self) != int || self >= 0",message="must not be negative"
type Decimal string

// decimalInteger is what a Decimal written as a JSON number may be: a whole number.
var decimalInteger = regexp.MustCompile(`^[0-9]+$`)

// UnmarshalJSON reads a quoted decimal, or a whole number written as a JSON number.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*d = Decimal(s)
		return nil
	}
	if string(b) == "null" {
		*d = ""
		return nil
	}
	if !decimalInteger.Match(b) {
		return fmt.Errorf("decimal %s: write a number with decimals as a quoted string, such as \"0.125\"", b)
	}
	*d = Decimal(b)
	return nil
}

// MarshalJSON writes the decimal as a string, which every Decimal field accepts.
func (d Decimal) MarshalJSON() ([]byte, error) { return json.Marshal(string(d)) }

// String is the decimal as written.
func (d Decimal) String() string { return string(d) }

// UnquotedDecimals finds, in the JSON of an object of the kind of obj (a pointer to one of
// this API's types), every Decimal field written as a number with decimals or an exponent,
// which the schema refuses with only "must be of type integer,string". The mutating webhook
// of each kind with Decimal fields answers with these errors before the schema is checked,
// so that whoever wrote 0.125 reads that a decimal is quoted. Fields are found from the Go
// types, so a Decimal field added to any kind is covered without a list to keep.
func UnquotedDecimals(obj any, raw []byte) (field.ErrorList, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading the object: %w", err)
	}
	var errs field.ErrorList
	walkDecimals(reflect.TypeOf(obj), doc, nil, &errs)
	return errs, nil
}

var decimalType = reflect.TypeFor[Decimal]()

// walkDecimals follows the value v of JSON along the Go type t and records each Decimal
// written as a non-integer number.
func walkDecimals(t reflect.Type, v any, path *field.Path, errs *field.ErrorList) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == decimalType {
		if n, ok := v.(json.Number); ok && strings.ContainsAny(n.String(), ".eE") {
			*errs = append(*errs, field.Invalid(path, n.String(),
				`write a number with decimals as a quoted string, such as "0.125": an unquoted one is floating point, not exact`))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				walkDecimals(f.Type, v, path, errs)
				continue
			}
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			if child, ok := m[name]; ok {
				walkDecimals(f.Type, child, childPath(path, name), errs)
			}
		}
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok {
			return
		}
		for i, item := range items {
			walkDecimals(t.Elem(), item, path.Index(i), errs)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, item := range m {
			walkDecimals(t.Elem(), item, path.Key(k), errs)
		}
	}
}

func childPath(p *field.Path, name string) *field.Path {
	if p == nil {
		return field.NewPath(name)
	}
	return p.Child(name)
}
