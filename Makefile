# pocketfleet: a Kubernetes operator hosting PocketBase-compatible backends, one per tenant.

# Image references used by docker-build and as the operator's default instance image.
VERSION ?= v0.1.0
REGISTRY ?= ghcr.io/pocketfleet
OPERATOR_IMG ?= $(REGISTRY)/operator:$(VERSION)
INSTANCE_IMG ?= $(REGISTRY)/instance:$(VERSION)

# Where `make run` keeps its data and listens.
RUN_DIR ?= ./pb_data
RUN_HTTP ?= 127.0.0.1:8090

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

GO ?= go
LOCALBIN ?= $(CURDIR)/bin
TOOLS_MOD := $(CURDIR)/hack/tools

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
HELM ?= $(LOCALBIN)/helm
KUSTOMIZE ?= $(LOCALBIN)/kustomize

LDFLAGS_OPERATOR := -s -w -X main.version=$(VERSION) -X main.defaultInstanceImage=$(INSTANCE_IMG)
LDFLAGS_INSTANCE := -s -w -X main.version=$(VERSION)
# nomsgpack drops gin's MessagePack binding (and its codec library), which the PocketBase
# API never speaks: 6 MB less binary, 1.6 MB less idle RSS.
TAGS_INSTANCE := nomsgpack

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and RBAC manifests into config/, and sync the chart's CRDs.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./operator/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	$(MAKE) chart-crds

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy functions and apply configurations for the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."
	$(CONTROLLER_GEN) applyconfiguration:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: chart-crds
chart-crds: ## Copy config/crd/bases into the Helm chart.
	hack/sync-chart.sh

.PHONY: fmt
fmt: ## Run go fmt.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet (the main module and the local cluster's own modules).
	$(GO) vet ./...
	@for m in $(CLUSTER_MODULES); do echo "vet: $$m"; (cd $$m && $(GO) vet ./...) || exit 1; done

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint.
	$(GOLANGCI_LINT) run ./...
	@for m in $(CLUSTER_MODULES); do echo "lint: $$m"; (cd $$m && $(GOLANGCI_LINT) run ./...) || exit 1; done

.PHONY: verify
verify: manifests generate ## Regenerate everything and fail if the tree changed.
	$(GO) mod tidy
	git diff --exit-code -- go.mod go.sum api config charts
	@test -z "$$(git status --porcelain -- api config charts)" || { git status --porcelain -- api config charts; echo "generated files are not committed"; exit 1; }

##@ Test

.PHONY: test
test: envtest-assets test-unit test-cluster-modules test-fuzz test-integration test-chart test-sdk test-sdk-pocketbase ## Run every test: unit, envtest integration, chart, SDK conformance (against ours and, to check the suite, stock PocketBase).

.PHONY: test-cluster-modules
test-cluster-modules: ## Unit-test the local cluster's own Go modules (the hostPath provisioner, mkimage).
	@for m in $(CLUSTER_MODULES); do echo "test: $$m"; (cd $$m && $(GO) test -count=1 ./...) || exit 1; done

.PHONY: test-unit
test-unit: ## Run the unit tests (no API server; S3 tests run versitygw, interop tests stock PocketBase, both built here).
	POCKETFLEET_S3_SERVER="$$(hack/s3-server.sh)" POCKETFLEET_POCKETBASE="$$(hack/pocketbase.sh)" $(GO) test -count=1 $$($(GO) list ./... | grep -v -e /operator/internal/integration -e /test/chart)

# Each fuzz target runs briefly on every `make test`; the corpus under testdata/fuzz grows
# with `go test -fuzz=Name -fuzztime=5m ./pkg` and is committed. The budget is a count of
# executions, not a duration: Go 1.26's coordinator can report a spurious "context deadline
# exceeded" when a duration runs out while a worker is mid-input (golang/go#75804, fixed in 1.27).
FUZZ_TIME ?= 3000x
FUZZ_TARGETS := \
	FuzzFilter:./instance/internal/search \
	FuzzSort:./instance/internal/search \
	FuzzPositional:./instance/internal/search \
	FuzzFields:./instance/internal/picker \
	FuzzParseThumbSize:./instance/internal/filesystem \
	FuzzNormalizeName:./instance/internal/filesystem \
	FuzzRecordMultipartBody:./instance/internal/httpapi \
	FuzzRealIP:./instance/internal/httpapi \
	FuzzBatchForm:./instance/internal/httpapi \
	FuzzUserMapping:./instance/internal/oauth2 \
	FuzzMaintenanceWindow:./operator/internal/controller

.PHONY: test-fuzz
test-fuzz: ## Run each fuzz target for $(FUZZ_TIME) (executions).
	@for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "fuzz: $$name in $$pkg for $(FUZZ_TIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZ_TIME) "$$pkg" || exit 1; \
	done

