import { expect, test } from "@playwright/test";
import { openIde } from "./helpers";

/** Every pane's root, by the id the presenter dialog and the stored sizes use. */
const PANES = { cbpf: "cbpf-pane", ebpf: "ebpf-pane", trace: "trace-pane", packets: "packets-pane", detail: "detail-pane", debugger: "debugger-pane", kernel: "kernel-log-pane" };
/** The folding patch row's panes: in the registry (so in the dialog), shown once the row is opened. */
const PATCH_PANES = { inject: "inject-pane", diff: "diff-pane", live: "live-pane" };

async function shown(page: import("@playwright/test").Page): Promise<string[]> {
  const out: string[] = [];
  for (const [id, testId] of Object.entries(PANES)) if ((await page.getByTestId(testId).count()) > 0) out.push(id);
  return out;
}

test("presenter mode shows the panes chosen for it, and the page's shortcuts reach their panes", async ({ page }) => {
  await openIde(page);
  expect(await shown(page)).toEqual(Object.keys(PANES));

  // Alt+P: presenter mode with its default panes; the dialog adds one.
  await page.keyboard.press("Alt+KeyP");
  await expect(page.locator(".app.presenter")).toHaveCount(1);
  await expect.poll(() => shown(page)).toEqual(["cbpf", "ebpf", "packets"]);
  await page.getByTestId("presenter").click({ button: "right" });
  const dialog = page.getByTestId("presenter-dialog");
  await expect(dialog.locator("input[type=checkbox]")).toHaveCount(Object.keys(PANES).length + Object.keys(PATCH_PANES).length);
  await page.locator("#pp-trace").check();
  await dialog.getByText("Done").click();
  await expect.poll(() => shown(page)).toEqual(["cbpf", "ebpf", "trace", "packets"]);
  await page.keyboard.press("Alt+KeyP");
  await expect(page.locator(".app.presenter")).toHaveCount(0);
  await expect.poll(() => shown(page)).toEqual(Object.keys(PANES));

  // Alt+D cycles the cBPF listing's tab; Alt+T the theme; ? opens the shortcuts.
  await page.keyboard.press("Alt+KeyD");
  await expect(page.getByTestId("cbpf-tab-dd")).toHaveAttribute("aria-selected", "true");
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.keyboard.press("Alt+KeyT");
  await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).not.toBe(theme);
  await page.getByTestId("statusbar").click(); // out of the editor: "?" is typed there
  await page.keyboard.press("?");
  await expect(page.getByTestId("help-overlay")).toBeVisible();
});
