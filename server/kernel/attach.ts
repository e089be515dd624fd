/**
 * Attaching programs so that nothing outlives its owner.
 *
 * Everything here is held by file descriptors, never by persistent kernel state:
 * - XDP and tcx use BPF links (BPF_LINK_CREATE): the attachment lives exactly as long as the link
 *   fd, so a killed process (all fds closed) leaves nothing behind. Netlink-attached XDP or a tc
 *   filter would survive their creator, so they are not used.
 * - a socket filter is attached to an AF_PACKET socket bound to the interface; the socket is the
 *   attachment.
 * - a kprobe is a perf event (kprobe PMU) with a BPF_PERF_EVENT link on it; both are fds.
 * - the raw tracepoint fallback is a BPF_RAW_TRACEPOINT_OPEN fd (itself a link).
 * - fentry is a tracing link (BPF_LINK_CREATE, or BPF_RAW_TRACEPOINT_OPEN with no name on kernels
 *   without tracing links); the ftrace trampoline goes away with the last reference to it.
 * All fds are close-on-exec, so child processes (the netns holder, traffic sources) never inherit
 * an attachment. Each function closes what it opened if a later step fails.
 */
import {
  linkCreate,
  linkDetach,
  rawTracepointOpen,
  objGetInfo,
  LINK_INFO,
  BPF_XDP,
  BPF_TCX_INGRESS,
  BPF_TCX_EGRESS,
  BPF_PERF_EVENT,
  BPF_TRACE_FENTRY,
  XDP_FLAGS_SKB_MODE,
  XDP_FLAGS_DRV_MODE,
} from "../native/bpf";
import { closeFd, socket, bindRaw, setsockoptInt, NativeMem } from "../native/libc";
import { SyscallError } from "../native/errno";
import { kprobePmuType, perfEventOpenKprobe, ioctlInt, PERF_EVENT_IOC_SET_BPF, PERF_EVENT_IOC_ENABLE } from "../native/perf";
import { PlaygroundError } from "../../lib/errors";

export type AttachKind = "xdp" | "tcx-ingress" | "tcx-egress" | "socket" | "kprobe" | "raw_tp" | "fentry";

export interface Attachment {
  readonly kind: AttachKind;
  /** What it is attached to: an ifindex, a function or tracepoint name. */
  readonly target: number | string;
  /** The link fd (or the socket fd for a socket filter). */
  readonly fd: number;
  readonly attached: boolean;
  /** Detaches and closes every fd. Safe to call twice. */
  detach(): void;
}

class FdAttachment implements Attachment {
  #attached = true;
  constructor(
    readonly kind: AttachKind,
    readonly target: number | string,
    readonly fd: number,
    /** Extra fds owned with it (the perf event under a kprobe link). */
    private readonly extra: number[] = [],
    private readonly isLink = true,
  ) {}
  get attached(): boolean {
    return this.#attached;
  }
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    try {
      // Explicit detach first: if a copy of the fd leaked anywhere, the program still stops running.
      if (this.isLink) linkDetach(this.fd);
    } catch {
      // Links without detach support (perf_event before 6.x, raw_tp) detach on close below.
    } finally {
      closeFd(this.fd);
      for (const fd of this.extra) closeFd(fd);
    }
  }
}

export type XdpMode = "auto" | "generic" | "native";

/** XDP on an interface through a link. `generic` (skb mode) works on any device. */
export function attachXdp(progFd: number, ifindex: number, mode: XdpMode = "auto"): Attachment {
  const flags = mode === "generic" ? XDP_FLAGS_SKB_MODE : mode === "native" ? XDP_FLAGS_DRV_MODE : 0;
  const fd = linkCreate({ progFd, target: ifindex, attachType: BPF_XDP, flags }, `BPF_LINK_CREATE(xdp ${mode}, ifindex ${ifindex})`);
  return new FdAttachment("xdp", ifindex, fd);
}

/** A sched_cls program on the tcx ingress or egress hook (Linux 6.6+), through a link. */
export function attachTcx(progFd: number, ifindex: number, direction: "ingress" | "egress"): Attachment {
  const attachType = direction === "ingress" ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
  const fd = linkCreate({ progFd, target: ifindex, attachType }, `BPF_LINK_CREATE(tcx ${direction}, ifindex ${ifindex})`);
  return new FdAttachment(direction === "ingress" ? "tcx-ingress" : "tcx-egress", ifindex, fd);
}

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const ETH_P_ALL = 0x0003;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_ATTACH_BPF = 50;

/** struct sockaddr_ll for bind(): family, protocol (network order), ifindex. */
export function sockaddrLl(ifindex: number, protocol = ETH_P_ALL): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_PACKET, true);
  v.setUint16(2, protocol, false);
  v.setInt32(4, ifindex, true);
  return b;
}

/**
 * An AF_PACKET socket bound to `ifindex` (in the caller's current network namespace), with `progFd`
 * attached as its socket filter. The filter is attached before the bind so that no packet ever
 * reaches the socket unfiltered. The program sees each frame from its Ethernet header, in both
 * directions. Accepted frames queue on the socket (a small receive buffer, so a filter that
 * accepts everything only costs drops); a counting filter should return 0.
 */
