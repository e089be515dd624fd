/**
 * koffi bindings to the libpcap the project links (Debian's `libpcap.so.0.8`, 1.10.3).
 *
 * libpcap is the oracle for "what cBPF does this filter compile to", so everything here is a thin,
 * faithful wrapper: no re-interpretation of its answers, its error text passed through verbatim.
 *
 * Name lookups: `pcap_compile` resolves host names with getaddrinfo (DNS), network names with
 * getnetbyname (/etc/networks), MAC names with ether_hostton (/etc/ethers) and service names with
 * getservbyname (/etc/services). Those calls are synchronous and block the Node event loop for as
 * long as the resolver takes; with an unreachable DNS server that can be many seconds. Tests and
 * benchmarks therefore use numeric addresses and /etc/services port names only.
 */
import "./koffi-config";
import * as koffi from "koffi";
import { PlaygroundError } from "../../lib/errors";
import type { CbpfInsn } from "../../lib/cbpf/insn";
import { dltToLinkType } from "../../lib/pcap/linktypes";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** libpcap's PCAP_NETMASK_UNKNOWN: "no netmask", which makes `ip broadcast` fail. */
export const PCAP_NETMASK_UNKNOWN = 0xffffffff;
/** tcpdump's and libpcap's default snapshot length (MAXIMUM_SNAPLEN); it becomes the accept value. */
export const DEFAULT_SNAPLEN = 262144;

const INSN_SIZE = 8; // sizeof(struct bpf_insn): u16 code, u8 jt, u8 jf, u32 k
const MAX_OPEN_HANDLES = 32; // one pcap_t per (dlt, snaplen); a handful are ever in use

type KoffiFn = (...args: unknown[]) => unknown;

interface Bindings {
  readonly version: string;
  readonly openDead: KoffiFn;
  readonly openOffline: KoffiFn;
  readonly close: KoffiFn;
  readonly compile: KoffiFn;
  readonly geterr: KoffiFn;
  readonly freecode: KoffiFn;
  readonly filter: KoffiFn;
  readonly image: KoffiFn;
  readonly validate: KoffiFn;
  readonly nameToVal: KoffiFn;
  readonly valToName: KoffiFn;
  readonly valToDescription: KoffiFn;
  /** Open `pcap_open_dead` handles keyed by `${dlt}/${snaplen}`, oldest first (Map keeps insertion order). */
  readonly handles: Map<string, unknown>;
}

// Cached on globalThis so that a hot-reloaded copy of this module (next dev, vitest watch) reuses
// the loaded library and its handles instead of loading it again. The types are anonymous koffi
// structs for the same reason: named types would collide on the second evaluation.
const CACHE_KEY = Symbol.for("bpf-playground.libpcap.bindings");

function bindings(): Bindings {
  const holder = globalThis as unknown as Record<symbol, Bindings | undefined>;
  const cached = holder[CACHE_KEY];
  if (cached) return cached;
  let lib: koffi.LibraryHandle;
  try {
    lib = koffi.load("libpcap.so.0.8");
  } catch (e) {
    throw new PlaygroundError(
      "libpcap/load",
      `cannot load libpcap.so.0.8 (install Debian's libpcap0.8): ${(e as Error).message}`,
    );
  }
  const progType = koffi.struct({ bf_len: "uint32_t", bf_insns: "void *" });
  const progPtr = koffi.pointer(progType);
  type Spec = Parameters<typeof koffi.sizeof>[0]; // koffi does not export its TypeSpec alias
  const fn = (name: string, ret: Spec, args: Spec[]): KoffiFn =>
    lib.func(name, ret, args) as KoffiFn;
  const b: Bindings = {
    version: String(fn("pcap_lib_version", "const char *", [])()),
    openDead: fn("pcap_open_dead", "void *", ["int", "int"]),
    openOffline: fn("pcap_open_offline", "void *", ["const char *", "void *"]),
    close: fn("pcap_close", "void", ["void *"]),
    // _Out_ makes koffi copy the filled bpf_program back into the JS object we pass.
    compile: fn("pcap_compile", "int", ["void *", koffi.out(progPtr), "const char *", "int", "uint32_t"]),
    geterr: fn("pcap_geterr", "const char *", ["void *"]),
    freecode: fn("pcap_freecode", "void", [progPtr]),
    // Programs and packets go in as Uint8Arrays: koffi hands C a pointer to their bytes, no copy.
    filter: fn("bpf_filter", "uint32_t", ["void *", "void *", "uint32_t", "uint32_t"]),
    image: fn("bpf_image", "const char *", ["void *", "int"]),
    validate: fn("bpf_validate", "int", ["void *", "int"]),
    nameToVal: fn("pcap_datalink_name_to_val", "int", ["const char *"]),
    valToName: fn("pcap_datalink_val_to_name", "const char *", ["int"]),
    valToDescription: fn("pcap_datalink_val_to_description", "const char *", ["int"]),
    handles: new Map(),
  };
  holder[CACHE_KEY] = b;
  return b;
}

