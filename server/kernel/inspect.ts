/**
 * What the kernel made of a loaded program: bpf_prog_info basics, the translated ("xlated")
 * instructions after the verifier's rewrites, and the JIT image with its x86-64 disassembly.
 *
 * bpf_prog_info is read twice: first to learn the lengths, then with buffers of those sizes. The
 * xlated dump and the JIT image need root (bpf_dump_raw_ok); without it the lengths read as 0.
 *
 * The xlated instructions are returned raw and as kernel-style text from lib/ebpf's
 * disassembler, the same one the UI and the CLI use. In xlated code a helper call's imm is the
 * helper's address minus __bpf_call_base rather than its id; the name is then looked up in
 * /proc/kallsyms, as bpftool does, so the text reads `call bpf_ringbuf_output#381376`.
 */
import { readFileSync } from "node:fs";
import * as iced from "iced-x86";
import { objGetInfo, PROG_INFO, BPF_OBJ_NAME_LEN, BPF_TAG_SIZE } from "../native/bpf";
import { NativeMem } from "../native/libc";
import { rawFromBytes, decodeRaw } from "../../lib/ebpf/codec";
import { formatProgram } from "../../lib/ebpf/disasm";
import type { RawInsn } from "../../lib/ebpf/insn";
import { BPF_PSEUDO_CALL, OP_CALL } from "../../lib/ebpf/opcodes";
import { kindOfProgType, type ProgKind } from "./prog-types";

export interface ProgInfo {
  id: number;
  progType: number;
  kind: ProgKind | null;
  name: string;
  /** The program's tag: a hash of its instructions, hex (as bpftool prints it). */
  tag: string;
  /** Accounted only while run-time stats are on (BPF_ENABLE_STATS / kernel.bpf_stats_enabled). */
  runTimeNs: bigint;
  runCnt: bigint;
  verifiedInsns: number;
  xlatedLen: number;
  jitedLen: number;
  nrJitedKsyms: number;
  mapIds: number[];
  loadTimeNs: bigint;
  createdByUid: number;
}

export interface JitLine {
  /** Absolute kernel address of the instruction. */
  address: bigint;
  /** Offset from the start of its function's image. */
  offset: number;
  bytes: Uint8Array;
  /** Intel syntax, as iced-x86 formats it. */
  text: string;
}

export interface JitFunction {
  address: bigint;
  bytes: Uint8Array;
  lines: JitLine[];
}

export interface ProgDump {
  info: ProgInfo;
  xlated: RawInsn[];
  /** `N: (op) text` per instruction (an ld_imm64 is one line spanning two slots), as in the verifier log. */
  xlatedText: string[];
  jit: JitFunction[];
  counts: { xlatedInsns: number; jitBytes: number; jitInsns: number };
}

function readInfo(fd: number, mem: NativeMem): ProgInfo {
  objGetInfo(fd, mem, "BPF_OBJ_GET_INFO_BY_FD(prog)");
  const v = mem.view;
  const nameBytes = mem.bytes.subarray(PROG_INFO.name, PROG_INFO.name + BPF_OBJ_NAME_LEN);
  const nul = nameBytes.indexOf(0);
  const tag = Array.from(mem.bytes.subarray(PROG_INFO.tag, PROG_INFO.tag + BPF_TAG_SIZE), (b) => b.toString(16).padStart(2, "0")).join("");
  const progType = v.getUint32(PROG_INFO.type, true);
  return {
    id: v.getUint32(PROG_INFO.id, true),
    progType,
    kind: kindOfProgType(progType),
    name: new TextDecoder().decode(nameBytes.subarray(0, nul < 0 ? BPF_OBJ_NAME_LEN : nul)),
    tag,
    runTimeNs: v.getBigUint64(PROG_INFO.runTimeNs, true),
    runCnt: v.getBigUint64(PROG_INFO.runCnt, true),
    verifiedInsns: v.getUint32(PROG_INFO.verifiedInsns, true),
    xlatedLen: v.getUint32(PROG_INFO.xlatedProgLen, true),
    jitedLen: v.getUint32(PROG_INFO.jitedProgLen, true),
    nrJitedKsyms: v.getUint32(PROG_INFO.nrJitedKsyms, true),
    mapIds: [],
    loadTimeNs: v.getBigUint64(PROG_INFO.loadTime, true),
    createdByUid: v.getUint32(PROG_INFO.createdByUid, true),
  };
}

