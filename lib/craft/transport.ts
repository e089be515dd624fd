/** Transport builders: TCP, UDP, ICMP, ICMPv6, SCTP, IGMP, with lengths and checksums filled in. */
import { concat, craftError, crc32c, foldChecksum, inetChecksum, onesSum, putU16, putU32, u16, u32 } from "./bytes";
import { pick, type Layer, type LayerContext } from "./layer";
import { IPPROTO } from "./ip";

/** The pseudo-header sum for an upper-layer checksum inside the nearest IP layer (0 if there is none). */
function pseudoSum(ctx: LayerContext, proto: number, length: number): number {
  const p = ctx.ip?.pseudo;
  if (!p) return 0;
  let sum = onesSum(p.src) + onesSum(p.dst);
  if (p.v6) sum += Math.floor(length / 0x10000) + (length & 0xffff) + proto;
  else sum += proto + length;
  return sum;
}

function transportChecksum(seg: Uint8Array, ctx: LayerContext, proto: number): number {
  return foldChecksum(onesSum(seg, 0, seg.length, pseudoSum(ctx, proto, seg.length)));
}

export const TCP_FLAGS = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 } as const;

export type TcpOption =
  | { kind: "eol" }
  | { kind: "nop" }
  | { kind: "mss"; value: number }
  | { kind: "ws"; shift: number }
  | { kind: "sackok" }
  | { kind: "sack"; blocks: [number, number][] }
  | { kind: "ts"; value: number; echo: number }
  | { kind: "raw"; type: number; data: Uint8Array };

function encodeTcpOption(o: TcpOption): number[] | Uint8Array {
  switch (o.kind) {
    case "eol":
      return [0];
    case "nop":
      return [1];
    case "mss":
      return [2, 4, ...u16(o.value)];
    case "ws":
      return [3, 3, o.shift];
    case "sackok":
      return [4, 2];
    case "sack":
      return [5, 2 + 8 * o.blocks.length, ...o.blocks.flatMap(([l, r]) => [...u32(l), ...u32(r)])];
    case "ts":
      return [8, 10, ...u32(o.value), ...u32(o.echo)];
    case "raw":
      return concat([o.type, o.data.length + 2], o.data);
  }
}

export interface TcpOptions {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  /** Letters from "FSRPAUEC" or a number. */
  flags?: string | number;
  window?: number;
  urgent?: number;
  options?: TcpOption[];
  /** Set to false to leave the checksum zero. */
  checksum?: boolean;
}

export function tcpFlags(flags: string | number | undefined): number {
  if (flags === undefined) return TCP_FLAGS.S;
  if (typeof flags === "number") return flags & 0xff;
  let v = 0;
  for (const c of flags.toUpperCase()) {
    const bit = TCP_FLAGS[c as keyof typeof TCP_FLAGS];
    if (bit === undefined) throw craftError(`unknown TCP flag "${c}"`);
    v |= bit;
  }
  return v;
}

export function tcp(o: TcpOptions = {}): Layer {
  const flags = tcpFlags(o.flags);
  const opts = concat(...(o.options ?? []).map(encodeTcpOption));
  const optLen = (opts.length + 3) & ~3;
  if (optLen > 40) throw craftError("TCP options exceed 40 bytes");
  return {
    name: "tcp",
    ipProto: IPPROTO.TCP,
    encode(payload, ctx) {
      const hl = 20 + optLen;
      const seg = new Uint8Array(hl + payload.length);
      putU16(seg, 0, o.sport ?? 40000);
      putU16(seg, 2, o.dport ?? 80);
      putU32(seg, 4, o.seq ?? 1000);
      putU32(seg, 8, o.ack ?? (flags & TCP_FLAGS.A ? 2000 : 0));
      seg[12] = (hl / 4) << 4;
      seg[13] = flags;
      putU16(seg, 14, o.window ?? 65535);
      putU16(seg, 18, o.urgent ?? 0);
      seg.set(opts, 20);
      seg.set(payload, hl);
      if (o.checksum !== false) putU16(seg, 16, transportChecksum(seg, ctx, IPPROTO.TCP));
      return seg;
    },
  };
}

export interface UdpOptions {
  sport?: number;
  /** Defaults to the inner layer's well-known port (VXLAN 4789, Geneve 6081), else 53. */
  dport?: number;
  checksum?: boolean;
  length?: number;
}

export function udp(o: UdpOptions = {}): Layer {
  return {
    name: "udp",
    ipProto: IPPROTO.UDP,
    encode(payload, ctx) {
      const seg = new Uint8Array(8 + payload.length);
      putU16(seg, 0, o.sport ?? 40000);
      putU16(seg, 2, pick(o.dport, ctx.inner?.udpPort, 53));
      putU16(seg, 4, o.length ?? Math.min(seg.length, 0xffff));
      seg.set(payload, 8);
      if (o.checksum !== false) {
        const c = transportChecksum(seg, ctx, IPPROTO.UDP);
        putU16(seg, 6, c === 0 ? 0xffff : c);
      }
      return seg;
    },
  };
}