.PHONY: test-integration
test-integration: envtest-assets ## Run the operator against a real kube-apiserver and etcd (envtest).
	KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" $(GO) test -count=1 ./operator/internal/integration/... -ginkgo.v

.PHONY: test-chart
test-chart: helm-lint $(KUSTOMIZE) ## Lint the chart and check it against config/ (CRDs and RBAC).
	hack/verify-chart.sh

.PHONY: test-sdk
test-sdk: build-instance sdk-deps ## Drive the built instance with the official PocketBase JS SDK (Node 20, test/sdk).
	cd test/sdk && INSTANCE_BIN=$(LOCALBIN)/instance $(SDK_ENV) node --test

# The same suite against stock PocketBase v0.40.4: every assertion in it must hold for
# PocketBase too, or it tests something other than compatibility.
.PHONY: test-sdk-pocketbase
test-sdk-pocketbase: sdk-deps ## Run the SDK suite against stock PocketBase v0.40.4 (hack/pocketbase.sh), to check the suite itself.
	cd test/sdk && INSTANCE_BIN="$$(../../hack/pocketbase.sh)" SDK_REFERENCE=1 $(SDK_ENV) node --test

# SDK_ENV points the suite at its helper binaries.
SDK_ENV = MAILCATCHER_BIN=$(LOCALBIN)/mailcatcher OAUTH2_TESTOP_BIN=$(LOCALBIN)/oauth2-testop

# sdk-deps is what both suites need, made once per make run: the npm packages, the
# SMTP catcher and the OpenID Provider.
.PHONY: sdk-deps
sdk-deps: build-testop
	$(GO) build -o $(LOCALBIN)/mailcatcher ./test/sdk/mailcatcher
	cd test/sdk && npm ci --no-audit --no-fund

.PHONY: build-testop
build-testop: ## Build the loopback OpenID Provider the SDK suite signs in with (test only).
	$(GO) build -o $(LOCALBIN)/oauth2-testop ./instance/internal/oauth2/oauth2test/testop

.PHONY: test-e2e
test-e2e: test-cluster-modules cluster-up images $(HELM) $(KUSTOMIZE) ## Run the end-to-end suite (test/e2e) on the local cluster; see hack/local-cluster.
	cd test/sdk && npm ci --no-audit --no-fund
	KUBECONFIG=$(CLUSTER_KUBECONFIG) E2E_OPERATOR_IMG=$(LOCAL_OPERATOR_IMG) E2E_INSTANCE_IMG=$(LOCAL_INSTANCE_IMG) \
		E2E_INSTANCE_IMG_NEXT=$(LOCAL_INSTANCE_IMG)-next E2E_HELM=$(HELM) E2E_KUSTOMIZE=$(KUSTOMIZE) \
		$(GO) test -tags e2e -count=1 -timeout 40m -v ./test/e2e/... -ginkgo.v

.PHONY: bench
bench: envtest-assets build-instance ## Run the benchmarks: 1,000 instances converging in envtest (PF_BENCH_INSTANCES to change); the instance under load on loopback.
	KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 \
		./operator/internal/integration/... ./test/bench/...

.PHONY: bench-pocketbase
bench-pocketbase: ## Run the instance's load scenarios against stock PocketBase v0.40.4 (hack/pocketbase.sh), to compare with `make bench`.
	INSTANCE_BIN="$$(hack/pocketbase.sh)" BENCH_SUPERUSER_CLI=1 $(GO) test -run '^$$' -bench 'BenchmarkInstance' -benchtime 1x -count 1 ./test/bench/...

.PHONY: envtest-assets
envtest-assets: ## Build kube-apiserver and etcd for envtest from the Go module proxy (cached).
	hack/envtest-assets.sh >/dev/null

##@ Build

.PHONY: build
build: build-operator build-instance ## Build both static binaries into bin/.

.PHONY: build-operator
build-operator: ## Build the operator binary.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS_OPERATOR)' -o $(LOCALBIN)/operator ./operator

.PHONY: build-instance
build-instance: ## Build the instance binary.
	CGO_ENABLED=0 $(GO) build -trimpath -tags '$(TAGS_INSTANCE)' -ldflags '$(LDFLAGS_INSTANCE)' -o $(LOCALBIN)/instance ./instance

.PHONY: run
run: build-instance ## Run a tenant instance on $(RUN_HTTP) with its data in $(RUN_DIR).
	@echo "Starting a tenant instance on http://$(RUN_HTTP) with data in $(RUN_DIR)."
	@echo "Create a superuser with: $(LOCALBIN)/instance superuser upsert EMAIL PASSWORD --dir $(RUN_DIR)"
	$(LOCALBIN)/instance serve --http $(RUN_HTTP) --dir $(RUN_DIR)

