/**
 * Finding filter stubs (pwru's ABI, docs/translation-and-injection.md §5.1) and checking the one
 * a filter goes into: a function symbol, static, five arguments, and reached by a call.
 */
import type { BpfFunction, BpfObject, ProgramSection } from "../elf";
import { callEdges } from "./calls";
import { refuse } from "./refuse";
import type { StubCall, StubInfo, StubLayer } from "./types";

export const STUB_PREFIX = "filter_pcap_ebpf_";
export const DEFAULT_STUB = "filter_pcap_ebpf_l2";

/** The layer a stub's name says (`…_l2`, `…_l3`, pwru's tunnel stubs too), or null. */
export function layerOfName(name: string): StubLayer | null {
  const m = /_(l2|l3)$/.exec(name);
  return m ? (m[1] as StubLayer) : null;
}

interface Located {
  readonly prog: ProgramSection;
  readonly fn: BpfFunction;
}

function locate(obj: BpfObject, name: string): Located[] {
  const out: Located[] = [];
  for (const prog of obj.programs) for (const fn of prog.functions) if (fn.name === name) out.push({ prog, fn });
  return out;
}

function callsTo(obj: BpfObject, at: Located): StubCall[] {
  return callEdges(obj)
    .filter((e) => e.to.sectionIndex === at.prog.sectionIndex && e.to.slot === at.fn.start)
    .map((e) => {
      const p = obj.programs.find((q) => q.sectionIndex === e.from.sectionIndex)!;
      return { caller: e.from.fn?.name ?? p.name, sectionIndex: e.from.sectionIndex, slot: e.from.slot };
    });
}

function info(obj: BpfObject, at: Located, layer: StubLayer): StubInfo {
  return {
    name: at.fn.name,
    layer,
    sectionIndex: at.prog.sectionIndex,
    section: at.prog.name,
    start: at.fn.start,
    slots: at.fn.slots,
    calls: callsTo(obj, at),
  };
}

/** Every function named like a stub (`filter_pcap_ebpf_*_l2|_l3`), checked or not: a listing for a picker. */
export function findStubs(obj: BpfObject): StubInfo[] {
  const out: StubInfo[] = [];
  for (const prog of obj.programs) {
    for (const fn of prog.functions) {
      const layer = layerOfName(fn.name);
      if (fn.name.startsWith(STUB_PREFIX) && layer) out.push(info(obj, { prog, fn }, layer));
    }
  }
  return out;
}

/** The stub a request names (or the default), with every ABI check passed; a refusal otherwise. */
export function resolveStub(obj: BpfObject, name: string | undefined): StubInfo {
  const stubs = findStubs(obj);
  let wanted = name;
  if (wanted === undefined) {
    if (stubs.length === 1) wanted = stubs[0]!.name;
    else if (stubs.some((s) => s.name === DEFAULT_STUB)) wanted = DEFAULT_STUB;
    else if (stubs.length === 0) throw refuse("no-stub", `the object has no filter stub: define a static __noinline function named ${STUB_PREFIX}l2 or ${STUB_PREFIX}l3 with five pointer arguments`);
    else throw refuse("no-stub", `the object has ${stubs.length} stubs (${stubs.map((s) => s.name).join(", ")}) and none is ${DEFAULT_STUB}: name the one to patch`);
  }
  const found = locate(obj, wanted);
  if (found.length === 0) {
    const have = stubs.length ? ` (stubs here: ${stubs.map((s) => s.name).join(", ")})` : "";
    throw refuse("no-stub", `no function named ${wanted} in the object${have}`);
  }
  if (found.length > 1) throw refuse("no-stub", `${found.length} functions are named ${wanted} (in ${found.map((f) => f.prog.name).join(", ")}); the stub must be unique`);
  const at = found[0]!;
  const layer = layerOfName(wanted);
  if (!layer) throw refuse("stub-signature", `cannot tell the layer of ${wanted}: a stub's name ends in _l2 (data at the Ethernet header) or _l3 (data at the IP header)`);
  if (!at.fn.isStatic) {
    throw refuse(
      "stub-not-static",
      `${wanted} is global: the verifier checks a global function on its own, so data and data_end would reach it as plain memory, not packet pointers; declare it static __noinline`,
      { kind: "insn", index: at.fn.start },
    );
  }
  if (at.fn.slots === 0) throw refuse("stub-signature", `${wanted} has no instructions (size 0): its body must be the ABI's epilogue`);
  checkSignature(obj, wanted);
  const stub = info(obj, at, layer);
  if (stub.calls.length === 0) throw refuse("stub-not-called", `nothing calls ${wanted}: a filter spliced into it would never run`, { kind: "insn", index: at.fn.start });
  return stub;
}

/** Five arguments and static linkage, as BTF says (when the object carries BTF). */
function checkSignature(obj: BpfObject, name: string): void {
  if (!obj.btf) return;
  const fn = obj.btf.named(name, "FUNC")[0];
  if (!fn) throw refuse("stub-signature", `the object's BTF has no FUNC ${name}`);
  if (fn.linkage !== "static") throw refuse("stub-not-static", `BTF gives ${name} ${fn.linkage} linkage; the stub must be static`);
  const proto = obj.btf.typeOf(fn.type, "FUNC_PROTO");
  if (!proto) throw refuse("stub-signature", `BTF FUNC ${name} has no FUNC_PROTO`);
  if (proto.params.length !== 5) {
    throw refuse(
      "stub-signature",
      `${name} takes ${proto.params.length} argument${proto.params.length === 1 ? "" : "s"}; the stub ABI has five (ctx, ctx, ctx, data, data_end), so that r4 and r5 hold the packet bounds on entry`,
    );
  }
}

