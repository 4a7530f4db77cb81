// The things people notice in the first minute, acted out as a person would, on a desktop
// and (project phone-chromium) on a 360 px phone.
import { test, expect, Page } from "@playwright/test";
import { io } from "socket.io-client";
import { arrive, say, messageLine, peers } from "./support/chat";
import { BASE_URL } from "./support/server";

test("someone typing shows for the others, never for themselves, and goes away", async ({ browser }) => {
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  await ann.page.locator("#input").pressSequentially("hello th", { delay: 30 });
  await expect(bob.page.locator("#typing")).toHaveText(`${ann.name} is typing…`);
  await expect(ann.page.locator("#typing")).toHaveText("");
  // About three seconds without news and it is gone.
  await expect(bob.page.locator("#typing")).toHaveText("", { timeout: 6_000 });
  await ann.context.close();
  await bob.context.close();
});

test("arrivals and departures appear in the stream", async ({ browser }) => {
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  await expect(ann.page.locator("#message-box .notice", { hasText: `${bob.name} joined` })).toHaveCount(1);
  await bob.context.close();
  await expect(ann.page.locator("#message-box .notice", { hasText: `${bob.name} left` })).toHaveCount(1, {
    timeout: 8_000,
  });
  await ann.context.close();
});

/** A room of the test's own, so nothing else said elsewhere interleaves. */
const ownRoom = (tag: string) => `/r/${tag}-${Math.random().toString(36).slice(2, 8)}`;

test("messages show their time, group by sender, and mine stand apart", async ({ browser }) => {
  const room = ownRoom("times");
  const ann = await arrive(browser, room);
  const bob = await arrive(browser, room);
  await say(ann, "first of two");
  await expect(messageLine(ann.page, ann.name, "first of two")).toHaveCount(1);
  await say(ann, "second of two");
  for (const p of [ann, bob]) {
    const first = messageLine(p.page, ann.name, "first of two");
    const second = messageLine(p.page, ann.name, "second of two");
    await expect(second).toHaveCount(1);
    await expect(first.locator("time")).toHaveText(/^\d\d:\d\d$/);
    await expect(first.locator("time")).toHaveAttribute("title", /\d/);
    // The sender is shown once per group (still there for screen readers).
    await expect(first.locator("strong")).toBeVisible();
    await expect(second.locator("strong")).toHaveClass(/sr-only/);
    await expect(p.page.locator("#message-box .day-separator").first()).toBeVisible();
  }
  await expect(messageLine(ann.page, ann.name, "first of two")).toHaveAttribute("data-mine", "true");
  await expect(messageLine(bob.page, ann.name, "first of two")).not.toHaveAttribute("data-mine", "true");
  await ann.context.close();
  await bob.context.close();
});

test("the list follows new messages only at the bottom; otherwise a button counts them", async ({ browser }) => {
  const path = ownRoom("scroll");
  const room = path.slice(3);
  const ann = await arrive(browser, path);
  // Three stock clients fill the room quickly (each within its own rate limit).
  const sockets = [0, 1, 2].map(() => io(BASE_URL, { transports: ["websocket"] }));
  await Promise.all(sockets.map((s) => new Promise((r) => s.once("name-generated", r))));
  for (const s of sockets) await s.emitWithAck("join", { room });
  const send = (s: (typeof sockets)[number], text: string) => s.emit("message", { text, room });
  sockets.forEach((s, i) => {
    for (let n = 0; n < 8; n++) send(s, `filler ${i}-${n}`);
  });
  const box = ann.page.locator("#message-box");
  // Scrolled to its end (the box itself; on a phone the page may be scrolled too).
  const atEnd = () => box.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 8);
  await expect(box.locator("p", { hasText: "filler 2-7" })).toHaveCount(1);
  expect(await box.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
  await expect.poll(atEnd).toBe(true);

  // Scrolled up to read: new messages do not pull the list down.
  // Scroll up, and let the browser deliver the scroll event before anything new arrives.
  await box.evaluate(
    (el) =>
      new Promise<void>((done) => {
        el.scrollTop = 0;
        requestAnimationFrame(() => requestAnimationFrame(() => done()));
      }),
  );
  send(sockets[0], "while you read 1");
  send(sockets[1], "while you read 2");
  const button = ann.page.locator("#new-messages");
  await expect(button).toHaveText("2 new messages ↓");
  expect(await box.evaluate((el) => el.scrollTop)).toBe(0);
  await button.click();
  await expect.poll(atEnd).toBe(true);
  await expect(button).toHaveCount(0);
  sockets.forEach((s) => s.disconnect());
  await ann.context.close();
});

test("Shift+Enter starts a new line, Enter sends, and a counter appears near the limit", async ({ browser }) => {
  const ann = await arrive(browser);
  const input = ann.page.locator("#input");
  await input.fill("line one");
  await input.press("Shift+Enter");
  await input.pressSequentially("line two");
  await expect(input).toHaveValue("line one\nline two");
  await input.press("Enter");
  const line = messageLine(ann.page, ann.name, "line one");
  await expect(line).toHaveCount(1);
  expect(await line.locator("span > span").innerText()).toBe("line one\nline two");

  await expect(ann.page.locator("#char-count")).toHaveText("");
  await input.fill("x".repeat(850));
  await expect(ann.page.locator("#char-count")).toHaveText("150 characters left");
  await input.fill("short");
  await expect(ann.page.locator("#char-count")).toHaveText("");
  await ann.context.close();
});

test("who's online counts the room and lists me first", async ({ browser }) => {
  const room = ownRoom("peers");
  const ann = await arrive(browser, room);
  const bob = await arrive(browser, room);
  const cat = await arrive(browser, room);
  await expect(bob.page.locator("#peers-heading .peer-count")).toHaveText("3");
  await expect(bob.page.locator("#peer-list li .peer-name").first()).toHaveText(`${bob.name} (you)`);
  const others = (await peers(bob.page)).filter((n) => n !== bob.name);
  expect(others).toEqual([ann.name, cat.name].sort());
  for (const p of [ann, bob, cat]) await p.context.close();
});

async function setHidden(page: Page, hidden: boolean) {
  await page.evaluate((hidden) => {
    Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
    document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
  }, hidden);
}

test("while the tab is hidden its title counts new messages", async ({ browser }) => {
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  await setHidden(ann.page, true);
  await say(bob, "are you there?");
  await say(bob, "hello?");
  await expect(ann.page).toHaveTitle("(2) Realtime chat");
  await setHidden(ann.page, false);
  await expect(ann.page).toHaveTitle("Realtime chat");
  await ann.context.close();
  await bob.context.close();
});

test("the layout fits the screen and does not shift when the page comes alive", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    (window as any).__shift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as any[]) {
        if (!entry.hadRecentInput) (window as any).__shift += entry.value;
      }
    }).observe({ type: "layout-shift", buffered: true });
  });
  await page.goto("/");
  await expect(page.locator("#status")).toHaveAttribute("data-status", "online");
  const width = page.viewportSize()!.width;
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
  expect(await page.evaluate(() => (window as any).__shift)).toBeLessThan(0.1);
  await context.close();
});