export const ICMP_TYPE = { ECHO_REPLY: 0, UNREACH: 3, REDIRECT: 5, ECHO: 8, ROUTER_ADVERT: 9, TIME_EXCEEDED: 11, PARAM_PROBLEM: 12, TIMESTAMP: 13 } as const;

export interface IcmpOptions {
  type?: number;
  code?: number;
  /** Echo identifier and sequence (the 4 "rest of header" bytes for echo). */
  id?: number;
  seq?: number;
  /** The 4 rest-of-header bytes verbatim (overrides id/seq). */
  rest?: Uint8Array;
}

export function icmp(o: IcmpOptions = {}): Layer {
  return {
    name: "icmp",
    ipProto: IPPROTO.ICMP,
    encode(payload) {
      const rest = o.rest ?? Uint8Array.from([...u16(o.id ?? 0x1234), ...u16(o.seq ?? 1)]);
      const m = concat([o.type ?? ICMP_TYPE.ECHO, o.code ?? 0, 0, 0], rest.subarray(0, 4), payload);
      putU16(m, 2, inetChecksum(m));
      return m;
    },
  };
}

export const ICMPV6_TYPE = {
  UNREACH: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  ECHO: 128,
  ECHO_REPLY: 129,
  MLD_QUERY: 130,
  MLD_REPORT: 131,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  MLDV2_REPORT: 143,
} as const;

export interface Icmpv6Options {
  type?: number;
  code?: number;
  /** The 4 bytes after the checksum (echo id/seq, NA flags, MTU…). */
  rest?: Uint8Array;
  id?: number;
  seq?: number;
}

export function icmpv6(o: Icmpv6Options = {}): Layer {
  return {
    name: "icmpv6",
    ipProto: IPPROTO.ICMPV6,
    encode(payload, ctx) {
      const rest = o.rest ?? Uint8Array.from([...u16(o.id ?? 0x1234), ...u16(o.seq ?? 1)]);
      const m = concat([o.type ?? ICMPV6_TYPE.ECHO, o.code ?? 0, 0, 0], rest.subarray(0, 4), payload);
      putU16(m, 2, transportChecksum(m, ctx, IPPROTO.ICMPV6));
      return m;
    },
  };
}

export interface SctpChunk {
  type: number;
  flags?: number;
  value?: Uint8Array;
}

export const SCTP_CHUNK = { DATA: 0, INIT: 1, INIT_ACK: 2, SACK: 3, HEARTBEAT: 4, ABORT: 6, SHUTDOWN: 7, COOKIE_ECHO: 10, COOKIE_ACK: 11 } as const;

/** An SCTP packet; the payload bytes (if any) are appended after the chunks. CRC-32C checksum. */
export function sctp(o: { sport?: number; dport?: number; vtag?: number; chunks?: SctpChunk[] } = {}): Layer {
  return {
    name: "sctp",
    ipProto: IPPROTO.SCTP,
    encode(payload) {
      const chunks = (o.chunks ?? [{ type: SCTP_CHUNK.INIT, value: sctpInitValue() }]).map((c) => {
        const v = c.value ?? new Uint8Array(0);
        const len = 4 + v.length;
        return concat([c.type, c.flags ?? 0], u16(len), v, new Uint8Array(((len + 3) & ~3) - len));
      });
      const pkt = concat(u16(o.sport ?? 5000), u16(o.dport ?? 5000), u32(o.vtag ?? 0), [0, 0, 0, 0], ...chunks, payload);
      // The CRC is stored little-endian-reflected: written so that its first byte is the low byte.
      const crc = crc32c(pkt);
      pkt[8] = crc & 0xff;
      pkt[9] = (crc >>> 8) & 0xff;
      pkt[10] = (crc >>> 16) & 0xff;
      pkt[11] = (crc >>> 24) & 0xff;
      return pkt;
    },
  };
}

export function sctpInitValue(tag = 0x01020304): Uint8Array {
  return Uint8Array.from([...u32(tag), ...u32(65536), ...u16(10), ...u16(10), ...u32(1)]);
}

/** DATA chunk value: TSN, stream id, stream sequence, payload protocol id, user data. */
export function sctpDataValue(tsn: number, data: Uint8Array, stream = 0, ppid = 0): Uint8Array {
  return concat(u32(tsn), u16(stream), u16(0), u32(ppid), data);
}

/** IGMPv2 message (membership query/report/leave). */
export function igmp(o: { type?: number; maxResp?: number; group?: Uint8Array } = {}): Layer {
  return {
    name: "igmp",
    ipProto: IPPROTO.IGMP,
    encode(payload) {
      const m = concat([o.type ?? 0x16, o.maxResp ?? 0, 0, 0], o.group ?? [239, 1, 1, 1], payload);
      putU16(m, 2, inetChecksum(m));
      return m;
    },
  };
}

/** A bare IP payload with a chosen protocol number (ESP, OSPF, PIM, VRRP…): the bytes are the payload. */
export function ipPayload(proto: number, name = `proto-${proto}`): Layer {
  return {
    name,
    ipProto: proto,
    encode(payload) {
      return payload;
    },
  };
}
