import { test, expect } from "@playwright/test";

test("the page arrives server-rendered with the tutorial's layout, before any script runs", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page).toHaveTitle("Realtime chat");
  await expect(page.getByRole("heading", { name: "Realtime chat" })).toBeVisible();
  await expect(page.locator("#message-box")).toBeVisible();
  await expect(page.locator("#form #input")).toHaveAttribute("placeholder", "Start typing...");
  await expect(page.locator("#form button")).toHaveText("Send message");
  await expect(page.locator("#form button")).toBeDisabled();
  await expect(page.getByRole("heading", { name: "Who's online:" })).toBeVisible();
  await expect(page.locator("#peer-list")).toBeAttached();
  // Tailwind's stylesheet is applied: the card has a white background.
  const bg = await page.locator("#app").evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(bg).toBe("rgb(255, 255, 255)");
  await context.close();
});

test("the page hydrates: the send button wakes up as you type", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("#status")).toHaveAttribute("data-status", "online");
  const button = page.getByRole("button", { name: "Send message" });
  await expect(button).toBeDisabled();
  await page.locator("#input").fill("hello");
  await expect(button).toBeEnabled();
  await page.locator("#input").fill("   ");
  await expect(button).toBeDisabled();
  // The peer dot's colour class survived Tailwind's purge: it is painted.
  const dot = page.locator("#peer-list li span[aria-hidden=true]").first();
  const color = await dot.evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(color).not.toBe("rgba(0, 0, 0, 0)");
});

test("CSS, JS and WASM are served compressed, with hashed names cached for a year", async ({ page }) => {
  const encodings = new Map<string, string>();
  const caching = new Map<string, string>();
  page.on("response", async (response) => {
    const url = new URL(response.url());
    const ext = url.pathname.split(".").pop() ?? "";
    if (url.pathname.startsWith("/pkg/") && ["css", "js", "wasm"].includes(ext)) {
      const headers = await response.allHeaders();
      encodings.set(ext, headers["content-encoding"] ?? "identity");
      caching.set(ext, headers["cache-control"] ?? "");
    }
  });
  await page.goto("/");
  await expect(page.locator("#status")).toHaveAttribute("data-status", "online");
  expect([...encodings.keys()].sort()).toEqual(["css", "js", "wasm"]);
  for (const [ext, encoding] of encodings) {
    expect(["br", "gzip"], `${ext} sent as ${encoding}`).toContain(encoding);
    expect(caching.get(ext), `${ext} caching`).toContain("immutable");
  }
  // The page itself is always revalidated.
  const pageResponse = await page.request.get("/");
  expect(pageResponse.headers()["cache-control"]).toBe("no-cache");
});
