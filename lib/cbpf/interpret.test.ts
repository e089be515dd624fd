/**
 * Execution checked against the two real machines: libpcap's bpf_filter (through koffi) for
 * libpcap semantics, and Linux's classic socket filter (a packet socket on lo in a private network
 * namespace) for kernel semantics. Every executor is checked: runFilter, the generated fast path
 * and the plain interpreter behind compileFilter.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import { generateFilter, MAX_GENERATED_INSNS } from "./codegen";
import type { CbpfInsn } from "./insn";
import { compileBatchFilter, compileFilter, runFilter } from "./interpret";
import { lowerProgram } from "./lower";
import { KNOWN_OPCODES } from "./opcodes";
import type { CbpfSkbContext } from "./semantics";
import {
  arbPacket,
  arbProgram,
  kernelRun,
  loadLibpcap,
  programFromDdd,
  tcpdumpBatch,
  type KernelRunResult,
} from "./testkit.node";
import { validateProgram } from "./validate";
import { requires } from "../../tests/support/requires";

const I = (code: number, k = 0, jt = 0, jf = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });
const pcap = loadLibpcap();

/** All executors for one semantics must give the same number (or the same error). */
function allExecutors(prog: readonly CbpfInsn[], packet: Uint8Array, wireLen: number, semantics: "libpcap" | "kernel", ctx?: CbpfSkbContext): number {
  const a = runFilter(prog, packet, { wireLen, semantics, ctx });
  const b = compileFilter(prog, { semantics, ctx })(packet, wireLen);
  const c = compileFilter(prog, { semantics, ctx, jit: false })(packet, wireLen);
  expect(b, "generated code").toBe(a);
  expect(c, "interpreter").toBe(a);
  return a;
}

/**
 * Make a random program safe to hand to C bpf_filter (no scratch index past 16, no division by a
 * constant 0) and deterministic (scratch memory starts as stores of A = 0, where libpcap would
 * otherwise read uninitialised stack).
 */
function forLibpcap(prog: CbpfInsn[]): CbpfInsn[] {
  const fixed = prog.map((p) => {
    if ([0x60, 0x61, 0x02, 0x03].includes(p.code)) return { ...p, k: p.k % 16 };
    if ((p.code === 0x34 || p.code === 0x94) && p.k === 0) return { ...p, k: 1 };
    return p;
  });
  return [...Array.from({ length: 16 }, (_, i) => I(0x02, i)), ...fixed];
}

