import { expect, test } from "@playwright/test";
import { decoratedLines, openIde, screenshot, typeFilter, waitForFilter } from "./helpers";

test("selecting a cBPF line highlights the eBPF lines made from it, and back", async ({ page }) => {
  await openIde(page);
  const filter = "ip and tcp dst port 22";
  await typeFilter(page, filter);
  await waitForFilter(page, filter);
  await page.waitForFunction(() => window.__bpfp?.result?.ebpf.status === "ok");
  const byCbpf = await page.evaluate(() => window.__bpfp!.result!.ebpf.linesByCbpf);
  // A cBPF instruction that the translation turned into at least one eBPF instruction.
  const index = byCbpf.findIndex((lines, i) => i > 0 && lines.length > 0);
  expect(index).toBeGreaterThan(0);

  await page.locator('[data-testid="cbpf-pane"] .view-line').nth(index).click();
  await page.mouse.move(5, 5); // leave the listing so only the selection counts
  await expect.poll(() => decoratedLines(page, "ebpf.txt", "link-line")).toEqual(byCbpf[index]);
  expect(await decoratedLines(page, "cbpf.d", "link-line")).toEqual([index]);
  const traceLines = await decoratedLines(page, "trace.log", "link-line");
  expect(traceLines.length).toBeGreaterThan(0);

  // The other way: an eBPF line selects its cBPF instruction.
  const other = byCbpf.findIndex((lines, i) => i !== index && lines.length > 0);
  const eline = byCbpf[other]![0]!;
  await page.locator('[data-testid="ebpf-pane"] .view-line').nth(eline).click();
  await page.mouse.move(5, 5);
  await expect.poll(() => decoratedLines(page, "cbpf.d", "link-line")).toEqual([other]);

  // Rainbow colours every cBPF line and the eBPF lines made from it alike.
  await page.getByTestId("rainbow").click();
  await expect.poll(async () => (await decoratedLines(page, "cbpf.d", `rb-${other % 12}`)).includes(other)).toBe(true);
  expect(await decoratedLines(page, "ebpf.txt", `rb-${other % 12}`)).toEqual(expect.arrayContaining(byCbpf[other]!));
  await screenshot(page, "linking");
});
