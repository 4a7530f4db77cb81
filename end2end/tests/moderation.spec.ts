// Moderation (issue #16) as people meet it: someone gives the operator their id and becomes a
// moderator without a reload; reports arrive live in the Moderation panel; a moderator
// deletes, mutes, bans and removes a room, and the people concerned see it at once; the room
// list is searchable and scrolls on its own. One moderator for the whole file (serial), taken
// away again at the end: the server and its database are shared with the other specs, so the
// network ("also their network") is never banned here.
import { test, expect, Page, Browser } from "@playwright/test";
import { arrive, say, messageLine, ownRoom, axeClean, crowd, pageScrolls, Person } from "./support/chat";
import { moderator } from "./support/operator";

const REPORTED = "Reported — the moderators will look at it.";

/** The whole message (line, reactions, actions) whose line reads "<sender> says: <text>". */
function message(page: Page, sender: string, text: string) {
  const line = page.locator("p:not([data-pending])", { hasText: `${sender} says: ${text}` });
  return page.locator("#message-box .message").filter({ has: line });
}

/** Shows a message's actions (hover) and presses one. */
async function act(page: Page, sender: string, text: string, action: string) {
  const m = message(page, sender, text);
  await m.hover();
  await m.getByRole("button", { name: action, exact: true }).click();
}

/** The public id the page shows its person. */
async function idOf(person: Person): Promise<string> {
  const id = person.page.locator("#my-id code");
  await expect(id).toHaveText(/^[0-9a-f]{16}$/);
  return id.innerText();
}

