/**
 * Program contexts as a program sees them through r1, and the kernel memory a kprobe program reads
 * with bpf_probe_read_kernel.
 *
 * The UAPI context structs (`struct xdp_md`, `struct __sk_buff`) are views: the verifier rewrites
 * each field access into a load from the real kernel object, and `data`/`data_end`/`data_meta` become
 * 64-bit packet pointers although the UAPI field is a u32. The emulation keeps a byte image of the
 * struct for ordinary fields (so narrow loads read the right bytes) and serves the pointer fields
 * separately. Field offsets follow include/uapi/linux/bpf.h; which fields a program type may read
 * or write follows the `*_is_valid_access` functions of net/core/filter.c.
 */
import { PlaygroundError } from "../../errors";

// ---- struct xdp_md ----
export const XDP_MD = {
  data: 0,
  data_end: 4,
  data_meta: 8,
  ingress_ifindex: 12,
  rx_queue_index: 16,
  egress_ifindex: 20,
  size: 24,
} as const;

// ---- struct __sk_buff ----
export const SK_BUFF = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  vlan_present: 20,
  vlan_tci: 24,
  vlan_proto: 28,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48, // u32 cb[5]: 48..67
  hash: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  napi_id: 84,
  family: 88,
  remote_ip4: 92,
  local_ip4: 96,
  remote_ip6: 100,
  local_ip6: 116,
  remote_port: 132,
  local_port: 136,
  data_meta: 140,
  flow_keys: 144,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  sk: 168,
  gso_size: 176,
  tstamp_type: 180,
  hwtstamp: 184,
  size: 192,
} as const;

// ---- struct pt_regs (x86_64) ----
export const PT_REGS = {
  r15: 0,
  r14: 8,
  r13: 16,
  r12: 24,
  bp: 32,
  bx: 40,
  r11: 48,
  r10: 56,
  r9: 64,
  r8: 72,
  ax: 80,
  cx: 88,
  dx: 96,
  si: 104,
  di: 112,
  orig_ax: 120,
  ip: 128,
  cs: 136,
  flags: 144,
  sp: 152,
  ss: 160,
  size: 168,
} as const;
export type PtRegName = Exclude<keyof typeof PT_REGS, "size">;
/** x86_64 calling convention: PT_REGS_PARM1..5. */
export const PT_REGS_PARM = ["di", "si", "dx", "cx", "r8"] as const;

/**
 * Offsets in `struct sk_buff` that a kprobe program reads with bpf_probe_read_kernel. Values are
 * those of the project's Linux 6.18 x86_64 kernel, read from its BTF (/sys/kernel/btf/vmlinux);
 * another kernel build may differ, so callers may pass their own layout.
 */
export interface SkbLayout {
  readonly size: number;
  readonly len: number; // u32
  readonly data_len: number; // u32
  readonly mac_len: number; // u16
  readonly queue_mapping: number; // u16
  readonly pkt_type: number; // u8, low 3 bits
  readonly dev: number; // struct net_device *
  readonly priority: number; // u32
  readonly hash: number; // u32
  readonly vlan_proto: number; // be16
  readonly vlan_tci: number; // u16
  readonly mark: number; // u32
  readonly protocol: number; // be16
  readonly transport_header: number; // u16 offset from head
  readonly network_header: number; // u16 offset from head
  readonly mac_header: number; // u16 offset from head
  readonly tail: number; // u32 offset from head
  readonly end: number; // u32 offset from head
  readonly head: number; // pointer
  readonly data: number; // pointer
}

export const SKB_LAYOUT_6_18_X86_64: SkbLayout = {
  size: 224,
  len: 112,
  data_len: 116,
  mac_len: 120,
  queue_mapping: 124,
  pkt_type: 128,
  dev: 16,
  priority: 140,
  hash: 148,
  vlan_proto: 152,
  vlan_tci: 154,
  mark: 164,
  protocol: 176,
  transport_header: 178,
  network_header: 180,
  mac_header: 182,
  tail: 184,
  end: 188,
  head: 192,
  data: 200,
};

/**
 * Offset of `ifindex` in `struct net_device` on the same kernel (BTF, like the sk_buff offsets):
 * SKF_AD_IFINDEX is skb->dev->ifindex, one pointer hop away from the sk_buff.
 */
export const NET_DEVICE_IFINDEX_6_18_X86_64 = 224;

// ---------------------------------------------------------------------------------------------
// Kernel memory (for bpf_probe_read_kernel)
// ---------------------------------------------------------------------------------------------

