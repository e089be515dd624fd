/**
 * The structured trace for the UI: one step per visit of an instruction, with typed register and
 * stack states before and after (64-bit numbers as decimal strings so the trace is plain JSON).
 */
import { fmtReg } from "./format";
import type { Reg, RegType } from "./reg";
import type { VState } from "./state";

export interface RegView {
  readonly type: RegType;
  readonly maybeNull: boolean;
  /** The kernel's text for this register, e.g. `pkt(off=14,r=14)`. */
  readonly text: string;
  readonly off: number;
  /** Packet range (`r=`) or memory size. */
  readonly range: number;
  readonly id: number;
  /** Known value when the whole register is a constant scalar (decimal, unsigned). */
  readonly value?: string;
  readonly varOff: { readonly value: string; readonly mask: string };
  readonly smin: string;
  readonly smax: string;
  readonly umin: string;
  readonly umax: string;
  readonly s32min: number;
  readonly s32max: number;
  readonly u32min: number;
  readonly u32max: number;
  readonly map?: string;
}

export interface SlotView {
  /** Frame offset of the slot, e.g. -8 for fp-8. */
  readonly off: number;
  /** Eight characters from `?rm0`, highest address first. */
  readonly bytes: string;
  readonly spilled?: RegView;
}

export interface StateView {
  /** r0..r10; null for registers that are not initialised. */
  readonly regs: (RegView | null)[];
  readonly stack: SlotView[];
}

export interface TraceStep {
  /** Path number: 0 for the first path, then one per popped branch, in exploration order. */
  readonly path: number;
  readonly insn: number;
  /** Kernel disassembly, e.g. `(61) r2 = *(u32 *)(r1 +76)`. */
  readonly text: string;
  readonly before: StateView;
  /** State after the instruction (the fall-through state for a conditional jump); null on error or exit. */
  after: StateView | null;
  readonly reads: number[];
  readonly writes: number[];
  readonly stackReads: number[];
  readonly stackWrites: number[];
  /** Conditional jumps: where the path went, and the branch pushed for later (if any). */
  branch?: { readonly target: number; readonly outcome: "both" | "taken" | "not-taken"; readonly pushedTo?: number };
  /** The path stopped here because an equivalent state was already verified. */
  pruned?: boolean;
  /** Error text printed at this instruction. */
  error?: string;
}

export function regView(r: Reg): RegView {
  const isConst = r.varOff.mask === 0n && r.type === "scalar";
  return {
    type: r.type,
    maybeNull: r.maybeNull,
    text: fmtReg(r),
    off: r.off,
    range: r.range,
    id: r.id,
    ...(isConst ? { value: r.varOff.value.toString() } : {}),
    varOff: { value: r.varOff.value.toString(), mask: r.varOff.mask.toString() },
    smin: r.smin.toString(),
    smax: r.smax.toString(),
    umin: r.umin.toString(),
    umax: r.umax.toString(),
    s32min: r.s32min,
    s32max: r.s32max,
    u32min: r.u32min,
    u32max: r.u32max,
    ...(r.map ? { map: r.map.name } : {}),
  };
}

export function stateView(s: VState): StateView {
  const regs = s.regs.map((r) => (r.type === "not_init" ? null : regView(r)));
  const stack: SlotView[] = [];
  for (let i = 0; i < s.stack.length; i++) {
    const slot = s.stack[i];
    if (!slot || slot.types.every((t) => t === "?")) continue;
    stack.push({
      off: (-i - 1) * 8,
      bytes: slot.types.join(""),
      ...(slot.types[7] === "r" ? { spilled: regView(slot.spilled) } : {}),
    });
  }
  return { regs, stack };
}

/** A cheap copy of a state, turned into a StateView only when someone looks at it. */
export interface Snapshot {
  readonly regs: readonly Reg[];
  readonly stack: VState["stack"];
}

export function snapshot(s: VState): Snapshot {
  return {
    regs: s.regs.map((r) => ({ ...r })),
    stack: s.stack.map((x) => (x ? { types: [...x.types], spilled: { ...x.spilled } } : undefined)),
  };
}

/**
 * One trace step whose state views are computed on first access (building them for every step of
 * a large program costs more than the simulation itself).
 */
export class LazyStep implements TraceStep {
  private beforeView: StateView | undefined;
  private afterView: StateView | null | undefined;
  afterSnap: Snapshot | null = null;
  readonly reads: number[] = [];
  readonly writes: number[] = [];
  readonly stackReads: number[] = [];
  readonly stackWrites: number[] = [];
  branch?: TraceStep["branch"];
  pruned?: boolean;
  error?: string;

  constructor(
    readonly path: number,
    readonly insn: number,
    readonly text: string,
    private readonly beforeSnap: Snapshot,
  ) {}

  get before(): StateView {
    return (this.beforeView ??= stateView(this.beforeSnap as VState));
  }
  get after(): StateView | null {
    if (this.afterView === undefined) this.afterView = this.afterSnap ? stateView(this.afterSnap as VState) : null;
    return this.afterView;
  }
  set after(v: StateView | null) {
    this.afterView = v;
  }

  toJSON(): TraceStep {
    return {
      path: this.path,
      insn: this.insn,
      text: this.text,
      before: this.before,
      after: this.after,
      reads: this.reads,
      writes: this.writes,
      stackReads: this.stackReads,
      stackWrites: this.stackWrites,
      ...(this.branch ? { branch: this.branch } : {}),
      ...(this.pruned ? { pruned: true } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
  }
}
