/**
 * The bpf(2) system call, command by command, with `union bpf_attr` laid out by hand.
 *
 * Each command writes its fields into a zeroed byte buffer at the offsets of
 * include/uapi/linux/bpf.h (x86_64, __aligned_u64 pointers). The kernel accepts an attribute
 * shorter than its own union (missing fields read as zero) and a longer one if the tail is zero,
 * so every command passes exactly the prefix it fills.
 *
 * Failures throw SyscallError (errno + name) except BPF_PROG_LOAD, whose errno is an answer
 * (the verifier's verdict) and is returned alongside the log.
 */
import { libc, NativeMem, withMem, lastErrno, closeFd } from "./libc";
import { SyscallError } from "./errno";

export const SYS_bpf = 321; // x86_64
export const SYS_perf_event_open = 298; // x86_64

// enum bpf_cmd
export const BPF_MAP_CREATE = 0;
export const BPF_MAP_LOOKUP_ELEM = 1;
export const BPF_MAP_UPDATE_ELEM = 2;
export const BPF_MAP_GET_NEXT_KEY = 4;
export const BPF_PROG_LOAD = 5;
export const BPF_PROG_TEST_RUN = 10;
export const BPF_PROG_GET_NEXT_ID = 11;
export const BPF_MAP_GET_NEXT_ID = 12;
export const BPF_PROG_GET_FD_BY_ID = 13;
export const BPF_OBJ_GET = 7;
export const BPF_OBJ_GET_INFO_BY_FD = 15;
export const BPF_RAW_TRACEPOINT_OPEN = 17;
export const BPF_LINK_CREATE = 28;
export const BPF_LINK_GET_FD_BY_ID = 30;
export const BPF_LINK_GET_NEXT_ID = 31;
export const BPF_ENABLE_STATS = 32;
export const BPF_LINK_DETACH = 34;

// enum bpf_prog_type
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_PROG_TYPE_KPROBE = 2;
export const BPF_PROG_TYPE_SCHED_CLS = 3;
export const BPF_PROG_TYPE_XDP = 6;
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
export const BPF_PROG_TYPE_TRACING = 26;

// enum bpf_map_type
export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_QUEUE = 22;
export const BPF_MAP_TYPE_RINGBUF = 27;

// enum bpf_attach_type
export const BPF_TRACE_RAW_TP = 23;
export const BPF_TRACE_FENTRY = 24;
export const BPF_XDP = 37;
export const BPF_PERF_EVENT = 41;
export const BPF_TRACE_KPROBE_MULTI = 42;
export const BPF_TCX_INGRESS = 46;
export const BPF_TCX_EGRESS = 47;

// enum bpf_link_type
export const BPF_LINK_TYPE_RAW_TRACEPOINT = 1;
export const BPF_LINK_TYPE_TRACING = 2;
export const BPF_LINK_TYPE_XDP = 6;
export const BPF_LINK_TYPE_PERF_EVENT = 7;
export const BPF_LINK_TYPE_TCX = 11;

// prog_flags
export const BPF_F_TEST_STATE_FREQ = 1 << 3;
/** prog_flags: an XDP program that handles multi-buffer frames (uapi/linux/bpf.h). */
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;
// XDP attach flags (include/uapi/linux/if_link.h)
export const XDP_FLAGS_SKB_MODE = 1 << 1;
export const XDP_FLAGS_DRV_MODE = 1 << 2;
// BPF_ENABLE_STATS type
export const BPF_STATS_RUN_TIME = 0;

export const BPF_OBJ_NAME_LEN = 16;
export const BPF_TAG_SIZE = 8;

/** Raw bpf(2): returns the result (fd or 0) or -1, with errno read right after the call. */
export function sysBpf(cmd: number, attr: NativeMem, size: number): { ret: number; errno: number } {
  const ret = Number(libc().syscall(SYS_bpf, "int", cmd, "void *", attr.ptr, "uint32_t", size));
  return { ret, errno: ret < 0 ? lastErrno() : 0 };
}

function bpfOrThrow(op: string, cmd: number, attr: NativeMem, size: number): number {
  const { ret, errno } = sysBpf(cmd, attr, size);
  if (ret < 0) throw new SyscallError(op, errno);
  return ret;
}

