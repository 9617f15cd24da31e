#!/usr/bin/env bash
# Copies the generated CRDs into the Helm chart, so the chart never drifts from the API.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f charts/cooperator/crds/*.yaml
cp config/crd/bases/*.yaml charts/cooperator/crds/
