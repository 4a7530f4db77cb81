// The browser tests start the server binary that was built with the site that is there
// (issue #20): after `cargo leptos build --release` the release one, even when an older debug
// build is still lying around, and the other way round; and they stop at once, naming what
// is missing, when no binary fits. Fake target trees in a temporary directory stand in for
// real builds. `node --test end2end/check-binary.mjs` (`make test` runs it before Playwright).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import binaryModule from "./tests/support/binary.js";

const { chooseServerBinary } = binaryModule;

/** A checkout with nothing built, removed when the process exits. */
function checkout() {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-binary-"));
  process.on("exit", () => fs.rmSync(repo, { recursive: true, force: true }));
  return repo;
}

/** What `cargo leptos build [--release]` leaves: a binary and, beside it, hash.txt naming its
 * site's files; with `site`, also that site (the files of the other build are then gone). */
function build(targetDir, profile, hashes, { site } = {}) {
  const dir = path.join(targetDir, profile);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "chat"), "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(
    path.join(dir, "hash.txt"),
    `js: ${hashes.js}\nwasm: ${hashes.wasm}\ncss: ${hashes.css}\n`,
  );
  if (site) {
    const pkg = path.join(site, "pkg");
    fs.rmSync(site, { recursive: true, force: true });
    fs.mkdirSync(pkg, { recursive: true });
    for (const [ext, hash] of Object.entries(hashes)) {
      fs.writeFileSync(path.join(pkg, `chat.${hash}.${ext}`), ext);
      fs.writeFileSync(path.join(pkg, `chat.${hash}.${ext}.br`), ext); // --precompress
    }
  }
}

const DEBUG = { js: "dbgJs_1111111111111111", wasm: "dbgWasm_22222222222222", css: "sameCss_3333333333333" };
const RELEASE = { js: "relJs_4444444444444444", wasm: "relWasm_55555555555555", css: "sameCss_3333333333333" };
const NEWER = { js: "newJs_6666666666666666", wasm: "newWasm_77777777777777", css: "newCss_88888888888888" };

/** A debug build followed by a release build, as `make test` after `cargo leptos build`. */
function releaseAfterDebug() {
  const repo = checkout();
  const target = path.join(repo, "target");
  const site = path.join(target, "site");
  build(target, "debug", DEBUG, { site });
  build(target, "release", RELEASE, { site });
  return { repo, target, site };
}

test("after a release build, the release binary is tested even though a debug one exists", () => {
  const { repo, target, site } = releaseAfterDebug();
  const { binary } = chooseServerBinary({ repo, siteRoot: site, env: {} });
  assert.equal(binary, path.join(target, "release", "chat"));
});

test("after a debug build, the debug binary is tested even though a release one exists", () => {
  const repo = checkout();
  const target = path.join(repo, "target");
  const site = path.join(target, "site");
  build(target, "release", RELEASE, { site });
  build(target, "debug", DEBUG, { site });
  const { binary } = chooseServerBinary({ repo, siteRoot: site, env: {} });
  assert.equal(binary, path.join(target, "debug", "chat"));
});

test("a release build alone, with no debug build at all, is found", () => {
  const repo = checkout();
  const target = path.join(repo, "target");
  const site = path.join(target, "site");
  build(target, "release", RELEASE, { site });
  const { binary } = chooseServerBinary({ repo, siteRoot: site, env: {} });
  assert.equal(binary, path.join(target, "release", "chat"));
});

test("binaries are looked for in CARGO_TARGET_DIR when it is set", () => {
  const repo = checkout();
  const elsewhere = path.join(checkout(), "shared-target");
  const site = path.join(repo, "target", "site");
  build(elsewhere, "debug", DEBUG, { site });
  build(elsewhere, "release", RELEASE, { site });
  const { binary } = chooseServerBinary({
    repo,
    siteRoot: site,
    env: { CARGO_TARGET_DIR: elsewhere },
  });
  assert.equal(binary, path.join(elsewhere, "release", "chat"));
});

test("when no binary matches the site, it stops and says what each one lacks", () => {
  const { repo, target, site } = releaseAfterDebug();
  // The site was rebuilt, but its server build failed: both hash.txt files are stale.
  fs.rmSync(site, { recursive: true });
  fs.mkdirSync(path.join(site, "pkg"), { recursive: true });
  for (const [ext, hash] of Object.entries(NEWER)) {
    fs.writeFileSync(path.join(site, "pkg", `chat.${hash}.${ext}`), ext);
  }
  assert.throws(
    () => chooseServerBinary({ repo, siteRoot: site, env: {} }),
    (error) => {
      assert.match(error.message, /no server binary was built with the site in target\/site\/pkg/);
      assert.match(error.message, /target\/release\/chat: built for another site .*chat\.relJs_4444444444444444\.js/);
      assert.match(error.message, /target\/debug\/chat: built for another site .*chat\.dbgWasm_22222222222222\.wasm/);
      assert.match(error.message, /cargo leptos build --release/);
      return true;
    },
  );
  assert.ok(fs.existsSync(path.join(target, "release", "chat")));
});

test("a site whose binary is missing names the binary that was not built", () => {
  const repo = checkout();
  const target = path.join(repo, "target");
  const site = path.join(target, "site");
  build(target, "release", RELEASE, { site });
  fs.rmSync(path.join(target, "release", "chat"));
  assert.throws(
    () => chooseServerBinary({ repo, siteRoot: site, env: {} }),
    /target\/release\/chat: not built[\s\S]*target\/debug\/chat: not built/,
  );
});

test("with nothing built at all, it says to build first", () => {
  const repo = checkout();
  assert.throws(
    () => chooseServerBinary({ repo, siteRoot: path.join(repo, "target", "site"), env: {} }),
    /no site to test: target\/site\/pkg does not exist\. Build first/,
  );
});

test("an explicit E2E_PROFILE wins over what the site says", () => {
  const { repo, target, site } = releaseAfterDebug();
  const warnings = [];
  const warn = console.warn;
  console.warn = (message) => warnings.push(message);
  try {
    const { binary } = chooseServerBinary({ repo, siteRoot: site, env: { E2E_PROFILE: "debug" } });
    assert.equal(binary, path.join(target, "debug", "chat"));
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /E2E_PROFILE=debug chosen, but target\/debug\/chat: built for another site/);
});

test("an explicit E2E_PROFILE whose binary is missing stops at once, naming it", () => {
  const repo = checkout();
  const target = path.join(repo, "target");
  const site = path.join(target, "site");
  build(target, "debug", DEBUG, { site });
  assert.throws(
    () => chooseServerBinary({ repo, siteRoot: site, env: { E2E_PROFILE: "release" } }),
    /E2E_PROFILE=release: target\/release\/chat does not exist; build it with `cargo leptos build --release`/,
  );
});
