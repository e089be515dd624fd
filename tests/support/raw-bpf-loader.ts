/**
 * A minimal bpf(2) client for tests only: BPF_PROG_LOAD with a verifier log and BPF_PROG_TEST_RUN,
 * through libc's syscall() via koffi. The product's kernel access lives in server/; this file exists
 * so lib/ebpf can be checked against the running kernel without depending on it.
 *
 * Layouts are those of union bpf_attr on x86_64 (include/uapi/linux/bpf.h).
 */
import koffi from "koffi";

const SYS_BPF = 321; // x86_64
const BPF_PROG_LOAD = 5;
const BPF_PROG_TEST_RUN = 10;
const ATTR_SIZE = 160;
const DEFAULT_LOG_SIZE = 4 << 20;

type Ptr = unknown;

interface Libc {
  syscall: (...args: unknown[]) => number | bigint;
  close: (fd: number) => number;
}

let libc: Libc | null = null;
function getLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load("libc.so.6");
  libc = {
    syscall: lib.func("long syscall(long number, ...)") as Libc["syscall"],
    close: lib.func("int close(int fd)") as Libc["close"],
  };
  return libc;
}

/** Unmanaged memory with a typed view, freed explicitly. */
class Mem {
  readonly ptr: Ptr;
  readonly bytes: Uint8Array;
  constructor(readonly size: number) {
    this.ptr = koffi.alloc("uint8", Math.max(1, size));
    this.bytes = new Uint8Array(koffi.view(this.ptr, Math.max(1, size)));
    this.bytes.fill(0);
  }
  get address(): bigint {
    return koffi.address(this.ptr);
  }
  free(): void {
    koffi.free(this.ptr);
  }
}

function bpf(cmd: number, attr: Mem): { ret: number; errno: number } {
  const ret = Number(getLibc().syscall(SYS_BPF, "int", cmd, "void *", attr.ptr, "uint", ATTR_SIZE));
  return { ret, errno: ret < 0 ? koffi.errno() : 0 };
}

let logMem: Mem | null = null;

export interface LoadOptions {
  /** BPF_PROG_TYPE_* (1 socket filter, 3 sched_cls, 6 XDP). */
  readonly type: number;
  /** Encoded instructions (8 bytes each). */
  readonly insns: Uint8Array;
  readonly logLevel?: number;
  readonly logSize?: number;
  readonly progFlags?: number;
  readonly license?: string;
}

export interface LoadResult {
  /** Program fd, or -1. Close it with closeFd. */
  readonly fd: number;
  readonly errno: number;
  readonly log: string;
}

/** BPF_PROG_LOAD; returns the verifier log whether or not the load succeeded. */
export function progLoad(opts: LoadOptions): LoadResult {
  const logSize = opts.logSize ?? DEFAULT_LOG_SIZE;
  const logLevel = opts.logLevel ?? 0;
  if (logLevel > 0 && (!logMem || logMem.size < logSize)) {
    logMem?.free();
    logMem = new Mem(logSize);
  }
  const insns = new Mem(opts.insns.length);
  insns.bytes.set(opts.insns);
  const lic = new Mem(64);
  lic.bytes.set(new TextEncoder().encode(opts.license ?? "GPL"));
  const attr = new Mem(ATTR_SIZE);
  try {
    const v = new DataView(attr.bytes.buffer, attr.bytes.byteOffset, ATTR_SIZE);
    v.setUint32(0, opts.type, true);
    v.setUint32(4, opts.insns.length / 8, true);
    v.setBigUint64(8, insns.address, true);
    v.setBigUint64(16, lic.address, true);
    if (logLevel > 0 && logMem) {
      logMem.bytes[0] = 0;
      v.setUint32(24, logLevel, true);
      v.setUint32(28, logSize, true);
      v.setBigUint64(32, logMem.address, true);
    }
    v.setUint32(44, opts.progFlags ?? 0, true);
    const { ret, errno } = bpf(BPF_PROG_LOAD, attr);
    let log = "";
    if (logLevel > 0 && logMem) {
      const end = logMem.bytes.indexOf(0);
      log = new TextDecoder().decode(logMem.bytes.subarray(0, end < 0 ? logSize : end));
    }
    return { fd: ret, errno, log };
  } finally {
    insns.free();
    lic.free();
    attr.free();
  }
}

export interface TestRunOptions {
  readonly data: Uint8Array;
  /** Room for the packet as the program left it (XDP may write it). Default: data length + 256. */
  readonly dataOutSize?: number;
  readonly repeat?: number;
  readonly ctxIn?: Uint8Array;
  readonly ctxOutSize?: number;
}

export interface TestRunResult {
  readonly ret: number;
  readonly errno: number;
  /** The program's return value (r0 truncated to 32 bits). */
  readonly retval: number;
  readonly dataOut: Uint8Array;
  readonly ctxOut: Uint8Array;
  /** Average ns per run. */
  readonly duration: number;
}

/** BPF_PROG_TEST_RUN. */
export function progTestRun(fd: number, opts: TestRunOptions): TestRunResult {
  const outSize = opts.dataOutSize ?? opts.data.length + 256;
  const dataIn = new Mem(opts.data.length);
  dataIn.bytes.set(opts.data);
  const dataOut = new Mem(outSize);
  const ctxIn = opts.ctxIn ? new Mem(opts.ctxIn.length) : null;
  if (ctxIn && opts.ctxIn) ctxIn.bytes.set(opts.ctxIn);
  const ctxOut = opts.ctxOutSize ? new Mem(opts.ctxOutSize) : null;
  const attr = new Mem(ATTR_SIZE);
  try {
    const v = new DataView(attr.bytes.buffer, attr.bytes.byteOffset, ATTR_SIZE);
    v.setUint32(0, fd, true);
    v.setUint32(8, opts.data.length, true);
    v.setUint32(12, outSize, true);
    v.setBigUint64(16, dataIn.address, true);
    v.setBigUint64(24, dataOut.address, true);
    v.setUint32(32, opts.repeat ?? 1, true);
    if (ctxIn && opts.ctxIn) {
      v.setUint32(40, opts.ctxIn.length, true);
      v.setBigUint64(48, ctxIn.address, true);
    }
    if (ctxOut && opts.ctxOutSize) {
      v.setUint32(44, opts.ctxOutSize, true);
      v.setBigUint64(56, ctxOut.address, true);
    }
    const { ret, errno } = bpf(BPF_PROG_TEST_RUN, attr);
    const outLen = Math.min(v.getUint32(12, true), outSize);
    const ctxLen = ctxOut ? Math.min(v.getUint32(44, true), opts.ctxOutSize ?? 0) : 0;
    return {
      ret,
      errno,
      retval: v.getUint32(4, true),
      dataOut: dataOut.bytes.slice(0, outLen),
      ctxOut: ctxOut ? ctxOut.bytes.slice(0, ctxLen) : new Uint8Array(0),
      duration: v.getUint32(36, true),
    };
  } finally {
    dataIn.free();
    dataOut.free();
    ctxIn?.free();
    ctxOut?.free();
    attr.free();
  }
}

export function closeFd(fd: number): void {
  if (fd >= 0) getLibc().close(fd);
}

