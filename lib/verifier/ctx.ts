/**
 * Context access rules per program type (the kernel's *_is_valid_access callbacks): which
 * (offset, size) reads and writes of the context are allowed and what type the loaded register
 * gets. Offsets are those of the UAPI structs `__sk_buff`, `xdp_md` and `pt_regs` (x86_64).
 */
import type { RegType } from "./reg";

export type ProgType = "socket" | "tc" | "xdp" | "kprobe";

export const PROG_TYPES: readonly ProgType[] = ["socket", "tc", "xdp", "kprobe"];

export interface CtxAccess {
  ok: boolean;
  /** Type of the loaded register (scalar unless a pointer field). */
  regType?: RegType;
  maybeNull?: boolean;
}

const SKB_SIZE = 192;
const SK = {
  cb0: 48,
  cbEnd: 68,
  tcClassid: 72,
  data: 76,
  dataEnd: 80,
  family: 88,
  localPortEnd: 140,
  dataMeta: 140,
  flowKeys: 144,
  tstamp: 152,
  wireLen: 160,
  sk: 168,
  tstampType: 180,
  hwtstamp: 184,
};

const inField = (off: number, start: number, size: number) => off >= start && off < start + size;
const narrowOk = (size: number) => size <= 4 && (size & (size - 1)) === 0;

/** bpf_skb_is_valid_access, shared by socket filters and tc. */
function skbCommon(off: number, size: number, write: boolean): CtxAccess {
  if (off < 0 || off >= SKB_SIZE) return { ok: false };
  if (off % size !== 0) return { ok: false };
  if (off >= SK.cb0 && off < SK.cbEnd) return { ok: off + size <= SK.cbEnd };
  if (inField(off, SK.data, 4)) return size === 4 ? { ok: true, regType: "pkt" } : { ok: false };
  if (inField(off, SK.dataMeta, 4)) return size === 4 ? { ok: true, regType: "pkt_meta" } : { ok: false };
  if (inField(off, SK.dataEnd, 4)) return size === 4 ? { ok: true, regType: "pkt_end" } : { ok: false };
  if (inField(off, SK.flowKeys, 8)) return { ok: false };
  if (inField(off, SK.tstamp, 8)) return { ok: size === 8 };
  if (off === SK.sk) return !write && size === 8 ? { ok: true, regType: "sock_common", maybeNull: true } : { ok: false };
  if (inField(off, SK.sk, 8)) return { ok: false };
  if (off === SK.tstampType) return { ok: false };
  if (off > SK.tstampType && off < SK.hwtstamp) return { ok: false };
  if (inField(off, SK.hwtstamp, 8)) return { ok: size === 8 };
  return { ok: write ? size === 4 : narrowOk(size) };
}

function socketFilter(off: number, size: number, write: boolean): CtxAccess {
  if (
    inField(off, SK.tcClassid, 4) ||
    inField(off, SK.data, 4) ||
    inField(off, SK.dataMeta, 4) ||
    inField(off, SK.dataEnd, 4) ||
    (off >= SK.family && off < SK.localPortEnd) ||
    inField(off, SK.tstamp, 8) ||
    inField(off, SK.wireLen, 4) ||
    inField(off, SK.hwtstamp, 8)
  ) {
    return { ok: false };
  }
  if (write && !(off >= SK.cb0 && off < SK.cbEnd)) return { ok: false };
  return skbCommon(off, size, write);
}

const TC_WRITABLE: readonly [number, number][] = [
  [8, 4], // mark
  [12, 4], // queue_mapping
  [32, 4], // priority
  [44, 4], // tc_index
  [SK.cb0, 20],
  [SK.tcClassid, 4],
  [SK.tstamp, 8],
];

function tcClassifier(off: number, size: number, write: boolean): CtxAccess {
  if (off >= SK.family && off < SK.localPortEnd) return { ok: false };
  if (write && !TC_WRITABLE.some(([s, n]) => inField(off, s, n))) return { ok: false };
  // tc may read tstamp_type (one byte).
  if (off === SK.tstampType) return { ok: !write && size === 1 };
  return skbCommon(off, size, write);
}

function xdp(off: number, size: number, write: boolean): CtxAccess {
  if (write) return { ok: false };
  if (off === 20) return { ok: false }; // egress_ifindex: devmap programs only
  if (off < 0 || off >= 24 || off % size !== 0 || size !== 4) return { ok: false };
  if (off === 0) return { ok: true, regType: "pkt" };
  if (off === 4) return { ok: true, regType: "pkt_end" };
  if (off === 8) return { ok: true, regType: "pkt_meta" };
  return { ok: true };
}

const PT_REGS_SIZE = 168;

function kprobe(off: number, size: number, write: boolean): CtxAccess {
  if (write) return { ok: false };
  return { ok: off >= 0 && off + size <= PT_REGS_SIZE && off % size === 0 };
}

export function ctxAccess(progType: ProgType, off: number, size: number, write: boolean): CtxAccess {
  switch (progType) {
    case "socket":
      return socketFilter(off, size, write);
    case "tc":
      return tcClassifier(off, size, write);
    case "xdp":
      return xdp(off, size, write);
    case "kprobe":
      return kprobe(off, size, write);
  }
}

/** Program types that may use LD_ABS/LD_IND (may_access_skb). */
export const mayAccessSkb = (t: ProgType): boolean => t === "socket" || t === "tc";
