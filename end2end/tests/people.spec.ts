// People and attention (issue #15) as people meet them: someone takes a name and everyone —
// another browser, a stock socket.io client — sees it at once, their old messages included;
// a taken name is refused with the reason; `@` suggests the conversation's people by
// keyboard and the person mentioned sees it highlighted and counted; a hidden tab gets a
// notification that opens the message; messages are formatted and hostile text stays text.
import { test, expect, Page, BrowserContext } from "@playwright/test";
import { io, Socket } from "socket.io-client";
import { arrive, say, messageLine, ownRoom, axeCleanWithin, peers, Person } from "./support/chat";
import { BASE_URL } from "./support/server";

/** A chosen name of the test's own (names are unique across the server). */
function ownName(tag: string): string {
  return `${tag}${Math.random().toString(36).slice(2, 8)}`;
}

/** Takes `name` through the "Your name" field (Enter submits). */
async function rename(person: Person, name: string): Promise<void> {
  const field = person.page.locator("#my-name-input");
  await field.fill(name);
  await field.press("Enter");
}

async function renamed(person: Person, name: string): Promise<Person> {
  await rename(person, name);
  await expect(person.page.locator("#my-name-note")).toHaveText(`You are now ${name}.`);
  return { ...person, name };
}

/** A stock client in `general`, keeping the tutorial's last `update-peers` list. */
async function stockClient(): Promise<{ socket: Socket; peers: () => string[] }> {
  const socket = io(BASE_URL, { transports: ["websocket"] });
  let last: string[] = [];
  socket.on("update-peers", (p: string[]) => (last = p));
  await new Promise((resolve) => socket.once("name-generated", resolve));
  return { socket, peers: () => last };
}

test("a new name is seen live by another browser (peer list, old messages) and by a stock client", async ({ browser }) => {
  const room = ownRoom("names");
  const ann = await arrive(browser, `/r/${room}`);
  const bob = await arrive(browser, `/r/${room}`);
  const stock = await stockClient();
  await expect.poll(stock.peers).toContain(ann.name);
  await say(ann, "said before the rename");
  await expect(messageLine(bob.page, ann.name, "said before the rename")).toBeVisible();

  const name = ownName("Annie ");
  await renamed(ann, name);
  await expect.poll(() => peers(bob.page)).toContain(name);
  expect(await peers(bob.page)).not.toContain(ann.name);
  await expect(messageLine(bob.page, name, "said before the rename")).toBeVisible();
  await expect(messageLine(bob.page, ann.name, "said before the rename")).toHaveCount(0);
  await expect(ann.page.locator("#peer-list li .peer-name", { hasText: "(you)" })).toHaveText(`${name} (you)`);
  await expect.poll(stock.peers).toContain(name);
  expect(stock.peers()).not.toContain(ann.name);
  stock.socket.disconnect();
});

test("a name someone has (or one that looks like it) is refused with the reason", async ({ browser }) => {
  const ann = await arrive(browser);
  const carl = await arrive(browser);
  const name = ownName("Taken");
  await renamed(ann, name);
  await rename(carl, name.toUpperCase());
  await expect(carl.page.locator("#my-name-note")).toHaveText("Someone has that name (or one that looks like it).");
  await expect(carl.page.locator("#my-name-input")).toHaveAttribute("aria-invalid", "true");
  await rename(carl, "x");
  await expect(carl.page.locator("#my-name-note")).toHaveText("A name has 2 to 24 characters.");
  await expect(carl.page.locator("#peer-list li .peer-name", { hasText: "(you)" })).toHaveText(`${carl.name} (you)`);
});

