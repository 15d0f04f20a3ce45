# `make run` and `make test` are all the set-up there is (see README.md).
HOST ?= 127.0.0.1
PORT ?= 5000
SERVER := target/release/token-server

.PHONY: run build test lint demo

run: build
	$(SERVER) --host $(HOST) --port $(PORT)

build:
	cargo build --release

test:
	cargo test

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

demo: build
	bash scripts/demo.sh $(SERVER)
