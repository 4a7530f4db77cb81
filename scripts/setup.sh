#!/usr/bin/env bash
# Installs everything building, running and testing the chat needs, and skips what is already
# there (a second run takes seconds). Nothing here downloads a prebuilt binary from outside
# the package registries: cargo-leptos is built with `no_downloads` and finds wasm-bindgen,
# wasm-opt and tailwindcss on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf 'setup: %s\n' "$*" >&2; }

# Builds of tools (not of the chat): skip LTO, it only slows the install.
tool_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install "$@"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  say "installing cargo-leptos 0.3.10 (no_downloads); about 20 minutes on 2 cores"
  tool_install cargo-leptos --version 0.3.10 --locked --features no_downloads
fi

# wasm-bindgen's CLI must be exactly the version the crate links against.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ -z "$want" ]; then
  say "Cargo.lock names no wasm-bindgen version"; exit 1
elif [ "$want" != "$have" ]; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # --locked does not resolve for every version here; the exact version pin is what matters.
  tool_install wasm-bindgen-cli --version "$want" --force
fi

# npm tools: tailwindcss, wasm-opt (binaryen), Playwright, socket.io-client (whose browser
# bundles the server build embeds, so this comes before any cargo build). Re-run `npm ci`
# only when package-lock.json changed since the last install.
stamp=node_modules/.package-lock.sha
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  say "installing npm tools (npm ci)"
  npm ci --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi

# Debian packages: chromium for the browser tests, redis-server for the multi-node tests and
# nginx for the reverse-proxy test (each test starts its own on a free loopback port; none
# runs as a service of ours; Debian may start its own nginx on port 80, which no test uses).
# nginx is checked by its path: /usr/sbin is not on every PATH.
apt_updated=
apt_install() { # command-to-check package purpose
  if ! command -v "$1" >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      say "installing Debian $2 for $3"
      [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    else
      say "warning: $1 is missing; install Debian's $2 for $3"
    fi
  fi
}
apt_install /usr/bin/chromium chromium "the browser tests"
apt_install redis-server redis-server "the multi-node tests"
apt_install /usr/sbin/nginx nginx "the reverse-proxy test"
apt_install python3 python3-venv "the Python interop test"

# Python clients for the interop test (python-socketio), in a venv of the project's own
# (.venv/, not committed). Re-run pip only when requirements-test.txt changed since the last
# install, or when the venv no longer runs (its Python was removed).
stamp=.venv/.requirements-test.sha
req_sum=$(sha256sum requirements-test.txt | cut -d' ' -f1)
if ! .venv/bin/python -c '' 2>/dev/null || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$req_sum" ]; then
  say "installing the Python interop clients into .venv (requirements-test.txt)"
  if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    python3 -m venv --clear .venv || { say "python3 -m venv failed; install Debian's python3-venv"; exit 1; }
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
  echo "$req_sum" > "$stamp"
fi
say "ready"