.PHONY: run-operator
run-operator: manifests ## Run the operator against $$KUBECONFIG (install the CRDs first: make install).
	$(GO) run -ldflags '$(LDFLAGS_OPERATOR)' ./operator --health-probe-bind-address :8081 --metrics-bind-address :8080

.PHONY: docker-build
docker-build: ## Build both container images with Docker (for users who have it; CI does not).
	docker build -f operator/Dockerfile --build-arg VERSION=$(VERSION) --build-arg INSTANCE_IMG=$(INSTANCE_IMG) -t $(OPERATOR_IMG) .
	docker build -f instance/Dockerfile --build-arg VERSION=$(VERSION) -t $(INSTANCE_IMG) .

##@ Local cluster (hack/local-cluster: a real single-node Kubernetes, no Docker, no registry)

CLUSTER_DIR := hack/local-cluster
# The local cluster's own code lives in separate Go modules (their Kubernetes libraries
# differ from the operator's): make test runs their tests, make vet and make lint check
# them. coredns/ (a main that only imports CoreDNS plugins) and traefik/ (pins Traefik v3
# for traefik/build.sh) hold no logic of ours to check and are left out.
CLUSTER_MODULES = $(CLUSTER_DIR)/addons $(CLUSTER_DIR)/tools
# POCKETFLEET_CLUSTER_BASE moves the whole cluster (state, cached binaries, images), as for
# hack/local-cluster/*.sh; a second base gives a cold cluster next to a warm one.
CLUSTER_BASE ?= $(or $(POCKETFLEET_CLUSTER_BASE),/var/lib/pocketfleet-cluster)
CLUSTER_KUBECONFIG ?= $(CLUSTER_BASE)/config/admin.kubeconfig
# Images for the local cluster: a non-"latest" tag, so that IfNotPresent never pulls.
LOCAL_TAG ?= dev
LOCAL_OPERATOR_IMG ?= pocketfleet.local/operator:$(LOCAL_TAG)
LOCAL_INSTANCE_IMG ?= pocketfleet.local/instance:$(LOCAL_TAG)
IMAGE_BIN ?= $(CLUSTER_BASE)/images/bin

.PHONY: cluster-up
cluster-up: ## Start the local cluster (builds and caches its binaries on first use).
	$(CLUSTER_DIR)/up.sh

.PHONY: cluster-traefik
cluster-traefik: ## Build Traefik v3 into the local cluster's binaries (REBUILD=1 rebuilds; not started by cluster-up yet).
	$(CLUSTER_DIR)/traefik/build.sh

.PHONY: cluster-down
cluster-down: ## Stop the local cluster and keep its state (hack/local-cluster/down.sh --purge wipes it).
	$(CLUSTER_DIR)/down.sh

.PHONY: images
images: ## Build the operator and instance images from static binaries and load them into the local cluster.
	$(MAKE) --no-print-directory build-operator build-instance LOCALBIN=$(IMAGE_BIN) INSTANCE_IMG=$(LOCAL_INSTANCE_IMG)
	$(CLUSTER_DIR)/image.sh $(LOCAL_OPERATOR_IMG) $(IMAGE_BIN)/operator -user 65532:65532
	$(CLUSTER_DIR)/image.sh $(LOCAL_INSTANCE_IMG) $(IMAGE_BIN)/instance -t $(LOCAL_INSTANCE_IMG)-next -user 65532:65532 \
		-arg serve -arg --http -arg 0.0.0.0:8090 -arg --dir -arg /pb_data

##@ Deployment

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRDs into the cluster of $$KUBECONFIG.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: $(KUSTOMIZE) ## Remove the CRDs from the cluster of $$KUBECONFIG.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy the operator with kustomize (config/default).
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove the operator deployed with kustomize.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

.PHONY: helm-lint
helm-lint: $(HELM) ## Lint the Helm chart.
	$(HELM) lint --strict charts/pocketfleet

##@ Tools (pinned in hack/tools/go.mod, built from the Go module proxy)

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

$(CONTROLLER_GEN): $(TOOLS_MOD)/go.mod | $(LOCALBIN)
	cd $(TOOLS_MOD) && $(GO) build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

$(GOLANGCI_LINT): $(TOOLS_MOD)/go.mod | $(LOCALBIN)
	cd $(TOOLS_MOD) && $(GO) build -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

$(HELM): $(TOOLS_MOD)/go.mod | $(LOCALBIN)
	cd $(TOOLS_MOD) && $(GO) build -o $@ helm.sh/helm/v3/cmd/helm

$(KUSTOMIZE): $(TOOLS_MOD)/go.mod | $(LOCALBIN)
	cd $(TOOLS_MOD) && $(GO) build -o $@ sigs.k8s.io/kustomize/kustomize/v5
