# cooperator: a Kubernetes operator for shared co-op infrastructure.
# Targets follow kubebuilder's layout; tools are pinned and installed into bin/.

IMG ?= ghcr.io/cooperator-dev/cooperator:dev
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Co-ops the scale suite of make bench measures (comma-separated), and its extra flags
# (-idle, -unrelated, -operator-args, -operator-env, -profile-dir).
SCALE_N ?= 100,500,1000
SCALE_FLAGS ?=

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

## Tool versions
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
# v5.8.3 needs Go 1.27; v5.8.2 is the newest that builds with the project's Go 1.26.
KUSTOMIZE_VERSION ?= v5.8.2
HELM_VERSION ?= v3.22.0

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)

# The envtest control plane, built from source once and cached outside the clone.
ENVTEST_ASSETS = $(shell hack/envtest.sh)

GO_TEST_FLAGS ?=

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRDs, the RBAC ClusterRole and the chart's copies of them.
	$(CONTROLLER_GEN) rbac:roleName=cooperator-manager crd webhook paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac output:webhook:artifacts:config=config/webhook
	hack/sync-chart.sh

.PHONY: generate
generate: controller-gen ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run

.PHONY: test
test: manifests generate vet helm ## Generate, then run every test suite (envtest control plane, real PostgreSQL, real CloudNativePG operator, helm).
	hack/postgres.sh
	CHROMIUM="$$(hack/chromium.sh)" CNPG_OPERATOR="$$(hack/cnpg-operator.sh)" KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" HELM="$(HELM)" PROMTOOL="$$(hack/promtool.sh)" go test ./... $(GO_TEST_FLAGS) -coverprofile cover.out

.PHONY: bench
bench: ## Run the benchmarks and the scale suite (SCALE_N co-ops, comma-separated) and print their figures.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./... -run '^$$' -bench . -benchmem
	KUBEBUILDER_CONTROLPLANE_START_TIMEOUT=2m KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/scale -run '^TestScale$$' -v -count=1 -timeout 3h -args -n=$(SCALE_N) $(SCALE_FLAGS)

.PHONY: verify
verify: manifests generate ## Fail when generated files differ from what is committed (and gofmt is clean).
	@if [ -n "$$(git status --porcelain -- api config charts)" ]; then \
		echo "Generated files are out of date; run 'make manifests generate' and commit:"; \
		git status --porcelain -- api config charts; git --no-pager diff -- api config charts | head -50; exit 1; fi
	@gofmt_out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$gofmt_out" ]; then echo "gofmt would change:"; echo "$$gofmt_out"; exit 1; fi

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the cooperator binary into bin/.
	go build -ldflags "-X main.version=$(VERSION)" -o $(LOCALBIN)/cooperator .

.PHONY: run
run: manifests generate ## Run the manager against the cluster of the current kubeconfig (without its webhook).
	go run . manager --webhooks=false

.PHONY: demo
demo: ## Run the demo: an embedded control plane, the operator and three co-ops (DEMO_FLAGS=--once to exit when Ready).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go run ./test/demo $(DEMO_FLAGS)

.PHONY: docker-build
docker-build: ## Build the container image.
	docker build -t $(IMG) --build-arg VERSION=$(VERSION) .

##@ Release

# The release's version is the chart's appVersion: the image tag, the binaries' version and
# the install manifest's image all follow it.
RELEASE_VERSION ?= $(shell awk -F'"' '/^appVersion:/{print $$2}' charts/cooperator/Chart.yaml)
RELEASE_IMAGE ?= ghcr.io/cooperator-dev/cooperator
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST ?= dist

.PHONY: release
release: manifests generate kustomize helm ## Build a release into dist/: binaries for linux and darwin on amd64 and arm64, the chart package, one install manifest, and their SHA-256 checksums.
	rm -rf $(DIST) && mkdir -p $(DIST)/overlay
	for p in $(RELEASE_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  echo "release: cooperator $(RELEASE_VERSION) for $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "-s -w -X main.version=$(RELEASE_VERSION)" \
	    -o $(DIST)/cooperator-$(RELEASE_VERSION)-$$os-$$arch . ; \
	done
	$(HELM) package charts/cooperator --destination $(DIST)
	# config/default with the release's image, for the operator and the platform alike,
	# and the default PlatformTemplates: what `make deploy` applies, in one file.
	sed 's#^platformImage: .*#platformImage: $(RELEASE_IMAGE):$(RELEASE_VERSION)#' config/manager/hub.yaml > $(DIST)/overlay/hub.yaml
	printf '%s\n' 'resources:' '- ../../config/default' 'images:' '- name: $(RELEASE_IMAGE)' '  newTag: "$(RELEASE_VERSION)"' \
	  'configMapGenerator:' '- name: cooperator-hub-config' '  namespace: cooperator-system' '  behavior: replace' '  files:' '  - hub.yaml' \
	  > $(DIST)/overlay/kustomization.yaml
	{ $(KUSTOMIZE) build $(DIST)/overlay; for f in platform/templates/*.yaml; do echo '---'; cat "$$f"; done; } > $(DIST)/cooperator-$(RELEASE_VERSION)-install.yaml
	rm -rf $(DIST)/overlay
	cd $(DIST) && sha256sum cooperator-* > SHA256SUMS
	@echo "release: $(DIST)/"; ls -l $(DIST)

##@ Deployment

.PHONY: install
install: manifests kustomize ## Install the CRDs and the default PlatformTemplates into the current cluster.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -
	kubectl apply --server-side -f platform/templates/

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRDs from the current cluster.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator to the current cluster (cert-manager must run there first).
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -
	kubectl apply --server-side -f platform/templates/

.PHONY: undeploy
undeploy: kustomize ## Remove the operator from the current cluster.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT)
$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE)
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: helm
helm: $(HELM)
$(HELM): | $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

# go-install-tool installs a Go tool at a pinned version as bin/<name>-<version>.
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Installing $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$$(echo "$(2)" | sed 's#/v[0-9]*$$##')")" "$(1)" ;\
}
endef