test("@ suggests the room's people by keyboard, and the person mentioned sees it highlighted and counted", async ({ browser }) => {
  const room = ownRoom("mention");
  const ann = await arrive(browser, `/r/${room}`);
  const stem = ownName("Pat");
  const bob = await renamed(await arrive(browser, `/r/${room}`), `${stem}a`);
  const carl = await renamed(await arrive(browser, `/r/${room}`), `${stem}b`);
  await expect.poll(() => peers(ann.page)).toEqual([ann.name, bob.name, carl.name].sort());
  // Carl reads elsewhere.
  await carl.page.locator("#new-room-name").fill(ownRoom("elsewhere"));
  await carl.page.getByRole("button", { name: "Create" }).click();
  await expect(carl.page.locator("#room-title")).not.toHaveText(`#${room}`);

  const input = ann.page.locator("#input");
  await input.pressSequentially(`look @${stem.slice(0, 5)}`);
  const list = ann.page.getByRole("listbox", { name: "People to mention" });
  await expect(list).toBeVisible();
  await expect(list.getByRole("option")).toHaveText([`@${bob.name}`, `@${carl.name}`]);
  await expect(list.getByRole("option", { selected: true })).toHaveText(`@${bob.name}`);
  await input.press("ArrowDown");
  const chosen = list.getByRole("option", { selected: true });
  await expect(chosen).toHaveText(`@${carl.name}`);
  await expect(input).toHaveAttribute("aria-activedescendant", (await chosen.getAttribute("id"))!);
  await input.press("Enter");
  await expect(list).toBeHidden();
  await expect(input).toHaveValue(`look @${carl.name} `);
  await input.pressSequentially("here");
  await input.press("Enter");
  await expect(messageLine(ann.page, ann.name, `look @${carl.name} here`)).toBeVisible();

  const link = carl.page.locator(`#room-list a[data-room="${room}"]`);
  await expect(link.locator(".unread")).toHaveText("1");
  await expect(link.locator(".mentions")).toHaveText("@1");
  await link.click();
  const line = messageLine(carl.page, ann.name, `look @${carl.name} here`);
  await expect(line).toHaveAttribute("data-mentioned", "true");
  await expect(line).toContainText("(mentions you)");
  await expect(line.locator(".at-name")).toHaveText(`@${carl.name}`);
  // Bob was not mentioned: nothing stands out for him.
  await expect(messageLine(bob.page, ann.name, `look @${carl.name} here`)).not.toHaveAttribute("data-mentioned", "true");
  // Esc closes the list without putting anything in.
  await input.pressSequentially("@");
  await expect(list).toBeVisible();
  await input.press("Escape");
  await expect(list).toBeHidden();
  await expect(input).toHaveValue("@");
});

/** Records every `new Notification(...)` while keeping the browser's permission. */
async function recordNotifications(context: BrowserContext): Promise<void> {
  await context.grantPermissions(["notifications"], { origin: BASE_URL });
  await context.addInitScript(() => {
    const Real = window.Notification;
    const shown: { title: string; body?: string }[] = [];
    (window as any).__shown = shown;
    class Recorded {
      onclick: ((this: unknown) => void) | null = null;
      constructor(title: string, options?: NotificationOptions) {
        shown.push({ title, body: options?.body });
        (window as any).__lastNotification = this;
      }
      close() {}
      static get permission() {
        return Real.permission;
      }
      static requestPermission(callback?: (p: string) => void) {
        return Real.requestPermission().then((p) => (callback?.(p), p));
      }
    }
    (window as any).Notification = Recorded;
  });
}

async function hide(page: Page): Promise<void> {
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
}