export function attachSocketFilter(progFd: number, ifindex: number): Attachment {
  // Protocol 0 at creation: the socket receives nothing until it is bound below.
  const fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  try {
    setsockoptInt(fd, SOL_SOCKET, SO_RCVBUF, 1 << 16, "SO_RCVBUF");
    setsockoptInt(fd, SOL_SOCKET, SO_ATTACH_BPF, progFd, "SO_ATTACH_BPF");
    bindRaw(fd, sockaddrLl(ifindex), `AF_PACKET ifindex ${ifindex}`);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return new FdAttachment("socket", ifindex, fd, [], false);
}

/**
 * A kprobe program on `func` (e.g. "__netif_receive_skb"): a perf event from the kprobe PMU, then
 * a BPF_PERF_EVENT link on it (falling back to PERF_EVENT_IOC_SET_BPF on kernels without perf
 * links). Kernels built without CONFIG_KPROBES have no kprobe PMU: "kernel/kprobe-unavailable".
 */
export function attachKprobe(progFd: number, func: string): Attachment {
  const pmu = kprobePmuType();
  if (pmu === null) {
    throw new PlaygroundError(
      "kernel/kprobe-unavailable",
      "this kernel has no kprobe PMU (built without CONFIG_KPROBES); use the raw tracepoint netif_receive_skb instead",
    );
  }
  const perfFd = perfEventOpenKprobe(pmu, func);
  try {
    try {
      const link = linkCreate({ progFd, target: perfFd, attachType: BPF_PERF_EVENT }, `BPF_LINK_CREATE(perf_event kprobe ${func})`);
      return new FdAttachment("kprobe", func, link, [perfFd]);
    } catch (e) {
      if (!(e instanceof SyscallError) || (e.errnoName !== "EINVAL" && e.errnoName !== "EOPNOTSUPP")) throw e;
      ioctlInt(perfFd, PERF_EVENT_IOC_SET_BPF, progFd, "PERF_EVENT_IOC_SET_BPF");
      ioctlInt(perfFd, PERF_EVENT_IOC_ENABLE, 0, "PERF_EVENT_IOC_ENABLE");
      return new FdAttachment("kprobe", func, perfFd, [], false);
    }
  } catch (e) {
    closeFd(perfFd);
    throw e;
  }
}

/** A raw_tp program on a raw tracepoint such as "netif_receive_skb" (ctx = u64 args[]). */
export function attachRawTracepoint(progFd: number, tracepoint: string): Attachment {
  const fd = rawTracepointOpen(progFd, tracepoint);
  return new FdAttachment("raw_tp", tracepoint, fd, [], false);
}

/**
 * An fentry program on the function it was loaded for (the kernel took the function from the
 * load's attach_btf_id; `func` only names the attachment). Target fd 0 means the function is in
 * vmlinux, not in another BPF program.
 */
export function attachFentry(progFd: number, func: string): Attachment {
  let fd: number;
  try {
    fd = linkCreate({ progFd, target: 0, attachType: BPF_TRACE_FENTRY }, `BPF_LINK_CREATE(fentry ${func})`);
  } catch (e) {
    // Before Linux 5.13 tracing programs had no BPF_LINK_CREATE path; the nameless raw
    // tracepoint open gives the same kind of fd-owned link.
    if (!(e instanceof SyscallError) || e.errnoName !== "EINVAL") throw e;
    fd = rawTracepointOpen(progFd, null);
  }
  return new FdAttachment("fentry", func, fd, [], false);
}

/** A link as the kernel describes it (bpf_link_info), for cleanup checks and the UI. */
export interface LinkInfo {
  id: number;
  type: number;
  progId: number;
  /** For XDP and tcx links. */
  ifindex?: number;
  /** For raw tracepoint links. */
  tracepoint?: string;
  /** For tracing (fentry) links: the attach type and the BTF id of the traced function. */
  tracing?: { attachType: number; targetBtfId: number };
}

export function linkInfo(linkFd: number): LinkInfo {
  const info = new NativeMem(LINK_INFO.size);
  const name = new NativeMem(128);
  try {
    objGetInfo(linkFd, info, "BPF_OBJ_GET_INFO_BY_FD(link)");
    const v = info.view;
    const type = v.getUint32(LINK_INFO.type, true);
    const out: LinkInfo = { id: v.getUint32(LINK_INFO.id, true), type, progId: v.getUint32(LINK_INFO.progId, true) };
    if (type === 6 /* XDP */ || type === 11 /* TCX */) out.ifindex = v.getUint32(LINK_INFO.ifindex, true);
    if (type === 2 /* TRACING */) {
      out.tracing = { attachType: v.getUint32(LINK_INFO.tracingAttachType, true), targetBtfId: v.getUint32(LINK_INFO.tracingTargetBtfId, true) };
    }
    if (type === 1 /* RAW_TRACEPOINT */) {
      // tp_name is an in/out buffer, and the union it lives in means other things for other link
      // types, so it is only offered once the type is known.
      info.bytes.fill(0);
      v.setBigUint64(LINK_INFO.rawTpName, name.address, true);
      v.setUint32(LINK_INFO.rawTpNameLen, name.size, true);
      objGetInfo(linkFd, info, "BPF_OBJ_GET_INFO_BY_FD(raw_tp link)");
      const end = name.bytes.indexOf(0);
      out.tracepoint = new TextDecoder().decode(name.bytes.subarray(0, end < 0 ? name.size : end));
    }
    return out;
  } finally {
    info.free();
    name.free();
  }
}
