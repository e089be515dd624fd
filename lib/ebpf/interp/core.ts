/**
 * The interpreter proper: machine state and the execution loop shared by the stepping machine
 * and the fast per-packet runner. Semantics follow the kernel's (kernel/bpf/core.c and the
 * verifier's runtime fix-ups):
 * - 32-bit ALU results are zero-extended into the 64-bit register;
 * - shift counts are masked to 63 (64-bit) or 31 (32-bit);
 * - x / 0 = 0 and x % 0 = x (32-bit forms zero-extend x), signed and unsigned alike;
 * - signed INT_MIN / -1 wraps to INT_MIN and INT_MIN % -1 is 0;
 * - an out-of-bounds memory access is a fault reported with its pc, never a JS exception;
 * - a failing legacy LD_ABS/LD_IND ends the program with r0 = 0.
 */
import * as O from "../opcodes";
// Copied into module constants once: bundlers and tsx expose imports as live-binding getters,
// which would cost a function call per use in the interpreter loop.
const { BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_B, BPF_CALL, BPF_CMPXCHG, BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_H, BPF_JA, BPF_JCOND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL, BPF_RSH, BPF_ST, BPF_STORE_REL, BPF_STX, BPF_SUB, BPF_TO_BE, BPF_W, BPF_XCHG, BPF_XOR, OP_LD_IMM64, helperName } = O;
import type { CompiledProgram } from "./compile";
import { ctxRules, fillCtxImage, type ContextKind, type ContextSpec, type CtxRules, type KernelMemory } from "./ctx";
import * as M from "./memory";
import type { Region, RegionKind } from "./memory";
// Copied into module constants once: bundlers and tsx expose imports as live-binding getters,
// which would cost a function call per use in the interpreter loop.
const { CTX_HI, CTX_LO, MAX_CALL_FRAMES, PACKET_HI, PACKET_LO, STACK_FRAME_SIZE, STACK_HI, STACK_LO, STACK_TOTAL, makeRegion, regionBase, setRegionBytes } = M;
import * as U from "./u64";
// Copied into module constants once: bundlers and tsx expose imports as live-binding getters,
// which would cost a function call per use in the interpreter loop.
const { bswap16, bswap32, mul64, out, sdiv64, smod64, toBig, udiv64, umod64 } = U;
import { callHelper } from "./helpers";

export type FaultKind = "memory" | "ctx" | "insn" | "helper" | "jump" | "limit" | "call-depth";

export interface Fault {
  readonly pc: number;
  readonly kind: FaultKind;
  readonly message: string;
}

export interface MemAccess {
  readonly region: RegionKind | "kernel";
  /** Offset inside the region (for "kernel", the low 32 bits of the address). */
  readonly offset: number;
  readonly size: number;
  /** The value read or written (little-endian, zero-extended). */
  readonly value: bigint;
  readonly address: bigint;
  /** Stack accesses: offset from the executing frame's r10 (e.g. -8 for `fp-8`). */
  readonly fp?: number;
}

export interface HelperCall {
  readonly id: number;
  readonly name: string;
  readonly args: readonly bigint[];
  readonly ret: bigint;
}

/** Per-step side information collected only when stepping. */
export interface Trace {
  reads: MemAccess[];
  writes: MemAccess[];
  /** Bytes overwritten by this step, for stepBack. */
  undo: { region: Region; offset: number; before: Uint8Array; writtenBefore: Uint8Array | null }[];
  helper: HelperCall | null;
  ldAbsFailed: boolean;
  branchTaken: boolean | null;
}

export const newTrace = (): Trace => ({ reads: [], writes: [], undo: [], helper: null, ldAbsFailed: false, branchTaken: null });

interface Frame {
  readonly retPc: number;
  readonly saved: Uint32Array; // lo/hi of r6..r10
}

/** bpf_loop-style budget of may_goto (BPF_MAX_LOOPS). */
const MAY_GOTO_BUDGET = 8 * 1024 * 1024;
export const DEFAULT_MAX_STEPS = 1_000_000;

