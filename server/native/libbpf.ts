/**
 * koffi bindings to Debian's libbpf (libbpf1 1.1.2, `libbpf.so.1`): the loader bpftool and most
 * users' own tools use, so an object the agent loads is handled exactly as theirs would be
 * (CO-RE relocations against the kernel's BTF, BTF-defined maps, subprogram linking, ext-info).
 *
 * Only the calls the object loader needs (server/kernel/object-load.ts), each a thin wrapper:
 * pointers stay opaque, numbers come back as numbers, errors as libbpf reports them (a negative
 * errno from the call, or errno set when a pointer-returning call gives NULL).
 *
 * libbpf's own messages go through one print callback for the whole process. By default libbpf
 * writes warnings to stderr, which for the agent is its log and for the CLI is the user's
 * terminal; so the first use installs a callback that formats each message (vsnprintf on the
 * va_list libbpf passes) into whichever capture is active, and drops it when none is.
 */
import "./koffi-config";
import * as koffi from "koffi";
import { PlaygroundError } from "../../lib/errors";
import { libc, lastErrno, NativeMem } from "./libc";
import { errnoName } from "./errno";

type Fn = (...args: unknown[]) => unknown;
/** An opaque libbpf pointer (struct bpf_object *, bpf_program *, bpf_map *). */
export type Ptr = unknown;

interface Bindings {
  readonly openMem: Fn;
  readonly objectLoad: Fn;
  readonly objectClose: Fn;
  readonly nextProgram: Fn;
  readonly nextMap: Fn;
  readonly progName: Fn;
  readonly progSection: Fn;
  readonly progType: Fn;
  readonly progExpectedAttachType: Fn;
  readonly progSetAutoload: Fn;
  readonly progSetLogBuf: Fn;
  readonly progSetLogLevel: Fn;
  readonly progFd: Fn;
  readonly progInsnCnt: Fn;
  readonly mapName: Fn;
  readonly mapFd: Fn;
  readonly mapType: Fn;
  readonly mapKeySize: Fn;
  readonly mapValueSize: Fn;
  readonly mapMaxEntries: Fn;
  readonly mapSetPinPath: Fn;
  readonly strerror: Fn;
  /** Lines libbpf printed while a capture was active go here (null: dropped). */
  sink: string[] | null;
}

const CACHE_KEY = Symbol.for("bpf-playground.libbpf.bindings");
const LIBRARY = "libbpf.so.1";
const PRINT_BUF = 4096;
/** enum libbpf_print_level: LIBBPF_WARN 0, LIBBPF_INFO 1, LIBBPF_DEBUG 2. */
const LIBBPF_INFO = 1;

