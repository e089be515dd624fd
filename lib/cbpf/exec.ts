/**
 * The interpreter loop, the only one. `runFilter`, the plain (no code generation) `compileFilter`
 * path and the stepper all call `execute`; the stepper simply asks for one instruction at a time.
 * Every computation is delegated to `semantics.ts`.
 *
 * The cases are numeric literals, not `Op.X`: per-file transpilers (tsx, vitest, SWC) leave
 * `Op.X` as a property load, which turns the switch into a chain of loads and compares and made
 * this loop ten times slower. The names are in comments; the property tests that run this loop
 * against the generated code (which does use `Op`) catch any mismatch.
 */
import type { LoweredProgram } from "./lower";
import * as semantics from "./semantics";

// Bound once at load. Transpiled ES modules (tsx, vitest, bundlers) reach an imported function
// through a getter on every call; in this loop that getter cost more than the instructions.
const {
  aluAdd,
  aluAnd,
  aluDiv,
  aluLshLibpcap,
  aluLshMasked,
  aluMod,
  aluMul,
  aluNeg,
  aluOr,
  aluRshLibpcap,
  aluRshMasked,
  aluSub,
  aluXor,
  ancillaryLoad,
  condEq,
  condGe,
  condGt,
  condSet,
  indexOffsetKernel,
  indexOffsetLibpcap,
  mshValue,
  readByte,
  readHalf,
  readWord,
  STOP,
} = semantics;

export const Status = {
  /** Paused: the step budget ran out before a return. */
  RUNNING: 0,
  /** A `ret` executed; `ret` holds its value. */
  RETURNED: 1,
  /** The filter stopped early and returns 0; `reason` says why. */
  STOPPED: 2,
  /** A TRAP executed (not a verdict: the program is broken). */
  TRAPPED: 3,
} as const;

export const StopReason = {
  NONE: 0,
  OUT_OF_BOUNDS: 1,
  DIVIDE_BY_ZERO: 2,
  /** An ancillary load that needs skb->dev, and there is none. */
  NO_DEVICE: 3,
  /** A kernel offset that no helper can resolve (below SKF_LL_OFF, or SKF_NET_OFF with no network header). */
  UNADDRESSABLE: 4,
} as const;

/** Mutable machine state between calls to `execute`. */
export interface Machine {
  pc: number;
  a: number;
  x: number;
  readonly mem: Uint32Array;
  status: number;
  reason: number;
  ret: number;
  /** The packet offset and size the last executed load tried to read (size 0: none). */
  readOffset: number;
  readSize: number;
}

export function newMachine(): Machine {
  return {
    pc: 0,
    a: 0,
    x: 0,
    mem: new Uint32Array(16),
    status: Status.RUNNING,
    reason: StopReason.NONE,
    ret: 0,
    readOffset: 0,
    readSize: 0,
  };
}

export function resetMachine(m: Machine, clearScratch: boolean): void {
  m.pc = 0;
  m.a = 0;
  m.x = 0;
  m.status = Status.RUNNING;
  m.reason = StopReason.NONE;
  m.ret = 0;
  m.readOffset = 0;
  m.readSize = 0;
  if (clearScratch) m.mem.fill(0);
}

/**
 * Run from `m.pc` for at most `maxSteps` instructions. `len` (the `ld #pktlen` value) is passed
 * in already resolved by `semantics.packetLength`. Returns the number of instructions executed.
 */
