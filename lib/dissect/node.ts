/**
 * The field tree and the helper each protocol dissector writes into. A dissector reads through a
 * LayerBuilder, whose reads are bounds-checked: running past the captured bytes (or the length the
 * enclosing header claims) aborts that layer with a "truncated" error instead of reading garbage.
 */

export interface DissectNode {
  /** Short stable id, e.g. "ip.src", "tcp.flags.syn", "eth". */
  name: string;
  /** What a person reads, e.g. "Source: 192.0.2.1". */
  label: string;
  /** Byte range in the packet; end is exclusive. */
  start: number;
  end: number;
  value?: string | number;
  children: DissectNode[];
  /** Set when this part could not be fully decoded, e.g. "truncated: 20 bytes needed, 6 captured". */
  error?: string;
}

/** Thrown inside a dissector when a read would pass the layer's limit; caught by the layer runner. */
export class Truncated {
  constructor(readonly needed: number, readonly available: number, readonly limitedByHeader: boolean) {}
  message(): string {
    const what = this.limitedByHeader ? "inside the enclosing length" : "captured";
    return `truncated: ${this.needed} bytes needed, ${this.available} ${what}`;
  }
}

/** What the one-line summary is assembled from; layers fill it in as they are decoded. */
export interface Summary {
  link?: string;
  src?: string;
  dst?: string;
  /** Network protocol name ("IPv4", "IPv6", "ARP"…). */
  net?: string;
  /** Transport text, e.g. "TCP 1234 → 80 [SYN]". */
  transport?: string;
  /** A whole-line description for packets without addresses (ARP, LLC, PPPoE discovery…). */
  line?: string;
}

/** Where the next layer starts and how to decode it. */
export interface Next {
  proto: string;
  offset: number;
  /** Exclusive end of the bytes that belong to the next layer (an enclosing length, or the capture end). */
  end: number;
  /** Inside an ICMP error: decode, but leave the summary alone. */
  quoted?: boolean;
  /** The enclosing IP header's addresses, for pseudo-header checksums. */
  ip?: PseudoHeader;
  /** Inside a first fragment: headers are there, but encapsulated packets are incomplete. */
  partial?: boolean;
}

export interface PseudoHeader {
  src: Uint8Array;
  dst: Uint8Array;
  v6: boolean;
}

export function leaf(name: string, label: string, start: number, end: number, value?: string | number): DissectNode {
  const n: DissectNode = { name, label, start, end, children: [] };
  if (value !== undefined) n.value = value;
  return n;
}

export class LayerBuilder {
  readonly node: DissectNode;
  /** Exclusive end of readable bytes for this layer: min(capture end, enclosing length). */
  readonly limit: number;

  constructor(
    readonly data: Uint8Array,
    /** Absolute offset where the layer starts. */
    readonly start: number,
    /** Exclusive end of this layer's bytes as the enclosing header says. */
    readonly end: number,
    readonly summary: Summary,
    readonly quoted: boolean,
    readonly ip: PseudoHeader | undefined,
    readonly partial: boolean,
    name: string,
    label: string,
  ) {
    this.limit = Math.min(end, data.length);
    this.node = { name, label, start, end: start, children: [] };
  }

  /** Bytes available from `rel` (relative to the layer start) to the limit. */
  avail(rel = 0): number {
    return Math.max(0, this.limit - this.start - rel);
  }

  /** Throws Truncated unless `len` bytes at `rel` are readable. */
  need(rel: number, len: number): void {
    const have = this.limit - this.start - rel;
    if (len > have) throw new Truncated(rel + len, Math.max(0, this.limit - this.start), this.end < this.data.length);
  }

  u8(rel: number): number {
    this.need(rel, 1);
    return this.data[this.start + rel]!;
  }
  u16(rel: number): number {
    this.need(rel, 2);
    const p = this.start + rel;
    return (this.data[p]! << 8) | this.data[p + 1]!;
  }
  u32(rel: number): number {
    this.need(rel, 4);
    const p = this.start + rel;
    return ((this.data[p]! << 24) | (this.data[p + 1]! << 16) | (this.data[p + 2]! << 8) | this.data[p + 3]!) >>> 0;
  }
  u16le(rel: number): number {
    this.need(rel, 2);
    const p = this.start + rel;
    return this.data[p]! | (this.data[p + 1]! << 8);
  }
  u32le(rel: number): number {
    this.need(rel, 4);
    const p = this.start + rel;
    return (this.data[p]! | (this.data[p + 1]! << 8) | (this.data[p + 2]! << 16) | (this.data[p + 3]! << 24)) >>> 0;
  }
  bytes(rel: number, len: number): Uint8Array {
    this.need(rel, len);
    return this.data.subarray(this.start + rel, this.start + rel + len);
  }

  /** Adds a field covering [rel, rel+len) of this layer; checks the bytes are there first. */
  add(name: string, label: string, rel: number, len: number, value?: string | number, parent: DissectNode = this.node): DissectNode {
    this.need(rel, len);
    const n = leaf(name, label, this.start + rel, this.start + rel + len, value);
    parent.children.push(n);
    this.grow(rel + len);
    return n;
  }

  /** Extends the layer's byte range to cover its first `rel` bytes. */
  grow(rel: number): void {
    const e = this.start + rel;
    if (e > this.node.end) this.node.end = Math.min(e, this.data.length);
  }

  /** Sets the summary unless this layer sits inside an ICMP error quote. */
  say(update: Partial<Summary>): void {
    if (!this.quoted) Object.assign(this.summary, update);
  }

  /** `ip`: the pseudo header for the next layer; omitted = keep the current one, null = none. */
  next(proto: string, rel: number, end = this.end, ip?: PseudoHeader | null): Next {
    return { proto, offset: this.start + rel, end, quoted: this.quoted, ip: ip === undefined ? this.ip : (ip ?? undefined), partial: this.partial };
  }
}

export type Dissector = (l: LayerBuilder) => Next | undefined;
