/**
 * Step-by-step execution for the debugger. It runs the interpreter loop of `exec.ts` one
 * instruction at a time (the same loop `runFilter` uses), and around each step records what the
 * UI shows: registers before and after, the packet bytes read, and a plain-language note when
 * something noteworthy happened (a load out of bounds, a division by zero, a libpcap/kernel
 * difference).
 */
import type { CbpfInsn } from "./insn";
import * as exec from "./exec";
import type { Machine } from "./exec";
import { describeInsn } from "./format";
import { checkPacket } from "./interpret";
import { lowerProgram, type LoweredProgram } from "./lower";
import {
  BPF_ALU,
  BPF_B,
  BPF_IND,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MSH,
  BPF_RSH,
  BPF_X,
  ancillaryName,
  isAbsoluteLoad,
  isScratchRead,
  isScratchWrite,
} from "./opcodes";
import { packetLength, type CbpfSemantics, type CbpfSkbContext } from "./semantics";

const { execute, newMachine, resetMachine, Status, StopReason } = exec;

export interface CbpfRegisters {
  A: number;
  X: number;
  /** The 16 scratch words M[0..15]. */
  M: number[];
}

export interface CbpfRead {
  /** Byte offset into the packet. */
  offset: number;
  size: number;
}

export interface CbpfStepRecord {
  pc: number;
  insn: CbpfInsn;
  before: CbpfRegisters;
  after: CbpfRegisters;
  /** Packet bytes this instruction read (empty for non-loads and failed loads). */
  reads: CbpfRead[];
  /** Where execution continues, or null when this step ended the run. */
  nextPc: number | null;
  note?: string;
}

export interface CbpfStepperState {
  pc: number;
  A: number;
  X: number;
  M: number[];
  /** Which scratch words have been stored to on the path taken so far. */
  Minit: boolean[];
  done: boolean;
  /** The filter's value once done (0 also when it stopped early); null while running or after an error. */
  returnValue: number | null;
  stepCount: number;
  /** Set when the program could not go on (unknown opcode, ran off the end). */
  error?: string;
}

export interface StepperOptions {
  wireLen?: number;
  semantics?: CbpfSemantics;
  ctx?: CbpfSkbContext;
}

export interface CbpfStepper {
  readonly state: CbpfStepperState;
  /** Every step taken so far, oldest first. */
  readonly history: readonly CbpfStepRecord[];
  /** Execute one instruction; undefined if the run is already over. */
  step(): CbpfStepRecord | undefined;
  /** Undo the last step; false if there is none. */
  stepBack(): boolean;
  /**
   * Step until the run ends, `maxSteps` steps were taken, or the next instruction to execute is
   * a breakpoint (at least one step is always taken). Returns the steps taken by this call.
   */
  run(breakpoints?: ReadonlySet<number>, maxSteps?: number): CbpfStepRecord[];
  /** Back to the start, history cleared. */
  reset(): void;
}

interface Snapshot {
  pc: number;
  a: number;
  x: number;
  mem: Uint32Array;
  minit: number;
}

const DEFAULT_RUN_STEPS = 100_000;

