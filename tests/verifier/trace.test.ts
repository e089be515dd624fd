/**
 * The structured trace the UI reads: one step per visit, typed states before and after, what was
 * read and written, branches with where they were pushed, path numbers, pruning and errors.
 */
import { describe, expect, it } from "vitest";
import type { RawInsn } from "../../lib/ebpf/insn";
import { emulate, logSummary, parseLog } from "../../lib/verifier";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ code, dst, src, off, imm });
// Appendix A's xdp_ethertype.
const XDP_ETHERTYPE = [
  I(0x61, 2, 1, 0), I(0x61, 3, 1, 4), I(0xbf, 4, 2), I(0x07, 4, 0, 0, 14), I(0x2d, 4, 3, 5), I(0x69, 5, 2, 12),
  I(0xdc, 5, 0, 0, 16), I(0x55, 5, 0, 2, 0x800), I(0xb7, 0, 0, 0, 2), I(0x95), I(0xb7, 0, 0, 0, 1), I(0x95),
];

describe("structured trace", () => {
  const r = emulate(XDP_ETHERTYPE, { progType: "xdp" });

  it("has one step per visit, in the log's order", () => {
    expect(r.trace.map((s) => `${s.path}:${s.insn}${s.pruned ? "!" : ""}`)).toEqual(
      ["0:0", "0:1", "0:2", "0:3", "0:4", "0:5", "0:6", "0:7", "0:8", "0:9", "1:10", "1:11", "2:10!"],
    );
  });
  it("types registers, with the kernel's text alongside", () => {
    const s = r.trace[4]!;
    expect(s.text).toBe("(2d) if r4 > r3 goto pc+5");
    expect(s.after?.regs[4]).toMatchObject({ type: "pkt", off: 14, range: 14, text: "pkt(off=14,r=14)" });
    expect(s.before.regs[4]).toMatchObject({ type: "pkt", off: 14, range: 0 });
    expect(s.after?.regs[3]?.type).toBe("pkt_end");
    expect(s.reads).toEqual([3, 4]);
    expect(s.branch).toEqual({ target: 10, outcome: "both", pushedTo: 10 });
  });
  it("records reads and writes, and constants", () => {
    const load = r.trace[5]!;
    expect(load.reads).toEqual([2]);
    expect(load.writes).toEqual([5]);
    const cmp = r.trace[7]!;
    expect(cmp.after?.regs[5]?.value).toBe("2048");
    expect(r.trace[9]!.after).toBeNull(); // exit
  });
  it("is plain JSON", () => {
    const j = JSON.parse(JSON.stringify(r.trace));
    expect(j[4].after.regs[4].text).toBe("pkt(off=14,r=14)");
    expect(j[12].pruned).toBe(true);
  });
  it("carries the error on the failing step", () => {
    const bad = emulate([I(0xb7, 2, 0, 0, 100), I(0x71, 0, 2, 0), I(0x95)], { progType: "socket" });
    expect(bad.accepted).toBe(false);
    expect(bad.errno).toBe(13);
    expect(bad.trace[1]!.error).toBe("R2 invalid mem access 'scalar'");
    expect(bad.error).toMatchObject({ insn: 1, errno: 13, explanation: { key: "scalar-deref" } });
  });
  it("can be turned off", () => {
    expect(emulate(XDP_ETHERTYPE, { progType: "xdp", trace: false }).trace).toEqual([]);
  });
});

describe("instruction limit", () => {
  it("stops a long loop like the kernel's limit does", () => {
    // r0 = 0; r0 += 1; if r0 < 1000000 goto -2; exit
    const loop = [I(0xb7, 0, 0, 0, 0), I(0x07, 0, 0, 0, 1), I(0xa5, 0, 0, -2, 1000000), I(0x95)];
    const r = emulate(loop, { progType: "socket", insnLimit: 500, trace: false });
    expect(r.accepted).toBe(false);
    expect(r.errno).toBe(7);
    expect(r.error?.message).toBe("BPF program is too large. Processed 501 insn");
    expect(logSummary(parseLog(r.text))).toMatchObject({ processedInsns: 501, insnLimit: 500 });
  });
});
