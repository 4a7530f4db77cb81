import { test, expect } from "@playwright/test";
import { arrive, say, peers, messageLine } from "./support/chat";

test("two people meet in general, one creates a room, the other joins it from the list, and they chat there", async ({ browser }) => {
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  const cat = await arrive(browser);

  await ann.page.locator("#new-room-name").fill("Book Club");
  await ann.page.getByRole("button", { name: "Create" }).click();
  await expect(ann.page).toHaveURL(/\/r\/book-club$/);
  await expect(ann.page.locator("#room-title")).toHaveText("#book-club");

  const link = bob.page.locator('#room-list a[data-room="book-club"]');
  await expect(link).toBeVisible();
  await link.click();
  await expect(bob.page).toHaveURL(/\/r\/book-club$/);
  await expect.poll(() => peers(bob.page)).toEqual([ann.name, bob.name].sort());

  await say(ann, "welcome to the club");
  await expect(messageLine(bob.page, ann.name, "welcome to the club")).toHaveCount(1);
  // Said in the room, not in general: cat, in general, never sees it.
  await expect(messageLine(cat.page, ann.name, "welcome to the club")).toHaveCount(0);

  // While ann reads the room, cat speaks in general: ann's list shows it as unread.
  await say(cat, "anyone in general?");
  const general = ann.page.locator('#room-list a[data-room="general"]');
  await expect(general.locator(".unread")).toHaveText("1");
  await expect(messageLine(ann.page, cat.name, "anyone in general?")).toHaveCount(0);
  await general.click();
  await expect(messageLine(ann.page, cat.name, "anyone in general?")).toHaveCount(1);
  await expect(general.locator(".unread")).toHaveCount(0);

  for (const p of [ann, bob, cat]) await p.context.close();
});

test("a direct message between two of three people is invisible to the third", async ({ browser }) => {
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  const cat = await arrive(browser);

  await ann.page.getByRole("link", { name: `Send a direct message to ${bob.name}` }).click();
  await expect(ann.page).toHaveURL(/\/dm\/[0-9a-f]{16}$/);
  await say(ann, "psst, just for bob");
  await expect(messageLine(ann.page, ann.name, "psst, just for bob")).toHaveCount(1);

  const fromAnn = bob.page.locator("#dm-list a", { hasText: ann.name });
  await expect(fromAnn.locator(".unread")).toHaveText("1");
  await fromAnn.click();
  await expect(bob.page.locator("#room-title")).toHaveText(ann.name);
  await expect(messageLine(bob.page, ann.name, "psst, just for bob")).toHaveCount(1);
  await say(bob, "got it");
  await expect(messageLine(ann.page, bob.name, "got it")).toHaveCount(1);

  await expect(cat.page.locator("#dm-list a")).toHaveCount(0);
  await expect(cat.page.locator("body")).not.toContainText("psst, just for bob");
  await expect(cat.page.locator("body")).not.toContainText("got it");

  for (const p of [ann, bob, cat]) await p.context.close();
});
