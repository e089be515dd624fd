/**
 * Property: for random cBPF programs the kernel would accept and random packets, every target's
 * translation run in the eBPF interpreter returns what the cBPF interpreter (libpcap semantics)
 * returns, except where a documented divergence applies (lib/translate/divergences.ts). Programs
 * with ancillary loads are also checked against the kernel's cBPF semantics on socket and tc.
 * A second property adds backward jumps (libpcap allows them; the kernel does not).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BPF_ABS,
  BPF_CLASS,
  BPF_IND,
  BPF_JA,
  BPF_JMP,
  BPF_LD,
  BPF_MODE,
  BPF_ST,
  BPF_X,
  KNOWN_OPCODES,
  SKF_AD_CPU,
  SKF_AD_OFF,
  SKF_AD_RANDOM,
  ancillaryIndex,
  runFilter,
  validateProgram,
  type CbpfInsn,
  type CbpfSkbContext,
} from "../../lib/cbpf";
import { PlaygroundError } from "../../lib/errors";
import { divergencesFor, translate, type TranslateResult } from "../../lib/translate";
import { ALL_TARGETS, libpcapValue, runTranslated } from "./support";

const OPCODES = [...KNOWN_OPCODES].sort((a, b) => a - b);

const arbK = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 70 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0, 1, 2, 12, 14, 23, 31, 32, 33, 0x800, 0x86dd, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
      0xfffff000, 0xfffff004, 0xfffff008, 0xfffff014, 0xfffff020, 0xfffff028, 0xfffff02c, 0xfffff030, 0xfffff03c,
      0xffe00000, 0xfff00009, 0x90000000,
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);

/** Programs whose jumps stay inside and that end in ret; optionally stores to M[] first. */
function arbProgram(maxBody: number): fc.Arbitrary<CbpfInsn[]> {
  const raw = fc.record({
    code: fc.constantFrom(...OPCODES),
    k: arbK,
    jt: fc.nat(255),
    jf: fc.nat(255),
  });
  return fc
    .tuple(
      fc.array(raw, { minLength: 0, maxLength: maxBody }),
      fc.constantFrom(0x06, 0x16),
      arbK,
      fc.array(fc.nat(15), { maxLength: 4 }),
    )
    .map(([body, retCode, retK, stores]) => {
      const prefix: CbpfInsn[] = stores.map((n) => ({ code: BPF_ST, jt: 0, jf: 0, k: n }));
      const all = [...prefix, ...body];
      const n = all.length + 1;
      const out = all.map((p, i) => {
        const room = n - i - 2;
        const jump = BPF_CLASS(p.code) === BPF_JMP;
        if (p.code === (BPF_JMP | BPF_JA)) return { code: p.code, jt: 0, jf: 0, k: p.k % (room + 1) };
        return { code: p.code, jt: jump ? p.jt % (room + 1) : 0, jf: jump ? p.jf % (room + 1) : 0, k: p.k >>> 0 };
      });
      out.push({ code: retCode, jt: 0, jf: 0, k: retK >>> 0 });
      return out;
    });
}

const kernelValid = (p: CbpfInsn[]) => validateProgram(p, "kernel").length === 0;

const arbPacket = fc
  .tuple(
    fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 80 }),
      fc
        .tuple(fc.uint8Array({ minLength: 34, maxLength: 90 }), fc.constantFrom(0x0800, 0x86dd, 0x8100), fc.constantFrom(6, 17))
        .map(([b, type, proto]) => {
          const p = Uint8Array.from(b);
          p[12] = type >> 8;
          p[13] = type & 0xff;
          p[14] = 0x45;
          p[23] = proto;
          return p;
        }),
    ),
    fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 1500 }) }),
  )
  .map(([data, extra]) => ({ data, wireLen: data.length + extra }));

const isAnc = (i: CbpfInsn) => BPF_CLASS(i.code) === BPF_LD && BPF_MODE(i.code) === BPF_ABS && i.k >>> 0 >= SKF_AD_OFF;
/** Loads whose value the interpreter cannot model like the kernel (helpers it does not implement). */
const usesCpuOrRandom = (p: CbpfInsn[]) => p.some((i) => isAnc(i) && [SKF_AD_CPU, SKF_AD_RANDOM].includes(ancillaryIndex(i.k) ?? -1));
/** Instructions where libpcap and the kernel's cBPF differ for reasons other than ancillary data. */
const kernelDiffers = (p: CbpfInsn[]) =>
  p.some(
    (i) =>
      BPF_MODE(i.code) === BPF_IND && BPF_CLASS(i.code) === BPF_LD ||
      (BPF_CLASS(i.code) === 4 && (i.code & BPF_X) !== 0 && [0x60, 0x70].includes(i.code & 0xf0)) ||
      (BPF_CLASS(i.code) === BPF_LD && BPF_MODE(i.code) === BPF_ABS && i.k >>> 0 >= 0x80000000 && !isAnc(i)),
  );