function putName(v: DataView, offset: number, name: string | undefined): void {
  if (!name) return;
  // Object names: at most 15 bytes of [A-Za-z0-9_.], NUL-terminated; the kernel rejects others with EINVAL.
  const clean = name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, BPF_OBJ_NAME_LEN - 1);
  for (let i = 0; i < clean.length; i++) v.setUint8(offset + i, clean.charCodeAt(i));
}

// ---------------------------------------------------------------------------------------------
// BPF_PROG_LOAD
// ---------------------------------------------------------------------------------------------

export interface ProgLoadAttr {
  progType: number;
  /** Encoded instructions, 8 bytes each. */
  insns: Uint8Array;
  license?: string;
  logLevel?: number;
  /** Log buffer (its size is the log_size); required when logLevel > 0. */
  logBuf?: NativeMem;
  progFlags?: number;
  name?: string;
  expectedAttachType?: number;
  kernVersion?: number;
  /** BTF type id of the kernel function a tracing (fentry) program is for; its BTF object is vmlinux. */
  attachBtfId?: number;
}

export interface ProgLoadResult {
  /** Program fd, or -1. */
  fd: number;
  errno: number;
  /** Bytes the whole log needed including its NUL (0 when no log was requested). */
  logTrueSize: number;
}

const PROG_LOAD_SIZE = 144; // through log_true_size

/** BPF_PROG_LOAD. Never throws on a verifier rejection: the errno is part of the answer. */
export function progLoad(a: ProgLoadAttr): ProgLoadResult {
  const insns = NativeMem.from(a.insns);
  const license = NativeMem.cString(a.license ?? "GPL");
  const attr = new NativeMem(PROG_LOAD_SIZE);
  try {
    const v = attr.view;
    v.setUint32(0, a.progType, true); // prog_type
    v.setUint32(4, a.insns.length / 8, true); // insn_cnt
    v.setBigUint64(8, insns.address, true); // insns
    v.setBigUint64(16, license.address, true); // license
    if (a.logBuf && (a.logLevel ?? 0) > 0) {
      a.logBuf.bytes[0] = 0;
      v.setUint32(24, a.logLevel ?? 0, true); // log_level
      v.setUint32(28, a.logBuf.size, true); // log_size
      v.setBigUint64(32, a.logBuf.address, true); // log_buf
    }
    v.setUint32(40, a.kernVersion ?? 0, true); // kern_version
    v.setUint32(44, a.progFlags ?? 0, true); // prog_flags
    putName(v, 48, a.name); // prog_name[16]
    v.setUint32(68, a.expectedAttachType ?? 0, true); // expected_attach_type
    // attach_btf_id; attach_btf_obj_fd (112) stays 0, which means vmlinux.
    v.setUint32(108, a.attachBtfId ?? 0, true);
    const { ret, errno } = sysBpf(BPF_PROG_LOAD, attr, PROG_LOAD_SIZE);
    return { fd: ret, errno, logTrueSize: v.getUint32(140, true) }; // log_true_size
  } finally {
    insns.free();
    license.free();
    attr.free();
  }
}

// ---------------------------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------------------------

export interface MapCreateAttr {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  name?: string;
}

export function mapCreate(a: MapCreateAttr): number {
  return withMem([72], (attr) => {
    const v = attr.view;
    v.setUint32(0, a.mapType, true);
    v.setUint32(4, a.keySize, true);
    v.setUint32(8, a.valueSize, true);
    v.setUint32(12, a.maxEntries, true);
    v.setUint32(16, a.mapFlags ?? 0, true);
    putName(v, 28, a.name); // map_name[16]
    return bpfOrThrow("BPF_MAP_CREATE", BPF_MAP_CREATE, attr, 72);
  });
}

function elemAttr(mapFd: number, key: NativeMem | null, value: NativeMem, flags: bigint): NativeMem {
  const attr = new NativeMem(32);
  const v = attr.view;
  v.setUint32(0, mapFd, true); // map_fd
  v.setBigUint64(8, key ? key.address : 0n, true); // key
  v.setBigUint64(16, value.address, true); // value / next_key
  v.setBigUint64(24, flags, true); // flags
  return attr;
}

