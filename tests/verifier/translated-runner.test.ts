/**
 * The translated-filter runner counts a filter as untranslatable only when the translator refuses
 * it with a documented refusal; any other exception fails the test (no kernel needed here).
 */
import { describe, expect, it } from "vitest";
import type { CbpfInsn } from "../../lib/cbpf";
import { PlaygroundError } from "../../lib/errors";
import { compileFilter } from "../../server/native/libpcap";
import { translateOrRefusal } from "./translated-runner";

const I = (code: number, k = 0, jt = 0, jf = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });

describe("translateOrRefusal", () => {
  it("translates what libpcap compiles", () => {
    const comp = compileFilter({ filter: "tcp port 80", dlt: 1, snaplen: 262144, optimize: true, netmask: 0 });
    if (!comp.ok) throw new Error(comp.error);
    expect(translateOrRefusal(comp.insns, "xdp")!.length).toBeGreaterThan(comp.insns.length);
  });

  it("gives null for a documented refusal: SKF_NET_OFF on xdp", () => {
    // ldb [SKF_NET_OFF + 9]; ret #262144: fine for socket (LD_ABS), refused for xdp.
    const prog = [I(0x30, 0xfff00009), I(0x06, 262144)];
    expect(translateOrRefusal(prog, "socket")).not.toBeNull();
    expect(translateOrRefusal(prog, "xdp")).toBeNull();
  });

  it("lets every other error through: an invalid program", () => {
    // div #0 is not a refusal but invalid input, so it must fail the test that meets it.
    const prog = [I(0x34, 0), I(0x06, 1)];
    let err: unknown;
    try {
      translateOrRefusal(prog, "socket");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlaygroundError);
    expect((err as PlaygroundError).code).toBe("translate/invalid");
  });

  it("lets a non-PlaygroundError through", () => {
    expect(() => translateOrRefusal(null as unknown as CbpfInsn[], "tc")).toThrow(TypeError);
  });
});
