import { expect, test } from "@playwright/test";
import { requires } from "../tests/support/requires";
import { modelText, openIde, screenshot, startAgent, tcpdump, typeFilter, waitForFilter } from "./helpers";

test("a share link reproduces the page in a fresh browser context", async ({ page, browser }) => {
  await openIde(page);
  await page.getByTestId("samples").selectOption("dns-and-icmp.pcap");
  await expect(page.getByTestId("packet-count")).toHaveText(/\d+ packets/);
  const filter = "udp port 53 or icmp";
  await typeFilter(page, filter);
  await waitForFilter(page, filter);
  await page.getByTestId("target-xdp").click();
  await page.getByTestId("optimize").click();
  await page.getByTestId("cbpf-tab-ddd").click();
  await expect.poll(() => modelText(page, "cbpf.d")).toBe(tcpdump(["-y", "EN10MB", "-O", "-d", filter]));
  await page.locator('[data-testid="packet-list"] .prow[data-index="3"]').click();
  const before = {
    count: await page.getByTestId("packet-count").textContent(),
    matched: await page.getByTestId("match-count-cbpf").textContent(),
    ebpf: await modelText(page, "ebpf.txt"),
  };
  await page.getByTestId("share").click();
  const link = await page.getByTestId("share-link").inputValue();
  expect(link).toMatch(/#s=[A-Za-z0-9_-]+$/);
  expect(link).not.toMatch(/agent|token|ws:/);
  await screenshot(page, "share-dialog");

  const fresh = await browser.newContext({ viewport: { width: 1600, height: 950 } });
  const page2 = await fresh.newPage();
  await openIde(page2, link);
  await waitForFilter(page2, filter);
  expect(await modelText(page2, "filter.pcap")).toBe(filter);
  await expect(page2.getByTestId("target-xdp")).toHaveAttribute("aria-pressed", "true");
  await expect(page2.getByTestId("optimize")).toHaveAttribute("aria-pressed", "false");
  await expect(page2.getByTestId("cbpf-tab-ddd")).toHaveAttribute("aria-selected", "true");
  expect(await modelText(page2, "cbpf.d")).toBe(tcpdump(["-y", "EN10MB", "-O", "-d", filter]));
  await expect(page2.getByTestId("packet-count")).toHaveText(before.count!);
  await expect(page2.getByTestId("match-count-cbpf")).toHaveText(before.matched!);
  await expect.poll(() => modelText(page2, "ebpf.txt")).toBe(before.ebpf);
  await expect(page2.locator('[data-testid="packet-list"] .prow.sel')).toHaveAttribute("data-index", "3");
  await screenshot(page2, "share-opened");
  await fresh.close();
});

test("a share link names no agent and no token; the receiver's page keeps using its own agent", async ({ page, browser }) => {
  test.skip(!requires("e2e share with agents", "kernel"), "the agents load programs into the kernel");
  const sharer = await startAgent();
  const receiver = await startAgent();
  const token = (url: string) => new URL(url).searchParams.get("token")!;
  const port = (url: string) => new URL(url).port;
  const fresh = await browser.newContext({ viewport: { width: 1600, height: 950 } });
  try {
    await openIde(page, `/#agent=${encodeURIComponent(sharer.url)}`);
    await expect(page.getByTestId("agent-status")).toContainText("agent connected");
    // The token is taken out of the address bar (history, bookmarks) once the page has it.
    expect(page.url()).not.toContain(token(sharer.url));
    const filter = "tcp port 443";
    await typeFilter(page, filter);
    await waitForFilter(page, filter);
    await page.getByTestId("share").click();
    const link = await page.getByTestId("share-link").inputValue();
    expect(link).toMatch(/#s=[A-Za-z0-9_-]+$/);
    for (const secret of ["agent", "token", "ws:", token(sharer.url), `:${port(sharer.url)}`]) expect(link).not.toContain(secret);

    // The receiver opened their own start URL in this tab earlier; the link is opened later.
    const page2 = await fresh.newPage();
    await openIde(page2, `/#agent=${encodeURIComponent(receiver.url)}`);
    await expect(page2.getByTestId("agent-status")).toContainText("agent connected");
    await page2.goto("about:blank");
    await openIde(page2, link);
    await waitForFilter(page2, filter);
    expect(await modelText(page2, "filter.pcap")).toBe(filter);
    const status = page2.getByTestId("agent-status");
    await expect(status).toContainText("agent connected");
    await expect(status).toHaveAttribute("title", new RegExp(`:${port(receiver.url)}/`));
    expect(await status.getAttribute("title")).not.toContain(token(receiver.url));
    await expect(page2.getByTestId("kernel-trace-title")).toContainText("accepted");
  } finally {
    await fresh.close();
    sharer.child.kill("SIGTERM");
    receiver.child.kill("SIGTERM");
  }
});