/** BPF_MAP_LOOKUP_ELEM: the value bytes, or null when the key is absent (ENOENT). */
export function mapLookup(mapFd: number, key: Uint8Array, valueSize: number): Uint8Array | null {
  const k = NativeMem.from(key);
  const val = new NativeMem(valueSize);
  const attr = elemAttr(mapFd, k, val, 0n);
  try {
    const { ret, errno } = sysBpf(BPF_MAP_LOOKUP_ELEM, attr, 32);
    if (ret < 0) {
      if (errno === 2 /* ENOENT */) return null;
      throw new SyscallError("BPF_MAP_LOOKUP_ELEM", errno);
    }
    return val.bytes.slice(0, valueSize);
  } finally {
    k.free();
    val.free();
    attr.free();
  }
}

export function mapUpdate(mapFd: number, key: Uint8Array, value: Uint8Array, flags = 0n): void {
  const k = NativeMem.from(key);
  const val = NativeMem.from(value);
  const attr = elemAttr(mapFd, k, val, flags);
  try {
    bpfOrThrow("BPF_MAP_UPDATE_ELEM", BPF_MAP_UPDATE_ELEM, attr, 32);
  } finally {
    k.free();
    val.free();
    attr.free();
  }
}

/** BPF_MAP_LOOKUP_ELEM with no key: pops the head of a queue map, or null when it is empty. */
export function mapPop(mapFd: number, valueSize: number): Uint8Array | null {
  const val = new NativeMem(valueSize);
  const attr = elemAttr(mapFd, null, val, 0n);
  try {
    // BPF_MAP_LOOKUP_AND_DELETE_ELEM (21) is the "pop" of queue/stack maps.
    const { ret, errno } = sysBpf(21, attr, 32);
    if (ret < 0) {
      if (errno === 2) return null;
      throw new SyscallError("BPF_MAP_LOOKUP_AND_DELETE_ELEM", errno);
    }
    return val.bytes.slice(0, valueSize);
  } finally {
    val.free();
    attr.free();
  }
}

// ---------------------------------------------------------------------------------------------
// BPF_PROG_TEST_RUN
// ---------------------------------------------------------------------------------------------

export interface TestRunAttr {
  progFd: number;
  dataIn: Uint8Array;
  /** Room for the packet as the program left it. 0 = do not copy it back. */
  dataOutSize: number;
  repeat?: number;
  ctxIn?: Uint8Array;
  ctxOutSize?: number;
  /** BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES, ... */
  flags?: number;
  /** Frames per batch in BPF_F_TEST_XDP_LIVE_FRAMES mode (0 = the kernel's default, 64). */
  batchSize?: number;
}

export interface TestRunRaw {
  retval: number;
  /** Average ns per run over `repeat` runs (the kernel divides). */
  duration: number;
  dataOut: Uint8Array;
  /** The size the kernel reported for data_out (may exceed the buffer: then errno was ENOSPC). */
  dataSizeOut: number;
  ctxOut: Uint8Array;
}

const TEST_RUN_SIZE = 80;

export function progTestRun(a: TestRunAttr): TestRunRaw {
  const dataIn = NativeMem.from(a.dataIn);
  const dataOut = a.dataOutSize > 0 ? new NativeMem(a.dataOutSize) : null;
  const ctxIn = a.ctxIn ? NativeMem.from(a.ctxIn) : null;
  const ctxOut = a.ctxOutSize ? new NativeMem(a.ctxOutSize) : null;
  const attr = new NativeMem(TEST_RUN_SIZE);
  try {
    const v = attr.view;
    v.setUint32(0, a.progFd, true); // prog_fd
    v.setUint32(8, a.dataIn.length, true); // data_size_in
    v.setUint32(12, dataOut ? a.dataOutSize : 0, true); // data_size_out
    v.setBigUint64(16, dataIn.address, true); // data_in
    v.setBigUint64(24, dataOut ? dataOut.address : 0n, true); // data_out
    v.setUint32(32, a.repeat ?? 1, true); // repeat
    if (ctxIn && a.ctxIn) {
      v.setUint32(40, a.ctxIn.length, true); // ctx_size_in
      v.setBigUint64(48, ctxIn.address, true); // ctx_in
    }
    if (ctxOut && a.ctxOutSize) {
      v.setUint32(44, a.ctxOutSize, true); // ctx_size_out
      v.setBigUint64(56, ctxOut.address, true); // ctx_out
    }
    v.setUint32(64, a.flags ?? 0, true); // flags
    v.setUint32(72, a.batchSize ?? 0, true); // batch_size
    bpfOrThrow("BPF_PROG_TEST_RUN", BPF_PROG_TEST_RUN, attr, TEST_RUN_SIZE);
    const dataSizeOut = v.getUint32(12, true);
    const ctxLen = ctxOut ? Math.min(v.getUint32(44, true), a.ctxOutSize ?? 0) : 0;
    return {
      retval: v.getUint32(4, true),
      duration: v.getUint32(36, true),
      dataOut: dataOut ? dataOut.bytes.slice(0, Math.min(dataSizeOut, a.dataOutSize)) : new Uint8Array(0),
      dataSizeOut,
      ctxOut: ctxOut ? ctxOut.bytes.slice(0, ctxLen) : new Uint8Array(0),
    };
  } finally {
    dataIn.free();
    dataOut?.free();
    ctxIn?.free();
    ctxOut?.free();
    attr.free();
  }
}