/** Memory a tracing program can read only through bpf_probe_read_kernel. */
export interface KernelMemory {
  /** Bytes at [addr, addr+len), or null if any of them is unmapped (the helper then fails with -EFAULT). */
  read(addr: bigint, len: number): Uint8Array | null;
}

/** A KernelMemory made of non-overlapping byte segments at fixed addresses. */
export class KernelSegments implements KernelMemory {
  private readonly segs: { base: bigint; bytes: Uint8Array }[] = [];

  add(base: bigint, bytes: Uint8Array): this {
    const end = base + BigInt(bytes.length);
    for (const s of this.segs) {
      if (base < s.base + BigInt(s.bytes.length) && s.base < end) {
        throw new PlaygroundError("ebpf/kernel-memory", `segment at 0x${base.toString(16)} overlaps one at 0x${s.base.toString(16)}`);
      }
    }
    this.segs.push({ base, bytes });
    return this;
  }

  read(addr: bigint, len: number): Uint8Array | null {
    for (const s of this.segs) {
      if (addr >= s.base && addr + BigInt(len) <= s.base + BigInt(s.bytes.length)) {
        const o = Number(addr - s.base);
        return s.bytes.subarray(o, o + len);
      }
    }
    return null;
  }
}

/** Where the fake kernel objects of a kprobe context live. */
export const KPROBE_SKB_ADDR = 0xffff888100a0c000n;
export const KPROBE_HEAD_ADDR = 0xffff888104e10000n;
export const KPROBE_DEV_ADDR = 0xffff888103f00000n;

export interface KprobeSkbOptions {
  /** The frame, starting at the MAC header. */
  readonly packet: Uint8Array;
  readonly layout?: SkbLayout;
  /** Bytes of headroom before the MAC header in the head buffer. Default 64. */
  readonly headroom?: number;
  /** Offset of the network header from the MAC header. Default 14 (Ethernet). */
  readonly networkOffset?: number;
  /** Where skb->data points, relative to the MAC header. Default 0 (as on transmit/tc paths). */
  readonly dataOffset?: number;
  /**
   * skb->len, the packet's length from skb->data whether or not all of it is in the head buffer
   * (a capture cut at its snaplen has fewer bytes than the wire had). Default: the bytes given.
   */
  readonly len?: number;
  readonly mark?: number;
  readonly priority?: number;
  readonly hash?: number;
  readonly pktType?: number;
  /** skb->dev->ifindex (a net_device holding just that field is built). Default 1. */
  readonly ifindex?: number;
  /** Offset of ifindex in struct net_device. Default NET_DEVICE_IFINDEX_6_18_X86_64. */
  readonly netDeviceIfindex?: number;
}

/**
 * Builds a fake `struct sk_buff` and its head buffer in kernel memory, the way a kprobe on a
 * function taking an skb sees them. Returns the memory and the skb address (PT_REGS_PARM1).
 */
export function buildKprobeSkb(opts: KprobeSkbOptions): { kernel: KernelSegments; skb: bigint; layout: SkbLayout } {
  const layout = opts.layout ?? SKB_LAYOUT_6_18_X86_64;
  const headroom = opts.headroom ?? 64;
  const netOff = opts.networkOffset ?? 14;
  const dataOff = opts.dataOffset ?? 0;
  const pkt = opts.packet;
  const head = new Uint8Array(headroom + pkt.length);
  head.set(pkt, headroom);
  const skb = new Uint8Array(layout.size);
  const v = new DataView(skb.buffer);
  const linear = pkt.length - dataOff;
  v.setUint32(layout.len, opts.len === undefined ? Math.max(0, linear) : opts.len >>> 0, true);
  v.setUint32(layout.data_len, 0, true);
  v.setUint16(layout.mac_len, netOff, true);
  v.setUint16(layout.mac_header, headroom, true);
  v.setUint16(layout.network_header, headroom + netOff, true);
  v.setUint16(layout.transport_header, 0xffff, true); // unset, as before the stack parses L4
  v.setUint32(layout.tail, headroom + pkt.length, true);
  v.setUint32(layout.end, headroom + pkt.length, true);
  v.setBigUint64(layout.head, KPROBE_HEAD_ADDR, true);
  v.setBigUint64(layout.data, KPROBE_HEAD_ADDR + BigInt(headroom + dataOff), true);
  // skb->protocol is the EtherType in network byte order: copy the two bytes as they are.
  if (pkt.length >= 14) {
    skb[layout.protocol] = pkt[12];
    skb[layout.protocol + 1] = pkt[13];
  }
  v.setUint32(layout.mark, opts.mark ?? 0, true);
  v.setUint32(layout.priority, opts.priority ?? 0, true);
  v.setUint32(layout.hash, opts.hash ?? 0, true);
  skb[layout.pkt_type] = (skb[layout.pkt_type] & ~7) | ((opts.pktType ?? 0) & 7);
  v.setBigUint64(layout.dev, KPROBE_DEV_ADDR, true);
  const ifindexOff = opts.netDeviceIfindex ?? NET_DEVICE_IFINDEX_6_18_X86_64;
  const dev = new Uint8Array(ifindexOff + 4);
  new DataView(dev.buffer).setUint32(ifindexOff, opts.ifindex ?? 1, true);
  const kernel = new KernelSegments().add(KPROBE_SKB_ADDR, skb).add(KPROBE_HEAD_ADDR, head).add(KPROBE_DEV_ADDR, dev);
  return { kernel, skb: KPROBE_SKB_ADDR, layout };
}