/** bpf_prog_info basics (id, tag, run-time counters, lengths). */
export function progInfo(fd: number): ProgInfo {
  const mem = new NativeMem(PROG_INFO.size);
  try {
    return readInfo(fd, mem);
  } finally {
    mem.free();
  }
}

/** The xlated instructions, the JIT image per function and its disassembly. */
export function dumpProgram(fd: number): ProgDump {
  const first = new NativeMem(PROG_INFO.size);
  let info: ProgInfo;
  let nrMapIds: number;
  let nrFuncLens: number;
  try {
    info = readInfo(fd, first);
    nrMapIds = first.view.getUint32(PROG_INFO.nrMapIds, true);
    nrFuncLens = first.view.getUint32(PROG_INFO.nrJitedFuncLens, true);
  } finally {
    first.free();
  }
  const xl = new NativeMem(info.xlatedLen);
  const jit = new NativeMem(info.jitedLen);
  const ksyms = new NativeMem(info.nrJitedKsyms * 8);
  const lens = new NativeMem(nrFuncLens * 4);
  const maps = new NativeMem(nrMapIds * 4);
  const second = new NativeMem(PROG_INFO.size);
  try {
    const v = second.view;
    v.setUint32(PROG_INFO.xlatedProgLen, info.xlatedLen, true);
    v.setBigUint64(PROG_INFO.xlatedProgInsns, xl.address, true);
    v.setUint32(PROG_INFO.jitedProgLen, info.jitedLen, true);
    v.setBigUint64(PROG_INFO.jitedProgInsns, jit.address, true);
    v.setUint32(PROG_INFO.nrJitedKsyms, info.nrJitedKsyms, true);
    v.setBigUint64(PROG_INFO.jitedKsyms, ksyms.address, true);
    v.setUint32(PROG_INFO.nrJitedFuncLens, nrFuncLens, true);
    v.setBigUint64(PROG_INFO.jitedFuncLens, lens.address, true);
    v.setUint32(PROG_INFO.nrMapIds, nrMapIds, true);
    v.setBigUint64(PROG_INFO.mapIds, maps.address, true);
    info = readInfo(fd, second);
    info.mapIds = Array.from({ length: nrMapIds }, (_, i) => maps.view.getUint32(i * 4, true));

    const xlated = rawFromBytes(xl.bytes.slice(0, info.xlatedLen));
    const image = jit.bytes.slice(0, info.jitedLen);
    const addrs = Array.from({ length: info.nrJitedKsyms }, (_, i) => ksyms.view.getBigUint64(i * 8, true));
    const funcLens = Array.from({ length: nrFuncLens }, (_, i) => lens.view.getUint32(i * 4, true));
    const functions = splitImage(image, addrs, funcLens);
    const jitInsns = functions.reduce((n, f) => n + f.lines.length, 0);
    return {
      info,
      xlated,
      xlatedText: nameHelperCalls(formatProgram(decodeRaw(asDumped(xlated))), xlated),
      jit: functions,
      counts: { xlatedInsns: xlated.length, jitBytes: image.length, jitInsns },
    };
  } finally {
    for (const m of [xl, jit, ksyms, lens, maps, second]) m.free();
  }
}

