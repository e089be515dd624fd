import { expect, test } from "@playwright/test";
import { join } from "node:path";
import { openIde, screenshot, tcpdumpCount, typeFilter, waitForFilter } from "./helpers";

const SAMPLES = join(__dirname, "..", "public", "samples");

test("a sample capture shows tcpdump -r's match count", async ({ page }) => {
  await openIde(page);
  await page.getByTestId("samples").selectOption("http.pcap");
  const total = tcpdumpCount(join(SAMPLES, "http.pcap"), "");
  await expect(page.getByTestId("packet-count")).toHaveText(`${total} packets`);
  for (const filter of ["tcp port 80", "ip6", "tcp[tcpflags] & tcp-syn != 0"]) {
    await typeFilter(page, filter);
    await waitForFilter(page, filter);
    const expected = tcpdumpCount(join(SAMPLES, "http.pcap"), filter);
    await expect(page.getByTestId("match-count-cbpf")).toHaveText(`cBPF ${expected}`);
    await expect(page.getByTestId("match-count-ebpf")).toHaveText(`eBPF ${expected}`);
  }
  await expect(page.getByTestId("mismatch-count")).toHaveText("0 mismatches");
  // Selecting a packet shows its fields and bytes; hovering a field lights its bytes.
  await page.locator('[data-testid="packet-list"] .prow[data-index="2"]').click();
  await expect(page.getByTestId("dissect-tree")).toContainText("Transmission Control Protocol");
  await page.getByTestId("dissect-tree").getByText(/^Internet Protocol/).first().hover();
  expect(await page.locator('[data-testid="hex-view"] .hb.f').count()).toBeGreaterThan(20);
  await screenshot(page, "packets");
});

test("a file that is not a capture is refused without breaking the page", async ({ page }) => {
  await openIde(page);
  const before = await page.getByTestId("packet-count").textContent();
  await page.getByTestId("file-input").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("this is not a capture file\n") });
  await expect(page.locator(".banner.bad")).toContainText("notes.txt: not a pcap or pcapng capture");
  await expect(page.getByTestId("packet-count")).toHaveText(before!);
  for (const id of ["cbpf-pane", "ebpf-pane", "trace-pane", "packets-pane"]) await expect(page.getByTestId(id)).toBeVisible();
  await screenshot(page, "bad-file");
});