// ---------------------------------------------------------------------------------------------
// Context specifications
// ---------------------------------------------------------------------------------------------

interface CommonSpec {
  /** Seed of bpf_get_prandom_u32's generator (deterministic). Default 1. */
  readonly seed?: number;
  /** First value of bpf_ktime_get_ns; each call advances it by 1000 ns. Default 1e9. */
  readonly timeNs?: bigint;
}

export interface XdpSpec extends CommonSpec {
  readonly kind: "xdp";
  /** The frame; data points at its first byte. */
  readonly packet: Uint8Array;
  readonly ingressIfindex?: number;
  readonly rxQueueIndex?: number;
}

/** `struct __sk_buff` fields that are plain numbers (everything except data pointers). */
export interface SkBuffFields {
  readonly len?: number;
  readonly pkt_type?: number;
  readonly mark?: number;
  readonly queue_mapping?: number;
  /** skb->protocol in network byte order as the u16 read on a little-endian host; default from the EtherType. */
  readonly protocol?: number;
  readonly vlan_present?: number;
  readonly vlan_tci?: number;
  readonly vlan_proto?: number;
  readonly priority?: number;
  readonly ingress_ifindex?: number;
  readonly ifindex?: number;
  readonly tc_index?: number;
  readonly cb?: readonly number[];
  readonly hash?: number;
  readonly tc_classid?: number;
  readonly napi_id?: number;
  readonly wire_len?: number;
  readonly gso_segs?: number;
  readonly gso_size?: number;
}

export interface SkbSpec extends CommonSpec {
  /** "socket": BPF_PROG_TYPE_SOCKET_FILTER; "tc": BPF_PROG_TYPE_SCHED_CLS (direct packet access). */
  readonly kind: "socket" | "tc";
  /** The frame from its MAC header. */
  readonly packet: Uint8Array;
  /**
   * Where skb->data points inside `packet`. Default 0 (tc, and AF_PACKET sockets, see the MAC header).
   * BPF_PROG_TEST_RUN of a socket filter pulls the Ethernet header, i.e. 14.
   */
  readonly dataOffset?: number;
  /** Offset of the network header in `packet` (for SKF_NET_OFF loads). Default 14. */
  readonly networkOffset?: number;
  readonly fields?: SkBuffFields;
}

export interface KprobeSpec extends CommonSpec {
  readonly kind: "kprobe";
  /** Register values of the probed function's pt_regs (e.g. `{ di: skbAddress }`). */
  readonly regs?: Partial<Record<PtRegName, bigint>>;
  readonly kernel?: KernelMemory;
}

export type ContextSpec = XdpSpec | SkbSpec | KprobeSpec;
export type ContextKind = ContextSpec["kind"];

/** A kprobe context for a function whose first argument is an skb carrying `packet`. */
export function kprobeSkbContext(opts: KprobeSkbOptions & CommonSpec): KprobeSpec {
  const { kernel, skb } = buildKprobeSkb(opts);
  return { kind: "kprobe", regs: { di: skb }, kernel, seed: opts.seed, timeNs: opts.timeNs };
}

// ---------------------------------------------------------------------------------------------
// Access rules
// ---------------------------------------------------------------------------------------------

/** Which 64-bit pointer a ctx field load yields, if it is a pointer field. */
export type CtxPointer = "data" | "data_end" | "data_meta";

