/**
 * The splice relies on the stub's own body being the ABI's epilogue: entered with
 * r1 = r2 = r3 = r5 = 0 and r4 = the filter's value, it must return 1 for a non-zero value and 0
 * for zero (PLAYGROUND_STUB_BODY, pwru's `data != data_end && …`). A user's stub with another
 * body would turn every verdict into whatever that body computes, so the body is run on
 * lib/ebpf's interpreter with those registers before anything is spliced. It must also read all
 * of r1..r5: clang drops an argument a static function never uses and passes the next one in its
 * register (data_end arrives in r4 when `data` is unused), so a body that ignores one of them
 * says nothing about where the packet bounds are.
 */
import { mov64Imm, rawFromDecoded, runProgram, assemble, type RawInsn } from "../ebpf";
import { BPF_ALU, BPF_ALU64, BPF_CALL, BPF_EXIT, BPF_JMP, BPF_JMP32, BPF_LDX, BPF_MOV, BPF_ST, BPF_STX, BPF_X, opClass, opSource, type DecodedInsn } from "../ebpf";
import type { BpfObject } from "../elf";
import { refuse } from "./refuse";
import type { StubInfo } from "./types";

/** Values a filter leaves: libpcap's match value (the snaplen), a small one, and no match. */
const PROBES: readonly [number, number][] = [
  [262144, 1],
  [1, 1],
  [0, 0],
];

/** Null when the body behaves as the epilogue; a note when it cannot be run alone (calls, maps). */
export function checkStubBody(obj: BpfObject, stub: StubInfo): string | null {
  const prog = obj.programs.find((p) => p.sectionIndex === stub.sectionIndex)!;
  const body = prog.insns.filter((d) => d.index >= stub.start && d.index < stub.start + stub.slots);
  const relocated = prog.relocations.some((r) => {
    const slot = Number(r.offset / 8n);
    return slot >= stub.start && slot < stub.start + stub.slots;
  });
  const calls = body.some((d) => (opClass(d.code) === BPF_JMP || opClass(d.code) === BPF_JMP32) && (d.code & 0xf0) === BPF_CALL);
  if (relocated || calls) return `${stub.name}'s body calls functions or uses maps, so it was not checked to return result != 0`;
  const read = new Set(body.flatMap(readsOf));
  const unread = [1, 2, 3, 4, 5].filter((r) => !read.has(r));
  if (unread.length > 0) {
    throw refuse(
      "stub-signature",
      `${stub.name}'s body never reads ${unread.map((r) => `r${r}`).join(", ")}: clang drops an argument a static function does not use and passes the next one in its place, so r4 and r5 may not hold data and data_end; use every argument (PLAYGROUND_STUB_BODY)`,
      { kind: "insn", index: stub.start },
    );
  }
  const raw: readonly RawInsn[] = rawFromDecoded(body);
  for (const [r4, want] of PROBES) {
    const entry = assemble([mov64Imm("r1", 0), mov64Imm("r2", 0), mov64Imm("r3", 0), mov64Imm("r4", r4), mov64Imm("r5", 0)]).raw;
    const run = runProgram([...entry, ...raw], { kind: "xdp", packet: new Uint8Array(64) }, { maxSteps: 10_000 });
    if (run.fault || run.r0 !== want) {
      const got = run.fault ? `faults (${run.fault.kind})` : `returns ${String(run.r0)}`;
      throw refuse(
        "stub-signature",
        `${stub.name}'s body ${got} when entered with r4 = ${r4} and r1 = r2 = r3 = r5 = 0, where the stub ABI's body returns ${want}: the spliced filter falls through into it, so it must be PLAYGROUND_STUB_BODY (data != data_end && a == b && b == c)`,
        { kind: "insn", index: stub.start },
      );
    }
  }
  return null;
}

/** Registers an instruction reads (calls are excluded before this is asked). */
function readsOf(d: DecodedInsn): number[] {
  const cls = opClass(d.code);
  const x = opSource(d.code) === BPF_X;
  if (cls === BPF_ALU || cls === BPF_ALU64) return (d.code & 0xf0) === BPF_MOV ? (x ? [d.src] : []) : x ? [d.dst, d.src] : [d.dst];
  if (cls === BPF_LDX) return [d.src];
  if (cls === BPF_STX) return [d.dst, d.src];
  if (cls === BPF_ST) return [d.dst];
  if (cls === BPF_JMP || cls === BPF_JMP32) {
    if ((d.code & 0xf0) === BPF_EXIT) return [0];
    return x ? [d.dst, d.src] : [d.dst];
  }
  return [];
}
