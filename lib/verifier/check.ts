/**
 * The simulation (kernel: do_check and the check_* functions it calls): depth-first over all
 * paths, one abstract state per path, branches pushed and popped LIFO, checkpoints stored at prune
 * points, precision marks back-propagated into checkpoints, and the log written as the kernel
 * writes it. Only the subset of the verifier that the playground's programs need is modelled;
 * anything else (bpf-to-bpf calls, kfuncs, may_goto) is a PlaygroundError, never a guess.
 */
import type { DecodedInsn } from "../ebpf/codec";
import { HELPERS, BPF_FUNC_MAX_ID } from "../ebpf/opcodes";
import { PlaygroundError } from "../errors";
import { ALU_OP_NAMES, add32, add64, constReg, OP, scalarAlu } from "./alu";
import { ctxAccess, mayAccessSkb, type ProgType } from "./ctx";
import { fmtState, fmtTnum, regTypeStr, type FormatProfile, type Scratch } from "./format";
import { helperAvailable, HELPER_PROTOS, type ArgKind } from "./helpers";
import { VerifierLog } from "./log";
import { lo32, S32_MAX, S32_MIN, s64, U32_MAX, u64 } from "./num";
import { CLS, cls, insnText, successors, type CfgInfo, type SlotProgram } from "./program";
import { statesEqual } from "./prune";
import { findGoodPktPointers, flipOpcode, isScalarBranchTaken, JMP, markPktEnd, refineCondOp, revOpcode } from "./branch";
import {
  AT_PKT_END,
  BEYOND_PKT_END,
  cloneReg,
  coerceRegToSize,
  coerceRegToSizeSx,
  coerceSubregToSizeSx,
  copyRegInto,
  isPktPointer,
  isPointer,
  mark32Unbounded,
  markConstScalar,
  markNotInit,
  markPointer,
  markUnbounded,
  markUnknown,
  newReg,
  regBoundsSane,
  regBoundsSync,
  regConstValue,
  regIsConst,
  regWidth,
  setKnown,
  zext32To64,
  type MapInfo,
  type Reg,
} from "./reg";
import {
  cloneState,
  isSpilled,
  slotAt,
  STACK_SLOTS,
  type Checkpoint,
  type HistNode,
  type SlotByte,
  type VState,
} from "./state";
import {
  tnumAdd,
  tnumConst,
  tnumIsConst,
  tnumSub,
} from "./tnum";
import { LazyStep, snapshot, type Snapshot, type TraceStep } from "./trace";

export const EACCES = 13;
export const EINVAL = 22;
export const EFAULT = 14;
export const E2BIG = 7;
export const ENOTSUPP = 524;

const BPF_MAX_VAR_OFF = 1n << 29n;
const BPF_MAX_VAR_SIZ = 1n << 29n;
const MAX_BPF_STACK = 512;
const COMPLEXITY_LIMIT_JMP_SEQ = 8192;

/** Thrown inside the simulation to stop it; carries the errno the kernel returns. */
class Stop {
  constructor(readonly errno: number) {}
}

/** Result of one simulation. */
export interface CheckResult {
  accepted: boolean;
  errno: number;
  /** The kernel's error text (the lines printed before `processed`), when rejected. */
  errorLines: string[];
  errorInsn: number | null;
  processed: number;
  maxStatesPerInsn: number;
  totalStates: number;
  peakStates: number;
}

export interface CheckOptions {
  progType: ProgType;
  profile: FormatProfile;
  maps: ReadonlyMap<number, MapInfo>;
  insnLimit: number;
  /** Level 1 keeps only the failing path (pop_stack rewinds the log). */
  level: 1 | 2;
  /** Record the per-instruction trace. */
  trace: boolean;
}

interface PushedBranch {
  state: VState;
  insn: number;
  prev: number;
  logMark: { lines: number; last: string | undefined };
}

interface CallMeta {
  map: MapInfo | null;
  rawMode: boolean;
  accessSize: number;
  regno: number;
  msizeMax: bigint;
  constMapKey: bigint | null;
}

const CALLER_SAVED = [0, 1, 2, 3, 4, 5];

const sizeBytes = (code: number): number => [4, 2, 1, 8][(code & 0x18) >> 3]!;

export class Verifier {
  readonly log = new VerifierLog();
  readonly trace: TraceStep[] = [];
  private cur: VState;
  private readonly branches: PushedBranch[] = [];
  private readonly explored = new Map<number, Checkpoint[]>();
  private insnIdx = 0;
  private prevInsnIdx = -1;
  private processed = 0;
  private jmpsProcessed = 0;
  private prevJmps = 0;
  private prevInsns = 0;
  private totalStates = 0;
  private peakStates = 0;
  private liveStates = 0;
  private maxStatesPerInsn = 0;
  private idGen = 0;
  private scratch: Scratch = { regs: 0, stack: 0n };
  private reads = 0;
  private writes = 0;
  private stackReads = 0n;
  private stackWrites = 0n;
  private pathId = 0;
  private step: LazyStep | null = null;
  private curInsn = 0;
  private lastSnap: Snapshot | null = null;
  private histSpi: number | undefined;
  private histLinked: number[] | undefined;
  private errorStart = -1;
  private readonly unbound: Reg;
  /** Stack slots read / fully written at each instruction, as seen so far (6.18's stack liveness). */
  private readonly stackUse = new Map<number, bigint>();
  private readonly stackDef = new Map<number, bigint>();
  private stackLive: bigint[] | null = null;
  private readonly succ: number[][];

  constructor(
    private readonly p: SlotProgram,
    private readonly cfg: CfgInfo,
    private readonly opts: CheckOptions,
    initial: VState,
  ) {
    this.cur = initial;
    this.unbound = newReg();
    markUnknown(this.unbound);
    this.succ = p.map((d) => (d ? successors(d).filter((x) => x < p.length) : []));
  }

  private readonly texts: (string | undefined)[] = [];
  /** Kernel text of an instruction, formatted once per program. */
  private textOf(insn: DecodedInsn): string {
    return (this.texts[insn.index] ??= insnText(insn, this.opts.maps));
  }

  private recordStack(spi: number, write: boolean, full: boolean): void {
    const idx = this.curInsn;
    const bit = 1n << BigInt(spi);
    const m = write ? this.stackDef : this.stackUse;
    if (write && !full) return;
    const old = m.get(idx) ?? 0n;
    if (old & bit) return;
    m.set(idx, old | bit);
    this.stackLive = null;
  }

  /** Slots live before each instruction, by backward dataflow over what simulation has seen. */
  private liveStackAt(idx: number): bigint {
    if (!this.stackLive) {
      const n = this.p.length;
      const live: bigint[] = new Array(n).fill(0n);
      for (let changed = true; changed; ) {
        changed = false;
        for (let i = n - 1; i >= 0; i--) {
          if (!this.p[i]) continue;
          let out = 0n;
          for (const x of this.succ[i]!) out |= live[x]!;
          const v = (this.stackUse.get(i) ?? 0n) | (out & ~(this.stackDef.get(i) ?? 0n));
          if (v !== live[i]) {
            live[i] = v;
            changed = true;
          }
        }
      }
      this.stackLive = live;
    }
    return this.stackLive[idx]!;
  }

  // -------------------------------------------------------------------------------------------
  // Scratch marks and state printing
  // -------------------------------------------------------------------------------------------

  private markAllScratched(): void {
    this.scratch = { regs: 0x7ff, stack: (1n << BigInt(STACK_SLOTS)) - 1n };
  }
  private scratchReg(r: number, write: boolean): void {
    this.scratch.regs |= 1 << r;
    if (write) this.writes |= 1 << r;
    else this.reads |= 1 << r;
  }
  private scratchSlot(spi: number, write: boolean, full = false): void {
    this.recordStack(spi, write, full);
    this.scratch.stack |= 1n << BigInt(spi);
    if (write) this.stackWrites |= 1n << BigInt(spi);
    else this.stackReads |= 1n << BigInt(spi);
  }
  private get scratched(): boolean {
    return this.scratch.regs !== 0 || this.scratch.stack !== 0n;
  }
  /** print_insn_state for the current state; clears the scratch marks. */
  private printInsnState(idx: number): void {
    const written = { regs: this.writes, stack: this.stackWrites };
    this.log.printState(idx, fmtState(this.cur, this.scratch, this.opts.profile, written));
    this.scratch = { regs: 0, stack: 0n };
  }

  /** Features outside the emulated subset: reported, never guessed. */
  private unsupported(insn: DecodedInsn, what: string): never {
    throw new PlaygroundError("verifier/unsupported", `${what} are not emulated (instruction ${insn.index})`, { kind: "insn", index: insn.index });
  }

  private fail(errno: number, ...lines: string[]): never {
    for (const l of lines) this.errorLine(l);
    throw new Stop(errno);
  }
  private errorLine(line: string): void {
    if (this.errorStart < 0) this.errorStart = this.log.lines.length;
    this.log.print(line);
  }

  // -------------------------------------------------------------------------------------------
  // Main loop
  // -------------------------------------------------------------------------------------------