// ---------------------------------------------------------------------------------------------
// Object info
// ---------------------------------------------------------------------------------------------

/** BPF_OBJ_GET_INFO_BY_FD into `info` (whose size is info_len); returns the length the kernel filled. */
export function objGetInfo(fd: number, info: NativeMem, what = "BPF_OBJ_GET_INFO_BY_FD"): number {
  return withMem([16], (attr) => {
    attr.view.setUint32(0, fd, true); // bpf_fd
    attr.view.setUint32(4, info.size, true); // info_len
    attr.view.setBigUint64(8, info.address, true); // info
    bpfOrThrow(what, BPF_OBJ_GET_INFO_BY_FD, attr, 16);
    return attr.view.getUint32(4, true);
  });
}

/** struct bpf_prog_info field offsets (x86_64). */
export const PROG_INFO = {
  size: 232,
  type: 0,
  id: 4,
  tag: 8,
  jitedProgLen: 16,
  xlatedProgLen: 20,
  jitedProgInsns: 24,
  xlatedProgInsns: 32,
  loadTime: 40,
  createdByUid: 48,
  nrMapIds: 52,
  mapIds: 56,
  name: 64,
  ifindex: 80,
  gplCompatible: 84,
  nrJitedKsyms: 104,
  nrJitedFuncLens: 108,
  jitedKsyms: 112,
  jitedFuncLens: 120,
  btfId: 128,
  runTimeNs: 192,
  runCnt: 200,
  recursionMisses: 208,
  verifiedInsns: 216,
} as const;

/** struct bpf_link_info field offsets (x86_64): the union starts at 16. */
export const LINK_INFO = {
  size: 128,
  type: 0,
  id: 4,
  progId: 8,
  /** raw_tracepoint.tp_name (pointer) and tp_name_len. */
  rawTpName: 16,
  rawTpNameLen: 24,
  /** xdp.ifindex, tcx.ifindex */
  ifindex: 16,
  /** tcx.attach_type */
  tcxAttachType: 20,
  /** perf_event.type */
  perfEventType: 16,
  /** tracing.attach_type, tracing.target_obj_id, tracing.target_btf_id */
  tracingAttachType: 16,
  tracingTargetObjId: 20,
  tracingTargetBtfId: 24,
} as const;

// ---------------------------------------------------------------------------------------------
// IDs: enumerate what exists (for cleanup checks)
// ---------------------------------------------------------------------------------------------

function nextId(cmd: number, what: string, start: number): number | null {
  return withMem([16], (attr) => {
    attr.view.setUint32(0, start, true); // start_id
    const { ret, errno } = sysBpf(cmd, attr, 12);
    if (ret < 0) {
      if (errno === 2 /* ENOENT: no more */) return null;
      throw new SyscallError(what, errno);
    }
    return attr.view.getUint32(4, true); // next_id
  });
}

function fdById(cmd: number, what: string, id: number): number | null {
  return withMem([16], (attr) => {
    attr.view.setUint32(0, id, true); // prog_id / link_id
    const { ret, errno } = sysBpf(cmd, attr, 12);
    if (ret < 0) {
      if (errno === 2 /* gone since it was listed */) return null;
      throw new SyscallError(what, errno);
    }
    return ret;
  });
}

