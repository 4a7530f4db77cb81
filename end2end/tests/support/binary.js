// @ts-check
// Which server binary the browser tests start: the one built with the site that is there.
//
// `cargo leptos build` (debug) and `cargo leptos build --release` write the same site,
// target/site, but different binaries, target/debug/chat and target/release/chat; whichever
// ran last emptied the site and wrote its own hashed files there. With `hash-files = true` it
// also writes hash.txt beside the binary it built, one `ext: hash` line per hashed file
// (`js: …`, `wasm: …`, `css: …`, naming pkg/chat.<hash>.<ext>), and the server reads that file
// at start to link them. So the binary to test is the one whose hash.txt names files the site
// has: a binary left over from the other profile names files that are gone, and would serve
// pages whose scripts do not load. `cargo leptos end-to-end` tells its end2end-cmd nothing
// about the profile it built (cargo-leptos 0.3.10 sets no variable for it), so this is decided
// here, for `make test`, `cargo leptos end-to-end [--release]` and `npx playwright test` alike.
//
// Plain JavaScript so that end2end/check-binary.mjs can test it with node alone.

const fs = require("node:fs");
const path = require("node:path");

/** The profiles `cargo leptos build` writes binaries for, most likely first. */
const PROFILES = ["release", "debug"];
/** The files hash.txt names, by the key it gives them (their extension). */
const HASHED = ["js", "wasm", "css"];

/**
 * @typedef {object} Where
 * @property {string} repo the checkout (Cargo.toml's directory)
 * @property {string} siteRoot the site the server will serve (LEPTOS_SITE_ROOT)
 * @property {NodeJS.ProcessEnv} [env] E2E_PROFILE, CARGO_TARGET_DIR, LEPTOS_* as the server reads them
 */

/**
 * The server binary to test, as an absolute path. E2E_PROFILE=<profile> chooses one outright;
 * otherwise it is the binary whose hash.txt matches the site. Throws, saying what is missing,
 * when there is none.
 * @param {Where} where
 * @returns {{ binary: string, why: string }}
 */
function chooseServerBinary({ repo, siteRoot, env = process.env }) {
  const targetDir = path.resolve(repo, env.CARGO_TARGET_DIR || "target");
  const pkgDir = path.join(siteRoot, env.LEPTOS_SITE_PKG_DIR || "pkg");
  const site = {
    pkgDir,
    outputName: env.LEPTOS_OUTPUT_NAME || "chat",
    hashFile: env.LEPTOS_HASH_FILE_NAME || "hash.txt",
  };
  const shown = (/** @type {string} */ p) => path.relative(repo, p) || p;

  if (env.E2E_PROFILE) {
    const binary = path.join(targetDir, env.E2E_PROFILE, "chat");
    if (!fs.existsSync(binary)) {
      throw new Error(
        `E2E_PROFILE=${env.E2E_PROFILE}: ${shown(binary)} does not exist; build it with ` +
          `\`cargo leptos build${env.E2E_PROFILE === "release" ? " --release" : ""}\``,
      );
    }
    const problem = mismatch(binary, site, shown);
    if (problem) console.warn(`warning: E2E_PROFILE=${env.E2E_PROFILE} chosen, but ${problem}`);
    return { binary, why: `E2E_PROFILE=${env.E2E_PROFILE}` };
  }

  if (!fs.existsSync(pkgDir)) {
    throw new Error(
      `no site to test: ${shown(pkgDir)} does not exist. Build first: ` +
        "`cargo leptos build --release` (or `make test`, or `cargo leptos end-to-end`)",
    );
  }
  const checked = PROFILES.map((profile) => {
    const binary = path.join(targetDir, profile, "chat");
    return { binary, problem: mismatch(binary, site, shown) };
  });
  const matching = checked.filter((c) => !c.problem).map((c) => c.binary);
  if (matching.length === 0) {
    throw new Error(
      `no server binary was built with the site in ${shown(pkgDir)}:\n` +
        checked.map((c) => `  ${c.problem}\n`).join("") +
        "Build the binary and the site together: `cargo leptos build --release` " +
        "(or without --release), then run the tests again; or set E2E_PROFILE to choose one.",
    );
  }
  // Both only when the two builds wrote identical files; the newer binary is the last build.
  const newest = matching.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  return { binary: newest, why: `its ${site.hashFile} matches ${shown(pkgDir)}` };
}

/**
 * Why `binary` cannot serve the site in `site.pkgDir`, or "" when it can.
 * @param {string} binary
 * @param {{ pkgDir: string, outputName: string, hashFile: string }} site
 * @param {(p: string) => string} shown
 */
function mismatch(binary, site, shown) {
  if (!fs.existsSync(binary)) return `${shown(binary)}: not built`;
  const hashFile = path.join(path.dirname(binary), site.hashFile);
  if (!fs.existsSync(hashFile)) return `${shown(binary)}: no ${shown(hashFile)} beside it`;
  const hashes = new Map();
  for (const line of fs.readFileSync(hashFile, "utf8").split("\n")) {
    const [key, value] = line.split(":").map((part) => part.trim());
    if (HASHED.includes(key) && value) hashes.set(key, value);
  }
  if (hashes.size === 0) return `${shown(hashFile)} names no hashed files`;
  const missing = [...hashes]
    .map(([ext, hash]) => path.join(site.pkgDir, `${site.outputName}.${hash}.${ext}`))
    .filter((file) => !fs.existsSync(file));
  if (missing.length > 0) {
    return (
      `${shown(binary)}: built for another site (its ${site.hashFile} names ` +
      `${missing.map(shown).join(", ")}, which ${missing.length === 1 ? "is" : "are"} not there)`
    );
  }
  return "";
}

module.exports = { chooseServerBinary };