  run(): CheckResult {
    let errno = 0;
    let doPrintState = false;
    this.markAllScratched();
    try {
      for (;;) {
        const idx = this.insnIdx;
        const insn = this.p[idx];
        if (!insn) this.fail(EINVAL, `invalid insn idx ${idx} insn_cnt ${this.p.length}`);
        if (++this.processed > this.opts.insnLimit) {
          this.fail(E2BIG, `BPF program is too large. Processed ${this.processed} insn`);
        }
        if (this.cfg.prunePoints[idx]) {
          const visited = this.isStateVisited(idx);
          if (visited) {
            if (doPrintState) {
              this.log.print("");
              this.log.print(`from ${this.prevInsnIdx} to ${idx}: safe`);
            } else this.log.print(`${idx}: safe`);
            if (this.opts.trace) {
              const st = new LazyStep(this.pathId, idx, this.textOf(insn), snapshot(this.cur));
              st.pruned = true;
              this.trace.push(st);
            }
            if (!this.processExit()) break;
            doPrintState = true;
            continue;
          }
        }
        if (doPrintState && this.opts.level === 2) {
          this.log.print("");
          this.log.print(`from ${this.prevInsnIdx} to ${idx}:${fmtState(this.cur, null, this.opts.profile)}`);
        }
        doPrintState = false;
        if (this.scratched) this.printInsnState(idx);
        this.log.printInsn(`${idx}: ${this.textOf(insn)}`);
        this.reads = this.writes = 0;
        this.stackReads = this.stackWrites = 0n;
        this.histSpi = undefined;
        this.histLinked = undefined;
        this.curInsn = idx;
        // The state after the previous step is this step's state before, unless a pop came between.
        const before = this.lastSnap ?? (this.opts.trace ? snapshot(this.cur) : null);
        this.step = before ? new LazyStep(this.pathId, idx, this.textOf(insn), before) : null;
        this.lastSnap = null;
        if (this.step) this.trace.push(this.step);
        this.prevInsnIdx = idx;
        let exited = false;
        try {
          exited = this.doCheckInsn(insn);
        } finally {
          this.finishStep(exited);
        }
        if (exited) {
          if (!this.processExit()) break;
          doPrintState = true;
        }
      }
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      errno = e.errno;
      if (this.step && this.errorStart >= 0) this.step.error = this.log.lines.slice(this.errorStart).join("\n");
    }
    const errorLines = errno && this.errorStart >= 0 ? this.log.lines.slice(this.errorStart) : [];
    this.log.print(
      `processed ${this.processed} insns (limit ${this.opts.insnLimit}) max_states_per_insn ${this.maxStatesPerInsn} total_states ${this.totalStates} peak_states ${this.peakStates} mark_read 0`,
    );
    return {
      accepted: errno === 0,
      errno,
      errorLines,
      errorInsn: errno ? this.prevInsnIdx : null,
      processed: this.processed,
      maxStatesPerInsn: this.maxStatesPerInsn,
      totalStates: this.totalStates,
      peakStates: this.peakStates,
    };
  }

  private finishStep(exited: boolean): void {
    const s = this.step;
    if (s) {
      for (let i = 0; i < 11; i++) {
        if (this.reads & (1 << i)) s.reads.push(i);
        if (this.writes & (1 << i)) s.writes.push(i);
      }
      if (this.stackReads || this.stackWrites) {
        for (let i = 0; i < STACK_SLOTS; i++) {
          if ((this.stackReads >> BigInt(i)) & 1n) s.stackReads.push((-i - 1) * 8);
          if ((this.stackWrites >> BigInt(i)) & 1n) s.stackWrites.push((-i - 1) * 8);
        }
      }
      if (!exited && this.errorStart < 0) s.afterSnap = this.lastSnap = snapshot(this.cur);
    }
    // Record the instruction in the path's history (for precision backtracking).
    this.cur.hist = this.histNode(this.curInsn);
  }

  private histNode(idx: number): HistNode {
    return {
      idx,
      prev: this.cur.hist,
      ...(this.histSpi !== undefined ? { spi: this.histSpi } : {}),
      ...(this.histLinked ? { linked: this.histLinked } : {}),
    };
  }

  /** process_bpf_exit: finish the path, pop the next one. False when no path is left. */
  private processExit(): boolean {
    this.markAllScratched();
    this.updateBranchCounts(this.cur);
    this.lastSnap = null;
    const b = this.branches.pop();
    if (!b) return false;
    if (this.opts.level === 1) this.log.rewind(b.logMark);
    this.cur = b.state;
    this.insnIdx = b.insn;
    this.prevInsnIdx = b.prev;
    this.pathId++;
    return true;
  }

  private updateBranchCounts(st: VState | null): void {
    while (st) {
      const br = --st.branches;
      if (br) break;
      st = st.parent;
    }
  }

  private pushStack(insn: number, prev: number): VState {
    const st = cloneState(this.cur);
    if (st.parent) st.parent.branches++;
    this.branches.push({ state: st, insn, prev, logMark: this.log.mark() });
    if (this.branches.length > COMPLEXITY_LIMIT_JMP_SEQ) {
      this.fail(E2BIG, `The sequence of ${this.branches.length} jumps is too complex.`);
    }
    return st;
  }

  // -------------------------------------------------------------------------------------------
  // Pruning (is_state_visited)
  // -------------------------------------------------------------------------------------------

  private isStateVisited(idx: number): boolean {
    const cur = this.cur;
    let addNew = this.jmpsProcessed - this.prevJmps >= 2 && this.processed - this.prevInsns >= 8;
    const list = this.explored.get(idx) ?? [];
    const live = this.cfg.liveBefore[idx]!;
    let count = 0;
    for (const sl of [...list]) {
      count++;
      if (sl.branches) {
        if (this.statesMaybeLooping(sl, cur) && statesEqual(sl, cur, live, true, this.unbound, this.liveStackAt(idx))) {
          this.fail(
            EINVAL,
            `infinite loop detected at insn ${idx}`,
            `cur state:${fmtState(cur, null, this.opts.profile)}`,
            `old state:${fmtState(sl, null, this.opts.profile)}`,
          );
        }
        if (this.jmpsProcessed - this.prevJmps < 20 && this.processed - this.prevInsns < 100) addNew = false;
      } else if (statesEqual(sl, cur, live, false, this.unbound, this.liveStackAt(idx))) {
        sl.hitCnt++;
        this.propagatePrecision(sl, live);
        return true;
      }
      if (addNew) sl.missCnt++;
      if (!sl.branches && sl.missCnt > sl.hitCnt * 3 + 3) {
        sl.evicted = true;
        list.splice(list.indexOf(sl), 1);
        this.liveStates--;
      }
    }
    if (this.maxStatesPerInsn < count) this.maxStatesPerInsn = count;
    if (!addNew) return false;
    this.totalStates++;
    this.liveStates++;
    this.peakStates = Math.max(this.peakStates, this.liveStates);
    this.prevJmps = this.jmpsProcessed;
    this.prevInsns = this.processed;
    for (const r of cur.regs) if (r.type === "scalar") r.precise = false;
    for (const s of cur.stack) if (s && s.spilled.type === "scalar") s.spilled.precise = false;
    const copy = cloneState(cur);
    const cp: Checkpoint = { ...copy, insnIdx: idx, hitCnt: 0, missCnt: 0, evicted: false };
    cur.parent = cp;
    cur.hist = null;
    list.unshift(cp);
    this.explored.set(idx, list);
    return false;
  }

