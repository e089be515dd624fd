/**
 * The verifier state of one path: eleven registers and the stack (512 bytes as 64 slots of 8),
 * plus the bookkeeping the kernel keeps for pruning and precision (parent checkpoint, branch
 * count, the instructions executed since the last checkpoint).
 */
import { cloneReg, markNotInit, markPointer, newReg, type Reg } from "./reg";

/** Per-byte stack slot types, printed with these characters. */
export type SlotByte = "?" | "r" | "m" | "0";

export const MAX_BPF_STACK = 512;
export const STACK_SLOTS = MAX_BPF_STACK / 8;

export interface StackSlot {
  /** Index 0 is the highest-addressed byte of the slot (the kernel's slot_type[] order). */
  types: SlotByte[];
  /** The spilled register (type not_init when nothing is spilled). */
  spilled: Reg;
}

/** One instruction executed since the last checkpoint, newest first (for precision backtracking). */
export interface HistNode {
  readonly idx: number;
  readonly prev: HistNode | null;
  /** Stack slot accessed by a fixed-offset spill/fill at this instruction. */
  readonly spi?: number;
  /** Scalar registers sharing an id at this conditional jump (kernel: linked_regs). */
  readonly linked?: readonly number[];
}

export interface VState {
  regs: Reg[];
  stack: (StackSlot | undefined)[];
  /** Deepest stack byte touched (allocated_stack), in bytes. */
  allocated: number;
  /** The checkpoint this path descends from (kernel: parent). */
  parent: Checkpoint | null;
  hist: HistNode | null;
  branches: number;
}

/** A state stored for pruning at an instruction (kernel: bpf_verifier_state_list entry). */
export interface Checkpoint extends VState {
  readonly insnIdx: number;
  hitCnt: number;
  missCnt: number;
  evicted: boolean;
}

export function initialState(): VState {
  const regs = Array.from({ length: 11 }, () => newReg());
  for (const r of regs) markNotInit(r);
  markPointer(regs[10]!, "fp");
  markPointer(regs[1]!, "ctx");
  return { regs, stack: [], allocated: 0, parent: null, hist: null, branches: 1 };
}

export function cloneSlot(s: StackSlot): StackSlot {
  return { types: [...s.types], spilled: cloneReg(s.spilled) };
}

export function cloneState(s: VState): VState {
  return {
    regs: s.regs.map(cloneReg),
    stack: s.stack.map((x) => (x ? cloneSlot(x) : undefined)),
    allocated: s.allocated,
    parent: s.parent,
    hist: s.hist,
    branches: s.branches,
  };
}

export function slotAt(s: VState, spi: number): StackSlot {
  let slot = s.stack[spi];
  if (!slot) {
    const spilled = newReg();
    markNotInit(spilled);
    slot = { types: ["?", "?", "?", "?", "?", "?", "?", "?"], spilled };
    s.stack[spi] = slot;
  }
  return slot;
}

export const isSpilled = (slot: StackSlot | undefined): boolean => slot?.types[7] === "r";

export const isSpilledScalar64 = (slot: StackSlot | undefined): boolean =>
  !!slot && slot.types.every((t) => t === "r") && slot.spilled.type === "scalar";
