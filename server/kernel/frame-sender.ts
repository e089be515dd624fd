/**
 * Sends frames out of an AF_PACKET socket with sendmmsg, cycling through a fixed list, with an
 * exact count of what the kernel accepted.
 *
 * The frames, one iovec each and the mmsghdr vector are built once in unmanaged memory. The
 * vector holds the list followed by its first `batch - 1` entries again, so a batch that starts
 * anywhere in the list is one contiguous window: sending is then a single sendmmsg per batch
 * with no copying.
 */
import { libc, NativeMem, lastErrno } from "../native/libc";
import { SyscallError } from "../native/errno";
import { PlaygroundError } from "../../lib/errors";

const IOVEC = 16; // { void *iov_base; size_t iov_len; }
const MMSGHDR = 64; // struct msghdr (56) + unsigned msg_len + padding

export const MAX_FRAME = 65535;
const ENOBUFS = 105;
const EAGAIN = 11;

export class FrameVector {
  readonly count: number;
  #data: NativeMem;
  #iov: NativeMem;
  #hdr: NativeMem;
  #freed = false;

  constructor(frames: readonly Uint8Array[], readonly batch: number) {
    if (frames.length === 0) throw new PlaygroundError("kernel/traffic", "no frames to send");
    for (const f of frames) {
      if (f.length < 14 || f.length > MAX_FRAME) throw new PlaygroundError("kernel/traffic", `a frame must be 14..${MAX_FRAME} bytes (got ${f.length})`);
    }
    this.count = frames.length;
    const total = frames.reduce((n, f) => n + f.length, 0);
    const entries = frames.length + batch - 1;
    this.#data = new NativeMem(total);
    this.#iov = new NativeMem(entries * IOVEC);
    this.#hdr = new NativeMem(entries * MMSGHDR);
    const starts: number[] = [];
    let at = 0;
    for (const f of frames) {
      this.#data.bytes.set(f, at);
      starts.push(at);
      at += f.length;
    }
    for (let e = 0; e < entries; e++) {
      const i = e % frames.length;
      this.#iov.view.setBigUint64(e * IOVEC, this.#data.address + BigInt(starts[i]!), true);
      this.#iov.view.setBigUint64(e * IOVEC + 8, BigInt(frames[i]!.length), true);
      const h = e * MMSGHDR;
      // msg_name NULL: the socket is bound to the interface. msg_iov, msg_iovlen = 1.
      this.#hdr.view.setBigUint64(h + 16, this.#iov.address + BigInt(e * IOVEC), true);
      this.#hdr.view.setBigUint64(h + 24, 1n, true);
    }
  }

  /**
   * Sends up to `n` (≤ batch) frames starting at list position `start`. Returns how many the
   * kernel took; 0 when its buffers are momentarily full (ENOBUFS/EAGAIN). Other errors throw.
   */
  send(fd: number, start: number, n: number): number {
    if (this.#freed) throw new PlaygroundError("kernel/traffic", "frame vector already freed");
    const addr = this.#hdr.address + BigInt((start % this.count) * MMSGHDR);
    const r = Number(libc().sendmmsgAt(fd, addr, Math.min(n, this.batch), 0));
    if (r < 0) {
      const errno = lastErrno();
      if (errno === ENOBUFS || errno === EAGAIN) return 0;
      throw new SyscallError("sendmmsg(AF_PACKET)", errno);
    }
    return r;
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#data.free();
    this.#iov.free();
    this.#hdr.free();
  }
}

/** Sends exactly `count` frames (cycling through the list) as fast as the socket takes them. */
export function sendFramesNow(fd: number, frames: readonly Uint8Array[], count = frames.length, batch = 64): number {
  const vec = new FrameVector(frames, Math.max(1, Math.min(batch, 1024)));
  try {
    let sent = 0;
    let stalls = 0;
    while (sent < count) {
      const r = vec.send(fd, sent, Math.min(vec.batch, count - sent));
      if (r === 0) {
        if (++stalls > 100000) throw new PlaygroundError("kernel/traffic", `the socket stopped taking frames after ${sent}`);
        continue;
      }
      stalls = 0;
      sent += r;
    }
    return sent;
  } finally {
    vec.free();
  }
}
