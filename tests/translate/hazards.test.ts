/**
 * The corner cases the translation must get right, each checked on every target in the eBPF
 * interpreter against the cBPF interpreter (libpcap semantics), the kernel's cBPF semantics
 * for ancillary data, and the divergence predicates where the translation deliberately differs.
 */
import { describe, expect, it } from "vitest";
import {
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MEM,
  BPF_MOD,
  BPF_MSH,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_W,
  BPF_X,
  insn,
  runFilter,
  type CbpfInsn,
  type CbpfSkbContext,
} from "../../lib/cbpf";
import { KPROBE_SKB_ADDR, SKB_LAYOUT_6_18_X86_64, assemble, buildKprobeSkb, createRunner, exit, kprobeSkbContext, ldx, type AsmItem } from "../../lib/ebpf";
import { divergencesFor, translate, type TranslateResult } from "../../lib/translate";
import { ALL_TARGETS, compileOrThrow, libpcapValue, runTranslated, unexplained } from "./support";

const ret = (k: number) => insn(BPF_RET | BPF_K, k);
const retA = () => insn(BPF_RET | BPF_A);
const TXA = 0x87;
const TAX = 0x07;

function frame(len: number, fill = (i: number) => (i * 37 + 11) & 0xff): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => fill(i));
}

/** Every target gives exactly the cBPF interpreter's value on every packet. */
function expectExact(prog: CbpfInsn[], packets: Uint8Array[]): void {
  for (const target of ALL_TARGETS) {
    const t = translate(prog, { target });
    for (const p of packets) {
      expect({ target, value: runTranslated(t, p) }).toEqual({ target, value: runFilter(prog, p, { semantics: "libpcap" }) });
    }
  }
}

describe("MSH keeps A (the pwru probe-read hazard cannot happen)", () => {
  const packets = [frame(60), frame(60, () => 0x4f), frame(15), frame(14)];

  it("ldxb 4*([k]&0xf) followed by a use of A", () => {
    expectExact([insn(BPF_LD | BPF_H | BPF_ABS, 12), insn(BPF_LDX | BPF_B | BPF_MSH, 14), insn(BPF_ALU | BPF_ADD | BPF_X), retA()], packets);
    // A set by a constant, then MSH, then A used alone: a clobbered A would return the helper's 0.
    expectExact([insn(BPF_LD | BPF_IMM, 0xabcdef), insn(BPF_LDX | BPF_B | BPF_MSH, 14), retA()], packets);
  });

  it("ldx M[] between a load and a use of A", () => {
    expectExact(
      [insn(BPF_LD | BPF_IMM, 5), insn(BPF_ST, 2), insn(BPF_LD | BPF_H | BPF_ABS, 12), insn(BPF_LDX | BPF_MEM, 2), insn(BPF_ALU | BPF_ADD | BPF_X), retA()],
      packets,
    );
  });

  it("kprobe keeps A and X out of the registers helpers clobber", () => {
    const t = translate([insn(BPF_LDX | BPF_B | BPF_MSH, 14), retA()], { target: "kprobe" });
    expect(["r6", "r7", "r8", "r9"]).toContain(t.abi.a);
    expect(["r6", "r7", "r8", "r9"]).toContain(t.abi.x);
    expect(t.stats.helperCalls).toBeGreaterThan(0);
    expect(() => translate([retA()], { target: "kprobe", abi: { a: "r0" } })).toThrow(/clobber/);
  });
});

describe("scratch memory", () => {
  it("M[] read on some paths only, written on others", () => {
    const prog = [
      insn(BPF_LD | BPF_B | BPF_ABS, 0),
      insn(BPF_JMP | BPF_JGE | BPF_K, 128, 0, 2),
      insn(BPF_ST, 7),
      insn(BPF_JMP | BPF_JA, 1),
      insn(BPF_ST, 8),
      insn(BPF_LD | BPF_MEM, 7),
      insn(BPF_LDX | BPF_MEM, 8),
      insn(BPF_ALU | BPF_ADD | BPF_X),
      retA(),
    ];
    expectExact(prog, [Uint8Array.of(200), Uint8Array.of(3), Uint8Array.of(128)]);
  });
});

