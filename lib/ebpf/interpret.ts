/**
 * The eBPF interpreter's public face:
 * - `createMachine(program, ctx)`: a stepping machine for the UI (step, stepBack, run, state);
 * - `runProgram(program, ctx)` / `createRunner(program, kind)`: verdicts over many packets, with
 *   the program decoded once and the machine reused.
 */
import { PlaygroundError } from "../errors";
import type { Assembled } from "./asm";
import { rawFromBytes, type DecodedInsn } from "./codec";
import { formatInsn } from "./disasm";
import type { RawInsn } from "./insn";
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_EXIT,
  BPF_FETCH,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_LOAD_ACQ,
  BPF_PSEUDO_CALL,
  BPF_STORE_REL,
  BPF_STX,
  OP_LD_IMM64,
  opClass,
} from "./opcodes";
import { compileProgram, type CompiledProgram } from "./interp/compile";
import { Core, exec, newTrace, type Fault, type HelperCall, type MemAccess } from "./interp/core";
import type { ContextKind, ContextSpec } from "./interp/ctx";
import { STACK_FRAME_SIZE, STACK_TOTAL } from "./interp/memory";
import { toBig } from "./interp/u64";

export type ProgramInput = readonly RawInsn[] | Assembled | Uint8Array;

export interface RegWrite {
  readonly reg: number;
  readonly before: bigint;
  readonly after: bigint;
}

export interface StepRecord {
  /** 1-based number of this step. */
  readonly step: number;
  /** Slot index of the instruction executed. */
  readonly pc: number;
  readonly insn: DecodedInsn;
  /** Kernel-style text of the instruction, e.g. `(b7) r0 = 2`. */
  readonly text: string;
  /** Registers the instruction wrote (or changed), with values before and after. */
  readonly regWrites: readonly RegWrite[];
  readonly reads: readonly MemAccess[];
  readonly writes: readonly MemAccess[];
  /** For conditional jumps: whether the branch was taken and where it goes when taken. */
  readonly branch: { readonly taken: boolean; readonly target: number } | null;
  readonly helper: HelperCall | null;
  /** A legacy LD_ABS/LD_IND missed and ended the program with r0 = 0. */
  readonly ldAbsFailed: boolean;
  /** Where execution continues, or null when the program ended (exit or fault) at this step. */
  readonly nextPc: number | null;
  readonly exit: { readonly r0: bigint } | null;
  readonly fault: Fault | null;
}

export interface MachineState {
  readonly pc: number;
  readonly steps: number;
  readonly done: boolean;
  readonly fault: Fault | null;
  /** r0..r10, unsigned 64-bit. */
  readonly regs: readonly bigint[];
  /** The 512 bytes of the main frame, index i at r10 - 512 + i. */
  readonly stack: Uint8Array;
  /** 1 where a byte of `stack` has been written. */
  readonly stackWritten: Uint8Array;
  /** Depth of bpf-to-bpf calls (0 in the main program). */
  readonly callDepth: number;
  /** bpf_trace_printk output, one entry per call. */
  readonly output: readonly string[];
}

export interface RunResult {
  /** Full 64-bit r0: a number when it is a safe integer, else a bigint. */
  readonly r0: number | bigint;
  /** r0 truncated to u32: what the kernel reports as the program's return value. */
  readonly retval: number;
  readonly steps: number;
  readonly fault?: Fault;
  readonly output: readonly string[];
}

export interface MachineOptions {
  /** Instruction budget before a "limit" fault. Default 1,000,000. */
  readonly maxSteps?: number;
}

const compiledCache = new WeakMap<object, CompiledProgram>();

function rawOf(program: ProgramInput): readonly RawInsn[] {
  if (program instanceof Uint8Array) return rawFromBytes(program);
  if ("raw" in program) return program.raw;
  return program;
}

/** Decodes a program once per program object. */
export function compile(program: ProgramInput): CompiledProgram {
  const cached = compiledCache.get(program);
  if (cached) return cached;
  const c = compileProgram(rawOf(program));
  compiledCache.set(program, c);
  return c;
}

function r0Of(core: Core): number | bigint {
  const lo = core.lo[0];
  const hi = core.hi[0];
  return hi < 0x200000 ? hi * 0x100000000 + lo : toBig(lo, hi);
}

function resultOf(core: Core): RunResult {
  const base = { r0: r0Of(core), retval: core.lo[0], steps: core.steps, output: core.output };
  return core.fault ? { ...base, fault: core.fault } : base;
}

