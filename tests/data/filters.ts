/**
 * The project's filter list: tcpdump expressions worth compiling, translating, loading and
 * verifying, each with the link types (libpcap DLT names) it is known to compile on with the
 * installed libpcap (tests/listing.test.ts checks that against tcpdump for every pair).
 *
 * Rules for entries:
 * - numeric hosts, networks and ports only, or service names from /etc/services: a host name would
 *   make libpcap (and tcpdump) call getaddrinfo, which can block for seconds without a DNS server;
 * - no expected output here: the oracle (tcpdump/libpcap) is run by the tests.
 */

export interface FilterCase {
  readonly filter: string;
  /** libpcap link-type names, as `pcap_datalink_name_to_val` and `tcpdump -y` accept them. */
  readonly dlts: readonly string[];
}

export interface RejectCase {
  readonly filter: string;
  readonly dlt: string;
}

// ---------------------------------------------------------------------------------------------
// Deterministic generators for the long filters (no randomness: the list must be stable).

/** 10.A.B.C addresses, C in 1..250, counting up from `start`. */
function ipv4(i: number, second = 1): string {
  return `10.${second}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function hostChain(n: number, second = 1): string {
  return Array.from({ length: n }, (_, i) => `host ${ipv4(i, second)}`).join(" or ");
}

function qualifiedChain(prefix: string, n: number, item: (i: number) => string): string {
  return `${prefix} ` + Array.from({ length: n }, (_, i) => item(i)).join(" or ");
}

function ipv6(i: number): string {
  return `2001:db8:${(i >> 8).toString(16)}::${(i & 0xff).toString(16)}`;
}

function mac(i: number): string {
  const b = [0x02, 0x00, 0x5e, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

// ---------------------------------------------------------------------------------------------
// The biggest filters: hundreds of hosts/ports, used by benchmarks as "the largest filters".

const LARGE_EN10MB: readonly string[] = [
  hostChain(20),
  hostChain(50),
  hostChain(100),
  hostChain(200, 2),
  qualifiedChain("ip host", 300, (i) => ipv4(i, 3)),
  qualifiedChain("ip dst host", 500, (i) => ipv4(i, 4)),
  qualifiedChain("tcp dst port", 100, (i) => String(1000 + i)),
  qualifiedChain("tcp dst port", 300, (i) => String(2000 + i)),
  qualifiedChain("ip6 host", 60, ipv6),
  qualifiedChain("ether host", 40, mac),
  Array.from({ length: 64 }, (_, i) => `net 10.${i}.0.0/16`).join(" or "),
  `tcp and (${Array.from({ length: 40 }, (_, i) => `(src host ${ipv4(i, 5)} and dst port ${8000 + i})`).join(" or ")})`,
];

// ---------------------------------------------------------------------------------------------
// Ethernet: the bulk of the list.

const EN10MB_ONLY: readonly string[] = [
  // hosts
  "host 192.168.1.1",
  "src host 10.0.0.1",
  "dst host 10.0.0.2",
  "src or dst host 172.16.0.1",
  "src and dst host 10.1.1.1",
  "ip host 10.0.0.1",
  "ip src 10.0.0.1",
  "ip dst 10.0.0.9",
  "host 10.0.0.1 or 10.0.0.2",
  "host 10.0.0.1 and not host 10.0.0.2",
  "host 0.0.0.0",
  "host 255.255.255.255",
  "ip6 host 2001:db8::1",
  "host 2001:db8::1",
  "src host fe80::1",
  "dst host ::1",
  "host ::ffff:10.0.0.1",
  "ip6 dst host ff02::1",
  "ip6 src host 2001:db8:0:0:0:0:0:2",
  "arp host 10.0.0.1",
  "rarp host 10.0.0.1",
  "arp src host 10.0.0.1",
  "arp dst 10.0.0.254",
  // link layer
  "ether host 00:11:22:33:44:55",
  "ether src 00:11:22:33:44:55",
  "ether dst ff:ff:ff:ff:ff:ff",
  "ether host 00-11-22-33-44-55",
  "ether host 0011.2233.4455",
  "ether src 00:11:22:33:44:55 and not ether dst ff:ff:ff:ff:ff:ff",
  "ether src 00:11:22:33:44:55 or ether src 66:77:88:99:aa:bb",
  "ether broadcast",
  "ether multicast",
  "broadcast",
  "multicast",
  "not ether broadcast and not ether multicast",
  "ether proto 0x88cc",
  "ether proto 0x88e5",
  "ether proto 0x8100",
  "ether proto \\ip",
  "ether proto \\arp",
  "ether proto \\ip6",
  "ether proto 0x8863 or ether proto 0x8864",
  "ether[0] & 1 != 0",
  "ether[6:4] = 0x00112233",
  "ether[0:4] = 0x01005e00",
  "ether[12:2] = 0x0800 and ip[9] = 1",
  "ether[14] = 0xaa",
  "ether[len - 1] = 0",
  "wlan host 00:11:22:33:44:55",
  "link[0] & 1 = 1",
  "link proto \\ip",
  // nets
  "net 10.0.0.0/8",
  "net 192.168.0.0/16",
  "src net 172.16.0.0/12",
  "dst net 10.1.2.0/24",
  "net 172.16.5.0/28",
  "net 10.0.0.1/32",
  "net 0.0.0.0/0",
  "net 10.0.0.0 mask 255.0.0.0",
  "src net 10.0.0.0 mask 255.255.0.0",
  "net 192.168",
  "net 10",
  "ip net 10.0.0.0/8",
  "arp net 10.0.0.0/8",
  "ip6 net 2001:db8::/32",
  "net fe80::/10",
  "src net 2001:db8:1::/48",
  "ip6 dst net ff00::/8",
  "ip and not net 10.0.0.0/8",
  "dst port 53 and not src net 10.0.0.0/8",
  "((src net 10.0.0.0/8 and dst net 192.168.0.0/16) or (src net 192.168.0.0/16 and dst net 10.0.0.0/8)) and tcp",
  // ports and port ranges
  "port 80",
  "src port 1024",
  "dst port 443",
  "tcp src port 22",
  "udp dst port 67",
  "port http",
  "tcp port ssh",
  "port domain",
  "tcp port https or tcp port smtp",
  "udp port ntp",
  "sctp port 5000",
  "port 0",
  "port 65535",
  "portrange 1-1023",
  "tcp portrange 8000-8080",
  "udp src portrange 33434-33534",
  "dst portrange 6000-6063",
  "portrange 6881-6889",
  "ip and udp port 123",
  "ip6 and port 80",
  "tcp port 80 or tcp port 443",
  "not port 22",
  "tcp dst port 80 and tcp src port 1024",
  "tcp and not port 22 and not port 80",
  "(tcp or udp) and port 53",
  "tcp port 179",
  "src host 10.0.0.1 and dst port 80",
  // protocols
  "ip",
  "ip6",
  "arp",
  "rarp",
  "tcp",
  "udp",
  "icmp",
  "icmp6",
  "igmp",
  "igrp",
  "pim",
  "sctp",
  "vrrp",
  "carp",
  "ah",
  "esp",
  "ip proto 47",
  "ip proto \\tcp",
  "ip proto \\icmp",
  "ip proto \\ospf",
  "ip6 proto 58",
  "proto 17",
  "ip proto 50 or ip proto 51",
  "atalk",
  "aarp",
  "decnet",
  "decnet host 10.23",
  "decnet src 1.2",
  "iso",
  "isis",
  "esis",
  "clnp",
  "l1",
  "iih",
  "lsp",
  "snp",
  "csnp",
  "psnp",
  "stp",
  "ipx",
  "netbeui",
  "lat",
  "sca",
  "moprc",
  "mopdl",
  "llc",
  "llc i",
  "llc s",
  "llc u",
  "llc rr",
  "llc rnr",
  "llc rej",
  "llc ui",
  "llc ua",
  "llc disc",
  "llc sabme",
  "llc test",
  "llc xid",
  "llc frmr",
  "llc dm",
  // TCP flags and ICMP types
  "tcp[tcpflags] & tcp-syn != 0",
  "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
  "tcp[tcpflags] = (tcp-syn|tcp-ack)",
  "tcp[13] = 2",
  "tcp[13] & 0x12 = 0x12",
  "tcp[tcpflags] & tcp-rst != 0",
  "tcp[tcpflags] & tcp-fin != 0",
  "tcp[tcpflags] & tcp-push != 0",
  "tcp[tcpflags] & tcp-urg != 0",
  "tcp[tcpflags] & tcp-ece != 0",
  "tcp[tcpflags] & tcp-cwr != 0",
  "tcp[8:4] != 0 and tcp[tcpflags] & tcp-ack = 0",
  "icmp or (tcp and tcp[tcpflags] & tcp-syn != 0)",
  "icmp[icmptype] = icmp-echo",
  "icmp[icmptype] == icmp-echoreply",
  "icmp[icmptype] = icmp-unreach",
  "icmp[icmptype] = icmp-timxceed",
  "icmp[0] = 8",
  "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
  "icmp[icmpcode] = 1",
  "icmp[4:2] = 0x1234",
  "icmp6[icmp6type] = icmp6-echo",
  "icmp6[icmp6type] == icmp6-neighborsolicit",
  "icmp6 and ip6[40] = 135",
  "less 64 and icmp",
  // packet accesses and arithmetic
  "ip[0] & 0xf != 5",
  "ip[0] >> 4 = 4",
  "ip[1] & 0xfc = 0xb8",
  "ip[2:2] > 1500",
  "ip[2:2] > 576 and (tcp or udp)",
  "ip[2:2] & 3 = 0",
  "ip[6] & 0x20 != 0",
  "ip[6:2] & 0x1fff != 0",
  "ip[8] < 64",
  "ip[8] % 7 = 3",
  "ip[8] ^ 0x40 = 0",
  "(ip[8] + ip[9]) * 2 > 100",
  "ip[9] = 6",
  "ip[9] = 0x11",
  "ip[9] = 021",
  "ip[9] = 6 or ip[9] = 17 or ip[9] = 1",
  "ip[12:4] = 0x0a000001",
  "ip[16:4] & 0xffffff00 = 0xc0a80100",
  "ip[12:4] = ip[16:4]",
  "ip[0:4] & 0xff000000 = 0x45000000",
  "ip6[6] = 17",
  "ip6[0:4] & 0x0ff00000 != 0",
  "ip6[1] & 0xc0 != 0",
  "ip6[4:2] > 1000",
  "ip6 and ip6[6] = 44",
  "tcp[0:2] = 80",
  "tcp[2:2] > 1023",
  "tcp[0:2] = tcp[2:2]",
  "tcp[4:4] = 0",
  "tcp[12] >> 4 > 5",
  "tcp and (tcp[2:2] = 80 or tcp[2:2] = 8080)",
  "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420",
  "tcp[(tcp[12] >> 2):4] = 0x48545450",
  "tcp port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)",
  "udp[0:2] = 53",
  "udp[4:2] > 512",
  "udp[0:2] >= 1024 and udp[2:2] >= 1024",
  "port 53 and (udp[10] & 0x80 = 0)",
  "arp[6:2] = 1",
  "arp[7] = 2",
  "arp and arp[6:2] = 2",
  "len > 100",
  "len <= 64",
  "len - 14 > 1500",
  "len * 2 > 3000",
  "len / 4 = 16",
  "len % 2 = 1",
  "len & 1 = 1",
  "len | 1 = 1",
  "len ^ 0xff = 0",
  "len << 1 > 200",
  "len >> 2 < 32",
  "- len < 0",
  "greater 1000",
  "less 128",
  "greater 1500 and tcp",
  "ip and len > 1500",
  "1 = 1",
  "len >= 0",
  "1 != 0 and ip",
  // tunnels and encapsulations
  "vlan",
  "vlan 100",
  "vlan and ip",
  "vlan 10 and vlan 20",
  "vlan and tcp port 80",
  "vlan 100 and host 10.0.0.1",
  "vlan and ip6",
  "vlan and mpls",
  "not vlan",
  "vlan 4095",
  "mpls",
  "mpls 100",
  "mpls and ip",
  "mpls 100 and mpls 200",
  "mpls and host 10.0.0.1",
  "mpls and ip6",
  "pppoed",
  "pppoes",
  "pppoes 0x1234",
  "pppoes and ip",
  "pppoes and tcp port 80",
  "pppoes and ip6",
  "pppoes 1 and udp port 53",
  "geneve",
  "geneve 100",
  "geneve and ip",
  "geneve and ether host 00:11:22:33:44:55",
  "udp port 6081",
  "udp port 4789 and udp[8] & 0x08 != 0",
  "udp port 4789 and udp[8:4] & 0x08000000 != 0 and udp[28:2] = 0x0800",
  // broadcast/multicast, protochain, Linux ancillary data
  "ip broadcast",
  "ip multicast",
  "ip6 multicast",
  "ip6 and not ip6 multicast",
  "protochain 6",
  "ip protochain 6",
  "ip6 protochain 17",
  "protochain \\udp",
  "inbound",
  "outbound",
  "ifindex 2",
  // negations and boolean combinations
  "not tcp",
  "not (tcp or udp)",
  "not not ip",
  "not ip and not ip6",
  "!(host 10.0.0.1 or host 10.0.0.2)",
  "not (arp or rarp)",
  "!ip",
  "ip && tcp",
  "tcp || udp",
  "ip and (tcp or udp) and not (port 22 or port 53)",
  "(host 10.0.0.1 and port 80) or (host 10.0.0.2 and port 443) or (host 10.0.0.3 and portrange 1000-2000)",
  "tcp and (src net 10.0.0.0/8 or dst net 10.0.0.0/8) and not (tcp[tcpflags] & tcp-rst != 0)",
  "not (ip6 or arp) and (udp port 53 or tcp port 53) and len > 60",
  "(ip and ip[8] < 5) or (ip6 and ip6[7] < 5)",
  "vlan and (host 10.0.0.1 or host 10.0.0.2) and not port 22",
  "(ether multicast and not ether broadcast) or (ip and ip[19] = 255)",
];

// ---------------------------------------------------------------------------------------------
// Link-layer-independent IP filters, tried on every link type that carries IP.

const IP_LINKS = ["EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "PPP"] as const;
const IP_LINKS_MORE = [...IP_LINKS, "IPV4", "IEEE802_11", "FDDI", "C_HDLC", "SLIP", "IEEE802"] as const;

const PORTABLE_IPV4: readonly string[] = [
  "tcp port 80",
  "udp port 53",
  "host 10.0.0.1",
  "net 192.168.0.0/16",
  "icmp",
  "tcp[tcpflags] & tcp-syn != 0",
  "ip[8] < 64",
  "ip and len > 576",
  "ip proto 47",
  "src host 10.0.0.1 and dst portrange 1024-65535",
  "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420",
  "not tcp port 22",
];

const PORTABLE_IP_BOTH: readonly string[] = [
  "ip",
  "ip6",
  "tcp",
  "udp",
  "ip or ip6",
  "port 443",
  "portrange 6000-6063",
  "tcp or udp",
  "icmp or icmp6",
  "host 2001:db8::1",
  "net 2001:db8::/32",
  "ip6 and udp port 547",
  "greater 1000",
  "ip6[6] = 58",
  "ip multicast or ip6 multicast",
  "protochain 17",
];

// ---------------------------------------------------------------------------------------------
// Filters specific to one family of link types.

const LINK_SPECIFIC: readonly FilterCase[] = [
  { filter: "ip and ip[0] & 0xf = 5", dlts: ["IPV4"] },
  { filter: "ip6", dlts: ["IPV6"] },
  { filter: "tcp port 80", dlts: ["IPV6"] },
  { filter: "ip6 host 2001:db8::1", dlts: ["IPV6", "RAW"] },
  { filter: "ip6 and tcp", dlts: ["IPV6", "RAW", "LINUX_SLL2"] },
  { filter: "icmp6[icmp6type] = icmp6-echo", dlts: ["IPV6", "RAW", "NULL"] },
  { filter: "ip6 src net fe80::/10 and udp", dlts: ["IPV6", "LOOP"] },
  { filter: "ether host 00:11:22:33:44:55", dlts: ["FDDI", "IEEE802", "IEEE802_11", "IP_OVER_FC"] },
  { filter: "ether broadcast", dlts: ["FDDI", "IEEE802", "IEEE802_11"] },
  { filter: "arp", dlts: ["LINUX_SLL", "LINUX_SLL2", "PPP", "FDDI", "IEEE802_11", "ARCNET"] },
  { filter: "mpls", dlts: ["PPP", "C_HDLC"] },
  { filter: "inbound", dlts: ["LINUX_SLL", "LINUX_SLL2"] },
  { filter: "outbound and tcp", dlts: ["LINUX_SLL", "LINUX_SLL2"] },
  { filter: "ifindex 2", dlts: ["LINUX_SLL2"] },
  { filter: "ifindex 7 and udp", dlts: ["LINUX_SLL2"] },
  { filter: "iso", dlts: ["C_HDLC", "FDDI", "IEEE802_11"] },
  // 802.11
  { filter: "wlan host 00:11:22:33:44:55", dlts: ["IEEE802_11", "IEEE802_11_RADIO", "PRISM_HEADER"] },
  { filter: "wlan addr1 00:11:22:33:44:55", dlts: ["IEEE802_11", "IEEE802_11_RADIO"] },
  { filter: "wlan addr2 00:11:22:33:44:55", dlts: ["IEEE802_11"] },
  { filter: "wlan addr3 00:11:22:33:44:55", dlts: ["IEEE802_11"] },
  { filter: "wlan addr4 00:11:22:33:44:55", dlts: ["IEEE802_11"] },
  { filter: "wlan ra 00:11:22:33:44:55", dlts: ["IEEE802_11"] },
  { filter: "wlan ta 00:11:22:33:44:55", dlts: ["IEEE802_11"] },
  { filter: "wlan src 00:11:22:33:44:55", dlts: ["IEEE802_11", "IEEE802_11_RADIO"] },
  { filter: "type mgt", dlts: ["IEEE802_11", "IEEE802_11_RADIO", "PRISM_HEADER", "IEEE802_11_RADIO_AVS"] },
  { filter: "type mgt subtype beacon", dlts: ["IEEE802_11", "IEEE802_11_RADIO"] },
  { filter: "subtype probe-req", dlts: ["IEEE802_11"] },
  { filter: "type ctl", dlts: ["IEEE802_11"] },
  { filter: "type data subtype qos-data", dlts: ["IEEE802_11"] },
  { filter: "type mgt and not subtype beacon", dlts: ["IEEE802_11", "IEEE802_11_RADIO"] },
  { filter: "dir fromds", dlts: ["IEEE802_11"] },
  { filter: "dir tods", dlts: ["IEEE802_11"] },
  { filter: "dir dstods", dlts: ["IEEE802_11"] },
  { filter: "wlan[0] & 0xfc = 0x80", dlts: ["IEEE802_11", "IEEE802_11_RADIO"] },
  // pflog
  { filter: "action pass", dlts: ["PFLOG"] },
  { filter: "action block", dlts: ["PFLOG"] },
  { filter: "reason match", dlts: ["PFLOG"] },
  { filter: "rnr 1", dlts: ["PFLOG"] },
  { filter: "srnr 2", dlts: ["PFLOG"] },
  { filter: "ifname eth0", dlts: ["PFLOG"] },
  { filter: "on eth0 and tcp port 80", dlts: ["PFLOG"] },
  { filter: "ruleset main", dlts: ["PFLOG"] },
  { filter: "tcp port 80", dlts: ["PFLOG", "ENC", "IPNET", "ARCNET", "SUNATM", "PPP_ETHER", "NETANALYZER", "PPI"] },
  // SS7 MTP2/MTP3
  { filter: "sio 3", dlts: ["MTP2"] },
  { filter: "dpc 100", dlts: ["MTP2"] },
  { filter: "opc 200", dlts: ["MTP2"] },
  { filter: "sls 5", dlts: ["MTP2"] },
  { filter: "sio 3 and dpc 100 and opc 200", dlts: ["MTP2"] },
  // ATM
  { filter: "vpi 0", dlts: ["SUNATM"] },
  { filter: "vci 5", dlts: ["SUNATM"] },
  { filter: "vpi 0 and vci 32", dlts: ["SUNATM"] },
  { filter: "lane", dlts: ["SUNATM"] },
  { filter: "oamf4", dlts: ["SUNATM"] },
  { filter: "oam", dlts: ["SUNATM"] },
  { filter: "metac", dlts: ["SUNATM"] },
  { filter: "ilmic", dlts: ["SUNATM"] },
  { filter: "connectmsg", dlts: ["SUNATM"] },
  // others
  { filter: "ip", dlts: ["ARCNET", "FRELAY", "IP_OVER_FC", "ENC", "JUNIPER_ETHER", "ATM_RFC1483", "BACNET_MS_TP"] },
  { filter: "host 10.0.0.1 and tcp", dlts: ["IPNET", "SUNATM", "PPP_ETHER", "JUNIPER_ETHER"] },
];

function onEach(filters: readonly string[], dlts: readonly string[]): FilterCase[] {
  return filters.map((filter) => ({ filter, dlts: [...dlts] }));
}

/**
 * The biggest filters of the list (hundreds of hosts/ports), all for EN10MB, for benchmarks.
 * With the optimizer, libpcap's own compile time grows super-linearly: the 200-host chain takes
 * about 0.4 s in pcap_compile alone.
 */
export const LARGE_FILTERS: readonly string[] = [
  hostChain(100),
  hostChain(200, 2),
  qualifiedChain("ip host", 300, (i) => ipv4(i, 3)),
  qualifiedChain("ip dst host", 500, (i) => ipv4(i, 4)),
  qualifiedChain("tcp dst port", 300, (i) => String(2000 + i)),
];

/** One case per distinct filter, its link types merged in first-seen order. */
function merge(cases: readonly FilterCase[]): FilterCase[] {
  const byFilter = new Map<string, string[]>();
  for (const c of cases) {
    const dlts = byFilter.get(c.filter) ?? [];
    for (const d of c.dlts) if (!dlts.includes(d)) dlts.push(d);
    byFilter.set(c.filter, dlts);
  }
  return [...byFilter].map(([filter, dlts]) => ({ filter, dlts }));
}

export const FILTER_CASES: readonly FilterCase[] = merge([
  ...onEach(EN10MB_ONLY, ["EN10MB"]),
  ...onEach(LARGE_EN10MB, ["EN10MB"]),
  ...onEach(PORTABLE_IPV4, IP_LINKS_MORE),
  ...onEach(PORTABLE_IP_BOTH, IP_LINKS),
  ...LINK_SPECIFIC,
]);

/**
 * Filters libpcap refuses, each for a different reason (syntax, ranges, unsupported on the link
 * type, arithmetic, netmask). tests/listing.test.ts checks that tcpdump refuses them too.
 */
export const REJECT_CASES: readonly RejectCase[] = [
  { filter: "foo bar", dlt: "EN10MB" },
  { filter: "tcp port", dlt: "EN10MB" },
  { filter: "port 65536", dlt: "EN10MB" },
  { filter: "portrange 2000-99999", dlt: "EN10MB" },
  { filter: "host 10.0.0.256", dlt: "EN10MB" },
  { filter: "net 10.0.0.0/33", dlt: "EN10MB" },
  { filter: "net 10.0.0.1/24", dlt: "EN10MB" },
  { filter: "ether host 00:11:22:33:44:5g", dlt: "EN10MB" },
  { filter: "ip[8] / 0 = 0", dlt: "EN10MB" },
  { filter: "ip[8] % 0 = 0", dlt: "EN10MB" },
  { filter: "ip[0:3] = 1", dlt: "EN10MB" },
  { filter: "vlan 4096", dlt: "EN10MB" },
  { filter: "mpls 1048576", dlt: "EN10MB" },
  { filter: "pppoes 65536", dlt: "EN10MB" },
  { filter: "ip6 proto \\icmp6", dlt: "EN10MB" },
  { filter: "radio", dlt: "EN10MB" },
  { filter: "ospf", dlt: "EN10MB" },
  { filter: "0 = 1", dlt: "EN10MB" }, // only with the optimizer: "expression rejects all packets"
  { filter: "ip6 and tcp[tcpflags] & tcp-syn != 0", dlt: "IPV6" }, // tcp[] is IPv4-only in 1.10
  { filter: "vlan", dlt: "LINUX_SLL" },
  { filter: "type mgt", dlt: "EN10MB" },
  { filter: "action pass", dlt: "EN10MB" },
  { filter: "sio 3", dlt: "EN10MB" },
  { filter: "vpi 0", dlt: "EN10MB" },
  { filter: "ip", dlt: "IPV6" },
  { filter: "arp", dlt: "RAW" },
  { filter: "ether host 00:11:22:33:44:55", dlt: "RAW" },
  { filter: "vlan", dlt: "RAW" },
  { filter: "ip6", dlt: "IPV4" },
  { filter: "tcp port 80", dlt: "MTP2" },
  { filter: "sio 256", dlt: "MTP2" },
  { filter: "(tcp", dlt: "EN10MB" },
  { filter: "tcp)", dlt: "EN10MB" },
  { filter: "not", dlt: "EN10MB" },
  { filter: "tcp[tcpflags] & tcp-bogus != 0", dlt: "EN10MB" },
];
