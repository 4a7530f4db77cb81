// A page written for a Socket.IO server, on another origin that chat.allowed-origins lists,
// loads the stock client from our server (`/socket.io/socket.io.js`, as from Node) and chats
// with a browser user of our page.
import http from "node:http";
import { AddressInfo } from "node:net";
import { test, expect } from "@playwright/test";
import { arrive, say, peers, messageLine } from "./support/chat";
import { OwnServer, E2E_PORT } from "./support/server";

/** The tutorial's page, reduced: the client from the chat server, and a socket to it. */
function elsewherePage(chat: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>elsewhere</title>
<script src="${chat}/socket.io/socket.io.js"></script></head>
<body><ul id="messages"></ul>
<script>
  window.received = [];
  window.socket = io(${JSON.stringify(chat)});
  socket.on("name-generated", (name) => { window.myName = name; });
  socket.on("newMessage", (m) => {
    received.push(m.sender + ": " + m.message);
    const li = document.createElement("li");
    li.textContent = m.sender + " says: " + m.message;
    document.getElementById("messages").append(li);
  });
</script></body></html>`;
}

/** A static server for that page on a port (so an origin) of its own. */
async function serveElsewhere(chat: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(elsewherePage(chat));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test("a page on an allowed origin loads socket.io.js from our server and chats with our page", async ({
  browser,
}) => {
  const chatServer = new OwnServer(E2E_PORT + 2);
  const elsewhere = await serveElsewhere(chatServer.url);
  chatServer.env.CHAT_ALLOWED_ORIGINS = elsewhere.origin;
  await chatServer.start();
  try {
    const ann = await arrive(browser, chatServer.url);

    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const bundle = page.waitForResponse(`${chatServer.url}/socket.io/socket.io.js`);
    await page.goto(elsewhere.origin);
    const script = await bundle;
    expect(script.status()).toBe(200);
    expect(script.headers()["content-type"]).toMatch(/^application\/javascript/);
    expect(await page.evaluate(() => typeof (window as any).io)).toBe("function");

    await expect.poll(() => page.evaluate(() => (window as any).myName ?? null)).not.toBeNull();
    const bob: string = await page.evaluate(() => (window as any).myName);
    await expect.poll(() => peers(ann.page)).toContain(bob);

    await page.evaluate(() => (window as any).socket.emit("message", "hello from elsewhere"));
    await expect(messageLine(ann.page, bob, "hello from elsewhere")).toHaveCount(1);

    await say(ann, "hello from our page");
    await expect
      .poll(() => page.evaluate(() => (window as any).received))
      .toEqual([`${bob}: hello from elsewhere`, `${ann.name}: hello from our page`]);
    await expect(page.locator("#messages li").last()).toHaveText(`${ann.name} says: hello from our page`);
    // Polling first, then the upgrade, as the stock client does by default.
    await expect
      .poll(() => page.evaluate(() => (window as any).socket.io.engine.transport.name))
      .toBe("websocket");
    expect(errors).toEqual([]);

    await context.close();
    await expect.poll(() => peers(ann.page)).not.toContain(bob);
    await ann.context.close();
  } finally {
    await chatServer.stop();
    await elsewhere.close();
  }
});
