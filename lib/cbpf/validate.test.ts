import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import type { CbpfInsn } from "./insn";
import { arbProgram, loadLibpcap, openKernelAttach } from "./testkit.node";
import { assertValid, validateProgram } from "./validate";
import { requires } from "../../tests/support/requires";

const I = (code: number, k = 0, jt = 0, jf = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });
const RET0 = I(0x06, 0);
const pcap = loadLibpcap();
const kernel = openKernelAttach();
afterAll(() => kernel?.close());

describe("validateProgram (kernel rules)", () => {
  const issues = (prog: CbpfInsn[]): string[] => validateProgram(prog, "kernel").map((i) => `${i.index}: ${i.message}`);

  it("accepts a plain filter and names the instruction in every complaint", () => {
    expect(issues([I(0x28, 12), I(0x15, 0x800, 0, 1), I(0x06, 1), RET0])).toEqual([]);
    expect(issues([I(0x48, 14), I(0x34, 0), I(0x74, 32), RET0])).toEqual([
      "1: insn 1 (div #0): division by the constant 0",
      "2: insn 2 (rsh #32): shift by 32: the kernel rejects constant shifts of 32 or more",
    ]);
  });

  it("checks length, opcodes, scratch indices, jumps, ancillary offsets and the final ret", () => {
    expect(issues([])).toEqual(["0: the program is empty: the kernel needs 1 to 4096 instructions"]);
    expect(issues(Array.from({ length: 4097 }, () => RET0))[0]).toBe(
      "4096: the program has 4097 instructions: the kernel accepts at most 4096",
    );
    expect(issues([I(0x21, 4), RET0])).toEqual(["0: insn 0 (unimp 0x21): opcode 0x21 is not a classic BPF instruction the kernel allows"]);
    expect(issues([I(0x60, 16), RET0])).toEqual(["0: insn 0 (ld M[16]): M[16] does not exist: scratch memory is M[0] to M[15]"]);
    expect(issues([I(0x06, 1), I(0x05, -2), RET0])).toEqual([
      "1: insn 1 (ja 0): ja jumps backwards (offset -2): the kernel allows forward jumps only",
    ]);
    expect(issues([I(0x05, 1), RET0])).toEqual(["0: insn 0 (ja 2): ja target 2 is past the last instruction (1)"]);
    expect(issues([I(0x15, 1, 1, 0), RET0])).toEqual(["0: insn 0 (jeq #0x1 jt 2 jf 1): jt target 2 is past the last instruction (1)"]);
    expect(issues([I(0x28, 0xfffff002), RET0])[0]).toMatch(/^0: insn 0 \(ldh \[-4094\]\): offset -4094 is in the ancillary range/);
    expect(issues([I(0x20, 0xfffff008), RET0])).toEqual([]);
    expect(issues([I(0x20, 0xffe00000), RET0])).toEqual([]);
    expect(issues([RET0, I(0x07)])).toEqual(["1: insn 1 (tax): the last instruction must be a ret"]);
  });

  it("finds scratch words read before any store, the way check_load_and_stores does", () => {
    // Stored on one branch only: rejected.
    expect(issues([I(0x15, 1, 0, 1), I(0x02, 3), I(0x60, 3), I(0x16)])).toEqual([
      "2: insn 2 (ld M[3]): M[3] may be read before it is written (a path reaches here without a store to it)",
    ]);
    // Stored before the branch: fine.
    expect(issues([I(0x02, 3), I(0x15, 1, 0, 1), I(0x04, 1), I(0x61, 3), I(0x16)])).toEqual([]);
  });

  it("assertValid throws a PlaygroundError positioned at the first bad instruction", () => {
    expect(() => assertValid([I(0x28, 12), RET0], "kernel")).not.toThrow();
    try {
      assertValid([I(0x28, 12), I(0x94, 0), I(0x60, 20), RET0], "kernel");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PlaygroundError);
      expect((e as PlaygroundError).position).toEqual({ kind: "insn", index: 1 });
      expect((e as PlaygroundError).message).toBe("insn 1 (mod #0): modulo by the constant 0 (and 1 more problem)");
    }
  });
});