/** A table of small programs, one or more per instruction kind, including every divergence. */
const OPS: Array<{ name: string; prog: CbpfInsn[] }> = [
  { name: "ret #k", prog: [I(0x06, 77)] },
  { name: "ret a", prog: [I(0x00, 33), I(0x16)] },
  { name: "ld/ldh/ldb [k]", prog: [I(0x20, 2), I(0x07), I(0x28, 5), I(0x0c), I(0x30, 9), I(0x0c), I(0x16)] },
  { name: "ld [k] out of bounds", prog: [I(0x20, 40), I(0x06, 5)] },
  { name: "ldh [k] at the end", prog: [I(0x28, 18), I(0x16)] },
  { name: "[x + k]", prog: [I(0x01, 3), I(0x40, 1), I(0x07), I(0x48, 2), I(0x0c), I(0x50, 6), I(0x0c), I(0x16)] },
  { name: "[x + k] wraps", prog: [I(0x01, 0xffffffff), I(0x50, 2), I(0x16)] },
  { name: "[x + k] wraps (big k)", prog: [I(0x01, 0x7fffffff), I(0x48, 0x80000003), I(0x16)] },
  { name: "[x + k] into SKF_LL_OFF", prog: [I(0x01, 0xffe00000), I(0x50, 7), I(0x16)] },
  { name: "ldxb 4*([k]&0xf)", prog: [I(0x00, 9), I(0xb1, 14), I(0x0c), I(0x16)] },
  { name: "ldxb out of bounds", prog: [I(0xb1, 400), I(0x06, 3)] },
  { name: "[SKF_LL_OFF + 3]", prog: [I(0x30, 0xffe00003), I(0x16)] },
  { name: "[SKF_NET_OFF + 2]", prog: [I(0x28, 0xfff00002), I(0x16)] },
  { name: "ldxb 4*([SKF_LL_OFF + 14]&0xf)", prog: [I(0xb1, 0xffe0000e), I(0x87), I(0x16)] },
  { name: "[k] below SKF_LL_OFF", prog: [I(0x30, 0xffd00000), I(0x06, 9)] },
  { name: "ld #imm, ldx #imm, tax, txa", prog: [I(0x01, 9), I(0x87), I(0x04, 1), I(0x07), I(0x00, 3), I(0x0c), I(0x16)] },
  { name: "st/ld/stx/ldx M[]", prog: [I(0x00, 5), I(0x02, 3), I(0x01, 7), I(0x03, 15), I(0x60, 15), I(0x61, 3), I(0x0c), I(0x16)] },
  { name: "ld #pktlen", prog: [I(0x80), I(0x16)] },
  { name: "ldx #pktlen", prog: [I(0x81), I(0x87), I(0x16)] },
  { name: "add/sub/mul", prog: [I(0x00, 7), I(0x04, 5), I(0x24, 3), I(0x14, 4), I(0x01, 2), I(0x2c), I(0x1c), I(0x0c), I(0x16)] },
  { name: "sub wraps", prog: [I(0x00, 1), I(0x14, 3), I(0x74, 24), I(0x16)] },
  { name: "mul wraps", prog: [I(0x00, 0x10001), I(0x24, 0x10001), I(0x54, 0xff), I(0x16)] },
  { name: "div/mod", prog: [I(0x00, 100), I(0x34, 7), I(0x01, 5), I(0x9c), I(0x04, 1), I(0x16)] },
  { name: "div x by 0", prog: [I(0x00, 100), I(0x3c), I(0x06, 4)] },
  { name: "mod x by 0", prog: [I(0x00, 100), I(0x9c), I(0x06, 4)] },
  { name: "and/or/xor", prog: [I(0x00, 0xf0), I(0x44, 0x0f), I(0x54, 0x3c), I(0xa4, 0x11), I(0x01, 2), I(0xac), I(0x5c), I(0x4c), I(0x16)] },
  { name: "lsh/rsh #k", prog: [I(0x00, 3), I(0x64, 4), I(0x74, 1), I(0x16)] },
  { name: "lsh x by 33", prog: [I(0x01, 33), I(0x00, 3), I(0x6c), I(0x16)] },
  { name: "rsh x by 36", prog: [I(0x01, 36), I(0x00, 0xf0), I(0x7c), I(0x16)] },
  { name: "lsh x by 32", prog: [I(0x01, 32), I(0x00, 9), I(0x6c), I(0x16)] },
  { name: "neg", prog: [I(0x00, 0xffffffd0), I(0x84), I(0x16)] },
  { name: "jumps", prog: [I(0x00, 5), I(0x15, 5, 0, 1), I(0x05, 1), I(0x06, 1), I(0x25, 4, 0, 3), I(0x35, 6, 2, 0), I(0x45, 4, 0, 1), I(0x06, 2), I(0x06, 3)] },
  { name: "jumps with x", prog: [I(0x01, 5), I(0x00, 5), I(0x1d, 0, 0, 4), I(0x2d, 0, 3, 0), I(0x3d, 0, 0, 2), I(0x4d, 0, 0, 1), I(0x06, 7), I(0x06, 8)] },
  { name: "jeq with a negative constant", prog: [I(0x00, 0xfffffff0), I(0x15, 0xfffffff0, 0, 1), I(0x06, 11), I(0x06, 12)] },
  { name: "[proto]", prog: [I(0x28, 0xfffff000), I(0x74, 4), I(0x16)] },
  { name: "[type]", prog: [I(0x28, 0xfffff004), I(0x04, 1), I(0x16)] },
  { name: "[ifidx]", prog: [I(0x20, 0xfffff008), I(0x04, 1), I(0x16)] },
  { name: "[hatype]", prog: [I(0x28, 0xfffff01c), I(0x74, 4), I(0x16)] },
  { name: "[xor_x]", prog: [I(0x00, 12), I(0x01, 5), I(0x20, 0xfffff028), I(0x16)] },
  { name: "[vlanp], [vlan_tci]", prog: [I(0x30, 0xfffff030), I(0x07), I(0x28, 0xfffff02c), I(0x0c), I(0x04, 1), I(0x16)] },
  { name: "[mark], [queue]", prog: [I(0x20, 0xfffff014), I(0x07), I(0x20, 0xfffff018), I(0x0c), I(0x04, 1), I(0x16)] },
  { name: "[nla]", prog: [I(0x00, 14), I(0x01, 2), I(0x20, 0xfffff00c), I(0x04, 1), I(0x16)] },
  { name: "[nlan]", prog: [I(0x00, 14), I(0x01, 1), I(0x20, 0xfffff010), I(0x04, 1), I(0x16)] },
];

