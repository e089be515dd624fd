/**
 * Loads one program of a BPF ELF object, with its maps, through libbpf (server/native/libbpf.ts):
 * open from memory, pick the program, load, and keep duplicates of the program and map fds, so
 * the kernel objects outlive the libbpf object, which is always closed before returning.
 *
 * What an object may not do here, because the bytes may come from a client:
 * - pin anything: a map with `pinning` would make libbpf reuse whatever is pinned at its path
 *   (another user's map) or leave a pin in bpffs behind; every pin path is cleared before load;
 * - load more than the program asked for (every other program's autoload is off), or a program
 *   of a kind the playground cannot run or attach (allowed: PROG_KINDS; tracing only as fentry,
 *   never fexit or fmod_ret, which change what a kernel function returns);
 * - create struct_ops maps, or maps larger than `maxMapBytes` together (max_entries x (key +
 *   value), values once per possible CPU for per-CPU maps; a ring buffer's size is its max_entries).
 * Untrusted bytes reach this module only inside an isolate worker (server/isolate/operations.ts),
 * whose time budget also bounds the verifier.
 *
 * The verifier log: libbpf writes it into a buffer given per program. On Linux 6.4+ a log that
 * does not fit fails the load with ENOSPC even when verification passed, so then the whole object
 * is opened again with a buffer 8x larger, up to the cap (libbpf loads an object only once).
 */
import { PlaygroundError, type ErrorPosition } from "../../lib/errors";
import { readBpfObject } from "../../lib/elf";
import { LIMITS } from "../../lib/protocol";
import { logError } from "../../lib/verifier/log-analyze";
import { parseLog } from "../../lib/verifier/log-parse";
import { ERRNO } from "../native/errno";
import { closeFd, dupCloexec, NativeMem } from "../native/libc";
import { capturingLibbpfMessages, iterate, libbpf, libbpfErrno, libbpfErrnoName, libbpfStrerror, type Ptr } from "../native/libbpf";
import { BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY } from "../native/bpf";
import { kindOfProgType, type ProgKind } from "./prog-types";
import { possibleCpus } from "./maps";

export interface ObjectLoadOptions {
  /** The ELF file's bytes. */
  bytes: Uint8Array;
  /** The program's name (its function) or section name; may be omitted when the object has one program. */
  program?: string;
  /** Verifier log level: 0 (libbpf retries a failed load at 1), 1 or 2. Default 1. */
  logLevel?: 0 | 1 | 2;
  /** The object's name in libbpf's messages (default "playground"). */
  objectName?: string;
  /** Largest object accepted (default LIMITS.objectBytes). */
  maxBytes?: number;
  /** First verifier log buffer (default 256 KiB) and the largest tried (default 16 MiB). */
  initialLogSize?: number;
  maxLogSize?: number;
  /** Bound on the maps' memory, max_entries x (key + value) summed (default 64 MiB). */
  maxMapBytes?: number;
}

export interface ObjectProgram {
  name: string;
  section: string;
  /** enum bpf_prog_type, as libbpf derived it from the section name. */
  progType: number;
  expectedAttachType: number;
  /** The playground's name for the type; null for types it does not load. */
  kind: ProgKind | null;
}

export interface ObjectMap {
  name: string;
  /** enum bpf_map_type. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** The caller's duplicate (-1 in descriptions that crossed a process boundary without it). */
  fd: number;
}

export interface LoadedObject {
  /** The loaded program's fd (a duplicate the caller owns). */
  fd: number;
  program: ObjectProgram & { kind: ProgKind; insns: number };
  /** Every program of the object (only `program` was loaded). */
  programs: ObjectProgram[];
  /** The maps libbpf created for it, fds owned by the caller; `.rodata`-style internal maps included. */
  maps: ObjectMap[];
  /** The verifier's log of the loaded program. */
  log: string;
  /** What libbpf printed (its warnings), one message a line. */
  libbpfLog: string;
  attempts: number;
}

export type ObjectLoadStage = "open" | "select" | "load";

