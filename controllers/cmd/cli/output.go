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

package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// outputFormats are the values of -o on every read command.
var outputFormats = []string{"table", "wide", "csv", "json", "yaml"}

func checkOutput(format string) error {
	if !slices.Contains(outputFormats, format) {
		return usageErrorf("unknown output format %q: use %s", format, strings.Join(outputFormats, ", "))
	}
	return nil
}

// column is one column of a table: its table header, its CSV header, and whether only
// -o wide shows it in a table (CSV always has every column).
type column struct {
	header string
	field  string
	wide   bool
}

// columnsOf are narrow columns of the given fields, each headed by its field's name in
// capitals (underscores as spaces).
func columnsOf(fields ...string) []column {
	cs := make([]column, len(fields))
	for i, f := range fields {
		cs[i] = column{header: strings.ToUpper(strings.ReplaceAll(f, "_", " ")), field: f}
	}
	return cs
}

// table is what a read command prints in table, wide and CSV: the same cells.
type table struct {
	columns []column
	rows    [][]string
}

// printResult writes a command's result: the table for table, wide and csv; data for json and
// yaml. Both come from the same rows, so the formats agree.
func printResult(out io.Writer, format string, t table, data any) error {
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(data)
	case "yaml":
		b, err := yaml.Marshal(data)
		if err != nil {
			return err
		}
		_, err = out.Write(b)
		return err
	case "csv":
		w := csv.NewWriter(out)
		header := make([]string, len(t.columns))
		for i, c := range t.columns {
			header[i] = c.field
		}
		_ = w.Write(header)
		for _, row := range t.rows {
			_ = w.Write(row)
		}
		w.Flush()
		return w.Error()
	default:
		return t.write(out, format == "wide")
	}
}

// write prints the table aligned, with the wide columns when asked; an empty cell prints
// as a dash.
func (t table) write(out io.Writer, wide bool) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	var cells []string
	for _, c := range t.columns {
		if !c.wide || wide {
			cells = append(cells, c.header)
		}
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
	for _, row := range t.rows {
		cells = cells[:0]
		for i, c := range t.columns {
			if c.wide && !wide {
				continue
			}
			v := row[i]
			if v == "" {
				v = "-"
			}
			cells = append(cells, v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
