/**
 * .BTF.ext: per-instruction debug and relocation records (include/uapi/linux/btf.h has none of
 * it; the format is libbpf's `struct btf_ext_header`, tools/lib/bpf/libbpf_internal.h):
 *
 *   header: magic 0xeb9f (u16), version (u8), flags (u8), hdr_len (u32), then
 *           func_info_off/len, line_info_off/len and, when hdr_len >= 32, core_relo_off/len
 *           (u32 each; offsets count from the end of the header)
 *   each info block: rec_size (u32), then per ELF section:
 *           sec_name_off (u32, into .BTF's strings), num_info (u32), num_info records of rec_size
 *
 * Records name instructions by byte offset in their section (insn_off); libbpf divides by 8 when
 * it loads. Records longer than this reader knows keep their extra bytes, so they write back.
 */
import type { Btf } from "../btf";
import { ByteReader } from "../bytes/reader";
import { PlaygroundError } from "../errors";

export interface FuncInfo {
  readonly insnOff: number;
  readonly typeId: number;
}

export interface LineInfo {
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly line: number;
  /** 10 bits in the record (line_col & 0x3ff). */
  readonly column: number;
}

/** A CO-RE relocation (`struct bpf_core_relo`). */
export interface CoreRelo {
  readonly insnOff: number;
  readonly typeId: number;
  readonly accessStrOff: number;
  readonly kind: number;
}

export interface ExtRecord<R> {
  readonly record: R;
  /** Bytes past the known fields, when rec_size is larger than the known record. */
  readonly extra?: Uint8Array;
}

export interface ExtSectionBlock<R> {
  readonly secNameOff: number;
  readonly records: readonly ExtRecord<R>[];
}

export interface ExtInfo<R> {
  readonly recordSize: number;
  readonly sections: readonly ExtSectionBlock<R>[];
}

export interface BtfExt {
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly funcInfo: ExtInfo<FuncInfo>;
  readonly lineInfo: ExtInfo<LineInfo>;
  /** Absent when the header is the short (24-byte) one. */
  readonly coreRelo?: ExtInfo<CoreRelo>;
}

const CODE = "elf/btf-ext";
const MAGIC = 0xeb9f;
const SIZES = { func: 8, line: 16, core: 16 } as const;

type Decoder<R> = (r: ByteReader, at: number) => R;

const decodeFunc: Decoder<FuncInfo> = (r, at) => ({ insnOff: r.u32(at), typeId: r.u32(at + 4) });
const decodeLine: Decoder<LineInfo> = (r, at) => {
  const col = r.u32(at + 12);
  return { insnOff: r.u32(at), fileNameOff: r.u32(at + 4), lineOff: r.u32(at + 8), line: col >>> 10, column: col & 0x3ff };
};
const decodeCore: Decoder<CoreRelo> = (r, at) => ({ insnOff: r.u32(at), typeId: r.u32(at + 4), accessStrOff: r.u32(at + 8), kind: r.u32(at + 12) });

function readInfo<R>(r: ByteReader, start: number, len: number, min: number, what: string, decode: Decoder<R>): ExtInfo<R> {
  if (len === 0) return { recordSize: min, sections: [] };
  const w = r.sub(start, len, `.BTF.ext ${what}`);
  const recordSize = w.u32(start, "rec_size");
  if (recordSize < min || recordSize % 4 !== 0 || recordSize > 1024) throw w.error(`rec_size ${recordSize} is not a multiple of 4 in ${min}..1024`, start);
  const sections: ExtSectionBlock<R>[] = [];
  for (let at = start + 4; at < w.end; ) {
    const secNameOff = w.u32(at, "sec_name_off");
    const n = w.u32(at + 4, "num_info");
    at += 8;
    if (n === 0) throw w.error("a section block with no records", at - 4);
    w.need(at, n * recordSize, `${n} records of ${recordSize} bytes`);
    const records: ExtRecord<R>[] = [];
    for (let i = 0; i < n; i++, at += recordSize) {
      const record = decode(w, at);
      records.push(recordSize > min ? { record, extra: w.slice(at + min, recordSize - min) } : { record });
    }
    sections.push({ secNameOff, records });
  }
  return { recordSize, sections };
}

