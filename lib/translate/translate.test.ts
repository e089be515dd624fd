import { describe, expect, it } from "vitest";
import {
  BPF_ABS,
  BPF_ALU,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MSH,
  BPF_RET,
  BPF_ST,
  BPF_W,
  BPF_X,
  BPF_A,
  insn,
  runFilter,
  type CbpfInsn,
} from "../cbpf";
import { BPF_JMP32, OP_CALL, OP_EXIT, createRunner, opClass, type ContextSpec } from "../ebpf";
import { PlaygroundError } from "../errors";
import { formatListing, translate, TARGETS, type Target, type TranslateResult } from "./index";

const ret = (k: number) => insn(BPF_RET | BPF_K, k);
const retA = () => insn(BPF_RET | BPF_A);
const ldh = (k: number) => insn(BPF_LD | BPF_H | BPF_ABS, k);
const ldb = (k: number) => insn(BPF_LD | BPF_B | BPF_ABS, k);
const jeq = (k: number, jt: number, jf: number) => insn(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);

/** Runs an xdp/socket/tc translation (kprobe contexts are exercised in tests/translate). */
function run(t: TranslateResult, data: Uint8Array): number {
  const ctx: ContextSpec = t.target === "xdp" ? { kind: "xdp", packet: data } : { kind: t.target as "socket" | "tc", packet: data };
  const r = createRunner(t.program, t.target).run(ctx);
  if (r.fault) throw new Error(r.fault.message);
  return r.retval;
}

function expectRefusal(fn: () => unknown, index: number, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PlaygroundError);
    const err = e as PlaygroundError;
    expect(err.position).toEqual({ kind: "insn", index });
    expect(err.message).toMatch(pattern);
    return;
  }
  throw new Error("expected a PlaygroundError");
}

const ETH_IPV4_TCP = Uint8Array.from([
  ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00],
  ...[0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
  ...[0, 80, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0],
]);

