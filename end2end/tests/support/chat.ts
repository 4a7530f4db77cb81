// What a person does on the chat page, as helpers the specs share.
import { Browser, BrowserContext, Page, expect } from "@playwright/test";

export type Person = { context: BrowserContext; page: Page; name: string };

/** Opens the chat in a fresh browser context and waits until the server has named them. */
export async function arrive(browser: Browser, url = "/", context?: BrowserContext): Promise<Person> {
  context ??= await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await expect(page.locator("#status")).toHaveAttribute("data-status", "online");
  const me = page.locator("#peer-list li .peer-name", { hasText: "(you)" });
  await expect(me).toHaveCount(1);
  const name = (await me.innerText()).replace("(you)", "").trim();
  return { context, page, name };
}

export async function say(person: Person, text: string): Promise<void> {
  await person.page.locator("#input").fill(text);
  await person.page.getByRole("button", { name: "Send message" }).click();
}

export async function peers(page: Page): Promise<string[]> {
  const items = await page.locator("#peer-list li .peer-name").allInnerTexts();
  return items.map((t) => t.replace("(you)", "").trim()).sort();
}

/** A confirmed message on screen (not one of mine still on its way). */
export function messageLine(page: Page, sender: string, text: string) {
  return page.locator("#message-box p:not([data-pending])", { hasText: `${sender} says: ${text}` });
}

/** One of my messages still waiting for the server. */
export function pendingLine(page: Page, text: string) {
  return page.locator("#message-box p[data-pending]", { hasText: text });
}

export async function myName(page: Page): Promise<string> {
  const me = page.locator("#peer-list li .peer-name", { hasText: "(you)" });
  return (await me.innerText()).replace("(you)", "").trim();
}