test.describe.serial("moderation", () => {
  let mod: Person;
  let modId: string;
  const people: Person[] = [];

  async function person(browser: Browser, url: string): Promise<Person> {
    const p = await arrive(browser, url);
    people.push(p);
    return p;
  }

  test.afterAll(async () => {
    if (modId) moderator("remove", modId);
    for (const p of people) await p.context.close();
  });

  test("a person gives the operator their id and gets the moderator's tools without a reload", async ({ browser }) => {
    mod = await person(browser, "/");
    modId = await idOf(mod);
    const tools = mod.page.getByRole("button", { name: "Moderation", exact: true });
    await expect(tools).toBeHidden();
    // Others' messages offer Report but no moderator's act yet.
    const spam = await crowd(1, "general");
    await spam.say(0, "before the promotion");
    await message(mod.page, spam.names[0], "before the promotion").hover();
    await expect(message(mod.page, spam.names[0], "before the promotion").getByRole("button", { name: "Report" })).toBeVisible();
    await expect(mod.page.getByRole("button", { name: "Mute sender…" })).toHaveCount(0);

    expect(moderator("add", modId)).toContain("is now a moderator");
    await expect(tools).toBeVisible({ timeout: 10_000 });
    await message(mod.page, spam.names[0], "before the promotion").hover();
    await expect(message(mod.page, spam.names[0], "before the promotion").getByRole("button", { name: "Mute sender…" })).toBeVisible();
    spam.leave();
  });

  test("a report reaches the moderator live, with the message, the room and the reason", async ({ browser }) => {
    const room = ownRoom("reported");
    await mod.page.goto(`/r/${room}`);
    const ann = await person(browser, `/r/${room}`);
    const spammer = await crowd(1, room);
    await spammer.say(0, "buy cheap pills now");
    await mod.page.getByRole("button", { name: "Moderation", exact: true }).click();
    const panel = mod.page.getByRole("dialog", { name: "Moderation" });
    await expect(panel.getByRole("tab", { name: "Reports" })).toHaveAttribute("aria-selected", "true");
    await axeClean(mod.page);

    await act(ann.page, spammer.names[0], "buy cheap pills now", "Report");
    const dialog = ann.page.getByRole("dialog", { name: "Report a message" });
    await expect(dialog).toContainText("buy cheap pills now");
    await dialog.getByLabel("Reason (optional)").fill("selling pills");
    await axeClean(ann.page);
    await dialog.getByRole("button", { name: "Send report" }).click();
    await expect(dialog).toBeHidden();
    await expect(ann.page.locator("#composer-done")).toHaveText(REPORTED);

    // Live, in the open panel: who reported whom, where, the text and the reason.
    const report = panel.locator(".report", { hasText: "buy cheap pills now" });
    await expect(report).toHaveCount(1);
    await expect(report).toContainText(`${ann.name} reported ${spammer.names[0]} in #${room}`);
    await expect(report).toContainText("Reason: selling pills");
    // The reported conversation opens from it.
    await mod.page.goto("/");
    await mod.page.getByRole("button", { name: "Moderation", exact: true }).click();
    await panel.locator(".report", { hasText: "buy cheap pills now" }).getByRole("button", { name: "Open conversation" }).click();
    await expect(panel).toBeHidden();
    await expect(mod.page.locator("#room-title")).toHaveText(`#${room}`);
    spammer.leave();
  });

  test("the moderator deletes someone else's message: both see it deleted, and the audit log says so", async ({ browser }) => {
    const room = ownRoom("deleted");
    await mod.page.goto(`/r/${room}`);
    const ann = await person(browser, `/r/${room}`);
    const annId = await idOf(ann);
    await say(ann, "a rude remark");
    await expect(messageLine(mod.page, ann.name, "a rude remark")).toHaveCount(1);

    await act(mod.page, ann.name, "a rude remark", "Delete");
    const confirm = mod.page.getByRole("dialog", { name: "Delete this message?" });
    await expect(confirm).toContainText("a rude remark");
    await confirm.getByRole("button", { name: "Delete message" }).click();
    for (const p of [mod, ann]) {
      await expect(messageLine(p.page, ann.name, "message deleted")).toHaveCount(1);
      await expect(p.page.locator("#message-box", { hasText: "a rude remark" })).toHaveCount(0);
    }

    await mod.page.getByRole("button", { name: "Moderation", exact: true }).click();
    const panel = mod.page.getByRole("dialog", { name: "Moderation" });
    await panel.getByRole("tab", { name: "Audit log" }).click();
    const entry = panel.locator(".audit-entry", { hasText: `deleted a message of ${annId} in #${room}` });
    await expect(entry.first()).toContainText(mod.name);
    await axeClean(mod.page);
    await mod.page.keyboard.press("Escape");
    await expect(panel).toBeHidden();
  });

  test("a muted person's composer is disabled, saying until when", async ({ browser }) => {
    const room = ownRoom("muted");
    await mod.page.goto(`/r/${room}`);
    const ann = await person(browser, `/r/${room}`);
    await say(ann, "too loud");
    await expect(messageLine(mod.page, ann.name, "too loud")).toHaveCount(1);

    await act(mod.page, ann.name, "too loud", "Mute sender…");
    const dialog = mod.page.getByRole("dialog", { name: "Mute the sender" });
    await dialog.getByLabel("10 min").check();
    await dialog.getByRole("button", { name: "Mute" }).click();
    await expect(mod.page.locator("#composer-done")).toHaveText("Muted.");

    await expect(ann.page.locator("#input")).toBeDisabled();
    await expect(ann.page.locator("#composer-blocked")).toHaveText(/^A moderator muted you until \d\d:\d\d$/);
    const until = await ann.page.locator("#composer-blocked").innerText();
    const [h, m] = until.slice(-5).split(":").map(Number);
    const minutes = (h * 60 + m - (new Date().getHours() * 60 + new Date().getMinutes()) + 1440) % 1440;
    expect(minutes, until).toBeGreaterThanOrEqual(9);
    expect(minutes, until).toBeLessThanOrEqual(11);
    // A reload is still muted (the server says so after connecting).
    await ann.page.reload();
    await expect(ann.page.locator("#input")).toBeDisabled();
  });

  test("a banned person's page says so, stops trying, and a reload is still refused", async ({ browser }) => {
    const room = ownRoom("banned");
    await mod.page.goto(`/r/${room}`);
    const bob = await person(browser, `/r/${room}`);
    await say(bob, "spam spam spam");
    await expect(messageLine(mod.page, bob.name, "spam spam spam")).toHaveCount(1);

    await act(mod.page, bob.name, "spam spam spam", "Ban sender…");
    const dialog = mod.page.getByRole("dialog", { name: "Ban the sender" });
    await expect(dialog.getByLabel("1 day")).toBeChecked();
    // Never the network here: every spec's browser shares 127.0.0.1.
    await expect(dialog.getByLabel("Also their network (for a day)")).not.toBeChecked();
    await dialog.getByRole("button", { name: "Ban" }).click();

    const notice = bob.page.locator("#ban-notice");
    await expect(notice).toBeVisible();
    await expect(notice).toContainText("A moderator banned you from this chat");
    await expect(bob.page.locator("#status")).toHaveAttribute("data-status", "banned");
    await expect(bob.page.locator("#input")).toBeDisabled();
    // Not "Offline, retrying…": it stays banned.
    await bob.page.waitForTimeout(3000);
    await expect(bob.page.locator("#status")).toHaveAttribute("data-status", "banned");

    await bob.page.reload();
    await expect(bob.page.locator("#ban-notice")).toContainText("A moderator banned you from this chat");
    await expect(bob.page.locator("#status")).toHaveAttribute("data-status", "banned");
  });

  test("a moderator removes a room: the person in it is moved to general and it leaves their list", async ({ browser }) => {
    const room = ownRoom("removed");
    await mod.page.goto(`/r/${room}`);
    const ann = await person(browser, `/r/${room}`);
    await expect(ann.page.locator(`#room-list a[data-room="${room}"]`)).toHaveCount(1);
    await expect(mod.page.locator("#room-title")).toHaveText(`#${room}`);

    await mod.page.getByRole("button", { name: "Remove room" }).click();
    const dialog = mod.page.getByRole("dialog", { name: "Remove this room?" });
    await dialog.getByRole("button", { name: "Remove room" }).click();
    for (const p of [ann, mod]) {
      await expect(p.page).toHaveURL(/\/$/);
      await expect(p.page.locator("#room-title")).toHaveText("#general");
      await expect(p.page.locator(`#room-list a[data-room="${room}"]`)).toHaveCount(0);
    }
    await expect(ann.page.locator("#composer-done")).toHaveText(`A moderator removed #${room}.`);
    // general itself offers no removal.
    await expect(mod.page.getByRole("button", { name: "Remove room" })).toBeHidden();
  });
});

