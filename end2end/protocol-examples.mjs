// Runs every ```js example block of PROTOCOL.md against one real server, one test per block,
// so the protocol document cannot drift from the server: `node --test end2end/protocol-examples.mjs`.
//
// The server binary is $CHAT_BINARY, else target/release/chat when it exists and is newer than
// target/debug/chat, else target/debug/chat (nothing is built here). It runs from the checkout
// with in-memory storage on a free port; the per-address connection and handshake limits are
// raised (the examples open many short connections from 127.0.0.1), the per-connection event
// rate keeps its default, which one example shows; the person of one token is a moderator.
//
// Each example is run as the body of an async function given `url`, `io`, `assert`, `emitAck`
// and `require` (PROTOCOL.md, "Conventions"); every socket it opens is closed when it ends, and
// it fails after 10 s.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { createRequire } from "node:module";
import { createHash } from "node:crypto";

const repo = path.resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
const client = require("socket.io-client");
const EXAMPLE_TIMEOUT_MS = 10_000;

/** The ```js example blocks of PROTOCOL.md, each named after its section, its first comment
 * and its line. */
function examples() {
  const lines = fs.readFileSync(path.join(repo, "PROTOCOL.md"), "utf8").split("\n");
  const found = [];
  let heading = "";
  let block = null;
  lines.forEach((line, at) => {
    if (block) {
      if (line.startsWith("```")) {
        const comment = block.lines.find((l) => l.startsWith("// "))?.slice(3) ?? "example";
        found.push({ name: `${heading}: ${comment} (PROTOCOL.md:${block.line})`, code: block.lines.join("\n") });
        block = null;
      } else {
        block.lines.push(line);
      }
    } else if (line === "```js example") {
      block = { line: at + 1, lines: [] };
    } else if (/^#{2,4} /.test(line)) {
      heading = line.replace(/^#+ /, "");
    }
  });
  return found;
}

function binary() {
  if (process.env.CHAT_BINARY) return path.resolve(process.env.CHAT_BINARY);
  const [debug, release] = ["debug", "release"].map((p) => path.join(repo, "target", p, "chat"));
  const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : -1);
  return mtime(release) > mtime(debug) ? release : debug;
}

async function freePort() {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A token's public id, derived as src/server/people.rs does (user key, then public id). */
function publicId(token) {
  const hex = (text, bytes) => createHash("sha256").update(text).digest("hex").slice(0, bytes * 2);
  return hex(`public:u:${hex(token, 16)}`, 8);
}

/** The moderator of the examples (PROTOCOL.md, Moderation). */
const EXAMPLE_MODERATOR = "example-moderator-0123456789";

let server;
let url;
let output = "";

before(async () => {
  const bin = binary();
  assert.ok(fs.existsSync(bin), `no server binary at ${bin} (build it, or set CHAT_BINARY)`);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(bin, [], {
    cwd: repo,
    env: {
      ...process.env,
      CHAT_STORAGE: "memory",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      CHAT_MAX_CONNECTIONS_PER_IP: "10000",
      CHAT_HANDSHAKES_PER_MINUTE_PER_IP: "100000",
      CHAT_MODERATORS: publicId(EXAMPLE_MODERATOR),
      RUST_LOG: process.env.RUST_LOG ?? "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout.on("data", (d) => (output += d));
  server.stderr.on("data", (d) => (output += d));
  for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
    if (server.exitCode !== null) throw new Error(`${bin} exited (${server.exitCode}):\n${output}`);
    if (Date.now() - started > 30_000) throw new Error(`${bin} did not answer /healthz in 30 s:\n${output}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
  }
});

after(async () => {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  await exited;
});

const all = examples();
if (all.length === 0) test("PROTOCOL.md has ```js example blocks", () => assert.fail("none found"));
for (const { name, code } of all) {
  test(name, { timeout: EXAMPLE_TIMEOUT_MS + 2_000 }, async () => {
    const sockets = [];
    const io = (...args) => {
      const socket = client.io(...args);
      sockets.push(socket);
      return socket;
    };
    const emitAck = (socket, event, payload) => socket.timeout(5_000).emitWithAck(event, payload);
    const requireHere = (id) => (id === "socket.io-client" ? { ...client, io, connect: io, default: io } : require(id));
    // The block lets the example declare its own `io` and `assert`, as a standalone script would.
    const run = new (async () => {}).constructor("url", "io", "assert", "emitAck", "require", `{\n${code}\n}`);
    let timer;
    try {
      await Promise.race([
        run(url, io, assert, emitAck, requireHere),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`example timed out after ${EXAMPLE_TIMEOUT_MS} ms`)), EXAMPLE_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      for (const socket of sockets) socket.disconnect();
    }
  });
}
