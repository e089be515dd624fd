/**
 * The words of the pcap-filter language (libpcap 1.10's scanner), grouped by the role they play
 * in the grammar. The grouping drives highlighting, completion and the parser alike, so a word is
 * listed once, in the group whose grammar rule consumes it.
 */

/** Protocol qualifiers (`pname` in libpcap's grammar): they can stand alone (`tcp`) or qualify. */
export const PROTOCOLS = [
  "ether", "fddi", "tr", "wlan", "ppp", "slip", "link",
  "ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "icmp", "icmp6", "igmp", "igrp", "pim", "vrrp", "carp",
  "ah", "esp", "atalk", "aarp", "decnet", "lat", "sca", "moprc", "mopdl",
  "iso", "esis", "es-is", "isis", "is-is", "l1", "l2", "iih", "lsp", "snp", "csnp", "psnp", "clnp",
  "stp", "ipx", "netbeui", "radio",
] as const;

/** Direction qualifiers (`dqual`). `src or dst` / `src and dst` combine two of them. */
export const DIRECTIONS = [
  "src", "dst", "ra", "ta", "addr1", "addr2", "addr3", "addr4", "address1", "address2", "address3", "address4",
] as const;

/** Address-type qualifiers (`aqual`): what the following id is. */
export const TYPES = ["host", "net", "port", "portrange", "gateway"] as const;

/** Qualifier-like words that take a protocol number or name after a protocol (`ip proto 6`). */
export const PROTO_WORDS = ["proto", "protochain"] as const;

export const LOGICAL = ["and", "or", "not"] as const;

/** Words that end a `pqual` and stand for a whole test (`ether broadcast`, `ip multicast`). */
export const CAST_WORDS = ["broadcast", "multicast"] as const;

/**
 * Stand-alone primitives and their argument shape: "none", "num" (a number), "optnum" (an
 * optional number), "name" (a name or number), "optname", "byte" (`byte 3 & 4`).
 */
export const OTHER_PRIMITIVES: Readonly<Record<string, "none" | "num" | "optnum" | "name" | "optname" | "byte">> = {
  less: "num",
  /** `byte N op M`: compare the N-th byte of the network header (op is one of & | < > =). */
  byte: "byte",
  greater: "num",
  inbound: "none",
  outbound: "none",
  ifindex: "num",
  vlan: "optnum",
  mpls: "optnum",
  pppoed: "none",
  pppoes: "optnum",
  geneve: "optnum",
  ifname: "name",
  on: "name",
  rnr: "num",
  rulenum: "num",
  srnr: "num",
  subrulenum: "num",
  reason: "name",
  rset: "name",
  ruleset: "name",
  action: "name",
  dir: "name",
  llc: "optname",
  // ATM (SunATM link type)
  lane: "none",
  metac: "none",
  bcc: "none",
  sc: "none",
  ilmic: "none",
  oam: "none",
  oamf4: "none",
  oamf4ec: "none",
  oamf4sc: "none",
  connectmsg: "none",
  metaconnect: "none",
  // MTP2 (SS7)
  fisu: "none",
  lssu: "none",
  msu: "none",
  hfisu: "none",
  hlssu: "none",
  hmsu: "none",
};

/** 802.11 frame type tests: `type mgt subtype beacon`, `subtype probe-req`. */
export const WLAN_WORDS = ["type", "subtype"] as const;

/** Fields compared with a number or relation: `vpi 1`, `sio > 3`. */
export const FIELD_WORDS = ["vpi", "vci", "sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls"] as const;

/** `len` (the packet length) in arithmetic. */
export const LEN_WORDS = ["len", "length"] as const;

/** `mask` between two dotted addresses: `net 10.0.0.0 mask 255.0.0.0`. */
export const MASK_WORD = "mask";

/**
 * Names the scanner turns into numbers (offsets and flag values for `tcp[tcpflags] & tcp-syn`).
 * libpcap reads these as NUM tokens.
 */
export const NAMED_NUMBERS: Readonly<Record<string, number>> = {
  icmptype: 0,
  icmpcode: 1,
  "icmp-echoreply": 0,
  "icmp-unreach": 3,
  "icmp-sourcequench": 4,
  "icmp-redirect": 5,
  "icmp-echo": 8,
  "icmp-routeradvert": 9,
  "icmp-routersolicit": 10,
  "icmp-timxceed": 11,
  "icmp-paramprob": 12,
  "icmp-tstamp": 13,
  "icmp-tstampreply": 14,
  "icmp-ireq": 15,
  "icmp-ireqreply": 16,
  "icmp-maskreq": 17,
  "icmp-maskreply": 18,
  icmp6type: 0,
  icmp6code: 1,
  "icmp6-destinationunreach": 1,
  "icmp6-packettoobig": 2,
  "icmp6-timeexceeded": 3,
  "icmp6-parameterproblem": 4,
  "icmp6-echo": 128,
  "icmp6-echoreply": 129,
  "icmp6-multicastlistenerquery": 130,
  "icmp6-multicastlistenerreportv1": 131,
  "icmp6-multicastlistenerdone": 132,
  "icmp6-routersolicit": 133,
  "icmp6-routeradvert": 134,
  "icmp6-neighborsolicit": 135,
  "icmp6-neighboradvert": 136,
  "icmp6-redirect": 137,
  "icmp6-routerrenum": 138,
  "icmp6-nodeinformationquery": 139,
  "icmp6-nodeinformationresponse": 140,
  "icmp6-ineighbordiscoverysolicit": 141,
  "icmp6-ineighbordiscoveryadvert": 142,
  "icmp6-multicastlistenerreportv2": 143,
  "icmp6-homeagentdiscoveryrequest": 144,
  "icmp6-homeagentdiscoveryreply": 145,
  "icmp6-mobileprefixsolicit": 146,
  "icmp6-mobileprefixadvert": 147,
  "icmp6-certpathsolicit": 148,
  "icmp6-certpathadvert": 149,
  "icmp6-multicastrouteradvert": 151,
  "icmp6-multicastroutersolicit": 152,
  "icmp6-multicastrouterterm": 153,
  tcpflags: 13,
  "tcp-fin": 0x01,
  "tcp-syn": 0x02,
  "tcp-rst": 0x04,
  "tcp-push": 0x08,
  "tcp-ack": 0x10,
  "tcp-urg": 0x20,
  "tcp-ece": 0x40,
  "tcp-cwr": 0x80,
};

export type KeywordRole =
  | "protocol"
  | "direction"
  | "type"
  | "proto"
  | "logical"
  | "cast"
  | "primitive"
  | "wlan"
  | "field"
  | "len"
  | "mask"
  | "named-number";

const ROLES = new Map<string, KeywordRole>();
const add = (words: readonly string[], role: KeywordRole) => {
  for (const w of words) ROLES.set(w, role);
};
add(PROTOCOLS, "protocol");
add(DIRECTIONS, "direction");
add(TYPES, "type");
add(PROTO_WORDS, "proto");
add(LOGICAL, "logical");
add(CAST_WORDS, "cast");
add(Object.keys(OTHER_PRIMITIVES), "primitive");
add(WLAN_WORDS, "wlan");
add(FIELD_WORDS, "field");
add(LEN_WORDS, "len");
add([MASK_WORD], "mask");
add(Object.keys(NAMED_NUMBERS), "named-number");

/** The role of a reserved word, or undefined for a plain name. libpcap's keywords are case-sensitive. */
export function keywordRole(word: string): KeywordRole | undefined {
  return ROLES.get(word);
}

export function allKeywords(): string[] {
  return [...ROLES.keys()];
}
