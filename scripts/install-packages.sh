#!/usr/bin/env bash
# install-packages.sh PACKAGE...: installs the Debian packages that are not
# installed yet (nginx-light for `make bench`, chromium for the browser test),
# with apt-get: `apt-get update` once, then `apt-get install -y`. As root
# (CI's case); otherwise through sudo, or it says what to run.
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install-packages: needs ${missing[*]}, and this is no Debian (no apt-get): install them by hand" >&2
  exit 1
fi
run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "install-packages: needs ${missing[*]}: run  apt-get update && apt-get install -y ${missing[*]}  as root" >&2
    exit 1
  fi
  run_as_root=(sudo)
fi
echo "install-packages: installing ${missing[*]}"
"${run_as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${run_as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
