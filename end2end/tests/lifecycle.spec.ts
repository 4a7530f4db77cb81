// Every message reachable and correctable (issue #14): older history back to the first
// message, edit, delete, reply and reactions, seen live by the others and by someone who was
// offline meanwhile, as people do it with the mouse, the keyboard and on a phone.
import { test, expect, Page, Browser, WebSocketRoute } from "@playwright/test";
import { io, Socket } from "socket.io-client";
import { arrive, say, messageLine, ownRoom, axeClean, PHONE, Person } from "./support/chat";
import { BASE_URL } from "./support/server";

/** The whole message (quote, line, reactions, actions) whose line reads "<sender> says: <text>". */
function message(page: Page, sender: string, text: string) {
  const line = page.locator("p:not([data-pending])", { hasText: `${sender} says: ${text}` });
  return page.locator("#message-box .message").filter({ has: line });
}

/** Opens a message's actions (hover on desktop, "More actions" on a touch screen) and presses one. */
async function act(page: Page, sender: string, text: string, action: "Reply" | "Edit" | "Delete" | "React") {
  const m = message(page, sender, text);
  const more = m.getByRole("button", { name: "More actions" });
  if (await more.isVisible()) await more.click();
  else await m.hover();
  await m.getByRole("button", { name: action, exact: true }).click();
}

/** Stock socket.io-clients posting into `room` fast, each within the server's rate limit. */
async function seeders(count: number, room: string) {
  const sockets: Socket[] = Array.from({ length: count }, () => io(BASE_URL, { transports: ["websocket"] }));
  const names = await Promise.all(sockets.map((s) => new Promise<string>((r) => s.once("name-generated", r))));
  for (const s of sockets) await s.emitWithAck("join", { room });
  /** Posts and returns the stored id; "too fast" waits a moment and posts again. */
  async function post(s: Socket, body: Record<string, unknown>): Promise<number> {
    for (;;) {
      const ack = await s.emitWithAck("message", { room, ...body });
      if (ack?.ok) return ack.id;
      expect(ack?.error?.code, JSON.stringify(ack)).toBe("rate-limited");
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    sockets,
    names,
    post: (who: number, body: Record<string, unknown>) => post(sockets[who], body),
    /** `n` messages "<tag> <i>", spread over the sockets (in parallel, so ids interleave). */
    async fill(n: number, tag: string) {
      await Promise.all(
        sockets.map(async (s, k) => {
          for (let i = k; i < n; i += sockets.length) await post(s, { text: `${tag} ${i}` });
        }),
      );
    },
    close: () => sockets.forEach((s) => s.disconnect()),
  };
}

/** A browser whose network can be cut as a lost connection would be: offline for new
 * requests, and its open WebSocket closed (offline emulation alone may leave it open). */
async function cuttable(browser: Browser, url: string): Promise<Person & { cut(): Promise<() => Promise<void>> }> {
  const context = await browser.newContext();
  let offline = false;
  const open = new Set<WebSocketRoute>();
  await context.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (offline) return ws.close();
    ws.connectToServer();
    open.add(ws);
  });
  const person = await arrive(browser, url, context);
  async function cut() {
    offline = true;
    await context.setOffline(true);
    for (const ws of open) await ws.close();
    open.clear();
    await expect(person.page.locator("#status")).toHaveAttribute("data-status", "reconnecting", { timeout: 15_000 });
    return async () => {
      offline = false;
      await context.setOffline(false);
      await expect(person.page.locator("#status")).toHaveAttribute("data-status", "online", { timeout: 20_000 });
    };
  }
  return { ...person, cut };
}

