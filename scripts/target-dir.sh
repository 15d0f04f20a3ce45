#!/usr/bin/env bash
# Prints the folder Cargo builds into: $CARGO_TARGET_DIR, or what `cargo
# metadata` says (a `build.target-dir` in a Cargo config, say), or `target`.
# The Makefile and the scripts find the binaries there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  echo "$CARGO_TARGET_DIR"
  exit 0
fi
metadata=$(cargo metadata --format-version 1 --no-deps --offline 2>/dev/null || true)
directory=$(sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p' <<<"$metadata")
echo "${directory:-target}"
