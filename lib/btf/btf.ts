/**
 * A reader of BTF blobs: the .BTF section of an object file, or the kernel's own
 * /sys/kernel/btf/vmlinux (the server reads that file and hands the bytes here).
 *
 * Format (Documentation/bpf/btf.rst): a header; a type section of variable-length records,
 * numbered from 1 in order; a string section. The constructor walks the type section once,
 * checking that every record and its kind-specific tail lie inside it, and remembers where each
 * record starts; `type(id)` decodes one record on demand, so a 5 MiB vmlinux costs one pass and
 * an index. Hostile input is a PlaygroundError with the byte offset of the bad field.
 */
import { ByteReader } from "../bytes/reader";
import { PlaygroundError } from "../errors";
import { BTF_KINDS, type BtfKindName, type BtfType, type BtfTypeOf, type FuncLinkage, type TypeId, type VarLinkage } from "./types";

export const BTF_MAGIC = 0xeb9f;
const HEADER_MIN = 24;
const CODE = "btf/invalid";

const K = Object.fromEntries(BTF_KINDS.map((k, i) => [k, i])) as Record<(typeof BTF_KINDS)[number], number>;

/** Bytes of kind-specific data after the 12-byte common record. */
function tailLength(kind: number, vlen: number): number {
  switch (kind) {
    case K.INT:
    case K.VAR:
    case K.DECL_TAG:
      return 4;
    case K.ARRAY:
      return 12;
    case K.STRUCT:
    case K.UNION:
    case K.DATASEC:
    case K.ENUM64:
      return 12 * vlen;
    case K.ENUM:
    case K.FUNC_PROTO:
      return 8 * vlen;
    default:
      return 0;
  }
}

export interface FieldLocation {
  /** Byte offset from the start of the struct. */
  offset: number;
  /** Size in bytes of the field's type (8 for pointers); 0 if unknown. */
  size: number;
  /** Set for bitfields: their width in bits (offset is then rounded down to a byte). */
  bitSize?: number;
  bitOffset: number;
}

export interface BtfFuncParam {
  name: string;
  /** The struct or union a pointer parameter points to ("sk_buff"), or null for anything else. */
  pointsTo: string | null;
}

export interface BtfFunc {
  /** The FUNC's type id in this BTF. */
  id: number;
  params: BtfFuncParam[];
}

const FUNC_LINKAGE: readonly FuncLinkage[] = ["static", "global", "extern"];
const VAR_LINKAGE: readonly VarLinkage[] = ["static", "global", "extern"];

export class Btf {
  /** The header fields as read (section offsets are relative to the end of the header). */
  readonly header: { readonly version: number; readonly flags: number; readonly hdrLen: number; readonly typeOff: number; readonly typeLen: number; readonly strOff: number; readonly strLen: number };
  readonly #r: ByteReader;
  readonly #strings: ByteReader;
  /** Absolute byte offset of each record; index 0 (void) is unused. */
  readonly #at: number[] = [0];
  readonly #kind: number[] = [0];
  readonly #cache = new Map<TypeId, BtfType>();
  readonly #byName = new Map<string, number[]>();
  readonly #funcs = new Map<string, number>();

