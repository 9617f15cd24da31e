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

package server

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/cooperator-dev/cooperator/api/hubstatus"
)

// HubReport is what the hub tells the co-op: the readiness of its platform, database and
// backups, and its share of the hub's hosting bill month by month (api/hubstatus).
// Published is false until the operator has written the document.
type HubReport struct {
	Published bool `json:"published"`
	*hubstatus.Document
}

// hubStatusFile is where the operator's document is mounted: Config.HubStatusFile, or
// hubstatus.Key beside the policy file.
func (s *Server) hubStatusFile() string {
	if s.cfg.HubStatusFile != "" {
		return s.cfg.HubStatusFile
	}
	if s.cfg.PolicyFile != "" {
		return filepath.Join(filepath.Dir(s.cfg.PolicyFile), hubstatus.Key)
	}
	return ""
}

// hubReport answers GET /v1/reports/hub for every active member: the co-op's hosting
// costs are its members' business, as its funds are. The file is small and read at each
// request, so the answer follows the operator's updates as the kubelet refreshes the
// mount. A document the service cannot read is the hub's fault, not the client's: 503.
func (s *Server) hubReport(_ *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	path := s.hubStatusFile()
	if path == "" {
		return http.StatusOK, HubReport{}, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return http.StatusOK, HubReport{}, nil
	}
	if err != nil {
		s.log.Error("hub status not readable", "file", path, "error", err)
		return 0, nil, &apiError{status: http.StatusServiceUnavailable, message: "the hub's status of this co-op cannot be read; retry later", retryAfter: unavailableRetry}
	}
	d, err := hubstatus.Parse(b)
	if err != nil {
		s.log.Error("hub status not valid", "file", path, "error", err)
		return 0, nil, &apiError{status: http.StatusServiceUnavailable, message: "the hub's status of this co-op is not valid; retry later", retryAfter: unavailableRetry}
	}
	return http.StatusOK, HubReport{Published: true, Document: d}, nil
}
