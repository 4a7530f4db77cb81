// Starting our server binary for the browser tests, and the Chromium they drive.
import { spawn, ChildProcess } from "node:child_process";
import path from "node:path";
import { chooseServerBinary } from "./binary";

export const E2E_PORT = Number(process.env.E2E_PORT ?? 3917);
export const BASE_URL = `http://127.0.0.1:${E2E_PORT}`;
export const REPO = path.resolve(__dirname, "../../..");

export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
  ],
};

/** The site the test servers serve: what the last `cargo leptos build` wrote. */
export const SITE_ROOT = path.join(REPO, "target", "site");

let chosen: { binary: string; why: string } | undefined;

/** The server binary built with that site, debug or release (see binary.js); E2E_PROFILE
 * chooses one outright. Throws, naming what is missing, when no binary matches the site. */
export function chosenServer(): { binary: string; why: string } {
  chosen ??= chooseServerBinary({ repo: REPO, siteRoot: SITE_ROOT });
  return chosen;
}

export function serverCommand(): string {
  return chosenServer().binary;
}

/** Each test server keeps its own database here; emptied before every run. */
export const DATA_DIR = path.join(REPO, "target", "e2e-data");

/** This run's databases carry its number: Playwright starts the suite's server before the
 * global setup empties DATA_DIR, so the setup must spare the database that server already
 * opened (deleting it left the server on an unlinked file that `chat moderator …`, run with
 * the same CHAT_DATABASE, could never reach). Set in the runner, inherited by its workers. */
export const RUN_ID = (process.env.E2E_RUN_ID ??= String(Date.now()));

export function serverEnv(port: number): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    CHAT_DATABASE: path.join(DATA_DIR, `chat-${port}-${RUN_ID}.sqlite3`),
    LEPTOS_SITE_ROOT: SITE_ROOT,
    CHAT_CONFIG: path.join(REPO, "Leptos.toml"),
    RUST_LOG: process.env.RUST_LOG ?? "warn",
  };
}

/** A server of our own, for tests that stop and start it or configure it (`env`). */
export class OwnServer {
  private child?: ChildProcess;
  constructor(
    readonly port: number,
    readonly env: Record<string, string> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(serverCommand(), [], {
      cwd: REPO,
      env: { ...serverEnv(this.port), ...this.env },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(this.url)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server on ${this.port} did not start`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}
