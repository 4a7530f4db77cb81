// The operator's command line against the suite's server: `chat moderator add|remove <id>`,
// run with the same database and configuration as the server the config started.
import { execFileSync } from "node:child_process";
import { E2E_PORT, REPO, chosenServer, serverEnv } from "./server";

/** Runs `chat moderator <verb> <id>` and returns what it printed (throws if it failed). */
export function moderator(verb: "add" | "remove", id: string): string {
  return execFileSync(chosenServer().binary, ["moderator", verb, id], {
    cwd: REPO,
    env: serverEnv(E2E_PORT),
    encoding: "utf8",
    timeout: 10_000,
  });
}
