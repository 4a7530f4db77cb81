// The page as a chat app: it fills the window, the composer is always at hand, the people are
// beside the conversation (desktop) or one tap away (phone), and returning to a conversation
// starts at what is new. Each test sets its own screen size.
import { test, expect, Page } from "@playwright/test";
import { arrive, messageLine, crowd, pageScrolls, ownRoom, PHONE, axeClean } from "./support/chat";

for (const [width, height] of [
  [1280, 800],
  [1440, 900],
] as const) {
  test(`on a ${width}×${height} screen a busy room keeps the composer and who's online in view, and only the lists scroll`, async ({ browser }) => {
    const room = ownRoom("busy");
    const context = await browser.newContext({ viewport: { width, height } });
    const ann = await arrive(browser, `/r/${room}`, context);
    const others = await crowd(4, room);
    for (let n = 0; n < 6; n++) {
      for (let i = 0; i < 4; i++) await others.say(i, `line ${n} from ${i}: ${"words ".repeat(4 + 3 * i)}`);
    }
    const box = ann.page.locator("#message-box");
    await expect(box.locator("p", { hasText: "line 5 from 3" })).toHaveCount(1);
    await expect(ann.page.locator("#peers-heading .peer-count")).toHaveText("5");

    for (const region of ["#form", "#input", "#peer-list", "#room-list", "#room-title"]) {
      await expect(ann.page.locator(region), region).toBeInViewport();
    }
    await expect(ann.page.getByRole("heading", { name: "Who's online:" })).toBeInViewport();
    await expect(ann.page.locator("#peer-list li").last()).toBeInViewport();
    expect(await pageScrolls(ann.page)).toBe(false);
    // The stream holds more than fits, so it scrolls itself, and reaches down to the composer.
    expect(await box.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
    const streamBottom = (await box.boundingBox())!.y + (await box.boundingBox())!.height;
    const composerTop = (await ann.page.locator("#form").boundingBox())!.y;
    expect(composerTop - streamBottom).toBeLessThan(48);
    // Trying to scroll the page moves nothing.
    await ann.page.mouse.wheel(0, 2000);
    expect(await ann.page.evaluate(() => window.scrollY)).toBe(0);
    await expect(ann.page.locator("#form")).toBeInViewport();
    others.leave();
    await context.close();
  });
}

test("before any script runs, the server sends the whole frame: conversations, the conversation with its composer, who's online", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto("/");
  for (const region of ["#conversations", "#room-list", "#room-title", "#message-box", "#form", "#members", "#peer-list"]) {
    await expect(page.locator(region), region).toBeInViewport();
  }
  await expect(page.getByRole("button", { name: "Jump to a conversation" })).toBeVisible();
  expect(await pageScrolls(page)).toBe(false);
  await context.close();
});

test("on a phone the conversation fills the screen and the two panels open and close by touch", async ({ browser }) => {
  const context = await browser.newContext(PHONE);
  const ann = await arrive(browser, "/", context);
  const page = ann.page;
  await expect(page.locator("#form")).toBeInViewport();
  await expect(page.locator("#message-box")).toBeInViewport();
  await expect(page.locator("#conversations")).toBeHidden();
  await expect(page.locator("#members")).toBeHidden();
  expect(await pageScrolls(page)).toBe(false);

  const rooms = page.locator('button[aria-controls="conversations"]');
  await rooms.tap();
  await expect(page.locator("#conversations")).toBeInViewport();
  await expect(rooms).toHaveAttribute("aria-expanded", "true");
  await expect(page.locator('#room-list a[data-room="general"]')).toBeVisible();
  // A tap beside the drawer closes it.
  await page.locator(".drawer-backdrop").tap({ position: { x: 380, y: 420 } });
  await expect(page.locator("#conversations")).toBeHidden();
  await expect(rooms).toHaveAttribute("aria-expanded", "false");

  const people = page.locator('button[aria-controls="members"]');
  await people.tap();
  await expect(page.locator("#members")).toBeInViewport();
  await expect(page.locator("#peer-list li .peer-name", { hasText: `${ann.name} (you)` })).toBeVisible();
  await page.getByRole("button", { name: "Close who's online" }).tap();
  await expect(page.locator("#members")).toBeHidden();
  await expect(people).toBeFocused();
  await expect(page.locator("#form")).toBeInViewport();
  await context.close();
});

