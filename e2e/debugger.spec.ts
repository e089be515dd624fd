import { expect, test } from "@playwright/test";
import { openIde, screenshot, typeFilter, waitForFilter } from "./helpers";

test("the debugger steps through cBPF and eBPF for the selected packet", async ({ page }) => {
  await openIde(page);
  await page.getByTestId("samples").selectOption("http.pcap");
  await expect(page.getByTestId("packet-count")).toContainText("packets");
  const filter = "tcp port 80";
  await typeFilter(page, filter);
  await waitForFilter(page, filter);
  await page.locator('[data-testid="packet-list"] .prow[data-index="0"]').click();
  await expect(page.getByTestId("debug-status")).toContainText("packet #1");

  // cBPF: the first step is `ldh [12]`, which reads bytes 12..13.
  await page.getByTestId("debug-step").click();
  await expect(page.getByTestId("debug-last")).toContainText("(000) ldh [12]");
  await expect(page.getByTestId("hex-reads")).toContainText("bytes 12..13");
  expect(await page.locator('[data-testid="hex-view"] .hb.r').count()).toBe(4); // hex and ASCII columns
  await page.getByTestId("debug-step").click();
  await expect(page.getByTestId("debug-last")).toContainText("(001)");
  await page.getByTestId("debug-back").click();
  await expect(page.getByTestId("debug-last")).toContainText("(000) ldh [12]");
  // A breakpoint on instruction 8 (the IPv4 test: this packet is IPv4, so 1 jumps there).
  await page.getByTestId("debug-reset").click();
  const line = page.locator('[data-testid="cbpf-pane"] .view-line').nth(8);
  const lineBox = (await line.boundingBox())!;
  const glyph = (await page.locator('[data-testid="cbpf-pane"] .glyph-margin').boundingBox())!;
  await page.mouse.click(glyph.x + glyph.width / 2, lineBox.y + lineBox.height / 2);
  await expect(page.locator('[data-testid="cbpf-pane"] .bp-glyph')).toHaveCount(1);
  await page.keyboard.press("F5");
  await expect(page.getByTestId("debug-last")).toContainText("(001) jeq #0x86dd jt 2 jf 8");
  const pcLines = await page.evaluate(() => {
    const m = window.monaco!.editor.getModels().find((x) => x.uri.toString().endsWith("cbpf.d"))!;
    return m.getAllDecorations().filter((d) => (d.options.className ?? "").includes("dbg-pc-line")).map((d) => d.range.startLineNumber - 1);
  });
  expect(pcLines).toEqual([8]);
  await page.keyboard.press("F5"); // on to the end
  const expected = await page.evaluate(() => window.__bpfp!.result!.verdicts.cbpf.values[0]);
  await expect(page.getByTestId("debug-status")).toContainText(`returned ${expected}`);
  await screenshot(page, "debugger-cbpf");

  // eBPF: a breakpoint in the gutter stops the run there.
  await page.getByTestId("debug-engine-ebpf").click();
  await page.waitForFunction(() => window.__bpfp?.result?.ebpf.status === "ok");
  await page.getByTestId("debug-step").click();
  await expect(page.getByTestId("debug-last")).toContainText("0: (");
  await page.getByTestId("debug-run").click();
  const ebpfExpected = await page.evaluate(() => window.__bpfp!.result!.verdicts.ebpf.values[0]);
  await expect(page.getByTestId("debug-status")).toContainText(`returned ${ebpfExpected}`);
  await screenshot(page, "debugger-ebpf");
});
