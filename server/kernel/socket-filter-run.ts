/**
 * Running a filter the way a socket runs it: attached to the receiving end of an AF_UNIX datagram
 * socketpair, with packets sent through the pair one by one and received ones counted.
 *
 * Why: a classic BPF program cannot be given to BPF_PROG_LOAD; the kernel converts it to eBPF
 * only when it is attached (SO_ATTACH_FILTER). Sending through a socketpair is the one way to run
 * the kernel's own conversion on chosen bytes (cloudflare/cbpfc's kernel tests do the same), and
 * the same harness runs an eBPF socket filter attached with SO_ATTACH_BPF, so both are measured on
 * the same path.
 *
 * Semantics on an AF_UNIX datagram socket (net/unix/af_unix.c, net/core/filter.c):
 * - the filter runs in the sender's sendmsg against the receiver's filter; skb->data is the
 *   datagram's first byte, so `ld [k]` reads the packet at k, with no link header;
 * - the result trims the datagram to min(retval, len); 0 drops it silently (send still succeeds);
 *   so what is observable per packet is `accepted = min(retval, len)`, or 0 when dropped;
 * - ancillary loads see a unix skb: protocol 0, no device (ifindex 0), pkt_type 0.
 * - an empty datagram is always dropped (a trimmed length of 0 counts as "drop").
 */
import { libc, NativeMem, closeFd, socketpair, setsockoptBytes, setsockoptInt, lastErrno } from "../native/libc";
import { SyscallError } from "../native/errno";
import { PlaygroundError } from "../../lib/errors";
import { FrameVector } from "./frame-sender";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_ATTACH_FILTER = 26;
const SO_DETACH_FILTER = 27;
const SO_ATTACH_BPF = 50;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const MSG_PEEK = 0x02;
const EAGAIN = 11;

const MAX_DGRAM = 65535;

/** struct sock_fprog { unsigned short len; struct sock_filter *filter; } with the instructions. */
function attachClassic(fd: number, cbpf: Uint8Array): void {
  if (cbpf.length === 0 || cbpf.length % 8 !== 0 || cbpf.length / 8 > 4096) {
    throw new PlaygroundError("kernel/classic", `a classic program is 1..4096 instructions of 8 bytes (got ${cbpf.length} bytes)`);
  }
  const insns = NativeMem.from(cbpf);
  try {
    const fprog = new Uint8Array(16);
    const v = new DataView(fprog.buffer);
    v.setUint16(0, cbpf.length / 8, true);
    v.setBigUint64(8, insns.address, true);
    setsockoptBytes(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, "SO_ATTACH_FILTER");
  } finally {
    insns.free();
  }
}

export type SocketFilter = { classic: Uint8Array } | { progFd: number } | { none: true };

/** A datagram socketpair whose receiving end carries the filter. Close it when done. */
export class FilterSocketPair {
  readonly sender: number;
  readonly receiver: number;
  #out = new NativeMem(MAX_DGRAM);
  #in = new NativeMem(MAX_DGRAM);
  #closed = false;