export class Core {
  readonly lo = new Uint32Array(11);
  readonly hi = new Uint32Array(11);
  pc = 0;
  steps = 0;
  done = false;
  fault: Fault | null = null;
  frames: Frame[] = [];
  readonly packet: Region;
  readonly stack: Region;
  readonly ctx: Region;
  readonly regions: Region[];
  readonly rules: CtxRules;
  readonly kind: ContextKind;
  readonly stackWritten = new Uint8Array(STACK_TOTAL);
  trackStack = false;
  output: string[] = [];
  prng = 1;
  timeNs = 0n;
  mayGoto = MAY_GOTO_BUDGET;
  kernel: KernelMemory | null = null;
  /** skb geometry for LD_ABS and bpf_skb_load_bytes: where skb->data starts in the packet, and the L3 offset. */
  dataOffset = 0;
  networkOffset = 14;
  maxSteps = DEFAULT_MAX_STEPS;
  trace: Trace | null = null;
  // Result of the last load.
  rlo = 0;
  rhi = 0;

  constructor(
    readonly prog: CompiledProgram,
    spec: ContextSpec,
  ) {
    this.kind = spec.kind;
    this.rules = ctxRules(spec.kind);
    const pkt = spec.kind === "kprobe" ? new Uint8Array(0) : spec.packet;
    this.packet = makeRegion("packet", PACKET_HI, PACKET_LO, pkt, spec.kind === "xdp" || spec.kind === "tc");
    this.stack = makeRegion("stack", STACK_HI, STACK_LO, new Uint8Array(STACK_TOTAL), true);
    this.ctx = makeRegion("ctx", CTX_HI, CTX_LO, new Uint8Array(this.rules.size), true);
    this.regions = [this.packet, this.stack, this.ctx];
    this.reset(spec);
  }

  /** Puts the machine at the program's entry for a (new) context of the same kind. */
  reset(spec: ContextSpec): void {
    if (spec.kind !== "kprobe" && spec.packet !== this.packet.bytes) setRegionBytes(this.packet, spec.packet);
    fillCtxImage(spec, this.ctx.bytes);
    this.lo.fill(0);
    this.hi.fill(0);
    this.lo[1] = CTX_LO;
    this.hi[1] = CTX_HI;
    this.lo[10] = STACK_LO + STACK_TOTAL;
    this.hi[10] = STACK_HI;
    this.pc = 0;
    this.steps = 0;
    this.done = false;
    this.fault = null;
    this.frames = [];
    this.output = [];
    this.mayGoto = MAY_GOTO_BUDGET;
    this.prng = (spec.seed ?? 1) >>> 0 || 1;
    this.timeNs = spec.timeNs ?? 1_000_000_000n;
    this.kernel = spec.kind === "kprobe" ? spec.kernel ?? null : null;
    this.dataOffset = spec.kind === "socket" || spec.kind === "tc" ? spec.dataOffset ?? 0 : 0;
    this.networkOffset = spec.kind === "socket" || spec.kind === "tc" ? spec.networkOffset ?? 14 : 14;
    if (this.trackStack) {
      this.stack.bytes.fill(0);
      this.stackWritten.fill(0);
    }
  }

  setFault(pc: number, kind: FaultKind, message: string): void {
    this.fault = { pc, kind, message };
    this.done = true;
  }

  /** skb->data as a 64-bit address (packet base + data offset). */
  dataAddrLo(): number {
    return PACKET_LO + this.dataOffset;
  }

  private pointerField(which: "data" | "data_end" | "data_meta"): void {
    this.rhi = PACKET_HI;
    this.rlo = which === "data_end" ? PACKET_LO + this.packet.size : PACKET_LO + this.dataOffset;
  }

  private describe(alo: number, ahi: number): string {
    return `0x${toBig(alo, ahi).toString(16)}`;
  }

