import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writePcap } from "../lib/pcap/write";
import { demoFrames, injectTestFrames, SEND_CYCLES } from "../app/ide/hooks/inject-frames";
import { requires } from "../tests/support/requires";
import { decoratedLines, openIde, screenshot, startAgent, tcpdumpCount, trackErrors, typeFilter, waitForFilter } from "./helpers";

const ROOT = join(__dirname, "..");

/** The CLI's splice of the same filter (libpcap natively, lib/inject in node): the page must agree. */
function cliInject(filter: string, host: string): { inserted: { slots: number }; access: string } {
  return JSON.parse(execFileSync(process.execPath, [join(ROOT, "bin", "bpf-playground.mjs"), "inject", filter, "--host", host, "--json"], { cwd: ROOT, encoding: "utf8" })) as {
    inserted: { slots: number };
    access: string;
  };
}

async function openPatch(page: import("@playwright/test").Page): Promise<void> {
  if ((await page.getByTestId("patch-toggle").getAttribute("aria-expanded")) !== "true") await page.getByTestId("patch-toggle").click();
  await expect(page.getByTestId("inject-pane")).toBeVisible();
}

test("pick a host, type a filter: the diff shows the splice as one insertion hunk", async ({ page }) => {
  const errors = trackErrors(page);
  await openIde(page);
  await openPatch(page);
  for (const [host, filter] of [
    ["xdp", "tcp port 80"],
    ["tc", "udp and port 53 or icmp"],
  ] as const) {
    await page.getByTestId(`inject-host-${host}`).click();
    await typeFilter(page, filter);
    await waitForFilter(page, filter);
    const cli = cliInject(filter, host);
    await expect(page.getByTestId("inject-status")).toContainText(`spliced: ${cli.inserted.slots} instructions`);
    await expect(page.getByTestId("inject-access")).toHaveAttribute("data-mode", cli.access);
    await expect(page.getByTestId("diff-kind")).toHaveValue("inject");
    const summary = page.getByTestId("diff-summary");
    await expect(summary).toHaveAttribute("data-hunks", "1");
    await expect(summary).toHaveAttribute("data-delete", "0");
    await expect(summary).toHaveAttribute("data-change", "0");
    await expect(summary).toHaveAttribute("data-insert", String(cli.inserted.slots));
    await expect(page.locator('[data-hunk-kind="insert"]')).toHaveCount(1);
    // Every row outside the hunk is the same instruction, or one whose offset moved.
    const kinds = await page.getByTestId("diff-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-kind")));
    expect(kinds.filter((k) => k !== "insert" && k !== "same" && k !== "moved")).toEqual([]);
    // The spliced code wears the cBPF listing's rainbow.
    expect(await page.locator('[data-kind="insert"] .diff-cell[class*="rb-"]').count()).toBeGreaterThan(0);
  }
  // A spliced row names its cBPF instruction; clicking it marks that line in the cBPF listing.
  const tagged = page.locator('[data-kind="insert"] .diff-cell[title^="cBPF "]').nth(3);
  const index = Number((await tagged.getAttribute("title"))!.slice("cBPF ".length));
  await tagged.click();
  await expect.poll(() => decoratedLines(page, "cbpf.d", "link-line")).toEqual([index]);
  await screenshot(page, "inject-diff");

  // The downloaded object is the CLI's, byte for byte: the same libpcap program through the same splice.
  const dir = mkdtempSync(join(tmpdir(), "bpfp-inject-dl-"));
  try {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("inject-download").click()]);
    expect(download.suggestedFilename()).toBe("tc_host.patched.o");
    const mine = join(dir, "page.o");
    await download.saveAs(mine);
    const cli = join(dir, "cli.o");
    execFileSync(process.execPath, [join(ROOT, "bin", "bpf-playground.mjs"), "inject", "udp and port 53 or icmp", "--host", "tc", "--out", cli], { cwd: ROOT });
    expect(new Uint8Array(readFileSync(mine))).toEqual(new Uint8Array(readFileSync(cli)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Another pair the page can make: the filter for two targets.
  await page.getByTestId("diff-kind").selectOption("targets");
  await expect(page.getByTestId("diff-summary")).toHaveAttribute("data-same", /\d+/);

  // The user's own object, uploaded: its stubs are listed, and the filter goes into the one picked.
  await page.getByTestId("diff-kind").selectOption("inject");
  await page.getByTestId("inject-file").setInputFiles(join(ROOT, "bpf", "build", "examples", "user_two_stubs.o"));
  await expect(page.getByTestId("inject-upload")).toHaveText("user_two_stubs.o");
  await expect(page.getByTestId("inject-stub").locator("option")).toHaveText(["filter_pcap_ebpf_l2", "filter_pcap_ebpf_l3"]);
  await expect(page.getByTestId("inject-status")).toContainText("spliced");
  await expect(page.getByTestId("diff-summary")).toHaveAttribute("data-hunks", "1");
  await page.getByTestId("inject-stub").selectOption("filter_pcap_ebpf_l3");
  await expect(page.getByTestId("inject-status")).toContainText("into filter_pcap_ebpf_l3");
  await expect(page.getByTestId("diff-summary")).toHaveAttribute("data-hunks", "1");

  // A filter that does not compile for the L3 stub says why, instead of splicing anything.
  await page.getByTestId("inject-host-skb").click();
  await page.getByTestId("inject-stub").selectOption("filter_pcap_ebpf_l3");
  await typeFilter(page, "arp");
  await expect(page.getByTestId("inject-refusal")).toContainText("libpcap (link type RAW)");
  await expect(page.getByTestId("diff-note")).toBeVisible();
  expect(errors).toEqual([]);
});

