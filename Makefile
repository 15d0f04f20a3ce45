# `make run` and `make test` are all the set-up there is (see README.md);
# `make` alone lists every target.
#
# make run HOST=0.0.0.0 PORT=8080 ARGS="--user ann:pw --ttl 60" passes them on
# as --host, --port and more options; without them, the server's own defaults
# apply (token-server --help lists them).
HOST ?=
PORT ?=
ARGS ?=
# Where Cargo puts the binaries: $CARGO_TARGET_DIR, a Cargo config's
# build.target-dir, or ./target (scripts/target-dir.sh asks cargo metadata).
TARGET_DIR := $(shell bash scripts/target-dir.sh)
SERVER := $(TARGET_DIR)/release/token-server

# The fork's own test files (the others in vendor/tiny_http/tests are
# upstream's, linted by rustfmt only, to keep them close to upstream's).
FORK_OWN_TESTS := --test wire --test connections --test limits --test tls --test fork --test accept-errors

.PHONY: help run build tools test lint demo soak bench

help:
	@echo "make run     build the server (release) and start it with its defaults (token-server --help)"
	@echo "             HOST=, PORT= and ARGS=\"--user ann:pw --ttl 60\" pass options on"
	@echo "make test    every test: unit, handler, property, socket, browser and real clients (installs chromium,"
	@echo "             httpie, nodejs, python3-requests), and the tiny_http fork's"
	@echo "make lint    rustfmt and clippy, as CI runs them"
	@echo "make demo    the tutorial's client steps (curl, examples/client.rs, examples/client.py) against a server it starts"
	@echo "make soak    32 keep-alive clients of mixed requests for 30 s, every answer checked"
	@echo "make bench   token-server against nginx and a bare tiny_http server, HTTP and HTTPS, memory, cold start (~15 min)"
	@echo "make help    this list (also plain \`make\`)"

run: build
	$(SERVER) $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT)) $(ARGS)

# The "first build" line only when there is no binary yet: later builds take
# seconds. The times are those measured on 2 cores (README.md).
build:
	@test -x $(SERVER) || echo "First build of $(SERVER): it compiles every dependency, about 30 s on 2 cores"
	cargo build --release --locked

tools: build
	@test -x $(TARGET_DIR)/release/examples/load || echo "First build of the examples (the demo's client, the load tools): about 30 s on 2 cores"
	cargo build --release --locked --examples

# Every test of the workspace: token-server's and those of our tiny_http fork
# (vendor/tiny_http). --locked: exactly the versions in Cargo.lock, so a new
# release upstream never changes what is tested. The browser test
# (tests/integration/browser.rs) needs Debian's chromium, chromium-driver and certutil
# (libnss3-tools); the clients' test (tests/integration/clients.rs) HTTPie, Node.js and
# Python's requests: installed here when missing.
TEST_PACKAGES := chromium chromium-driver libnss3-tools httpie nodejs python3-requests

test:
	bash scripts/install-packages.sh $(TEST_PACKAGES)
	cargo test --workspace --locked

lint:
	cargo fmt --all --check
	cargo clippy --locked --all-targets -p token-server -p testkit -- -D warnings
	cargo clippy --locked --lib --profile test -p tiny_http@0.12.0+token-server -- -D warnings
	cargo clippy --locked -p tiny_http@0.12.0+token-server $(FORK_OWN_TESTS) -- -D warnings

demo: tools
	bash scripts/install-packages.sh python3-requests
	bash scripts/demo.sh $(SERVER)

soak: tools
	bash scripts/soak.sh

bench: tools
	bash scripts/install-packages.sh nginx-light
	bash scripts/bench.sh
