import { test, expect } from "@playwright/test";
import { arrive, say, peers, messageLine } from "./support/chat";

test("three people chat and each sees the others' messages with the right sender", async ({ browser }) => {
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  const cat = await arrive(browser);
  const everyone = [ann, bob, cat];
  const names = everyone.map((p) => p.name).sort();
  expect(new Set(names).size).toBe(3);
  for (const person of everyone) {
    await expect.poll(() => peers(person.page)).toEqual(names);
  }

  await say(ann, "hello from ann");
  await say(bob, "bob here");
  await say(cat, "cat says hi");
  for (const person of everyone) {
    await expect(messageLine(person.page, ann.name, "hello from ann")).toHaveCount(1);
    await expect(messageLine(person.page, bob.name, "bob here")).toHaveCount(1);
    await expect(messageLine(person.page, cat.name, "cat says hi")).toHaveCount(1);
  }
  for (const person of everyone) await person.context.close();
});

test("closing a tab removes that person from the others' lists within 2 s", async ({ browser }) => {
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  await expect.poll(() => peers(ann.page)).toContain(bob.name);
  await bob.context.close();
  await expect.poll(() => peers(ann.page), { timeout: 2_000 }).not.toContain(bob.name);
  await ann.context.close();
});

test("a message containing HTML and script is shown as text and runs nothing", async ({ browser }) => {
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  const evil = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold?</b>`;
  await say(ann, evil);
  for (const person of [ann, bob]) {
    await expect(messageLine(person.page, ann.name, evil)).toHaveCount(1);
    await expect(person.page.locator("#message-box img, #message-box script, #message-box b")).toHaveCount(0);
    expect(await person.page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  }
  await ann.context.close();
  await bob.context.close();
});

test("Enter sends; the input clears and gives up focus; empty input cannot be sent", async ({ browser }) => {
  const ann = await arrive(browser);
  const input = ann.page.locator("#input");
  await input.fill("sent with enter");
  await input.press("Enter");
  await expect(messageLine(ann.page, ann.name, "sent with enter")).toHaveCount(1);
  await expect(input).toHaveValue("");
  await expect(input).not.toBeFocused();
  const lines = ann.page.locator("#message-box p");
  const before = await lines.count();
  await input.fill("   ");
  await input.press("Enter");
  await say(ann, "the next real one");
  await expect(messageLine(ann.page, ann.name, "the next real one")).toHaveCount(1);
  // Only the real message was added: the blank one never went out.
  await expect(lines).toHaveCount(before + 1);
  await ann.context.close();
});
