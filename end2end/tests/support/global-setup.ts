// Every run starts from empty databases, so specs see only their own history. The suite's
// server is already running on this run's database (Playwright starts it first): only the
// earlier runs' files go.
import fs from "node:fs";
import path from "node:path";
import { DATA_DIR, RUN_ID } from "./server";

export default function globalSetup(): void {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  for (const name of fs.readdirSync(DATA_DIR)) {
    if (!name.includes(`-${RUN_ID}.`)) fs.rmSync(path.join(DATA_DIR, name), { recursive: true, force: true });
  }
}
