// First load of the chat page in headless Chromium (Debian's, as in the browser tests):
// bytes over the wire as the browser fetched them, and when hydration finished (the WASM
// entry point writes performance.now() into <body data-hydrated>). Prints one JSON line.
//
//   node scripts/first-load.mjs http://127.0.0.1:3910 [runs]
import { chromium } from "@playwright/test";

const url = process.argv[2];
const runs = Number(process.argv[3] ?? 7);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
const hydrated = [];
let bytes = 0;
let encodings = new Set();
for (let i = 0; i < runs; i++) {
  // A fresh context each time: nothing cached.
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("response", (r) => {
    const e = r.headers()["content-encoding"];
    if (e) encodings.add(e);
  });
  await page.goto(url);
  await page.waitForSelector("body[data-hydrated]", { timeout: 30_000 });
  const result = await page.evaluate(() => {
    const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
    return {
      hydrated: Number(document.body.dataset.hydrated),
      // Body bytes as received (compressed), without headers; fetches the page makes later
      // (Socket.IO polling, if any) are excluded.
      bytes: entries
        .filter((e) => !e.name.includes("/socket.io/"))
        .reduce((sum, e) => sum + (e.encodedBodySize || 0), 0),
    };
  });
  hydrated.push(result.hydrated);
  bytes = result.bytes;
  await context.close();
}
await browser.close();
hydrated.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    runs,
    hydrated_ms_median: hydrated[Math.floor(hydrated.length / 2)],
    hydrated_ms_min: hydrated[0],
    hydrated_ms_max: hydrated[hydrated.length - 1],
    bytes,
    encodings: [...encodings].join("+"),
  }),
);
