/**
 * The splice (pwru's prepend pattern, docs/translation-and-injection.md §5.2): the translated
 * filter goes in before the stub's first instruction and ends in an epilogue that sets
 * r1 = r2 = r3 = r5 = 0 and r4 = result, then falls through into the stub's old body, which with
 * those values returns result != 0. Inserting at a function start means no jump crosses the
 * splice; lib/elf's replaceInstructions moves calls, relocations, symbols and .BTF.ext.
 */
import { assemble, label, mov64Imm, mov64Reg, type AsmItem } from "../ebpf";
import { extInfoProblems, readBpfObject, replaceInstructions, writeBpfObject, type BpfObject } from "../elf";
import { isPlaygroundError } from "../errors";
import { translate, type TranslateAbi, type TranslateResult } from "../translate";
import { checkStubBody } from "./body";
import { accessReason, sectionAccess, type SectionAccess } from "./access";
import { entrySectionsReaching } from "./calls";
import { linkTypeOf } from "./hosts";
import { refuse } from "./refuse";
import { MAX_BPF_STACK, stackThroughStub } from "./stack";
import { findStubs, resolveStub } from "./stubs";
import { objectStreams } from "./streams";
import type { InjectRequest, InjectResult, StubInfo } from "./types";

const LINK_NAMES: Record<number, string> = { 1: "EN10MB (Ethernet)", 12: "RAW (IP)" };
const linkName = (lt: number) => LINK_NAMES[lt] ?? `link type ${lt}`;

export function injectFilter(req: InjectRequest): InjectResult {
  const obj = req.object instanceof Uint8Array ? readBpfObject(req.object) : req.object;
  const stub = resolveStub(obj, req.stub);
  const want = linkTypeOf(stub.layer);
  if (req.linkType !== want) {
    throw refuse(
      "wrong-layer",
      `${stub.name} is an ${stub.layer.toUpperCase()} stub (data points at the ${stub.layer === "l2" ? "Ethernet" : "IP"} header), but the filter was compiled for ${linkName(req.linkType)}; compile it for ${linkName(want)}`,
    );
  }
  const access = pickAccess(obj, stub);
  const notes: string[] = [];
  const unchecked = checkStubBody(obj, stub);
  if (unchecked) notes.push(unchecked);

  const prefix = `inj_${stub.name}`;
  const resultLabel = `${prefix}_result`;
  let translation: TranslateResult;
  try {
    translation = translate(req.cbpf, { target: access.target, mode: "body", resultLabel, labelPrefix: prefix, abi: stubAbi(access) });
  } catch (e) {
    if (isPlaygroundError(e) && e.code === "translate/jump-range") throw refuse("range", e.message, e.position);
    if (isPlaygroundError(e) && e.code === "translate/stack") throw refuse("stack", e.message, e.position);
    throw e;
  }
  const { items, epilogueSlots } = withEpilogue(translation, resultLabel);
  let program;
  try {
    program = assemble(items);
  } catch (e) {
    if (isPlaygroundError(e) && /outside|fit/.test(e.message)) throw refuse("range", `the spliced filter does not assemble: ${e.message}`);
    throw e;
  }
  const bodySlots = translation.program.slots - 1; // without the translator's stand-in exit
  const cbpfOfSlot = [...translation.cbpfOfSlot.slice(0, bodySlots), ...Array<null>(epilogueSlots).fill(null)];

  // The stub's frame holds the filter's stack first and its own body's after; the larger counts.
  const own = stackThroughStub(obj, stub.sectionIndex, stub.start, 0);
  const stack = stackThroughStub(obj, stub.sectionIndex, stub.start, translation.stackDepth);
  if (stack.combined > MAX_BPF_STACK) {
    throw refuse(
      "stack",
      `the filter needs ${translation.stackDepth} bytes of stack in ${stub.name}, and the call chain ${stack.chain.join(" → ")} would then use ${stack.combined} bytes (${own.combined} without the filter); the kernel allows ${MAX_BPF_STACK}`,
    );
  }

  let patched: BpfObject;
  try {
    patched = replaceInstructions(obj, stub.sectionIndex, stub.start, 0, program.raw);
  } catch (e) {
    if (isPlaygroundError(e) && /does not fit 16 bits/.test(e.message)) throw refuse("range", e.message, e.position);
    throw e;
  }
  const problems = extInfoProblems(patched);
  if (problems.length > 0) throw refuse("ext-info", `the patched object breaks the kernel's func_info/line_info rules: ${problems.map((p) => p.message).join("; ")}`);

  const inserted = { sectionIndex: stub.sectionIndex, start: stub.start, slots: program.slots };
  const moved = new Map<number, (number | null)[]>();
  for (const p of obj.programs) {
    const slots = p.insns.reduce((n, d) => n + d.slots, 0);
    const shift = p.sectionIndex === stub.sectionIndex;
    moved.set(p.sectionIndex, Array.from({ length: slots }, (_, s) => (shift && s >= stub.start ? s + program.slots : s)));
  }
  const before = objectStreams(obj);
  const after = objectStreams(patched, (sec, slot) =>
    sec === inserted.sectionIndex && slot >= inserted.start && slot < inserted.start + inserted.slots ? cbpfOfSlot[slot - inserted.start]! : undefined,
  );

  notes.push(`${stub.name}: ${program.slots} instructions spliced before its first (${translation.stats.cbpfLength} cBPF instructions; stack ${translation.stackDepth} bytes, call chain ${stack.combined} of ${MAX_BPF_STACK})`);
  for (const other of findStubs(obj)) {
    if (other.name !== stub.name && other.calls.length > 0) notes.push(`${other.name} is not changed by this splice: unless it is patched too, it accepts every packet that reaches it`);
  }
  if (access.mode === "probe_read_kernel") notes.push("packet bytes are read from the skb's linear area only (data .. data_end); the sk_buff offsets are this kernel's (Linux 6.18 x86_64), not CO-RE relocated");
  notes.push(...translation.notes);

  return {
    object: patched,
    bytes: writeBpfObject(patched),
    stub,
    access: { mode: access.mode, reason: access.reason },
    translation,
    before,
    after,
    moved,
    inserted,
    notes,
  };
}

