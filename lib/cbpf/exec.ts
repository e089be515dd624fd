/**
 * The interpreter loop, the only one. `runFilter`, the plain (no code generation) `compileFilter`
 * path and the stepper all call `execute`; the stepper simply asks for one instruction at a time.
 * Every computation is delegated to `semantics.ts`.
 */
import { Op, type LoweredProgram } from "./lower";
import {
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
} from "./semantics";

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
      case Op.RET_K:
        ret = k;
        status = Status.RETURNED;
        break loop;
      case Op.RET_A:
        ret = a;
        status = Status.RETURNED;
        break loop;
      case Op.LD_IMM:
        a = k;
        break;
      case Op.LDX_IMM:
        x = k;
        break;
      case Op.LD_MEM:
        a = mem[k]!;
        break;
      case Op.LDX_MEM:
        x = mem[k]!;
        break;
      case Op.ST:
        mem[k] = a;
        break;
      case Op.STX:
        mem[k] = x;
        break;
      case Op.LD_LEN:
        a = len;
        break;
      case Op.LDX_LEN:
        x = len;
        break;
      case Op.LD_W:
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
      case Op.LD_H:
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
      case Op.LD_B:
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
      case Op.LDX_MSH:
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
      case Op.LD_IND_W:
      case Op.LD_IND_H:
      case Op.LD_IND_B:
      case Op.LD_INDK_W:
      case Op.LD_INDK_H:
      case Op.LD_INDK_B: {
        const kind = op[pc]!;
        const kernel = kind >= Op.LD_INDK_W;
        size = kind === Op.LD_IND_W || kind === Op.LD_INDK_W ? 4 : kind === Op.LD_IND_H || kind === Op.LD_INDK_H ? 2 : 1;
        off = kernel ? indexOffsetKernel(x, k, netOff) : indexOffsetLibpcap(x, k);
        if (off === STOP) {
          off = (x + k) | 0;
          reason = StopReason.UNADDRESSABLE;
          status = Status.STOPPED;
          break loop;
        }
        v = size === 4 ? readWord(pkt, caplen, off) : size === 2 ? readHalf(pkt, caplen, off) : readByte(pkt, caplen, off);
        if (v === STOP) {
          reason = StopReason.OUT_OF_BOUNDS;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      }
      case Op.LOAD_FAIL:
        reason = StopReason.UNADDRESSABLE;
        status = Status.STOPPED;
        break loop;
      case Op.ANC:
        v = ancillaryLoad(k, a, x, pkt, L.ancillary);
        if (v === STOP) {
          reason = StopReason.NO_DEVICE;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      case Op.ADD_K:
        a = aluAdd(a, k);
        break;
      case Op.ADD_X:
        a = aluAdd(a, x);
        break;
      case Op.SUB_K:
        a = aluSub(a, k);
        break;
      case Op.SUB_X:
        a = aluSub(a, x);
        break;
      case Op.MUL_K:
        a = aluMul(a, k);
        break;
      case Op.MUL_X:
        a = aluMul(a, x);
        break;
      case Op.DIV_K:
      case Op.DIV_X:
      case Op.MOD_K:
      case Op.MOD_X: {
        const kind = op[pc]!;
        const divisor = kind === Op.DIV_K || kind === Op.MOD_K ? k : x;
        v = kind === Op.DIV_K || kind === Op.DIV_X ? aluDiv(a, divisor) : aluMod(a, divisor);
        if (v === STOP) {
          reason = StopReason.DIVIDE_BY_ZERO;
          status = Status.STOPPED;
          break loop;
        }
        a = v;
        break;
      }
      case Op.AND_K:
        a = aluAnd(a, k);
        break;
      case Op.AND_X:
        a = aluAnd(a, x);
        break;
      case Op.OR_K:
        a = aluOr(a, k);
        break;
      case Op.OR_X:
        a = aluOr(a, x);
        break;
      case Op.XOR_K:
        a = aluXor(a, k);
        break;
      case Op.XOR_X:
        a = aluXor(a, x);
        break;
      case Op.LSH_K:
        a = aluLshMasked(a, k);
        break;
      case Op.RSH_K:
        a = aluRshMasked(a, k);
        break;
      case Op.LSH_X_MASKED:
        a = aluLshMasked(a, x);
        break;
      case Op.RSH_X_MASKED:
        a = aluRshMasked(a, x);
        break;
      case Op.LSH_X_PCAP:
        a = aluLshLibpcap(a, x);
        break;
      case Op.RSH_X_PCAP:
        a = aluRshLibpcap(a, x);
        break;
      case Op.NEG:
        a = aluNeg(a);
        break;
      case Op.TAX:
        x = a;
        break;
      case Op.TXA:
        a = x;
        break;
      case Op.JA:
        pc = JT[pc]!;
        continue;
      case Op.JEQ_K:
        pc = condEq(a, k) ? JT[pc]! : JF[pc]!;
        continue;
      case Op.JEQ_X:
        pc = condEq(a, x) ? JT[pc]! : JF[pc]!;
        continue;
      case Op.JGT_K:
        pc = condGt(a, k) ? JT[pc]! : JF[pc]!;
        continue;
      case Op.JGT_X:
        pc = condGt(a, x) ? JT[pc]! : JF[pc]!;
        continue;
      case Op.JGE_K:
        pc = condGe(a, k) ? JT[pc]! : JF[pc]!;
        continue;
      case Op.JGE_X:
        pc = condGe(a, x) ? JT[pc]! : JF[pc]!;
        continue;
      case Op.JSET_K:
        pc = condSet(a, k) ? JT[pc]! : JF[pc]!;
        continue;
      case Op.JSET_X:
        pc = condSet(a, x) ? JT[pc]! : JF[pc]!;
        continue;
      default:
        // Op.TRAP, and nothing else can reach here.
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
