#!/usr/bin/env bash
# Install the Debian 12 packages that djdash needs to build, test, run and benchmark.
#
# Idempotent and fast: each package is checked with dpkg-query first, and apt is only
# touched (one `apt-get update`, one `apt-get install`) when something is missing. The
# test and run commands call this on every invocation, so the no-op path must be cheap.
#
# Usage: deploy/install-deps.sh        (from any working directory)
set -euo pipefail

# Keep this list in sync with docs: TOOLCHAIN.md §0 plus the tools the scripts use.
#   build:   g++ cmake ninja-build pkg-config
#   libs:    CAF, Boost (Asio/Beast, header-only), libpqxx, nlohmann-json, spdlog+fmt,
#            OpenSSL, libsodium (password hashing), date (time zones), fastText,
#            libcurl, GMime
#   runtime: postgresql (embedded cluster via deploy/pg.sh), contrib extensions
#   tools:   wrk (benchmarks), curl, nginx-light (edge in front of nodes), procps (ps, free,
#            used when inspecting processes and memory)
packages=(
  g++ cmake ninja-build pkg-config
  libcaf-dev libboost-dev libpqxx-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libssl-dev libsodium-dev libhowardhinnant-date-dev libfasttext-dev
  libcurl4-openssl-dev libgmime-3.0-dev
  postgresql postgresql-contrib
  wrk curl nginx-light procps
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: dpkg-query not found; this script supports Debian/Ubuntu only" >&2
  exit 1
fi

# "install ok installed" is the only status that means the package is usable; anything
# else (not-installed, half-configured, config-files, unknown) counts as missing.
missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already present"
  exit 0
fi

# We normally run as root (containers, CI). Otherwise escalate with sudo if we can.
if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: not running as root and sudo is not available; install them as root" >&2
  exit 1
fi

# Note: the package index is refreshed only on this (rare) path, so the common path
# needs no network at all.
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"

echo "install-deps: installed ${#missing[@]} package(s): ${missing[*]}"