function load(): Bindings {
  let lib: koffi.LibraryHandle;
  try {
    lib = koffi.load(LIBRARY);
  } catch (e) {
    throw new PlaygroundError("libbpf/load", `cannot load ${LIBRARY} (install Debian's libbpf1): ${(e as Error).message}`);
  }
  type Spec = Parameters<typeof koffi.sizeof>[0];
  const fn = (name: string, ret: Spec, args: Spec[]): Fn => lib.func(name, ret, args) as Fn;
  const b: Bindings = {
    openMem: fn("bpf_object__open_mem", "void *", ["void *", "size_t", "void *"]),
    objectLoad: fn("bpf_object__load", "int", ["void *"]),
    objectClose: fn("bpf_object__close", "void", ["void *"]),
    nextProgram: fn("bpf_object__next_program", "void *", ["void *", "void *"]),
    nextMap: fn("bpf_object__next_map", "void *", ["void *", "void *"]),
    progName: fn("bpf_program__name", "const char *", ["void *"]),
    progSection: fn("bpf_program__section_name", "const char *", ["void *"]),
    progType: fn("bpf_program__type", "int", ["void *"]),
    progExpectedAttachType: fn("bpf_program__expected_attach_type", "int", ["void *"]),
    progSetAutoload: fn("bpf_program__set_autoload", "int", ["void *", "bool"]),
    progSetLogBuf: fn("bpf_program__set_log_buf", "int", ["void *", "void *", "size_t"]),
    progSetLogLevel: fn("bpf_program__set_log_level", "int", ["void *", "uint32_t"]),
    progFd: fn("bpf_program__fd", "int", ["void *"]),
    progInsnCnt: fn("bpf_program__insn_cnt", "size_t", ["void *"]),
    mapName: fn("bpf_map__name", "const char *", ["void *"]),
    mapFd: fn("bpf_map__fd", "int", ["void *"]),
    mapType: fn("bpf_map__type", "int", ["void *"]),
    mapKeySize: fn("bpf_map__key_size", "uint32_t", ["void *"]),
    mapValueSize: fn("bpf_map__value_size", "uint32_t", ["void *"]),
    mapMaxEntries: fn("bpf_map__max_entries", "uint32_t", ["void *"]),
    mapSetPinPath: fn("bpf_map__set_pin_path", "int", ["void *", "void *"]),
    strerror: fn("libbpf_strerror", "int", ["int", "void *", "size_t"]),
    sink: null,
  };
  // int (*)(enum libbpf_print_level, const char *fmt, va_list ap): on x86_64 a va_list parameter
  // is a pointer to its __va_list_tag, so fmt and ap pass straight on to vsnprintf.
  const printProto = koffi.proto("int bpfpg_libbpf_print(int level, void *fmt, void *ap)");
  const setPrint = fn("libbpf_set_print", "void *", [koffi.pointer(printProto)]);
  const line = new NativeMem(PRINT_BUF);
  const callback = koffi.register((level: number, fmt: unknown, ap: unknown): number => {
    // Debug messages (a line per ELF section and relocation) are libbpf's trace, not its verdict.
    if (!b.sink || level > LIBBPF_INFO) return 0;
    const n = Number(libc().vsnprintf(line.ptr, PRINT_BUF, fmt, ap));
    if (n > 0) b.sink.push(new TextDecoder().decode(line.bytes.subarray(0, Math.min(n, PRINT_BUF - 1))));
    return 0;
  }, koffi.pointer(printProto));
  setPrint(callback);
  return b;
}

export function libbpf(): Bindings {
  const holder = globalThis as unknown as Record<symbol, Bindings | undefined>;
  return (holder[CACHE_KEY] ??= load());
}

/** Runs `fn` with libbpf's messages appended to `into` (one string per message, as printed). */
export function capturingLibbpfMessages<T>(into: string[], fn: () => T): T {
  const b = libbpf();
  const outer = b.sink;
  b.sink = into;
  try {
    return fn();
  } finally {
    b.sink = outer;
  }
}

/** libbpf_strerror: the text for an errno or one of libbpf's own codes (LIBBPF_ERRNO__*, 4000+). */
export function libbpfStrerror(err: number): string {
  const buf = new NativeMem(256);
  try {
    libbpf().strerror(Math.abs(err), buf.ptr, buf.size);
    const end = buf.bytes.indexOf(0);
    return new TextDecoder().decode(buf.bytes.subarray(0, end < 0 ? buf.size : end));
  } finally {
    buf.free();
  }
}

/** enum libbpf_errno (libbpf.h): libbpf's own error codes, past the kernel's errno range. */
const LIBBPF_ERRNOS = ["LIBELF", "FORMAT", "KVERSION", "ENDIAN", "INTERNAL", "RELOC", "LOAD", "VERIFY", "PROG2BIG", "KVER", "PROGTYPE", "WRNGPID", "INVSEQ", "NLPARSE"];

/** The name of a libbpf error: errno(3)'s, or LIBBPF_ERRNO__* for libbpf's own (4000 and up). */
export function libbpfErrnoName(err: number): string {
  const e = Math.abs(err);
  const own = e >= 4000 ? LIBBPF_ERRNOS[e - 4000] : undefined;
  return own ? `LIBBPF_ERRNO__${own}` : errnoName(e);
}

/** The errno of a libbpf call that returned NULL. */
export const libbpfErrno = lastErrno;

/** Walks a libbpf iterator (bpf_object__next_program / next_map) to the end. */
export function iterate(next: Fn, obj: Ptr): Ptr[] {
  const out: Ptr[] = [];
  for (let p = next(obj, null); p !== null; p = next(obj, p)) out.push(p);
  return out;
}