function allIds(cmd: number, what: string): number[] {
  const ids: number[] = [];
  let id = 0;
  for (;;) {
    const next = nextId(cmd, what, id);
    if (next === null) return ids;
    ids.push(next);
    id = next;
  }
}

export const progIds = (): number[] => allIds(BPF_PROG_GET_NEXT_ID, "BPF_PROG_GET_NEXT_ID");
export const linkIds = (): number[] => allIds(BPF_LINK_GET_NEXT_ID, "BPF_LINK_GET_NEXT_ID");
export const mapIds = (): number[] => allIds(BPF_MAP_GET_NEXT_ID, "BPF_MAP_GET_NEXT_ID");
export const progFdById = (id: number): number | null => fdById(BPF_PROG_GET_FD_BY_ID, "BPF_PROG_GET_FD_BY_ID", id);
export const linkFdById = (id: number): number | null => fdById(BPF_LINK_GET_FD_BY_ID, "BPF_LINK_GET_FD_BY_ID", id);

// ---------------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------------

export interface LinkCreateAttr {
  progFd: number;
  /** target_fd or target_ifindex (the same slot). */
  target: number;
  attachType: number;
  flags?: number;
  /** perf_event.bpf_cookie (for BPF_PERF_EVENT). */
  cookie?: bigint;
}

export function linkCreate(a: LinkCreateAttr, what = "BPF_LINK_CREATE"): number {
  return withMem([64], (attr) => {
    const v = attr.view;
    v.setUint32(0, a.progFd, true); // prog_fd
    v.setUint32(4, a.target, true); // target_fd / target_ifindex
    v.setUint32(8, a.attachType, true); // attach_type
    v.setUint32(12, a.flags ?? 0, true); // flags
    if (a.cookie !== undefined) v.setBigUint64(16, a.cookie, true); // perf_event.bpf_cookie
    return bpfOrThrow(what, BPF_LINK_CREATE, attr, 64);
  });
}

/** BPF_LINK_DETACH: the link stays as an fd but no longer runs its program. */
export function linkDetach(linkFd: number): void {
  withMem([8], (attr) => {
    attr.view.setUint32(0, linkFd, true);
    bpfOrThrow("BPF_LINK_DETACH", BPF_LINK_DETACH, attr, 4);
  });
}

/**
 * BPF_RAW_TRACEPOINT_OPEN: attaches a raw_tp program; the returned fd is a link. With a null name
 * it attaches a tracing (fentry) program to the function it was loaded for (kernels before link
 * support for tracing programs only offer this way).
 */
export function rawTracepointOpen(progFd: number, tpName: string | null): number {
  const name = tpName === null ? null : NativeMem.cString(tpName);
  try {
    return withMem([16], (attr) => {
      attr.view.setBigUint64(0, name ? name.address : 0n, true); // name
      attr.view.setUint32(8, progFd, true); // prog_fd
      return bpfOrThrow(`BPF_RAW_TRACEPOINT_OPEN(${tpName ?? "tracing program"})`, BPF_RAW_TRACEPOINT_OPEN, attr, 16);
    });
  } finally {
    name?.free();
  }
}

/** BPF_OBJ_GET: an fd for an object pinned in bpffs (a map or program `bpftool … pinmaps` left there). */
export function objGet(path: string): number {
  const name = NativeMem.cString(path);
  try {
    return withMem([16], (attr) => {
      attr.view.setBigUint64(0, name.address, true); // pathname
      return bpfOrThrow(`BPF_OBJ_GET(${path})`, BPF_OBJ_GET, attr, 16);
    });
  } finally {
    name.free();
  }
}

/**
 * BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): while the returned fd is open the kernel accounts
 * run_time_ns and run_cnt for every program. Close it to stop (it costs a little per run).
 */
export function enableRunTimeStats(): number {
  return withMem([8], (attr) => {
    attr.view.setUint32(0, BPF_STATS_RUN_TIME, true);
    return bpfOrThrow("BPF_ENABLE_STATS", BPF_ENABLE_STATS, attr, 4);
  });
}

export { closeFd };
