/**
 * One-line documentation for the words of the filter language, shown on hover and beside
 * completions. Written for this project from the pcap-filter(7) semantics.
 */
import { keywordRole, NAMED_NUMBERS, type KeywordRole } from "./keywords";

const WORDS: Readonly<Record<string, string>> = {
  ether: "Ethernet (link layer). `ether host MAC`, `ether proto N`, `ether broadcast`, `ether[off:size]`.",
  fddi: "FDDI link layer; an alias of `ether` for qualifiers.",
  tr: "Token Ring link layer; an alias of `ether` for qualifiers.",
  wlan: "802.11 link layer; an alias of `ether` for address qualifiers.",
  ppp: "PPP link layer.",
  slip: "SLIP link layer.",
  link: "The link layer of the capture, whatever it is: `link[0]`, `link proto`.",
  ip: "IPv4: packets whose link-layer type is IPv4. `ip host`, `ip proto`, `ip[off:size]`.",
  ip6: "IPv6: packets whose link-layer type is IPv6. `ip6 protochain` follows extension headers.",
  arp: "ARP packets. `arp host` tests the sender/target protocol addresses.",
  rarp: "Reverse ARP packets.",
  tcp: "TCP over IPv4 or IPv6 (without following IPv6 extension headers). `tcp port`, `tcp[tcpflags]`.",
  udp: "UDP over IPv4 or IPv6.",
  sctp: "SCTP over IPv4 or IPv6.",
  icmp: "ICMP (IPv4). `icmp[icmptype] = icmp-echo`.",
  icmp6: "ICMPv6.",
  igmp: "IGMP (IPv4 protocol 2).",
  igrp: "IGRP (IPv4 protocol 9).",
  pim: "PIM over IPv4 or IPv6.",
  vrrp: "VRRP (IPv4 protocol 112).",
  carp: "CARP (IPv4 protocol 112, as OpenBSD uses it).",
  ah: "IPsec Authentication Header.",
  esp: "IPsec Encapsulating Security Payload.",
  atalk: "AppleTalk.",
  aarp: "AppleTalk ARP.",
  decnet: "DECnet.",
  lat: "DEC LAT.",
  sca: "DEC SCA.",
  moprc: "DEC MOP remote console.",
  mopdl: "DEC MOP dump/load.",
  iso: "OSI (ISO) packets.",
  stp: "IEEE 802.1D spanning tree.",
  ipx: "Novell IPX.",
  netbeui: "NetBEUI.",
  radio: "The radio header of 802.11 captures: `radio[off:size]`.",
  src: "Source direction: `src host`, `src port`, `src net`.",
  dst: "Destination direction: `dst host`, `dst port`, `dst net`.",
  ra: "802.11 receiver address.",
  ta: "802.11 transmitter address.",
  addr1: "802.11 address field 1.",
  addr2: "802.11 address field 2.",
  addr3: "802.11 address field 3.",
  addr4: "802.11 address field 4.",
  host: "A host address (IPv4, IPv6, MAC with `ether`, or a name resolved by libpcap).",
  net: "A network: `net 10.0.0.0/8`, `net 10.0.0.0 mask 255.0.0.0`, `net 10`.",
  port: "A TCP, UDP or SCTP port number or service name (from /etc/services).",
  portrange: "A range of ports: `portrange 6000-6010`.",
  gateway: "Packets that used a host as a gateway (needs name resolution to a MAC; rarely supported).",
  proto: "The protocol field of the qualifying protocol: `ip proto 6`, `ether proto 0x86dd`, `ip proto \\tcp`.",
  protochain: "IPv6/IPv4 protocol after following the header chain: `ip6 protochain 6` (uses a backward jump).",
  and: "Both sides must match (also `&&`). `and` and `or` have equal precedence, left to right.",
  or: "Either side may match (also `||`).",
  not: "Negation (also `!`); binds tighter than `and`/`or`.",
  broadcast: "Link-layer broadcast (`ether broadcast`) or IPv4 broadcast (`ip broadcast`, needs the netmask).",
  multicast: "Link-layer multicast (`ether multicast`) or IP multicast (`ip multicast`, `ip6 multicast`).",
  less: "`less N`: packets of length ≤ N (`len <= N`).",
  greater: "`greater N`: packets of length ≥ N (`len >= N`).",
  byte: "`byte N op M`: compare byte N of the IP header with M using & | < > =.",
  inbound: "Incoming packets (only on link types that record a direction).",
  outbound: "Outgoing packets (only on link types that record a direction).",
  ifindex: "`ifindex N`: packets on interface N (Linux cooked captures).",
  vlan: "802.1Q VLAN tag, optionally a VLAN id; shifts the offsets of everything after it.",
  mpls: "MPLS label stack entry, optionally a label; shifts the offsets after it.",
  pppoed: "PPPoE discovery packets.",
  pppoes: "PPPoE session packets, optionally a session id; shifts the offsets after it.",
  geneve: "Geneve tunnel (UDP 6081), optionally a VNI; following primitives apply to the inner packet.",
  ifname: "pflog: packets logged on interface NAME.",
  on: "pflog: alias of `ifname`.",
  rnr: "pflog: rule number.",
  rulenum: "pflog: rule number.",
  srnr: "pflog: subrule number.",
  subrulenum: "pflog: subrule number.",
  reason: "pflog: reason code (match, bad-offset, fragment, short, normalize, memory).",
  rset: "pflog: ruleset name.",
  ruleset: "pflog: ruleset name.",
  action: "pflog: action (pass, block, nat, rdr, binat, scrub).",
  dir: "802.11 direction: nods, tods, fromds, dstods.",
  type: "802.11 frame type: mgt, ctl, data; optionally `subtype`.",
  subtype: "802.11 frame subtype: assoc-req, beacon, probe-req, data, qos-data, …",
  llc: "802.2 LLC frames, optionally of a type (i, s, u, rr, …).",
  len: "The packet length (`ld #pktlen`).",
  length: "The packet length (`ld #pktlen`).",
  mask: "`net A.B.C.D mask M.M.M.M`: the network mask in dotted form.",
  vpi: "SunATM: virtual path identifier.",
  vci: "SunATM: virtual channel identifier.",
  lane: "SunATM: LAN Emulation; following primitives apply to the emulated Ethernet.",
  sio: "MTP3 service information octet.",
  opc: "MTP3 originating point code.",
  dpc: "MTP3 destination point code.",
  sls: "MTP3 signalling link selection.",
  fisu: "MTP2 fill-in signal unit.",
  lssu: "MTP2 link status signal unit.",
  msu: "MTP2 message signal unit.",
};

const ROLE_TEXT: Readonly<Record<KeywordRole, string>> = {
  protocol: "protocol qualifier",
  direction: "direction qualifier",
  type: "address type qualifier",
  proto: "protocol field",
  logical: "operator",
  cast: "primitive",
  primitive: "primitive",
  wlan: "802.11 primitive",
  field: "field test",
  len: "packet length",
  mask: "netmask",
  "named-number": "named constant",
};

export interface WordDoc {
  word: string;
  role: KeywordRole;
  /** Short category label. */
  category: string;
  /** Markdown. */
  text: string;
}

export function describeWord(word: string): WordDoc | undefined {
  const role = keywordRole(word);
  if (role === undefined) return undefined;
  let text = WORDS[word];
  if (text === undefined && role === "named-number") {
    const v = NAMED_NUMBERS[word]!;
    text = `Constant ${v} (0x${v.toString(16)}), usable in arithmetic: \`tcp[tcpflags] & tcp-syn != 0\`.`;
  }
  return { word, role, category: ROLE_TEXT[role], text: text ?? `pcap-filter ${ROLE_TEXT[role]}.` };
}