export function execute(L: LoweredProgram, m: Machine, pkt: Uint8Array, len: number, maxSteps: number): number {
  const op = L.op;
  const K = L.k;
  const JT = L.jt;
  const JF = L.jf;
  const mem = m.mem;
  const caplen = pkt.length;
  const netOff = L.networkOffset;
  let pc = m.pc;
  let a = m.a;
  let x = m.x;
  let v = 0;
  let off = 0;
  let size = 0;
  let steps = 0;
  let status: number = Status.RUNNING;
  let reason: number = StopReason.NONE;
  let ret = 0;

  loop: while (steps < maxSteps) {
    steps++;
    const k = K[pc]!;
    switch (op[pc]) {
      case 0 /* RET_K */:
        ret = k;
        status = Status.RETURNED;
        break loop;
      case 1 /* RET_A */:
        ret = a;
        status = Status.RETURNED;
        break loop;
      case 2 /* LD_IMM */:
        a = k;
        break;
      case 3 /* LDX_IMM */:
        x = k;
        break;
      case 4 /* LD_MEM */:
        a = mem[k]!;
        break;
      case 5 /* LDX_MEM */:
        x = mem[k]!;
        break;
      case 6 /* ST */:
        mem[k] = a;
        break;
      case 7 /* STX */:
        mem[k] = x;
        break;
      case 8 /* LD_LEN */:
        a = len;
        break;
      case 9 /* LDX_LEN */:
        x = len;
        break;
      case 10 /* LD_W */:
        off = k;
        size = 4;
        v = readWord(pkt, caplen, k);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 11 /* LD_H */:
        off = k;
        size = 2;
        v = readHalf(pkt, caplen, k);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 12 /* LD_B */:
        off = k;
        size = 1;
        v = readByte(pkt, caplen, k);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 13 /* LDX_MSH */:
        off = k;
        size = 1;
        v = readByte(pkt, caplen, k);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        x = mshValue(v);
        break;
      case 14 /* LD_IND_W */:
        size = 4;
        off = indexOffsetLibpcap(x, k);
        v = readWord(pkt, caplen, off);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 15 /* LD_IND_H */:
        size = 2;
        off = indexOffsetLibpcap(x, k);
        v = readHalf(pkt, caplen, off);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 16 /* LD_IND_B */:
        size = 1;
        off = indexOffsetLibpcap(x, k);
        v = readByte(pkt, caplen, off);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 17 /* LD_INDK_W */:
        size = 4;
        off = indexOffsetKernel(x, k, netOff);
        if (off === STOP) {
          off = (x + k) | 0;
          reason = StopReason.UNADDRESSABLE;
          status = Status.STOPPED;
          break loop;
        }
        v = readWord(pkt, caplen, off);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 18 /* LD_INDK_H */:
        size = 2;
        off = indexOffsetKernel(x, k, netOff);
        if (off === STOP) {
          off = (x + k) | 0;
          reason = StopReason.UNADDRESSABLE;
          status = Status.STOPPED;
          break loop;
        }
        v = readHalf(pkt, caplen, off);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 19 /* LD_INDK_B */:
        size = 1;
        off = indexOffsetKernel(x, k, netOff);
        if (off === STOP) {
          off = (x + k) | 0;
          reason = StopReason.UNADDRESSABLE;
          status = Status.STOPPED;
          break loop;
        }
        v = readByte(pkt, caplen, off);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 20 /* LOAD_FAIL */:
        reason = StopReason.UNADDRESSABLE;
        status = Status.STOPPED;
        break loop;
      case 21 /* ANC */:
        v = ancillaryLoad(k, a, x, pkt, L.ancillary);
        if (v === STOP) {
          reason = StopReason.NO_DEVICE;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 22 /* ADD_K */:
        a = aluAdd(a, k);
        break;
      case 23 /* ADD_X */:
        a = aluAdd(a, x);
        break;
      case 24 /* SUB_K */:
        a = aluSub(a, k);
        break;
      case 25 /* SUB_X */:
        a = aluSub(a, x);
        break;
      case 26 /* MUL_K */:
        a = aluMul(a, k);
        break;
      case 27 /* MUL_X */:
        a = aluMul(a, x);
        break;
      case 28 /* DIV_K */:
        v = aluDiv(a, k);
        if (v === STOP) {
          reason = StopReason.DIVIDE_BY_ZERO;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 29 /* DIV_X */:
        v = aluDiv(a, x);
        if (v === STOP) {
          reason = StopReason.DIVIDE_BY_ZERO;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 30 /* MOD_K */:
        v = aluMod(a, k);
        if (v === STOP) {
          reason = StopReason.DIVIDE_BY_ZERO;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 31 /* MOD_X */:
        v = aluMod(a, x);
        if (v === STOP) {
          reason = StopReason.DIVIDE_BY_ZERO;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case 32 /* AND_K */:
        a = aluAnd(a, k);
        break;
      case 33 /* AND_X */:
        a = aluAnd(a, x);
        break;
      case 34 /* OR_K */:
        a = aluOr(a, k);
        break;
      case 35 /* OR_X */:
        a = aluOr(a, x);
        break;
      case 36 /* XOR_K */:
        a = aluXor(a, k);
        break;
      case 37 /* XOR_X */:
        a = aluXor(a, x);
        break;
      case 38 /* LSH_K */:
        a = aluLshMasked(a, k);
        break;
      case 39 /* RSH_K */:
        a = aluRshMasked(a, k);
        break;
      case 40 /* LSH_X_MASKED */:
        a = aluLshMasked(a, x);
        break;
      case 41 /* RSH_X_MASKED */:
        a = aluRshMasked(a, x);
        break;
      case 42 /* LSH_X_PCAP */:
        a = aluLshLibpcap(a, x);
        break;
      case 43 /* RSH_X_PCAP */:
        a = aluRshLibpcap(a, x);
        break;
      case 44 /* NEG */:
        a = aluNeg(a);
        break;
      case 45 /* TAX */:
        x = a;
        break;
      case 46 /* TXA */:
        a = x;
        break;
      case 47 /* JA */:
        pc = JT[pc]!;
        continue;
      case 48 /* JEQ_K */:
        pc = condEq(a, k) ? JT[pc]! : JF[pc]!;
        continue;
      case 49 /* JEQ_X */:
        pc = condEq(a, x) ? JT[pc]! : JF[pc]!;
        continue;
      case 50 /* JGT_K */:
        pc = condGt(a, k) ? JT[pc]! : JF[pc]!;
        continue;
      case 51 /* JGT_X */:
        pc = condGt(a, x) ? JT[pc]! : JF[pc]!;
        continue;
      case 52 /* JGE_K */:
        pc = condGe(a, k) ? JT[pc]! : JF[pc]!;
        continue;
      case 53 /* JGE_X */:
        pc = condGe(a, x) ? JT[pc]! : JF[pc]!;
        continue;
      case 54 /* JSET_K */:
        pc = condSet(a, k) ? JT[pc]! : JF[pc]!;
        continue;
      case 55 /* JSET_X */:
        pc = condSet(a, x) ? JT[pc]! : JF[pc]!;
        continue;
      default:
        // 56 TRAP, and nothing else can reach here.
        status = Status.TRAPPED;
        break loop;
    }
    pc++;
  }

  m.pc = pc;
  m.a = a;
  m.x = x;
  m.status = status;
  m.reason = reason;
  m.ret = ret;
  m.readOffset = off;
  m.readSize = size;
  return steps;
}