test("the room list filters as you type, and scrolls inside the sidebar with 500 rooms", async ({ browser }) => {
  const tag = ownRoom("find");
  const names = ["apple", "apricot", "banana", "cherry"].map((n) => `${tag}-${n}`);
  const context = await browser.newContext();
  // 500 more rooms in the list the server sends after connecting (the room quota would not
  // let a test create them).
  const many = Array.from({ length: 500 }, (_, i) => `zz-many-${String(i).padStart(3, "0")}`);
  await context.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((frame) => {
      const text = String(frame);
      if (!text.startsWith('42["rooms",')) return ws.send(frame);
      const [, list] = JSON.parse(text.slice(2));
      ws.send("42" + JSON.stringify(["rooms", { rooms: [...list.rooms, ...many].sort() }]));
    });
  });
  const ann = await arrive(browser, "/", context);
  const creator = await crowd(1, names[0]);
  await creator.join(names[1]);
  await creator.join(names[2]);
  await creator.join(names[3]);
  const list = ann.page.locator("#room-list");
  for (const name of names) await expect(list.locator(`a[data-room="${name}"]`)).toHaveCount(1);

  // 500 rooms: the list scrolls, the page does not, the filter stays in view.
  const manyShown = list.locator('a[data-room^="zz-many-"]');
  await expect(manyShown).toHaveCount(500, { timeout: 10_000 });
  expect(await pageScrolls(ann.page)).toBe(false);
  const scroller = list.locator("xpath=..");
  expect(await scroller.evaluate((e) => e.scrollHeight > e.clientHeight)).toBe(true);
  await list.locator('a[data-room="zz-many-499"]').scrollIntoViewIfNeeded();
  await expect(ann.page.getByLabel("Find a room")).toBeInViewport();
  expect(await pageScrolls(ann.page)).toBe(false);

  const find = ann.page.getByLabel("Find a room");
  await find.fill(`${tag}-AP`.toUpperCase());
  await expect(list.locator("a")).toHaveCount(2);
  await expect(list.locator(`a[data-room="${names[0]}"]`)).toBeVisible();
  await expect(list.locator(`a[data-room="${names[1]}"]`)).toBeVisible();
  await expect(ann.page.getByText("No room matches")).toBeHidden();
  await find.fill(`${tag}-durian`);
  await expect(list.locator("a")).toHaveCount(0);
  await expect(ann.page.getByText("No room matches")).toBeVisible();
  await find.fill("");
  await expect(manyShown).toHaveCount(500);
  await expect(list.locator(`a[data-room="${names[3]}"]`)).toHaveCount(1);

  // Creating a room still works beside the filter.
  const fresh = `${tag}-new`;
  await ann.page.getByLabel("New room name").fill(fresh);
  await ann.page.getByRole("button", { name: "Create" }).click();
  await expect(ann.page.locator("#room-title")).toHaveText(`#${fresh}`);
  await expect(list.locator(`a[data-room="${fresh}"]`)).toHaveCount(1);
  creator.leave();
  await context.close();
});