  /** states_maybe_looping: every register identical (the exact comparison then decides). */
  private statesMaybeLooping(old: VState, cur: VState): boolean {
    return old.regs.every((o, i) => {
      const c = cur.regs[i]!;
      return o.type === c.type && o.off === c.off && o.varOff.value === c.varOff.value && o.varOff.mask === c.varOff.mask && o.umin === c.umin && o.umax === c.umax;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Precision (mark_chain_precision, simplified to what straight-line eBPF needs)
  // -------------------------------------------------------------------------------------------

  /** Marks `regs` (bitmask) and `slots` (bitmask of spi) precise back through the checkpoints. */
  private markChainPrecision(regs: number, slots = 0n): void {
    let st: VState | null = this.cur;
    let mask = regs;
    let smask = slots;
    while (st && (mask || smask)) {
      for (let h = st.hist; h && (mask || smask); h = h.prev) {
        const r = this.backtrack(h, mask, smask);
        if (r === null) {
          this.markAllScalarsPrecise();
          return;
        }
        [mask, smask] = r;
      }
      st = st.parent;
      if (!st) break;
      for (let i = 0; i < 11; i++) {
        if (!(mask & (1 << i))) continue;
        const reg = st.regs[i]!;
        if (reg.type !== "scalar" || reg.precise) mask &= ~(1 << i);
        else reg.precise = true;
      }
      for (let spi = 0; spi < STACK_SLOTS; spi++) {
        if (!((smask >> BigInt(spi)) & 1n)) continue;
        const slot = st.stack[spi];
        if (!slot || !isSpilled(slot) || slot.spilled.type !== "scalar" || slot.spilled.precise) smask &= ~(1n << BigInt(spi));
        else slot.spilled.precise = true;
      }
    }
  }

  private markAllScalarsPrecise(): void {
    for (let st = this.cur.parent as VState | null; st; st = st.parent) {
      for (const r of st.regs) if (r.type === "scalar") r.precise = true;
      for (const s of st.stack) if (s && isSpilled(s) && s.spilled.type === "scalar") s.spilled.precise = true;
    }
  }

  /** backtrack_insn: how the set of registers needing precision changes across one instruction. */
  private backtrack(h: HistNode, mask: number, smask: bigint): [number, bigint] | null {
    const d = this.p[h.idx]!;
    const c = cls(d.code);
    const bit = (r: number) => 1 << r;
    const has = (r: number) => (mask & bit(r)) !== 0;
    if (c === CLS.ALU || c === CLS.ALU64) {
      if (!has(d.dst)) return [mask, smask];
      const op = d.code & 0xf0;
      const x = (d.code & 0x08) !== 0;
      if (op === OP.END || op === OP.NEG) return [mask, smask];
      if (op === OP.MOV) {
        if (x) {
          mask &= ~bit(d.dst);
          if (d.src !== 10) mask |= bit(d.src);
        } else mask &= ~bit(d.dst);
        return [mask, smask];
      }
      if (x) mask |= bit(d.src);
      return [mask, smask];
    }
    if (c === CLS.LDX) {
      if (!has(d.dst)) return [mask, smask];
      mask &= ~bit(d.dst);
      if (h.spi !== undefined) smask |= 1n << BigInt(h.spi);
      return [mask, smask];
    }
    if (c === CLS.STX || c === CLS.ST) {
      if (h.spi === undefined) return [mask, smask];
      const sb = 1n << BigInt(h.spi);
      if (!(smask & sb)) return [mask, smask];
      smask &= ~sb;
      if (c === CLS.STX) mask |= bit(d.src);
      return [mask, smask];
    }
    if (c === CLS.JMP || c === CLS.JMP32) {
      const op = d.code & 0xf0;
      if (op === JMP.CALL) {
        mask &= ~1;
        return [mask & ~0x3e, smask];
      }
      if (op === JMP.EXIT || op === JMP.JA) return [mask, smask];
      if (d.code & 0x08) {
        if (!has(d.dst) && !has(d.src)) return [mask, smask];
        mask |= bit(d.dst) | bit(d.src);
      }
      if (h.linked && h.linked.some((r) => (r >= 100 ? (smask >> BigInt(r - 100)) & 1n : has(r)))) {
        for (const r of h.linked) {
          if (r >= 100) smask |= 1n << BigInt(r - 100);
          else mask |= bit(r);
        }
      }
      return [mask, smask];
    }
    if (c === CLS.LD) {
      if (!has(d.dst)) return [mask, smask];
      mask &= ~bit(d.dst);
      if (d.code !== 0x18) return null; // LD_ABS/LD_IND: the kernel gives up and marks everything
      return [mask, smask];
    }
    return [mask, smask];
  }

  private propagatePrecision(old: VState, live: number): void {
    let regs = 0;
    for (let i = 0; i < 10; i++) {
      const r = old.regs[i]!;
      if (r.type === "scalar" && r.precise && live & (1 << i)) regs |= 1 << i;
    }
    let slots = 0n;
    for (let spi = 0; spi < old.stack.length; spi++) {
      const s = old.stack[spi];
      if (s && isSpilled(s) && s.spilled.type === "scalar" && s.spilled.precise) slots |= 1n << BigInt(spi);
    }
    if (regs || slots) this.markChainPrecision(regs, slots);
  }

  // -------------------------------------------------------------------------------------------
  // Instructions
  // -------------------------------------------------------------------------------------------

  private get regs(): Reg[] {
    return this.cur.regs;
  }

  /** check_reg_arg. */
  private checkRegArg(regno: number, t: "src" | "dst" | "dst_no_mark"): void {
    if (regno >= 11) this.fail(EINVAL, `R${regno} is invalid`);
    this.scratchReg(regno, t !== "src");
    const reg = this.regs[regno]!;
    if (t === "src") {
      if (reg.type === "not_init") this.fail(EACCES, `R${regno} !read_ok`);
      return;
    }
    if (regno === 10) this.fail(EACCES, "frame pointer is read only");
    if (t === "dst") markUnknown(reg);
  }

  /** Returns true when the path ends here (exit). */
  private doCheckInsn(insn: DecodedInsn): boolean {
    const c = cls(insn.code);
    switch (c) {
      case CLS.ALU:
      case CLS.ALU64:
        this.checkAluOp(insn);
        break;
      case CLS.LDX: {
        const isLdsx = (insn.code & 0xe0) === 0x80;
        this.checkRegArg(insn.src, "src");
        this.checkRegArg(insn.dst, "dst_no_mark");
        this.checkMemAccess(insn.src, insn.off, sizeBytes(insn.code), "read", insn.dst, isLdsx);
        break;
      }
      case CLS.STX: {
        if ((insn.code & 0xe0) === 0xc0) {
          this.checkAtomic(insn);
          break;
        }
        if ((insn.code & 0xe0) !== 0x60 || insn.imm !== 0) this.fail(EINVAL, "BPF_STX uses reserved fields");
        this.checkRegArg(insn.src, "src");
        this.checkRegArg(insn.dst, "src");
        this.checkMemAccess(insn.dst, insn.off, sizeBytes(insn.code), "write", insn.src, false);
        break;
      }
      case CLS.ST:
        if ((insn.code & 0xe0) !== 0x60 || insn.src !== 0) this.fail(EINVAL, "BPF_ST uses reserved fields");
        this.checkRegArg(insn.dst, "src");
        this.checkMemAccess(insn.dst, insn.off, sizeBytes(insn.code), "write", -1, false, insn.imm);
        break;
      case CLS.JMP:
      case CLS.JMP32: {
        const op = insn.code & 0xf0;
        this.jmpsProcessed++;
        if (op === JMP.CALL) {
          if ((insn.code & 0x08) !== 0 || insn.off !== 0 || insn.dst !== 0 || c === CLS.JMP32 || (insn.src !== 0 && insn.src !== 1 && insn.src !== 2)) {
            this.fail(EINVAL, "BPF_CALL uses reserved fields");
          }
          this.scratchReg(0, true);
          if (insn.src !== 0) this.unsupported(insn, insn.src === 1 ? "bpf-to-bpf calls" : "kfunc calls");
          this.checkHelperCall(insn);
          this.scratchReg(0, true);
          break;
        }
        if (op === JMP.JA) {
          if ((insn.code & 0x08) !== 0 || insn.src !== 0 || insn.dst !== 0 || (c === CLS.JMP && insn.imm !== 0) || (c === CLS.JMP32 && insn.off !== 0)) {
            this.fail(EINVAL, "BPF_JA uses reserved fields");
          }
          this.insnIdx += (c === CLS.JMP ? insn.off : insn.imm) + 1;
          return false;
        }
        if (op === JMP.EXIT) {
          if ((insn.code & 0x08) !== 0 || insn.imm !== 0 || insn.src !== 0 || insn.dst !== 0 || c === CLS.JMP32) {
            this.fail(EINVAL, "BPF_EXIT uses reserved fields");
          }
          this.checkRegArg(0, "src");
          return true;
        }
        this.checkCondJmp(insn);
        break;
      }
      case CLS.LD: {
        const mode = insn.code & 0xe0;
        if (mode === 0x20 || mode === 0x40) this.checkLdAbs(insn);
        else if (mode === 0x00) {
          this.checkLdImm(insn);
          this.insnIdx++;
        } else this.fail(EINVAL, "invalid BPF_LD mode");
        break;
      }
    }
    this.insnIdx++;
    return false;
  }

  private checkLdImm(insn: DecodedInsn): void {
    if ((insn.code & 0x18) !== 0x18) this.fail(EINVAL, "invalid BPF_LD_IMM insn");
    if (insn.off !== 0) this.fail(EINVAL, "BPF_LD_IMM64 uses reserved fields");
    this.checkRegArg(insn.dst, "dst");
    const dst = this.regs[insn.dst]!;
    if (insn.src === 0) {
      markConstScalar(dst, insn.imm64 ?? 0n);
      return;
    }
    const map = this.opts.maps.get(insn.imm);
    if (!map) this.fail(9, `fd ${insn.imm} is not pointing to valid bpf_map`);
    markPointer(dst, "map_ptr");
    dst.map = map;
  }

  private checkLdAbs(insn: DecodedInsn): void {
    if (!mayAccessSkb(this.opts.progType)) this.fail(EINVAL, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
    const mode = insn.code & 0xe0;
    if (insn.dst !== 0 || insn.off !== 0 || (insn.code & 0x18) === 0x18 || (mode === 0x20 && insn.src !== 0)) {
      this.fail(EINVAL, "BPF_LD_[ABS|IND] uses reserved fields");
    }
    this.checkRegArg(6, "src");
    if (this.regs[6]!.type !== "ctx") this.fail(EINVAL, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
    if (mode === 0x40) this.checkRegArg(insn.src, "src");
    this.checkPtrOffReg(this.regs[6]!, 6);
    for (const r of CALLER_SAVED) {
      markNotInit(this.regs[r]!);
      this.scratchReg(r, true);
    }
    markUnknown(this.regs[0]!);
  }

  // ---- ALU ----------------------------------------------------------------------------------

  private checkAluOp(insn: DecodedInsn): void {
    const op = insn.code & 0xf0;
    const alu64 = cls(insn.code) === CLS.ALU64;
    const x = (insn.code & 0x08) !== 0;
    const regs = this.regs;
    if (op === OP.END || op === OP.NEG) {
      if (op === OP.NEG) {
        if (x || insn.src !== 0 || insn.off !== 0 || insn.imm !== 0) this.fail(EINVAL, "BPF_NEG uses reserved fields");
      } else if (insn.src !== 0 || insn.off !== 0 || (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64) || (alu64 && x)) {
        this.fail(EINVAL, "BPF_END uses reserved fields");
      }
      this.checkRegArg(insn.dst, "src");
      // Root may leak pointers (allow_ptr_leaks), so is_pointer_value() is false here.
      if (regs[insn.dst]!.type === "scalar") {
        this.checkRegArg(insn.dst, "dst_no_mark");
        const d = regs[insn.dst]!;
        scalarAlu(d, cloneReg(d), { op, alu32: !alu64, toBe: x, imm: insn.imm });
      } else this.checkRegArg(insn.dst, "dst");
      this.sanity(insn.dst);
      return;
    }
    if (op === OP.MOV) {
      if (x) {
        if (alu64 && insn.off === 1) {
          // BPF_ADDR_SPACE_CAST: only for programs with an arena map, which these never have.
          if (insn.imm !== 1 && insn.imm !== 1 << 16) this.fail(EINVAL, "addr_space_cast insn can only convert between address space 1 and 0");
          this.fail(EINVAL, "addr_space_cast insn can only be used in a program that has an associated arena");
        }
        if (alu64 ? (insn.off !== 0 && insn.off !== 8 && insn.off !== 16 && insn.off !== 32) || insn.imm !== 0 : (insn.off !== 0 && insn.off !== 8 && insn.off !== 16) || insn.imm !== 0) {
          this.fail(EINVAL, "BPF_MOV uses reserved fields");
        }
        this.checkRegArg(insn.src, "src");
      } else if (insn.src !== 0 || insn.off !== 0) this.fail(EINVAL, "BPF_MOV uses reserved fields");
      this.checkRegArg(insn.dst, "dst_no_mark");
      const dst = regs[insn.dst]!;
      if (x) {
        const src = regs[insn.src]!;
        if (alu64) {
          if (insn.off === 0) {
            this.assignScalarIdBeforeMov(src);
            copyRegInto(dst, src);
          } else if (src.type === "scalar") {
            const noSext = src.umax < 1n << BigInt(insn.off - 1);
            if (noSext) this.assignScalarIdBeforeMov(src);
            copyRegInto(dst, src);
            if (!noSext) dst.id = 0;
            coerceRegToSizeSx(dst, insn.off >> 3);
          } else markUnknown(dst);
        } else {
          if (src.type === "scalar") {
            if (insn.off === 0) {
              const fits = regWidth(src) <= 32;
              if (fits) this.assignScalarIdBeforeMov(src);
              copyRegInto(dst, src);
              if (!fits) dst.id = 0;
            } else {
              const noSext = src.umax < 1n << BigInt(insn.off - 1);
              if (noSext) this.assignScalarIdBeforeMov(src);
              copyRegInto(dst, src);
              if (!noSext) dst.id = 0;
              coerceSubregToSizeSx(dst, insn.off >> 3);
            }
          } else markUnknown(dst);
          zext32To64(dst);
          regBoundsSync(dst);
        }
      } else {
        markUnknown(dst);
        setKnown(dst, alu64 ? u64(BigInt(insn.imm)) : BigInt(insn.imm >>> 0));
      }
      this.sanity(insn.dst);
      return;
    }
    if (op > OP.END) this.fail(EINVAL, `invalid BPF_ALU opcode ${op.toString(16)}`);
    if (x) {
      if (insn.imm !== 0 || (insn.off !== 0 && insn.off !== 1) || (insn.off === 1 && op !== OP.MOD && op !== OP.DIV)) this.fail(EINVAL, "BPF_ALU uses reserved fields");
      this.checkRegArg(insn.src, "src");
    } else if (insn.src !== 0 || (insn.off !== 0 && insn.off !== 1) || (insn.off === 1 && op !== OP.MOD && op !== OP.DIV)) {
      this.fail(EINVAL, "BPF_ALU uses reserved fields");
    }
    this.checkRegArg(insn.dst, "src");
    if ((op === OP.MOD || op === OP.DIV) && !x && insn.imm === 0) this.fail(EINVAL, "div by zero");
    if ((op === OP.LSH || op === OP.RSH || op === OP.ARSH) && !x) {
      const size = alu64 ? 64 : 32;
      if (insn.imm < 0 || insn.imm >= size) this.fail(EINVAL, `invalid shift ${insn.imm}`);
    }
    this.checkRegArg(insn.dst, "dst_no_mark");
    this.adjustRegMinMaxVals(insn);
    this.sanity(insn.dst);
  }

  private sanity(regno: number): void {
    const r = this.regs[regno]!;
    if (r.type === "scalar" && !regBoundsSane(r)) markUnbounded(r);
  }

  private assignScalarIdBeforeMov(src: Reg): void {
    if (src.type !== "scalar") return;
    if (src.addConst) {
      src.id = 0;
      src.addConst = false;
      src.off = 0;
    }
    if (!src.id && !tnumIsConst(src.varOff)) src.id = ++this.idGen;
  }

  private adjustRegMinMaxVals(insn: DecodedInsn): void {
    const regs = this.regs;
    const alu32 = cls(insn.code) !== CLS.ALU64;
    const op = insn.code & 0xf0;
    const dst = regs[insn.dst]!;
    const ptr = dst.type !== "scalar" ? dst : null;
    let src: Reg;
    if (insn.code & 0x08) {
      src = regs[insn.src]!;
      if (src.type !== "scalar") {
        if (dst.type !== "scalar") {
          if (op === OP.SUB) {
            markUnknown(dst);
            return;
          }
          this.fail(EACCES, `R${insn.dst} pointer ${ALU_OP_NAMES[op]} pointer prohibited`);
        }
        this.markChainPrecision(1 << insn.dst);
        this.adjustPtrMinMaxVals(insn, src, cloneReg(dst));
        return;
      }
      if (ptr) {
        this.markChainPrecision(1 << insn.src);
        this.adjustPtrMinMaxVals(insn, ptr, cloneReg(src));
        return;
      }
      if (dst.precise) this.markChainPrecision(1 << insn.src);
    } else {
      src = constReg(u64(BigInt(insn.imm)), dst);
      if (ptr) {
        this.adjustPtrMinMaxVals(insn, ptr, src);
        return;
      }
    }
    const dstUmax = dst.umax;
    const srcCopy = cloneReg(src);
    scalarAlu(dst, srcCopy, { op, alu32 });
    if ((op === OP.ADD || op === OP.SUB) && dst.id && regIsConst(srcCopy, alu32)) {
      const val = regConstValue(srcCopy, alu32);
      const sval = alu32 ? BigInt(lo32(val) | 0) : s64(val);
      let off = Number(BigInt.asIntN(32, val));
      const tooBig = !alu32 && (sval < BigInt(S32_MIN) || sval > BigInt(S32_MAX));
      const wide = alu32 && dstUmax > BigInt(U32_MAX);
      if (op === OP.SUB) off = -off;
      if (tooBig || wide || dst.addConst || (op === OP.SUB && off === -S32_MIN)) {
        dst.id = 0;
        dst.off = 0;
        dst.addConst = false;
      } else {
        dst.addConst = true;
        dst.off = off;
      }
    } else {
      dst.id = 0;
      dst.addConst = false;
      dst.off = 0;
    }
  }

  private adjustPtrMinMaxVals(insn: DecodedInsn, ptr: Reg, off: Reg): void {
    const dstno = insn.dst;
    const dst = this.regs[dstno]!;
    const op = insn.code & 0xf0;
    const known = tnumIsConst(off.varOff);
    const { smin: sminVal, smax: smaxVal, umin: uminVal, umax: umaxVal } = off;
    const p = cloneReg(ptr);
    if ((known && (sminVal !== smaxVal || uminVal !== umaxVal)) || sminVal > smaxVal || uminVal > umaxVal) {
      markUnknown(dst);
      return;
    }
    if (cls(insn.code) !== CLS.ALU64) {
      if (op === OP.SUB) {
        markUnknown(dst);
        return;
      }
      this.fail(EACCES, `R${dstno} 32-bit pointer arithmetic prohibited`);
    }
    if (p.maybeNull) this.fail(EACCES, `R${dstno} pointer arithmetic on ${regTypeStr(p)} prohibited, null-check it first`);
    const allowed = ["ctx", "map_value", "fp", "pkt", "pkt_meta", "mem"].includes(p.type) || (p.type === "flow_keys" && known);
    if (!allowed && !(p.type === "map_ptr" && known && sminVal === 0n && op === OP.ADD)) {
      this.fail(EACCES, `R${dstno} pointer arithmetic on ${regTypeStr(p)} prohibited`);
    }
    copyRegInto(dst, p);
    dst.type = p.type;
    dst.id = p.id;
    this.checkSaneOffsetScalar(off, p);
    this.checkSaneOffsetPtr(p);
    mark32Unbounded(dst);
    switch (op) {
      case OP.ADD: {
        const sum = BigInt(p.off) + sminVal;
        if (known && sum === BigInt(Number(BigInt.asIntN(32, sum)))) {
          dst.smin = p.smin;
          dst.smax = p.smax;
          dst.umin = p.umin;
          dst.umax = p.umax;
          dst.varOff = p.varOff;
          dst.off = Number(sum);
          dst.range = p.range;
          break;
        }
        const smin = p.smin + sminVal;
        const smax = p.smax + smaxVal;
        if (smin < -(1n << 63n) || smax > (1n << 63n) - 1n || smin > (1n << 63n) - 1n || smax < -(1n << 63n)) {
          dst.smin = -(1n << 63n);
          dst.smax = (1n << 63n) - 1n;
        } else {
          dst.smin = smin;
          dst.smax = smax;
        }
        const umin = p.umin + uminVal;
        const umax = p.umax + umaxVal;
        if (umin > u64(-1n) || umax > u64(-1n)) {
          dst.umin = 0n;
          dst.umax = u64(-1n);
        } else {
          dst.umin = umin;
          dst.umax = umax;
        }
        dst.varOff = tnumAdd(p.varOff, off.varOff);
        dst.off = p.off;
        dst.range = p.range;
        if (isPktPointer(p)) {
          dst.id = ++this.idGen;
          dst.range = 0;
        }
        break;
      }
      case OP.SUB: {
        if (p.type === "fp") this.fail(EACCES, `R${dstno} subtraction from stack pointer prohibited`);
        if (known && -sminVal === BigInt(Number(BigInt.asIntN(32, -sminVal)))) {
          dst.varOff = p.varOff;
          dst.smin = p.smin;
          dst.smax = p.smax;
          dst.umin = p.umin;
          dst.umax = p.umax;
          dst.id = p.id;
          dst.off = p.off - Number(sminVal);
          dst.range = p.range;
          break;
        }
        const smin = p.smin - smaxVal;
        const smax = p.smax - sminVal;
        if (smin < -(1n << 63n) || smax > (1n << 63n) - 1n) {
          dst.smin = -(1n << 63n);
          dst.smax = (1n << 63n) - 1n;
        } else {
          dst.smin = smin;
          dst.smax = smax;
        }
        if (p.umin < umaxVal) {
          dst.umin = 0n;
          dst.umax = u64(-1n);
        } else {
          dst.umin = p.umin - umaxVal;
          dst.umax = p.umax - uminVal;
        }
        dst.varOff = tnumSub(p.varOff, off.varOff);
        dst.off = p.off;
        dst.range = p.range;
        if (isPktPointer(p)) {
          dst.id = ++this.idGen;
          if (sminVal < 0n) dst.range = 0;
        }
        break;
      }
      case OP.AND:
      case OP.OR:
      case OP.XOR:
        this.fail(EACCES, `R${dstno} bitwise operator ${ALU_OP_NAMES[op]} on pointer prohibited`);
        break;
      default:
        this.fail(EACCES, `R${dstno} pointer arithmetic with ${ALU_OP_NAMES[op]} operator prohibited`);
    }
    this.checkSaneOffsetPtr(dst, p.type);
    regBoundsSync(dst);
  }

  private checkSaneOffsetScalar(off: Reg, ptr: Reg): void {
    const known = tnumIsConst(off.varOff);
    const t = regTypeStr(ptr);
    if (known && (off.smin >= BPF_MAX_VAR_OFF || off.smin <= -BPF_MAX_VAR_OFF)) {
      this.fail(EINVAL, `math between ${t} pointer and ${off.smin} is not allowed`);
    }
    if (off.smin === -(1n << 63n)) this.fail(EINVAL, `math between ${t} pointer and register with unbounded min value is not allowed`);
  }

  private checkSaneOffsetPtr(r: Reg, type = r.type): void {
    const t = type === r.type ? regTypeStr(r) : type;
    if (r.smin >= BPF_MAX_VAR_OFF || r.smin <= -BPF_MAX_VAR_OFF) this.fail(EINVAL, `value ${r.smin} makes ${t} pointer be out of bounds`);
    if (r.off >= Number(BPF_MAX_VAR_OFF) || r.off <= -Number(BPF_MAX_VAR_OFF)) this.fail(EINVAL, `${t} pointer offset ${r.off} is not allowed`);
  }

  // ---- Memory -------------------------------------------------------------------------------

  private checkPtrOffReg(reg: Reg, regno: number): void {
    if (reg.smin < 0n) this.fail(EACCES, `negative offset ${regTypeStr(reg)} ptr R${regno} off=${reg.off} disallowed`);
    if (reg.off) this.fail(EACCES, `dereference of modified ${regTypeStr(reg)} ptr R${regno} off=${reg.off} disallowed`);
    if (!tnumIsConst(reg.varOff) || reg.varOff.value) {
      this.fail(EACCES, `variable ${regTypeStr(reg)} access var_off=${fmtTnum(reg.varOff)} disallowed`);
    }
  }

  /** check_mem_access. `stImm` is the immediate of a BPF_ST store. */
  private checkMemAccess(regno: number, insnOff: number, size: number, t: "read" | "write", valueRegno: number, isLdsx: boolean, stImm?: number): void {
    const regs = this.regs;
    const reg = regs[regno]!;
    if (reg.type === "fp" && size !== 1) {
      const total = tnumAdd(reg.varOff, tnumConst(u64(BigInt(reg.off + insnOff))));
      if ((total.value | total.mask) & BigInt(size - 1)) {
        this.fail(EACCES, `misaligned stack access off ${fmtTnum(reg.varOff)}+${reg.off}+${insnOff} size ${size}`);
      }
    }
    const off = insnOff + reg.off;
    switch (reg.type) {
      case "map_value": {
        if (reg.maybeNull) this.fail(EACCES, `R${regno} invalid mem access '${regTypeStr(reg)}'`);
        this.checkMapAccess(regno, off, size, false);
        if (t === "read" && valueRegno >= 0) markUnknown(regs[valueRegno]!);
        break;
      }
      case "mem": {
        if (reg.maybeNull) this.fail(EACCES, `R${regno} invalid mem access '${regTypeStr(reg)}'`);
        if (t === "write" && reg.memFlags === "rdonly_") this.fail(EACCES, `R${regno} cannot write into ${regTypeStr(reg)}`);
        this.checkMemRegionAccess(regno, off, size, reg.range, false);
        if (valueRegno >= 0 && t === "read") markUnknown(regs[valueRegno]!);
        break;
      }
      case "ctx": {
        this.checkPtrOffReg(reg, regno);
        const a = ctxAccess(this.opts.progType, off, size, t === "write");
        if (!a.ok) this.fail(EACCES, `invalid bpf_context access off=${off} size=${size}`);
        if (t === "read" && valueRegno >= 0) {
          const d = regs[valueRegno]!;
          if (!a.regType || a.regType === "scalar") markUnknown(d);
          else {
            markPointer(d, a.regType);
            if (a.maybeNull) {
              d.maybeNull = true;
              d.id = ++this.idGen;
            }
          }
        }
        break;
      }
      case "fp":
        this.checkStackAccessWithinBounds(regno, off, size, t);
        if (t === "read") this.checkStackRead(regno, off, size, valueRegno);
        else this.checkStackWrite(off, size, valueRegno, stImm);
        break;
      case "pkt":
      case "pkt_meta":
        if (t === "write" && this.opts.progType !== "tc" && this.opts.progType !== "xdp") this.fail(EACCES, "cannot write into packet");
        this.checkPacketAccess(regno, off, size, false);
        if (t === "read" && valueRegno >= 0) markUnknown(regs[valueRegno]!);
        break;
      case "map_ptr":
        this.fail(EACCES, `R${regno} invalid mem access '${regTypeStr(reg)}'`);
        break;
      default:
        this.fail(EACCES, `R${regno} invalid mem access '${regTypeStr(reg)}'`);
    }
    if (size < 8 && valueRegno >= 0 && t === "read" && regs[valueRegno]!.type === "scalar") {
      if (!isLdsx) coerceRegToSize(regs[valueRegno]!, size);
      else coerceRegToSizeSx(regs[valueRegno]!, size);
    }
  }

  private memError(regno: number, off: number, size: number, memSize: number): never {
    const reg = this.regs[regno]!;
    switch (reg.type) {
      case "map_value":
        this.fail(EACCES, `invalid access to map value, value_size=${memSize} off=${off} size=${size}`);
        break;
      case "pkt":
      case "pkt_meta":
      case "pkt_end":
        this.errorLine(`invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=${memSize})`);
        throw new Stop(EACCES);
      default:
        this.fail(EACCES, `invalid access to memory, mem_size=${memSize >>> 0} off=${off} size=${size}`);
    }
    throw new Stop(EACCES);
  }

  private memOk(off: number, size: number, memSize: number, zeroOk: boolean): boolean {
    const sizeOk = size > 0 || (size === 0 && zeroOk);
    return off >= 0 && sizeOk && off + size <= memSize;
  }

  private checkPacketAccess(regno: number, off: number, size: number, zeroOk: boolean): void {
    const reg = this.regs[regno]!;
    if (reg.smin < 0n) this.fail(EACCES, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
    if (reg.range < 0) this.fail(EINVAL, `R${regno} offset is outside of the packet`);
    if (!this.memOk(off, size, reg.range, zeroOk)) {
      try {
        this.memError(regno, off, size, reg.range);
      } catch (e) {
        this.errorLine(`R${regno} offset is outside of the packet`);
        throw e;
      }
    }
  }

  private checkMemRegionAccess(regno: number, off: number, size: number, memSize: number, zeroOk: boolean): void {
    const reg = this.regs[regno]!;
    const smin = reg.smin;
    if (smin < 0n && (smin === -(1n << 63n) || BigInt(off) + smin < -(1n << 31n) || smin + BigInt(off) < 0n)) {
      this.fail(EACCES, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
    }
    if (!this.memOk(Number(smin) + off, size, memSize, zeroOk)) {
      try {
        this.memError(regno, Number(smin) + off, size, memSize);
      } catch (e) {
        this.errorLine(`R${regno} min value is outside of the allowed memory range`);
        throw e;
      }
    }
    if (reg.umax >= BPF_MAX_VAR_OFF) this.fail(EACCES, `R${regno} unbounded memory access, make sure to bounds check any such access`);
    if (!this.memOk(Number(reg.umax) + off, size, memSize, zeroOk)) {
      try {
        this.memError(regno, Number(reg.umax) + off, size, memSize);
      } catch (e) {
        this.errorLine(`R${regno} max value is outside of the allowed memory range`);
        throw e;
      }
    }
  }

  private checkMapAccess(regno: number, off: number, size: number, zeroOk: boolean): void {
    const map = this.regs[regno]!.map!;
    this.checkMemRegionAccess(regno, off, size, map.valueSize, zeroOk);
  }

  private checkStackAccessWithinBounds(regno: number, off: number, size: number, t: "read" | "write"): void {
    const reg = this.regs[regno]!;
    const extra = t === "read" ? " read from" : " write to";
    let minOff: bigint;
    let maxOff: bigint;
    if (tnumIsConst(reg.varOff)) {
      minOff = s64(reg.varOff.value) + BigInt(off);
      maxOff = minOff + BigInt(size);
    } else {
      if (reg.smax >= BPF_MAX_VAR_OFF || reg.smin <= -BPF_MAX_VAR_OFF) this.fail(EACCES, `invalid unbounded variable-offset${extra} stack R${regno}`);
      minOff = reg.smin + BigInt(off);
      maxOff = reg.smax + BigInt(off) + BigInt(size);
    }
    let errno = 0;
    if (minOff < BigInt(-MAX_BPF_STACK) || minOff > -1n) errno = EACCES;
    else if (maxOff > 0n) errno = EINVAL;
    if (errno) {
      if (tnumIsConst(reg.varOff)) this.fail(errno, `invalid${extra} stack R${regno} off=${off} size=${size}`);
      this.fail(errno, `invalid variable-offset${extra} stack R${regno} var_off=${fmtTnum(reg.varOff)} off=${off} size=${size}`);
    }
    const need = Number(-minOff);
    const rounded = Math.ceil(need / 8) * 8;
    if (rounded > this.cur.allocated) this.cur.allocated = rounded;
  }

  private checkStackWrite(off: number, size: number, valueRegno: number, stImm: number | undefined): void {
    const reg = this.regs[valueRegno >= 0 ? valueRegno : 0]!;
    const slot = -off - 1;
    const spi = Math.floor(slot / 8);
    const st = slotAt(this.cur, spi);
    this.scratchSlot(spi, true, size === 8);
    const value = valueRegno >= 0 ? reg : null;
    const aligned = off % 8 === 0;
    if (value && aligned && value.type === "scalar") {
      const fits = regWidth(value) <= 8 * size;
      if (fits) this.assignScalarIdBeforeMov(value);
      this.saveRegisterState(st, value, size);
      if (!fits) st.spilled.id = 0;
      this.histSpi = spi;
    } else if (!value && aligned && stImm !== undefined) {
      const tmp = newReg();
      markConstScalar(tmp, u64(BigInt(stImm)));
      this.saveRegisterState(st, tmp, size);
      this.histSpi = spi;
    } else if (value && isPointer(value)) {
      if (size !== 8) this.fail(EACCES, "invalid size of register spill");
      this.saveRegisterState(st, value, size);
      this.histSpi = spi;
    } else {
      let type: SlotByte = "m";
      markNotInit(st.spilled);
      if (st.types.includes("r")) for (let i = 0; i < 8; i++) if (st.types[i] !== "?") st.types[i] = "m";
      const isZero = value ? value.type === "scalar" && tnumIsConst(value.varOff) && value.varOff.value === 0n : stImm === 0;
      if (isZero) {
        if (valueRegno >= 0) this.markChainPrecision(1 << valueRegno);
        type = "0";
      }
      for (let i = 0; i < size; i++) st.types[(((slot - i) % 8) + 8) % 8] = type;
    }
  }

  private saveRegisterState(st: { types: SlotByte[]; spilled: Reg }, reg: Reg, size: number): void {
    copyRegInto(st.spilled, reg);
    let i = 8;
    for (; i > 8 - size; i--) st.types[i - 1] = "r";
    for (; i; i--) {
      const t = st.types[i - 1]!;
      if (t === "0" || t === "?") continue;
      st.types[i - 1] = "m";
    }
  }

  private checkStackRead(regno: number, off: number, size: number, dstRegno: number): void {
    const reg = this.regs[regno]!;
    if (!tnumIsConst(reg.varOff)) {
      // Variable-offset reads: the value is unknown (root may read uninitialised stack).
      if (dstRegno >= 0) markUnknown(this.regs[dstRegno]!);
      return;
    }
    off = Number(s64(reg.varOff.value)) + off;
    const slot = -off - 1;
    const spi = Math.floor(slot / 8);
    const st = slotAt(this.cur, spi);
    this.scratchSlot(spi, false);
    const dst = dstRegno >= 0 ? this.regs[dstRegno]! : null;
    if (isSpilled(st)) {
      let spillSize = 1;
      for (let i = 7; i > 0 && st.types[i - 1] === "r"; i--) spillSize++;
      if (size !== 8 || spillSize !== 8) {
        if (st.spilled.type !== "scalar") this.fail(EACCES, "invalid size of register fill");
        if (!dst) return;
        // bpf_stack_narrow_access_ok (little-endian): the fill starts at the slot's lowest byte.
        if (size <= spillSize && off % 8 === 0) {
          if (size === 4 && spillSize === 4 && regWidth(st.spilled) <= 32) this.assignScalarIdBeforeMov(st.spilled);
          copyRegInto(dst, st.spilled);
          if (size !== 4 || spillSize !== 4) dst.id = 0;
          this.histSpi = spi;
        } else {
          let spillCnt = 0;
          let zeroCnt = 0;
          for (let i = 0; i < size; i++) {
            const t = st.types[(((slot - i) % 8) + 8) % 8]!;
            if (t === "r") spillCnt++;
            else if (t === "0") zeroCnt++;
          }
          if (spillCnt === size && tnumIsConst(st.spilled.varOff) && st.spilled.varOff.value === 0n) {
            markConstScalar(dst, 0n);
            this.histSpi = spi;
          } else if (zeroCnt === size) markConstScalar(dst, 0n);
          else markUnknown(dst);
        }
      } else if (dst) {
        this.assignScalarIdBeforeMov(st.spilled);
        copyRegInto(dst, st.spilled);
        this.histSpi = spi;
      }
      return;
    }
    if (!dst) return;
    let zeros = 0;
    for (let i = 0; i < size; i++) if (st.types[(((slot - i) % 8) + 8) % 8] === "0") zeros++;
    if (zeros === size) markConstScalar(dst, 0n);
    else markUnknown(dst);
  }

  private checkAtomic(insn: DecodedInsn): void {
    const imm = insn.imm;
    const size = sizeBytes(insn.code);
    const fetch = (imm & 1) !== 0;
    const base = imm & ~1;
    const isRmw = base === 0x00 || base === 0x40 || base === 0x50 || base === 0xa0 || imm === 0xe1 || imm === 0xf1;
    if (!isRmw) this.fail(EINVAL, `BPF_ATOMIC uses invalid atomic opcode ${(imm >>> 0).toString(16).padStart(2, "0")}`);
    if (size !== 4 && size !== 8) this.fail(EINVAL, "invalid atomic operand size");
    this.checkRegArg(insn.src, "src");
    this.checkRegArg(insn.dst, "src");
    if (imm === 0xf1) this.checkRegArg(0, "src");
    const dst = this.regs[insn.dst]!;
    // Root may leak pointers (allow_ptr_leaks): no "leaks addr into mem" check here.
    if (dst.type === "ctx" || dst.type === "pkt" || dst.type === "pkt_meta" || dst.type === "flow_keys") {
      this.fail(EACCES, `BPF_ATOMIC stores into R${insn.dst} ${regTypeStr(dst)} is not allowed`);
    }
    const loadReg = imm === 0xf1 ? 0 : fetch ? insn.src : -1;
    if (fetch) this.checkRegArg(loadReg, "dst_no_mark");
    this.checkMemAccess(insn.dst, insn.off, size, "read", loadReg, false);
    this.checkMemAccess(insn.dst, insn.off, size, "write", -1, false);
  }

  // ---- Helper calls ----------------------------------------------------------------------

  private checkHelperCall(insn: DecodedInsn): void {
    const id = insn.imm;
    const name = HELPERS.get(id) ?? "unknown";
    if (id < 0 || id >= BPF_FUNC_MAX_ID) this.fail(EINVAL, `invalid func ${name}#${id}`);
    if (!helperAvailable(this.opts.progType, id)) this.fail(EINVAL, `program of this type cannot use helper ${name}#${id}`);
    const proto = HELPER_PROTOS.get(id);
    if (!proto) this.unsupported(insn, `calls of ${name}#${id}`);
    const meta: CallMeta = { map: null, rawMode: false, accessSize: 0, regno: 0, msizeMax: 0n, constMapKey: null };
    for (let i = 0; i < proto.args.length; i++) this.checkFuncArg(i, proto.args, meta);
    for (let i = 0; i < meta.accessSize; i++) this.checkMemAccess(meta.regno, i, 1, "write", -1, false);
    const regs = this.regs;
    for (const r of CALLER_SAVED) {
      markNotInit(regs[r]!);
      this.scratchReg(r, true);
    }
    const r0 = regs[0]!;
    switch (proto.ret) {
      case "integer":
        markUnknown(r0);
        break;
      case "void":
        markNotInit(r0);
        break;
      case "map_value_or_null": {
        markPointer(r0, "map_value");
        r0.map = meta.map;
        const map = meta.map!;
        const elide = (map.type === 2 || map.type === 6) && meta.constMapKey !== null && meta.constMapKey < BigInt(map.maxEntries);
        r0.maybeNull = !elide;
        if (r0.maybeNull) r0.id = ++this.idGen;
        break;
      }
      case "ringbuf_mem_or_null":
        markPointer(r0, "mem");
        r0.memFlags = "ringbuf_";
        r0.maybeNull = true;
        r0.range = Number(meta.msizeMax);
        r0.id = ++this.idGen;
        break;
    }
  }

  private argTypeError(regno: number, reg: Reg, expected: readonly string[]): never {
    this.fail(EACCES, `R${regno} type=${regTypeStr(reg)} expected=${expected.join(", ")}`);
  }

  private checkFuncArg(arg: number, args: readonly ArgKind[], meta: CallMeta): void {
    const regno = arg + 1;
    const kind = args[arg]!;
    this.checkRegArg(regno, "src");
    const reg = this.regs[regno]!;
    if (kind === "anything") return;
    const MEM_TYPES = ["fp", "pkt", "pkt_meta", "map_key", "map_value", "mem", "ringbuf_mem", "buf", "trusted_ptr_"];
    const memLike = (r: Reg) => ["fp", "pkt", "pkt_meta", "map_value", "mem"].includes(r.type) && !r.maybeNull;
    switch (kind) {
      case "ctx":
        if (reg.type !== "ctx") this.argTypeError(regno, reg, ["ctx"]);
        this.checkPtrOffReg(reg, regno);
        return;
      case "map_ptr":
        if (reg.type !== "map_ptr") this.argTypeError(regno, reg, ["map_ptr"]);
        meta.map = reg.map;
        return;
      case "map_key":
      case "map_value": {
        if (!memLike(reg)) this.argTypeError(regno, reg, MEM_TYPES);
        const map = meta.map!;
        const size = kind === "map_key" ? map.keySize : map.valueSize;
        this.checkHelperMemAccess(regno, size, "read", false, null);
        if (kind === "map_key" && reg.type === "fp" && tnumIsConst(reg.varOff)) meta.constMapKey = this.constStackValue(reg, size);
        return;
      }
      case "uninit_mem":
      case "ro_mem":
        if (!memLike(reg)) this.argTypeError(regno, reg, MEM_TYPES);
        if (kind === "uninit_mem") meta.rawMode = true;
        return;
      case "ringbuf_mem_release":
        if (!(reg.type === "mem" && reg.memFlags === "ringbuf_" && !reg.maybeNull)) this.argTypeError(regno, reg, ["ringbuf_mem"]);
        return;
      case "const_size":
      case "const_size_or_zero":
      case "const_alloc_size_or_zero": {
        if (reg.type !== "scalar") this.argTypeError(regno, reg, ["scalar"]);
        if (kind === "const_alloc_size_or_zero") {
          if (!tnumIsConst(reg.varOff)) this.fail(EACCES, `R${regno} is not a known constant'`);
          meta.msizeMax = reg.varOff.value;
          this.markChainPrecision(1 << regno);
          return;
        }
        const zeroOk = kind === "const_size_or_zero";
        const write = args[arg - 1] === "uninit_mem";
        meta.msizeMax = reg.umax;
        const m = tnumIsConst(reg.varOff) ? meta : null;
        if (reg.smin < 0n) this.fail(EACCES, `R${regno} min value is negative, either use unsigned or 'var &= const'`);
        if (reg.umin === 0n && !zeroOk) this.fail(EACCES, `R${regno} invalid zero-sized read: u64=[${reg.umin},${reg.umax}]`);
        if (reg.umax >= BPF_MAX_VAR_SIZ) this.fail(EACCES, `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
        this.checkHelperMemAccess(regno - 1, Number(reg.umax), write ? "write" : "read", zeroOk, m);
        this.markChainPrecision(1 << regno);
        return;
      }
    }
  }

  /** The constant a stack-resident map key holds, when it is a spilled constant of the key's size. */
  private constStackValue(reg: Reg, size: number): bigint | null {
    const off = Number(s64(reg.varOff.value)) + reg.off;
    if (off % 8 !== 0) return null;
    const slot = this.cur.stack[(-off - 1) >> 3];
    if (!slot || !isSpilled(slot) || slot.spilled.type !== "scalar" || !tnumIsConst(slot.spilled.varOff)) return null;
    let spillSize = 0;
    for (let i = 7; i >= 0 && slot.types[i] === "r"; i--) spillSize++;
    if (spillSize !== size) return null;
    return slot.spilled.varOff.value;
  }

  private checkHelperMemAccess(regno: number, size: number, t: "read" | "write", zeroOk: boolean, meta: CallMeta | null): void {
    const reg = this.regs[regno]!;
    switch (reg.type) {
      case "pkt":
      case "pkt_meta":
        this.checkPacketAccess(regno, reg.off, size, zeroOk);
        return;
      case "map_value":
        this.checkMapAccess(regno, reg.off, size, zeroOk);
        return;
      case "mem":
        if (reg.memFlags === "rdonly_" && t === "write") this.fail(EACCES, `R${regno} cannot write into ${regTypeStr(reg)}`);
        this.checkMemRegionAccess(regno, reg.off, size, reg.range, zeroOk);
        return;
      case "fp":
        this.checkStackRangeInitialized(regno, reg.off, size, zeroOk, t, meta);
        return;
      default:
        if (zeroOk && size === 0 && reg.type === "scalar" && tnumIsConst(reg.varOff) && reg.varOff.value === 0n) return;
        this.fail(EACCES, `R${regno} type=${regTypeStr(reg)} expected=fp`);
    }
  }

  private checkStackRangeInitialized(regno: number, off: number, size: number, zeroOk: boolean, t: "read" | "write", meta: CallMeta | null): void {
    const reg = this.regs[regno]!;
    if (size === 0 && !zeroOk) this.fail(EACCES, "invalid zero-sized read");
    if (size === 0) return;
    this.checkStackAccessWithinBounds(regno, off, size, t);
    const base = Number(s64(reg.varOff.value)) + off;
    if (meta && meta.rawMode) {
      meta.accessSize = size;
      meta.regno = regno;
      return;
    }
    for (let i = base; i < base + size; i++) {
      const slot = -i - 1;
      const spi = Math.floor(slot / 8);
      const st = slotAt(this.cur, spi);
      const k = slot % 8;
      const ty = st.types[k]!;
      if (ty === "m" || ty === "0" || ty === "?") {
        if (t === "write") st.types[k] = "m";
      } else if (isSpilled(st)) {
        if (t === "write") {
          markUnknown(st.spilled);
          for (let j = 0; j < 8; j++) if (st.types[j] !== "?") st.types[j] = "m";
        }
      }
      // Helper accesses record liveness but do not scratch the slot (it is not printed after the
      // call); only raw-mode buffers, written byte by byte afterwards, show up.
      if (t === "read") this.recordStack(spi, false, false);
    }
  }

  // ---- Conditional jumps -----------------------------------------------------------------

  private checkCondJmp(insn: DecodedInsn): void {
    let op = insn.code & 0xf0;
    const isJmp32 = cls(insn.code) === CLS.JMP32;
    if (op === JMP.JA || op > JMP.JCOND) this.fail(EINVAL, `invalid BPF_JMP/JMP32 opcode ${op.toString(16)}`);
    if (op === JMP.JCOND) this.unsupported(insn, "may_goto");
    this.checkRegArg(insn.dst, "src");
    const regs = this.regs;
    const dst = regs[insn.dst]!;
    let src: Reg;
    const x = (insn.code & 0x08) !== 0;
    if (x) {
      if (insn.imm !== 0) this.fail(EINVAL, "BPF_JMP/JMP32 uses reserved fields");
      this.checkRegArg(insn.src, "src");
      src = regs[insn.src]!;
    } else {
      if (insn.src !== 0) this.fail(EINVAL, "BPF_JMP/JMP32 uses reserved fields");
      src = constReg(u64(BigInt(insn.imm)), newReg());
    }
    const target = insn.index + insn.off + 1;
    const pred = this.isBranchTaken(dst, src, op, isJmp32);
    if (pred >= 0) {
      if (dst.type === "scalar") this.markChainPrecision(1 << insn.dst);
      if (x && src.type === "scalar") this.markChainPrecision(1 << insn.src);
    }
    if (pred === 1) {
      this.printInsnState(insn.index);
      this.insnIdx += insn.off;
      if (this.step) this.step.branch = { target, outcome: "taken" };
      return;
    }
    if (pred === 0) {
      this.printInsnState(insn.index);
      if (this.step) this.step.branch = { target, outcome: "not-taken" };
      return;
    }
    // Registers linked to the compared scalars (shared ids), kept for precision backtracking.
    // Only registers live at the jump are linked (collect_linked_regs consults live_regs_before).
    const linked: number[] = [];
    const live = this.cfg.liveBefore[insn.index]!;
    const collect = (id: number) => {
      for (let i = 0; i < 10; i++) {
        const r = regs[i]!;
        if (live & (1 << i) && r.type === "scalar" && r.id === id && !linked.includes(i)) linked.push(i);
      }
      // Spilled copies are linked too (encoded as 100 + slot index).
      this.cur.stack.forEach((s, spi) => {
        if (s && isSpilled(s) && s.spilled.type === "scalar" && s.spilled.id === id && !linked.includes(100 + spi)) linked.push(100 + spi);
      });
    };
    if (dst.type === "scalar" && dst.id) collect(dst.id);
    if (x && src.type === "scalar" && src.id) collect(src.id);
    if (linked.length > 1) this.histLinked = linked;
    // The pushed branch shares the history up to and including this jump.
    const savedHist = this.cur.hist;
    this.cur.hist = this.histNode(insn.index);
    const other = this.pushStack(target, insn.index);
    this.cur.hist = savedHist;
    const oregs = other.regs;
    if (x) {
      this.regSetMinMax(oregs[insn.dst]!, oregs[insn.src]!, dst, src, op, isJmp32);
    } else {
      const f0 = cloneReg(src);
      const f1 = cloneReg(src);
      this.regSetMinMax(oregs[insn.dst]!, f0, dst, f1, op, isJmp32, true);
    }
    if (x && src.type === "scalar" && src.id) {
      this.syncLinkedRegs(this.cur, src, linked);
      this.syncLinkedRegs(other, oregs[insn.src]!, linked);
    }
    if (dst.type === "scalar" && dst.id) {
      this.syncLinkedRegs(this.cur, dst, linked);
      this.syncLinkedRegs(other, oregs[insn.dst]!, linked);
    }
    if (!isJmp32 && !x && insn.imm === 0 && (op === JMP.JEQ || op === JMP.JNE) && dst.maybeNull) {
      this.markPtrOrNullRegs(this.cur, dst.id, op === JMP.JNE);
      this.markPtrOrNullRegs(other, oregs[insn.dst]!.id, op === JMP.JEQ);
    } else {
      this.tryMatchPktPointers(insn, dst, x ? src : null, this.cur, other);
    }
    op = insn.code & 0xf0;
    if (this.step) this.step.branch = { target, outcome: "both", pushedTo: target };
    this.printInsnState(insn.index);
  }

  private isBranchTaken(r1: Reg, r2: Reg, op: number, isJmp32: boolean): number {
    const pktAny = (r: Reg) => isPktPointer(r) || r.type === "pkt_end";
    if (pktAny(r1) && pktAny(r2) && !isJmp32) return this.isPktPtrBranchTaken(r1, r2, op);
    if (isPointer(r1) || isPointer(r2)) {
      if (!regIsConst(r2, isJmp32) || r2.type !== "scalar") {
        op = flipOpcode(op);
        [r1, r2] = [r2, r1];
      }
      if (r2.type !== "scalar" || !regIsConst(r2, isJmp32)) return -1;
      const notNull = !r1.maybeNull && (r1.type === "map_value" || r1.type === "mem" || r1.type === "sock_common" || r1.type === "map_ptr");
      if (!notNull) return -1;
      if (regConstValue(r2, isJmp32) !== 0n) return -1;
      if (op === JMP.JEQ) return 0;
      if (op === JMP.JNE) return 1;
      return -1;
    }
    return isScalarBranchTaken(r1, r2, op, isJmp32);
  }

  private isPktPtrBranchTaken(d: Reg, s: Reg, op: number): number {
    let pkt: Reg;
    if (s.type === "pkt_end") pkt = d;
    else if (d.type === "pkt_end") {
      pkt = s;
      op = flipOpcode(op);
    } else return -1;
    if (pkt.range >= 0) return -1;
    switch (op) {
      case JMP.JLE:
      case JMP.JGT:
        if (pkt.range === BEYOND_PKT_END) return op === JMP.JGT ? 1 : 0;
        break;
      case JMP.JLT:
      case JMP.JGE:
        if (pkt.range === BEYOND_PKT_END || pkt.range === AT_PKT_END) return op === JMP.JGE ? 1 : 0;
        break;
    }
    return -1;
  }

  /** `immediate`: t2/f2 are throw-away copies of the instruction's constant (BPF_K). */
  private regSetMinMax(t1: Reg, t2: Reg, f1: Reg, f2: Reg, op: number, isJmp32: boolean, immediate = false): void {
    if (f1.type !== "scalar" || f2.type !== "scalar") return;
    if (f1 === f2) return;
    refineCondOp(f1, f2, revOpcode(op), isJmp32);
    regBoundsSync(f1);
    if (!immediate) regBoundsSync(f2);
    refineCondOp(t1, t2, op, isJmp32);
    regBoundsSync(t1);
    if (!immediate) regBoundsSync(t2);
    for (const r of immediate ? [t1, f1] : [t1, t2, f1, f2]) if (!regBoundsSane(r)) markUnbounded(r);
  }

  private syncLinkedRegs(st: VState, known: Reg, linked: readonly number[]): void {
    for (const i of linked) {
      const r = i >= 100 ? st.stack[i - 100]?.spilled : st.regs[i];
      if (!r) continue;
      if (r === known || r.type !== "scalar" || r.id !== known.id) continue;
      if ((!r.addConst && !known.addConst) || r.off === known.off) {
        copyRegInto(r, known);
      } else {
        const savedOff = r.off;
        const savedId = r.id;
        const savedAdd = r.addConst;
        const delta = constReg(u64(BigInt(r.off - known.off)), r);
        copyRegInto(r, known);
        r.off = savedOff;
        r.id = savedId;
        r.addConst = savedAdd;
        add32(r, delta);
        add64(r, delta);
        r.varOff = tnumAdd(r.varOff, delta.varOff);
        regBoundsSync(r);
      }
    }
  }

  private markPtrOrNullRegs(st: VState, id: number, isNull: boolean): void {
    const fix = (r: Reg) => {
      if (!r.maybeNull || r.id !== id) return;
      if (isNull) {
        r.type = "scalar";
        r.maybeNull = false;
        r.memFlags = "";
        r.map = null;
        r.id = 0;
        r.refObjId = 0;
        r.range = 0;
        return;
      }
      r.maybeNull = false;
      r.id = 0;
    };
    for (const r of st.regs) fix(r);
    for (const s of st.stack) if (s && isSpilled(s)) fix(s.spilled);
  }

  private tryMatchPktPointers(insn: DecodedInsn, dst: Reg, src: Reg | null, thisB: VState, otherB: VState): void {
    if (!src || cls(insn.code) === CLS.JMP32) return;
    const op = insn.code & 0xf0;
    const initPkt = (r: Reg) => r.type === "pkt" && r.id === 0 && tnumIsConst(r.varOff) && r.varOff.value === 0n;
    const dstFirst = (dst.type === "pkt" && src.type === "pkt_end") || (dst.type === "pkt_meta" && initPkt(src));
    const srcFirst = (dst.type === "pkt_end" && src.type === "pkt") || (initPkt(dst) && src.type === "pkt_meta");
    if (!dstFirst && !srcFirst) return;
    const d = insn.dst;
    const s = insn.src;
    switch (op) {
      case JMP.JGT:
        if (dstFirst) {
          findGoodPktPointers(thisB, dst, false);
          markPktEnd(otherB, d, true);
        } else {
          findGoodPktPointers(otherB, src, true);
          markPktEnd(thisB, s, false);
        }
        break;
      case JMP.JLT:
        if (dstFirst) {
          findGoodPktPointers(otherB, dst, true);
          markPktEnd(thisB, d, false);
        } else {
          findGoodPktPointers(thisB, src, false);
          markPktEnd(otherB, s, true);
        }
        break;
      case JMP.JGE:
        if (dstFirst) {
          findGoodPktPointers(thisB, dst, true);
          markPktEnd(otherB, d, false);
        } else {
          findGoodPktPointers(otherB, src, false);
          markPktEnd(thisB, s, true);
        }
        break;
      case JMP.JLE:
        if (dstFirst) {
          findGoodPktPointers(otherB, dst, false);
          markPktEnd(thisB, d, true);
        } else {
          findGoodPktPointers(thisB, src, true);
          markPktEnd(otherB, s, false);
        }
        break;
    }
  }
}