describe("[x+k] with extreme X", () => {
  const cases: [number, number][] = [
    [0xffffffff, 2], // 32-bit wrap to 1
    [0xfffffff0, 0x20], // wraps to 0x10
    [0x7ffffff0, 0x20], // crosses 2^31: LD_IND would see a negative int
    [10, 0xfffffff0], // huge k
    [0xffff, 0], // just past the direct-access window
    [3, 5],
  ];
  for (const [x, k] of cases) {
    it(`X = 0x${x.toString(16)}, k = 0x${k.toString(16)}`, () => {
      for (const size of [BPF_B, BPF_H, BPF_W]) {
        const prog = [insn(BPF_LDX | BPF_IMM, x), insn(BPF_LD | size | BPF_IND, k), insn(BPF_ALU | BPF_ADD | BPF_K, 1), retA()];
        expectExact(prog, [frame(64), frame(8)]);
        // The same through a path where X is unknown to the translator (from the packet).
        const unknown = [
          insn(BPF_LD | BPF_W | BPF_ABS, 0),
          insn(BPF_TAX_CODE),
          insn(BPF_LD | size | BPF_IND, k),
          insn(BPF_ALU | BPF_ADD | BPF_K, 1),
          retA(),
        ];
        const p = frame(64);
        new DataView(p.buffer).setUint32(0, x);
        expectExact(unknown, [p]);
      }
    });
  }
});

describe("division and shifts by X", () => {
  it("div x and mod x by 0 end the filter with 0", () => {
    for (const op of [BPF_DIV, BPF_MOD]) {
      for (const x of [0, 3]) {
        expectExact([insn(BPF_LD | BPF_IMM, 10), insn(BPF_LDX | BPF_IMM, x), insn(BPF_ALU | op | BPF_X), ret(77)], [frame(4)]);
        expectExact([insn(BPF_LD | BPF_IMM, 10), insn(BPF_LDX | BPF_IMM, x), insn(BPF_ALU | op | BPF_X), retA()], [frame(4)]);
      }
    }
  });

  it("lsh x / rsh x by 32 or more give 0, as in libpcap", () => {
    for (const op of [BPF_LSH, BPF_RSH]) {
      for (const x of [0, 1, 31, 32, 33, 64, 0xffffffff]) {
        expectExact([insn(BPF_LD | BPF_IMM, 0x80000001), insn(BPF_LDX | BPF_IMM, x), insn(BPF_ALU | op | BPF_X), retA()], [frame(4)]);
      }
    }
  });

  it("jump immediates with bit 31 set and jset", () => {
    for (const k of [0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
      for (const a of [0, 0x7fffffff, 0x80000000, 0xffffffff]) {
        for (const op of [BPF_JEQ, 0x20, BPF_JGE, BPF_JSET]) {
          expectExact([insn(BPF_LD | BPF_IMM, a), insn(BPF_JMP | op | BPF_K, k, 0, 1), ret(1), ret(2)], [frame(4)]);
        }
      }
    }
  });
});

describe("backward jumps (protochain) are unrolled", () => {
  /** Ethernet + IPv6 with `n` 8-byte extension headers (hop-by-hop, then destination options) before UDP. */
  function ipv6WithHeaders(n: number): Uint8Array {
    const eth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd];
    const payload = 8 * n + 8;
    const ip6 = [0x60, 0, 0, 0, payload >> 8, payload & 0xff, n > 0 ? 0 : 17, 64, ...new Array(32).fill(1)];
    const ext: number[] = [];
    for (let i = 0; i < n; i++) ext.push(i + 1 < n ? 60 : 17, 0, 0, 0, 0, 0, 0, 0);
    return Uint8Array.from([...eth, ...ip6, ...ext, 0x12, 0x34, 0, 53, 0, 8, 0, 0]);
  }

  const prog = compileOrThrow("ip6 protochain 17");

  it("libpcap's program really jumps backwards", () => {
    expect(prog.some((i) => i.code === (BPF_JMP | BPF_JA) && (i.k | 0) < 0)).toBe(true);
  });

  it("agrees with libpcap up to the bound, returns 0 past it, and the predicate says so", () => {
    const bound = 4;
    for (const target of ALL_TARGETS) {
      const t = translate(prog, { target, loopBound: bound });
      expect(t.notes.join(" ")).toMatch(/unrolled/);
      for (let n = 0; n <= bound + 2; n++) {
        const p = ipv6WithHeaders(n);
        const want = libpcapValue(prog, p);
        expect(want).not.toBe(0);
        const got = runTranslated(t, p);
        const explained = divergencesFor({ prog, target, packet: p, wireLen: p.length, loopBound: bound }).map((d) => d.id);
        if (n <= bound) {
          expect({ target, n, got }).toEqual({ target, n, got: want });
          expect(explained).toEqual([]);
        } else {
          expect({ target, n, got }).toEqual({ target, n, got: 0 });
          expect(explained).toEqual(["loop-bound"]);
        }
      }
    }
  });

  it("the default bound covers eight extension headers", () => {
    expect(unexplained(prog, [0, 1, 5, 8].map((n) => ({ data: ipv6WithHeaders(n) })))).toEqual([]);
  });
});