/** `pcap_lib_version()`, e.g. "libpcap version 1.10.3 (with TPACKET_V3)". */
export function libpcapVersion(): string {
  return bindings().version;
}

export interface CompileFilterOptions {
  filter: string;
  dlt: number;
  /** Default 262144 (tcpdump's default); it is the value `ret` returns on a match. */
  snaplen?: number;
  /** Default true; false is tcpdump's `-O`. */
  optimize?: boolean;
  /** Host byte order. Default PCAP_NETMASK_UNKNOWN (0xffffffff). tcpdump -d without -i passes 0. */
  netmask?: number;
  /**
   * Compile as libpcap does for a capture file (`tcpdump -r`), not for a live handle. The code can
   * differ: on NULL/LOOP/ENC the address family is checked against the BSD values a file may hold
   * (and byte-swapped when the file's byte order is not the host's), and `inbound` or `ifindex`
   * are refused on Ethernet savefiles.
   */
  savefile?: { bigEndian: boolean };
}

export type CompileFilterResult =
  | { ok: true; insns: CbpfInsn[] }
  | { ok: false; error: string };

function checkUint(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new PlaygroundError("libpcap/option", `${name} must be an integer between 0 and ${max}, got ${v}`);
  }
}

function deadHandle(b: Bindings, dlt: number, snaplen: number): unknown {
  const key = `${dlt}/${snaplen}`;
  const found = b.handles.get(key);
  if (found !== undefined) return found;
  if (b.handles.size >= MAX_OPEN_HANDLES) {
    const [oldestKey, oldest] = b.handles.entries().next().value as [string, unknown];
    b.handles.delete(oldestKey);
    b.close(oldest);
  }
  const p = b.openDead(dlt, snaplen);
  if (!p) throw new PlaygroundError("libpcap/open", `pcap_open_dead(${dlt}, ${snaplen}) failed`);
  b.handles.set(key, p);
  return p;
}

/**
 * A handle on a capture file that holds only a pcap header for this link type: libpcap then
 * compiles exactly as `tcpdump -r` does for such a file. The file is removed once opened.
 */
