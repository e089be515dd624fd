/**
 * The divergence table against the real machines: each run-time entry is demonstrated by a
 * program that libpcap's bpf_filter and the kernel's socket filter answer differently, with our
 * two semantics matching their oracle; each load-time entry by a program bpf_validate accepts and
 * the kernel refuses. A property check then shows the table is complete for our executors:
 * whenever the two semantics disagree, the run hit a listed divergence.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIVERGENCES, divergencesHitByProgram, divergencesHitByStep } from "./divergences";
import type { CbpfInsn } from "./insn";
import { runFilter } from "./interpret";
import type { CbpfSkbContext } from "./semantics";
import { createStepper } from "./stepper";
import {
  arbPacket,
  arbProgram,
  kernelRun,
  loadLibpcap,
  openKernelAttach,
  type KernelRunResult,
} from "./testkit.node";
import { validateProgram } from "./validate";
import { requires } from "../../tests/support/requires";

const I = (code: number, k = 0, jt = 0, jf = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });
const pcap = loadLibpcap();
const attach = openKernelAttach();
afterAll(() => attach?.close());

/** A 60-byte frame to lo's MAC with recognisable bytes. */
const frame = Uint8Array.from({ length: 60 }, (_, i) => (i < 6 ? 0 : (i * 7 + 3) & 0xff));
frame[12] = 0x08;
frame[13] = 0x00;
/** The kernel's view of that frame coming back in on lo. */
const loCtx: CbpfSkbContext = { pkttype: 0, ifindex: 1, hatype: 772, protocol: 0x0800, networkOffset: 14 };

/** Run-time demonstrations: programs ending in `ret a`, so the value is observable (< 60). */
const RUN_DEMOS: Record<string, { prog: CbpfInsn[]; wireLen?: number; kernelCtx?: CbpfSkbContext }> = {
  "shift-x-ge-32": { prog: [I(0x01, 35), I(0x00, 3), I(0x6c), I(0x16)] },
  "ind-wrap": { prog: [I(0x01, 0xfffffff0), I(0x50, 0x15), I(0x54, 0x1f), I(0x04, 1), I(0x16)] },
  "negative-offset": { prog: [I(0x30, 0xfff00003), I(0x54, 0x1f), I(0x04, 1), I(0x16)] },
  ancillary: { prog: [I(0x20, 0xfffff01c), I(0x74, 6), I(0x16)] },
  len: { prog: [I(0x80), I(0x16)], wireLen: 1500, kernelCtx: { ...loCtx, len: 60 } },
};

describe("divergence table", () => {
  it("has unique ids, full descriptions and a predicate for each entry", () => {
    expect(new Set(DIVERGENCES.map((d) => d.id)).size).toBe(DIVERGENCES.length);
    for (const d of DIVERGENCES) {
      expect(d.title && d.libpcap && d.kernel && d.cases, d.id).toBeTruthy();
      expect(d.when === "run" ? d.hitByStep : d.hitByProgram, d.id).toBeTypeOf("function");
    }
    expect(Object.keys(RUN_DEMOS).sort()).toEqual(DIVERGENCES.filter((d) => d.when === "run").map((d) => d.id).sort());
  });
});

describe.skipIf(!requires("run-time divergences", "libpcap", "netns"))("run-time divergences, shown on libpcap and on the kernel", () => {
  let kernel: KernelRunResult[] = [];
  const ids = Object.keys(RUN_DEMOS);
  beforeAll(() => {
    kernel = kernelRun(ids.map((id) => ({ prog: RUN_DEMOS[id]!.prog, packet: frame })));
  });

  for (const id of ids) {
    it(id, () => {
      const { prog, wireLen = frame.length, kernelCtx = loCtx } = RUN_DEMOS[id]!;
      const libpcapValue = pcap!.bpfFilter(prog, frame, wireLen);
      const kernelSeen = kernel[ids.indexOf(id)]!.incoming; // min(value, 60), -1 = dropped
      const oursLibpcap = runFilter(prog, frame, { wireLen, semantics: "libpcap" });
      const oursKernel = runFilter(prog, frame, { wireLen, semantics: "kernel", ctx: kernelCtx });
      expect(oursLibpcap).toBe(libpcapValue);
      expect(oursKernel === 0 ? -1 : Math.min(oursKernel, frame.length)).toBe(kernelSeen);
      expect(oursKernel).not.toBe(oursLibpcap);
      // The stepper flags the step that diverges.
      const steps = createStepper(prog, frame, { wireLen }).run();
      expect(steps.some((s) => divergencesHitByStep({ insn: s.insn, A: s.before.A, X: s.before.X }).includes(id))).toBe(true);
    });
  }
});

describe.skipIf(!requires("load-time divergences", "libpcap", "so-attach"))("load-time divergences, shown on bpf_validate and SO_ATTACH_FILTER", () => {
  const LOAD_DEMOS: Record<string, CbpfInsn[]> = {
    "scratch-uninitialised": [I(0x60, 4), I(0x16)],
    "backward-ja": [I(0x00, 1), I(0x15, 1, 1, 0), I(0x05, -3), I(0x16)],
    "shift-k-ge-32": [I(0x00, 1), I(0x64, 40), I(0x16)],
    "opcode-check": [I(0x21, 4), I(0x16)],
    "ancillary-offset-check": [I(0x20, 0xfffff040), I(0x16)],
    "max-length": Array.from({ length: 4097 }, () => I(0x06, 1)),
  };

  it("lists exactly these", () => {
    expect(Object.keys(LOAD_DEMOS).sort()).toEqual(DIVERGENCES.filter((d) => d.when === "load").map((d) => d.id).sort());
  });

  for (const [id, prog] of Object.entries(LOAD_DEMOS)) {
    it(id, () => {
      expect(pcap!.bpfValidate(prog)).toBe(true);
      expect(attach!.attach(prog)).not.toBe(0);
      expect(validateProgram(prog, "libpcap")).toEqual([]);
      expect(validateProgram(prog, "kernel")).not.toEqual([]);
      expect(divergencesHitByProgram(prog)).toContain(id);
    });
  }
});

describe("completeness", () => {
  it("whenever libpcap and kernel semantics disagree, the run hit a listed divergence (property)", () => {
    let disagreements = 0;
    fc.assert(
      fc.property(arbProgram({ maxLength: 12 }), arbPacket, (prog, packet) => {
        const run = (semantics: "libpcap" | "kernel"): number | string => {
          try {
            return runFilter(prog, packet, { semantics, maxSteps: 2000 });
          } catch (e) {
            return String(e);
          }
        };
        if (run("libpcap") === run("kernel")) return;
        disagreements++;
        const hits = (["libpcap", "kernel"] as const).flatMap((semantics) =>
          createStepper(prog, packet, { semantics })
            .run(undefined, 2000)
            .flatMap((s) => divergencesHitByStep({ insn: s.insn, A: s.before.A, X: s.before.X })),
        );
        expect(hits.length, JSON.stringify(prog)).toBeGreaterThan(0);
      }),
      { numRuns: 8000 },
    );
    expect(disagreements).toBeGreaterThan(10); // the property was exercised, not vacuous
  });
});
