/**
 * One hand-written wrong program per error class, loaded into the running kernel and emulated:
 * both must reject it with the same error text and the same errno. The expected message is never
 * typed here; it is whatever the kernel prints (the error lines between the last instruction and
 * the `processed` line), and the emulator must print the same.
 */
import { describe, expect, it } from "vitest";
import type { RawInsn } from "../../lib/ebpf/insn";
import { emulate, errorLines, logError, parseLog, type ProgType } from "../../lib/verifier";
import { kernelLog } from "../support/kernel-log";
import { requires } from "../support/requires";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ code, dst, src, off, imm });
const EXIT = I(0x95);
const R0_0 = I(0xb7, 0, 0, 0, 0);
/** xdp prologue: r2 = data, r3 = data_end, r4 = r2 + n, if r4 > r3 goto out */
const xdpGuard = (n: number, outSkip: number): RawInsn[] => [I(0x61, 2, 1, 0), I(0x61, 3, 1, 4), I(0xbf, 4, 2), I(0x07, 4, 0, 0, n), I(0x2d, 4, 3, outSkip)];

interface Case {
  name: string;
  type: ProgType;
  prog: RawInsn[];
}

const CASES: Case[] = [
  { name: "packet read beyond checked range", type: "xdp", prog: [...xdpGuard(14, 2), I(0x69, 5, 2, 14), R0_0, EXIT] },
  { name: "packet read without check", type: "xdp", prog: [I(0x61, 2, 1, 0), I(0x69, 0, 2, 12), EXIT] },
  { name: "uninitialised register", type: "socket", prog: [I(0xbf, 0, 3), EXIT] },
  { name: "exit without r0", type: "socket", prog: [I(0xb7, 1, 0, 0, 0), EXIT] },
  { name: "xdp ctx beyond xdp_md", type: "xdp", prog: [I(0x61, 2, 1, 64), R0_0, EXIT] },
  { name: "socket filter reads data", type: "socket", prog: [I(0x61, 2, 1, 76), R0_0, EXIT] },
  { name: "ctx narrow read of data", type: "tc", prog: [I(0x69, 2, 1, 76), R0_0, EXIT] },
  { name: "ctx write in xdp", type: "xdp", prog: [I(0x62, 1, 0, 0, 1), R0_0, EXIT] },
  { name: "modified ctx pointer", type: "xdp", prog: [I(0x07, 1, 0, 0, 4), I(0x61, 2, 1, 0), R0_0, EXIT] },
  { name: "stack write below frame", type: "socket", prog: [I(0x7a, 10, 0, -520, 0), R0_0, EXIT] },
  { name: "stack write above frame", type: "socket", prog: [I(0x7a, 10, 0, 8, 0), R0_0, EXIT] },
  { name: "misaligned stack access", type: "socket", prog: [I(0x62, 10, 0, -6, 0), R0_0, EXIT] },
  { name: "partial pointer fill", type: "socket", prog: [I(0x7b, 10, 1, -8), I(0x61, 2, 10, -8), R0_0, EXIT] },
  { name: "pointer spill of 4 bytes", type: "socket", prog: [I(0x63, 10, 1, -8), R0_0, EXIT] },
  { name: "scalar dereference", type: "socket", prog: [I(0xb7, 2, 0, 0, 100), I(0x71, 0, 2, 0), EXIT] },
  { name: "pkt_end dereference", type: "xdp", prog: [I(0x61, 3, 1, 4), I(0x71, 0, 3, 0), EXIT] },
  { name: "unreachable instruction", type: "socket", prog: [R0_0, EXIT, I(0xb7, 0, 0, 0, 1), EXIT] },
  { name: "jump out of range", type: "socket", prog: [I(0x05, 0, 0, 100), R0_0, EXIT] },
  { name: "last insn not exit", type: "socket", prog: [R0_0] },
  { name: "infinite loop", type: "socket", prog: [R0_0, I(0x05, 0, 0, -1)] },
  { name: "unknown helper", type: "socket", prog: [I(0x85, 0, 0, 0, 999), EXIT] },
  { name: "helper not allowed for type", type: "xdp", prog: [I(0x85, 0, 0, 0, 26), EXIT] },
  { name: "helper argument type", type: "socket", prog: [I(0xb7, 1, 0, 0, 0), I(0xb7, 2, 0, 0, 0), I(0xbf, 3, 10), I(0x07, 3, 0, 0, -8), I(0xb7, 4, 0, 0, 4), I(0x85, 0, 0, 0, 26), EXIT] },
  { name: "helper size zero", type: "socket", prog: [I(0xb7, 2, 0, 0, 0), I(0xbf, 3, 10), I(0x07, 3, 0, 0, -8), I(0xb7, 4, 0, 0, 0), I(0x85, 0, 0, 0, 26), EXIT] },
  { name: "helper size unbounded", type: "socket", prog: [I(0x61, 4, 1, 0), I(0xb7, 2, 0, 0, 0), I(0xbf, 3, 10), I(0x07, 3, 0, 0, -8), I(0x85, 0, 0, 0, 26), EXIT] },
  { name: "helper stack buffer out of frame", type: "socket", prog: [I(0xb7, 2, 0, 0, 0), I(0xbf, 3, 10), I(0x07, 3, 0, 0, -8), I(0xb7, 4, 0, 0, 16), I(0x85, 0, 0, 0, 26), EXIT] },
  { name: "r1 clobbered by call", type: "socket", prog: [I(0x85, 0, 0, 0, 7), I(0x61, 0, 1, 0), EXIT] },
  { name: "pointer arithmetic on pkt_end", type: "xdp", prog: [I(0x61, 3, 1, 4), I(0x07, 3, 0, 0, 1), R0_0, EXIT] },
  { name: "32-bit pointer arithmetic", type: "xdp", prog: [I(0x61, 2, 1, 0), I(0x04, 2, 0, 0, 1), R0_0, EXIT] },
  { name: "pointer plus pointer", type: "xdp", prog: [I(0x61, 2, 1, 0), I(0x0f, 2, 1), R0_0, EXIT] },
  { name: "bitwise op on pointer", type: "xdp", prog: [I(0x61, 2, 1, 0), I(0x57, 2, 0, 0, 1), R0_0, EXIT] },
  { name: "subtract from stack pointer", type: "socket", prog: [I(0x61, 3, 1, 0), I(0xbf, 2, 10), I(0x1f, 2, 3), R0_0, EXIT] },
  { name: "division by constant zero", type: "socket", prog: [I(0xb7, 0, 0, 0, 1), I(0x37, 0, 0, 0, 0), EXIT] },
  { name: "invalid shift", type: "socket", prog: [I(0xb7, 0, 0, 0, 1), I(0x67, 0, 0, 0, 64), EXIT] },
  { name: "write to frame pointer", type: "socket", prog: [I(0xb7, 10, 0, 0, 0), R0_0, EXIT] },
  { name: "LD_ABS in xdp", type: "xdp", prog: [I(0xbf, 6, 1), I(0x28, 0, 0, 0, 12), EXIT] },
  { name: "LD_ABS without ctx in r6", type: "socket", prog: [I(0xb7, 6, 0, 0, 0), I(0x28, 0, 0, 0, 12), EXIT] },
  { name: "reserved fields", type: "socket", prog: [I(0xb7, 0, 1, 0, 0), EXIT] },
  { name: "unknown opcode", type: "socket", prog: [I(0xff), EXIT] },
  { name: "negative packet offset", type: "xdp", prog: [...xdpGuard(14, 4), I(0xb7, 5, 0, 0, -1), I(0x0f, 2, 5), I(0x71, 0, 2, 0), EXIT, R0_0, EXIT] },
  { name: "unbounded offset then read", type: "xdp", prog: [...xdpGuard(20, 8), I(0x61, 6, 2, 14), I(0xbf, 7, 2), I(0x0f, 7, 6), I(0xbf, 8, 7), I(0x07, 8, 0, 0, 2), I(0x2d, 8, 3, 2), I(0x69, 0, 7, 0), EXIT, R0_0, EXIT] },
  { name: "packet write in socket filter", type: "tc", prog: [...xdpGuard(14, 2), I(0x72, 2, 0, 0, 1), R0_0, EXIT].map((x, i) => (i === 0 ? I(0x61, 2, 1, 76) : i === 1 ? I(0x61, 3, 1, 80) : x)) },
];

/** The error lines of a log, as lib/verifier's analyzer finds them. */
const errorText = (log: string): string =>
  errorLines(parseLog(log))
    .map((l) => l.raw)
    .join("\n");

const enabled = requires("verifier error classes", "kernel");

describe.skipIf(!enabled)("error classes: emulator vs kernel", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const k = kernelLog(c.prog, c.type);
      const e = emulate(c.prog, { progType: c.type });
      expect(k.accepted, k.log).toBe(false);
      expect(e.accepted, e.text).toBe(false);
      expect(e.errno).toBe(k.errno);
      expect(errorText(e.text)).toBe(errorText(k.log));
      expect(logError(parseLog(k.log))?.message).toBe(e.error?.message);
      expect(e.error?.explanation.key, e.error?.message).not.toBe("other");
    });
  }
  it("covers at least 30 classes", () => expect(CASES.length).toBeGreaterThanOrEqual(30));
});