export function createStepper(prog: readonly CbpfInsn[], packet: Uint8Array, opts: StepperOptions = {}): CbpfStepper {
  checkPacket(packet);
  const semantics = opts.semantics ?? "libpcap";
  const L = lowerProgram(prog, { semantics, ctx: opts.ctx });
  const len = packetLength(semantics, opts.wireLen ?? packet.length, opts.ctx);
  const m = newMachine();
  const history: CbpfStepRecord[] = [];
  const undo: Snapshot[] = [];
  let minit = 0;
  let done = false;
  let returnValue: number | null = null;
  let error: string | undefined;

  const regs = (): CbpfRegisters => ({ A: m.a, X: m.x, M: Array.from(m.mem) });

  const step = (): CbpfStepRecord | undefined => {
    if (done) return undefined;
    const pc = m.pc;
    const insn: CbpfInsn = prog[pc] ?? { code: 0xffff, jt: 0, jf: 0, k: 0 };
    const before = regs();
    undo.push({ pc, a: m.a, x: m.x, mem: m.mem.slice(), minit });
    const notes: string[] = [];
    if (isScratchRead(insn) && insn.k < 16 && (minit & (1 << insn.k)) === 0) {
      notes.push(
        `M[${insn.k}] is read before any store on this path: the kernel refuses such a program, ` +
          `libpcap would read leftover stack memory; 0 here`,
      );
    }
    execute(L, m, packet, len, 1);
    if (isScratchWrite(insn) && insn.k < 16) minit |= 1 << insn.k;
    const reads: CbpfRead[] = [];
    let nextPc: number | null = m.pc;
    switch (m.status) {
      case Status.RETURNED:
        done = true;
        returnValue = m.ret >>> 0;
        nextPc = null;
        notes.push(returnValue === 0 ? "returns 0: the packet is dropped" : `returns ${returnValue}: the packet is accepted`);
        break;
      case Status.STOPPED:
        done = true;
        returnValue = 0;
        nextPc = null;
        notes.push(stopNote(m, insn, packet.length));
        break;
      case Status.TRAPPED:
        done = true;
        nextPc = null;
        error = L.trapMessages.get(m.pc) ?? "cannot execute";
        notes.push(error);
        break;
      default:
        if (m.readSize > 0) reads.push({ offset: m.readOffset, size: m.readSize });
        notes.push(...successNotes(L, insn, before, m));
    }
    const record: CbpfStepRecord = { pc, insn, before, after: regs(), reads, nextPc };
    if (notes.length > 0) record.note = notes.join("; ");
    history.push(record);
    return record;
  };

  const stepper: CbpfStepper = {
    get state(): CbpfStepperState {
      const s: CbpfStepperState = {
        pc: m.pc,
        A: m.a,
        X: m.x,
        M: Array.from(m.mem),
        Minit: Array.from({ length: 16 }, (_, i) => (minit & (1 << i)) !== 0),
        done,
        returnValue,
        stepCount: history.length,
      };
      if (error !== undefined) s.error = error;
      return s;
    },
    history,
    step,
    stepBack(): boolean {
      const snap = undo.pop();
      if (snap === undefined) return false;
      history.pop();
      m.pc = snap.pc;
      m.a = snap.a;
      m.x = snap.x;
      m.mem.set(snap.mem);
      m.status = Status.RUNNING;
      m.reason = StopReason.NONE;
      minit = snap.minit;
      done = false;
      returnValue = null;
      error = undefined;
      return true;
    },
    run(breakpoints?: ReadonlySet<number>, maxSteps = DEFAULT_RUN_STEPS): CbpfStepRecord[] {
      const taken: CbpfStepRecord[] = [];
      while (!done && taken.length < maxSteps) {
        taken.push(step()!);
        if (breakpoints?.has(m.pc) === true) break;
      }
      return taken;
    },
    reset(): void {
      resetMachine(m, true);
      history.length = 0;
      undo.length = 0;
      minit = 0;
      done = false;
      returnValue = null;
      error = undefined;
    },
  };
  return stepper;
}

/** Why the filter stopped early, in words. */
function stopNote(m: Machine, insn: CbpfInsn, caplen: number): string {
  switch (m.reason) {
    case StopReason.OUT_OF_BOUNDS: {
      if (isAbsoluteLoad(insn) && ancillaryName(insn.k) !== undefined) {
        return "ancillary load: libpcap's userland interpreter has no socket buffer to read it from, so the filter returns 0";
      }
      const end = m.readOffset + m.readSize;
      return `out of bounds: reads bytes ${m.readOffset}..${end - 1} of a ${caplen}-byte packet, so the filter returns 0`;
    }
    case StopReason.DIVIDE_BY_ZERO:
      return "division by zero: the filter returns 0";
    case StopReason.NO_DEVICE:
      return "the packet has no device (skb->dev is NULL): the filter returns 0";
    default:
      return `offset ${m.readSize > 0 ? m.readOffset : insn.k | 0} cannot be resolved to a packet byte ` +
        `(below SKF_LL_OFF, or relative to an unknown network header): the filter returns 0`;
  }
}

/** Remarks on a step that completed normally: where libpcap and the kernel would differ. */
function successNotes(L: LoweredProgram, insn: CbpfInsn, before: CbpfRegisters, m: Machine): string[] {
  const notes: string[] = [];
  const code = insn.code;
  const isShiftX = code === (BPF_ALU | BPF_LSH | BPF_X) || code === (BPF_ALU | BPF_RSH | BPF_X);
  if (isShiftX && before.X >= 32) {
    notes.push(
      L.semantics === "libpcap"
        ? `shift by ${before.X} (>= 32): libpcap gives 0; the kernel would shift by ${before.X} & 31 = ${before.X & 31}`
        : `shift by ${before.X} (>= 32): the kernel shifts by ${before.X} & 31 = ${before.X & 31}; libpcap would give 0`,
    );
  }
  if ((code & 0xe7) === (BPF_LD | BPF_IND) && before.X + (insn.k >>> 0) > 0xffffffff) {
    notes.push(
      L.semantics === "kernel"
        ? `X + k wraps around 2^32 to ${m.readOffset}: the kernel reads there; libpcap would return 0`
        : "X + k overflows 32 bits",
    );
  }
  const ancillary = isAbsoluteLoad(insn) ? ancillaryName(insn.k) : undefined;
  if (L.semantics === "kernel" && ancillary !== undefined) {
    notes.push(`ancillary [${ancillary}] = ${m.a} (from the skb context)`);
  }
  const constantLoad = isAbsoluteLoad(insn) || code === (BPF_LDX | BPF_B | BPF_MSH);
  if (L.semantics === "kernel" && constantLoad && (insn.k | 0) < 0 && m.readSize > 0) {
    notes.push(`offset ${insn.k | 0} resolves to packet byte ${m.readOffset}`);
  }
  return notes;
}

/** For callers that want a label next to a step: `ldh [12]`. */
export function stepLabel(record: CbpfStepRecord): string {
  return describeInsn(record.insn, record.pc);
}