describe("refusals name the cBPF instruction", () => {
  it("rejects what is not cBPF", () => {
    expectRefusal(() => translate([insn(BPF_RET | BPF_X)], { target: "xdp" }), 0, /ret x/);
    expectRefusal(() => translate([ldh(12), insn(0xff)], { target: "xdp" }), 1, /not a classic BPF instruction/);
    expectRefusal(() => translate([jeq(1, 5, 0), ret(0)], { target: "xdp" }), 0, /past the last instruction/);
    expectRefusal(() => translate([ldh(12)], { target: "xdp" }), 0, /runs past the last instruction/);
    expectRefusal(() => translate([insn(BPF_LD | BPF_MEM, 16), ret(0)], { target: "xdp" }), 0, /M\[16\]/);
    expectRefusal(() => translate([insn(BPF_ALU | BPF_DIV | BPF_K, 0), ret(0)], { target: "xdp" }), 0, /div #0/);
    expect(() => translate([], { target: "xdp" })).toThrow(PlaygroundError);
  });

  it("refuses ancillary loads where the target has no such metadata", () => {
    // skb->mark: in __sk_buff, not in an xdp_md; the kprobe target reads only pkt_type and ifindex.
    const prog = [ldh(0), insn(BPF_LD | BPF_W | BPF_ABS, 0xfffff014), ret(1)];
    expectRefusal(() => translate(prog, { target: "xdp" }), 1, /XDP programs have no sk_buff/);
    expectRefusal(() => translate(prog, { target: "kprobe" }), 1, /only the packet type and ifindex/);
    expect(() => translate(prog, { target: "socket" })).not.toThrow();
    expect(() => translate(prog, { target: "tc" })).not.toThrow();
    // The packet type and ifindex translate everywhere, except where body mode gives no context.
    const pkttype = [ldh(0), insn(BPF_LD | BPF_H | BPF_ABS, 0xfffff004), ret(1)];
    const ifindex = [insn(BPF_LD | BPF_W | BPF_ABS, 0xfffff008), retA()];
    for (const target of TARGETS) for (const p of [pkttype, ifindex]) expect(() => translate(p, { target })).not.toThrow();
    expectRefusal(
      () => translate(ifindex, { target: "xdp", mode: "body", resultLabel: "out", abi: { packetStart: "r4", packetEnd: "r5" } }),
      0,
      /no xdp_md pointer/,
    );
    expectRefusal(
      () => translate(pkttype, { target: "kprobe", mode: "body", resultLabel: "out", abi: { ctx: undefined } }),
      1,
      /no struct sk_buff pointer/,
    );
    const hatype = [insn(BPF_LD | BPF_W | BPF_ABS, 0xfffff01c), retA()];
    for (const target of TARGETS) expectRefusal(() => translate(hatype, { target }), 0, /hatype|dev->type|sk_buff/);
  });

  it("refuses header-relative offsets except on the socket target", () => {
    const prog = [insn(BPF_LD | BPF_B | BPF_ABS, 0xfff00009), retA()];
    for (const target of ["tc", "xdp", "kprobe"] as const) expectRefusal(() => translate(prog, { target }), 0, /SKF_NET_OFF/);
    expect(translate(prog, { target: "socket" }).notes).toEqual([]);
  });

  it("checks options", () => {
    expect(() => translate([ret(0)], { target: "bogus" as Target })).toThrow(/unknown target/);
    expect(() => translate([ret(0)], { target: "xdp", mode: "body" })).toThrow(/resultLabel/);
    expect(() => translate([ret(0)], { target: "xdp", loopBound: -1 })).toThrow(/loopBound/);
    expect(() => translate([ret(0)], { target: "socket", abi: { a: "r6" } })).toThrow(/A must be r0/);
    expect(() => translate([ret(0)], { target: "kprobe", abi: { a: "r1" } })).toThrow(/r6..r9/);
    expect(() => translate([ret(0)], { target: "xdp", abi: { x: "r2" } })).toThrow(/both r2/);
    expect(() => translate([ret(0)], { target: "xdp", abi: { stackBase: 4 } })).toThrow(/multiple of 8/);
    expect(() => translate([ret(0)], { target: "xdp", result: { kind: "count", countersMapFd: 3, sampleBytes: 1000, action: 2 } })).toThrow(
      /sampleBytes/,
    );
  });
});

describe("provenance", () => {
  const prog = [ldh(12), jeq(0x800, 0, 3), ldb(23), jeq(6, 0, 1), ret(0xffff), ret(0)];
  for (const target of TARGETS) {
    it(`every slot of the ${target} translation has a provenance, and byCbpf is its inverse`, () => {
      const t = translate(prog, { target });
      expect(t.provenance).toHaveLength(t.program.slots);
      expect(t.cbpfOfSlot).toHaveLength(t.program.slots);
      for (const p of t.provenance) expect(["cbpf", "prologue", "guard", "epilogue"]).toContain(p.origin);
      t.byCbpf.forEach((slots, i) => {
        expect(slots.length).toBeGreaterThan(0);
        for (const s of slots) expect(t.cbpfOfSlot[s]).toBe(i);
      });
      t.cbpfOfSlot.forEach((idx, slot) => {
        if (idx !== null) expect(t.byCbpf[idx]).toContain(slot);
      });
      expect(t.progType).toBe({ socket: 1, kprobe: 2, tc: 3, xdp: 6 }[target]);
    });
  }

  it("lists the program in the verifier's text form with an aligned provenance column", () => {
    const t = translate(prog, { target: "xdp" });
    const lines = formatListing(t, prog).split("\n").filter(Boolean);
    expect(lines).toHaveLength(t.program.slots);
    const column = lines.map((l) => l.indexOf("  ; "));
    expect(new Set(column).size).toBe(1);
    expect(lines[0]).toMatch(/^0: \(61\) r2 = \*\(u32 \*\)\(r1 \+0\)\s+; prologue$/);
    expect(lines.some((l) => /; guard$/.test(l))).toBe(true);
    expect(lines.some((l) => l.endsWith("; cbpf 0: ldh [12]"))).toBe(true);
  });
});

describe("lowering details", () => {
  it("compares immediates with bit 31 set in 32 bits", () => {
    const prog = [insn(BPF_LD | BPF_IMM, 0x80000001), insn(BPF_JMP | BPF_JGT | BPF_K, 0x80000000, 0, 1), ret(7), ret(0)];
    const t = translate(prog, { target: "xdp" });
    const jumps = t.byCbpf[1]!.map((s) => t.program.raw[s]!);
    expect(jumps.some((r) => opClass(r.code) === BPF_JMP32)).toBe(true);
    expect(run(t, new Uint8Array(20))).toBe(runFilter(prog, new Uint8Array(20)));
  });

  it("inverts conditions whose true branch falls through, and keeps jset with a skip", () => {
    for (const op of [BPF_JEQ, BPF_JGT, BPF_JSET]) {
      for (const [jt, jf] of [[0, 1], [1, 0], [0, 0]]) {
        const prog = [ldb(0), insn(BPF_JMP | op | BPF_K, 3, jt!, jf!), ret(11), ret(22)];
        const t = translate(prog, { target: "xdp" });
        for (const b of [0, 1, 2, 3, 4, 200]) {
          const pkt = Uint8Array.of(b, 0, 0, 0);
          expect(run(t, pkt)).toBe(runFilter(prog, pkt));
        }
      }
    }
  });

  it("turns loads past 0xffff into no match and drops the code they make unreachable (direct access)", () => {
    const prog = [ldh(0xfffe), jeq(1, 0, 1), ret(1), ret(2)];
    for (const target of ["xdp", "tc"] as const) {
      const t = translate(prog, { target });
      expect(t.byCbpf[1]).toEqual([]);
      expect(t.notes.join(" ")).toMatch(/0xffff/);
      expect(run(t, new Uint8Array(64))).toBe(0);
    }
    // Other targets keep the load (it fails at run time on short packets, like libpcap).
    expect(translate(prog, { target: "socket" }).byCbpf[1]!.length).toBeGreaterThan(0);
  });

  it("sends no-match to the first `ret #0` instead of a second copy, only where the two are the same code", () => {
    const prog = [ldh(12), jeq(0x800, 0, 1), ret(0x40000), ret(0)];
    const short = new Uint8Array(8);
    const ipv4 = ETH_IPV4_TCP;
    for (const target of ["xdp", "tc"] as const) {
      for (const result of [{ kind: "return" as const }, { kind: "verdict" as const, match: 2, noMatch: 1 }]) {
        const t = translate(prog, { target, result });
        expect(t.provenance.some((p) => p.origin === "epilogue")).toBe(false);
        expect(run(t, short)).toBe(result.kind === "return" ? 0 : 1);
        expect(run(t, ipv4)).toBe(result.kind === "return" ? 0x40000 : 2);
      }
      // Without a `ret #0` the epilogue still provides the no-match block.
      const noRetZero = translate([ldh(12), ret(1)], { target });
      expect(noRetZero.provenance.some((p) => p.origin === "epilogue")).toBe(true);
      expect(run(noRetZero, short)).toBe(0);
      // Count mode keeps its own no-match entry into the shared counting tail.
      const counted = translate(prog, { target, result: { kind: "count", countersMapFd: 3, action: 2 } });
      expect(counted.insns.some((it) => it.kind === "label" && it.name === "f_nomatch")).toBe(true);
    }
  });

  it("zeroes exactly the scratch slots some path reads before writing", () => {
    const prog = [
      ldb(0),
      jeq(1, 0, 2),
      insn(BPF_ST, 3), // M[3] written on one path only
      insn(BPF_ST, 5),
      insn(BPF_LD | BPF_MEM, 3), // read on both paths
      insn(BPF_ST, 4),
      insn(BPF_LD | BPF_MEM, 4), // always written first
      retA(),
    ];
    const t = translate(prog, { target: "xdp" });
    const prologueStores = t.program.raw.filter((r, s) => t.provenance[s]!.origin === "prologue" && r.code === 0x62);
    expect(prologueStores.map((r) => r.off)).toEqual([-16]); // M[3] at r10 - 4*(3+1)
    for (const b of [0, 1, 2]) expect(run(t, Uint8Array.of(b))).toBe(runFilter(prog, Uint8Array.of(b)));
  });

  it("places M[] above the host's stack base", () => {
    const prog = [insn(BPF_LD | BPF_IMM, 9), insn(BPF_ST, 0), insn(BPF_LDX | BPF_MEM, 0), insn(BPF_MISC_TXA), retA()];
    const t = translate(prog, { target: "xdp", abi: { stackBase: 64 } });
    const store = t.program.raw[t.byCbpf[1]![0]!]!;
    expect(store.off).toBe(-68);
    expect(run(t, new Uint8Array(4))).toBe(9);
  });

  it("zeroes A and X only when read before written", () => {
    const uses = translate([insn(BPF_ALU | 0x00 | BPF_X), retA()], { target: "xdp" });
    const prologue = uses.program.raw.filter((_, s) => uses.provenance[s]!.origin === "prologue");
    expect(prologue.filter((r) => r.code === 0xb4)).toHaveLength(2);
    const none = translate([insn(BPF_LD | BPF_IMM, 1), insn(BPF_LDX | BPF_IMM, 2), insn(BPF_ALU | 0x00 | BPF_X), retA()], { target: "xdp" });
    expect(none.program.raw.filter((_, s) => none.provenance[s]!.origin === "prologue" && none.program.raw[s]!.code === 0xb4)).toHaveLength(0);
  });

  it("merges absolute bounds checks: fewer guards than loads on a header-heavy filter", () => {
    // ldh [12]; jeq #0x800; ldb [23]; jeq #6; ldh [20]; jset #0x1fff; ldxb 4*([14]&0xf); ldh [x+14]; ldh [x+16]
    const prog: CbpfInsn[] = [
      ldh(12),
      jeq(0x800, 0, 10),
      ldb(23),
      jeq(6, 0, 8),
      ldh(20),
      insn(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 6, 0),
      insn(BPF_LDX | BPF_B | BPF_MSH, 14),
      insn(BPF_LD | BPF_H | BPF_IND, 14),
      jeq(80, 2, 0),
      insn(BPF_LD | BPF_H | BPF_IND, 16),
      jeq(80, 0, 1),
      ret(0x40000),
      ret(0),
    ];
    const t = translate(prog, { target: "xdp" });
    // One absolute guard (24 bytes) covers all four header reads; each [x+k] block needs its own,
    // since the port-80 path matches without reading [x+16].
    expect(t.stats.guards).toBe(3);
    expect(t.stats.packetLoads).toBe(6);
    expect(run(t, ETH_IPV4_TCP)).toBe(runFilter(prog, ETH_IPV4_TCP));
    expect(run(t, ETH_IPV4_TCP.subarray(0, 23))).toBe(0);
  });

  it("reports a jump that outgrows the 16-bit offset at the cBPF instruction", () => {
    const body = Array.from({ length: 10000 }, () => insn(BPF_LDX | BPF_B | BPF_MSH, 14));
    const prog = [ldb(0), jeq(1, 0, 1), insn(BPF_JMP | BPF_JA, 10000), ...body, ret(1)];
    expectRefusal(() => translate(prog, { target: "socket" }), 2, /16-bit/);
  });
});

describe("body mode", () => {
  const prog = [ldh(12), jeq(0x800, 0, 1), ret(5), ret(0)];

  it("direct: no prologue loads, no exit; every path jumps to the result label with the value in the chosen register", () => {
    const t = translate(prog, { target: "xdp", mode: "body", resultLabel: "host_result", abi: { result: "r4" } });
    const raw = t.program.raw;
    // The last slot is the stand-in for the host's label; nothing else exits.
    expect(raw.slice(0, -1).some((r) => r.code === OP_EXIT)).toBe(false);
    expect(t.insns.some((i) => i.kind === "branch" && typeof i.target === "object" && i.target.label === "host_result")).toBe(true);
    expect(raw.some((r) => r.code === 0x61 && r.src === 1)).toBe(false); // no ctx loads
  });

  it("kprobe: r6..r9 are the stub frame's own by default; with `preserve` they are saved and restored", () => {
    const plain = translate(prog, { target: "kprobe", mode: "body", resultLabel: "out" });
    expect(plain.program.raw.some((r) => r.code === 0x7b && r.src >= 6 && r.src <= 9)).toBe(false);
    const t = translate(prog, { target: "kprobe", mode: "body", resultLabel: "out", abi: { preserve: ["r6", "r7", "r8", "r9"] } });
    const spills = t.program.raw.filter((r, s) => t.provenance[s]!.origin === "prologue" && r.code === 0x7b);
    const restores = t.program.raw.filter((r, s) => t.provenance[s]!.origin === "epilogue" && r.code === 0x79);
    expect(spills.map((r) => r.src).sort()).toEqual([6, 7, 8, 9]);
    expect(restores.map((r) => r.dst).sort()).toEqual([6, 7, 8, 9]);
    expect(t.program.raw.filter((r) => r.code === OP_CALL).length).toBeGreaterThan(0);
  });

  it("socket: bpf_skb_load_bytes instead of LD_ABS (whose implicit exit would leave the host)", () => {
    const t = translate(prog, { target: "socket", mode: "body", resultLabel: "out" });
    expect(t.program.raw.some((r) => (r.code & 0xe0) === 0x20 && (r.code & 7) === 0)).toBe(false);
    expect(t.program.raw.some((r) => r.code === OP_CALL && r.imm === 26)).toBe(true);
    expect(() => translate(prog, { target: "socket", mode: "body", resultLabel: "out", socketAccess: "ld_abs" })).toThrow(/LD_ABS/);
  });
});

const BPF_MISC_TXA = 0x87;

describe("divergence list", () => {
  it("cross-references existing lib/cbpf entries and has unique ids", async () => {
    const { DIVERGENCES } = await import("./index");
    const cbpf = await import("../cbpf");
    expect(new Set(DIVERGENCES.map((d) => d.id)).size).toBe(DIVERGENCES.length);
    for (const d of DIVERGENCES) if (d.cbpf !== undefined) expect(cbpf.divergence(d.cbpf)?.id).toBe(d.cbpf);
  });
});
