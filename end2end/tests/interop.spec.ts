// The stock JavaScript socket.io-client, as the tutorial's page uses it, chats with a browser
// user of our Rust page.
import { test, expect } from "@playwright/test";
import { io, Socket } from "socket.io-client";
import { arrive, say, peers, messageLine } from "./support/chat";
import { BASE_URL } from "./support/server";

type NewMessage = { sender: string; message: string };

async function tutorialClient(transports?: string[]) {
  const socket: Socket = io(BASE_URL, transports ? { transports } : {});
  // Listen before anything can arrive: events of one packet are dispatched in one tick.
  const received: NewMessage[] = [];
  let lastPeers: string[] = [];
  socket.on("newMessage", (m: NewMessage) => received.push(m));
  socket.on("update-peers", (p: string[]) => (lastPeers = p));
  const name = await new Promise<string>((resolve, reject) => {
    socket.once("name-generated", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, name, received, peers: () => [...lastPeers].sort() };
}

for (const [label, transports] of [
  ["polling, then upgrade to websocket (the default)", undefined],
  ["websocket only", ["websocket"]],
] as const) {
  test(`socket.io-client over ${label} chats with a browser user`, async ({ browser }) => {
    const ann = await arrive(browser);
    const node = await tutorialClient(transports as string[] | undefined);

    await expect.poll(() => peers(ann.page)).toContain(node.name);
    await expect.poll(() => node.peers()).toEqual(expect.arrayContaining([ann.name, node.name]));

    node.socket.emit("message", "hello from node");
    await expect(messageLine(ann.page, node.name, "hello from node")).toHaveCount(1);

    await say(ann, "hello from the browser");
    await expect
      .poll(() => node.received.map((m) => `${m.sender}: ${m.message}`))
      .toEqual([`${node.name}: hello from node`, `${ann.name}: hello from the browser`]);
    if (!transports) {
      await expect.poll(() => node.socket.io.engine.transport.name).toBe("websocket");
    }

    node.socket.disconnect();
    await expect.poll(() => peers(ann.page)).not.toContain(node.name);
    await ann.context.close();
  });
}