function savefileHandle(b: Bindings, dlt: number, snaplen: number, bigEndian: boolean): unknown {
  const key = `file/${dlt}/${snaplen}/${bigEndian ? "be" : "le"}`;
  const found = b.handles.get(key);
  if (found !== undefined) return found;
  const linkType = dltToLinkType(dlt);
  if (linkType < 0) return deadHandle(b, dlt, snaplen);
  const header = new DataView(new ArrayBuffer(24));
  const le = !bigEndian;
  header.setUint32(0, 0xa1b2c3d4, le);
  header.setUint16(4, 2, le);
  header.setUint16(6, 4, le);
  header.setUint32(16, snaplen, le);
  header.setUint32(20, linkType, le);
  const dir = mkdtempSync(join(tmpdir(), "bpfpg-pcap-"));
  const file = join(dir, "header.pcap");
  try {
    writeFileSync(file, new Uint8Array(header.buffer));
    const errbuf = new Uint8Array(512);
    const p = b.openOffline(file, errbuf);
    if (!p) {
      const text = new TextDecoder().decode(errbuf.subarray(0, Math.max(0, errbuf.indexOf(0))));
      throw new PlaygroundError("libpcap/open", `pcap_open_offline for link type ${dlt} failed: ${text}`);
    }
    if (b.handles.size >= MAX_OPEN_HANDLES) {
      const [oldestKey, oldest] = b.handles.entries().next().value as [string, unknown];
      b.handles.delete(oldestKey);
      b.close(oldest);
    }
    b.handles.set(key, p);
    return p;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Compile a filter with `pcap_compile` on a `pcap_open_dead` handle (or a savefile handle, see
 * `savefile`). Errors come back as libpcap's
 * `pcap_geterr` text, unchanged. Invalid options (not the filter) throw PlaygroundError.
 * Host names in the filter trigger a blocking DNS lookup (see the top of this file).
 */
export function compileFilter(opts: CompileFilterOptions): CompileFilterResult {
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const netmask = opts.netmask ?? PCAP_NETMASK_UNKNOWN;
  checkUint("dlt", opts.dlt, 0x7fffffff);
  checkUint("snaplen", snaplen, 0x7fffffff);
  checkUint("netmask", netmask, 0xffffffff);
  if (typeof opts.filter !== "string") {
    throw new PlaygroundError("libpcap/option", "filter must be a string");
  }
  // C sees the string up to its first NUL; refusing is better than silently compiling a prefix.
  const nul = opts.filter.indexOf("\0");
  if (nul >= 0) {
    throw new PlaygroundError("libpcap/option", "filter contains a NUL character", {
      kind: "text",
      line: 1,
      column: nul + 1,
      offset: nul,
    });
  }
  const b = bindings();
  const p = opts.savefile
    ? savefileHandle(b, opts.dlt, snaplen, opts.savefile.bigEndian)
    : deadHandle(b, opts.dlt, snaplen);
  const prog: { bf_len?: number; bf_insns?: unknown } = {};
  const rc = b.compile(p, prog, opts.filter, opts.optimize === false ? 0 : 1, netmask) as number;
  if (rc !== 0) return { ok: false, error: String(b.geterr(p)) };
  try {
    return { ok: true, insns: readInsns(prog.bf_insns, prog.bf_len ?? 0) };
  } finally {
    b.freecode(prog);
  }
}

/**
 * Copies `n` instructions out of libpcap's memory (before pcap_freecode releases it). Reading the
 * bytes through one DataView is several times cheaper than koffi.decode building structs.
 */
function readInsns(ptr: unknown, n: number): CbpfInsn[] {
  if (n === 0) return [];
  const view = new DataView(koffi.view(ptr, n * INSN_SIZE));
  const le = HOST_LITTLE_ENDIAN;
  const insns = new Array<CbpfInsn>(n);
  for (let i = 0; i < n; i++) {
    const o = i * INSN_SIZE;
    insns[i] = { code: view.getUint16(o, le), jt: view.getUint8(o + 2), jf: view.getUint8(o + 3), k: view.getUint32(o + 4, le) };
  }
  return insns;
}

/** `pcap_datalink_name_to_val`: case-insensitive name without the `DLT_` prefix, e.g. "EN10MB". */
export function dltFromName(name: string): number | undefined {
  if (typeof name !== "string" || name.includes("\0")) return undefined;
  const v = bindings().nameToVal(name) as number;
  return v < 0 ? undefined : v;
}

/** `pcap_datalink_val_to_name`, e.g. 1 -> "EN10MB"; undefined when libpcap has no name for it. */
export function dltName(dlt: number): string | undefined {
  if (!Number.isInteger(dlt) || dlt < -0x80000000 || dlt > 0x7fffffff) return undefined;
  const s = bindings().valToName(dlt) as string | null;
  return s ?? undefined;
}

/** `pcap_datalink_val_to_description`, e.g. 1 -> "Ethernet". */
export function dltDescription(dlt: number): string | undefined {
  if (!Number.isInteger(dlt) || dlt < -0x80000000 || dlt > 0x7fffffff) return undefined;
  const s = bindings().valToDescription(dlt) as string | null;
  return s ?? undefined;
}

/**
 * A link type from the CLI/UI: a libpcap name ("EN10MB", "dlt_raw", case-insensitive) or a number
 * (as number or decimal string) that libpcap has a name for.
 */
export function resolveDlt(nameOrNumber: string | number): number {
  if (typeof nameOrNumber === "number") {
    if (dltName(nameOrNumber) === undefined) {
      throw new PlaygroundError("libpcap/dlt", `unknown data link type ${nameOrNumber}`);
    }
    return nameOrNumber;
  }
  const text = String(nameOrNumber).trim();
  if (/^\d+$/.test(text)) return resolveDlt(Number(text));
  const bare = text.replace(/^dlt_/i, "");
  const v = bare === "" ? undefined : dltFromName(bare);
  if (v === undefined) throw new PlaygroundError("libpcap/dlt", `invalid data link type ${text}`);
  return v;
}

/** The program as libpcap's C functions want it: `struct bpf_insn[]` in host byte order. */
function encodeProgram(insns: readonly CbpfInsn[]): Uint8Array {
  const bytes = new Uint8Array(Math.max(insns.length, 1) * INSN_SIZE);
  const view = new DataView(bytes.buffer);
  const le = HOST_LITTLE_ENDIAN;
  insns.forEach((insn, i) => {
    const o = i * INSN_SIZE;
    view.setUint16(o, insn.code, le);
    view.setUint8(o + 2, insn.jt);
    view.setUint8(o + 3, insn.jf);
    view.setUint32(o + 4, insn.k >>> 0, le);
  });
  return bytes;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkProgram(insns: readonly CbpfInsn[]): void {
  insns.forEach((insn, i) => {
    const bad =
      !Number.isInteger(insn.code) || insn.code < 0 || insn.code > 0xffff ||
      !Number.isInteger(insn.jt) || insn.jt < 0 || insn.jt > 0xff ||
      !Number.isInteger(insn.jf) || insn.jf < 0 || insn.jf > 0xff ||
      !Number.isInteger(insn.k) || insn.k < -0x80000000 || insn.k > 0xffffffff;
    if (bad) throw new PlaygroundError("libpcap/insn", `instruction ${i} has a field out of range`, { kind: "insn", index: i });
  });
}

/**
 * Builds a matcher around libpcap's userland interpreter `bpf_filter`, with the program marshalled
 * once, so per-packet cost is one FFI call. `bpf_filter` trusts its program: an invalid one (bad
 * opcode, jump past the end) can read out of bounds, so programs that fail `bpf_validate` are refused.
 */
export function makeBpfFilter(insns: readonly CbpfInsn[]): (packet: Uint8Array, wireLen: number) => number {
  checkProgram(insns);
  if (insns.length === 0 || !bpfValidate(insns)) {
    throw new PlaygroundError("libpcap/invalid-program", "program rejected by libpcap's bpf_validate");
  }
  const b = bindings();
  const prog = encodeProgram(insns);
  const run = b.filter;
  return (packet, wireLen) => run(prog, packet, wireLen >>> 0, packet.length) as number;
}

/** One packet through libpcap's `bpf_filter`; returns the accept length (0 = no match). */
export function bpfFilter(insns: readonly CbpfInsn[], packet: Uint8Array, wireLen: number): number {
  return makeBpfFilter(insns)(packet, wireLen);
}

/** libpcap's own `-d` line for every instruction (`bpf_image`); for tests. */
export function bpfImage(insns: readonly CbpfInsn[]): string[] {
  checkProgram(insns);
  const b = bindings();
  const prog = encodeProgram(insns);
  return insns.map((_, i) => String(b.image(prog.subarray(i * INSN_SIZE, (i + 1) * INSN_SIZE), i)));
}

/** libpcap's `bpf_validate`: opcodes known, jumps in range, constant division by zero refused. */
export function bpfValidate(insns: readonly CbpfInsn[]): boolean {
  checkProgram(insns);
  return (bindings().validate(encodeProgram(insns), insns.length) as number) !== 0;
}
