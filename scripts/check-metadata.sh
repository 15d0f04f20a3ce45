#!/usr/bin/env bash
# Checks that token-server's package metadata stays complete (CI runs this):
# description, licence and its files, readme, keywords, categories, the Rust
# version, and publish = false. Offline: it reads `cargo metadata`.
set -euo pipefail
cd "$(dirname "$0")/.."

json=$(cargo metadata --no-deps --format-version 1 --locked --offline)
# token-server's own entry: from its id to the next workspace package's id
# (the dependencies listed inside an entry have no id).
ours=${json#*\{\"name\":\"token-server\",\"version\":}
ours=${ours#*\"id\":\"path+file}
ours=${ours%%\"id\":\"path+file*}

missing=()
check() {
  local what=$1 pattern=$2
  [[ $ours == *"$pattern"* ]] || missing+=("$what")
}
check "description" '"description":"'
check "license = \"MIT OR Apache-2.0\"" '"license":"MIT OR Apache-2.0"'
check "readme = \"README.md\"" '"readme":"README.md"'
check "keywords" '"keywords":["'
check "categories" '"categories":["'
check "rust-version" '"rust_version":"'
check "publish = false" '"publish":[]'
for file in LICENSE-MIT LICENSE-APACHE vendor/tiny_http/LICENSE-MIT vendor/tiny_http/LICENSE-APACHE; do
  [ -s "$file" ] || missing+=("$file")
done
grep -q "LICENSE-MIT" README.md && grep -q "LICENSE-APACHE" README.md || missing+=("the licence files named in README.md")

if [ "${#missing[@]}" -gt 0 ]; then
  printf 'check-metadata: missing: %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "check-metadata: description, license, readme, keywords, categories, rust-version, publish = false, licence files: all there"
