/**
 * The stack a splice adds, checked the way the verifier will (check_max_stack_depth): each frame
 * rounded up (round_up_stack_depth: to 16 bytes when the program is JITed, as on x86_64; the
 * interpreter's 32 would refuse more), summed along every call chain, at most MAX_BPF_STACK (512). The host's
 * frames are estimated from its code: the deepest r10-relative access, directly or through a
 * register that holds r10 plus a constant (clang's `r2 = r10; r2 += -8` for helper buffers).
 */
import type { DecodedInsn } from "../ebpf";
import { BPF_ADD, BPF_ALU64, BPF_K, BPF_LDX, BPF_MOV, BPF_ST, BPF_STX, BPF_X, opClass, opAluOp, opSource } from "../ebpf/opcodes";
import type { BpfObject } from "../elf";
import { callEdges, fnKey } from "./calls";

export const MAX_BPF_STACK = 512;
const FP = 10;

/** Bytes below r10 the instructions touch. */
export function frameDepth(insns: readonly DecodedInsn[]): number {
  const fp = new Map<number, number>(); // register -> its value minus r10
  let depth = 0;
  const touch = (base: number, off: number) => {
    const at = base === FP ? 0 : fp.get(base);
    if (at !== undefined) depth = Math.max(depth, -(at + off));
  };
  for (const d of insns) {
    const cls = opClass(d.code);
    if (cls === BPF_LDX) {
      touch(d.src, d.off);
      fp.delete(d.dst);
    } else if (cls === BPF_ST || cls === BPF_STX) {
      touch(d.dst, d.off);
    } else if (cls === BPF_ALU64 && opAluOp(d.code) === BPF_MOV && opSource(d.code) === BPF_X && d.off === 0) {
      const v = d.src === FP ? 0 : fp.get(d.src);
      if (v === undefined) fp.delete(d.dst);
      else {
        fp.set(d.dst, v);
        depth = Math.max(depth, -v);
      }
    } else if (cls === BPF_ALU64 && opAluOp(d.code) === BPF_ADD && opSource(d.code) === BPF_K && fp.has(d.dst)) {
      const v = fp.get(d.dst)! + d.imm;
      fp.set(d.dst, v);
      depth = Math.max(depth, -v);
    } else if (cls === 0x05 && (d.code & 0xf0) === 0x80) {
      for (const r of [0, 1, 2, 3, 4, 5]) fp.delete(r); // a call clobbers r0..r5
    } else if (cls === BPF_ALU64 || cls === 0x04 /* ALU */ || d.slots === 2) {
      fp.delete(d.dst);
    }
  }
  return depth;
}

const roundFrame = (n: number): number => Math.ceil(Math.max(n, 1) / 16) * 16;

export interface StackCheck {
  /** The deepest call chain through the stub, in bytes (frames rounded to 16). */
  readonly combined: number;
  /** The functions of that chain, outermost first. */
  readonly chain: readonly string[];
}

/**
 * The deepest chain (from a program entry, through the stub at (sectionIndex, start), into what
 * the stub calls) with the stub's frame at least `stubFrame` bytes: the spliced filter's stack is
 * dead once it falls through into the body, so the frame is the larger of the two.
 */
export function stackThroughStub(obj: BpfObject, sectionIndex: number, start: number, stubFrame: number): StackCheck {
  const frames = new Map<string, { name: string; depth: number }>();
  for (const p of obj.programs) {
    for (const f of p.functions) {
      const insns = p.insns.filter((d) => d.index >= f.start && d.index < f.start + f.slots);
      frames.set(fnKey(p.sectionIndex, f.start), { name: f.name, depth: frameDepth(insns) });
    }
  }
  const stubKey = fnKey(sectionIndex, start);
  const edges = callEdges(obj).filter((e) => e.from.fn);
  const callees = (key: string) => edges.filter((e) => fnKey(e.from.sectionIndex, e.from.fn!.start) === key).map((e) => fnKey(e.to.sectionIndex, e.to.slot));
  const frameOf = (key: string) => roundFrame(Math.max(frames.get(key)?.depth ?? 0, key === stubKey ? stubFrame : 0));

  // Deepest path from `key` down (the stub's callees), and deepest path from entries down to the stub.
  const down = (key: string, seen: Set<string>): { bytes: number; chain: string[] } => {
    let best = { bytes: 0, chain: [] as string[] };
    for (const c of callees(key)) {
      if (seen.has(c)) continue; // recursion is refused by the verifier anyway
      const sub = down(c, new Set([...seen, c]));
      if (sub.bytes > best.bytes) best = sub;
    }
    return { bytes: frameOf(key) + best.bytes, chain: [frames.get(key)?.name ?? key, ...best.chain] };
  };
  const up = (key: string, seen: Set<string>): { bytes: number; chain: string[] } => {
    let best = { bytes: 0, chain: [] as string[] };
    for (const e of edges) {
      if (fnKey(e.to.sectionIndex, e.to.slot) !== key) continue;
      const caller = fnKey(e.from.sectionIndex, e.from.fn!.start);
      if (seen.has(caller)) continue;
      const sub = up(caller, new Set([...seen, caller]));
      const bytes = sub.bytes + frameOf(caller);
      if (bytes > best.bytes) best = { bytes, chain: [...sub.chain, frames.get(caller)?.name ?? caller] };
    }
    return best;
  };
  const above = up(stubKey, new Set([stubKey]));
  const below = down(stubKey, new Set([stubKey]));
  return { combined: above.bytes + below.bytes, chain: [...above.chain, ...below.chain] };
}
