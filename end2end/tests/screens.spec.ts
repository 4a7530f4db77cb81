// Screenshots to look at, as a person would see the page: desktop and phone, light and dark,
// an empty room and a busy one (with the phone's two drawers open). Attached to the report
// and written under end2end/test-results/screenshots/; every state is also checked with axe.
import { test, expect, Page, TestInfo } from "@playwright/test";
import path from "node:path";
import { arrive, say, crowd, ownRoom, PHONE, axeClean, Person } from "./support/chat";

const SCREENS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: PHONE,
} as const;

async function shoot(page: Page, info: TestInfo, name: string) {
  // Let a drawer finish sliding in.
  await page.waitForTimeout(250);
  const body = await page.screenshot();
  await info.attach(name, { body, contentType: "image/png" });
  const file = path.join(__dirname, "..", "test-results", "screenshots", `${name}.png`);
  await page.screenshot({ path: file });
}

/** A room where several people talk (one of them typing), with news elsewhere for me. */
async function busyRoom(ann: Person, browser: Parameters<typeof arrive>[0]) {
  const room = ownRoom("book-club");
  // On a phone the form is in the conversations drawer.
  const drawer = ann.page.locator('button[aria-controls="conversations"]');
  if (await drawer.isVisible()) await drawer.tap();
  await ann.page.locator("#new-room-name").fill(room);
  await ann.page.locator("#new-room-name").press("Enter");
  await expect(ann.page.locator("#room-title")).toHaveText(`#${room}`);
  const bob = await arrive(browser, `/r/${room}`);
  const others = await crowd(3, room);
  const talk: [number, string][] = [
    [0, "Has everyone finished chapter three?"],
    [1, "Almost! The storm scene took me a while."],
    [1, "Honestly the best part so far."],
    [2, `I liked the letters more. ${"The way the author lets two people drift apart one envelope at a time is quietly devastating. ".repeat(2)}`],
    [0, "Same time next week then?"],
  ];
  for (const [who, text] of talk) await others.say(who, text);
  await say(ann, "Works for me.\nI'll bring the snacks.");
  await say(bob, "See you all then!");
  await expect(ann.page.locator("#message-box p", { hasText: "See you all then" })).toHaveCount(1);
  // News elsewhere: a message in general, a direct one from bob.
  await others.say(1, "anyone around in general?", "general");
  await bob.page.getByRole("link", { name: `Send a direct message to ${ann.name}` }).click();
  await say(bob, "psst, bring the good snacks");
  await bob.page.goto(`/r/${room}`);
  await expect(bob.page.locator("#status")).toHaveAttribute("data-status", "online");
  await expect(ann.page.locator("#dm-list .unread")).toHaveText("1");
  return { bob, others };
}

/** Typing shows for about three seconds: just before a screenshot. */
async function startTyping(ann: Person, bob: Person) {
  await bob.page.locator("#input").pressSequentially("I think", { delay: 20 });
  await expect(ann.page.locator("#typing")).toHaveText(`${bob.name} is typing…`);
}

for (const [screen, options] of Object.entries(SCREENS)) {
  for (const scheme of ["light", "dark"] as const) {
    test(`screenshots: ${screen}, ${scheme}, an empty room and a busy one`, async ({ browser }, info) => {
      test.setTimeout(45_000);
      const context = await browser.newContext({ ...options, colorScheme: scheme });
      const ann = await arrive(browser, `/r/${ownRoom("quiet")}`, context);
      await expect(ann.page.locator("#message-box .empty")).toBeVisible();
      await axeClean(ann.page);
      await shoot(ann.page, info, `${screen}-${scheme}-empty`);

      const { bob, others } = await busyRoom(ann, browser);
      await axeClean(ann.page);
      await startTyping(ann, bob);
      await shoot(ann.page, info, `${screen}-${scheme}-busy`);
      if (screen === "phone") {
        await ann.page.locator('button[aria-controls="conversations"]').tap();
        await expect(ann.page.locator("#conversations")).toBeVisible();
        await axeClean(ann.page);
        await shoot(ann.page, info, `${screen}-${scheme}-busy-conversations`);
        await ann.page.keyboard.press("Escape");
        await ann.page.locator('button[aria-controls="members"]').tap();
        await expect(ann.page.locator("#members")).toBeVisible();
        await axeClean(ann.page);
        await shoot(ann.page, info, `${screen}-${scheme}-busy-members`);
        await ann.page.keyboard.press("Escape");
      } else {
        await ann.page.keyboard.press("Control+k");
        await expect(ann.page.getByRole("dialog")).toBeVisible();
        await ann.page.keyboard.type("gen");
        await shoot(ann.page, info, `${screen}-${scheme}-switcher`);
        await ann.page.keyboard.press("Escape");
      }
      others.leave();
      await bob.context.close();
      await context.close();
    });
  }
}