test("a hidden tab is notified of a mention and a direct message, and the click opens the message", async ({ browser }) => {
  const room = ownRoom("notify");
  const context = await browser.newContext();
  await recordNotifications(context);
  const ann = await arrive(browser, `/r/${room}`, context);
  const bob = await arrive(browser, `/r/${room}`);
  await expect(ann.page.locator("#notify-settings")).toContainText("Notifications allowed.");
  await expect(ann.page.locator("#notify-me")).toBeHidden();
  await expect(ann.page.locator("#notify-on")).toBeChecked();
  // Ann reads general, then the tab goes out of view.
  await ann.page.locator('#room-list a[data-room="general"]').click();
  await expect(ann.page.locator("#room-title")).toHaveText("#general");
  await hide(ann.page);

  await say(bob, "no mention, no notification");
  await say(bob, `@${ann.name} look at this`);
  await expect.poll(() => ann.page.evaluate(() => (window as any).__shown)).toEqual([
    { title: `${bob.name} in #${room}`, body: `@${ann.name} look at this` },
  ]);
  await expect(ann.page).toHaveTitle("(2, @1) Realtime chat");

  await ann.page.evaluate(() => (window as any).__lastNotification.onclick());
  await expect(ann.page).toHaveURL(new RegExp(`/r/${room}$`));
  const said = ann.page.locator("p:not([data-pending])", { hasText: `${bob.name} says: @${ann.name} look at this` });
  const message = ann.page.locator("#message-box .message").filter({ has: said });
  await expect(message).toHaveClass(/highlight/);

  // Turned off, nothing more shows.
  await ann.page.locator("#notify-on").uncheck();
  await say(bob, `@${ann.name} again`);
  await expect(messageLine(ann.page, bob.name, `@${ann.name} again`)).toBeVisible();
  expect(await ann.page.evaluate(() => (window as any).__shown.length)).toBe(1);
});

test("messages are formatted as elements, links open apart, and hostile text stays text", async ({ browser }) => {
  const room = ownRoom("format");
  const ann = await arrive(browser, `/r/${room}`);
  const bob = await arrive(browser, `/r/${room}`);
  await say(ann, "**bold** _it_ ~~gone~~ `code` [docs](https://example.com/docs)");
  await say(ann, "> quoted line\n```\nlet x = 1;\n```");
  await say(ann, "<img src=x onerror=alert(1)> [x](javascript:alert(1)) <script>alert(2)</script>");
  const line = bob.page.locator("#message-box p:not([data-pending])", { hasText: "bold" });
  await expect(line.locator("strong", { hasText: "bold" })).toHaveCount(1);
  await expect(line.locator("em")).toHaveText("it");
  await expect(line.locator("s")).toHaveText("gone");
  await expect(line.locator("code")).toHaveText("code");
  const link = line.getByRole("link", { name: "docs" });
  await expect(link).toHaveAttribute("href", "https://example.com/docs");
  await expect(link).toHaveAttribute("target", "_blank");
  await expect(link).toHaveAttribute("rel", "noopener noreferrer nofollow ugc");
  const block = bob.page.locator("#message-box p", { hasText: "quoted line" });
  await expect(block.locator(".quote")).toHaveText("quoted line");
  await expect(block.locator(".code-block")).toHaveText("let x = 1;");
  const hostile = messageLine(bob.page, ann.name, "<img src=x onerror=alert(1)> [x](javascript:alert(1)) <script>alert(2)</script>");
  await expect(hostile).toBeVisible();
  await expect(bob.page.locator("#message-box img, #message-box script")).toHaveCount(0);
  await expect(bob.page.locator('a[href^="javascript:"]')).toHaveCount(0);
});

test("axe finds nothing serious with the name field and the suggestions open", async ({ browser }) => {
  const room = ownRoom("axe-people");
  const ann = await arrive(browser, `/r/${room}`);
  await arrive(browser, `/r/${room}`);
  await expect.poll(() => peers(ann.page)).toHaveLength(2);
  await rename(ann, "x");
  await expect(ann.page.locator("#my-name-note")).not.toBeEmpty();
  await ann.page.locator("#input").pressSequentially("@");
  await expect(ann.page.getByRole("listbox", { name: "People to mention" })).toBeVisible();
  // The parts this feature adds (the search field's own finding is not this spec's).
  await axeCleanWithin(ann.page, ["#my-name", "#notify-settings", "#mention-list", "#form"]);
});