/** What went wrong, in data that crosses a process boundary (structured clone). */
export interface ObjectLoadFailure {
  code: string;
  message: string;
  position: ErrorPosition;
  stage: ObjectLoadStage;
  errno: number;
  errnoName: string;
  log: string;
  libbpfLog: string;
}

/** A refused or failed object load: libbpf's errno text, what it printed, and the verifier log. */
export class ObjectLoadError extends PlaygroundError {
  readonly stage: ObjectLoadStage;
  readonly errno: number;
  readonly errnoName: string;
  readonly log: string;
  readonly libbpfLog: string;
  constructor(f: Omit<ObjectLoadFailure, "code"> & { code?: string }) {
    super(f.code ?? `libbpf/${f.stage}`, f.message, f.position);
    this.stage = f.stage;
    this.errno = f.errno;
    this.errnoName = f.errnoName;
    this.log = f.log;
    this.libbpfLog = f.libbpfLog;
  }
  toFailure(): ObjectLoadFailure {
    const { code, message, position, stage, errno, errnoName, log, libbpfLog } = this;
    return { code, message, position, stage, errno, errnoName, log, libbpfLog };
  }
  static from(f: ObjectLoadFailure): ObjectLoadError {
    return new ObjectLoadError(f);
  }
}

const OPEN_OPTS_SIZE = 80; // struct bpf_object_open_opts of libbpf 1.1 (through kernel_log_level, padded)
const BPF_MAP_TYPE_RINGBUF = 27;
const BPF_MAP_TYPE_STRUCT_OPS = 26;
const DEFAULT_INITIAL_LOG = 256 << 10;
const DEFAULT_MAX_LOG = 16 << 20;
const DEFAULT_MAX_MAP_BYTES = 64 << 20;
/** How much of a verifier log an error message repeats (the whole log is in `log`). */
const MESSAGE_LOG_TAIL = 16 << 10;

/** The last `max` characters of `text`, marked when cut (errors carry tails: the verdict is at the end). */
export function tail(text: string, max: number): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

const cString = (v: unknown): string => (typeof v === "string" ? v : "");

function readCString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}

function describeProgram(p: Ptr): ObjectProgram {
  const b = libbpf();
  const progType = Number(b.progType(p));
  return {
    name: cString(b.progName(p)),
    section: cString(b.progSection(p)),
    progType,
    expectedAttachType: Number(b.progExpectedAttachType(p)),
    kind: kindOfProgType(progType),
  };
}

function describeMap(m: Ptr): Omit<ObjectMap, "fd"> {
  const b = libbpf();
  return {
    name: cString(b.mapName(m)),
    type: Number(b.mapType(m)),
    keySize: Number(b.mapKeySize(m)),
    valueSize: Number(b.mapValueSize(m)),
    maxEntries: Number(b.mapMaxEntries(m)),
  };
}

/** Where lib/elf, reading the same bytes, finds them malformed (libbpf's own messages give no offset). */
function elfPosition(bytes: Uint8Array): { position: ErrorPosition; why: string } | null {
  try {
    readBpfObject(bytes);
    return null;
  } catch (e) {
    return e instanceof PlaygroundError ? { position: e.position, why: e.message } : null;
  }
}

/** The program to load: named (function or section name), or the object's only one. */
function choose(programs: ObjectProgram[], wanted: string | undefined): number {
  const list = programs.map((p) => `${p.name} (${p.section})`).join(", ") || "none";
  if (wanted === undefined) {
    if (programs.length === 1) return 0;
    throw refusal("select", programs.length === 0 ? "the object has no programs" : `the object has ${programs.length} programs; name one of: ${list}`);
  }
  const byName = programs.findIndex((p) => p.name === wanted);
  if (byName >= 0) return byName;
  const bySection = programs.filter((p) => p.section === wanted);
  if (bySection.length === 1) return programs.indexOf(bySection[0]!);
  throw refusal("select", bySection.length > 1 ? `several programs are in section "${wanted}"; name one of: ${list}` : `the object has no program "${wanted}"; it has: ${list}`);
}

