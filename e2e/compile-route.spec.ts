/**
 * The compile route against the real server (`npm start`): only the app's own pages may use it,
 * and a filter libpcap needs a minute for neither kills the server nor blocks others.
 */
import { expect, test } from "@playwright/test";
import { orHosts, tcpdumpBigListing } from "../tests/support/big-filters";
import { formatProgram } from "../lib/cbpf";
import type { CbpfInsn } from "../lib/cbpf/insn";

const BODY = JSON.stringify({ filter: "tcp port 80", dlt: "EN10MB" });

test("a foreign origin, a missing Origin or a text/plain body is refused before any work", async ({ request, baseURL }) => {
  const url = `${baseURL}/api/compile`;
  const foreign = await request.post(url, { data: BODY, headers: { "content-type": "application/json", origin: "http://evil.example", "sec-fetch-site": "cross-site" } });
  expect(foreign.status()).toBe(403);
  // What fetch(…, {mode: "no-cors"}) sends: a "simple" request, text/plain, from the attacker's origin.
  const noCors = await request.post(url, {
    data: BODY,
    headers: { "content-type": "text/plain;charset=UTF-8", origin: "http://evil.example", "sec-fetch-mode": "no-cors", "sec-fetch-site": "cross-site" },
  });
  expect(noCors.status()).toBe(403);
  const noOrigin = await request.post(url, { data: BODY, headers: { "content-type": "application/json" } });
  expect(noOrigin.status()).toBe(403);
  const sameOriginPlain = await request.post(url, { data: BODY, headers: { "content-type": "text/plain", origin: baseURL! } });
  expect(sameOriginPlain.status()).toBe(415);
  const rebound = await request.post(url, { data: BODY, headers: { "content-type": "application/json", origin: "http://rebind.example:80", host: "rebind.example" } });
  expect(rebound.status()).toBe(421);
  const huge = await request.post(url, { data: "x".repeat(1 << 20), headers: { "content-type": "application/json", origin: baseURL! } });
  expect(huge.status()).toBe(413);
  const own = await request.post(url, { data: BODY, headers: { "content-type": "application/json", origin: baseURL! } });
  expect(own.status()).toBe(200);
});

test("a real browser page on another origin cannot use the route with a no-cors request", async ({ page, baseURL }) => {
  // localhost and 127.0.0.1 are different origins to the browser, though both are loopback.
  const other = baseURL!.replace("127.0.0.1", "localhost");
  await page.goto(`${other}/api/health-of-nothing`).catch(() => undefined);
  const response = page.waitForResponse((r) => r.url() === `${baseURL}/api/compile`);
  await page.evaluate(async ([target, body]) => {
    await fetch(target, { method: "POST", mode: "no-cors", body });
  }, [`${baseURL}/api/compile`, BODY] as const);
  expect((await response).status()).toBe(403);
});

test("2,000 OR'ed hosts compile like tcpdump -O -d through the route, and the server keeps serving", async ({ page }) => {
  test.setTimeout(600_000);
  const filter = orHosts(2000);
  const expected = tcpdumpBigListing(filter, false);
  await page.goto("/");
  const post = (body: object) =>
    page.evaluate(async (b) => {
      const r = await fetch("/api/compile", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(b) });
      return { status: r.status, json: (await r.json()) as { ok: boolean; insns?: CbpfInsn[]; error?: string } };
    }, body);
  const big = await post({ filter, dlt: "EN10MB", optimize: false });
  expect(big.status, big.json.error).toBe(200);
  expect(formatProgram(big.json.insns!, "d")).toBe((await expected).listing);
  const small = await post({ filter: "udp", dlt: "EN10MB" });
  expect(small.status).toBe(200);
  expect(small.json.ok).toBe(true);
});
