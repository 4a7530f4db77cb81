// Every run starts from empty databases, so specs see only their own history.
import fs from "node:fs";
import { DATA_DIR } from "./server";

export default function globalSetup(): void {
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  fs.mkdirSync(DATA_DIR, { recursive: true });
}