test("on a phone the drawers work from the keyboard: focus moves in, stays in, and Esc brings it back", async ({ browser }) => {
  const context = await browser.newContext(PHONE);
  const ann = await arrive(browser, "/", context);
  const page = ann.page;
  const rooms = page.locator('button[aria-controls="conversations"]');
  await rooms.focus();
  await page.keyboard.press("Enter");
  await expect(page.locator("#conversations")).toBeVisible();
  await expect(page.getByRole("button", { name: "Close conversations" })).toBeFocused();
  // The rest of the page is out of reach while the drawer is open.
  for (let n = 0; n < 6; n++) {
    await page.keyboard.press("Tab");
    const behind = await page.evaluate(() => !!document.activeElement?.closest("header, #app, #members"));
    expect(behind, `Tab ${n + 1} reached the page behind the drawer`).toBe(false);
  }
  expect(await page.locator("#app").getAttribute("inert")).not.toBeNull();
  await page.keyboard.press("Escape");
  await expect(page.locator("#conversations")).toBeHidden();
  await expect(rooms).toBeFocused();

  const people = page.locator('button[aria-controls="members"]');
  await people.focus();
  await page.keyboard.press("Space");
  await expect(page.locator("#members")).toBeVisible();
  await axeClean(page);
  await page.keyboard.press("Escape");
  await expect(page.locator("#members")).toBeHidden();
  await expect(people).toBeFocused();
  expect(await page.locator("#app").getAttribute("inert")).toBeNull();
  await context.close();
});

test("on a phone, picking a room in the drawer opens it and puts the drawer away", async ({ browser }) => {
  const room = ownRoom("picked");
  const context = await browser.newContext(PHONE);
  const ann = await arrive(browser, `/r/${room}`, context);
  await ann.page.goto("/");
  await expect(ann.page.locator("#status")).toHaveAttribute("data-status", "online");
  await ann.page.locator('button[aria-controls="conversations"]').tap();
  await ann.page.locator(`#room-list a[data-room="${room}"]`).tap();
  await expect(ann.page).toHaveURL(new RegExp(`/r/${room}$`));
  await expect(ann.page.locator("#room-title")).toHaveText(`#${room}`);
  await expect(ann.page.locator("#conversations")).toBeHidden();
  await expect(ann.page.locator("#form")).toBeInViewport();
  await context.close();
});

test("coming back to a conversation shows a New messages divider at the first unread one, starts there, and counts mentions", async ({ browser }) => {
  const busy = ownRoom("away");
  const ann = await arrive(browser, `/r/${busy}`);
  // Six people, each within the server's burst of messages.
  const others = await crowd(6, busy);
  for (let n = 0; n < 3; n++) for (let i = 0; i < 6; i++) await others.say(i, `read ${n}-${i}`);
  await expect(ann.page.locator("#message-box p", { hasText: "read 2-5" })).toHaveCount(1);

  // Ann goes to another room; the others carry on without her.
  await ann.page.locator("#new-room-name").fill(ownRoom("elsewhere"));
  await ann.page.getByRole("button", { name: "Create" }).click();
  await expect(ann.page.locator("#room-title")).not.toHaveText(`#${busy}`);
  for (let n = 0; n < 5; n++) for (let i = 0; i < 6; i++) await others.say(i, `unread ${n}-${i}`);
  const mention = `hey @${ann.name}, are you there?`;
  await others.say(2, mention);
  const link = ann.page.locator(`#room-list a[data-room="${busy}"]`);
  await expect(link.locator(".unread")).toHaveText("31");
  await expect(link.locator(".mentions")).toHaveText("@1");
  await expect(link).toContainText("31 unread");

  await link.click();
  const divider = ann.page.locator("#message-box .unread-divider");
  await expect(divider).toHaveCount(1);
  await expect(divider).toHaveAccessibleName("New messages");
  await expect(divider).toBeInViewport();
  const neighbours = await divider.evaluate((el) => [
    el.previousElementSibling?.textContent ?? "",
    el.nextElementSibling?.textContent ?? "",
  ]);
  expect(neighbours[0]).toContain("read 2-5");
  expect(neighbours[1]).toContain("unread 0-0");
  // Started at the divider, not at the end: the newest is further down, and counted.
  await expect(messageLine(ann.page, others.names[2], mention)).not.toBeInViewport();
  const button = ann.page.locator("#new-messages");
  await expect(button).toHaveText("31 new messages ↓");
  await button.click();
  await expect(messageLine(ann.page, others.names[2], mention)).toBeInViewport();
  await expect(link.locator(".unread")).toHaveCount(0);
  await expect(link.locator(".mentions")).toHaveCount(0);
  // The divider stays while she reads; a conversation without news has none.
  await expect(divider).toHaveCount(1);
  await ann.page.locator('#room-list a[data-room="general"]').click();
  await expect(ann.page.locator("#message-box .unread-divider")).toHaveCount(0);
  others.leave();
  await ann.context.close();
});