function refusal(stage: ObjectLoadStage, message: string, code = `libbpf/${stage}`): ObjectLoadError {
  return new ObjectLoadError({ code, stage, message, position: { kind: "none" }, errno: 0, errnoName: "", log: "", libbpfLog: "" });
}

function checkKind(p: ObjectProgram): ProgKind {
  if (p.kind === null) {
    throw refusal("select", `program "${p.name}" is in section "${p.section}", a program type (${p.progType}) the playground does not load`, "libbpf/program-type");
  }
  if (p.progType === BPF_PROG_TYPE_TRACING && p.expectedAttachType !== BPF_TRACE_FENTRY) {
    throw refusal("select", `program "${p.name}" (${p.section}) is a tracing program other than fentry; only fentry is loaded (fexit and fmod_ret are not)`, "libbpf/program-type");
  }
  return p.kind;
}

/** Map types with one value per possible CPU (PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE). */
const PER_CPU_MAP_TYPES = new Set([5, 6, 10, 21]);

function checkMaps(maps: Omit<ObjectMap, "fd">[], maxBytes: number): void {
  let total = 0;
  let cpus = 0;
  for (const m of maps) {
    if (m.type === BPF_MAP_TYPE_STRUCT_OPS) throw refusal("select", `map "${m.name}" is a struct_ops map; objects with struct_ops are not loaded`, "libbpf/map");
    const perCpu = PER_CPU_MAP_TYPES.has(m.type) ? (cpus ||= possibleCpus()) : 1;
    total += m.type === BPF_MAP_TYPE_RINGBUF ? m.maxEntries : m.maxEntries * (m.keySize + m.valueSize * perCpu);
  }
  if (total > maxBytes) {
    throw refusal("select", `the object's maps would take ${total} bytes; at most ${maxBytes} are allowed`, "libbpf/map");
  }
}

interface Attempt {
  ok: boolean;
  loaded?: LoadedObject;
  /** The log filled its buffer (retry larger). */
  logFull?: boolean;
  failure?: ObjectLoadError;
}