/** A 60-byte Ethernet/IPv4/TCP frame to lo's MAC, with a netlink-attribute pattern at 14. */
function samplePacket(): Uint8Array {
  const p = new Uint8Array(60);
  p.set([0x08, 0x00], 12);
  // At 14: nlattr{len 8, type 1}, nlattr{len 12, type 2 (nested: {len 8, type 1})}, then IPv4-ish bytes.
  p.set([8, 0, 1, 0, 0xaa, 0xbb, 0xcc, 0xdd, 12, 0, 2, 0, 8, 0, 1, 0, 1, 2, 3, 4], 14);
  for (let i = 34; i < 60; i++) p[i] = (i * 37) & 0xff;
  return p;
}

describe.skipIf(!requires("cbpf interpreter vs bpf_filter", "libpcap"))("libpcap semantics agree with libpcap's bpf_filter", () => {
  it("on one program per instruction kind", () => {
    const pkt = samplePacket();
    for (const { name, prog } of OPS) {
      for (const packet of [pkt, pkt.subarray(0, 20), pkt.subarray(0, 0)]) {
        expect(allExecutors(prog, packet, packet.length + 3, "libpcap"), name).toBe(pcap!.bpfFilter(prog, packet, packet.length + 3));
      }
    }
  });

  it("on random programs and packets", () => {
    const opcodes = [...KNOWN_OPCODES];
    fc.assert(
      fc.property(arbProgram({ maxLength: 14, opcodes }), arbPacket, fc.nat(100), (raw, packet, extra) => {
        const prog = forLibpcap(raw);
        const wireLen = packet.length + extra;
        expect(allExecutors(prog, packet, wireLen, "libpcap"), JSON.stringify(raw)).toBe(pcap!.bpfFilter(prog, packet, wireLen));
      }),
      { numRuns: 4000 },
    );
  });
});

