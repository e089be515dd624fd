/**
 * Just enough of the kernel's BTF (/sys/kernel/btf/vmlinux) to find where fields of kernel
 * structs sit, so programs that read a struct sk_buff through bpf_probe_read_kernel (the kprobe /
 * raw_tp targets) use this kernel's real offsets instead of guessed ones.
 *
 * Format (Documentation/bpf/btf.rst): a header, a type section of variable-length records
 * numbered from 1, and a string section. Only sizes and struct/union members are interpreted;
 * every other kind is skipped by its known length.
 */
import { readFileSync } from "node:fs";
import { PlaygroundError } from "../../lib/errors";

const BTF_MAGIC = 0xeb9f;

const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 } as const;

interface TypeRec {
  kind: number;
  name: string;
  /** size for INT/STRUCT/UNION/ENUM/FLOAT/DATASEC, referenced type id for PTR/TYPEDEF/modifiers. */
  sizeOrType: number;
  kindFlag: boolean;
  /** Byte offset of the kind-specific data. */
  extra: number;
  vlen: number;
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

export interface BtfParam {
  name: string;
  pointsTo: string | null;
}

export interface BtfFunc {
  /** The FUNC's type id in this BTF. */
  id: number;
  params: BtfParam[];
}

export class Btf {
  #bytes: Uint8Array;
  #v: DataView;
  #types: TypeRec[] = [undefined as unknown as TypeRec]; // ids start at 1
  #byName = new Map<string, number[]>();
  #funcs = new Map<string, number>();
  #strOff: number;
  #strLen: number;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 24 || this.#v.getUint16(0, true) !== BTF_MAGIC) throw new PlaygroundError("kernel/btf", "not a little-endian BTF blob");
    const hdrLen = this.#v.getUint32(4, true);
    const typeOff = hdrLen + this.#v.getUint32(8, true);
    const typeLen = this.#v.getUint32(12, true);
    this.#strOff = hdrLen + this.#v.getUint32(16, true);
    this.#strLen = this.#v.getUint32(20, true);
    let at = typeOff;
    const end = typeOff + typeLen;
    while (at < end) {
      const nameOff = this.#v.getUint32(at, true);
      const info = this.#v.getUint32(at + 4, true);
      const rec: TypeRec = {
        kind: (info >>> 24) & 0x1f,
        name: "",
        sizeOrType: this.#v.getUint32(at + 8, true),
        kindFlag: info >>> 31 === 1,
        extra: at + 12,
        vlen: info & 0xffff,
      };
      rec.name = nameOff ? this.#str(nameOff) : "";
      at = rec.extra + this.#extraLen(rec);
      const id = this.#types.length;
      this.#types.push(rec);
      if (rec.name && (rec.kind === KIND.STRUCT || rec.kind === KIND.UNION)) {
        const list = this.#byName.get(rec.name) ?? [];
        list.push(id);
        this.#byName.set(rec.name, list);
      }
      if (rec.name && rec.kind === KIND.FUNC && !this.#funcs.has(rec.name)) this.#funcs.set(rec.name, id);
    }
  }

  static vmlinux(path = "/sys/kernel/btf/vmlinux"): Btf {
    return new Btf(new Uint8Array(readFileSync(path)));
  }

