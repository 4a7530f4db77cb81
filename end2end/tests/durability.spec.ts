import { test, expect } from "@playwright/test";
import { arrive, say, peers, messageLine, myName } from "./support/chat";

test("a reload keeps my name and shows the conversation so far", async ({ browser }) => {
  const ann = await arrive(browser);
  await say(ann, "remember this after a reload");
  await expect(messageLine(ann.page, ann.name, "remember this after a reload")).toHaveCount(1);

  await ann.page.reload();
  await expect(ann.page.locator("#status")).toHaveAttribute("data-status", "online");
  expect(await myName(ann.page)).toBe(ann.name);
  await expect(messageLine(ann.page, ann.name, "remember this after a reload")).toHaveCount(1);
  await ann.context.close();
});

test("two tabs of one person are one entry in everyone's list", async ({ browser }) => {
  const ann = await arrive(browser);
  const annAgain = await arrive(browser, "/", ann.context);
  expect(annAgain.name).toBe(ann.name);
  const bob = await arrive(browser);
  await expect.poll(() => peers(bob.page)).toEqual([ann.name, bob.name].sort());
  await annAgain.page.close();
  await expect.poll(() => peers(bob.page)).toEqual([ann.name, bob.name].sort());
  await ann.context.close();
  await expect.poll(() => peers(bob.page)).toEqual([bob.name]);
  await bob.context.close();
});

test("with WebSocket blocked, the page falls back to long-polling and still chats", async ({ browser }) => {
  const context = await browser.newContext();
  // A proxy that refuses WebSocket upgrades, as far as the page can tell.
  await context.routeWebSocket(/\/socket\.io\//, (ws) => ws.close());
  const ann = await arrive(browser, "/", context);
  await expect(ann.page.locator("#status")).toHaveAttribute("data-transport", "polling");
  const bob = await arrive(browser);

  await say(ann, "sent over long-polling");
  await expect(messageLine(bob.page, ann.name, "sent over long-polling")).toHaveCount(1);
  await say(bob, "received over long-polling");
  await expect(messageLine(ann.page, bob.name, "received over long-polling")).toHaveCount(1);
  // Closing the tab says goodbye at once, though a long-poll cannot be cancelled.
  await ann.page.close({ runBeforeUnload: true });
  await expect.poll(() => peers(bob.page), { timeout: 3_000 }).not.toContain(ann.name);
  await ann.context.close();
  await bob.context.close();
});