describe.skipIf(!requires("cbpf interpreter on tcpdump's programs", "libpcap", "tcpdump"))("real filters agree with bpf_filter", () => {
  const filters = [
    "tcp port 80", "ip6 protochain 6", "ip protochain 17", "vlan and tcp", "ip[2:2] - ((ip[0]&0xf)<<2) > 20",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", "ip[4] << ip[5] = 0 or ip[0] % 3 = 1", "len > 60", "inbound",
    "pppoes and ip", "mpls and udp", "geneve", "icmp or arp",
  ];
  let progs: CbpfInsn[][] = [];
  beforeAll(async () => {
    const outs = await tcpdumpBatch(filters.flatMap((f) => [["-y", "EN10MB", "-ddd", "--", f], ["-y", "EN10MB", "-O", "-ddd", "--", f]]));
    progs = outs.map(programFromDdd);
  });

  it("including protochain's backward jumps, on random and crafted packets", () => {
    expect(progs.every((p) => p.length > 0)).toBe(true);
    const crafted = fc.tuple(fc.uint8Array({ minLength: 60, maxLength: 120 }), fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x8864, 0x8847), fc.constantFrom(6, 17, 0, 43, 44, 60))
      .map(([b, type, next]) => {
        const p = Uint8Array.from(b);
        p[12] = type >> 8;
        p[13] = type & 0xff;
        p[14] = type === 0x86dd ? 0x60 : 0x45;
        p[20] = next; // IPv6 next header
        p[23] = next; // IPv4 protocol
        p[54] = 6;
        p[55] = 1;
        return p;
      });
    // Compiled once per filter: the property is about packets.
    const compiled = progs.map((prog) => ({ prog, jit: compileFilter(prog), interp: compileFilter(prog, { jit: false }) }));
    fc.assert(
      fc.property(fc.oneof(crafted, arbPacket), (packet) => {
        for (const { prog, jit, interp } of compiled) {
          const expected = pcap!.bpfFilter(prog, packet, packet.length);
          expect(jit(packet)).toBe(expected);
          expect(interp(packet)).toBe(expected);
          expect(runFilter(prog, packet)).toBe(expected);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe.skipIf(!requires("cbpf interpreter vs the kernel's socket filter", "netns"))("kernel semantics agree with the running kernel (packet socket on lo)", () => {
  /** The skb of a frame sent on lo, as the filter sees it going out and coming back in. */
  const ctxFor = (packet: Uint8Array, pkttype: number): CbpfSkbContext => ({
    pkttype,
    ifindex: 1,
    hatype: 772, // ARPHRD_LOOPBACK
    protocol: (packet[12]! << 8) | packet[13]!,
    networkOffset: 14,
  });
  /** What the packet socket receives: the filter's value trims the frame; 0 drops it. */
  const received = (value: number, len: number): number => (value === 0 ? -1 : Math.min(value, len));
  /** Frames lo delivers unchanged: our MAC as destination, an EtherType that is not a VLAN tag. */
  const arbFrame = fc
    .tuple(fc.uint8Array({ minLength: 14, maxLength: 90 }), fc.constantFrom(0x0800, 0x86dd, 0x0806, 0x88cc, 0x0600, 0xffff))
    .map(([b, type]) => {
      const p = Uint8Array.from(b);
      p.fill(0, 0, 6);
      p[12] = type >> 8;
      p[13] = type & 0xff;
      return p;
    });
  const UNMODELLED = new Set([0xfffff020, 0xfffff024, 0xfffff034, 0xfffff038]); // rxhash, cpu, poff, random

  function check(jobs: { prog: CbpfInsn[]; packet: Uint8Array }[], results: KernelRunResult[]): void {
    jobs.forEach((job, i) => {
      const r = results[i]!;
      const label = JSON.stringify(job.prog) + " on " + Buffer.from(job.packet).toString("hex");
      expect(r.attach, label).toBe(0);
      const out = allExecutors(job.prog, job.packet, job.packet.length, "kernel", ctxFor(job.packet, 4));
      const inc = allExecutors(job.prog, job.packet, job.packet.length, "kernel", ctxFor(job.packet, 0));
      expect({ outgoing: r.outgoing, incoming: r.incoming }, label).toEqual({
        outgoing: received(out, job.packet.length),
        incoming: received(inc, job.packet.length),
      });
    });
  }

  it("on one program per instruction kind, and on random programs", () => {
    const jobs: { prog: CbpfInsn[]; packet: Uint8Array }[] = [];
    const pkt = samplePacket();
    for (const { prog } of OPS) {
      if (validateProgram(prog, "kernel").length === 0) for (const packet of [pkt, pkt.subarray(0, 20)]) jobs.push({ prog, packet });
    }
    expect(jobs.length).toBeGreaterThan(2 * (OPS.length - 4));
    const random = fc.sample(fc.tuple(arbProgram({ maxLength: 14 }), arbFrame), { numRuns: 1600, seed: 20240607 });
    for (const [raw, packet] of random) {
      const prog = forLibpcap(raw).map((p) =>
        (p.code === 0x64 || p.code === 0x74) && p.k >= 32 ? { ...p, k: p.k % 32 } : p,
      );
      if (prog.some((p) => (p.code === 0x20 || p.code === 0x28 || p.code === 0x30) && UNMODELLED.has(p.k))) continue;
      if (validateProgram(prog, "kernel").length > 0) continue;
      jobs.push({ prog, packet });
    }
    expect(jobs.length).toBeGreaterThan(1000);
    check(jobs, kernelRun(jobs));
  });
});

describe("compileFilter", () => {
  const prog = [I(0x28, 12), I(0x15, 0x800, 0, 1), I(0x80), I(0x16), I(0x06, 0)];
  const ip = new Uint8Array(20);
  ip[12] = 8;

  it("defaults the wire length to the captured length and honours ctx.len under kernel rules", () => {
    expect(compileFilter(prog)(ip)).toBe(20);
    expect(compileFilter(prog)(ip, 1500)).toBe(1500);
    expect(compileFilter(prog, { semantics: "kernel", ctx: { len: 999 } })(ip, 1500)).toBe(999);
    expect(compileFilter(prog, { semantics: "kernel", ctx: { len: 999 }, jit: false })(ip, 1500)).toBe(999);
    expect(runFilter(prog, ip, { semantics: "kernel", ctx: { len: 999 } })).toBe(999);
  });

  it("throws a positioned PlaygroundError for programs that cannot run, from every executor", () => {
    const broken: Array<[CbpfInsn[], number, string]> = [
      [[I(0x28, 12), I(0x38), I(0x06, 1)], 1, "opcode 0x38"],
      [[I(0x28, 12)], 0, "ran past the last instruction"],
      [[I(0x60, 16), I(0x16)], 0, "M[16]"],
      [[], 0, "empty"],
    ];
    for (const [p, index, text] of broken) {
      for (const run of [
        () => runFilter(p, ip),
        () => compileFilter(p)(ip),
        () => compileFilter(p, { jit: false })(ip),
      ]) {
        try {
          run();
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(PlaygroundError);
          expect((e as PlaygroundError).code).toBe("cbpf/trap");
          expect((e as PlaygroundError).message).toContain(text);
          expect((e as PlaygroundError).position).toEqual({ kind: "insn", index });
        }
      }
    }
  });

  it("bounds a backward-jumping loop instead of hanging", () => {
    const loop = [I(0x00, 1), I(0x05, -1 >>> 0), I(0x06, 1)];
    for (const run of [() => runFilter(loop, ip, { maxSteps: 1000 }), () => compileFilter(loop, { maxSteps: 1000 })(ip)]) {
      expect(run).toThrow(/ran 1000 instructions without returning/);
    }
  });

  it("falls back to the interpreter for programs too large to generate", () => {
    const big: CbpfInsn[] = [];
    for (let i = 0; i < MAX_GENERATED_INSNS + 10; i++) big.push(I(0x04, 1));
    big.push(I(0x16));
    expect(compileFilter(big)(ip)).toBe(MAX_GENERATED_INSNS + 10);
  });

  it("generates code for a program where every instruction is a jump target (deeply nested blocks)", () => {
    const n = MAX_GENERATED_INSNS - 1;
    const p: CbpfInsn[] = [];
    for (let i = 0; i < n - 1; i++) p.push(I(0x15, 0xffff, i + 2 < n ? 1 : 0, 0));
    p.push(I(0x06, 42));
    const generated = generateFilter(lowerProgram(p), undefined, () => {
      throw new Error("trap");
    });
    expect(generated).toBeTypeOf("function");
    expect(generated!(ip)).toBe(42);
    expect(compileFilter(p, { jit: false })(ip)).toBe(42);
  });

  it("filters a batch of packets in one buffer exactly as packet by packet (property)", () => {
    fc.assert(
      fc.property(
        arbProgram({ maxLength: 10 }),
        fc.array(fc.tuple(arbPacket, fc.nat(40), fc.nat(30)), { maxLength: 12 }),
        fc.constantFrom("libpcap" as const, "kernel" as const),
        (prog, packets, semantics) => {
          // Lay the packets out with gaps, as in a capture file.
          const total = packets.reduce((s, [p, gap]) => s + p.length + gap, 0);
          const data = new Uint8Array(total).fill(0xee);
          const offsets: number[] = [];
          const capLens: number[] = [];
          const wireLens: number[] = [];
          let at = 0;
          for (const [p, gap, extra] of packets) {
            at += gap;
            data.set(p, at);
            offsets.push(at);
            capLens.push(p.length);
            wireLens.push(p.length + extra);
            at += p.length;
          }
          const one = (run: () => unknown): unknown => {
            try {
              return run();
            } catch (e) {
              return (e as PlaygroundError).code;
            }
          };
          const expected = one(() => packets.map(([p], i) => compileFilter(prog, { semantics, maxSteps: 500 })(p, wireLens[i])));
          for (const jit of [true, false]) {
            const batch = compileBatchFilter(prog, { semantics, jit, maxSteps: 500 });
            const got = one(() => Array.from(batch({ data, offsets: Uint32Array.from(offsets), capLens, wireLens })));
            expect(got, `jit ${jit}`).toEqual(expected);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("refuses a batch whose packets do not lie in its buffer", () => {
    const f = compileBatchFilter(prog);
    const data = new Uint8Array(100);
    expect(() => f({ data, offsets: [90], capLens: [20] })).toThrow(/packet 0 \(offset 90, 20 bytes\) does not lie inside the 100-byte buffer/);
    expect(() => f({ data, offsets: [0, 1], capLens: [20] })).toThrow(PlaygroundError);
    expect(() => f({ data, offsets: [0], capLens: [20] }, new Uint32Array(0))).toThrow(PlaygroundError);
    expect(() => f(null as unknown as { data: Uint8Array; offsets: number[]; capLens: number[] })).toThrow(PlaygroundError);
    const single = compileFilter(prog);
    expect(Array.from(f({ data: ip, offsets: [0, 0], capLens: [20, 14], wireLens: [20, 1000] }))).toEqual([
      single(ip, 20),
      single(ip.subarray(0, 14), 1000),
    ]);
  });
});