  /**
   * A kernel function (BTF_KIND_FUNC) by name: its type id (what an fentry program's
   * attach_btf_id names) and, per parameter, the struct its type points to ("sk_buff" for a
   * `struct sk_buff *`), or null when the parameter is anything else (a `struct sk_buff **` too).
   * Null when BTF has no such function.
   */
  func(name: string): BtfFunc | null {
    const id = this.#funcs.get(name);
    if (id === undefined) return null;
    const proto = this.#types[this.#types[id]!.sizeOrType];
    if (!proto || proto.kind !== KIND.FUNC_PROTO) return null;
    const params: BtfParam[] = [];
    for (let i = 0; i < proto.vlen; i++) {
      const p = proto.extra + i * 8;
      params.push({ name: this.#str(this.#v.getUint32(p, true)), pointsTo: this.#pointee(this.#v.getUint32(p + 4, true)) });
    }
    return { id, params };
  }

  /** The struct/union name a pointer type points to, or null if `id` is not a pointer to one. */
  #pointee(id: number): string | null {
    const ptr = this.#types[this.#resolve(id)];
    if (!ptr || ptr.kind !== KIND.PTR) return null;
    const target = this.#types[this.#resolve(ptr.sizeOrType)];
    return target && (target.kind === KIND.STRUCT || target.kind === KIND.UNION || target.kind === KIND.FWD) ? target.name : null;
  }

  #str(off: number): string {
    if (off >= this.#strLen) return "";
    const start = this.#strOff + off;
    let end = start;
    while (end < this.#bytes.length && this.#bytes[end] !== 0) end++;
    return new TextDecoder().decode(this.#bytes.subarray(start, end));
  }

  #extraLen(t: TypeRec): number {
    switch (t.kind) {
      case KIND.INT:
      case KIND.VAR:
      case KIND.DECL_TAG:
        return 4;
      case KIND.ARRAY:
        return 12;
      case KIND.STRUCT:
      case KIND.UNION:
      case KIND.DATASEC:
      case KIND.ENUM64:
        return 12 * t.vlen;
      case KIND.ENUM:
      case KIND.FUNC_PROTO:
        return 8 * t.vlen;
      default:
        return 0;
    }
  }

  /** Size in bytes of a type, following typedefs and modifiers. */
  sizeOf(id: number): number {
    for (let hops = 0; hops < 32; hops++) {
      const t = this.#types[id];
      if (!t) return 0;
      switch (t.kind) {
        case KIND.INT:
        case KIND.STRUCT:
        case KIND.UNION:
        case KIND.ENUM:
        case KIND.ENUM64:
        case KIND.FLOAT:
          return t.sizeOrType;
        case KIND.PTR:
          return 8;
        case KIND.ARRAY: {
          const elem = this.#v.getUint32(t.extra, true);
          return this.sizeOf(elem) * this.#v.getUint32(t.extra + 8, true);
        }
        case KIND.TYPEDEF:
        case KIND.VOLATILE:
        case KIND.CONST:
        case KIND.RESTRICT:
        case KIND.TYPE_TAG:
          id = t.sizeOrType;
          continue;
        default:
          return 0;
      }
    }
    return 0;
  }

  /** Size in bytes of a named struct or union (its first complete definition), or null. */
  structSize(name: string): number | null {
    for (const id of this.#byName.get(name) ?? []) {
      const t = this.#types[id]!;
      if (t.vlen > 0) return t.sizeOrType;
    }
    return null;
  }

  /** A field of a named struct or union, looking through anonymous members; null if absent. */
  field(structName: string, fieldName: string): FieldLocation | null {
    for (const id of this.#byName.get(structName) ?? []) {
      const t = this.#types[id]!;
      if (t.vlen === 0) continue; // a forward-declared or empty copy
      const f = this.#findIn(id, fieldName, 0, 0);
      if (f) return f;
    }
    return null;
  }

  #findIn(id: number, fieldName: string, baseBits: number, depth: number): FieldLocation | null {
    const t = this.#types[id];
    if (!t || depth > 8 || (t.kind !== KIND.STRUCT && t.kind !== KIND.UNION)) return null;
    for (let i = 0; i < t.vlen; i++) {
      const m = t.extra + i * 12;
      const name = this.#str(this.#v.getUint32(m, true));
      const type = this.#v.getUint32(m + 4, true);
      const raw = this.#v.getUint32(m + 8, true);
      const bitOffset = baseBits + (t.kindFlag ? raw & 0xffffff : raw);
      const bitSize = t.kindFlag ? raw >>> 24 : 0;
      if (name === fieldName) {
        return { offset: Math.floor(bitOffset / 8), size: this.sizeOf(type), bitOffset, ...(bitSize ? { bitSize } : {}) };
      }
      if (name === "") {
        const inner = this.#findIn(this.#resolve(type), fieldName, bitOffset, depth + 1);
        if (inner) return inner;
      }
    }
    return null;
  }

  #resolve(id: number): number {
    for (let hops = 0; hops < 32; hops++) {
      const t = this.#types[id];
      if (!t) return 0;
      if (t.kind === KIND.TYPEDEF || t.kind === KIND.CONST || t.kind === KIND.VOLATILE || t.kind === KIND.RESTRICT || t.kind === KIND.TYPE_TAG) id = t.sizeOrType;
      else return id;
    }
    return 0;
  }
}

/** Where the fields a packet filter needs sit in this kernel's struct sk_buff. */
export interface SkbLayout {
  len: FieldLocation;
  dataLen: FieldLocation;
  data: FieldLocation;
  head: FieldLocation;
  macHeader: FieldLocation;
  networkHeader: FieldLocation;
  protocol: FieldLocation;
  dev: FieldLocation;
  /** struct net_device.ifindex */
  devIfindex: FieldLocation;
}

let cachedVmlinux: Btf | null | undefined;

/** The running kernel's BTF, parsed once per process; null when the kernel does not expose it. */
export function vmlinuxBtf(): Btf | null {
  if (cachedVmlinux !== undefined) return cachedVmlinux;
  try {
    cachedVmlinux = Btf.vmlinux();
  } catch {
    cachedVmlinux = null;
  }
  return cachedVmlinux;
}

let cachedSkb: SkbLayout | null | undefined;

/** The sk_buff layout from the running kernel's BTF, or null when BTF is not available. */
export function skbLayout(): SkbLayout | null {
  if (cachedSkb !== undefined) return cachedSkb;
  try {
    const btf = vmlinuxBtf();
    if (!btf) throw new PlaygroundError("kernel/btf", "no vmlinux BTF");
    const need = (s: string, f: string): FieldLocation => {
      const loc = btf.field(s, f);
      if (!loc) throw new PlaygroundError("kernel/btf", `struct ${s} has no field ${f}`);
      return loc;
    };
    cachedSkb = {
      len: need("sk_buff", "len"),
      dataLen: need("sk_buff", "data_len"),
      data: need("sk_buff", "data"),
      head: need("sk_buff", "head"),
      macHeader: need("sk_buff", "mac_header"),
      networkHeader: need("sk_buff", "network_header"),
      protocol: need("sk_buff", "protocol"),
      dev: need("sk_buff", "dev"),
      devIfindex: need("net_device", "ifindex"),
    };
  } catch {
    cachedSkb = null;
  }
  return cachedSkb;
}