/** Reads .BTF.ext from bytes[start, end); positions in errors are offsets into `bytes`. */
export function readBtfExt(bytes: Uint8Array, start = 0, end = bytes.length): BtfExt {
  const r = new ByteReader(bytes, start, end, CODE, ".BTF.ext");
  const magic = r.u16(start, "magic");
  if (magic !== MAGIC) throw r.error(`bad magic 0x${magic.toString(16)} (want 0xeb9f)`, start);
  const version = r.u8(start + 2, "version");
  if (version !== 1) throw r.error(`version ${version} is not 1`, start + 2);
  const hdrLen = r.u32(start + 4, "hdr_len");
  if (hdrLen < 24 || hdrLen > r.length) throw r.error(`hdr_len ${hdrLen} is outside 24..${r.length}`, start + 4);
  const body = start + hdrLen;
  const block = <R>(offField: number, min: number, what: string, decode: Decoder<R>): ExtInfo<R> =>
    readInfo(r, body + r.u32(start + offField), r.u32(start + offField + 4), min, what, decode);
  return {
    version,
    flags: r.u8(start + 3, "flags"),
    hdrLen,
    funcInfo: block(8, SIZES.func, "func_info", decodeFunc),
    lineInfo: block(16, SIZES.line, "line_info", decodeLine),
    ...(hdrLen >= 32 ? { coreRelo: block(24, SIZES.core, "core_relo", decodeCore) } : {}),
  };
}

function infoLength<R>(info: ExtInfo<R>): number {
  if (info.sections.length === 0) return 0;
  return 4 + info.sections.reduce((n, s) => n + 8 + s.records.length * info.recordSize, 0);
}

function writeInfo<R>(v: DataView, out: Uint8Array, at: number, info: ExtInfo<R>, write: (at: number, r: R) => void, min: number): void {
  if (info.sections.length === 0) return;
  v.setUint32(at, info.recordSize, true);
  at += 4;
  for (const s of info.sections) {
    v.setUint32(at, s.secNameOff, true);
    v.setUint32(at + 4, s.records.length, true);
    at += 8;
    for (const rec of s.records) {
      write(at, rec.record);
      if (info.recordSize > min) {
        if (!rec.extra || rec.extra.length !== info.recordSize - min) throw new PlaygroundError("elf/write", `.BTF.ext record at ${at} needs ${info.recordSize - min} extra bytes`);
        out.set(rec.extra, at + min);
      }
      at += info.recordSize;
    }
  }
}

/** The bytes of a .BTF.ext: header, then func_info, line_info and core_relo blocks in that order. */
export function encodeBtfExt(ext: BtfExt): Uint8Array {
  const fl = infoLength(ext.funcInfo);
  const ll = infoLength(ext.lineInfo);
  const cl = ext.coreRelo ? infoLength(ext.coreRelo) : 0;
  const hdrLen = ext.hdrLen;
  if (hdrLen < (ext.coreRelo ? 32 : 24)) throw new PlaygroundError("elf/write", `.BTF.ext hdr_len ${hdrLen} is too short for its blocks`);
  const out = new Uint8Array(hdrLen + fl + ll + cl);
  const v = new DataView(out.buffer);
  v.setUint16(0, MAGIC, true);
  out[2] = ext.version;
  out[3] = ext.flags;
  v.setUint32(4, hdrLen, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, fl, true);
  v.setUint32(16, fl, true);
  v.setUint32(20, ll, true);
  if (hdrLen >= 32) {
    v.setUint32(24, fl + ll, true);
    v.setUint32(28, cl, true);
  }
  writeInfo(v, out, hdrLen, ext.funcInfo, (at, f) => {
    v.setUint32(at, f.insnOff, true);
    v.setUint32(at + 4, f.typeId, true);
  }, SIZES.func);
  writeInfo(v, out, hdrLen + fl, ext.lineInfo, (at, l) => {
    if (l.column > 0x3ff || l.line > 0x3fffff) throw new PlaygroundError("elf/write", `line_info ${l.line}:${l.column} does not fit line_col`);
    v.setUint32(at, l.insnOff, true);
    v.setUint32(at + 4, l.fileNameOff, true);
    v.setUint32(at + 8, l.lineOff, true);
    v.setUint32(at + 12, ((l.line << 10) | l.column) >>> 0, true);
  }, SIZES.line);
  if (ext.coreRelo) {
    writeInfo(v, out, hdrLen + fl + ll, ext.coreRelo, (at, c) => {
      v.setUint32(at, c.insnOff, true);
      v.setUint32(at + 4, c.typeId, true);
      v.setUint32(at + 8, c.accessStrOff, true);
      v.setUint32(at + 12, c.kind, true);
    }, SIZES.core);
  }
  return out;
}

/** The ELF section name a block belongs to, from .BTF's strings. */
export const extSectionName = (btf: Btf, block: { secNameOff: number }): string => btf.string(block.secNameOff);