describe("ld #pktlen", () => {
  const prog = [insn(BPF_LD | BPF_W | BPF_LEN), retA()];

  it("is the wire length on socket, tc and kprobe; xdp sees the captured bytes (a listed divergence)", () => {
    const data = frame(40);
    for (const target of ALL_TARGETS) {
      const got = runTranslated(translate(prog, { target }), data, 1500);
      const ids = divergencesFor({ prog, target, packet: data, wireLen: 1500 }).map((d) => d.id);
      if (target === "xdp") {
        expect(got).toBe(40);
        expect(ids).toEqual(["pktlen"]);
      } else {
        expect(got).toBe(runFilter(prog, data, { wireLen: 1500 }));
        expect(ids).toEqual([]);
      }
    }
    expect(runTranslated(translate([insn(BPF_LDX | BPF_W | BPF_LEN), insn(TXA), retA()], { target: "tc" }), data, 99)).toBe(99);
  });
});

describe("ancillary loads on socket and tc follow the kernel's cBPF", () => {
  const ctx: CbpfSkbContext = {
    protocol: 0x86dd,
    pkttype: 3,
    ifindex: 7,
    mark: 0xdeadbeef,
    queue: 5,
    hash: 0x12345678,
    vlanTci: 0x0123,
    vlanPresent: true,
    vlanProto: 0x8100,
    len: 60,
  };
  const swap16 = (v: number) => ((v & 0xff) << 8) | (v >> 8);
  const fields = {
    len: 60,
    protocol: swap16(0x86dd),
    pkt_type: 3,
    ifindex: 7,
    mark: 0xdeadbeef,
    queue_mapping: 5,
    hash: 0x12345678,
    vlan_tci: 0x0123,
    vlan_present: 1,
    vlan_proto: swap16(0x8100),
  };
  const slots = [0, 4, 8, 20, 24, 32, 44, 48, 60];

  for (const slot of slots) {
    it(`SKF_AD_OFF + ${slot}`, () => {
      const prog = [insn(BPF_LD | BPF_W | BPF_ABS, 0xfffff000 + slot), retA()];
      const data = frame(60);
      const want = runFilter(prog, data, { semantics: "kernel", ctx });
      for (const target of ["socket", "tc"] as const) {
        const t = translate(prog, { target });
        const r = createRunner(t.program, target).run({ kind: target, packet: data, fields });
        expect(r.fault).toBeUndefined();
        expect({ target, v: r.retval }).toEqual({ target, v: want });
        // libpcap fails the load; the predicate names the reason.
        expect(divergencesFor({ prog, target, packet: data, wireLen: 60 }).map((d) => d.id)).toEqual(["ancillary"]);
      }
    });
  }

  it("A ^= X (SKF_AD_ALU_XOR_X) on every target", () => {
    const prog = [insn(BPF_LD | BPF_IMM, 0xf0f0), insn(BPF_LDX | BPF_IMM, 0x0ff0), insn(BPF_LD | BPF_W | BPF_ABS, 0xfffff028), retA()];
    const want = runFilter(prog, frame(4), { semantics: "kernel" });
    for (const target of ALL_TARGETS) expect(runTranslated(translate(prog, { target }), frame(4))).toBe(want);
  });

  it("the socket target keeps the kernel's header-relative offsets (SKF_NET_OFF)", () => {
    const prog = [insn(BPF_LD | BPF_B | BPF_ABS, 0xfff00009), retA()];
    const data = frame(60);
    const t = translate(prog, { target: "socket" });
    const r = createRunner(t.program, "socket").run({ kind: "socket", packet: data, networkOffset: 14 });
    expect(r.retval).toBe(runFilter(prog, data, { semantics: "kernel", ctx: { networkOffset: 14 } }));
    expect(divergencesFor({ prog, target: "socket", packet: data, wireLen: 60 }).map((d) => d.id)).toEqual(["header-relative"]);
  });
});