/** Registers an instruction writes by definition (a write of an unchanged value still counts). */
function writtenRegs(d: DecodedInsn): number[] {
  const cls = opClass(d.code);
  if (cls === BPF_ALU || cls === BPF_ALU64 || cls === BPF_LDX) return [d.dst];
  if (cls === BPF_LD) return d.code === OP_LD_IMM64 ? [d.dst] : [0];
  if (cls === BPF_STX && (d.code & 0xe0) === 0xc0) {
    if (d.imm === BPF_LOAD_ACQ) return [d.dst];
    if (d.imm === BPF_CMPXCHG) return [0];
    if (d.imm !== BPF_STORE_REL && (d.imm & BPF_FETCH) !== 0) return [d.src];
    return [];
  }
  if ((cls === BPF_JMP || cls === BPF_JMP32) && (d.code & 0xf0) === BPF_CALL && d.src !== BPF_PSEUDO_CALL) return [0];
  return [];
}

interface Undo {
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
  readonly pc: number;
  readonly steps: number;
  readonly done: boolean;
  readonly fault: Fault | null;
  readonly frames: Core["frames"];
  readonly outputLen: number;
  readonly prng: number;
  readonly timeNs: bigint;
  readonly mayGoto: number;
  readonly mem: ReturnType<typeof newTrace>["undo"];
}

export interface Machine {
  /** Executes one instruction; null when the program has already ended. */
  step(): StepRecord | null;
  /** Undoes the last step (registers, memory, pc, helper side effects); null when at the start. */
  stepBack(): StepRecord | null;
  /** Runs until exit, fault or `maxSteps` more instructions (no per-step records). */
  run(maxSteps?: number): RunResult;
  /** Back to the entry state, optionally with a new context of the same kind. */
  reset(ctx?: ContextSpec): void;
  readonly state: MachineState;
  /** Records of the steps taken since the last reset (run() adds none). */
  readonly history: readonly StepRecord[];
  readonly program: CompiledProgram;
}

/** The same context with a private copy of its packet, so stepping never changes the caller's bytes. */
function ownPacket(ctx: ContextSpec): ContextSpec {
  return ctx.kind === "kprobe" ? ctx : { ...ctx, packet: ctx.packet.slice() };
}

