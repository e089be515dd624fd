/**
 * Running a filter over packets: `runFilter` for one packet, `compileFilter` for many (decode
 * once, then a tight loop or generated code per packet, with no allocation per packet).
 */
import { PlaygroundError } from "../errors";
import type { CbpfInsn } from "./insn";
import * as exec from "./exec";
import type { Machine } from "./exec";

// Bound once: transpiled imports go through a getter per use, which shows up per packet.
const { execute, newMachine, resetMachine } = exec;
const RETURNED = exec.Status.RETURNED;
const { Status } = exec;
import { generateBatchFilter, generateFilter, type CompiledFilter } from "./codegen";
import { lowerProgram, type LoweredProgram } from "./lower";
import { lengthOverride, packetLength, type CbpfSemantics, type CbpfSkbContext } from "./semantics";

export type { CbpfSemantics, CbpfSkbContext } from "./semantics";
export type { CompiledFilter } from "./codegen";

/**
 * Upper bound on instructions per packet. Only a program with a backward `ja` (libpcap's
 * protochain) can reach it; every other program finishes in at most its own length.
 */
export const DEFAULT_MAX_STEPS = 1 << 20;

export interface RunOptions {
  /** Length of the packet on the wire (`ld #pktlen`); defaults to the bytes given. */
  wireLen?: number;
  semantics?: CbpfSemantics;
  ctx?: CbpfSkbContext;
  maxSteps?: number;
}

export interface CompileOptions {
  semantics?: CbpfSemantics;
  ctx?: CbpfSkbContext;
  /** Generate a JavaScript function (default true); false forces the interpreter. */
  jit?: boolean;
  maxSteps?: number;
}

/** Turn a finished machine into the filter's return value, or the error that stopped it. */
export function machineResult(L: LoweredProgram, m: Machine, maxSteps: number): number {
  switch (m.status) {
    case Status.RETURNED:
      return m.ret >>> 0;
    case Status.STOPPED:
      return 0;
    case Status.TRAPPED:
      throw trapError(L, m.pc);
    default:
      throw new PlaygroundError(
        "cbpf/step-limit",
        `the filter ran ${maxSteps} instructions without returning (a backward ja loops); stopped at insn ${m.pc}`,
        { kind: "insn", index: m.pc },
      );
  }
}

export function trapError(L: LoweredProgram, index: number): PlaygroundError {
  const why = L.trapMessages.get(index) ?? "cannot execute";
  const where = index < L.length ? `insn ${index}: ` : "";
  return new PlaygroundError("cbpf/trap", where + why, { kind: "insn", index: Math.min(index, Math.max(L.length - 1, 0)) });
}

/** The filter's u32 return value for one packet (0 = drop; libpcap's match value is the snaplen). */
/**
 * Lowered programs for one-shot runs, per program array and semantics: lowering costs far more
 * than running a short filter once, and callers (the UI, tests) run the same program many times.
 * Programs are immutable (readonly arrays of readonly instructions), so identity is a safe key.
 */
const lowered = new WeakMap<readonly CbpfInsn[], Map<CbpfSemantics, ReturnType<typeof lowerProgram>>>();

function lowerCached(prog: readonly CbpfInsn[], semantics: CbpfSemantics, ctx: RunOptions["ctx"]) {
  // Only real arrays can be keys; anything else goes to lowerProgram, which reports it properly.
  if (ctx !== undefined || !Array.isArray(prog)) return lowerProgram(prog, { semantics, ctx });
  let bySemantics = lowered.get(prog);
  if (!bySemantics) lowered.set(prog, (bySemantics = new Map()));
  let L = bySemantics.get(semantics);
  if (!L) bySemantics.set(semantics, (L = lowerProgram(prog, { semantics, ctx })));
  return L;
}

export function runFilter(prog: readonly CbpfInsn[], packet: Uint8Array, opts: RunOptions = {}): number {
  checkPacket(packet);
  const semantics = opts.semantics ?? "libpcap";
  const L = lowerCached(prog, semantics, opts.ctx);
  const m = newMachine();
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  execute(L, m, packet, packetLength(semantics, opts.wireLen ?? packet.length, opts.ctx), maxSteps);
  return machineResult(L, m, maxSteps);
}

/**
 * Prepare a program for many packets. The returned function takes the captured bytes and the
 * wire length (defaults to the captured length) and returns the filter's value. It throws
 * PlaygroundError only for a broken program (unknown opcode, running off the end, endless loop).
 */
export function compileFilter(prog: readonly CbpfInsn[], opts: CompileOptions = {}): CompiledFilter {
  const semantics = opts.semantics ?? "libpcap";
  const L = lowerProgram(prog, { semantics, ctx: opts.ctx });
  const lenOverride = lengthOverride(semantics, opts.ctx);
  if (opts.jit !== false) {
    const generated = generateFilter(L, lenOverride, (index) => {
      throw trapError(L, index);
    });
    if (generated !== undefined) return generated;
  }
  return interpretedFilter(L, lenOverride, opts.maxSteps ?? DEFAULT_MAX_STEPS);
}