describe("validateProgram (libpcap rules)", () => {
  it("allows what libpcap allows and the kernel does not", () => {
    // protochain-style backward ja, shift by 40, an unread scratch word, ldx [k] (0x21), ret x (0x0e)
    const prog = [I(0x06, 1), I(0x64, 40), I(0x60, 5), I(0x21, 3), I(0x05, -3), I(0x0e)];
    expect(validateProgram(prog, "libpcap")).toEqual([]);
    expect(validateProgram(prog, "kernel").length).toBeGreaterThan(0);
    // libpcap even accepts a ja to itself (an endless loop), but not one that leaves the program.
    expect(validateProgram([I(0x05, -1), RET0], "libpcap")).toEqual([]);
    expect(validateProgram([I(0x05, -2), RET0], "libpcap")).toEqual([
      { index: 0, message: "insn 0 (ja -1): ja target -1 is outside the program (0..1)" },
    ]);
  });
});

describe.skipIf(!requires("validateProgram vs bpf_validate", "libpcap"))("libpcap rules agree with libpcap's bpf_validate", () => {
  it("on random programs, well-formed and wild", () => {
    let valid = 0;
    fc.assert(
      fc.property(arbProgram({ maxLength: 10, wild: true }), (prog) => {
        const ours = validateProgram(prog, "libpcap").length === 0;
        expect(ours, JSON.stringify(prog)).toBe(pcap!.bpfValidate(prog));
        if (ours) valid++;
      }),
      { numRuns: 10000 },
    );
    expect(valid).toBeGreaterThan(500); // the comparison saw both verdicts
  });

  it("on every 16-bit opcode in a two-instruction program", () => {
    for (let code = 0; code <= 0xffff; code++) {
      for (const prog of [[I(code, 1), RET0], [I(code, 0, 0, 0), I(code, 20, 1, 1)]]) {
        const ours = validateProgram(prog, "libpcap").length === 0;
        if (ours !== pcap!.bpfValidate(prog)) expect(ours, `code 0x${code.toString(16)}`).toBe(pcap!.bpfValidate(prog));
      }
    }
  });
});

describe.skipIf(!requires("validateProgram vs SO_ATTACH_FILTER", "so-attach"))("kernel rules agree with the running kernel (SO_ATTACH_FILTER)", () => {
  it("on random programs, well-formed and wild", () => {
    let valid = 0;
    fc.assert(
      fc.property(arbProgram({ maxLength: 10, wild: true }), (prog) => {
        const ours = validateProgram(prog, "kernel").length === 0;
        const errno = kernel!.attach(prog);
        expect([0, 22], "errno").toContain(errno);
        expect(ours, JSON.stringify(prog)).toBe(errno === 0);
        if (ours) valid++;
      }),
      { numRuns: 4000 },
    );
    expect(valid).toBeGreaterThan(200);
  });

  it("on every 16-bit opcode, and on programs built to probe the scratch check", () => {
    for (let code = 0; code <= 0xffff; code++) {
      const prog = [I(code, 1), RET0];
      const ours = validateProgram(prog, "kernel").length === 0;
      const accepted = kernel!.attach(prog) === 0;
      if (ours !== accepted) expect(ours, `code 0x${code.toString(16)}`).toBe(accepted);
    }
    const scratchOps = [0x02, 0x03, 0x60, 0x61, 0x15, 0x05, 0x06, 0x16, 0x04];
    fc.assert(
      fc.property(arbProgram({ maxLength: 12, opcodes: scratchOps }), (prog) => {
        const p = prog.map((x) => (x.code === 0x05 || x.code === 0x15 || x.code === 0x06 || x.code === 0x04 ? x : { ...x, k: x.k % 4 }));
        expect(validateProgram(p, "kernel").length === 0, JSON.stringify(p)).toBe(kernel!.attach(p) === 0);
      }),
      { numRuns: 3000 },
    );
  });

  it("at the length limits", () => {
    expect(kernel!.attach([])).toBe(22);
    expect(validateProgram([], "kernel")).not.toEqual([]);
    const big = Array.from({ length: 4097 }, () => RET0);
    expect(kernel!.attach(big)).not.toBe(0);
    expect(validateProgram(big, "kernel")).not.toEqual([]);
  });
});