/** Opens Ctrl+K, checks it is the labelled dialog with its filter focused. */
async function openSwitcher(page: Page) {
  await page.keyboard.press("Control+k");
  const dialog = page.getByRole("dialog", { name: "Jump to a conversation" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("combobox", { name: "Conversation name" })).toBeFocused();
  return dialog;
}

test("Ctrl+K jumps to a conversation by name: type, arrows, Enter; Esc closes where you were", async ({ browser }) => {
  const tag = ownRoom("jump");
  const ann = await arrive(browser, `/r/${tag}-alpha`);
  await ann.page.locator("#new-room-name").fill(`${tag}-beta`);
  await ann.page.getByRole("button", { name: "Create" }).click();
  await expect(ann.page.locator("#room-title")).toHaveText(`#${tag}-beta`);

  await ann.page.locator("#input").fill("a draft");
  let dialog = await openSwitcher(ann.page);
  await ann.page.keyboard.type(tag);
  const options = dialog.getByRole("option");
  await expect(options).toHaveText([`#${tag}-alpha`, `#${tag}-beta`]);
  await expect(options.first()).toHaveAttribute("aria-selected", "true");
  await ann.page.keyboard.press("ArrowDown");
  await expect(options.nth(1)).toHaveAttribute("aria-selected", "true");
  await ann.page.keyboard.press("ArrowDown");
  await expect(options.first()).toHaveAttribute("aria-selected", "true");
  await ann.page.keyboard.press("ArrowUp");
  await ann.page.keyboard.press("ArrowUp");
  await expect(options.first()).toHaveAttribute("aria-selected", "true");
  await axeClean(ann.page);
  await ann.page.keyboard.press("Enter");
  await expect(ann.page).toHaveURL(new RegExp(`/r/${tag}-alpha$`));
  await expect(dialog).toBeHidden();
  // Straight on to writing there.
  await expect(ann.page.locator("#input")).toBeFocused();

  // Esc closes it and the cursor is back where it was.
  dialog = await openSwitcher(ann.page);
  await ann.page.keyboard.type("general");
  await expect(dialog.getByRole("option")).toHaveCount(1);
  await expect(dialog.getByRole("option")).toContainText("#general");
  await ann.page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(ann.page.locator("#input")).toBeFocused();
  await expect(ann.page).toHaveURL(new RegExp(`/r/${tag}-alpha$`));

  // The button does the same for a mouse (and a finger); nothing matching says so.
  const jump = ann.page.getByRole("button", { name: "Jump to a conversation" });
  await jump.click();
  await expect(dialog).toBeVisible();
  await ann.page.keyboard.type("no-such-room-anywhere");
  await expect(dialog.getByRole("option")).toHaveCount(0);
  await expect(dialog).toContainText("No conversation by that name.");
  await ann.page.keyboard.press("Escape");
  await expect(jump).toBeFocused();
  await ann.context.close();
});

test("a room is picked from the switcher with a click, too", async ({ browser }) => {
  const ann = await arrive(browser, `/r/${ownRoom("clicked")}`);
  const dialog = await openSwitcher(ann.page);
  await ann.page.keyboard.type("gener");
  await dialog.getByRole("option", { name: "#general" }).click();
  await expect(ann.page).toHaveURL(/\/$/);
  await expect(ann.page.locator("#room-title")).toHaveText("#general");
  await expect(dialog).toBeHidden();
  await ann.context.close();
});