/**
 * The stub's register convention: r4/r5 hold the packet bounds and r1 the context (the ABI passes
 * the host's ctx, or skb, as the first argument), so the filter may read context fields
 * (`ifindex`, `len` on tc). In direct mode that moves X off r1; r6..r9 are free at a function's
 * entry (each frame has its own, and they are uninitialised there).
 */
function stubAbi(access: SectionAccess): Partial<TranslateAbi> {
  if (access.mode === "direct") return { ctx: "r1", packetStart: "r4", packetEnd: "r5", a: "r0", x: "r2", tmp: "r3", ind: "r6", result: "r0" };
  return { ctx: "r1", packetStart: "r4", packetEnd: "r5" };
}

/** The filter's items with pwru's result epilogue at the result label in place of the stand-in exit. */
function withEpilogue(t: TranslateResult, resultLabel: string): { items: AsmItem[]; epilogueSlots: number } {
  const r = t.abi.result;
  const meta = { origin: "epilogue", note: "r4 = result, r1 = r2 = r3 = r5 = 0: the stub's body returns result != 0" };
  const epilogue = [r === "r4" ? null : mov64Reg("r4", r), mov64Imm("r1", 0), mov64Imm("r2", 0), mov64Imm("r3", 0), mov64Imm("r5", 0)]
    .filter((x) => x !== null)
    .map((insn) => ({ ...insn, meta }));
  return { items: [...t.insns, label(resultLabel), ...epilogue], epilogueSlots: epilogue.length };
}

function pickAccess(obj: BpfObject, stub: StubInfo): SectionAccess & { reason: string } {
  const entries = [...entrySectionsReaching(obj, stub.sectionIndex, stub.start)].map((i) => obj.programs.find((p) => p.sectionIndex === i)!.name);
  if (entries.length === 0) {
    throw refuse("stub-not-called", `no program section reaches ${stub.name}: it is called only from functions nothing calls, so the filter would never run`);
  }
  const modes = entries.map((name) => ({ name, access: sectionAccess(name) }));
  const unknown = modes.filter((m) => m.access === null);
  if (unknown.length > 0) {
    throw refuse(
      "unsupported-program",
      `${stub.name} runs in section "${unknown[0]!.name}", a program type none of the access modes serves (direct: xdp, tc; bpf_probe_read_kernel: raw_tp, tp_btf, fentry, kprobe; bpf_skb_load_bytes: socket, cgroup_skb)`,
    );
  }
  const first = modes[0]!;
  const clash = modes.find((m) => m.access!.mode !== first.access!.mode || m.access!.target !== first.access!.target);
  if (clash) {
    throw refuse("unsupported-program", `${stub.name} is called from "${first.name}" (${first.access!.mode}) and from "${clash.name}" (${clash.access!.mode}); one splice cannot serve both`);
  }
  return { ...first.access!, reason: accessReason(first.name, first.access!) };
}
