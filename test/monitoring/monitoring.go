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

// Package monitoring tests what the chart ships for monitoring a hub: its dashboards are
// valid with stable uids, its alert rules pass promtool's unit tests, and every metric a
// dashboard or a rule reads appears in the operator's /metrics, scraped from a running
// manager (the platform service's are scraped in platform/server). MetricNames is the
// one list of those names both scrapes check.
package monitoring

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Dashboards returns the chart's dashboards by file name.
func Dashboards(root string) (map[string]map[string]any, error) {
	files, err := filepath.Glob(filepath.Join(root, "charts", "cooperator", "dashboards", "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no dashboard in charts/cooperator/dashboards")
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d map[string]any
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("%s is not valid JSON: %w", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out, nil
}

// Rule is one alerting rule of the chart's rules file.
type Rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// RuleGroups is the chart's rules file, charts/cooperator/files/rules.yaml.
type RuleGroups struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []Rule `json:"rules"`
	} `json:"groups"`
}

// RulesFile is the path of the chart's rule groups.
func RulesFile(root string) string {
	return filepath.Join(root, "charts", "cooperator", "files", "rules.yaml")
}

// Rules reads the chart's rule groups.
func Rules(root string) (*RuleGroups, error) {
	data, err := os.ReadFile(RulesFile(root))
	if err != nil {
		return nil, err
	}
	var g RuleGroups
	if err := yaml.UnmarshalStrict(data, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", RulesFile(root), err)
	}
	return &g, nil
}

// Exprs returns every PromQL expression of the dashboards and the rules, each with where
// it comes from.
func Exprs(root string) (map[string]string, error) {
	out := map[string]string{}
	dashboards, err := Dashboards(root)
	if err != nil {
		return nil, err
	}
	for file, d := range dashboards {
		panels, _ := d["panels"].([]any)
		for _, p := range panels {
			pm, _ := p.(map[string]any)
			targets, _ := pm["targets"].([]any)
			for i, t := range targets {
				tm, _ := t.(map[string]any)
				if e, _ := tm["expr"].(string); e != "" {
					out[fmt.Sprintf("%s, panel %q, target %d", file, pm["title"], i)] = e
				}
			}
		}
		templating, _ := d["templating"].(map[string]any)
		vars, _ := templating["list"].([]any)
		for _, v := range vars {
			vm, _ := v.(map[string]any)
			if def, _ := vm["definition"].(string); def != "" {
				out[fmt.Sprintf("%s, variable %q", file, vm["name"])] = def
			}
		}
	}
	rules, err := Rules(root)
	if err != nil {
		return nil, err
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out[fmt.Sprintf("rules.yaml, alert %s", r.Alert)] = r.Expr
		}
	}
	return out, nil
}

// MetricPrefixes are the prefixes of the metrics the monitoring reads: the operator's and
// the platform's own, and controller-runtime's.
var MetricPrefixes = []string{"cooperator_", "controller_runtime_"}

// prometheusOwn are the series Prometheus writes itself for each target it scrapes (up: 1
// when the scrape succeeded), which no /metrics exposes.
var prometheusOwn = map[string]bool{"up": true}

var (
	metricName = regexp.MustCompile(`\b(?:cooperator|controller_runtime)_[a-zA-Z0-9_]+\b`)
	selector   = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{`)
)

// MetricNames returns the metric names the dashboards and rules read, sorted. An
// expression that selects a metric of another prefix is an error: its metric would be
// checked by no scrape.
func MetricNames(root string) ([]string, error) {
	exprs, err := Exprs(root)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for where, e := range exprs {
		for _, m := range selector.FindAllStringSubmatch(e, -1) {
			if !hasPrefix(m[1]) && !prometheusOwn[m[1]] && m[1] != "by" && m[1] != "without" && m[1] != "on" && m[1] != "ignoring" {
				return nil, fmt.Errorf("%s selects %s, which is not a metric of the operator or the platform: %s", where, m[1], e)
			}
		}
		for _, n := range metricName.FindAllString(e, -1) {
			set[n] = true
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func hasPrefix(name string) bool {
	for _, p := range MetricPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// ExposedNames reads the sample names of a Prometheus text exposition (a /metrics body).
func ExposedNames(body string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			out[line[:i]] = true
		}
	}
	return out
}
