// What a person does on the chat page, as helpers the specs share.
import { Browser, BrowserContext, Page, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { io } from "socket.io-client";
import { BASE_URL } from "./server";

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

/** People on the stock socket.io-client (no page), in one room: quick to fill a room with. */
export async function crowd(size: number, room: string) {
  const sockets = Array.from({ length: size }, () => io(BASE_URL, { transports: ["websocket"] }));
  const names = await Promise.all(sockets.map((s) => new Promise<string>((r) => s.once("name-generated", r))));
  for (const s of sockets) await s.emitWithAck("join", { room });
  return {
    names,
    /** One of them says something in `to` (their room unless told), accepted by the server. */
    async say(who: number, text: string, to = room) {
      const ack = await sockets[who].emitWithAck("message", { text, room: to });
      expect(ack?.ok, `refused: ${JSON.stringify(ack)}`).toBe(true);
    },
    async join(other: string) {
      for (const s of sockets) await s.emitWithAck("join", { room: other });
    },
    leave() {
      sockets.forEach((s) => s.disconnect());
    },
  };
}

/** Whether the document itself can scroll (only its lists should). */
export async function pageScrolls(page: Page): Promise<boolean> {
  return page.evaluate(() => document.scrollingElement!.scrollHeight > window.innerHeight);
}

/** A room name of the test's own, so nothing said elsewhere interleaves. */
export function ownRoom(tag: string): string {
  return `${tag}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A phone of today (the phone project's is a smaller one). */
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** axe-core finds no serious or critical violation on the page as it is now. */
export async function axeClean(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

/** axe-core finds no serious or critical violation within the parts of the page `selectors` name. */
export async function axeCleanWithin(page: Page, selectors: string[]): Promise<void> {
  let builder = new AxeBuilder({ page });
  for (const s of selectors) builder = builder.include(s);
  const results = await builder.analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}
