/**
 * BPF_PROG_TEST_RUN on packets: one verdict per packet, and ns/packet with `repeat`.
 *
 * How the kernel frames the data (net/bpf/test_run.c, Linux 6.18):
 * - XDP: data_in is the frame from its first byte (xdp_md.data); it must be at least ETH_HLEN
 *   (14) bytes and fit in one page minus headroom and skb_shared_info (about 3.5 KiB).
 * - skb programs (socket filter, sched_cls): the kernel builds an skb from data_in (at least 14
 *   bytes, same size limit), runs eth_type_trans() on it, which consumes a 14-byte Ethernet header
 *   and sets skb->protocol and pkt_type; sched_cls then sees the header again (is_l2), a socket
 *   filter does not: its offset 0 is the byte after the Ethernet header.
 *
 * The choice made here, so that "offset 0 = first byte of the captured packet" wherever that is
 * possible:
 * - socket: a 14-byte fake Ethernet header is always prepended (all-zero MACs, which makes
 *   pkt_type PACKET_HOST on the test device, and an EtherType taken from the packet: its own for
 *   Ethernet, 0x0800/0x86dd from the IP version nibble for raw IP, the protocol field for Linux
 *   SLL/SLL2). The program sees exactly the packet at offset 0, as an AF_PACKET socket filter
 *   does, for every link type, and skb->len is the packet's length.
 * - tc, xdp with Ethernet (DLT_EN10MB): the packet as it is; shorter than 14 bytes is refused.
 * - tc, xdp with any other link type: the fake Ethernet header is prepended and the program sees
 *   the packet at offset 14 (`viewOffset` says so). A translated tc/xdp program for a
 *   non-Ethernet capture must read at +14, exactly as it would on a real Ethernet device.
 * `dataOut` is returned without the added header.
 *
 * One more rule of the 6.18 kernel, found by running it: an skb test run (socket, tc) fails with
 * EINVAL when the EtherType says IPv4 and fewer than 20 bytes follow the Ethernet header, or IPv6
 * and fewer than 40 (a truncated capture). For a fake header the EtherType is then replaced by
 * 0x88b5 (IEEE local experimental; skb->protocol changes, the bytes the program reads do not) and
 * `protocolSubstituted` is set. A real Ethernet frame given to tc cannot be changed that way and
 * is refused with code "kernel/test-run-short-l3". XDP has no such check.
 *
 * Sizes (measured on 6.18, 4 KiB pages): an skb test run takes at most 3712 bytes of data
 * (EINVAL above, so a socket filter's packet may be 3698 bytes with its fake header); XDP takes
 * more, but only the first 3520 bytes are linear (data..data_end) and the rest become fragments
 * that a program loaded without BPF_F_XDP_HAS_FRAGS cannot see.
 */
import { progTestRun, type TestRunRaw } from "../native/bpf";
import { isSyscallError, SyscallError } from "../native/errno";
import { PlaygroundError } from "../../lib/errors";
import { PROG_TYPES, type ProgKind } from "./prog-types";
import { progInfo } from "./inspect";

export const ETH_HLEN = 14;
/** Link-layer header types (pcap DLT_* / LINKTYPE_*) the framing rules know. */
export const DLT = { EN10MB: 1, RAW: 12, RAW_OPENBSD: 14, LINKTYPE_RAW: 101, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276 } as const;

export interface TestRunOptions {
  /** The program's kind; asked from the kernel when omitted (one extra syscall). */
  type?: ProgKind;
  /** Link type (DLT) of `packet`; default Ethernet. */
  linkType?: number;
  /** Runs per call; the reported duration is the average per run. */
  repeat?: number;
  /** An xdp_md / __sk_buff to start from. */
  ctxIn?: Uint8Array;
  ctxOutSize?: number;
}

