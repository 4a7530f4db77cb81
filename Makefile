# The two commands: `make run` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test setup watch lint unit e2e bench

## Set up, build for release and serve on http://127.0.0.1:3000 (Ctrl-C stops).
run: setup
	cargo leptos build --release --precompress
	target/release/chat

## Set up, then every check and test: format, lints (both builds), unit + integration, browser.
test: setup lint unit e2e

setup:
	@scripts/setup.sh

## Development server with live reload.
watch: setup
	cargo leptos watch

lint:
	cargo fmt --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test --features ssr
	# The vendored tungstenite (see README, "A patched dependency") with its own tests.
	cargo test --manifest-path vendor/tungstenite/Cargo.toml --lib --target-dir target/vendor

# The browser tests run against the release build, the one `make run` serves. Playwright
# finds it by itself (the binary whose hash.txt matches the site), as it does after a debug
# build or under `cargo leptos end-to-end`; check-binary.mjs first checks that choice.
e2e:
	node --test end2end/check-binary.mjs
	cargo leptos build --release --precompress
	CHAT_BINARY=target/release/chat node --test end2end/protocol-examples.mjs
	npx playwright test -c end2end/playwright.config.ts

## Our server against the Node tutorial server, side by side; writes BENCHMARKS.md.
bench:
	scripts/bench.sh