export interface CtxRules {
  readonly size: number;
  readonly pointers: ReadonlyMap<number, CtxPointer>;
  /**
   * Size of the kernel field behind each 4-byte UAPI field, where smaller than 4. The verifier
   * narrows a load only when it is smaller than that kernel field, so e.g. a u16 load of the upper
   * half of `protocol` (a __be16 in struct sk_buff) returns the whole value, not zero.
   */
  readonly targetSize: ReadonlyMap<number, number>;
  /** Whether a load of `size` bytes at `off` is allowed (already known to be inside the struct and aligned). */
  readable(off: number, size: number): boolean;
  writable(off: number, size: number): boolean;
}

const within = (off: number, size: number, start: number, end: number) => off >= start && off + size <= end;

const XDP_RULES: CtxRules = {
  size: XDP_MD.size,
  pointers: new Map<number, CtxPointer>([
    [XDP_MD.data, "data"],
    [XDP_MD.data_end, "data_end"],
    [XDP_MD.data_meta, "data_meta"],
  ]),
  targetSize: new Map(),
  // Only whole u32 loads (the verifier rejects narrow and 8-byte ones); egress_ifindex is for devmap programs.
  readable: (off, size) => size === 4 && off !== XDP_MD.egress_ifindex,
  writable: () => false,
};

/** __sk_buff fields backed by narrower struct sk_buff fields (convert_ctx_access's target_size). */
const SKB_TARGET_SIZE: ReadonlyMap<number, number> = new Map([
  [SK_BUFF.pkt_type, 1],
  [SK_BUFF.queue_mapping, 2],
  [SK_BUFF.protocol, 2],
  [SK_BUFF.vlan_tci, 2],
  [SK_BUFF.vlan_proto, 2],
  [SK_BUFF.tc_index, 2],
  [SK_BUFF.tc_classid, 2],
  [SK_BUFF.gso_segs, 2],
  [SK_BUFF.gso_size, 2],
]);

function skbRules(tc: boolean): CtxRules {
  const pointers = new Map<number, CtxPointer>(
    tc
      ? [
          [SK_BUFF.data, "data"],
          [SK_BUFF.data_end, "data_end"],
          [SK_BUFF.data_meta, "data_meta"],
        ]
      : [],
  );
  const u64Fields: readonly number[] = [SK_BUFF.flow_keys, SK_BUFF.tstamp, SK_BUFF.sk, SK_BUFF.hwtstamp];
  return {
    size: SK_BUFF.size,
    pointers,
    targetSize: SKB_TARGET_SIZE,
    readable: (off, size) => {
      if (pointers.has(off)) return size === 4;
      const hits = (start: number, len: number) => off < start + len && start < off + size;
      if (hits(SK_BUFF.data, 8) || hits(SK_BUFF.data_meta, 4)) return false; // socket: no packet pointers
      if (hits(SK_BUFF.family, SK_BUFF.local_port + 4 - SK_BUFF.family)) return false; // sk_skb only
      if (hits(SK_BUFF.flow_keys, 8) || hits(SK_BUFF.sk, 8)) return false; // kernel object pointers: not modelled
      if (!tc && (hits(SK_BUFF.tc_classid, 4) || hits(SK_BUFF.tstamp, 8) || hits(SK_BUFF.wire_len, 4) || hits(SK_BUFF.tstamp_type, 4) || hits(SK_BUFF.hwtstamp, 8))) {
        return false;
      }
      if (u64Fields.includes(off)) return size === 8;
      if (size === 8) return within(off, size, SK_BUFF.cb, SK_BUFF.cb + 20); // cb[] allows 8-byte loads
      if (hits(SK_BUFF.tstamp, 8) || hits(SK_BUFF.hwtstamp, 8)) return false; // only whole u64 loads
      return size <= 4 && !hits(SK_BUFF.tstamp_type + 1, 3);
    },
    writable: (off, size) => {
      if (within(off, size, SK_BUFF.cb, SK_BUFF.cb + 20)) return size <= 4 || (size === 8 && off % 8 === 0);
      if (!tc) return false;
      if (size !== 4 && !(off === SK_BUFF.tstamp && size === 8)) return false;
      const tcWritable: readonly number[] = [SK_BUFF.mark, SK_BUFF.priority, SK_BUFF.tc_index, SK_BUFF.tc_classid, SK_BUFF.queue_mapping, SK_BUFF.tstamp];
      return tcWritable.includes(off);
    },
  };
}

const SOCKET_RULES = skbRules(false);
const TC_RULES = skbRules(true);