/** The kernel cBPF context matching the interpreter's default __sk_buff (lib/pipeline/engines.ts contextFor). */
const kernelCtx = (data: Uint8Array, wireLen: number): CbpfSkbContext => ({
  len: wireLen,
  protocol: data.length >= 14 ? (data[12]! << 8) | data[13]! : 0,
  ifindex: 1,
});

interface Tally {
  programs: number;
  runs: number;
  refused: number;
  diverged: number;
}

function check(prog: CbpfInsn[], packets: { data: Uint8Array; wireLen: number }[], tally: Tally, loopBound?: number): void {
  tally.programs++;
  for (const target of ALL_TARGETS) {
    let t: TranslateResult;
    try {
      t = translate(prog, { target, loopBound });
    } catch (e) {
      // Refusals are allowed only for the documented unsupported inputs.
      expect(e).toBeInstanceOf(PlaygroundError);
      expect((e as PlaygroundError).code).toBe("translate/unsupported");
      expect((e as PlaygroundError).message).toMatch(/cannot be translated|SKF_NET_OFF|SKF_LL_OFF/);
      tally.refused++;
      continue;
    }
    if (usesCpuOrRandom(prog)) continue;
    for (const p of packets) {
      tally.runs++;
      const got = runTranslated(t, p.data, p.wireLen);
      // Random loops may never end; 20k steps is far more than any finite run of these programs.
      const want = libpcapValue(prog, p.data, p.wireLen, 20_000);
      if (got === want) continue;
      const why = divergencesFor({ prog, target, packet: p.data, wireLen: p.wireLen, loopBound }).map((d) => d.id);
      if (why.length === 0) {
        throw new Error(`${target}: ebpf ${got} vs libpcap ${want} on [${Array.from(p.data).join(",")}] (wire ${p.wireLen}) for ${JSON.stringify(prog)}`);
      }
      tally.diverged++;
      if (why.includes("ancillary") && (target === "socket" || target === "tc") && !kernelDiffers(prog)) {
        const kernel = runFilter(prog, p.data, { semantics: "kernel", wireLen: p.wireLen, ctx: kernelCtx(p.data, p.wireLen) });
        expect({ target, got }).toEqual({ target, got: kernel });
      }
    }
  }
}

describe("translated eBPF agrees with cBPF on random programs", () => {
  it("kernel-valid programs, every target", () => {
    const tally: Tally = { programs: 0, runs: 0, refused: 0, diverged: 0 };
    fc.assert(
      fc.property(arbProgram(14).filter(kernelValid), fc.array(arbPacket, { minLength: 1, maxLength: 4 }), (prog, packets) => {
        check(prog, packets, tally);
      }),
      { numRuns: 400, seed: 0x7a11 },
    );
    // The generator must exercise the interesting paths, not just refusals.
    expect(tally.runs).toBeGreaterThan(2000);
    expect(tally.refused).toBeLessThan(tally.programs);
    if (process.env.TRANSLATE_TALLY) console.log("kernel-valid", tally);
  });

  it("programs with backward jumps (libpcap rules), unrolled", () => {
    const tally: Tally = { programs: 0, runs: 0, refused: 0, diverged: 0 };
    const withLoop = fc
      .tuple(arbProgram(10), fc.nat(), fc.nat())
      .map(([prog, at, back]) => {
        const n = prog.length;
        if (n < 3) return prog;
        const i = 1 + (at % (n - 2)); // not the final ret
        const target = back % (i + 1); // 0..i
        const out = prog.slice();
        out[i] = { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: (target - i - 1) >>> 0 };
        return out;
      })
      .filter((p) => validateProgram(p, "libpcap").length === 0);
    fc.assert(
      fc.property(withLoop, fc.array(arbPacket, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 3 }), (prog, packets, bound) => {
        check(prog, packets, tally, bound);
      }),
      { numRuns: 200, seed: 0xb4c4 },
    );
    expect(tally.runs).toBeGreaterThan(500);
    if (process.env.TRANSLATE_TALLY) console.log("loops", tally);
  });
});