export interface TestRunResult {
  /** r0 as the program returned it, as u32 (socket filter: bytes to keep; XDP: action; tc: TC_ACT_*). */
  retval: number;
  /** ns per run, averaged by the kernel over `repeat` runs. */
  durationNs: number;
  /** The packet as the program left it, without any header added for framing. */
  dataOut: Uint8Array;
  /** Where the packet's first byte sits in the data the program saw. */
  viewOffset: number;
  /** The bytes actually passed to the kernel. */
  framing: "as-is" | "fake-ethernet";
  /** skb->protocol is 0x88b5 rather than the packet's IP EtherType (truncated IP header). */
  protocolSubstituted: boolean;
  ctxOut: Uint8Array;
}

function u16be(b: Uint8Array, at: number): number {
  return at + 2 <= b.length ? (b[at]! << 8) | b[at + 1]! : 0;
}

/** The EtherType an Ethernet header in front of this packet would carry. */
export function etherTypeFor(packet: Uint8Array, linkType: number): number {
  switch (linkType) {
    case DLT.EN10MB:
      return u16be(packet, 12);
    case DLT.RAW:
    case DLT.RAW_OPENBSD:
    case DLT.LINKTYPE_RAW: {
      const version = packet.length > 0 ? packet[0]! >> 4 : 0;
      return version === 6 ? 0x86dd : version === 4 ? 0x0800 : 0;
    }
    case DLT.IPV4:
      return 0x0800;
    case DLT.IPV6:
      return 0x86dd;
    case DLT.LINUX_SLL:
      return u16be(packet, 14);
    case DLT.LINUX_SLL2:
      return u16be(packet, 0);
    default:
      return 0;
  }
}

export interface Framed {
  data: Uint8Array;
  viewOffset: number;
  framing: "as-is" | "fake-ethernet";
  /** Bytes to strip from data_out to get the packet back. */
  strip: number;
  /** The fake header carries 0x88b5 instead of the packet's own IP EtherType (see above). */
  protocolSubstituted: boolean;
}

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_LOCAL_EXPERIMENTAL = 0x88b5;

/** Whether an skb test run would refuse this EtherType with `l3Bytes` after the Ethernet header. */
function shortL3(etherType: number, l3Bytes: number): boolean {
  return (etherType === ETH_P_IP && l3Bytes < 20) || (etherType === ETH_P_IPV6 && l3Bytes < 40);
}

/** Applies the framing rules in the module comment. */
export function frameForTestRun(kind: ProgKind, packet: Uint8Array, linkType: number = DLT.EN10MB): Framed {
  if (!PROG_TYPES[kind]?.testRun) {
    throw new PlaygroundError("kernel/test-run", `BPF_PROG_TEST_RUN cannot run ${kind} programs on packets; attach them to the demo network instead`);
  }
  if (kind !== "socket" && linkType === DLT.EN10MB) {
    if (packet.length < ETH_HLEN) {
      throw new PlaygroundError("kernel/test-run", `a ${kind} test run needs at least ${ETH_HLEN} bytes (an Ethernet header); this packet has ${packet.length}`);
    }
    if (kind === "tc" && shortL3(u16be(packet, 12), packet.length - ETH_HLEN)) {
      throw new PlaygroundError(
        "kernel/test-run-short-l3",
        `the kernel refuses an skb test run of a frame whose EtherType is IPv4/IPv6 but whose IP header is truncated (${packet.length - ETH_HLEN} bytes after the Ethernet header)`,
      );
    }
    return { data: packet, viewOffset: 0, framing: "as-is", strip: 0, protocolSubstituted: false };
  }
  const data = new Uint8Array(ETH_HLEN + packet.length);
  let et = etherTypeFor(packet, linkType);
  const substitute = kind !== "xdp" && shortL3(et, packet.length);
  if (substitute) et = ETH_P_LOCAL_EXPERIMENTAL;
  data[12] = et >> 8;
  data[13] = et & 0xff;
  data.set(packet, ETH_HLEN);
  // A socket filter's data_out comes back with a zeroed 14-byte header in front of what it saw.
  return { data, viewOffset: kind === "socket" ? 0 : ETH_HLEN, framing: "fake-ethernet", strip: ETH_HLEN, protocolSubstituted: substitute };
}