  /**
   * Reads the BTF blob at bytes[start, end): the whole array for vmlinux, a section's range for an
   * object file. Error positions are offsets into `bytes`.
   */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    const r = new ByteReader(bytes, start, end, CODE, "BTF");
    this.#r = r;
    const magic = r.u16(start, "magic");
    if (magic !== BTF_MAGIC) {
      throw r.error(magic === 0x9feb ? "big-endian BTF is not supported" : `bad magic 0x${magic.toString(16)} (want 0xeb9f)`, start);
    }
    const version = r.u8(start + 2, "version");
    if (version !== 1) throw r.error(`version ${version} is not 1`, start + 2);
    const hdrLen = r.u32(start + 4, "hdr_len");
    if (hdrLen < HEADER_MIN || hdrLen > r.length) throw r.error(`hdr_len ${hdrLen} is outside ${HEADER_MIN}..${r.length}`, start + 4);
    this.header = {
      version,
      flags: r.u8(start + 3, "flags"),
      hdrLen,
      typeOff: r.u32(start + 8, "type_off"),
      typeLen: r.u32(start + 12, "type_len"),
      strOff: r.u32(start + 16, "str_off"),
      strLen: r.u32(start + 20, "str_len"),
    };
    const h = this.header;
    const types = r.sub(start + hdrLen + h.typeOff, h.typeLen, "BTF type section");
    this.#strings = r.sub(start + hdrLen + h.strOff, h.strLen, "BTF string section");
    if (h.strLen > 0 && this.#strings.u8(this.#strings.start) !== 0) throw this.#strings.error("does not start with an empty string", this.#strings.start);

    for (let at = types.start; at < types.end; ) {
      const nameOff = types.u32(at, "type record");
      const info = types.u32(at + 4, "type record");
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      if (kind === 0 || kind >= BTF_KINDS.length) throw types.error(`type [${this.#at.length}] has unknown kind ${kind}`, at + 4);
      const tail = tailLength(kind, vlen);
      types.need(at + 12, tail, `type [${this.#at.length}] ${BTF_KINDS[kind]} with ${vlen} entries`);
      const id = this.#at.length;
      this.#at.push(at);
      this.#kind.push(kind);
      if (nameOff !== 0 && (kind === K.STRUCT || kind === K.UNION || kind === K.FUNC)) {
        const name = this.#str(nameOff, at);
        if (kind === K.FUNC) {
          if (!this.#funcs.has(name)) this.#funcs.set(name, id);
        } else {
          const list = this.#byName.get(name);
          if (list) list.push(id);
          else this.#byName.set(name, [id]);
        }
      }
      at += 12 + tail;
    }
  }

  /** Number of types, not counting void: valid ids are 1..count. */
  get count(): number {
    return this.#at.length - 1;
  }

  /** A string of the string section; `field` is the offset of the field that named it, for errors. */
  #str(off: number, field: number): string {
    if (off >= this.#strings.length) throw this.#strings.error(`name offset ${off} is past the string section (${this.#strings.length} bytes)`, field);
    return this.#strings.cstring(this.#strings.start + off);
  }

  /** A string by its offset in the string section (line_info file names and lines, CO-RE access strings). */
  string(off: number): string {
    return this.#str(off, this.#strings.start);
  }

  #ref(id: number, field: number): TypeId {
    if (id > this.count) throw this.#r.error(`type id ${id} does not exist (there are ${this.count})`, field);
    return id;
  }

  /** The type with this id (1..count). */
  type(id: TypeId): BtfType {
    const hit = this.#cache.get(id);
    if (hit) return hit;
    if (!Number.isInteger(id) || id < 1 || id > this.count) throw new PlaygroundError(CODE, `BTF: no type [${id}] (there are ${this.count})`);
    const t = this.#decode(id);
    this.#cache.set(id, t);
    return t;
  }

