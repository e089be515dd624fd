/**
 * Hand-built pcapng blocks for tests: the writer only emits SHB, IDB and EPB, so the reader's other
 * paths (SPB, obsolete PB, unknown blocks, several sections, odd options) need bytes made by hand.
 * Pure and isomorphic, but only tests import it.
 */
export type Endian = "le" | "be";

export class Bytes {
  private parts: number[] = [];
  constructor(private readonly e: Endian) {}
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.e === "le" ? this.u8(v).u8(v >>> 8) : this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.e === "le" ? this.u16(v & 0xffff).u16(v >>> 16) : this.u16(v >>> 16).u16(v & 0xffff);
  }
  bytes(b: Uint8Array | number[]): this {
    for (const x of b) this.parts.push(x & 0xff);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function block(e: Endian, type: number, body: Uint8Array): Uint8Array {
  const padded = new Bytes(e).bytes(body).pad4().build();
  const len = 12 + padded.length;
  return new Bytes(e).u32(type).u32(len).bytes(padded).u32(len).build();
}

export function shb(e: Endian, major = 1): Uint8Array {
  return block(e, 0x0a0d0d0a, new Bytes(e).u32(0x1a2b3c4d).u16(major).u16(0).u32(0xffffffff).u32(0xffffffff).build());
}

export interface IdbOptions {
  name?: string;
  tsresol?: number;
  /** if_tsoffset in seconds (non-negative here, for simplicity). */
  tsoffset?: number;
  /** Extra unknown options to skip: [code, bytes]. */
  unknown?: [number, number[]][];
}

export function idb(e: Endian, linkType: number, snaplen: number, o: IdbOptions = {}): Uint8Array {
  const b = new Bytes(e).u16(linkType).u16(0).u32(snaplen);
  const opt = (code: number, value: number[]) => b.u16(code).u16(value.length).bytes(value).pad4();
  for (const [code, v] of o.unknown ?? []) opt(code, v);
  if (o.name !== undefined) opt(2, [...new TextEncoder().encode(o.name)]);
  if (o.tsresol !== undefined) opt(9, [o.tsresol]);
  if (o.tsoffset !== undefined) {
    const v = new Bytes(e);
    if (e === "le") v.u32(o.tsoffset).u32(0);
    else v.u32(0).u32(o.tsoffset);
    opt(14, [...v.build()]);
  }
  if (o.name !== undefined || o.tsresol !== undefined || o.tsoffset !== undefined || o.unknown) b.u32(0);
  return block(e, 1, b.build());
}

/** 64-bit unit count split into [hi, lo]. */
export function split64(v: bigint): [number, number] {
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}

export function epb(e: Endian, ifId: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
  const [hi, lo] = split64(ts);
  return block(e, 6, new Bytes(e).u32(ifId).u32(hi).u32(lo).u32(data.length).u32(origLen).bytes(data).pad4().build());
}

export function spb(e: Endian, origLen: number, data: Uint8Array): Uint8Array {
  return block(e, 3, new Bytes(e).u32(origLen).bytes(data).pad4().build());
}

export function pb(e: Endian, ifId: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
  const [hi, lo] = split64(ts);
  return block(e, 2, new Bytes(e).u16(ifId).u16(0).u32(hi).u32(lo).u32(data.length).u32(origLen).bytes(data).pad4().build());
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
