import { test, expect, type Page } from "@playwright/test";
import { arrive, say, messageLine, ownRoom } from "./support/chat";

/** Searches from the bar across the top; the results panel is returned. */
async function search(page: Page, query: string) {
  const box = page.getByRole("search", { name: "Search messages" }).getByLabel("Search messages");
  await box.fill(query);
  await box.press("Enter");
  const panel = page.getByRole("region", { name: "Search results" });
  await expect(panel).toBeVisible();
  return panel;
}

test("someone searches a word and a prefix across two rooms, and a result opens its conversation at the message", async ({ browser }) => {
  // Words of this run's own, so nothing said in other runs matches.
  const tag = Math.random().toString(36).replace(/[^a-z]/g, "").slice(0, 6).padEnd(6, "q");
  const [inRoom, inGeneral] = [`zq${tag}alpha`, `zq${tag}beta`];
  const room = ownRoom("find");
  const ann = await arrive(browser, `/r/${room}`);
  await say(ann, `the ${inRoom} is here`);
  await expect(messageLine(ann.page, ann.name, `the ${inRoom} is here`)).toHaveCount(1);
  await ann.page.goto("/");
  await expect(ann.page.locator("#status")).toHaveAttribute("data-status", "online");
  await say(ann, `and ${inGeneral} over there`);
  await expect(messageLine(ann.page, ann.name, `and ${inGeneral} over there`)).toHaveCount(1);

  // A whole word: one result, in its room, the word marked.
  let panel = await search(ann.page, inRoom);
  const results = panel.locator(".search-result");
  await expect(results).toHaveCount(1);
  await expect(results.first().locator(".search-place")).toHaveText(`#${room}`);
  await expect(results.first().locator("mark")).toHaveText(inRoom);

  // Esc closes the panel.
  await ann.page.keyboard.press("Escape");
  await expect(panel).toBeHidden();

  // A prefix: both, newest first.
  panel = await search(ann.page, `zq${tag}*`);
  await expect(panel.locator(".search-result")).toHaveCount(2);
  await expect(panel.locator(".search-result mark")).toHaveText([inGeneral, inRoom]);

  // The older one, in the other room: its conversation opens with the message in view.
  await panel.locator(".search-result", { hasText: inRoom }).click();
  await expect(ann.page).toHaveURL(new RegExp(`/r/${room}$`));
  await expect(messageLine(ann.page, ann.name, `the ${inRoom} is here`)).toBeInViewport();
  await ann.context.close();
});

test("another pair's direct messages are never search results", async ({ browser }) => {
  const word = `zq${Math.random().toString(36).replace(/[^a-z]/g, "").slice(0, 6)}secret`;
  const ann = await arrive(browser);
  const bob = await arrive(browser);
  const cat = await arrive(browser);
  await ann.page.getByRole("link", { name: `Send a direct message to ${bob.name}` }).click();
  await expect(ann.page).toHaveURL(/\/dm\/[0-9a-f]{16}$/);
  await say(ann, `just us: ${word}`);
  await expect(messageLine(ann.page, ann.name, `just us: ${word}`)).toHaveCount(1);

  // Ann finds her own direct message, named after bob.
  const mine = await search(ann.page, word);
  await expect(mine.locator(".search-result")).toHaveCount(1);
  await expect(mine.locator(".search-place")).toHaveText(bob.name);

  // Cat does not.
  const theirs = await search(cat.page, word);
  await expect(theirs.getByRole("status")).toContainText("No messages found");
  await expect(theirs.locator(".search-result")).toHaveCount(0);
  for (const p of [ann, bob, cat]) await p.context.close();
});