const KPROBE_RULES: CtxRules = {
  size: PT_REGS.size,
  pointers: new Map(),
  targetSize: new Map(),
  readable: () => true,
  writable: () => false,
};

export function ctxRules(kind: ContextKind): CtxRules {
  switch (kind) {
    case "xdp":
      return XDP_RULES;
    case "socket":
      return SOCKET_RULES;
    case "tc":
      return TC_RULES;
    case "kprobe":
      return KPROBE_RULES;
  }
}

/*
 * Defaults of the skb fields follow BPF_PROG_TEST_RUN (net/bpf/test_run.c), which runs the program
 * on an skb built on the loopback device and classified by eth_type_trans(): verdicts of the
 * emulator and of the kernel's test run then agree on the same frame.
 */

/** eth_type_trans's pkt_type on a device whose address is 00:00:00:00:00:00 (loopback). */
function ethPktType(p: Uint8Array): number {
  if (p.length < 6) return 0;
  if ((p[0] & 1) !== 0) return p.subarray(0, 6).every((b) => b === 0xff) ? 1 : 2; // BROADCAST : MULTICAST
  return p.subarray(0, 6).every((b) => b === 0) ? 0 : 3; // HOST : OTHERHOST
}

/**
 * skb->protocol as eth_type_trans sets it, read as the u32 __sk_buff.protocol on a little-endian
 * host (the __be16 bytes as they are): the EtherType, or ETH_P_802_3 / ETH_P_802_2 for 802.3 lengths.
 */
function ethProtocol(p: Uint8Array): number {
  if (p.length < 14) return 0;
  const type = (p[12] << 8) | p[13];
  const proto = type >= 0x600 ? type : p.length >= 16 && p[14] === 0xff && p[15] === 0xff ? 0x0001 : 0x0004;
  return ((proto & 0xff) << 8) | (proto >> 8);
}

/** Little-endian u32 store without a DataView (this runs once per packet in the fast runner). */
function w32(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
  b[off + 2] = v >>> 16;
  b[off + 3] = v >>> 24;
}

/** Writes the byte image of the context struct (pointer fields stay 0; loads of them are served separately). */
export function fillCtxImage(spec: ContextSpec, image: Uint8Array): void {
  image.fill(0);
  switch (spec.kind) {
    case "xdp":
      w32(image, XDP_MD.ingress_ifindex, spec.ingressIfindex ?? 1);
      w32(image, XDP_MD.rx_queue_index, spec.rxQueueIndex ?? 0);
      return;
    case "socket":
    case "tc": {
      const f = spec.fields ?? {};
      const p = spec.packet;
      const dataOff = spec.dataOffset ?? 0;
      const set = (off: number, val: number | undefined, dflt: number) => w32(image, off, (val ?? dflt) >>> 0);
      set(SK_BUFF.len, f.len, Math.max(0, p.length - dataOff));
      set(SK_BUFF.pkt_type, f.pkt_type, ethPktType(p));
      set(SK_BUFF.mark, f.mark, 0);
      set(SK_BUFF.queue_mapping, f.queue_mapping, 0);
      set(SK_BUFF.protocol, f.protocol, ethProtocol(p));
      set(SK_BUFF.vlan_present, f.vlan_present, 0);
      set(SK_BUFF.vlan_tci, f.vlan_tci, 0);
      set(SK_BUFF.vlan_proto, f.vlan_proto, 0);
      set(SK_BUFF.priority, f.priority, 0);
      set(SK_BUFF.ingress_ifindex, f.ingress_ifindex, 0);
      set(SK_BUFF.ifindex, f.ifindex, 1);
      set(SK_BUFF.tc_index, f.tc_index, 0);
      for (let i = 0; i < 5; i++) set(SK_BUFF.cb + 4 * i, f.cb?.[i], 0);
      set(SK_BUFF.hash, f.hash, 0);
      set(SK_BUFF.tc_classid, f.tc_classid, 0);
      set(SK_BUFF.napi_id, f.napi_id, 0);
      set(SK_BUFF.wire_len, f.wire_len, 0);
      set(SK_BUFF.gso_segs, f.gso_segs, 0);
      set(SK_BUFF.gso_size, f.gso_size, 0);
      return;
    }
    case "kprobe": {
      const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
      for (const [name, val] of Object.entries(spec.regs ?? {})) {
        const off = PT_REGS[name as PtRegName];
        if (off !== undefined && typeof val === "bigint") v.setBigUint64(off, BigInt.asUintN(64, val), true);
      }
      return;
    }
  }
}
