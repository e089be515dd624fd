/** GRE, VXLAN and Geneve: each hands its payload to the dissector its protocol field names. */
import { hex } from "./format";
import { ethertypeName, ethertypeProto } from "./numbers";
import type { Dissector } from "./node";

export const gre: Dissector = (l) => {
  const fv = l.u16(0);
  const c = (fv & 0x8000) !== 0;
  const k = (fv & 0x2000) !== 0;
  const s = (fv & 0x1000) !== 0;
  const version = fv & 7;
  const f = l.add("gre.flags_and_version", `Flags and Version: ${hex(fv, 4)}`, 0, 2, fv);
  l.add("gre.flags.checksum", `Checksum present: ${c ? 1 : 0}`, 0, 1, c ? 1 : 0, f);
  l.add("gre.flags.key", `Key present: ${k ? 1 : 0}`, 0, 1, k ? 1 : 0, f);
  l.add("gre.flags.sequence_number", `Sequence number present: ${s ? 1 : 0}`, 0, 1, s ? 1 : 0, f);
  l.add("gre.flags.version", `Version: ${version}`, 1, 1, version, f);
  const proto = l.u16(2);
  l.add("gre.proto", `Protocol Type: ${ethertypeName(proto)} (${hex(proto, 4)})`, 2, 2, proto);
  let rel = 4;
  if (c) {
    l.add("gre.checksum", `Checksum: ${hex(l.u16(4), 4)}`, 4, 2, l.u16(4));
    l.add("gre.offset", `Offset: ${l.u16(6)}`, 6, 2, l.u16(6));
    rel += 4;
  }
  if (k) {
    const key = l.u32(rel);
    l.add(version === 1 ? "gre.call_id" : "gre.key", version === 1 ? `Payload length ${key >>> 16}, call id ${key & 0xffff}` : `Key: ${hex(key, 8)}`, rel, 4, key);
    rel += 4;
  }
  if (s) {
    l.add("gre.sequence_number", `Sequence Number: ${l.u32(rel)}`, rel, 4, l.u32(rel));
    rel += 4;
  }
  l.node.label = `Generic Routing Encapsulation (${ethertypeName(proto)})`;
  l.say({ transport: `GRE ${ethertypeName(proto)}` });
  return l.next(l.partial ? "data" : ethertypeProto(proto), rel, l.end, null);
};

export const vxlan: Dissector = (l) => {
  const flags = l.u8(0);
  l.add("vxlan.flags", `Flags: ${hex(flags, 2)}${flags & 0x08 ? " (VNI valid)" : ""}`, 0, 4, flags);
  const vni = l.u32(4) >>> 8;
  l.add("vxlan.vni", `VXLAN Network Identifier (VNI): ${vni}`, 4, 3, vni);
  l.node.label = `Virtual eXtensible Local Area Network, VNI: ${vni}`;
  l.say({ transport: `VXLAN vni ${vni}` });
  return l.next("eth", 8, l.end, null);
};

export const geneve: Dissector = (l) => {
  const b0 = l.u8(0);
  const optLen = (b0 & 0x3f) * 4;
  l.add("geneve.version", `Version: ${b0 >> 6}`, 0, 1, b0 >> 6);
  l.add("geneve.option_length", `Options length: ${optLen}`, 0, 1, optLen);
  l.add("geneve.flags", `Flags: ${hex(l.u8(1), 2)}`, 1, 1, l.u8(1));
  const proto = l.u16(2);
  l.add("geneve.proto_type", `Protocol Type: ${ethertypeName(proto)} (${hex(proto, 4)})`, 2, 2, proto);
  const vni = l.u32(4) >>> 8;
  l.add("geneve.vni", `Virtual Network Identifier (VNI): ${vni}`, 4, 3, vni);
  if (optLen) l.add("geneve.options", `Options (${optLen} bytes)`, 8, optLen);
  l.node.label = `Generic Network Virtualization Encapsulation, VNI: ${vni}`;
  l.say({ transport: `Geneve vni ${vni}` });
  return l.next(ethertypeProto(proto), 8 + optLen, l.end, null);
};
