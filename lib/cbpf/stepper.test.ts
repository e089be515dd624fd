import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import type { CbpfInsn } from "./insn";
import { compileFilter, runFilter } from "./interpret";
import type { CbpfSemantics, CbpfSkbContext } from "./semantics";
import { createStepper } from "./stepper";
import { arbPacket, arbProgram } from "./testkit.node";

const I = (code: number, k = 0, jt = 0, jf = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });

/** The value, or the error code, of running a program some way. */
function outcome(run: () => number): number | string {
  try {
    return run();
  } catch (e) {
    if (e instanceof PlaygroundError) return e.code;
    throw e;
  }
}

const arbCtx: fc.Arbitrary<CbpfSkbContext> = fc.record(
  {
    protocol: fc.integer({ min: 0, max: 0xffff }),
    pkttype: fc.integer({ min: 0, max: 7 }),
    ifindex: fc.nat(),
    noDevice: fc.boolean(),
    mark: fc.nat(),
    vlanTci: fc.integer({ min: 0, max: 0xffff }),
    vlanPresent: fc.boolean(),
    networkOffset: fc.integer({ min: 0, max: 40 }),
    len: fc.nat(2000),
  },
  { requiredKeys: [] },
);

describe("stepper", () => {
  it("agrees with runFilter, the generated code and the interpreter on random programs (property)", () => {
    fc.assert(
      fc.property(
        arbProgram({ maxLength: 14, wild: true }),
        arbPacket,
        fc.constantFrom<CbpfSemantics>("libpcap", "kernel"),
        arbCtx,
        (prog, packet, semantics, ctx) => {
          const opts = { semantics, ctx, maxSteps: 5000 };
          const expected = outcome(() => runFilter(prog, packet, opts));
          expect(outcome(() => compileFilter(prog, opts)(packet))).toBe(expected);
          expect(outcome(() => compileFilter(prog, { ...opts, jit: false })(packet))).toBe(expected);
          const s = createStepper(prog, packet, { semantics, ctx });
          s.run(undefined, 5000);
          const st = s.state;
          const got = st.error !== undefined ? "cbpf/trap" : st.done ? st.returnValue : "cbpf/step-limit";
          expect(got).toBe(expected);
          // Each step starts from the registers the previous one left.
          for (let i = 1; i < s.history.length; i++) expect(s.history[i]!.before).toEqual(s.history[i - 1]!.after);
        },
      ),
      { numRuns: 1200 },
    );
  });

  const frame = new Uint8Array(34);
  frame.set([0x08, 0x00, 0x45], 12);
  frame[23] = 6;
  const prog = [
    I(0x28, 12), // 0 ldh [12]
    I(0x15, 0x800, 0, 4), // 1 jeq #0x800
    I(0xb1, 14), // 2 ldxb 4*([14]&0xf)
    I(0x02, 1), // 3 st M[1]
    I(0x50, 30), // 4 ldb [x + 30]   (byte 50: out of bounds on a 34-byte frame)
    I(0x06, 65535), // 5
    I(0x06, 0), // 6
  ];

  it("records registers, packet reads and notes, step by step", () => {
    const s = createStepper(prog, frame);
    const r0 = s.step()!;
    expect(r0).toMatchObject({ pc: 0, reads: [{ offset: 12, size: 2 }], nextPc: 1, after: { A: 0x800, X: 0 } });
    expect(s.step()!.nextPc).toBe(2);
    const r2 = s.step()!;
    expect(r2.reads).toEqual([{ offset: 14, size: 1 }]);
    expect(r2.after.X).toBe(20);
    s.step();
    expect(s.state.Minit[1]).toBe(true);
    expect(s.state.M[1]).toBe(0x800);
    const r4 = s.step()!;
    expect(r4.reads).toEqual([]);
    expect(r4.note).toBe("out of bounds: reads bytes 50..50 of a 34-byte packet, so the filter returns 0");
    expect(s.state).toMatchObject({ done: true, returnValue: 0, stepCount: 5 });
    expect(s.step()).toBeUndefined();
    expect(runFilter(prog, frame)).toBe(0);
  });

  it("steps back, resets, and stops at breakpoints", () => {
    const s = createStepper(prog, frame);
    s.run(new Set([3]));
    expect(s.state.pc).toBe(3);
    expect(s.state.stepCount).toBe(3);
    s.step();
    expect(s.state.Minit[1]).toBe(true);
    expect(s.stepBack()).toBe(true);
    expect(s.state).toMatchObject({ pc: 3, stepCount: 3, done: false });
    expect(s.state.Minit[1]).toBe(false);
    s.run();
    expect(s.state.done).toBe(true);
    expect(s.stepBack()).toBe(true);
    expect(s.state.done).toBe(false);
    expect(s.state.returnValue).toBeNull();
    s.reset();
    expect(s.state).toMatchObject({ pc: 0, A: 0, X: 0, stepCount: 0, done: false });
    while (s.stepBack());
    expect(s.history).toHaveLength(0);
  });

  it("explains libpcap/kernel differences and early returns", () => {
    const shift = [I(0x01, 33), I(0x00, 3), I(0x6c), I(0x16)];
    expect(createStepper(shift, frame).run()[2]!.note).toMatch(/^shift by 33 \(>= 32\): libpcap gives 0/);
    expect(createStepper(shift, frame, { semantics: "kernel" }).run()[2]!.note).toMatch(/the kernel shifts by 33 & 31 = 1/);

    const wrap = [I(0x01, 0xffffffff), I(0x50, 13), I(0x16)];
    const w = createStepper(wrap, frame, { semantics: "kernel" }).run();
    expect(w[1]!.reads).toEqual([{ offset: 12, size: 1 }]);
    expect(w[1]!.note).toMatch(/X \+ k wraps around 2\^32 to 12/);

    const anc = [I(0x20, 0xfffff008), I(0x16)];
    expect(createStepper(anc, frame).run()[0]!.note).toMatch(/^ancillary load: libpcap's userland interpreter/);
    expect(createStepper(anc, frame, { semantics: "kernel", ctx: { ifindex: 7 } }).run()[0]!.note).toBe(
      "ancillary [ifidx] = 7 (from the skb context)",
    );
    expect(createStepper(anc, frame, { semantics: "kernel", ctx: { noDevice: true } }).run()[0]!.note).toMatch(/no device/);

    expect(createStepper([I(0x3c), I(0x06, 1)], frame).run()[0]!.note).toBe("division by zero: the filter returns 0");
    expect(createStepper([I(0x60, 2), I(0x16)], frame).run()[0]!.note).toMatch(/^M\[2\] is read before any store/);
    expect(createStepper([I(0x38), I(0x16)], frame).run()[0]!.note).toMatch(/opcode 0x38/);
    expect(createStepper([I(0x38), I(0x16)], frame).state.returnValue).toBeNull();
    const ll = createStepper([I(0x30, 0xffe00002), I(0x16)], frame, { semantics: "kernel" }).run();
    expect(ll[0]!.note).toBe("offset -2097150 resolves to packet byte 2");
  });
});
