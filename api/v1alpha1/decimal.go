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
	"encoding/json"
	"fmt"
	"regexp"
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