  constructor(filter: SocketFilter) {
    [this.sender, this.receiver] = socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC);
    try {
      // Big enough that one datagram in flight never blocks on buffer space.
      setsockoptInt(this.sender, SOL_SOCKET, SO_SNDBUF, 1 << 20, "SO_SNDBUF");
      setsockoptInt(this.receiver, SOL_SOCKET, SO_RCVBUF, 1 << 20, "SO_RCVBUF");
      this.setFilter(filter);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  setFilter(filter: SocketFilter): void {
    if ("classic" in filter) attachClassic(this.receiver, filter.classic);
    else if ("progFd" in filter) setsockoptInt(this.receiver, SOL_SOCKET, SO_ATTACH_BPF, filter.progFd, "SO_ATTACH_BPF");
    else {
      try {
        setsockoptInt(this.receiver, SOL_SOCKET, SO_DETACH_FILTER, 0, "SO_DETACH_FILTER");
      } catch (e) {
        if (!(e instanceof SyscallError && e.errnoName === "ENOENT")) throw e; // nothing attached
      }
    }
  }

  /** Sends one datagram; returns how many bytes arrived (0 = the filter dropped it). */
  run(packet: Uint8Array): number {
    if (this.#closed) throw new PlaygroundError("kernel/classic", "socketpair is closed");
    if (packet.length > MAX_DGRAM) throw new PlaygroundError("kernel/classic", `packet of ${packet.length} bytes exceeds ${MAX_DGRAM}`);
    this.#out.bytes.set(packet);
    const c = libc();
    const sent = Number(c.send(this.sender, this.#out.ptr, packet.length, MSG_DONTWAIT));
    if (sent < 0) throw new SyscallError("send(socketpair)", lastErrno());
    const got = Number(c.recv(this.receiver, this.#in.ptr, MAX_DGRAM, MSG_DONTWAIT | MSG_TRUNC));
    if (got < 0) {
      const errno = lastErrno();
      if (errno === EAGAIN) return 0;
      throw new SyscallError("recv(socketpair)", errno);
    }
    return got;
  }

  /** Whether a datagram is waiting on the receiving end (a non-blocking peek). */
  pending(): boolean {
    return Number(libc().recv(this.receiver, this.#in.ptr, MAX_DGRAM, MSG_DONTWAIT | MSG_PEEK)) >= 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.sender);
    closeFd(this.receiver);
    this.#out.free();
    this.#in.free();
  }
}

function withPair<T>(filter: SocketFilter, fn: (p: FilterSocketPair) => T): T {
  const pair = new FilterSocketPair(filter);
  try {
    return fn(pair);
  } finally {
    pair.close();
  }
}

/** The kernel's own cBPF (converted at SO_ATTACH_FILTER) on each packet: bytes accepted, 0 = dropped. */
export function classicSocketFilterRun(cbpf: Uint8Array, packets: readonly Uint8Array[]): number[] {
  return withPair({ classic: cbpf }, (p) => packets.map((pkt) => p.run(pkt)));
}

/** An eBPF socket filter (SO_ATTACH_BPF) on each packet, through the same path. */
export function socketFilterRun(progFd: number, packets: readonly Uint8Array[]): number[] {
  return withPair({ progFd }, (p) => packets.map((pkt) => p.run(pkt)));
}

/**
 * Mean wall ns per packet of sending `packet` through a socketpair whose filter DROPS it, in
 * sendmmsg batches of 256, with nothing ever received. Dropping matters: a dropped datagram is
 * freed inside sendmsg right after the filter ran, so the path is short (skb allocation, copy,
 * filter, free) and the filter's own cost is a visible part of it; an accepted one would queue
 * (at most net.unix.max_dgram_qlen) and stop the batch. Compare against a trivial filter
 * (classic `ret #0`) measured the same way. Throws if the filter let the packet through.
 */
export function socketPathBench(filter: SocketFilter, packet: Uint8Array, count: number): number {
  return withPair(filter, (p) => {
    const vec = new FrameVector([packet], 256);
    try {
      const send = (n: number) => {
        for (let sent = 0; sent < n; ) {
          const r = vec.send(p.sender, 0, Math.min(256, n - sent));
          if (r === 0) throw new PlaygroundError("kernel/classic", "the socketpair stopped taking datagrams (does the filter accept the packet?)");
          sent += r;
        }
      };
      send(Math.min(2000, count)); // warm caches
      const t0 = process.hrtime.bigint();
      send(count);
      const ns = Number(process.hrtime.bigint() - t0) / count;
      if (p.pending()) {
        throw new PlaygroundError("kernel/classic", "socketPathBench needs a packet the filter drops");
      }
      return ns;
    } finally {
      vec.free();
    }
  });
}
