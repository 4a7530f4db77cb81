import { defineConfig } from "@playwright/test";
import { BASE_URL, chromiumLaunch, serverCommand, serverEnv, E2E_PORT } from "./tests/support/server";

// Browser tests against the debug build (`cargo leptos build` first; `make e2e` does both).
// Chromium is Debian's, since Playwright cannot download its own browsers here.
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
    command: serverCommand(),
    cwd: "..",
    env: serverEnv(E2E_PORT),
    url: BASE_URL,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