test("with the agent: load the patched host, see the kernel's verdicts and its xlated code diffed", async ({ page }) => {
  test.skip(!requires("e2e inject load", "kernel", "tcpdump"), "loading objects into the kernel needs root and BPF");
  const { child, url } = await startAgent();
  const dir = mkdtempSync(join(tmpdir(), "bpfp-inject-e2e-"));
  try {
    await openIde(page, `/#agent=${encodeURIComponent(url)}`);
    await expect(page.getByTestId("agent-status")).toContainText("agent connected");
    await openPatch(page);
    await page.getByTestId("inject-host-xdp").click();
    const filter = "tcp or icmp";
    await typeFilter(page, filter);
    await waitForFilter(page, filter);
    await expect(page.getByTestId("inject-status")).toContainText("spliced");
    await page.getByTestId("inject-load-button").click();
    const verdicts = page.getByTestId("inject-verdicts");
    await expect(verdicts).toBeVisible({ timeout: 60_000 });
    // tcpdump on the same frames is the oracle for the kernel's count.
    const frames = injectTestFrames();
    const pcap = join(dir, "frames.pcap");
    writeFileSync(pcap, writePcap(frames.map((f) => ({ data: f.data, origLen: f.origLen })), { linkType: 1 }));
    await expect(verdicts).toHaveAttribute("data-matched", String(tcpdumpCount(pcap, filter)));
    await expect(verdicts).toHaveAttribute("data-disagree", "0");
    await expect(page.getByTestId("inject-loaded")).toContainText("xdp");
    // The kernel's xlated dump of what libbpf loaded, against the patched program.
    await page.getByTestId("diff-kind").selectOption("inject-xlated");
    await expect(page.getByTestId("diff-summary")).toHaveAttribute("data-same", /^[1-9]\d*$/);
    // Attached on the demo network: the host's own counters see exactly the frames sent, and match tcpdump's count.
    await page.getByTestId("inject-send").click();
    const untagged = demoFrames();
    const demoPcap = join(dir, "demo.pcap");
    writeFileSync(demoPcap, writePcap(untagged.map((data) => ({ data })), { linkType: 1 }));
    const counters = page.getByTestId("inject-counters");
    await expect(counters).toHaveAttribute("data-sent", String(untagged.length * SEND_CYCLES), { timeout: 60_000 });
    await expect(counters).toHaveAttribute("data-total", String(untagged.length * SEND_CYCLES));
    await expect(counters).toHaveAttribute("data-matched", String(tcpdumpCount(demoPcap, filter) * SEND_CYCLES));
    await expect(page.getByTestId("inject-events").locator("li").first()).toBeVisible();
    await screenshot(page, "inject-load");
  } finally {
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
});