/** The packet must be bytes; a string or array would "work" and give nonsense. */
export function checkPacket(packet: unknown): asserts packet is Uint8Array {
  if (!(packet instanceof Uint8Array)) {
    throw new PlaygroundError("cbpf/packet", "the packet must be a Uint8Array of its bytes");
  }
}

function interpretedFilter(L: LoweredProgram, lenOverride: number | undefined, maxSteps: number): CompiledFilter {
  const m = newMachine();
  const clearScratch = L.usesScratch;
  return (packet: Uint8Array, wireLen?: number): number => {
    resetMachine(m, clearScratch);
    const len = lenOverride ?? (wireLen === undefined ? packet.length : wireLen >>> 0);
    execute(L, m, packet, len, maxSteps);
    return m.status === RETURNED ? m.ret >>> 0 : machineResult(L, m, maxSteps);
  };
}

/**
 * Many packets in one buffer, as a capture file holds them: packet i is
 * `data[offsets[i] .. offsets[i] + capLens[i])`. Filtering a batch avoids one view object and one
 * call per packet, which is most of the per-packet cost once the filter itself is compiled.
 */
export interface PacketBatch {
  data: Uint8Array;
  offsets: ArrayLike<number>;
  capLens: ArrayLike<number>;
  /** Wire lengths for `ld #pktlen`; default: the captured lengths. */
  wireLens?: ArrayLike<number>;
  /** Number of packets; default `offsets.length`. */
  count?: number;
}

/** Fills `out[i]` (allocated if not given) with the filter's value for packet i, and returns it. */
export type BatchFilter = (batch: PacketBatch, out?: Uint32Array) => Uint32Array;

export function compileBatchFilter(prog: readonly CbpfInsn[], opts: CompileOptions = {}): BatchFilter {
  const semantics = opts.semantics ?? "libpcap";
  const L = lowerProgram(prog, { semantics, ctx: opts.ctx });
  const lenOverride = lengthOverride(semantics, opts.ctx);
  const generated =
    opts.jit === false
      ? undefined
      : generateBatchFilter(L, lenOverride, (index) => {
          throw trapError(L, index);
        });
  const single = generated === undefined ? interpretedFilter(L, lenOverride, opts.maxSteps ?? DEFAULT_MAX_STEPS) : undefined;
  return (batch: PacketBatch, out?: Uint32Array): Uint32Array => {
    const count = checkBatch(batch);
    const result = out ?? new Uint32Array(count);
    if (result.length < count) throw new PlaygroundError("cbpf/batch", `the output array holds ${result.length} verdicts, the batch has ${count} packets`);
    if (generated !== undefined) return generated(batch.data, batch.offsets, batch.capLens, batch.wireLens, result, count);
    const { data, offsets, capLens, wireLens } = batch;
    for (let i = 0; i < count; i++) {
      result[i] = single!(data.subarray(offsets[i]!, offsets[i]! + capLens[i]!), wireLens === undefined ? undefined : wireLens[i]);
    }
    return result;
  };
}

/** Every packet must lie inside the buffer; checked once so the per-packet code need not. */
function checkBatch(batch: PacketBatch): number {
  if (batch === null || typeof batch !== "object") throw new PlaygroundError("cbpf/batch", "expected a packet batch");
  checkPacket(batch.data);
  const { data, offsets, capLens, wireLens } = batch;
  const count = batch.count ?? offsets?.length;
  if (!Number.isInteger(count) || count < 0 || count > (offsets?.length ?? 0) || count > (capLens?.length ?? 0) || (wireLens !== undefined && count > wireLens.length)) {
    throw new PlaygroundError("cbpf/batch", "the batch's count does not match its offsets, capLens and wireLens");
  }
  const size = data.length;
  // Typed unsigned arrays hold only non-negative integers: one bound per packet is enough.
  if (offsets instanceof Uint32Array && capLens instanceof Uint32Array) {
    for (let i = 0; i < count; i++) {
      if (offsets[i]! + capLens[i]! > size) {
        throw new PlaygroundError("cbpf/batch", `packet ${i} (offset ${offsets[i]}, ${capLens[i]} bytes) does not lie inside the ${size}-byte buffer`);
      }
    }
    return count;
  }
  for (let i = 0; i < count; i++) {
    const off = offsets[i]!;
    const cap = capLens[i]!;
    // Written so that NaN, negatives and fractions all fail the same test.
    if (!(off >= 0 && cap >= 0 && off + cap <= size && Math.floor(off) === off && Math.floor(cap) === cap)) {
      throw new PlaygroundError("cbpf/batch", `packet ${i} (offset ${off}, ${cap} bytes) does not lie inside the ${size}-byte buffer`);
    }
  }
  return count;
}
