import { test, expect } from "@playwright/test";
import { arrive, say, messageLine } from "./support/chat";
import { BASE_URL } from "./support/server";

const WS_URL = BASE_URL.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket";

test("a handshake from another origin is refused, on both transports", async ({ browser, request }) => {
  const evil = await request.get("/socket.io/?EIO=4&transport=polling", {
    headers: { Origin: "https://evil.example" },
  });
  expect(evil.status()).toBe(403);
  const own = await request.get("/socket.io/?EIO=4&transport=polling", {
    headers: { Origin: BASE_URL },
  });
  expect(own.status()).toBe(200);

  // A page of another origin (about:blank's is "null") cannot open the chat's WebSocket.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("about:blank");
  const opened = await page.evaluate(
    (url) =>
      new Promise<boolean>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve(true);
        ws.onerror = () => resolve(false);
      }),
    WS_URL,
  );
  expect(opened).toBe(false);
  await context.close();
});

test("the page carries a nonce CSP and security headers, hydrates, and violates nothing", async ({ browser }) => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    (window as any).__violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as any).__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  const response = await page.goto("/");
  const headers = await response!.allHeaders();
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("no-referrer");

  const ann = await arrive(browser, "/", context);
  await say(ann, "<script>alert(1)</script>");
  await expect(messageLine(ann.page, ann.name, "<script>alert(1)</script>")).toHaveCount(1);
  expect(await ann.page.evaluate(() => (window as any).__violations)).toEqual([]);
  expect(await page.evaluate(() => (window as any).__violations)).toEqual([]);
  expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  await context.close();
});
