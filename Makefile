# bgppeer-webhook: build, test and run.
#
#   make run    build, create dev certificates in certs/, serve on https://127.0.0.1:8443
#   make test   every test (unit, end-to-end, chart)
#   make lint   rustfmt check and clippy with warnings as errors
#   make bench  criterion benchmarks

CARGO ?= cargo
BIN := target/debug/bgppeer-webhook

.PHONY: build release test lint fmt bench run clean

build:
	$(CARGO) build

release:
	$(CARGO) build --release

test:
	$(CARGO) test --all-targets
	$(CARGO) test --doc

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench:
	$(CARGO) bench

run: build
	@test -f certs/tls.crt || $(BIN) certs --out certs
	$(BIN) serve --listen 127.0.0.1:8443 --metrics-listen 127.0.0.1:9090 \
		--tls-cert-file certs/tls.crt --tls-key-file certs/tls.key

clean:
	$(CARGO) clean
