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

package allocation

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

var (
	amountPattern  = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)
	decimalPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,6})?$`)
)

// maxCents bounds amounts so that sums of a few thousand of them never overflow int64.
const maxCents = int64(1) << 50

// ParseCents reads an amount such as "412.5" or "412.50" into integer cents.
func ParseCents(s string) (int64, error) {
	if !amountPattern.MatchString(s) {
		return 0, fmt.Errorf("amount %q is not a decimal with at most two decimals, such as 412.50", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > maxCents/100 {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}

// FormatCents writes integer cents as a decimal with two decimals, such as "412.50".
func FormatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// ParseDecimal reads a non-negative decimal such as "0.125" exactly.
func ParseDecimal(s string) (*big.Rat, error) {
	if !decimalPattern.MatchString(s) {
		return nil, fmt.Errorf("weight %q is not a decimal with at most six decimals, such as 0.125", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("weight %q is not a decimal", s)
	}
	return r, nil
}

// FormatRat2 writes a non-negative rational with two decimals, rounding half up.
func FormatRat2(r *big.Rat) string {
	hundredths := new(big.Int).Mul(r.Num(), big.NewInt(100))
	hundredths.Mul(hundredths, big.NewInt(2))
	hundredths.Add(hundredths, r.Denom())
	hundredths.Quo(hundredths, new(big.Int).Mul(r.Denom(), big.NewInt(2)))
	q, m := new(big.Int).QuoRem(hundredths, big.NewInt(100), new(big.Int))
	return fmt.Sprintf("%s.%02d", q.String(), m.Int64())
}

var (
	millicoreSecondsPerCoreHour = big.NewInt(1000 * 3600)
	byteSecondsPerGiBHour       = new(big.Int).Mul(big.NewInt(1<<30), big.NewInt(3600))
)

// CoreHours writes millicore-seconds as core-hours with two decimals.
func CoreHours(millicoreSeconds *big.Int) string {
	return FormatRat2(new(big.Rat).SetFrac(millicoreSeconds, millicoreSecondsPerCoreHour))
}

// GiBHours writes byte-seconds as GiB-hours with two decimals.
func GiBHours(byteSeconds *big.Int) string {
	return FormatRat2(new(big.Rat).SetFrac(byteSeconds, byteSecondsPerGiBHour))
}

// ParseInteger reads a non-negative decimal integer such as a metered total.
func ParseInteger(s string) (*big.Int, error) {
	if s == "" {
		return new(big.Int), nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 {
		return nil, fmt.Errorf("%q is not a non-negative integer", s)
	}
	return v, nil
}
