# `make run` and `make test` are all the set-up there is (see README.md).
HOST ?= 127.0.0.1
PORT ?= 5000
SERVER := target/release/token-server

.PHONY: run build tools test lint demo soak bench

run: build
	$(SERVER) --host $(HOST) --port $(PORT)

build:
	cargo build --release --locked

tools: build
	cargo build --release --locked --examples

# Every test of the workspace: token-server's and those of our tiny_http fork
# (vendor/tiny_http). --locked: exactly the versions in Cargo.lock, so a new
# release upstream never changes what is tested.
test:
	cargo test --workspace --locked

lint:
	cargo fmt --all --check
	cargo clippy --locked --all-targets -p token-server -p testkit -- -D warnings
	cargo clippy --locked --lib --profile test -p tiny_http@0.12.0+token-server -- -D warnings

demo: build
	bash scripts/demo.sh $(SERVER)

soak: tools
	bash scripts/soak.sh

bench: tools
	bash scripts/bench.sh