  /** Loads `size` bytes at (alo, ahi) into rlo/rhi (zero-extended). Returns false after setting a fault. */
  load(alo: number, ahi: number, size: number, pc: number): boolean {
    const regions = this.regions;
    for (let i = 0; i < 3; i++) {
      const r = regions[i];
      if (r.hi !== ahi) continue;
      const o = alo - r.lo;
      if (o < 0 || o + size > r.size) {
        this.setFault(pc, "memory", `out-of-bounds read of ${size} bytes at ${r.kind}${o >= 0 ? "+" : ""}${o} (${r.kind} is ${r.size} bytes)`);
        return false;
      }
      if (r.kind === "ctx") {
        if (!this.ctxLoad(o, size, pc)) return false;
      } else {
        const b = r.bytes;
        if (size === 1) {
          this.rlo = b[o];
          this.rhi = 0;
        } else if (size === 2) {
          this.rlo = b[o] | (b[o + 1] << 8);
          this.rhi = 0;
        } else if (size === 4) {
          this.rlo = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
          this.rhi = 0;
        } else {
          this.rlo = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
          this.rhi = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
        }
      }
      if (this.trace !== null) {
        const rec: MemAccess = { region: r.kind, offset: o, size, value: toBig(this.rlo, this.rhi), address: toBig(alo, ahi) };
        this.trace.reads.push(r.kind === "stack" ? { ...rec, fp: alo - this.lo[10] } : rec);
      }
      return true;
    }
    this.setFault(pc, "memory", `invalid read of ${size} bytes at ${this.describe(alo, ahi)}: not in any accessible memory`);
    return false;
  }

  private ctxLoad(o: number, size: number, pc: number): boolean {
    const rules = this.rules;
    if (o % size !== 0 || !rules.readable(o, size)) {
      this.setFault(pc, "ctx", `invalid bpf_context access off=${o} size=${size}`);
      return false;
    }
    const ptr = rules.pointers.get(o);
    if (ptr !== undefined) {
      this.pointerField(ptr);
      return true;
    }
    const b = this.ctx.bytes;
    const base = o & ~3;
    const target = rules.targetSize.get(base);
    if (target !== undefined && size < 4 && size >= target) {
      // The kernel loads the whole (narrow) kernel field whatever byte of the UAPI field was asked for.
      this.rlo = (b[base] | (b[base + 1] << 8) | (b[base + 2] << 16) | (b[base + 3] << 24)) >>> 0;
      this.rhi = 0;
      return true;
    }
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < size && k < 4; k++) lo |= b[o + k] << (8 * k);
    for (let k = 4; k < size; k++) hi |= b[o + k] << (8 * (k - 4));
    this.rlo = lo >>> 0;
    this.rhi = hi >>> 0;
    return true;
  }

  /** Stores the low `size` bytes of (vlo, vhi) at (alo, ahi). Returns false after setting a fault. */
  store(alo: number, ahi: number, size: number, vlo: number, vhi: number, pc: number): boolean {
    const regions = this.regions;
    for (let i = 0; i < 3; i++) {
      const r = regions[i];
      if (r.hi !== ahi) continue;
      const o = alo - r.lo;
      if (o < 0 || o + size > r.size) {
        this.setFault(pc, "memory", `out-of-bounds write of ${size} bytes at ${r.kind}${o >= 0 ? "+" : ""}${o} (${r.kind} is ${r.size} bytes)`);
        return false;
      }
      if (r.kind === "ctx") {
        if (o % size !== 0 || !this.rules.writable(o, size)) {
          this.setFault(pc, "ctx", `invalid bpf_context access off=${o} size=${size}`);
          return false;
        }
      } else if (!r.writable) {
        this.setFault(pc, "memory", `write into read-only ${r.kind} memory`);
        return false;
      }
      const b = r.bytes;
      if (this.trace !== null) {
        const written = r.kind === "stack" && this.trackStack ? this.stackWritten.slice(o, o + size) : null;
        this.trace.undo.push({ region: r, offset: o, before: b.slice(o, o + size), writtenBefore: written });
        const rec: MemAccess = {
          region: r.kind,
          offset: o,
          size,
          value: size === 8 ? toBig(vlo, vhi) : BigInt(size === 4 ? vlo >>> 0 : vlo & (size === 2 ? 0xffff : 0xff)),
          address: toBig(alo, ahi),
        };
        this.trace.writes.push(r.kind === "stack" ? { ...rec, fp: alo - this.lo[10] } : rec);
      }
      b[o] = vlo;
      if (size > 1) b[o + 1] = vlo >>> 8;
      if (size > 2) {
        b[o + 2] = vlo >>> 16;
        b[o + 3] = vlo >>> 24;
      }
      if (size > 4) {
        b[o + 4] = vhi;
        b[o + 5] = vhi >>> 8;
        b[o + 6] = vhi >>> 16;
        b[o + 7] = vhi >>> 24;
      }
      if (this.trackStack && r.kind === "stack") this.stackWritten.fill(1, o, o + size);
      return true;
    }
    this.setFault(pc, "memory", `invalid write of ${size} bytes at ${this.describe(alo, ahi)}: not in any accessible memory`);
    return false;
  }

  /** Copies bytes out of directly addressable memory (helpers' source operands); null if not all mapped. */
  readBytes(alo: number, ahi: number, len: number): Uint8Array | null {
    for (const r of this.regions) {
      if (r.hi !== ahi || r.kind === "ctx") continue;
      const o = alo - r.lo;
      if (o < 0 || o + len > r.size) return null;
      return r.bytes.subarray(o, o + len);
    }
    return null;
  }

  /** Writes a helper's output into writable memory (stack or packet); false if it does not fit. */
  writeBytes(alo: number, ahi: number, data: Uint8Array, pc: number): boolean {
    for (const r of this.regions) {
      if (r.hi !== ahi || r.kind === "ctx" || !r.writable) continue;
      const o = alo - r.lo;
      if (o < 0 || o + data.length > r.size) return false;
      if (this.trace !== null) {
        const written = r.kind === "stack" && this.trackStack ? this.stackWritten.slice(o, o + data.length) : null;
        this.trace.undo.push({ region: r, offset: o, before: r.bytes.slice(o, o + data.length), writtenBefore: written });
        let v = 0n;
        if (data.length <= 8) for (let k = data.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(data[k]);
        const rec: MemAccess = { region: r.kind, offset: o, size: data.length, value: v, address: toBig(alo, ahi) };
        this.trace.writes.push(r.kind === "stack" ? { ...rec, fp: alo - this.lo[10] } : rec);
      }
      r.bytes.set(data, o);
      if (this.trackStack && r.kind === "stack") this.stackWritten.fill(1, o, o + data.length);
      return true;
    }
    void pc;
    return false;
  }

  /** Base addresses, for the UI and for tests. */
  regionBases(): Record<RegionKind, bigint> {
    return { packet: regionBase(this.packet), stack: regionBase(this.stack), ctx: regionBase(this.ctx) };
  }
}

