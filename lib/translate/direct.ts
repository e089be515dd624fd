/**
 * Direct packet access (xdp, tc): loads from a packet pointer, made legal for the verifier by
 * comparisons against the end pointer. See guards.ts for where the comparisons go.
 *
 * The verifier only keeps a checked range for pointers whose offset stays within 0xffff
 * (MAX_PACKET_OFF), so a load at k + size > 0xffff can never be verified; such an instruction
 * becomes "no match" (the same as cbpfc's rewrite to `ret #0`), which is exact for every packet
 * shorter than 64 KiB.
 */
import {
  SK_BUFF,
  XDP_MD,
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
} from "../ebpf";
import { SKF_AD_IFINDEX } from "../cbpf";
import { pointerLoadProblem } from "./offsets";
import { emitSkbAncillary, emitXdpAncillary, packetMetadataProblem, skbAncillaryProblem } from "./ancillary";
import type { Decoded } from "./decode";
import type { IndRange } from "./guards";
import { SIZE_NAME, toHost, type Env, type Strategy } from "./strategy";
import type { TranslateAbi } from "./types";

/** The verifier's MAX_PACKET_OFF. */
export const MAX_PACKET_OFF = 0xffff;

const BPF_FUNC_skb_load_bytes = 26;
const BPF_FUNC_xdp_load_bytes = 189;

export interface DirectRegs {
  readonly data: RegName;
  readonly end: RegName;
  /** The context (whole mode: r1, never written by the body). */
  readonly ctx?: RegName;
}

export function directStrategy(target: "xdp" | "tc", abi: TranslateAbi, regs: DirectRegs): Strategy {
  const { a: A, x: X, tmp: T, ind: I } = abi;
  const { data: D, end: E, ctx: C } = regs;
  const tooFar = (end: number) =>
    end > MAX_PACKET_OFF
      ? `reads past byte 0xffff, which direct packet access cannot reach (no packet that long reaches ${target})`
      : undefined;

  const loadAt = (env: Env, size: 1 | 2 | 4, dst: RegName, k: number) => {
    if (k <= 0x7fff) env.e.load(ldx(SIZE_NAME[size], dst, D, k));
    else {
      env.e.emit(mov64Reg(T, D), alu64("add", T, k));
      env.e.load(ldx(SIZE_NAME[size], dst, T, 0));
    }
  };

  return {
    abi,
    guarded: true,
    fails(d: Decoded) {
      return pointerLoadProblem(d, target, tooFar, (slot) =>
        target === "xdp"
          ? (packetMetadataProblem("xdp", slot) ??
            (slot === SKF_AD_IFINDEX && C === undefined ? "body mode has no xdp_md pointer to read ingress_ifindex from" : undefined))
          : C === undefined
            ? "body mode has no __sk_buff pointer to read it from"
            : skbAncillaryProblem(slot, false),
      );
    },
    layout() {},
    prologue(env: Env) {
      if (!env.whole) return;
      const [offData, offEnd] = target === "xdp" ? [XDP_MD.data, XDP_MD.data_end] : [SK_BUFF.data, SK_BUFF.data_end];
      env.e.emit(ldx("u32", D, "r1", offData), ldx("u32", E, "r1", offEnd));
    },
    absGuard(env: Env, length: number) {
      env.e.emit(mov64Reg(T, D), alu64("add", T, length));
      env.e.guard(jmp("jgt", T, E, env.nomatch));
    },
    indGuard(env: Env, r: IndRange) {
      const span = r.end - r.start;
      // I = X + start, bounded with one unsigned compare (this rejects sums past 0xffff, which no
      // packet reaches), then made a packet pointer and checked against the end.
      env.e.emit(mov32Reg(I, X));
      if (r.start !== 0) env.e.emit(alu64("add", I, r.start));
      env.e.guard(jmp("jgt", I, MAX_PACKET_OFF - span, env.nomatch));
      env.e.emit(alu64("add", I, D), mov64Reg(T, I), alu64("add", T, span));
      env.e.guard(jmp("jgt", T, E, env.nomatch));
    },
    abs(env: Env, size, k) {
      loadAt(env, size, A, k);
      toHost(env.e, A, size);
    },
    ind(env: Env, size, k, range) {
      env.e.load(ldx(SIZE_NAME[size], A, I, k - range!.start));
      toHost(env.e, A, size);
    },
    msh(env: Env, k) {
      loadAt(env, 1, X, k);
      env.e.emit(alu32("and", X, 0xf), alu32("lsh", X, 2));
    },
    len(env: Env, dst: RegName) {
      if (target === "tc" && C !== undefined) {
        env.e.emit(ldx("u32", dst, C, SK_BUFF.len));
        return;
      }
      // XDP has only the frame: its length is what the program can see (data_end - data).
      env.e.emit(mov64Reg(dst, E), alu64("sub", dst, D), mov32Reg(dst, dst));
    },
    anc(env: Env, slot: number) {
      if (target === "xdp") {
        const note = "the packet type is derived from the destination MAC on xdp: unicast reads as PACKET_HOST (never OTHERHOST), never PACKET_OUTGOING";
        if (slot !== SKF_AD_IFINDEX && !env.notes.includes(note)) env.notes.push(note);
        emitXdpAncillary(env.e, { ctx: C ?? "r1", data: D, end: E, tmp: T }, A, slot, env.nomatch);
      }
      else emitSkbAncillary(env.e, C!, A, slot);
    },
    epilogueSave(env: Env) {
      // Everything but the result (r0, already saved) and the context (r1) is dead here; the
      // context must survive the helper calls of the epilogue.
      env.e.emit(mov64Reg("r6", C ?? "r1"));
    },
    sample(env: Env, buf: number, bytes: number) {
      const e = env.e;
      if (target === "xdp") {
        e.emit(ldx("u32", "r2", "r6", XDP_MD.data), ldx("u32", "r3", "r6", XDP_MD.data_end), alu64("sub", "r3", "r2"));
        e.emit(mov32Reg("r7", "r3"));
      } else {
        e.emit(ldx("u32", "r7", "r6", SK_BUFF.len));
      }
      e.emit(stx("u32", "r10", buf, "r7"));
      clampCopy(env, buf, bytes, "r7", () => {
        // (ctx, offset 0, to, len): bpf_xdp_load_bytes and bpf_skb_load_bytes share the shape.
        e.emit(mov64Reg("r1", "r6"), mov64Imm("r2", 0), mov64Reg("r3", "r10"), alu64("add", "r3", buf + 8));
        e.emit(call(target === "xdp" ? BPF_FUNC_xdp_load_bytes : BPF_FUNC_skb_load_bytes));
      });
    },
  };
}

/**
 * r4 = min(avail, bytes); stores it as the sample's captured length; runs `copy` (which finds
 * the length in r4) unless it is 0. Helpers take a length the verifier must see as 1..bytes.
 */
export function clampCopy(env: Env, buf: number, bytes: number, avail: RegName, copy: () => void): void {
  const e = env.e;
  const skip = e.name(`sample_done`);
  e.emit(mov32Reg("r4", avail));
  e.emit(jmp("jle", "r4", bytes, 1), mov32Imm("r4", bytes));
  e.emit(stx("u32", "r10", buf + 4, "r4"));
  e.emit(jmp("jeq", "r4", 0, skip));
  copy();
  e.label(skip);
}
