#!/usr/bin/env bash
# Prints how our fork (vendor/tiny_http) differs from the tiny_http 0.12.0 it
# started from: a unified diff of src/ and tests/ against the pristine crate.
#
#   bash scripts/fork-diff.sh            the whole diff
#   bash scripts/fork-diff.sh --stat     one line per file
#
# The pristine crate is the one Cargo.lock pins for examples/bare.rs (a
# crates.io dependency, checksum in the lock), so after `cargo fetch` this
# works offline. Its .crate file is checked against the checksum below, the
# one recorded in vendor/tiny_http/DESIGN.md.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.12.0
checksum=389915df6413a2e74fb181895f933386023c71110878cd0825588928e64cdc82

cargo fetch --locked --quiet
cargo_home=${CARGO_HOME:-$HOME/.cargo}
crate_file=$(ls "$cargo_home"/registry/cache/*/"tiny_http-$version.crate" 2>/dev/null | head -n 1)
if [ -z "$crate_file" ]; then
  echo "fork-diff: tiny_http-$version.crate is not in $cargo_home/registry/cache" >&2
  exit 1
fi
actual=$(sha256sum "$crate_file" | cut -d ' ' -f 1)
if [ "$actual" != "$checksum" ]; then
  echo "fork-diff: $crate_file has sha256 $actual, expected $checksum" >&2
  exit 1
fi

# Unpack it afresh, so that nothing edited by hand in the registry counts.
pristine=$(mktemp -d)
trap 'rm -rf "$pristine"' EXIT
tar -xzf "$crate_file" -C "$pristine"
upstream="$pristine/tiny_http-$version"

# compare FROM TO [DIFF OPTIONS]: appends the diff to $pristine/raw. diff exits
# 1 when the trees differ, which is the point; 2 is a real error.
compare() {
  local status=0
  diff "${@:3}" "$1" "$2" >>"$pristine/raw" || status=$?
  if [ "$status" -gt 1 ]; then
    echo "fork-diff: diff of $1 and $2 failed" >&2
    exit 1
  fi
}
compare "$upstream/src" vendor/tiny_http/src -ruN
compare "$upstream/tests" vendor/tiny_http/tests -ruN
# The pristine tree is named tiny_http-0.12.0/, not its temporary folder.
sed "s|$pristine/||g" "$pristine/raw" >"$pristine/diff"
if [ "${1:-}" = "--stat" ]; then
  awk '/^\+\+\+ / { file = $2 } /^\+[^+]/ { added[file]++ } /^-[^-]/ { removed[file]++ }
       /^Only in/ { print }
       END { for (f in added) printf "%-50s +%d -%d\n", f, added[f], removed[f] + 0
             for (f in removed) if (!(f in added)) printf "%-50s +0 -%d\n", f, removed[f] }' "$pristine/diff" | sort
else
  cat "$pristine/diff"
fi
