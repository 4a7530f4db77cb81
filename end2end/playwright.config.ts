import path from "node:path";
import { defineConfig } from "@playwright/test";
import { BASE_URL, chromiumLaunch, chosenServer, serverEnv, E2E_PORT } from "./tests/support/server";

// Browser tests against the build that was just made, debug or release: the server binary
// whose hash.txt matches target/site (see tests/support/binary.js), so `make test`, `cargo
// leptos end-to-end [--release]` and `npx playwright test` after either build all test what
// they built, and stop here, saying what is missing, when nothing matches.
// Chromium is Debian's, since Playwright cannot download its own browsers here.
const server = chosenServer();
if (!process.env.TEST_WORKER_INDEX) {
  console.log(`e2e: testing ${path.relative(path.resolve(__dirname, ".."), server.binary)} (${server.why})`);
}

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./tests/support/global-setup.ts",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: BASE_URL,
    trace: "retain-on-failure",
    launchOptions: chromiumLaunch,
  },
  projects: [
    { name: "desktop-chromium", use: { viewport: { width: 1280, height: 800 } } },
    {
      // The experience specs again on a small phone.
      name: "phone-chromium",
      testMatch: /(page|ux|a11y|reconnect)\.spec\.ts/,
      use: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
    },
  ],
  webServer: {
    command: server.binary,
    cwd: "..",
    env: serverEnv(E2E_PORT),
    url: BASE_URL,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