describe("the packet type and ifindex on xdp and kprobe", () => {
  const PKTTYPE = 0xfffff004;
  const IFINDEX = 0xfffff008;
  const load = (k: number, size = BPF_W) => [insn(BPF_LD | size | BPF_ABS, k), retA()];
  const withMac = (mac: number[], len = 60) => frame(len, (i) => (i < 6 ? mac[i]! : (i * 37 + 11) & 0xff));
  const UNICAST = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
  const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  const MULTICAST = [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb];
  const ALMOST_BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xfe];
  const xdp = (prog: CbpfInsn[], packet: Uint8Array, ingressIfindex = 1) => {
    const r = createRunner(translate(prog, { target: "xdp" }).program, "xdp").run({ kind: "xdp", packet, ingressIfindex });
    expect(r.fault).toBeUndefined();
    return r.retval >>> 0;
  };
  const kprobe = (prog: CbpfInsn[], packet: Uint8Array, pktType: number, ifindex: number) =>
    runTranslated(translate(prog, { target: "kprobe" }), packet, packet.length, kprobeSkbContext({ packet, pktType, ifindex }));

  it("xdp: ifindex is xdp_md->ingress_ifindex, as the kernel's cBPF reads skb->dev->ifindex", () => {
    for (const n of [1, 2, 7, 0x7fffffff]) {
      expect(xdp(load(IFINDEX), frame(60), n)).toBe(runFilter(load(IFINDEX), frame(60), { semantics: "kernel", ctx: { ifindex: n } }));
    }
    const ifindex2 = compileOrThrow("ifindex 2");
    expect([1, 2, 3].map((n) => xdp(ifindex2, frame(60), n) !== 0)).toEqual([false, true, false]);
    // ingress_ifindex needs no packet bytes: even an empty frame has one.
    expect(xdp(load(IFINDEX), new Uint8Array(0), 9)).toBe(9);
  });

  it("xdp: the packet type comes from the destination MAC (OTHERHOST reads as HOST, never OUTGOING)", () => {
    // eth_type_trans(): group bit set -> broadcast (all ones) or multicast; else host/otherhost.
    const cases = [
      { mac: UNICAST, type: 0, diverges: true },
      { mac: BROADCAST, type: 1, diverges: false },
      { mac: MULTICAST, type: 2, diverges: false },
      { mac: ALMOST_BROADCAST, type: 2, diverges: false },
    ];
    for (const { mac, type, diverges } of cases) {
      for (const size of [BPF_B, BPF_H, BPF_W]) {
        const prog = load(PKTTYPE, size);
        const packet = withMac(mac);
        expect({ mac, v: xdp(prog, packet) }).toEqual({ mac, v: runFilter(prog, packet, { semantics: "kernel", ctx: { pkttype: type } }) });
        const ids = divergencesFor({ prog, target: "xdp", packet, wireLen: packet.length }).map((d) => d.id);
        expect(ids).toEqual(diverges ? ["ancillary", "xdp-pkttype"] : ["ancillary"]);
      }
    }
    const inbound = compileOrThrow("inbound");
    const outbound = compileOrThrow("outbound");
    for (const mac of [UNICAST, BROADCAST, MULTICAST]) {
      expect(xdp(inbound, withMac(mac))).not.toBe(0);
      expect(xdp(outbound, withMac(mac))).toBe(0);
    }
    // Too short for a destination MAC: no match either way (the predicate covers it).
    for (const prog of [inbound, outbound]) {
      expect(xdp(prog, frame(5))).toBe(0);
      expect(divergencesFor({ prog, target: "xdp", packet: frame(5), wireLen: 5 }).map((d) => d.id)).toContain("xdp-pkttype");
    }
  });

  it("kprobe: pkt_type and skb->dev->ifindex come from the struct sk_buff, as in the kernel's cBPF", () => {
    const packet = frame(60);
    for (const pktType of [0, 1, 2, 3, 4]) {
      for (const ifindex of [1, 2, 7]) {
        const ctx = { pkttype: pktType, ifindex };
        for (const prog of [load(PKTTYPE, BPF_H), load(IFINDEX), compileOrThrow("inbound"), compileOrThrow("outbound"), compileOrThrow("ifindex 2")]) {
          expect({ pktType, ifindex, v: kprobe(prog, packet, pktType, ifindex) }).toEqual({
            pktType,
            ifindex,
            v: runFilter(prog, packet, { semantics: "kernel", ctx }),
          });
        }
      }
    }
  });

  it("kprobe: the bits next to pkt_type are masked off, and no skb->dev means no match", () => {
    const packet = frame(60);
    const { kernel, skb } = buildKprobeSkb({ packet, pktType: 4 });
    const L = SKB_LAYOUT_6_18_X86_64;
    kernel.read(skb + BigInt(L.pkt_type), 1)![0] |= 0xf8;
    const ctx = { kind: "kprobe" as const, regs: { di: KPROBE_SKB_ADDR }, kernel };
    expect(runTranslated(translate(load(PKTTYPE, BPF_H), { target: "kprobe" }), packet, 60, ctx)).toBe(4);
    kernel.read(skb + BigInt(L.dev), 8)!.fill(0);
    // The kernel's converter returns 0 when skb->dev is NULL; bpf_probe_read_kernel fails there.
    expect(runTranslated(translate(load(IFINDEX), { target: "kprobe" }), packet, 60, ctx)).toBe(0);
  });
});

