/**
 * Socket filters cannot read packet memory directly. They keep the legacy LD_ABS/LD_IND
 * instructions, which the verifier rewrites into calls of the kernel's own cBPF load helpers:
 * non-linear skbs work, header-relative offsets (SKF_NET_OFF/SKF_LL_OFF) work, and a load out of
 * bounds ends the program with 0, which is precisely cBPF's rule. That makes them the most exact
 * and the shortest lowering (one instruction per load). Their price: ctx must be in r6, the
 * result lands in r0 and r1..r5 are clobbered, so A = r0, and X and the temporary live in
 * callee-saved registers. (In body mode, where the implicit exit would leave the host function,
 * the helper strategy with bpf_skb_load_bytes is used instead.)
 */
import { SKF_AD_ALU_XOR_X } from "../cbpf";
import { SK_BUFF, alu32, alu64, call, jmp, ldAbs, ldInd, ldx, mov32Reg, mov64Imm, mov64Reg, stx, type RegName } from "../ebpf";
import { emitSkbAncillary, skbAncillaryProblem } from "./ancillary";
import { clampCopy } from "./direct";
import { refuse, type Decoded } from "./decode";
import { negativeOffset } from "./offsets";
import type { Cfg } from "./cfg";
import { SIZE_NAME, type Env, type Strategy } from "./strategy";
import type { TranslateAbi } from "./types";
import { aLiveAfter, xUpperBounds } from "./analysis";

const CTX: RegName = "r6";
const BPF_FUNC_skb_load_bytes = 26;
const INT_MAX = 0x7fffffff;

export function ldAbsStrategy(abi: TranslateAbi): Strategy {
  const { x: X, tmp: T } = abi;
  let xBound: Float64Array = new Float64Array(0);
  let aLive: Uint8Array = new Uint8Array(0);
  return {
    abi,
    guarded: false,
    fails(d: Decoded) {
      const op = d.op;
      switch (op.t) {
        case "abs":
        case "msh":
          return op.k >= 0x80000000 ? negativeOffset(d, "socket", true) : undefined;
        case "ind":
          return op.k > INT_MAX ? `offset ${op.k} is past any packet: the load never succeeds, so the filter returns 0` : undefined;
        case "anc": {
          if (op.slot === SKF_AD_ALU_XOR_X) return undefined;
          const why = skbAncillaryProblem(op.slot, true);
          if (why !== undefined) throw refuse(d.index, `${d.text} cannot be translated: ${why}`);
          return undefined;
        }
        default:
          return undefined;
      }
    },
    layout(_env: Env, cfg: Cfg) {
      xBound = xUpperBounds(cfg);
      aLive = aLiveAfter(cfg);
    },
    prologue(env: Env) {
      env.e.emit(mov64Reg(CTX, "r1"));
    },
    absGuard() {},
    indGuard() {},
    abs(env: Env, size, k) {
      env.e.load(ldAbs(SIZE_NAME[size], k >>> 0 > INT_MAX ? k | 0 : k));
    },
    ind(env: Env, size, k, _range, instId) {
      // LD_IND adds X and k in 64 bits and hands the helper an int, so a sum of 2^31 or more would
      // wrap to a negative (header-relative) offset. libpcap fails such a load; so do we.
      if (xBound[instId]! + k > INT_MAX) {
        env.e.emit(mov32Reg(T, X), alu64("add", T, k));
        env.e.guards++;
        env.e.guard(jmp("jgt", T, INT_MAX, env.nomatch));
      }
      env.e.load(ldInd(SIZE_NAME[size], X, k));
    },
    msh(env: Env, k, _known, instId) {
      // The byte load lands in r0, which is A: keep A in the temporary meanwhile, unless nothing
      // reads A before overwriting it (libpcap's usual `ldxb 4*([14]&0xf); ldh [x+14]`).
      const keep = aLive[instId] === 1;
      if (keep) env.e.emit(mov64Reg(T, "r0"));
      env.e.load(ldAbs("u8", k >>> 0 > INT_MAX ? k | 0 : k));
      env.e.emit(alu32("and", "r0", 0xf), alu32("lsh", "r0", 2), mov32Reg(X, "r0"));
      if (keep) env.e.emit(mov64Reg("r0", T));
    },
    len(env: Env, dst: RegName) {
      env.e.emit(ldx("u32", dst, CTX, SK_BUFF.len));
    },
    anc(env: Env, slot: number) {
      emitSkbAncillary(env.e, CTX, "r0", slot);
    },
    epilogueSave() {},
    sample(env: Env, buf: number, bytes: number) {
      const e = env.e;
      e.emit(ldx("u32", "r7", CTX, SK_BUFF.len), stx("u32", "r10", buf, "r7"));
      clampCopy(env, buf, bytes, "r7", () => {
        e.emit(mov64Reg("r1", CTX), mov64Imm("r2", 0), mov64Reg("r3", "r10"), alu64("add", "r3", buf + 8));
        e.emit(call(BPF_FUNC_skb_load_bytes));
      });
    },
  };
}
