/**
 * koffi bindings to the few libc calls the kernel side needs (x86_64 Linux only), plus unmanaged
 * memory whose address can be written into kernel structures.
 *
 * Why unmanaged memory: bpf(2) attributes carry user pointers (instructions, log buffer, packet
 * data). V8 may keep small typed arrays on its heap and move them, so an address taken from a JS
 * array is not safe to hand to the kernel. `NativeMem` is allocated by koffi outside the JS heap,
 * has a stable address, and is viewed from JS without copying.
 *
 * Every call that can fail returns the raw result; `check*` helpers turn -1 into a SyscallError
 * carrying errno, read immediately after the call (koffi.errno()) before anything else can reset it.
 */
import "./koffi-config";
import * as koffi from "koffi";
import { PlaygroundError } from "../../lib/errors";
import { SyscallError } from "./errno";

type Fn = (...args: unknown[]) => unknown;

interface Libc {
  readonly syscall: Fn;
  readonly close: Fn;
  readonly socket: Fn;
  readonly socketpair: Fn;
  readonly setsockopt: Fn;
  readonly getsockopt: Fn;
  readonly bind: Fn;
  readonly send: Fn;
  readonly recv: Fn;
  readonly sendmmsg: Fn;
  /** sendmmsg taking the vector as an integer address, so a window of a prebuilt vector can be sent. */
  readonly sendmmsgAt: Fn;
  readonly ifNameToIndex: Fn;
  readonly setns: Fn;
  readonly mmap: Fn;
  readonly munmap: Fn;
  readonly ioctl: Fn;
  readonly fcntl: Fn;
  /** vsnprintf with the format and va_list as raw pointers (a C callback's own arguments, passed on). */
  readonly vsnprintf: Fn;
}

// Cached on globalThis so a hot-reloaded copy of this module (vitest watch, next dev) reuses the
// loaded library instead of declaring the functions again.
const CACHE_KEY = Symbol.for("bpf-playground.libc.bindings");

function load(): Libc {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new PlaygroundError("kernel/unsupported", `the kernel agent needs Linux x86_64 (this is ${process.platform}/${process.arch})`);
  }
  const lib = koffi.load("libc.so.6");
  const fn = (name: string, ret: string, args: string[]): Fn => lib.func(name, ret, args) as Fn;
  return {
    syscall: fn("syscall", "long", ["long", "..."]),
    close: fn("close", "int", ["int"]),
    socket: fn("socket", "int", ["int", "int", "int"]),
    socketpair: fn("socketpair", "int", ["int", "int", "int", "void *"]),
    setsockopt: fn("setsockopt", "int", ["int", "int", "int", "void *", "uint32_t"]),
    getsockopt: fn("getsockopt", "int", ["int", "int", "int", "void *", "void *"]),
    bind: fn("bind", "int", ["int", "void *", "uint32_t"]),
    send: fn("send", "long", ["int", "void *", "size_t", "int"]),
    recv: fn("recv", "long", ["int", "void *", "size_t", "int"]),
    sendmmsg: fn("sendmmsg", "int", ["int", "void *", "uint32_t", "int"]),
    sendmmsgAt: fn("sendmmsg", "int", ["int", "uintptr_t", "uint32_t", "int"]),
    ifNameToIndex: fn("if_nametoindex", "uint32_t", ["const char *"]),
    setns: fn("setns", "int", ["int", "int"]),
    mmap: fn("mmap", "void *", ["void *", "size_t", "int", "int", "int", "int64_t"]),
    munmap: fn("munmap", "int", ["void *", "size_t"]),
    ioctl: fn("ioctl", "int", ["int", "unsigned long", "..."]),
    fcntl: fn("fcntl", "int", ["int", "int", "..."]),
    vsnprintf: fn("vsnprintf", "int", ["void *", "size_t", "void *", "void *"]),
  };
}

export function libc(): Libc {
  const holder = globalThis as unknown as Record<symbol, Libc | undefined>;
  return (holder[CACHE_KEY] ??= load());
}

/** The errno of the libc call that just returned. Call it before any other native call. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Throws a SyscallError when `ret` is negative; returns it as a number otherwise. */
export function check(op: string, ret: unknown): number {
  const n = Number(ret);
  if (n < 0) throw new SyscallError(op, koffi.errno());
  return n;
}

// ---------------------------------------------------------------------------------------------
// Unmanaged memory
// ---------------------------------------------------------------------------------------------

/** Zero-filled memory outside the JS heap, with a stable address. Free it exactly once. */
export class NativeMem {
  readonly ptr: unknown;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly address: bigint;
  #freed = false;

