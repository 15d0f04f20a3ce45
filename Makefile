# `make run` and `make test` are all the set-up there is (see README.md).
HOST ?= 127.0.0.1
PORT ?= 5000
SERVER := target/release/token-server

.PHONY: run build tools test lint demo soak bench

run: build
	$(SERVER) --host $(HOST) --port $(PORT)

build:
	cargo build --release

tools: build
	cargo build --release --examples

# The second line runs the unit tests of the patched tiny_http (vendor/).
test:
	cargo test
	cargo test --manifest-path vendor/tiny_http/Cargo.toml --lib --target-dir target/vendor

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

demo: build
	bash scripts/demo.sh $(SERVER)

soak: tools
	bash scripts/soak.sh

bench: tools
	bash scripts/bench.sh