/** Reads a packet byte range for LD_ABS/LD_IND (kernel bpf_skb_load_helper_*); null when out of bounds. */
function ldAbsValue(core: Core, k: number, size: number): number | null {
  const pkt = core.packet.bytes;
  let at: number;
  if (k >= 0) {
    const len = pkt.length - core.dataOffset;
    if (k > len - size) return null;
    at = core.dataOffset + k;
  } else if (k >= -0x100000) {
    at = core.networkOffset + (k + 0x100000); // SKF_NET_OFF
  } else if (k >= -0x200000) {
    at = k + 0x200000; // SKF_LL_OFF: the MAC header is at offset 0
  } else return null;
  if (at < 0 || at + size > pkt.length) return null;
  if (size === 1) return pkt[at];
  if (size === 2) return (pkt[at] << 8) | pkt[at + 1];
  return ((pkt[at] << 24) | (pkt[at + 1] << 16) | (pkt[at + 2] << 8) | pkt[at + 3]) >>> 0;
}

const sizeOf = (code: number): number => {
  const s = code & 0x18;
  return s === BPF_W ? 4 : s === BPF_H ? 2 : s === BPF_B ? 1 : 8;
};

/**
 * Runs up to `budget` instructions (or until exit/fault). The loop is written for speed: typed-array
 * registers split in 32-bit halves, no allocation on the common paths.
 */
