import { expect, test } from "@playwright/test";
import { join } from "node:path";
import { requires } from "../tests/support/requires";
import { modelText, openIde, screenshot, startAgent, tcpdumpCount, typeFilter, waitForFilter } from "./helpers";

const ROOT = join(__dirname, "..");

test("with the agent, the kernel's log, code and verdicts appear beside the emulator's", async ({ page }) => {
  test.skip(!requires("e2e agent", "kernel"), "loading programs into the kernel needs root and BPF");
  const { child, url } = await startAgent();
  try {
    await openIde(page, `/#agent=${encodeURIComponent(url)}`);
    await expect(page.getByTestId("agent-status")).toContainText("agent connected");
    await page.getByTestId("samples").selectOption("http.pcap");
    const filter = "tcp port 80";
    await typeFilter(page, filter);
    await waitForFilter(page, filter);
    await expect(page.getByTestId("kernel-trace-title")).toContainText("accepted");
    const expected = tcpdumpCount(join(ROOT, "public", "samples", "http.pcap"), filter);
    await expect(page.getByTestId("match-count-kernel")).toHaveText(`kernel ${expected}`);
    await expect(page.getByTestId("mismatch-count")).toHaveText("0 mismatches");
    await page.getByTestId("kernel-tab-xlated").click();
    await expect.poll(() => modelText(page, "kernel.xlated")).toMatch(/^0: \(/);
    await screenshot(page, "agent");
  } finally {
    child.kill("SIGTERM");
  }
});
