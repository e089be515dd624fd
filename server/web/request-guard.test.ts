import { describe, expect, it } from "vitest";
import { guardJsonPost, hostAllowed, sameOrigin } from "./request-guard";

const URL_ = "http://127.0.0.1:3000/api/compile";
const OK_HEADERS = { host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000", "content-type": "application/json", "sec-fetch-site": "same-origin" };

function post(headers: Record<string, string>, body: BodyInit = JSON.stringify({ filter: "ip", dlt: 1 })): Request {
  return new Request(URL_, { method: "POST", headers, body });
}

describe("guardJsonPost", () => {
  it("lets the app's own page through and parses its body", async () => {
    const g = await guardJsonPost(post(OK_HEADERS), { maxBodyBytes: 1024 });
    expect(g).toEqual({ ok: true, body: { filter: "ip", dlt: 1 } });
  });

  it("refuses what a foreign page's no-cors fetch looks like", async () => {
    // mode: "no-cors" can only send a "simple" request: text/plain, cross-site, its own Origin.
    const g = await guardJsonPost(post({ ...OK_HEADERS, origin: "http://evil.example", "sec-fetch-site": "cross-site", "content-type": "text/plain;charset=UTF-8" }), { maxBodyBytes: 1024 });
    expect(g).toMatchObject({ ok: false, status: 403 });
  });

  it("refuses a foreign or missing Origin, a cross-site fetch, and a non-JSON body type", async () => {
    const cases: [Record<string, string>, number][] = [
      [{ ...OK_HEADERS, origin: "http://evil.example" }, 403],
      [{ ...OK_HEADERS, origin: "http://127.0.0.1:3001" }, 403],
      [{ ...OK_HEADERS, origin: "null" }, 403],
      [Object.fromEntries(Object.entries(OK_HEADERS).filter(([k]) => k !== "origin")), 403],
      [{ ...OK_HEADERS, "sec-fetch-site": "same-site" }, 403],
      [{ ...OK_HEADERS, "content-type": "text/plain" }, 415],
      [{ ...OK_HEADERS, "content-type": "application/x-www-form-urlencoded" }, 415],
    ];
    for (const [headers, status] of cases) {
      const g = await guardJsonPost(post(headers), { maxBodyBytes: 1024 });
      expect(g, JSON.stringify(headers)).toMatchObject({ ok: false, status });
    }
  });

  it("refuses a Host that is not a loopback name (DNS rebinding)", async () => {
    const g = await guardJsonPost(post({ ...OK_HEADERS, host: "rebind.example:3000", origin: "http://rebind.example:3000" }), { maxBodyBytes: 1024 });
    expect(g).toMatchObject({ ok: false, status: 421 });
    expect(await guardJsonPost(post({ ...OK_HEADERS, host: "rebind.example:3000", origin: "http://rebind.example:3000" }), { maxBodyBytes: 1024, extraHosts: ["rebind.example"] })).toMatchObject({ ok: true });
  });

  it("stops reading a body past the limit, whatever Content-Length says", async () => {
    const big = JSON.stringify({ filter: "x".repeat(5000), dlt: 1 });
    expect(await guardJsonPost(post(OK_HEADERS, big), { maxBodyBytes: 1024 })).toMatchObject({ ok: false, status: 413 });
    // A streamed body has no Content-Length: the count while reading stops it.
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        sent += 65536;
        c.enqueue(new Uint8Array(65536));
      },
    });
    const req = new Request(URL_, { method: "POST", headers: OK_HEADERS, body: endless, duplex: "half" } as RequestInit);
    expect(await guardJsonPost(req, { maxBodyBytes: 1024 })).toMatchObject({ ok: false, status: 413 });
    expect(sent).toBeLessThan(1 << 20);
  });

  it("answers a body that is not JSON with 400", async () => {
    expect(await guardJsonPost(post(OK_HEADERS, "{nope"), { maxBodyBytes: 1024 })).toMatchObject({ ok: false, status: 400 });
  });
});

describe("host and origin rules", () => {
  it("accepts loopback names only", () => {
    for (const h of ["127.0.0.1:3000", "localhost:8080", "[::1]:3000", "127.1.2.3:1", "localhost"]) expect(hostAllowed(h), h).toBe(true);
    for (const h of [null, "", "evil.example", "10.0.0.1:3000", "127.0.0.1.evil.example", "localhost.evil.example:3000", "user@127.0.0.1", "127.0.0.1/x"]) expect(hostAllowed(h), String(h)).toBe(false);
  });
  it("compares origin and host exactly, port included", () => {
    expect(sameOrigin("http://localhost:3000", "localhost:3000")).toBe(true);
    expect(sameOrigin("http://localhost:3000", "localhost:3001")).toBe(false);
    expect(sameOrigin("file://", "localhost:3000")).toBe(false);
  });
});
