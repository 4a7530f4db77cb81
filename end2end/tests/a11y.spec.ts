// Automated accessibility check of the live page, light and dark, and screenshots to look at.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import path from "node:path";
import { arrive, say, messageLine } from "./support/chat";

for (const scheme of ["light", "dark"] as const) {
  test(`the hydrated page has no serious or critical accessibility violations (${scheme})`, async ({ browser }, info) => {
    const context = await browser.newContext({ colorScheme: scheme });
    const ann = await arrive(browser, "/", context);
    const bob = await arrive(browser);
    await say(bob, "Hello! This is a message from someone else.");
    await say(ann, "And this one is mine.");
    await expect(messageLine(ann.page, ann.name, "And this one is mine.")).toHaveCount(1);
    await expect(messageLine(ann.page, bob.name, "Hello!")).toHaveCount(1);
    await ann.page.locator("#input").fill("x".repeat(900));

    const results = await new AxeBuilder({ page: ann.page }).analyze();
    const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);

    await ann.page.locator("#input").fill("");
    const shot = await ann.page.screenshot({ fullPage: true });
    await info.attach(`${info.project.name}-${scheme}`, { body: shot, contentType: "image/png" });
    const file = path.join(__dirname, "..", "test-results", "screenshots", `${info.project.name}-${scheme}.png`);
    await ann.page.screenshot({ path: file, fullPage: true });
    await context.close();
    await bob.context.close();
  });
}
