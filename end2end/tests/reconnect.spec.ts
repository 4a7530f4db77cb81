import { test, expect } from "@playwright/test";
import { arrive, say, messageLine } from "./support/chat";
import { OwnServer, E2E_PORT } from "./support/server";

test("after the server restarts, the pages reconnect by themselves and chat again", async ({ browser }) => {
  test.setTimeout(60_000);
  const server = new OwnServer(E2E_PORT + 1);
  await server.start();
  try {
    const ann = await arrive(browser, server.url);
    const bob = await arrive(browser, server.url);

    await server.stop();
    for (const p of [ann, bob]) {
      await expect(p.page.locator("#status")).toHaveAttribute("data-status", "reconnecting");
      await expect(p.page.getByRole("button", { name: "Send message" })).toBeDisabled();
    }

    await server.start();
    for (const p of [ann, bob]) {
      await expect(p.page.locator("#status")).toHaveAttribute("data-status", "online", { timeout: 15_000 });
    }
    // A new server gives new names; read them again.
    const annName = (await ann.page.locator("#peer-list li", { hasText: "(you)" }).innerText()).replace("(you)", "").trim();
    await say(ann, "we are back");
    await expect(messageLine(bob.page, annName, "we are back")).toHaveCount(1);
    await ann.context.close();
    await bob.context.close();
  } finally {
    await server.stop();
  }
});
