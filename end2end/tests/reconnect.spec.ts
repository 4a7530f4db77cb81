import { test, expect } from "@playwright/test";
import { arrive, say, messageLine, pendingLine, myName } from "./support/chat";
import { OwnServer, E2E_PORT } from "./support/server";

test("after the server restarts, the pages reconnect by themselves; what was typed meanwhile is delivered", async ({ browser }) => {
  test.setTimeout(60_000);
  const server = new OwnServer(E2E_PORT + 1);
  await server.start();
  try {
    const ann = await arrive(browser, server.url);
    const bob = await arrive(browser, server.url);
    await say(ann, "before the restart");
    await expect(messageLine(bob.page, ann.name, "before the restart")).toHaveCount(1);

    await server.stop();
    for (const p of [ann, bob]) {
      await expect(p.page.locator("#status")).toHaveAttribute("data-status", "reconnecting");
      await expect(p.page.locator("#status")).toContainText("Offline, retrying in");
    }
    // Typed while the server is down: shown as on its way, sent once it is back.
    await say(ann, "typed while offline");
    await expect(pendingLine(ann.page, "typed while offline")).toContainText("Sending…");

    await server.start();
    for (const p of [ann, bob]) {
      await expect(p.page.locator("#status")).toHaveAttribute("data-status", "online", { timeout: 15_000 });
      await expect(p.page.locator("#status")).toHaveText("Back online");
    }
    // Names are stable across the restart, so the sender is still ann.
    expect(await myName(ann.page)).toBe(ann.name);
    await expect(messageLine(bob.page, ann.name, "typed while offline")).toHaveCount(1);
    await expect(messageLine(ann.page, ann.name, "typed while offline")).toHaveCount(1);
    await expect(pendingLine(ann.page, "typed while offline")).toHaveCount(0);
    await say(bob, "we are back");
    await expect(messageLine(ann.page, bob.name, "we are back")).toHaveCount(1);
    await ann.context.close();
    await bob.context.close();
  } finally {
    await server.stop();
  }
});