export function exec(core: Core, budget: number): void {
  const p = core.prog;
  const n = p.n;
  const codes = p.code;
  const dsts = p.dst;
  const srcs = p.src;
  const offs = p.off;
  const imms = p.imm;
  const bad = p.bad;
  const lo = core.lo;
  const hi = core.hi;
  const maxSteps = core.maxSteps;
  let pc = core.pc;
  let left = budget;

  while (left > 0 && !core.done) {
    if (pc < 0 || pc >= n) {
      core.setFault(pc, "jump", `execution left the program (pc ${pc}, program has ${n} slots)`);
      break;
    }
    if (bad[pc] !== 0) {
      core.setFault(pc, "insn", p.badReason[pc] ?? "invalid instruction");
      break;
    }
    if (core.steps >= maxSteps) {
      core.setFault(pc, "limit", `step limit of ${maxSteps} instructions reached`);
      break;
    }
    core.steps++;
    left--;
    const code = codes[pc];
    const d = dsts[pc];
    const s = srcs[pc];
    const off = offs[pc];
    const imm = imms[pc];
    const cls = code & 7;

    if (cls === BPF_ALU64) {
      const op = code & 0xf0;
      let blo: number;
      let bhi: number;
      if ((code & 8) !== 0) {
        blo = lo[s];
        bhi = hi[s];
      } else {
        blo = imm >>> 0;
        bhi = imm < 0 ? 0xffffffff : 0;
      }
      const alo = lo[d];
      const ahi = hi[d];
      switch (op) {
        case BPF_ADD: {
          const t = alo + blo;
          lo[d] = t;
          hi[d] = ahi + bhi + (t > 0xffffffff ? 1 : 0);
          break;
        }
        case BPF_SUB: {
          const t = alo - blo;
          lo[d] = t;
          hi[d] = ahi - bhi - (t < 0 ? 1 : 0);
          break;
        }
        case BPF_MUL:
          mul64(alo, ahi, blo, bhi);
          lo[d] = out[0];
          hi[d] = out[1];
          break;
        case BPF_DIV:
          if (blo === 0 && bhi === 0) {
            lo[d] = 0;
            hi[d] = 0;
          } else {
            if (off === 1) sdiv64(alo, ahi, blo, bhi);
            else udiv64(alo, ahi, blo, bhi);
            lo[d] = out[0];
            hi[d] = out[1];
          }
          break;
        case BPF_MOD:
          if (blo !== 0 || bhi !== 0) {
            if (off === 1) smod64(alo, ahi, blo, bhi);
            else umod64(alo, ahi, blo, bhi);
            lo[d] = out[0];
            hi[d] = out[1];
          }
          break;
        case BPF_OR:
          lo[d] = alo | blo;
          hi[d] = ahi | bhi;
          break;
        case BPF_AND:
          lo[d] = alo & blo;
          hi[d] = ahi & bhi;
          break;
        case BPF_XOR:
          lo[d] = alo ^ blo;
          hi[d] = ahi ^ bhi;
          break;
        case BPF_LSH: {
          const sh = blo & 63;
          if (sh >= 32) {
            hi[d] = alo << (sh - 32);
            lo[d] = 0;
          } else if (sh !== 0) {
            hi[d] = (ahi << sh) | (alo >>> (32 - sh));
            lo[d] = alo << sh;
          }
          break;
        }
        case BPF_RSH: {
          const sh = blo & 63;
          if (sh >= 32) {
            lo[d] = ahi >>> (sh - 32);
            hi[d] = 0;
          } else if (sh !== 0) {
            lo[d] = (alo >>> sh) | (ahi << (32 - sh));
            hi[d] = ahi >>> sh;
          }
          break;
        }
        case BPF_ARSH: {
          const sh = blo & 63;
          if (sh >= 32) {
            lo[d] = (ahi | 0) >> (sh - 32);
            hi[d] = (ahi | 0) >> 31;
          } else if (sh !== 0) {
            lo[d] = (alo >>> sh) | (ahi << (32 - sh));
            hi[d] = (ahi | 0) >> sh;
          }
          break;
        }
        case BPF_NEG:
          lo[d] = -alo;
          hi[d] = -ahi - (alo !== 0 ? 1 : 0);
          break;
        case BPF_MOV:
          if ((code & 8) !== 0 && off !== 0) {
            // movsx: sign-extend the low `off` bits of src
            const v = off === 8 ? (blo << 24) >> 24 : off === 16 ? (blo << 16) >> 16 : blo | 0;
            lo[d] = v;
            hi[d] = v < 0 ? 0xffffffff : 0;
          } else {
            lo[d] = blo;
            hi[d] = bhi;
          }
          break;
        case BPF_END:
          // ALU64 class: unconditional byte swap of the low imm bits, zero-extended.
          if (imm === 16) {
            lo[d] = bswap16(alo & 0xffff);
            hi[d] = 0;
          } else if (imm === 32) {
            lo[d] = bswap32(alo);
            hi[d] = 0;
          } else {
            lo[d] = bswap32(ahi);
            hi[d] = bswap32(alo);
          }
          break;
      }
      pc++;
      continue;
    }

    if (cls === BPF_ALU) {
      const op = code & 0xf0;
      const b = (code & 8) !== 0 ? lo[s] : imm >>> 0;
      const a = lo[d];
      let r: number;
      switch (op) {
        case BPF_ADD:
          r = a + b;
          break;
        case BPF_SUB:
          r = a - b;
          break;
        case BPF_MUL:
          r = Math.imul(a, b);
          break;
        case BPF_DIV:
          r = b === 0 ? 0 : off === 1 ? Math.trunc((a | 0) / (b | 0)) : Math.floor(a / b);
          break;
        case BPF_MOD:
          r = b === 0 ? a : off === 1 ? (a | 0) % (b | 0) : a % b;
          break;
        case BPF_OR:
          r = a | b;
          break;
        case BPF_AND:
          r = a & b;
          break;
        case BPF_XOR:
          r = a ^ b;
          break;
        case BPF_LSH:
          r = a << (b & 31);
          break;
        case BPF_RSH:
          r = a >>> (b & 31);
          break;
        case BPF_ARSH:
          r = (a | 0) >> (b & 31);
          break;
        case BPF_NEG:
          r = -a;
          break;
        case BPF_MOV:
          r = (code & 8) !== 0 && off === 8 ? (b << 24) >> 24 : (code & 8) !== 0 && off === 16 ? (b << 16) >> 16 : b;
          break;
        default: {
          // BPF_END, ALU class: convert from host (little-endian) order to the requested one.
          if ((code & 8) === BPF_TO_BE) {
            if (imm === 16) r = bswap16(a & 0xffff);
            else if (imm === 32) r = bswap32(a);
            else {
              const h = hi[d];
              lo[d] = bswap32(h);
              hi[d] = bswap32(a);
              pc++;
              continue;
            }
          } else if (imm === 16) r = a & 0xffff;
          else if (imm === 32) r = a;
          else {
            pc++; // le64 on a little-endian host: nothing to do
            continue;
          }
        }
      }
      lo[d] = r;
      hi[d] = 0;
      pc++;
      continue;
    }

    if (cls === BPF_JMP || cls === BPF_JMP32) {
      const op = code & 0xf0;
      let taken: boolean;
      if (op === BPF_JA) {
        pc += 1 + (cls === BPF_JMP ? off : imm);
        if (core.trace !== null) core.trace.branchTaken = true;
        continue;
      } else if (op === BPF_CALL) {
        core.pc = pc;
        if (s === BPF_PSEUDO_CALL) {
          if (core.frames.length + 1 >= MAX_CALL_FRAMES) {
            core.setFault(pc, "call-depth", `bpf-to-bpf call nesting exceeds ${MAX_CALL_FRAMES} frames`);
            break;
          }
          const saved = new Uint32Array(10);
          for (let k = 0; k < 5; k++) {
            saved[2 * k] = lo[6 + k];
            saved[2 * k + 1] = hi[6 + k];
          }
          core.frames.push({ retPc: pc + 1, saved });
          lo[10] -= STACK_FRAME_SIZE;
          pc += 1 + imm;
          continue;
        }
        if (s === BPF_PSEUDO_KFUNC_CALL) {
          core.setFault(pc, "helper", `kfunc calls are not emulated (BTF id ${imm})`);
          break;
        }
        if (!callHelper(core, imm, pc)) break;
        pc++;
        continue;
      } else if (op === BPF_EXIT) {
        const f = core.frames.pop();
        if (f === undefined) {
          core.done = true;
          core.pc = pc;
          return;
        }
        for (let k = 0; k < 5; k++) {
          lo[6 + k] = f.saved[2 * k];
          hi[6 + k] = f.saved[2 * k + 1];
        }
        pc = f.retPc;
        continue;
      } else if (op === BPF_JCOND) {
        // may_goto: falls through while the loop budget lasts, then jumps.
        taken = --core.mayGoto <= 0;
      } else if (cls === BPF_JMP) {
        let blo: number;
        let bhi: number;
        if ((code & 8) !== 0) {
          blo = lo[s];
          bhi = hi[s];
        } else {
          blo = imm >>> 0;
          bhi = imm < 0 ? 0xffffffff : 0;
        }
        const alo = lo[d];
        const ahi = hi[d];
        switch (op) {
          case BPF_JEQ:
            taken = alo === blo && ahi === bhi;
            break;
          case BPF_JNE:
            taken = alo !== blo || ahi !== bhi;
            break;
          case BPF_JGT:
            taken = ahi !== bhi ? ahi > bhi : alo > blo;
            break;
          case BPF_JGE:
            taken = ahi !== bhi ? ahi > bhi : alo >= blo;
            break;
          case BPF_JLT:
            taken = ahi !== bhi ? ahi < bhi : alo < blo;
            break;
          case BPF_JLE:
            taken = ahi !== bhi ? ahi < bhi : alo <= blo;
            break;
          case BPF_JSET:
            taken = (alo & blo) !== 0 || (ahi & bhi) !== 0;
            break;
          case BPF_JSGT:
            taken = ahi !== bhi ? (ahi | 0) > (bhi | 0) : alo > blo;
            break;
          case BPF_JSGE:
            taken = ahi !== bhi ? (ahi | 0) > (bhi | 0) : alo >= blo;
            break;
          case BPF_JSLT:
            taken = ahi !== bhi ? (ahi | 0) < (bhi | 0) : alo < blo;
            break;
          default: // BPF_JSLE
            taken = ahi !== bhi ? (ahi | 0) < (bhi | 0) : alo <= blo;
            break;
        }
      } else {
        const b = (code & 8) !== 0 ? lo[s] : imm >>> 0;
        const a = lo[d];
        switch (op) {
          case BPF_JEQ:
            taken = a === b;
            break;
          case BPF_JNE:
            taken = a !== b;
            break;
          case BPF_JGT:
            taken = a > b;
            break;
          case BPF_JGE:
            taken = a >= b;
            break;
          case BPF_JLT:
            taken = a < b;
            break;
          case BPF_JLE:
            taken = a <= b;
            break;
          case BPF_JSET:
            taken = (a & b) !== 0;
            break;
          case BPF_JSGT:
            taken = (a | 0) > (b | 0);
            break;
          case BPF_JSGE:
            taken = (a | 0) >= (b | 0);
            break;
          case BPF_JSLT:
            taken = (a | 0) < (b | 0);
            break;
          default:
            taken = (a | 0) <= (b | 0);
            break;
        }
      }
      if (core.trace !== null) core.trace.branchTaken = taken;
      pc += taken ? 1 + off : 1;
      continue;
    }

    if (cls === BPF_LDX) {
      const size = sizeOf(code);
      const t = lo[s] + off;
      const ahi = hi[s] + (t > 0xffffffff ? 1 : t < 0 ? -1 : 0);
      if (!core.load(t >>> 0, ahi >>> 0, size, pc)) break;
      if ((code & 0xe0) === BPF_MEMSX) {
        const v = size === 1 ? (core.rlo << 24) >> 24 : size === 2 ? (core.rlo << 16) >> 16 : core.rlo | 0;
        lo[d] = v;
        hi[d] = v < 0 ? 0xffffffff : 0;
      } else {
        lo[d] = core.rlo;
        hi[d] = core.rhi;
      }
      pc++;
      continue;
    }

    if (cls === BPF_STX && (code & 0xe0) === 0xc0 && imm === BPF_LOAD_ACQ) {
      // r_dst = load_acquire((size *)(r_src + off)): the one STX-class instruction that reads through src.
      const t = lo[s] + off;
      const ahi = hi[s] + (t > 0xffffffff ? 1 : t < 0 ? -1 : 0);
      if (!core.load(t >>> 0, ahi >>> 0, sizeOf(code), pc)) break;
      lo[d] = core.rlo;
      hi[d] = core.rhi;
      pc++;
      continue;
    }

    if (cls === BPF_ST || cls === BPF_STX) {
      const size = sizeOf(code);
      const t = lo[d] + off;
      const alo = t >>> 0;
      const ahi = (hi[d] + (t > 0xffffffff ? 1 : t < 0 ? -1 : 0)) >>> 0;
      if (cls === BPF_ST) {
        if (!core.store(alo, ahi, size, imm >>> 0, imm < 0 ? 0xffffffff : 0, pc)) break;
      } else if ((code & 0xe0) !== 0xc0) {
        if (!core.store(alo, ahi, size, lo[s], hi[s], pc)) break;
      } else if (!atomic(core, code, d, s, imm, size, alo, ahi, pc)) break;
      pc++;
      continue;
    }

    // BPF_LD
    if (code === OP_LD_IMM64) {
      if (s !== 0) {
        core.setFault(pc, "insn", `ld_imm64 with src_reg ${s} (maps and BTF objects) is not emulated`);
        break;
      }
      lo[d] = imm >>> 0;
      hi[d] = p.imm2[pc] >>> 0;
      pc += 2;
      continue;
    }
    {
      // Legacy LD_ABS / LD_IND: r0 = *(size *)skb[k], big-endian; a miss ends the program with 0.
      if (core.kind !== "socket" && core.kind !== "tc") {
        core.setFault(pc, "insn", `LD_ABS/LD_IND exist only for socket filter and tc programs`);
        break;
      }
      const size = sizeOf(code);
      const k = (code & 0xe0) === BPF_ABS ? imm : (lo[s] + imm) | 0;
      const v = ldAbsValue(core, k, size);
      if (core.trace !== null && v !== null) {
        core.trace.reads.push({ region: "packet", offset: core.dataOffset + k, size, value: BigInt(v), address: toBig(PACKET_LO + core.dataOffset + k, PACKET_HI) });
      }
      if (v === null) {
        if (core.trace !== null) core.trace.ldAbsFailed = true;
        lo[0] = 0;
        hi[0] = 0;
        core.done = true;
        core.pc = pc;
        return;
      }
      lo[0] = v;
      hi[0] = 0;
      pc++;
    }
  }
  core.pc = pc;
}

