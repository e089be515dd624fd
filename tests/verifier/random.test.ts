/**
 * Random short programs over the whole instruction set the emulator models (ALU, loads, stores,
 * atomics, LD_ABS/LD_IND, jumps, calls, ld_imm64), each ending in `r0 = 0; exit`, loaded into the
 * kernel and emulated: the verdict, the errno and the normalised log must agree. Programs using
 * what the emulator reports as unsupported (subprograms, kfuncs, unmodelled helpers) are counted.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RawInsn } from "../../lib/ebpf/insn";
import { isPlaygroundError } from "../../lib/errors";
import { compareLogs, emulate, type ProgType } from "../../lib/verifier";
import { kernelLog } from "../support/kernel-log";
import { requires } from "../support/requires";

const CODES = [
  0x18, 0x81, 0x89, 0x91, 0xc3, 0x0d, 0x85, 0x97, 0x9f, 0x3f, 0x2f, 0x4f, 0x5f, 0x6f, 0x7f, 0xaf, 0xcf, 0x14, 0x1c, 0x24, 0x34, 0x44,
  0x64, 0x74, 0x84, 0x94, 0xa4, 0xc4, 0xd7, 0x06, 0x1e, 0x2e, 0x3e, 0x4e, 0x5e, 0x6e, 0x7e, 0xae, 0xbe, 0xce, 0xde, 0x07, 0x0f, 0x04,
  0x0c, 0x17, 0x1f, 0x27, 0x37, 0x47, 0x57, 0x54, 0x67, 0x77, 0x87, 0xa7, 0xb7, 0xbf, 0xb4, 0xbc, 0xc7, 0xdc, 0xd4, 0x61, 0x69, 0x71,
  0x79, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xdb, 0x20, 0x28, 0x30, 0x40, 0x48, 0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x45,
  0x55, 0x5d, 0x65, 0xa5, 0xad, 0xb5, 0xc5, 0xd5, 0x16, 0x56, 0x95,
];
const insn: fc.Arbitrary<RawInsn> = fc.record({
  code: fc.constantFrom(...CODES),
  dst: fc.integer({ min: 0, max: 10 }),
  src: fc.integer({ min: 0, max: 10 }),
  off: fc.oneof(fc.integer({ min: -16, max: 16 }), fc.integer({ min: -2, max: 3 })),
  imm: fc.oneof(fc.integer({ min: -8, max: 64 }), fc.constantFrom(0, 1, 2, 14, 26, 0x800)),
});
const TAIL: RawInsn[] = [
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];

describe.skipIf(!requires("random programs", "kernel"))("random programs: emulator vs kernel", () => {
  it("agree on verdict, errno and log", () => {
    const samples = fc.sample(fc.tuple(fc.array(insn, { minLength: 2, maxLength: 12 }), fc.constantFrom<ProgType>("socket", "tc", "xdp", "kprobe")), {
      numRuns: 800,
      seed: 2026,
    });
    let compared = 0;
    let unsupported = 0;
    let rejected = 0;
    const differences: string[] = [];
    for (const [body, type] of samples) {
      const prog = [...body, ...TAIL];
      let e;
      try {
        e = emulate(prog, { progType: type, trace: false });
      } catch (err) {
        if (!isPlaygroundError(err)) throw err;
        unsupported++;
        continue;
      }
      const k = kernelLog(prog, type);
      compared++;
      if (!k.accepted) rejected++;
      const c = compareLogs(k.log, e.text);
      if (k.accepted !== e.accepted || k.errno !== (e.errno ?? 0) || c.diff.length) {
        differences.push(`${type} ${JSON.stringify(prog)}\n  ${c.diff.slice(0, 4).join("\n  ")}`);
      }
    }
    console.log(`random programs: ${compared} compared (${rejected} rejected by the kernel), ${unsupported} unsupported, ${differences.length} differ`);
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(600);
  }, 300_000);
});
