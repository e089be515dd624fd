/** Protocol numbers → next dissector and display names. */

export const ETHERTYPE_NAMES: Record<number, string> = {
  0x0800: "IPv4",
  0x0806: "ARP",
  0x8035: "RARP",
  0x8100: "802.1Q VLAN",
  0x88a8: "802.1ad VLAN",
  0x9100: "VLAN (0x9100)",
  0x86dd: "IPv6",
  0x8847: "MPLS unicast",
  0x8848: "MPLS multicast",
  0x8863: "PPPoE Discovery",
  0x8864: "PPPoE Session",
  0x6558: "Transparent Ethernet Bridging",
  0x88cc: "LLDP",
  0x88e5: "MACsec",
  0x88f7: "PTP",
  0x8137: "IPX",
  0x809b: "AppleTalk",
  0x80f3: "AARP",
  0x6003: "DECnet Phase IV",
  0x6004: "DEC LAT",
  0x8906: "FCoE",
  0x88b5: "Local experimental",
};

export function ethertypeProto(type: number): string {
  switch (type) {
    case 0x0800:
      return "ipv4";
    case 0x86dd:
      return "ipv6";
    case 0x0806:
    case 0x8035:
      return "arp";
    case 0x8100:
    case 0x88a8:
    case 0x9100:
      return "vlan";
    case 0x8847:
    case 0x8848:
      return "mpls";
    case 0x8863:
      return "pppoed";
    case 0x8864:
      return "pppoes";
    case 0x6558:
      return "eth";
    default:
      return "data";
  }
}

export function ethertypeName(type: number): string {
  return ETHERTYPE_NAMES[type] ?? "unknown";
}

export const IP_PROTO_NAMES: Record<number, string> = {
  0: "IPv6 Hop-by-Hop",
  1: "ICMP",
  2: "IGMP",
  4: "IPv4",
  6: "TCP",
  9: "IGRP",
  17: "UDP",
  41: "IPv6",
  43: "IPv6 Routing",
  44: "IPv6 Fragment",
  47: "GRE",
  50: "ESP",
  51: "AH",
  58: "ICMPv6",
  59: "No Next Header",
  60: "IPv6 Destination Options",
  89: "OSPF",
  103: "PIM",
  112: "VRRP",
  132: "SCTP",
};

export function ipProtoName(p: number): string {
  return IP_PROTO_NAMES[p] ?? `protocol ${p}`;
}

export function ipProtoDissector(p: number): string {
  switch (p) {
    case 1:
      return "icmp";
    case 2:
      return "igmp";
    case 4:
      return "ipv4";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 41:
      return "ipv6";
    case 47:
      return "gre";
    case 51:
      return "ah";
    case 58:
      return "icmpv6";
    case 132:
      return "sctp";
    default:
      return "data";
  }
}

export function pppProto(p: number): string {
  switch (p) {
    case 0x0021:
      return "ipv4";
    case 0x0057:
      return "ipv6";
    case 0x0281:
    case 0x0283:
      return "mpls";
    default:
      return "data";
  }
}

export const PPP_NAMES: Record<number, string> = {
  0x0021: "IPv4",
  0x0057: "IPv6",
  0x0281: "MPLS unicast",
  0x0283: "MPLS multicast",
  0xc021: "LCP",
  0x8021: "IPCP",
  0x8057: "IPv6CP",
  0xc023: "PAP",
  0xc223: "CHAP",
};