/** BPF_STX | BPF_ATOMIC. */
function atomic(core: Core, code: number, d: number, s: number, imm: number, size: number, alo: number, ahi: number, pc: number): boolean {
  const lo = core.lo;
  const hi = core.hi;
  if (imm === BPF_STORE_REL) return core.store(alo, ahi, size, lo[s], hi[s], pc);
  if (!core.load(alo, ahi, size, pc)) return false;
  const olo = core.rlo;
  const ohi = core.rhi;
  const w = size === 8;
  const slo = lo[s];
  const shi = w ? hi[s] : 0;
  let nlo: number;
  let nhi: number;
  const rmw = imm & ~BPF_FETCH;
  if (imm === BPF_XCHG) {
    nlo = slo;
    nhi = shi;
  } else if (imm === BPF_CMPXCHG) {
    const eq = w ? lo[0] === olo && hi[0] === ohi : lo[0] === olo;
    nlo = eq ? slo : olo;
    nhi = eq ? shi : ohi;
  } else if (rmw === BPF_ADD) {
    const t = olo + slo;
    nlo = t >>> 0;
    nhi = (ohi + shi + (t > 0xffffffff ? 1 : 0)) >>> 0;
  } else if (rmw === BPF_AND) {
    nlo = olo & slo;
    nhi = ohi & shi;
  } else if (rmw === BPF_OR) {
    nlo = olo | slo;
    nhi = ohi | shi;
  } else {
    nlo = olo ^ slo;
    nhi = ohi ^ shi;
  }
  if (!core.store(alo, ahi, size, nlo, w ? nhi : 0, pc)) return false;
  if (imm === BPF_CMPXCHG) {
    lo[0] = olo;
    hi[0] = w ? ohi : 0;
  } else if ((imm & BPF_FETCH) !== 0) {
    lo[s] = olo;
    hi[s] = w ? ohi : 0;
  }
  return true;
}