const BPF_TAX_CODE = TAX;


describe("body mode behaves like the whole program", () => {
  /** A host program in the pwru stub shape: r4/r5 = packet bounds, body, result label, exit. */
  function hosted(prog: CbpfInsn[], target: "xdp" | "tc"): TranslateResult {
    const body = translate(prog, { target, mode: "body", resultLabel: "host_result", labelPrefix: "flt" });
    const [dataOff, endOff] = target === "xdp" ? [0, 4] : [76, 80];
    const items: AsmItem[] = [ldx("u32", "r4", "r1", dataOff), ldx("u32", "r5", "r1", endOff), ...body.insns, { kind: "label", name: "host_result" }, exit()];
    return { ...body, program: assemble(items) };
  }

  it("xdp and tc, on a sample of real filters", () => {
    const packets = [frame(60), frame(20), frame(100, (i) => (i === 12 ? 8 : i === 13 ? 0 : i === 14 ? 0x45 : i === 23 ? 6 : i))];
    for (const filter of ["tcp port 80", "ip6 protochain 17", "len > 50", "udp and ip[8] < 64", "tcp[tcpflags] & tcp-syn != 0"]) {
      const prog = compileOrThrow(filter);
      for (const target of ["xdp", "tc"] as const) {
        const whole = translate(prog, { target });
        const body = hosted(prog, target);
        for (const p of packets) expect({ filter, target, v: runTranslated(body, p) }).toEqual({ filter, target, v: runTranslated(whole, p) });
      }
    }
  });
});
