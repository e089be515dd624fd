import { expect, test } from "@playwright/test";
import { modelText, openIde, pasteFilter, screenshot, tcpdump, tcpdumpError, trackErrors, typeFilter, waitForFilter } from "./helpers";

test("typing a filter shows exactly tcpdump -d, -dd and -ddd", async ({ page }) => {
  const errors = trackErrors(page);
  await openIde(page);
  const filter = "udp port 53 and host 10.0.0.1";
  await typeFilter(page, filter);
  await waitForFilter(page, filter);
  expect(await modelText(page, "cbpf.d")).toBe(tcpdump(["-y", "EN10MB", "-d", filter]));
  expect(await modelText(page, "cbpf.dd")).toBe(tcpdump(["-y", "EN10MB", "-dd", filter]));
  expect(await modelText(page, "cbpf.ddd")).toBe(tcpdump(["-y", "EN10MB", "-ddd", filter]));

  // The optimizer switch is tcpdump -O.
  await page.getByTestId("optimize").click();
  await expect.poll(() => modelText(page, "cbpf.d")).toBe(tcpdump(["-y", "EN10MB", "-O", "-d", filter]));
  await page.getByTestId("optimize").click();
  await expect.poll(() => modelText(page, "cbpf.d")).toBe(tcpdump(["-y", "EN10MB", "-d", filter]));

  // Every pane is on the page with its stable id.
  for (const id of ["filter-input", "cbpf-pane", "ebpf-pane", "trace-pane", "packets-pane", "kernel-log-pane", "agent-status"]) {
    await expect(page.getByTestId(id)).toBeVisible();
  }
  await expect(page.getByTestId("agent-status")).toContainText("not connected");
  await screenshot(page, "listing");
  expect(errors).toEqual([]);
});

test("an invalid filter shows libpcap's error at its position and keeps the last good result", async ({ page }) => {
  await openIde(page);
  const good = "tcp port 80";
  await typeFilter(page, good);
  await waitForFilter(page, good);
  const goodListing = tcpdump(["-y", "EN10MB", "-d", good]);
  expect(await modelText(page, "cbpf.d")).toBe(goodListing);

  const cases: { text: string; at: string }[] = [
    { text: "tcp port 80 and", at: "d" }, // ends too early: the last character is marked
    { text: "tcp prt 80", at: "prt" },
    { text: "tcp port 99999", at: "99999" },
  ];
  for (const c of cases) {
    // Typing " and" after the good filter: every intermediate text is refused too.
    if (c.text.startsWith(good)) {
      await page.getByTestId("filter-input").click();
      await page.keyboard.press("End");
      await page.keyboard.type(c.text.slice(good.length), { delay: 5 });
    } else await pasteFilter(page, c.text);
    const message = tcpdumpError(c.text);
    await expect(page.getByTestId("filter-error")).toContainText(message);
    const markers = await page.evaluate(() =>
      window.monaco!.editor.getModelMarkers({ owner: "libpcap" }).map((m) => ({ message: m.message, start: m.startColumn, end: m.endColumn })),
    );
    expect(markers).toHaveLength(1);
    expect(markers[0]!.message).toBe(message);
    expect(c.text.slice(markers[0]!.start - 1, markers[0]!.end - 1)).toBe(c.at);
    // The panes still show the last filter that compiled.
    expect(await modelText(page, "cbpf.d")).toBe(goodListing);
    if (c.text === "tcp prt 80") await screenshot(page, "filter-error");
  }
  await typeFilter(page, good);
  await expect(page.getByTestId("filter-error")).toHaveCount(0);
});
