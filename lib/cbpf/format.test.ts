import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import { describeInsn, formatInsn, formatProgram } from "./format";
import type { CbpfInsn } from "./insn";
import { loadLibpcap } from "./testkit.node";
import { requires } from "../../tests/support/requires";

const pcap = loadLibpcap();
const withLibpcap = requires("formatInsn vs bpf_image", "libpcap");

describe("formatInsn against libpcap's own bpf_image", () => {
  it.skipIf(!withLibpcap)("matches for every 16-bit opcode", () => {
    // Each opcode with operands that reach the printer's special cases: a negative k, an
    // ancillary offset, a large index, targets in jumps.
    const samples: Array<[number, number, number, number]> = [
      [0, 0, 0, 0],
      [0xfffff008, 3, 200, 7],
      [0xfffffff0, 255, 1, 1000],
      [0xfffff03c, 0, 0, 12345],
    ];
    let mismatches = 0;
    for (let code = 0; code <= 0xffff; code++) {
      for (const [k, jt, jf, n] of samples) {
        const insn = { code, jt, jf, k };
        if (formatInsn(insn, n) !== pcap!.bpfImage(insn, n)) {
          mismatches++;
          expect(formatInsn(insn, n), `code 0x${code.toString(16)} k=${k} n=${n}`).toBe(pcap!.bpfImage(insn, n));
        }
      }
    }
    expect(mismatches).toBe(0);
  });

  it.skipIf(!withLibpcap)("matches on random known instructions and positions", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x05, 0x06, 0x15, 0x25, 0x35, 0x45, 0x04, 0x14, 0x24, 0x34, 0x54, 0x64, 0x94, 0xa4, 0x00, 0x01, 0xb1, 0x60, 0x02),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 99999 }),
        (code, k, jt, jf, n) => {
          const insn = { code, jt, jf, k };
          expect(formatInsn(insn, n)).toBe(pcap!.bpfImage(insn, n));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe("formatProgram", () => {
  const prog: CbpfInsn[] = [
    { code: 0x28, jt: 0, jf: 0, k: 12 },
    { code: 0x15, jt: 0, jf: 1, k: 0x800 },
    { code: 0x06, jt: 0, jf: 0, k: 262144 },
    { code: 0x06, jt: 0, jf: 0, k: 0 },
  ];

  it("prints the three tcpdump forms with their trailing newlines", () => {
    // The layouts of bpf_dump: "%d\n" then "%u %u %u %u\n"; and "{ 0x%x, %d, %d, 0x%08x },\n".
    expect(formatProgram(prog, "ddd")).toBe("4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n");
    expect(formatProgram(prog, "dd").split("\n")[1]).toBe("{ 0x15, 0, 1, 0x00000800 },");
    expect(formatProgram(prog, "d").endsWith("(003) ret      #0\n")).toBe(true);
    expect(formatProgram([], "ddd")).toBe("0\n");
    expect(formatProgram([], "d")).toBe("");
  });

  it("rejects an unknown style with a PlaygroundError", () => {
    expect(() => formatProgram(prog, "x" as "d")).toThrow(PlaygroundError);
  });

  it("describes instructions for messages without index or padding", () => {
    expect(describeInsn(prog[1]!, 1)).toBe("jeq #0x800 jt 2 jf 3");
    expect(describeInsn({ code: 0x07, jt: 0, jf: 0, k: 0 }, 0)).toBe("tax");
    expect(describeInsn({ code: 0x48, jt: 0, jf: 0, k: 14 }, 5)).toBe("ldh [x + 14]");
  });
});