/** A stepping machine over a copy of the context's packet. */
export function createMachine(program: ProgramInput, ctx: ContextSpec, opts: MachineOptions = {}): Machine {
  const prog = compile(program);
  let spec = ownPacket(ctx);
  const core = new Core(prog, spec);
  core.trackStack = true;
  core.maxSteps = opts.maxSteps ?? core.maxSteps;
  core.reset(spec);
  const history: StepRecord[] = [];
  const undos: Undo[] = [];
  const regs = () => Array.from({ length: 11 }, (_, i) => toBig(core.lo[i], core.hi[i]));

  const step = (): StepRecord | null => {
    if (core.done) return null;
    const pc = core.pc;
    const insn = prog.decoded[pc];
    const undo: Undo = {
      lo: core.lo.slice(),
      hi: core.hi.slice(),
      pc,
      steps: core.steps,
      done: core.done,
      fault: core.fault,
      frames: core.frames.slice(),
      outputLen: core.output.length,
      prng: core.prng,
      timeNs: core.timeNs,
      mayGoto: core.mayGoto,
      mem: [],
    };
    const trace = newTrace();
    core.trace = trace;
    try {
      exec(core, 1);
    } finally {
      core.trace = null;
    }
    const shownInsn: DecodedInsn = insn ?? { index: pc, code: prog.code[pc] ?? 0, dst: 0, src: 0, off: 0, imm: 0, slots: 1 };
    const writes = new Set(insn && !core.fault ? writtenRegs(insn) : []);
    for (let i = 0; i < 11; i++) if (core.lo[i] !== undo.lo[i] || core.hi[i] !== undo.hi[i]) writes.add(i);
    const regWrites = [...writes]
      .sort((a, b) => a - b)
      .map((reg) => ({ reg, before: toBig(undo.lo[reg], undo.hi[reg]), after: toBig(core.lo[reg], core.hi[reg]) }));
    const isCond = insn !== undefined && (opClass(insn.code) === BPF_JMP || opClass(insn.code) === BPF_JMP32) &&
      ![BPF_CALL, BPF_EXIT, BPF_JA].includes(insn.code & 0xf0);
    const rec: StepRecord = {
      step: core.steps,
      pc,
      insn: shownInsn,
      text: insn ? formatInsn(insn) : "(invalid slot)",
      regWrites,
      reads: trace.reads,
      writes: trace.writes,
      branch: isCond && trace.branchTaken !== null ? { taken: trace.branchTaken, target: pc + 1 + insn.off } : null,
      helper: trace.helper,
      ldAbsFailed: trace.ldAbsFailed,
      nextPc: core.done ? null : core.pc,
      exit: core.done && !core.fault ? { r0: toBig(core.lo[0], core.hi[0]) } : null,
      fault: core.fault,
    };
    undos.push({ ...undo, mem: trace.undo });
    history.push(rec);
    return rec;
  };

  const stepBack = (): StepRecord | null => {
    const u = undos.pop();
    const rec = history.pop();
    if (!u || !rec) return null;
    for (let k = u.mem.length - 1; k >= 0; k--) {
      const m = u.mem[k];
      m.region.bytes.set(m.before, m.offset);
      if (m.writtenBefore) core.stackWritten.set(m.writtenBefore, m.offset);
    }
    core.lo.set(u.lo);
    core.hi.set(u.hi);
    core.pc = u.pc;
    core.steps = u.steps;
    core.done = u.done;
    core.fault = u.fault;
    core.frames = u.frames;
    core.output = core.output.slice(0, u.outputLen);
    core.prng = u.prng;
    core.timeNs = u.timeNs;
    core.mayGoto = u.mayGoto;
    return rec;
  };

  return {
    step,
    stepBack,
    run(maxSteps = Number.MAX_SAFE_INTEGER) {
      history.length = 0;
      undos.length = 0;
      exec(core, maxSteps);
      return resultOf(core);
    },
    reset(next?: ContextSpec) {
      if (next && next.kind !== spec.kind) {
        throw new PlaygroundError("ebpf/context", `machine was created for ${spec.kind} programs, not ${next.kind}`);
      }
      if (next) spec = ownPacket(next);
      core.reset(spec);
      history.length = 0;
      undos.length = 0;
    },
    get state(): MachineState {
      const frame0 = STACK_TOTAL - STACK_FRAME_SIZE;
      return {
        pc: core.pc,
        steps: core.steps,
        done: core.done,
        fault: core.fault,
        regs: regs(),
        stack: core.stack.bytes.slice(frame0, STACK_TOTAL),
        stackWritten: core.stackWritten.slice(frame0, STACK_TOTAL),
        callDepth: core.frames.length,
        output: core.output.slice(),
      };
    },
    get history() {
      return history;
    },
    program: prog,
  };
}

export interface Runner {
  /**
   * Runs the program on one context. The packet is used in place (not copied), so a program that
   * writes packet data (XDP, tc) modifies the caller's bytes.
   */
  run(ctx: ContextSpec): RunResult;
}

/** A reusable machine for many runs of one program on contexts of one kind. */
export function createRunner(program: ProgramInput, kind: ContextKind, opts: MachineOptions = {}): Runner {
  const prog = compile(program);
  let core: Core | null = null;
  return {
    run(ctx: ContextSpec): RunResult {
      if (ctx.kind !== kind) throw new PlaygroundError("ebpf/context", `runner was created for ${kind} programs, not ${ctx.kind}`);
      if (core === null) {
        core = new Core(prog, ctx);
        core.maxSteps = opts.maxSteps ?? core.maxSteps;
      } else core.reset(ctx);
      exec(core, Number.MAX_SAFE_INTEGER);
      return resultOf(core);
    },
  };
}

const runnerCache = new WeakMap<CompiledProgram, Map<ContextKind, Runner>>();

/** One run of `program` on `ctx`; the decoded program and machine are cached per program object. */
export function runProgram(program: ProgramInput, ctx: ContextSpec, opts: MachineOptions = {}): RunResult {
  const prog = compile(program);
  if (opts.maxSteps !== undefined) return createRunner(program, ctx.kind, opts).run(ctx);
  let byKind = runnerCache.get(prog);
  if (!byKind) {
    byKind = new Map();
    runnerCache.set(prog, byKind);
  }
  let runner = byKind.get(ctx.kind);
  if (!runner) {
    runner = createRunner(program, ctx.kind);
    byKind.set(ctx.kind, runner);
  }
  return runner.run(ctx);
}
