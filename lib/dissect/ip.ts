/** IPv4 (options, fragments, header checksum) and IPv6 with its extension headers. */
import { checksumVerdict, expectedChecksum } from "./checksum";
import { formatIpv4, formatIpv6, hex } from "./format";
import { ipProtoDissector, ipProtoName } from "./numbers";
import type { DissectNode, Dissector, LayerBuilder } from "./node";

const IPV4_OPTIONS: Record<number, string> = { 0: "End of Options List", 1: "No-Operation", 7: "Record Route", 68: "Timestamp", 130: "Security", 131: "Loose Source Route", 137: "Strict Source Route", 136: "Stream ID", 148: "Router Alert" };

function ipv4Options(l: LayerBuilder, hl: number): void {
  const opts = l.add("ip.options", `Options: (${hl - 20} bytes)`, 20, hl - 20);
  let rel = 20;
  while (rel < hl) {
    const type = l.u8(rel);
    if (type === 0 || type === 1) {
      l.add("ip.opt", IPV4_OPTIONS[type]!, rel, 1, type, opts);
      rel++;
      if (type === 0) break;
      continue;
    }
    if (rel + 1 >= hl) {
      opts.error = `option ${type} has no length byte`;
      break;
    }
    const len = l.u8(rel + 1);
    if (len < 2 || rel + len > hl) {
      opts.error = `option ${type} has bad length ${len}`;
      break;
    }
    l.add("ip.opt", `${IPV4_OPTIONS[type] ?? `Option ${type}`} (${len} bytes)`, rel, len, type, opts);
    rel += len;
  }
}

export const ipv4: Dissector = (l) => {
  if (l.partial) return l.next("data", 0);
  const vhl = l.u8(0);
  const hl = (vhl & 0xf) * 4;
  l.add("ip.version", `Version: ${vhl >> 4}`, 0, 1, vhl >> 4);
  l.add("ip.hdr_len", `Header Length: ${hl} bytes (${vhl & 0xf})`, 0, 1, hl);
  if (hl < 20) {
    l.node.label = "Internet Protocol Version 4";
    l.node.error = `bad header length ${hl} (must be at least 20)`;
    return undefined;
  }
  const tos = l.u8(1);
  l.add("ip.dsfield", `Differentiated Services: DSCP ${tos >> 2}, ECN ${tos & 3} (${hex(tos, 2)})`, 1, 1, tos);
  const total = l.u16(2);
  l.add("ip.len", `Total Length: ${total}`, 2, 2, total);
  l.add("ip.id", `Identification: ${hex(l.u16(4), 4)} (${l.u16(4)})`, 4, 2, l.u16(4));
  const ff = l.u16(6);
  const flags = l.add("ip.flags", `Flags: ${hex(ff >> 13, 1)}${ff & 0x4000 ? ", Don't fragment" : ""}${ff & 0x2000 ? ", More fragments" : ""}`, 6, 1, ff >> 13);
  l.add("ip.flags.rb", `Reserved bit: ${(ff >> 15) & 1}`, 6, 1, (ff >> 15) & 1, flags);
  l.add("ip.flags.df", `Don't fragment: ${(ff >> 14) & 1}`, 6, 1, (ff >> 14) & 1, flags);
  l.add("ip.flags.mf", `More fragments: ${(ff >> 13) & 1}`, 6, 1, (ff >> 13) & 1, flags);
  const fragOffset = (ff & 0x1fff) * 8;
  l.add("ip.frag_offset", `Fragment Offset: ${fragOffset}`, 6, 2, fragOffset);
  const ttl = l.u8(8);
  l.add("ip.ttl", `Time to Live: ${ttl}`, 8, 1, ttl);
  const proto = l.u8(9);
  l.add("ip.proto", `Protocol: ${ipProtoName(proto)} (${proto})`, 9, 1, proto);
  const sum = l.u16(10);
  const sumNode = l.add("ip.checksum", `Header Checksum: ${hex(sum, 4)}`, 10, 2, sum);
  const src = formatIpv4(l.bytes(12, 4));
  const dst = formatIpv4(l.bytes(16, 4));
  l.add("ip.src", `Source: ${src}`, 12, 4, src);
  l.add("ip.dst", `Destination: ${dst}`, 16, 4, dst);
  if (hl > 20) ipv4Options(l, hl);
  l.need(0, hl);
  sumNode.label += checksumVerdict(sum, expectedChecksum(l.data, l.start, l.start + hl, l.start + 10));
  l.node.label = `Internet Protocol Version 4, Src: ${src}, Dst: ${dst}`;
  const more = (ff & 0x2000) !== 0;
  l.say({ src, dst, net: "IPv4", transport: fragOffset ? `IPv4 fragment (offset ${fragOffset}, ${ipProtoName(proto)})` : ipProtoName(proto) });
  if (total < hl) {
    l.node.error = `total length ${total} is less than the header length ${hl}`;
    return undefined;
  }
  const end = Math.min(l.end, l.start + total);
  if (fragOffset > 0) return l.next("data", hl, end);
  const pseudo = { src: l.bytes(12, 4), dst: l.bytes(16, 4), v6: false };
  const next = l.next(ipProtoDissector(proto), hl, end, more ? null : pseudo);
  if (more) {
    l.node.label += " (first fragment)";
    next.partial = true;
  }
  return next;
};