/**
 * A bpf-to-bpf call as the kernel dumps it: once the subprograms are JITed, `imm` holds the
 * callee's subprogram index and the pc-relative offset is in `off` (kernel/bpf/verifier.c,
 * jit_subprogs), which is what bpftool prints as `call pc+off`. The text is written from that
 * offset so a call reads as it was loaded; `xlated` itself stays as the kernel returned it.
 */
function asDumped(xlated: readonly RawInsn[]): RawInsn[] {
  return xlated.map((i) => (i.code === OP_CALL && i.src === BPF_PSEUDO_CALL ? { ...i, imm: i.off, off: 0 } : i));
}

let kallsyms: { base: bigint; byAddr: Map<bigint, string> } | null | undefined;

/** Kernel text symbols by address, and __bpf_call_base; null when /proc/kallsyms hides addresses. */
function kernelSymbols(): { base: bigint; byAddr: Map<bigint, string> } | null {
  if (kallsyms !== undefined) return kallsyms;
  kallsyms = null;
  try {
    const byAddr = new Map<bigint, string>();
    let base = 0n;
    for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
      const sp1 = line.indexOf(" ");
      const type = line[sp1 + 1];
      if (type !== "T" && type !== "t") continue;
      const name = line.slice(sp1 + 3).split(/[\t ]/)[0]!;
      const addr = BigInt(`0x${line.slice(0, sp1)}`);
      if (addr === 0n) return null; // kptr_restrict: addresses hidden
      if (name === "__bpf_call_base") base = addr;
      if (!byAddr.has(addr)) byAddr.set(addr, name);
    }
    if (base !== 0n) kallsyms = { base, byAddr };
  } catch {
    // No kallsyms: helper calls keep the disassembler's placeholder name.
  }
  return kallsyms;
}

/** Replaces the placeholder in `call unknown#N` lines of helper calls by the kernel symbol's name. */
function nameHelperCalls(lines: string[], raw: readonly RawInsn[]): string[] {
  if (!lines.some((l) => l.includes("call unknown#"))) return lines;
  const syms = kernelSymbols();
  if (!syms) return lines;
  return lines.map((line) => {
    const m = /^(\d+): \(85\) call unknown#(-?\d+)$/.exec(line);
    if (!m) return line;
    const insn = raw[Number(m[1])];
    if (!insn || insn.src !== 0) return line;
    const name = syms.byAddr.get(syms.base + BigInt(insn.imm));
    return name ? line.replace("call unknown#", `call ${name}#`) : line;
  });
}

/** The JIT image is the functions' images back to back; each starts at its ksym address. */
function splitImage(image: Uint8Array, addrs: bigint[], lens: number[]): JitFunction[] {
  if (image.length === 0) return [];
  if (lens.length === 0 || lens.reduce((a, b) => a + b, 0) !== image.length) {
    return [{ address: addrs[0] ?? 0n, bytes: image, lines: disassemble(image, addrs[0] ?? 0n) }];
  }
  const out: JitFunction[] = [];
  let at = 0;
  lens.forEach((len, i) => {
    const bytes = image.subarray(at, at + len);
    const address = addrs[i] ?? 0n;
    out.push({ address, bytes, lines: disassemble(bytes, address) });
    at += len;
  });
  return out;
}

/** x86-64 disassembly in Intel syntax, one line per instruction, addresses from `base`. */
export function disassemble(bytes: Uint8Array, base: bigint): JitLine[] {
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  const formatter = new iced.Formatter(iced.FormatterSyntax.Intel);
  const lines: JitLine[] = [];
  try {
    decoder.ip = base;
    while (decoder.canDecode) {
      const insn = decoder.decode();
      try {
        const offset = Number(insn.ip - base);
        lines.push({
          address: insn.ip,
          offset,
          bytes: bytes.slice(offset, offset + insn.length),
          text: insn.isInvalid ? "(bad)" : formatter.format(insn),
        });
      } finally {
        insn.free();
      }
    }
  } finally {
    formatter.free();
    decoder.free();
  }
  return lines;
}