test("edits, deletions and reactions are seen live, and after a reconnect by someone who was offline", async ({ browser }) => {
  test.setTimeout(60_000);
  const room = `/r/${ownRoom("lifecycle")}`;
  const ann = await arrive(browser, room);
  const bob = await arrive(browser, room);
  const cat = await cuttable(browser, room);
  await say(ann, "first draft");
  await say(ann, "to be taken back");
  await say(ann, "react to me");
  await say(ann, "edit me while cat is away");
  for (const p of [bob, cat]) await expect(messageLine(p.page, ann.name, "edit me while cat is away")).toHaveCount(1);
  await cat.page.evaluate(() => ((window as any).__sameDocument = true));

  // Live: ann edits; the others see the new text, marked edited with its time.
  await act(ann.page, ann.name, "first draft", "Edit");
  await expect(ann.page.locator("#input")).toHaveValue("first draft");
  await ann.page.locator("#input").fill("final text");
  await ann.page.locator("#input").press("Enter");
  for (const p of [ann, bob, cat]) {
    const edited = message(p.page, ann.name, "final text");
    await expect(edited.locator(".edited")).toHaveAttribute("title", /^Edited \S/);
    await expect(messageLine(p.page, ann.name, "first draft")).toHaveCount(0);
  }

  // Cat is cut off; meanwhile ann deletes one, bob reacts to another and ann edits a third.
  const back = await cat.cut();
  await act(ann.page, ann.name, "to be taken back", "Delete");
  await act(bob.page, ann.name, "react to me", "React");
  await bob.page.getByRole("group", { name: "Pick a reaction" }).getByRole("button", { name: "🎉" }).click();
  await act(ann.page, ann.name, "edit me while cat is away", "Edit");
  await ann.page.locator("#input").fill("edited while cat was away");
  await ann.page.locator("#input").press("Enter");
  for (const p of [ann, bob]) {
    await expect(messageLine(p.page, ann.name, "message deleted")).toHaveCount(1);
    await expect(messageLine(p.page, ann.name, "to be taken back")).toHaveCount(0);
    await expect(message(p.page, ann.name, "react to me").locator(".reaction")).toHaveText("🎉1");
    await expect(messageLine(p.page, ann.name, "edited while cat was away")).toHaveCount(1);
  }
  // Cat still shows what it had.
  await expect(messageLine(cat.page, ann.name, "to be taken back")).toHaveCount(1);

  // Back online, without a reload: cat shows the current state of every message.
  await back();
  await expect(messageLine(cat.page, ann.name, "message deleted")).toHaveCount(1);
  await expect(messageLine(cat.page, ann.name, "to be taken back")).toHaveCount(0);
  const reaction = message(cat.page, ann.name, "react to me").locator(".reaction");
  await expect(reaction).toHaveText("🎉1");
  await expect(reaction).toHaveAttribute("title", bob.name);
  await expect(reaction).toHaveAccessibleName(`🎉 1, by ${bob.name}`);
  await expect(message(cat.page, ann.name, "edited while cat was away").locator(".edited")).toHaveCount(1);
  expect(await cat.page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  // Reactions toggle: bob takes his back, everyone sees it go.
  await message(bob.page, ann.name, "react to me").locator(".reaction").click();
  for (const p of [ann, bob, cat]) await expect(message(p.page, ann.name, "react to me").locator(".reaction")).toHaveCount(0);
  for (const p of [ann, bob, cat]) await p.context.close();
});

test("others' messages offer Reply and React, only mine Edit and Delete", async ({ browser }) => {
  const room = `/r/${ownRoom("mine")}`;
  const ann = await arrive(browser, room);
  const bob = await arrive(browser, room);
  await say(ann, "ann's own words");
  await say(bob, "bob's own words");
  await expect(messageLine(ann.page, bob.name, "bob's own words")).toHaveCount(1);
  const names = async (m: ReturnType<typeof message>) => {
    await m.hover();
    return m.locator(".actions button").evaluateAll((b) => b.map((e) => e.textContent));
  };
  expect(await names(message(ann.page, ann.name, "ann's own words"))).toEqual(["Reply", "React", "Edit", "Delete"]);
  expect(await names(message(ann.page, bob.name, "bob's own words"))).toEqual(["Reply", "React", "Report"]);
  await expect(message(ann.page, bob.name, "bob's own words").getByRole("button", { name: "Edit" })).toHaveCount(0);
  await expect(message(ann.page, bob.name, "bob's own words").getByRole("button", { name: "Delete" })).toHaveCount(0);
  // Reachable by keyboard: Tab from the message lands on its actions.
  await message(ann.page, bob.name, "bob's own words").getByRole("button", { name: "Reply" }).focus();
  await expect(message(ann.page, bob.name, "bob's own words").locator(".actions")).toHaveCSS("opacity", "1");
  await ann.context.close();
  await bob.context.close();
});

test("Up-arrow in an empty composer edits my last message, Esc cancels", async ({ browser }) => {
  const room = `/r/${ownRoom("uparrow")}`;
  const ann = await arrive(browser, room);
  const bob = await arrive(browser, room);
  await say(ann, "my first");
  await say(ann, "my last");
  await say(bob, "not mine");
  await expect(messageLine(ann.page, bob.name, "not mine")).toHaveCount(1);
  const input = ann.page.locator("#input");
  await input.focus();
  await input.press("ArrowUp");
  await expect(input).toHaveValue("my last");
  await expect(ann.page.locator("#composing")).toContainText("Editing");
  await input.press("Escape");
  await expect(input).toHaveValue("");
  await expect(ann.page.locator("#composing")).toBeHidden();
  await expect(message(bob.page, ann.name, "my last").locator(".edited")).toHaveCount(0);

  await input.press("ArrowUp");
  await input.fill("my last, fixed");
  await ann.page.getByRole("button", { name: "Save edit" }).click();
  await expect(message(bob.page, ann.name, "my last, fixed").locator(".edited")).toHaveCount(1);
  await expect(messageLine(bob.page, ann.name, "my first")).toHaveCount(1);
  // After the edit the composer sends new messages again.
  await say(ann, "a new one");
  await expect(messageLine(bob.page, ann.name, "a new one")).toHaveCount(1);
  // Text in the composer: Up-arrow moves the caret, it does not start an edit.
  await input.fill("typing");
  await input.press("ArrowUp");
  await expect(input).toHaveValue("typing");
  await ann.context.close();
  await bob.context.close();
});

/** Scrolls the stream to its top and waits until a page was added or the beginning shows. */
async function scrollToTop(page: Page) {
  const box = page.locator("#message-box");
  const before = await box.locator(".message").count();
  await box.evaluate((el) => (el.scrollTop = 0));
  await expect
    .poll(async () => (await box.locator(".message").count()) > before || (await box.locator(".beginning").count()) > 0)
    .toBe(true);
}

test("scrolling back through 1 000 messages keeps the place and ends at the beginning, on a desktop and a phone", async ({ browser }) => {
  test.setTimeout(120_000);
  const name = ownRoom("history");
  const seed = await seeders(20, name);
  await seed.post(0, { text: "the very first message" });
  await seed.fill(999, "filler");
  seed.close();

  const ann = await arrive(browser, `/r/${name}`);
  const box = ann.page.locator("#message-box");
  await expect(box.locator(".message")).toHaveCount(50);
  await expect(box.locator(".beginning")).toHaveCount(0);
  // The first load: where the top line was, it stays while the page above it comes in.
  const top = box.locator(".message").first();
  const topId = await top.getAttribute("data-id");
  await box.evaluate((el) => (el.scrollTop = 0));
  await expect(box.locator(".message")).toHaveCount(150);
  const anchor = box.locator(`.message[data-id="${topId}"]`);
  const y = await anchor.evaluate((el) => el.getBoundingClientRect().top);
  const boxTop = await box.evaluate((el) => el.getBoundingClientRect().top);
  expect(y - boxTop).toBeGreaterThan(0);
  expect(y - boxTop).toBeLessThan(150);
  for (let i = 0; i < 12 && (await box.locator(".beginning").count()) === 0; i++) await scrollToTop(ann.page);
  await expect(box.locator(".beginning")).toHaveText(`This is the beginning of #${name}`);
  await expect(box.locator(".message")).toHaveCount(1000);
  await expect(box.locator(".message").first()).toContainText("the very first message");
  await expect(box.locator("#load-older")).toHaveCount(0);
  await ann.context.close();

  // On a phone, the first page by keyboard (the control at the top), then by scrolling.
  const context = await browser.newContext(PHONE);
  const phone = await arrive(browser, `/r/${name}`, context);
  const small = phone.page.locator("#message-box");
  await expect(small.locator(".message")).toHaveCount(50);
  await small.locator("#load-older").focus();
  await phone.page.keyboard.press("Enter");
  await expect.poll(() => small.locator(".message").count()).toBeGreaterThanOrEqual(150);
  for (let i = 0; i < 12 && (await small.locator(".beginning").count()) === 0; i++) await scrollToTop(phone.page);
  await expect(small.locator(".message").first()).toContainText("the very first message");
  await expect(small.locator(".message")).toHaveCount(1000);
  await context.close();
});

test("a reply quotes its original, which it brings into view even when it is not loaded yet", async ({ browser }) => {
  test.setTimeout(60_000);
  const name = ownRoom("reply");
  const seed = await seeders(6, name);
  const original = await seed.post(0, { text: "the original question" });
  await seed.fill(180, "in between");
  await seed.post(1, { text: "the answer to it", replyTo: original });

  const ann = await arrive(browser, `/r/${name}`);
  const answer = message(ann.page, seed.names[1], "the answer to it");
  const quote = answer.locator(".reply-quote");
  await expect(quote).toHaveText("In reply to an earlier message");
  await expect(ann.page.locator("#message-box .message", { hasText: "the original question" })).toHaveCount(0);
  await quote.click();
  const originalLine = ann.page.locator(`#message-box .message[data-id="${original}"]`);
  await expect(originalLine).toBeInViewport();
  await expect(originalLine).toBeFocused();
  await expect(originalLine).toHaveClass(/highlight/);
  await expect(quote).toContainText(": the original question");

  // Answering through the page: Reply, then the quote shows for everyone.
  const bob = await arrive(browser, `/r/${name}`);
  await act(bob.page, seed.names[1], "the answer to it", "Reply");
  await expect(bob.page.locator("#composing")).toContainText("Replying to");
  await say(bob, "agreed");
  const agreed = message(ann.page, bob.name, "agreed");
  await expect(agreed.locator(".reply-quote")).toContainText(": the answer to it");
  // A deleted original says so in the quote.
  const ack = await seed.sockets[0].emitWithAck("delete", { room: name, id: original });
  expect(ack.ok).toBe(true);
  await expect(quote).toHaveText("In reply to deleted message");
  seed.close();
  await ann.context.close();
  await bob.context.close();
});

test("a refused reaction is shown, and a reaction must be one emoji", async ({ browser }) => {
  const name = ownRoom("refused");
  const seed = await seeders(1, name);
  const id = await seed.post(0, { text: "popular message" });
  const emoji = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🔥", "👀", "🙏", "💯", "✅", "🚀", "🤔", "👏", "😎", "🌈", "🍕", "🐱", "⭐", "🎈"];
  for (const e of emoji) {
    for (;;) {
      const ack = await seed.sockets[0].emitWithAck("react", { room: name, id, emoji: e });
      if (ack.ok) break;
      expect(ack.error.code).toBe("rate-limited");
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const ann = await arrive(browser, `/r/${name}`);
  const m = ann.page.locator("#message-box .message", { hasText: "popular message" });
  await expect(m.locator(".reaction")).toHaveCount(20);
  await m.hover();
  await m.getByRole("button", { name: "React", exact: true }).click();
  const field = m.getByRole("textbox", { name: "Any emoji" });
  await field.fill("ok");
  await field.press("Enter");
  await expect(ann.page.locator("#composer-error")).toHaveText("A reaction must be exactly one emoji.");
  await field.fill("🦀");
  await field.press("Enter");
  await expect(ann.page.locator("#composer-error")).toHaveText("A message takes at most 20 different reactions.");
  await expect(m.locator(".reaction")).toHaveCount(20);
  // An existing one still toggles.
  await m.locator(".reaction").first().click();
  await expect(m.locator(".reaction").first()).toHaveAttribute("aria-pressed", "true");
  seed.close();
  await ann.context.close();
});

test("the new controls have no serious or critical accessibility violations", async ({ browser }) => {
  const room = `/r/${ownRoom("a11y")}`;
  const ann = await arrive(browser, room);
  const bob = await arrive(browser, room);
  await say(bob, "someone else's message");
  await say(ann, "mine, to be edited");
  await say(ann, "mine, to be deleted");
  await act(ann.page, ann.name, "mine, to be edited", "Edit");
  await ann.page.locator("#input").fill("mine, edited");
  await ann.page.locator("#input").press("Enter");
  await act(ann.page, ann.name, "mine, to be deleted", "Delete");
  await act(ann.page, bob.name, "someone else's message", "React");
  await ann.page.getByRole("group", { name: "Pick a reaction" }).getByRole("button", { name: "👍" }).click();
  await act(ann.page, bob.name, "someone else's message", "Reply");
  await say(ann, "a reply");
  await expect(message(ann.page, ann.name, "a reply").locator(".reply-quote")).toHaveCount(1);
  await expect(message(ann.page, bob.name, "someone else's message").locator(".reaction")).toHaveCount(1);
  await act(ann.page, ann.name, "a reply", "React"); // the palette open
  await act(ann.page, ann.name, "mine, edited", "Reply"); // the "Replying to" bar
  await axeClean(ann.page);
  for (const scheme of ["dark"] as const) {
    await ann.page.emulateMedia({ colorScheme: scheme });
    await axeClean(ann.page);
  }
  await ann.context.close();
  await bob.context.close();
});
