/** Tunnels: GRE (RFC 2784/2890), VXLAN (RFC 7348), Geneve (RFC 8926). */
import { concat, inetChecksum, putU16, u16, u32 } from "./bytes";
import { pick, type Layer } from "./layer";
import { IPPROTO } from "./ip";

export interface GreOptions {
  /** Protocol type; defaults to the inner layer's EtherType (0x6558 for Ethernet). */
  protocol?: number;
  key?: number;
  seq?: number;
  checksum?: boolean;
}

export function gre(o: GreOptions = {}): Layer {
  return {
    name: "gre",
    ipProto: IPPROTO.GRE,
    encode(payload, { inner }) {
      const flags = (o.checksum ? 0x8000 : 0) | (o.key !== undefined ? 0x2000 : 0) | (o.seq !== undefined ? 0x1000 : 0);
      const h = concat(
        u16(flags),
        u16(pick(o.protocol, inner?.ethertype, 0x0800)),
        o.checksum ? [0, 0, 0, 0] : [],
        o.key !== undefined ? u32(o.key) : [],
        o.seq !== undefined ? u32(o.seq) : [],
      );
      const pkt = concat(h, payload);
      if (o.checksum) putU16(pkt, 4, inetChecksum(pkt));
      return pkt;
    },
  };
}

export function vxlan(o: { vni: number }): Layer {
  return {
    name: "vxlan",
    udpPort: 4789,
    encode(payload) {
      return concat([0x08, 0, 0, 0], u32((o.vni & 0xffffff) * 256), payload);
    },
  };
}

export function geneve(o: { vni: number; protocol?: number }): Layer {
  return {
    name: "geneve",
    udpPort: 6081,
    encode(payload, { inner }) {
      return concat([0x00, 0x00], u16(pick(o.protocol, inner?.ethertype, 0x6558)), u32((o.vni & 0xffffff) * 256), payload);
    },
  };
}
