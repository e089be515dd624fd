/**
 * Packet reads through a helper that copies bytes to the stack: bpf_probe_read_kernel for kprobe
 * (the packet is kernel memory at skb->head + skb->mac_header, as pwru reads it) and
 * bpf_skb_load_bytes for socket filters in body mode.
 *
 * Helper calls clobber r0..r5. pwru keeps A in r0 and so loses it across every read that does
 * not itself write A (MSH, `ldx M[]`): here A, X, the packet base and its length all live in
 * callee-saved r6..r9, so nothing is lost and no save/restore is needed around calls.
 *
 * Bounds are checked the same way as direct access (guards.ts), against the length register.
 * Each absolute guard also copies the checked header bytes (up to `headerCopyBytes`) to the stack
 * with one call, and each indirect guard the checked [X+start, X+end) range, so header reads
 * become plain stack loads instead of one helper call each. A read outside the copied bytes, or
 * one the verifier would see misaligned on the stack, falls back to its own call.
 */
import { SKF_AD_ALU_XOR_X, SKF_AD_PKTTYPE } from "../cbpf";
import {
  SK_BUFF,
  alu32,
  alu64,
  call,
  jmp,
  ldx,
  mov32Imm,
  mov32Reg,
  mov64Imm,
  mov64Reg,
  stx,
  type RegName,
  type SkbLayout,
} from "../ebpf";
import { SKB_PKT_TYPE_MASK, emitSkbAncillary, packetMetadataProblem, skbAncillaryProblem } from "./ancillary";
import type { Cfg } from "./cfg";
import type { Decoded } from "./decode";
import { clampCopy } from "./direct";
import type { GuardPlan, IndRange } from "./guards";
import { pointerLoadProblem } from "./offsets";
import { SIZE_NAME, bestShift, stackAligned, toHost, type Env, type Strategy } from "./strategy";
import type { TranslateAbi } from "./types";

const BPF_FUNC_skb_load_bytes = 26;
const BPF_FUNC_probe_read_kernel = 113;
const INT_MAX = 0x7fffffff;
/** Largest indirect range copied to the stack in one call. */
const IND_COPY_MAX = 32;

export type HelperKind = "probe_read_kernel" | "skb_load_bytes";

export interface HelperConfig {
  readonly kind: HelperKind;
  /** Register with the packet's first byte (probe) or the __sk_buff (skb), callee-saved. */
  readonly base: RegName;
  /** Register with the number of readable bytes, callee-saved. */
  readonly len: RegName;
  readonly headerCopyBytes: number;
  /** kprobe: sk_buff field offsets. */
  readonly layout: SkbLayout;
  /** kprobe whole mode: offset of the skb argument in pt_regs. */
  readonly skbArgOffset: number;
  /** kprobe: offset of ifindex in struct net_device (SKF_AD_IFINDEX is skb->dev->ifindex). */
  readonly netDeviceIfindex: number;
  readonly whole: boolean;
  /** Body mode: the host registers holding start/end (probe) or the __sk_buff (skb). */
  readonly bodyStart?: RegName;
  readonly bodyEnd?: RegName;
  readonly bodyCtx?: RegName;
}

