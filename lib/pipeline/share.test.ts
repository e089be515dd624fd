/**
 * A share link carries page state only: never the agent's address or its token, which the page
 * was started with (`bpf-playground start` prints `…/#agent=ws://127.0.0.1:PORT/?token=…`).
 */
import { describe, expect, it } from "vitest";
import { decodeShare, encodeShare, shareLink, startFragment } from "./share";

const AGENT = "ws://127.0.0.1:41234/?token=0123456789abcdef0123456789abcdef";
const STARTED = `http://127.0.0.1:3000/?x=1#agent=${encodeURIComponent(AGENT)}`;

describe("share links carry page state only", () => {
  it("build the link from the page's address without its query or fragment", async () => {
    const encoded = await encodeShare({ filter: "tcp port 80", dlt: 1, snaplen: 65535, optimize: true, target: "tc", view: { tab: "d" } });
    const link = shareLink(STARTED, encoded);
    expect(link).toBe(`http://127.0.0.1:3000/#s=${encoded}`);
    for (const secret of ["agent", "token", "ws:", "41234", "0123456789abcdef", "x=1"]) expect(link).not.toContain(secret);
    const back = await decodeShare(new URL(link).hash.slice(1).replace(/^s=/, ""));
    expect(back).toEqual({ filter: "tcp port 80", dlt: 1, snaplen: 65535, optimize: true, target: "tc", view: { tab: "d" } });
  });

  it("keep a share's previous fragment out of a new link", async () => {
    const encoded = await encodeShare({ filter: "udp", dlt: 1, snaplen: 100, optimize: false, target: "xdp" });
    expect(shareLink(`http://127.0.0.1:3000/ide#s=OLD&agent=${encodeURIComponent(AGENT)}`, encoded)).toBe(`http://127.0.0.1:3000/ide#s=${encoded}`);
  });
});

describe("startFragment", () => {
  it("takes the agent a start URL names out of the fragment", () => {
    expect(startFragment(`#agent=${encodeURIComponent(AGENT)}`)).toEqual({ agent: AGENT, rest: "" });
    expect(startFragment(`#agent=${encodeURIComponent(AGENT)}&debug=1`)).toEqual({ agent: AGENT, rest: "debug=1" });
    expect(startFragment("")).toEqual({ agent: null, rest: "" });
  });

  it("never uses an agent named in a share (someone else's, from an old link), and drops it", () => {
    expect(startFragment(`#s=abc&agent=${encodeURIComponent(AGENT)}`)).toEqual({ agent: null, rest: "s=abc" });
    expect(startFragment("#s=abc")).toEqual({ agent: null, rest: "s=abc" });
  });
});