  constructor(readonly size: number) {
    const n = Math.max(1, size);
    this.ptr = koffi.alloc("uint8", n);
    this.bytes = new Uint8Array(koffi.view(this.ptr, n));
    this.bytes.fill(0);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, n);
    this.address = koffi.address(this.ptr);
  }

  static from(data: Uint8Array, extra = 0): NativeMem {
    const m = new NativeMem(data.length + extra);
    m.bytes.set(data);
    return m;
  }

  static cString(s: string): NativeMem {
    const enc = new TextEncoder().encode(s);
    return NativeMem.from(enc, 1);
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    koffi.free(this.ptr);
  }
}

/** Runs `fn` with freshly allocated memory blocks and frees them on every path. */
export function withMem<T>(sizes: readonly number[], fn: (...mems: NativeMem[]) => T): T {
  const mems: NativeMem[] = [];
  try {
    for (const s of sizes) mems.push(new NativeMem(s));
    return fn(...mems);
  } finally {
    for (const m of mems) m.free();
  }
}

// ---------------------------------------------------------------------------------------------
// Thin wrappers (fds as numbers, errors as SyscallError)
// ---------------------------------------------------------------------------------------------

export function closeFd(fd: number): void {
  if (fd >= 0) libc().close(fd);
}

const F_DUPFD_CLOEXEC = 1030;

/**
 * A close-on-exec duplicate of `fd` (numbered 3 or above), for descriptors another owner will
 * close: libbpf closes its program and map fds with the object.
 */
export function dupCloexec(fd: number): number {
  return check(`fcntl(${fd}, F_DUPFD_CLOEXEC)`, libc().fcntl(fd, F_DUPFD_CLOEXEC, "int", 3));
}

export function socket(domain: number, type: number, protocol: number): number {
  return check(`socket(${domain}, ${type}, ${protocol})`, libc().socket(domain, type, protocol));
}

export function socketpair(domain: number, type: number): [number, number] {
  return withMem([8], (m) => {
    check("socketpair", libc().socketpair(domain, type, 0, m.ptr));
    return [m.view.getInt32(0, true), m.view.getInt32(4, true)];
  });
}

export function setsockoptBytes(fd: number, level: number, name: number, value: Uint8Array, what: string): void {
  const m = NativeMem.from(value);
  try {
    check(`setsockopt(${what})`, libc().setsockopt(fd, level, name, m.ptr, value.length));
  } finally {
    m.free();
  }
}

export function setsockoptInt(fd: number, level: number, name: number, value: number, what: string): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  setsockoptBytes(fd, level, name, b, what);
}

export function getsockoptInt(fd: number, level: number, name: number, what: string): number {
  return withMem([4, 4], (val, len) => {
    len.view.setUint32(0, 4, true);
    check(`getsockopt(${what})`, libc().getsockopt(fd, level, name, val.ptr, len.ptr));
    return val.view.getInt32(0, true);
  });
}

export function bindRaw(fd: number, sockaddr: Uint8Array, what: string): void {
  const m = NativeMem.from(sockaddr);
  try {
    check(`bind(${what})`, libc().bind(fd, m.ptr, sockaddr.length));
  } finally {
    m.free();
  }
}

/** Index of a network interface in the calling thread's network namespace, or 0 if none. */
export function ifNameToIndex(name: string): number {
  return Number(libc().ifNameToIndex(name));
}

export function setns(fd: number, nstype: number): void {
  check("setns", libc().setns(fd, nstype));
}

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
const MAP_FAILED = 0xffffffffffffffffn;

/** A shared mapping of a file descriptor; `bytes` views it without copying. */
export class Mapping {
  readonly bytes: Uint8Array;
  #ptr: unknown;
  constructor(fd: number, readonly length: number, prot: number, offset: number) {
    const ptr = libc().mmap(null, length, prot, MAP_SHARED, fd, offset);
    const errno = koffi.errno();
    if (ptr === null || koffi.address(ptr) === MAP_FAILED) throw new SyscallError("mmap", errno);
    this.#ptr = ptr;
    this.bytes = new Uint8Array(koffi.view(ptr, length));
  }
  unmap(): void {
    if (this.#ptr === null) return;
    libc().munmap(this.#ptr, this.length);
    this.#ptr = null;
  }
}

// ---------------------------------------------------------------------------------------------
// Another process's descriptors (pidfd_open/pidfd_getfd, Linux 5.6+): how an isolated worker
// process hands the agent a program fd it loaded, and borrows one the agent owns.
// ---------------------------------------------------------------------------------------------

const SYS_pidfd_open = 434;
const SYS_pidfd_getfd = 438;

/** A pidfd for `pid`; close it with closeFd. */
export function pidfdOpen(pid: number): number {
  return check("pidfd_open", libc().syscall(SYS_pidfd_open, "int", pid, "unsigned int", 0));
}

/** A duplicate, in this process, of descriptor `fd` of the process behind `pidfd` (close-on-exec). */
export function pidfdGetfd(pidfd: number, fd: number): number {
  return check("pidfd_getfd", libc().syscall(SYS_pidfd_getfd, "int", pidfd, "int", fd, "unsigned int", 0));
}