export function helperStrategy(abi: TranslateAbi, cfgH: HelperConfig): Strategy {
  const { a: A, x: X, tmp: T } = abi;
  const { base: B, len: L, layout } = cfgH;
  const probe = cfgH.kind === "probe_read_kernel";
  const targetName = probe ? "kprobe" : "socket";
  let absBuf = 0;
  let absCap = 0;
  let indBuf = 0;
  let indCap = 0;
  let readBuf = 0;
  /** Stack slot of the `struct sk_buff *` (kprobe), when `len` or a sample needs it. */
  let skbSlot: number | undefined;

  /** Copies n bytes at packet offset (X +) k to r10+buf; a failed copy means no match. */
  const copy = (env: Env, buf: number, n: number, k: number, plusX: boolean) => {
    const e = env.e;
    if (probe) {
      e.emit(mov64Reg("r3", B));
      if (plusX) e.emit(alu64("add", "r3", X));
      if (k !== 0) e.emit(alu64("add", "r3", k));
      e.emit(mov64Reg("r1", "r10"), alu64("add", "r1", buf), mov64Imm("r2", n), call(BPF_FUNC_probe_read_kernel));
    } else {
      if (plusX) {
        e.emit(mov32Reg("r2", X));
        if (k !== 0) e.emit(alu32("add", "r2", k));
      } else e.emit(mov32Imm("r2", k));
      e.emit(mov64Reg("r1", B), mov64Reg("r3", "r10"), alu64("add", "r3", buf), mov64Imm("r4", n), call(BPF_FUNC_skb_load_bytes));
    }
    e.emit(jmp("jne", "r0", 0, env.nomatch));
  };

  /** dst = packet[(X +) k], `size` bytes, through its own helper call. */
  const readOne = (env: Env, dst: RegName, size: 1 | 2 | 4, k: number, plusX: boolean) => {
    copy(env, readBuf, size, k, plusX);
    env.e.load(ldx(SIZE_NAME[size], dst, "r10", readBuf));
  };

  const fromAbs = (env: Env, dst: RegName, size: 1 | 2 | 4, k: number, known: number) => {
    if (absCap > 0 && k + size <= Math.min(known, absCap) && stackAligned(absBuf + k, size)) {
      env.e.load(ldx(SIZE_NAME[size], dst, "r10", absBuf + k));
    } else readOne(env, dst, size, k, false);
  };

  const tooFar = (end: number) => (end > INT_MAX ? `offset ${end} is past any packet: the load never succeeds, so the filter returns 0` : undefined);

  return {
    abi,
    guarded: true,
    fails(d: Decoded) {
      return pointerLoadProblem(d, targetName, tooFar, (slot) =>
        probe
          ? (packetMetadataProblem("kprobe", slot) ??
            (cfgH.whole || cfgH.bodyCtx !== undefined ? undefined : "body mode was given no struct sk_buff pointer (abi.ctx) to read it from"))
          : skbAncillaryProblem(slot, true),
      );
    },
    layout(env: Env, cfg: Cfg, plan: GuardPlan) {
      const want = Math.max(0, Math.floor(cfgH.headerCopyBytes));
      const absLoads: { k: number; size: number }[] = [];
      const indLoads: { k: number; size: number }[] = [];
      for (const inst of cfg.insts) {
        if (inst.fail !== undefined) continue;
        const op = inst.d.op;
        if (op.t === "abs" && op.k + op.size <= want) absLoads.push({ k: op.k, size: op.size });
        if (op.t === "msh" && op.k + 1 <= want) absLoads.push({ k: op.k, size: 1 });
        if (op.t === "ind") {
          const r = plan.indOf.get(inst.id);
          if (r && op.k - r.start + op.size <= Math.min(want, IND_COPY_MAX)) indLoads.push({ k: op.k - r.start, size: op.size });
        }
      }
      if (absLoads.length > 0) {
        absCap = want;
        absBuf = env.stack.alloc(want + 4) + bestShift(absLoads);
      }
      if (indLoads.length > 0) {
        indCap = Math.min(want, IND_COPY_MAX);
        indBuf = env.stack.alloc(indCap + 4) + bestShift(indLoads);
      }
      readBuf = env.stack.alloc(8);
      const usesAnc = cfg.insts.some((i) => i.fail === undefined && i.d.op.t === "anc" && i.d.op.slot !== SKF_AD_ALU_XOR_X);
      if (probe && (env.usesLen || env.needsSample || usesAnc) && (env.whole || cfgH.bodyCtx !== undefined)) skbSlot = env.stack.alloc(8);
    },
    prologue(env: Env) {
      const e = env.e;
      if (!probe) {
        e.emit(mov64Reg(B, env.whole ? "r1" : (cfgH.bodyCtx ?? "r1")), ldx("u32", L, B, SK_BUFF.len));
        return;
      }
      if (!env.whole) {
        if (skbSlot !== undefined) e.emit(stx("u64", "r10", skbSlot, cfgH.bodyCtx!));
        e.emit(mov64Reg(B, cfgH.bodyStart ?? "r4"), mov64Reg(L, cfgH.bodyEnd ?? "r5"), alu64("sub", L, B));
        return;
      }
      // The skb pointer stays in L (callee-saved) until L gets its real value.
      e.emit(ldx("u64", L, "r1", cfgH.skbArgOffset));
      if (skbSlot !== undefined) e.emit(stx("u64", "r10", skbSlot, L));
      const fields = [
        { name: "head", off: layout.head, size: 8 },
        { name: "mac_header", off: layout.mac_header, size: 2 },
        { name: "tail", off: layout.tail, size: 4 },
      ];
      const lo = Math.floor(Math.min(...fields.map((f) => f.off)) / 8) * 8;
      const hi = Math.max(...fields.map((f) => f.off + f.size));
      const where = new Map<string, number>();
      const readSpan = (start: number, size: number): number => {
        const buf = env.stack.alloc(size);
        e.emit(mov64Reg("r3", L), alu64("add", "r3", start), mov64Reg("r1", "r10"), alu64("add", "r1", buf), mov64Imm("r2", size));
        e.emit(call(BPF_FUNC_probe_read_kernel), jmp("jne", "r0", 0, env.nomatch));
        return buf - start;
      };
      if (hi - lo <= 64) {
        const at = readSpan(lo, hi - lo);
        for (const f of fields) where.set(f.name, at + f.off);
      } else {
        for (const f of fields) {
          const start = Math.floor(f.off / 8) * 8;
          where.set(f.name, readSpan(start, f.off + f.size - start) + f.off);
        }
      }
      e.emit(ldx("u64", B, "r10", where.get("head")!), ldx("u16", "r1", "r10", where.get("mac_header")!));
      // 0xffff: no MAC header set (skb_mac_header_was_set() is false); nothing to filter.
      e.emit(jmp("jeq", "r1", 0xffff, env.nomatch), alu64("add", B, "r1"));
      e.emit(ldx("u32", L, "r10", where.get("tail")!), alu32("sub", L, "r1"));
    },
    absGuard(env: Env, length: number, from: number) {
      env.e.guard(jmp("jlt", L, length, env.nomatch));
      // Bytes below `from` were copied by the guard every path passed already.
      const lo = Math.min(from, absCap);
      const hi = Math.min(length, absCap);
      if (hi > lo) copy(env, absBuf + lo, hi - lo, lo, false);
    },
    indGuard(env: Env, r: IndRange) {
      env.e.emit(mov32Reg(T, X), alu64("add", T, r.end));
      env.e.guard(jmp("jgt", T, L, env.nomatch));
      if (indCap > 0) copy(env, indBuf, Math.min(r.end - r.start, indCap), r.start, true);
    },
    abs(env: Env, size, k, known) {
      fromAbs(env, A, size, k, known);
      toHost(env.e, A, size);
    },
    ind(env: Env, size, k, range) {
      const rel = k - range!.start;
      if (indCap > 0 && rel + size <= Math.min(range!.end - range!.start, indCap) && stackAligned(indBuf + rel, size)) {
        env.e.load(ldx(SIZE_NAME[size], A, "r10", indBuf + rel));
      } else readOne(env, A, size, k, true);
      toHost(env.e, A, size);
    },
    msh(env: Env, k, known) {
      fromAbs(env, X, 1, k, known);
      env.e.emit(alu32("and", X, 0xf), alu32("lsh", X, 2));
    },
    len(env: Env, dst: RegName) {
      const e = env.e;
      if (probe && skbSlot !== undefined) {
        e.emit(ldx("u64", "r3", "r10", skbSlot), alu64("add", "r3", layout.len));
        e.emit(mov64Reg("r1", "r10"), alu64("add", "r1", readBuf), mov64Imm("r2", 4), call(BPF_FUNC_probe_read_kernel));
        e.emit(jmp("jne", "r0", 0, env.nomatch), ldx("u32", dst, "r10", readBuf));
        return;
      }
      e.emit(mov32Reg(dst, L));
    },
    anc(env: Env, slot: number) {
      if (!probe) {
        emitSkbAncillary(env.e, B, A, slot);
        return;
      }
      // Kernel memory, one bpf_probe_read_kernel per hop; a failed read (no skb->dev) is no
      // match, as the kernel's converter returns 0 when skb->dev is NULL.
      const e = env.e;
      const read = (size: 1 | 4 | 8, off: number) => {
        e.emit(alu64("add", "r3", off), mov64Reg("r1", "r10"), alu64("add", "r1", readBuf), mov64Imm("r2", size));
        e.emit(call(BPF_FUNC_probe_read_kernel), jmp("jne", "r0", 0, env.nomatch));
      };
      e.emit(ldx("u64", "r3", "r10", skbSlot!));
      if (slot === SKF_AD_PKTTYPE) {
        read(1, layout.pkt_type);
        e.emit(ldx("u8", A, "r10", readBuf), alu32("and", A, SKB_PKT_TYPE_MASK));
        return;
      }
      read(8, layout.dev);
      e.emit(ldx("u64", "r3", "r10", readBuf));
      read(4, cfgH.netDeviceIfindex);
      e.emit(ldx("u32", A, "r10", readBuf));
    },
    epilogueSave() {},
    sample(env: Env, buf: number, bytes: number) {
      const e = env.e;
      if (probe && skbSlot !== undefined) {
        // skb->len; on a failed read the helper zero-fills, which is an honest "unknown".
        e.emit(ldx("u64", "r3", "r10", skbSlot), alu64("add", "r3", layout.len));
        e.emit(mov64Reg("r1", "r10"), alu64("add", "r1", buf), mov64Imm("r2", 4), call(BPF_FUNC_probe_read_kernel));
      } else e.emit(stx("u32", "r10", buf, L));
      clampCopy(env, buf, bytes, L, () => {
        if (probe) {
          e.emit(mov64Reg("r2", "r4"), mov64Reg("r1", "r10"), alu64("add", "r1", buf + 8), mov64Reg("r3", B));
          e.emit(call(BPF_FUNC_probe_read_kernel));
        } else {
          e.emit(mov64Reg("r1", B), mov64Imm("r2", 0), mov64Reg("r3", "r10"), alu64("add", "r3", buf + 8));
          e.emit(call(BPF_FUNC_skb_load_bytes));
        }
      });
    },
  };
}