function kindOf(fd: number, given?: ProgKind): ProgKind {
  if (given) return given;
  const k = progInfo(fd).kind;
  if (!k) throw new PlaygroundError("kernel/test-run", `program fd ${fd} is of a type the playground does not test-run`);
  return k;
}

const SKB_TEST_RUN_MAX = 3712;

function runFramed(fd: number, framed: Framed, opts: TestRunOptions): TestRunResult {
  let raw: TestRunRaw;
  try {
    raw = run(fd, framed, opts);
  } catch (e) {
    if (isSyscallError(e, "EINVAL") && framed.data.length > SKB_TEST_RUN_MAX) {
      throw new SyscallError(e.op, e.errno, `${framed.data.length} bytes exceed what an skb test run takes (${SKB_TEST_RUN_MAX} bytes with 4 KiB pages)`);
    }
    throw e;
  }
  return {
    retval: raw.retval,
    durationNs: raw.duration,
    dataOut: raw.dataOut.slice(Math.min(framed.strip, raw.dataOut.length)),
    viewOffset: framed.viewOffset,
    framing: framed.framing,
    protocolSubstituted: framed.protocolSubstituted,
    ctxOut: raw.ctxOut,
  };
}

function run(fd: number, framed: Framed, opts: TestRunOptions): TestRunRaw {
  // Room for helpers that grow the packet (bpf_xdp_adjust_head/tail, skb_change_*).
  return progTestRun({
    progFd: fd,
    dataIn: framed.data,
    dataOutSize: framed.data.length + 512,
    repeat: opts.repeat ?? 1,
    ctxIn: opts.ctxIn,
    ctxOutSize: opts.ctxOutSize,
  });
}

/** One BPF_PROG_TEST_RUN. Throws SyscallError (e.g. EINVAL for an oversized packet) or PlaygroundError. */
export function testRun(fd: number, packet: Uint8Array, opts: TestRunOptions = {}): TestRunResult {
  const kind = kindOf(fd, opts.type);
  return runFramed(fd, frameForTestRun(kind, packet, opts.linkType), opts);
}

export type CaptureRunResult =
  | ({ ok: true } & TestRunResult)
  | { ok: false; code: string; message: string; errno?: number; errnoName?: string };

/** One syscall per packet; a packet the kernel refuses gets an error entry, the rest still run. */
export function testRunCapture(fd: number, packets: readonly Uint8Array[], opts: Omit<TestRunOptions, "repeat"> = {}): CaptureRunResult[] {
  const kind = kindOf(fd, opts.type);
  return packets.map((p): CaptureRunResult => {
    try {
      return { ok: true, ...runFramed(fd, frameForTestRun(kind, p, opts.linkType), opts) };
    } catch (e) {
      if (isSyscallError(e)) return { ok: false, code: e.code, message: e.message, errno: e.errno, errnoName: e.errnoName };
      if (e instanceof PlaygroundError) return { ok: false, code: e.code, message: e.message };
      throw e;
    }
  });
}

export interface BenchResult {
  /** The kernel's average ns per run. */
  nsPerPacket: number;
  retval: number;
  repeat: number;
  /** Wall time of the whole syscall, ms. */
  wallMs: number;
}

/** ns/packet of the program on one packet, measured by the kernel over `repeat` runs. */
export function benchRun(fd: number, packet: Uint8Array, repeat: number, opts: Omit<TestRunOptions, "repeat"> = {}): BenchResult {
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 0xffffffff) {
    throw new PlaygroundError("kernel/test-run", `repeat must be a positive 32-bit integer (got ${repeat})`);
  }
  const kind = kindOf(fd, opts.type);
  const t0 = performance.now();
  const r = runFramed(fd, frameForTestRun(kind, packet, opts.linkType), { ...opts, repeat });
  return { nsPerPacket: r.durationNs, retval: r.retval, repeat, wallMs: performance.now() - t0 };
}

export { classicSocketFilterRun, socketFilterRun, socketPathBench } from "./socket-filter-run";