const EXT_NAMES: Record<number, string> = { 0: "Hop-by-Hop Options", 43: "Routing", 44: "Fragment", 60: "Destination Options", 51: "Authentication Header" };
const EXT_IDS: Record<number, string> = { 0: "ipv6.hopopts", 43: "ipv6.routing", 44: "ipv6.fragment", 60: "ipv6.dstopts", 51: "ah" };

function tlvOptions(l: LayerBuilder, rel: number, end: number, parent: DissectNode): void {
  while (rel < end) {
    const type = l.u8(rel);
    if (type === 0) {
      l.add("ipv6.opt.pad1", "Pad1", rel, 1, 0, parent);
      rel++;
      continue;
    }
    const len = l.u8(rel + 1);
    if (rel + 2 + len > end) {
      parent.error = `option ${type} runs past the header`;
      return;
    }
    const name = type === 1 ? "PadN" : type === 5 ? "Router Alert" : type === 0xc2 ? "Jumbo Payload" : type === 4 ? "Tunnel Encapsulation Limit" : `Option ${hex(type, 2)}`;
    l.add("ipv6.opt", `${name} (${len + 2} bytes)`, rel, 2 + len, type, parent);
    rel += 2 + len;
  }
}

export const ipv6: Dissector = (l) => {
  if (l.partial) return l.next("data", 0);
  const w = l.u32(0);
  l.add("ipv6.version", `Version: ${w >>> 28}`, 0, 1, w >>> 28);
  l.add("ipv6.tclass", `Traffic Class: ${hex((w >>> 20) & 0xff, 2)}`, 0, 2, (w >>> 20) & 0xff);
  l.add("ipv6.flow", `Flow Label: ${hex(w & 0xfffff, 5)}`, 1, 3, w & 0xfffff);
  const plen = l.u16(4);
  l.add("ipv6.plen", `Payload Length: ${plen}`, 4, 2, plen);
  let next = l.u8(6);
  l.add("ipv6.nxt", `Next Header: ${ipProtoName(next)} (${next})`, 6, 1, next);
  const hlim = l.u8(7);
  l.add("ipv6.hlim", `Hop Limit: ${hlim}`, 7, 1, hlim);
  const src = formatIpv6(l.bytes(8, 16));
  const dst = formatIpv6(l.bytes(24, 16));
  l.add("ipv6.src", `Source: ${src}`, 8, 16, src);
  l.add("ipv6.dst", `Destination: ${dst}`, 24, 16, dst);
  l.node.label = `Internet Protocol Version 6, Src: ${src}, Dst: ${dst}`;
  l.say({ src, dst, net: "IPv6", transport: ipProtoName(next) });
  // A zero payload length means a jumbogram (the length is in a hop-by-hop option): use the capture.
  const end = plen === 0 ? l.end : Math.min(l.end, l.start + 40 + plen);
  let rel = 40;
  let fragmented = false;
  let finalDst = l.bytes(24, 16);
  let incomplete = false;
  for (let count = 0; count < 16 && EXT_NAMES[next] !== undefined; count++) {
    const h = next;
    const nh = l.u8(rel);
    let len: number;
    if (h === 44) len = 8;
    else if (h === 51) len = (l.u8(rel + 1) + 2) * 4;
    else len = (l.u8(rel + 1) + 1) * 8;
    l.need(rel, len);
    const e = l.add(EXT_IDS[h]!, `${EXT_NAMES[h]} (${len} bytes), next: ${ipProtoName(nh)}`, rel, len, h);
    l.add(`${EXT_IDS[h]}.nxt`, `Next Header: ${ipProtoName(nh)} (${nh})`, rel, 1, nh, e);
    if (h === 0 || h === 60) tlvOptions(l, rel + 2, rel + len, e);
    else if (h === 43) {
      const rtype = l.u8(rel + 2);
      const left = l.u8(rel + 3);
      l.add("ipv6.routing.type", `Type: ${rtype}`, rel + 2, 1, rtype, e);
      l.add("ipv6.routing.segleft", `Segments Left: ${left}`, rel + 3, 1, left, e);
      if (rtype === 0 || rtype === 2 || rtype === 4) {
        for (let a = rel + 8; a + 16 <= rel + len; a += 16) {
          const addr = formatIpv6(l.bytes(a, 16));
          l.add("ipv6.routing.addr", `Address: ${addr}`, a, 16, addr, e);
          // Checksums use the final destination: the last address of type 0/2, segment 0 of type 4.
          if (left > 0 && (rtype !== 4 || a === rel + 8)) finalDst = l.bytes(a, 16);
        }
      }
    } else if (h === 44) {
      const off = l.u16(rel + 2);
      const id = l.u32(rel + 4);
      l.add("ipv6.fragment.offset", `Offset: ${off & 0xfff8}`, rel + 2, 2, off & 0xfff8, e);
      l.add("ipv6.fragment.more", `More Fragments: ${off & 1 ? "yes" : "no"}`, rel + 3, 1, off & 1, e);
      l.add("ipv6.fragment.id", `Identification: ${hex(id, 8)}`, rel + 4, 4, id, e);
      if (off & 0xfff8) fragmented = true;
      if (off & 1) incomplete = true;
      if (fragmented) l.say({ transport: `IPv6 fragment (offset ${off & 0xfff8}, ${ipProtoName(nh)})` });
    } else if (h === 51) {
      const spi = l.u32(rel + 4);
      l.add("ah.spi", `SPI: ${hex(spi, 8)}`, rel + 4, 4, spi, e);
      l.add("ah.sequence", `Sequence: ${l.u32(rel + 8)}`, rel + 8, 4, l.u32(rel + 8), e);
      if (len > 12) l.add("ah.icv", `ICV (${len - 12} bytes)`, rel + 12, len - 12, undefined, e);
    }
    next = nh;
    rel += len;
  }
  if (!fragmented) l.say({ transport: ipProtoName(next) });
  if (fragmented || next === 59) return l.next("data", rel, end);
  const n = l.next(ipProtoDissector(next), rel, end, incomplete ? null : { src: l.bytes(8, 16), dst: finalDst, v6: true });
  if (incomplete) n.partial = true;
  return n;
};

/** IPsec AH after IPv4 (after IPv6 it is decoded with the other extension headers). */
export const ah: Dissector = (l) => {
  const nh = l.u8(0);
  const len = (l.u8(1) + 2) * 4;
  l.add("ah.nxt", `Next Header: ${ipProtoName(nh)} (${nh})`, 0, 1, nh);
  l.add("ah.length", `Length: ${len} bytes`, 1, 1, len);
  const spi = l.u32(4);
  l.add("ah.spi", `SPI: ${hex(spi, 8)}`, 4, 4, spi);
  l.add("ah.sequence", `Sequence: ${l.u32(8)}`, 8, 4, l.u32(8));
  if (len < 12) {
    l.node.error = `bad length ${len} (must be at least 12)`;
    return undefined;
  }
  if (len > 12) l.add("ah.icv", `ICV (${len - 12} bytes)`, 12, len - 12);
  l.node.label = `Authentication Header, SPI: ${hex(spi, 8)}`;
  l.say({ transport: ipProtoName(nh) });
  // The payload is authenticated, not encrypted: decode on, with no pseudo header (AH sits in between).
  return l.next(ipProtoDissector(nh), len);
};