  /** The type with this id, which must be of kind `kind`; null otherwise (id 0 included). */
  typeOf<Kd extends BtfKindName>(id: TypeId, kind: Kd): BtfTypeOf<Kd> | null {
    if (!Number.isInteger(id) || id < 1 || id > this.count || BTF_KINDS[this.#kind[id]!] !== kind) return null;
    return this.type(id) as BtfTypeOf<Kd>;
  }

  *types(): IterableIterator<BtfType> {
    for (let id = 1; id <= this.count; id++) yield this.type(id);
  }

  #decode(id: TypeId): BtfType {
    const r = this.#r;
    const at = this.#at[id]!;
    const kind = this.#kind[id]!;
    const info = r.u32(at + 4);
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const nameOff = r.u32(at);
    const name = nameOff === 0 ? "" : this.#str(nameOff, at);
    const sizeOrType = r.u32(at + 8);
    const x = at + 12;
    const base = { id, name };
    switch (kind) {
      case K.INT: {
        const e = r.u32(x);
        return { ...base, kind: "INT", size: sizeOrType, encoding: (e >>> 24) & 0x0f, bitOffset: (e >>> 16) & 0xff, bits: e & 0xff };
      }
      case K.PTR:
      case K.TYPEDEF:
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT:
      case K.TYPE_TAG:
        return { ...base, kind: BTF_KINDS[kind] as "PTR", type: this.#ref(sizeOrType, at + 8) };
      case K.ARRAY:
        return { ...base, kind: "ARRAY", elem: this.#ref(r.u32(x), x), index: this.#ref(r.u32(x + 4), x + 4), nelems: r.u32(x + 8) };
      case K.STRUCT:
      case K.UNION: {
        const members = [];
        for (let i = 0, m = x; i < vlen; i++, m += 12) {
          const off = r.u32(m + 8);
          const mn = r.u32(m);
          members.push({
            name: mn === 0 ? "" : this.#str(mn, m),
            type: this.#ref(r.u32(m + 4), m + 4),
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitSize: kindFlag ? off >>> 24 : 0,
          });
        }
        return { ...base, kind: kind === K.STRUCT ? "STRUCT" : "UNION", size: sizeOrType, members };
      }
      case K.ENUM:
      case K.ENUM64: {
        const values = [];
        const step = kind === K.ENUM ? 8 : 12;
        for (let i = 0, m = x; i < vlen; i++, m += step) {
          const vn = r.u32(m);
          const value = kind === K.ENUM
            ? kindFlag ? BigInt(r.i32(m + 4)) : BigInt(r.u32(m + 4))
            : (BigInt(r.u32(m + 8)) << 32n) | BigInt(r.u32(m + 4));
          values.push({ name: vn === 0 ? "" : this.#str(vn, m), value: kind === K.ENUM64 && kindFlag ? BigInt.asIntN(64, value) : value });
        }
        return { ...base, kind: kind === K.ENUM ? "ENUM" : "ENUM64", size: sizeOrType, signed: kindFlag, values };
      }
      case K.FWD:
        return { ...base, kind: "FWD", union: kindFlag };
      case K.FUNC: {
        const linkage = FUNC_LINKAGE[vlen];
        if (!linkage) throw r.error(`FUNC [${id}] has unknown linkage ${vlen}`, at + 4);
        return { ...base, kind: "FUNC", type: this.#ref(sizeOrType, at + 8), linkage };
      }
      case K.FUNC_PROTO: {
        const params = [];
        for (let i = 0, m = x; i < vlen; i++, m += 8) {
          const pn = r.u32(m);
          params.push({ name: pn === 0 ? "" : this.#str(pn, m), type: this.#ref(r.u32(m + 4), m + 4) });
        }
        return { ...base, kind: "FUNC_PROTO", returns: this.#ref(sizeOrType, at + 8), params };
      }
      case K.VAR: {
        const linkage = VAR_LINKAGE[r.u32(x)];
        if (!linkage) throw r.error(`VAR [${id}] has unknown linkage ${r.u32(x)}`, x);
        return { ...base, kind: "VAR", type: this.#ref(sizeOrType, at + 8), linkage };
      }
      case K.DATASEC: {
        const vars = [];
        for (let i = 0, m = x; i < vlen; i++, m += 12) vars.push({ type: this.#ref(r.u32(m), m), offset: r.u32(m + 4), size: r.u32(m + 8) });
        return { ...base, kind: "DATASEC", size: sizeOrType, vars };
      }
      case K.FLOAT:
        return { ...base, kind: "FLOAT", size: sizeOrType };
      case K.DECL_TAG:
        return { ...base, kind: "DECL_TAG", type: this.#ref(sizeOrType, at + 8), componentIdx: r.i32(x) };
      default:
        throw r.error(`type [${id}] has unknown kind ${kind}`, at + 4);
    }
  }

  /** Follows typedefs and modifiers (const, volatile, restrict, type tags) to the type they name. */
  resolve(id: TypeId): TypeId {
    for (let hops = 0; hops < 64; hops++) {
      if (id < 1 || id > this.count) return 0;
      const t = this.type(id);
      if (t.kind === "TYPEDEF" || t.kind === "CONST" || t.kind === "VOLATILE" || t.kind === "RESTRICT" || t.kind === "TYPE_TAG") id = t.type;
      else return id;
    }
    throw new PlaygroundError(CODE, `BTF: type [${id}] is a chain of more than 64 typedefs or modifiers (a cycle?)`);
  }

  /** Size in bytes of a type, following typedefs and modifiers; 0 for void, functions and unsized kinds. */
  sizeOf(id: TypeId, depth = 0): number {
    const t = id >= 1 && id <= this.count ? this.type(this.resolve(id)) : null;
    if (!t || depth > 64) return 0;
    switch (t.kind) {
      case "INT":
      case "STRUCT":
      case "UNION":
      case "ENUM":
      case "ENUM64":
      case "FLOAT":
      case "DATASEC":
        return t.size;
      case "PTR":
        return 8;
      case "ARRAY":
        return this.sizeOf(t.elem, depth + 1) * t.nelems;
      default:
        return 0;
    }
  }

  /** Every type with this name and kind (names are not unique in BTF). */
  named<Kd extends BtfKindName>(name: string, kind: Kd): BtfTypeOf<Kd>[] {
    const out: BtfTypeOf<Kd>[] = [];
    if (kind === "STRUCT" || kind === "UNION") {
      for (const id of this.#byName.get(name) ?? []) if (BTF_KINDS[this.#kind[id]!] === kind) out.push(this.type(id) as BtfTypeOf<Kd>);
      return out;
    }
    if (kind === "FUNC") {
      const id = this.#funcs.get(name);
      return id === undefined ? out : [this.type(id) as BtfTypeOf<Kd>];
    }
    for (const t of this.types()) if (t.kind === kind && t.name === name) out.push(t as BtfTypeOf<Kd>);
    return out;
  }

  /**
   * A function (BTF_KIND_FUNC) by name: its type id (what an fentry program's attach_btf_id names)
   * and, per parameter, the struct its type points to. Null when BTF has no such function.
   */
  func(name: string): BtfFunc | null {
    const id = this.#funcs.get(name);
    if (id === undefined) return null;
    const proto = this.typeOf((this.type(id) as BtfTypeOf<"FUNC">).type, "FUNC_PROTO");
    if (!proto) return null;
    return { id, params: proto.params.map((p) => ({ name: p.name, pointsTo: this.#pointee(p.type) })) };
  }

  /** The struct/union name a pointer type points to, or null if `id` is not a pointer to one. */
  #pointee(id: TypeId): string | null {
    const ptr = this.typeOf(this.resolve(id), "PTR");
    if (!ptr) return null;
    const target = ptr.type ? this.type(this.resolve(ptr.type)) : null;
    return target && (target.kind === "STRUCT" || target.kind === "UNION" || target.kind === "FWD") ? target.name : null;
  }

  /** Size in bytes of a named struct or union (its first complete definition), or null. */
  structSize(name: string): number | null {
    for (const t of [...this.named(name, "STRUCT"), ...this.named(name, "UNION")]) if (t.members.length > 0) return t.size;
    return null;
  }

  /** A field of a named struct or union, looking through anonymous members; null if absent. */
  field(structName: string, fieldName: string): FieldLocation | null {
    for (const t of [...this.named(structName, "STRUCT"), ...this.named(structName, "UNION")]) {
      if (t.members.length === 0) continue; // a forward-declared or empty copy
      const f = this.#findIn(t.id, fieldName, 0, 0);
      if (f) return f;
    }
    return null;
  }

  #findIn(id: TypeId, fieldName: string, baseBits: number, depth: number): FieldLocation | null {
    const t = id >= 1 && id <= this.count ? this.type(id) : null;
    if (!t || depth > 8 || (t.kind !== "STRUCT" && t.kind !== "UNION")) return null;
    for (const m of t.members) {
      const bitOffset = baseBits + m.bitOffset;
      if (m.name === fieldName) {
        return { offset: Math.floor(bitOffset / 8), size: this.sizeOf(m.type), bitOffset, ...(m.bitSize ? { bitSize: m.bitSize } : {}) };
      }
      if (m.name === "") {
        const inner = this.#findIn(this.resolve(m.type), fieldName, bitOffset, depth + 1);
        if (inner) return inner;
      }
    }
    return null;
  }
}