function attempt(opts: ObjectLoadOptions, logSize: number, attempts: number, messages: string[]): Attempt {
  const b = libbpf();
  const data = NativeMem.from(opts.bytes);
  const name = NativeMem.cString((opts.objectName ?? "playground").replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64));
  const openOpts = new NativeMem(OPEN_OPTS_SIZE);
  const logBuf = new NativeMem(logSize);
  let obj: Ptr = null;
  const owned: number[] = [];
  try {
    openOpts.view.setBigUint64(0, BigInt(OPEN_OPTS_SIZE), true); // sz
    openOpts.view.setBigUint64(8, name.address, true); // object_name
    obj = b.openMem(data.ptr, opts.bytes.length, openOpts.ptr);
    if (obj === null) {
      const errno = libbpfErrno();
      const at = elfPosition(opts.bytes);
      const libbpfLog = messages.join("");
      const message = `libbpf cannot open the object: ${libbpfStrerror(errno)} (${libbpfErrnoName(errno)})${at ? `; lib/elf: ${at.why}` : ""}${libbpfLog ? `\n${tail(libbpfLog, MESSAGE_LOG_TAIL).trimEnd()}` : ""}`;
      return { ok: false, failure: new ObjectLoadError({ stage: "open", message, position: at?.position ?? { kind: "none" }, errno, errnoName: libbpfErrnoName(errno), log: "", libbpfLog }) };
    }
    const progPtrs = iterate(b.nextProgram, obj);
    const programs = progPtrs.map(describeProgram);
    const chosen = choose(programs, opts.program);
    const kind = checkKind(programs[chosen]!);
    const mapPtrs = iterate(b.nextMap, obj);
    const maps = mapPtrs.map(describeMap);
    checkMaps(maps, opts.maxMapBytes ?? DEFAULT_MAX_MAP_BYTES);
    for (const m of mapPtrs) b.mapSetPinPath(m, null);
    progPtrs.forEach((p, i) => b.progSetAutoload(p, i === chosen));
    const prog = progPtrs[chosen];
    b.progSetLogBuf(prog, logBuf.ptr, logSize);
    b.progSetLogLevel(prog, opts.logLevel ?? 1);

    const ret = Number(b.objectLoad(obj));
    const log = readCString(logBuf.bytes);
    const libbpfLog = messages.join("");
    if (ret < 0) {
      const errno = -ret;
      const logFull = errno === ERRNO.ENOSPC && new TextEncoder().encode(log).length >= logSize - 1;
      const err = logError(parseLog(log));
      const p = programs[chosen]!;
      const message =
        `libbpf could not load program "${p.name}" (${p.section}): ${libbpfStrerror(errno)} (${libbpfErrnoName(errno)})` +
        (libbpfLog ? `\n${tail(libbpfLog, MESSAGE_LOG_TAIL).trimEnd()}` : "") +
        (log ? `\nverifier log:\n${tail(log, MESSAGE_LOG_TAIL).trimEnd()}` : "");
      const position: ErrorPosition = err?.insn !== null && err?.insn !== undefined ? { kind: "insn", index: err.insn } : { kind: "none" };
      return { ok: false, logFull, failure: new ObjectLoadError({ stage: "load", message, position, errno, errnoName: libbpfErrnoName(errno), log, libbpfLog }) };
    }
    const progFd = dupCloexec(Number(b.progFd(prog)));
    owned.push(progFd);
    const outMaps: ObjectMap[] = [];
    mapPtrs.forEach((m, i) => {
      const fd = Number(b.mapFd(m));
      if (fd < 0) return; // not created (autocreate off): nothing of it exists in the kernel
      const dup = dupCloexec(fd);
      owned.push(dup);
      outMaps.push({ ...maps[i]!, fd: dup });
    });
    const loaded: LoadedObject = {
      fd: progFd,
      program: { ...programs[chosen]!, kind, insns: Number(b.progInsnCnt(prog)) },
      programs,
      maps: outMaps,
      log,
      libbpfLog,
      attempts,
    };
    owned.length = 0;
    return { ok: true, loaded };
  } finally {
    for (const fd of owned) closeFd(fd);
    if (obj !== null) b.objectClose(obj);
    data.free();
    name.free();
    openOpts.free();
    logBuf.free();
  }
}

/**
 * Loads one program of an object with its maps. Throws ObjectLoadError (code libbpf/open,
 * libbpf/select, libbpf/program-type, libbpf/map or libbpf/load) with libbpf's errno text, its
 * messages and the verifier log; the caller owns and closes every fd of the result
 * (closeLoadedObject).
 */
export function loadObject(opts: ObjectLoadOptions): LoadedObject {
  const maxBytes = opts.maxBytes ?? LIMITS.objectBytes;
  if (opts.bytes.length === 0) throw refusal("open", "the object is empty");
  if (opts.bytes.length > maxBytes) throw refusal("open", `the object has ${opts.bytes.length} bytes; at most ${maxBytes} are accepted`);
  const max = Math.max(4096, opts.maxLogSize ?? DEFAULT_MAX_LOG);
  let size = Math.min(max, Math.max(4096, opts.initialLogSize ?? DEFAULT_INITIAL_LOG));
  for (let attempts = 1; ; attempts++) {
    const messages: string[] = [];
    const r = capturingLibbpfMessages(messages, () => attempt(opts, size, attempts, messages));
    if (r.ok) return r.loaded!;
    // The verifier gives up with EAGAIN when a signal is pending (a child exiting): not a verdict.
    const again = r.failure!.errno === ERRNO.EAGAIN && attempts < 10;
    if (r.logFull && size < max) size = Math.min(max, size * 8);
    else if (!again) throw r.failure!;
  }
}

/** Closes every fd a loaded object holds. */
export function closeLoadedObject(o: Pick<LoadedObject, "fd" | "maps">): void {
  closeFd(o.fd);
  for (const m of o.maps) closeFd(m.fd);
}
