/**
 * tcpdump as the oracle for the text forms: for each filter and link type, with and without the
 * optimiser, the program tcpdump prints with -ddd is parsed, and formatProgram must give back
 * tcpdump's -d, -dd and -ddd stdout byte for byte; parsing tcpdump's -d and -dd text must give
 * the same program.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { formatProgram } from "./format";
import type { CbpfInsn } from "./insn";
import { parseProgram } from "./parse";
import { requires } from "../../tests/support/requires";
import { programFromDdd, tcpdumpBatch, usesNoK } from "./testkit.node";
import { validateProgram } from "./validate";

/** "LINKTYPE|filter" */
const FILTERS = `
EN10MB|
EN10MB|tcp port 80
EN10MB|ip
EN10MB|ip6
EN10MB|arp
EN10MB|rarp
EN10MB|tcp
EN10MB|udp
EN10MB|icmp
EN10MB|icmp6
EN10MB|host 10.0.0.1
EN10MB|src host 192.168.1.1 and dst host 10.1.2.3
EN10MB|net 10.0.0.0/8
EN10MB|dst net 172.16.0.0 mask 255.240.0.0
EN10MB|host fe80::1
EN10MB|ip6 net 2001:db8::/32
EN10MB|port 53
EN10MB|udp port 53 or tcp port 53
EN10MB|portrange 1000-2000
EN10MB|tcp dst portrange 1-1023
EN10MB|src port 22 and not dst port 22
EN10MB|ether host 00:11:22:33:44:55
EN10MB|ether src 00:11:22:33:44:55 and ether dst ff:ff:ff:ff:ff:ff
EN10MB|ether broadcast
EN10MB|ether multicast
EN10MB|ip multicast
EN10MB|ip6 multicast
EN10MB|ether proto 0x88cc
EN10MB|ether[0] & 1 != 0
EN10MB|less 100
EN10MB|greater 1000
EN10MB|len > 100 and len < 1500
EN10MB|len = 60
EN10MB|ip[2:2] - ((ip[0]&0xf)<<2) > 20
EN10MB|tcp[tcpflags] & (tcp-syn|tcp-ack) != 0
EN10MB|tcp[tcpflags] == tcp-syn
EN10MB|tcp[13] & 7 != 0
EN10MB|tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420
EN10MB|ip[0] % 3 = 1
EN10MB|ip[1] ^ 5 = 2
EN10MB|ip[2] / 3 = 1
EN10MB|ip[3] >> 2 = 1
EN10MB|ip[4] << ip[5] = 0
EN10MB|ip[6] * 7 > 100
EN10MB|ip[8] - ip[9] = 3
EN10MB|ip[8] + ip[9] + ip[10] = 300
EN10MB|ip[7] = -ip[6]
EN10MB|ip[0] & 0xf != 5
EN10MB|ip[0] | 0x40 = 0x45
EN10MB|ip[6:2] & 0x1fff != 0
EN10MB|ip[12:4] = 0x0a000001
EN10MB|udp[8:2] = 0x1234 and udp[0:2] > 1024
EN10MB|icmp[icmptype] == icmp-echo
EN10MB|icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply
EN10MB|icmp6[icmp6type] == icmp6-echo
EN10MB|ip6[6] == 58
EN10MB|ip6[40] = 128
EN10MB|ip proto 47
EN10MB|ip6 proto 17
EN10MB|proto 132
EN10MB|ip protochain 6
EN10MB|ip6 protochain 6
EN10MB|protochain 17
EN10MB|ip6 protochain 58 and ip6 host ::1
EN10MB|vlan
EN10MB|vlan 100
EN10MB|vlan and tcp port 80
EN10MB|vlan 10 and vlan 20
EN10MB|vlan and ip host 10.0.0.1
EN10MB|mpls
EN10MB|mpls 42
EN10MB|mpls and ip
EN10MB|mpls 1 and mpls 2
EN10MB|pppoed
EN10MB|pppoes
EN10MB|pppoes 0x27 and ip
EN10MB|pppoes and tcp port 80
EN10MB|geneve
EN10MB|geneve 5
EN10MB|geneve and ip host 10.0.0.1
EN10MB|inbound
EN10MB|outbound
EN10MB|ifindex 2
EN10MB|inbound and tcp
EN10MB|ifindex 3 or ifindex 4
EN10MB|ip broadcast
EN10MB|decnet host 1.2
EN10MB|iso
EN10MB|stp
EN10MB|ipx
EN10MB|netbeui
EN10MB|atalk
EN10MB|aarp
EN10MB|lat
EN10MB|sca
EN10MB|moprc
EN10MB|mopdl
EN10MB|clnp
EN10MB|esis
EN10MB|isis
EN10MB|l1
EN10MB|llc
EN10MB|llc i
EN10MB|llc s
EN10MB|llc u
EN10MB|llc rr
EN10MB|tcp and (port 80 or port 443 or port 8080)
EN10MB|not tcp and not udp
EN10MB|(tcp or udp) and not port 53
EN10MB|host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 10.0.0.4 or host 10.0.0.5 or host 10.0.0.6 or host 10.0.0.7 or host 10.0.0.8
EN10MB|tcp src port 1234 and tcp dst port 80 and ip src 1.2.3.4
EN10MB|ip[0:4] = 0x45000054
EN10MB|ether[12:2] = 0x800 and ether[23] = 6
EN10MB|ip and ip[8] < 5
EN10MB|ip[9] = 6 and (ip[6:2] & 0x1fff) = 0 and tcp[13] = 2
EN10MB|ip and not ip[6:2] & 0x3fff = 0
EN10MB|sctp
EN10MB|sctp port 5060
EN10MB|igmp
EN10MB|pim
EN10MB|vrrp
EN10MB|carp
EN10MB|ah
EN10MB|esp
EN10MB|ip6 and tcp port 443
EN10MB|ip6 src net fe80::/10
EN10MB|ether[6:4] = 0x00112233 and ether[10:2] = 0x4455
EN10MB|ip[ip[0] & 0xf] = 0
EN10MB|tcp[tcp[12] >> 4] = 1
EN10MB|ip[0] & 0xf0 = 0x40 and ip[0] & 0xf > 5
EN10MB|ip[2:2] > 576
EN10MB|ip[2:2] / 8 * 8 = ip[2:2]
EN10MB|ip[2:2] % 100 = 0 or ip[3] ^ ip[4] = 0xff
EN10MB|udp[4:2] - 8 > 512
EN10MB|tcp[2:2] >= 1024 and tcp[2:2] <= 2048
EN10MB|ip6[0:4] & 0x0ff00000 != 0
RAW|tcp port 80
RAW|ip
RAW|ip6 and udp
RAW|host 10.0.0.1
RAW|ip[9] = 17 and udp[2:2] = 53
RAW|ip6 protochain 6
RAW|net 192.168.0.0/16 and tcp
LINUX_SLL|tcp port 80
LINUX_SLL|arp
LINUX_SLL|inbound
LINUX_SLL|outbound
LINUX_SLL|ip6 and icmp6
LINUX_SLL2|tcp port 80
LINUX_SLL2|ifindex 2
LINUX_SLL2|inbound
LINUX_SLL2|ip host 10.1.1.1
LINUX_SLL2|ip6 proto 6
NULL|tcp port 80
NULL|ip
NULL|ip6
NULL|host 127.0.0.1
LOOP|tcp port 80
LOOP|ip6
IPV4|tcp port 80
IPV4|udp
IPV4|ip[8] > 1
IPV6|tcp port 80
IPV6|icmp6
IPV6|ip6 protochain 17
PPP|tcp port 80
PPP|ip6
IEEE802_11|wlan host 00:11:22:33:44:55
IEEE802_11|type mgt subtype beacon
IEEE802_11|type data and ip
IEEE802_11_RADIO|type mgt
IEEE802_11_RADIO|tcp port 80
IEEE802|tcp port 80
FDDI|ip
C_HDLC|ip
PPP_ETHER|ip
SLIP|tcp
ATM_RFC1483|ip
PFLOG|ip
PFLOG|action pass
EN10MB|ip and ((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0
EN10MB|tcp port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)
EN10MB|icmp[0] = 8 and icmp[1] = 0
EN10MB|ip[16] >= 224
EN10MB|not ip[16] >= 224 and not ip[19] = 255
EN10MB|ether[12:2] > 1500 and ether[12:2] < 0x600
EN10MB|ip[0] = 0x45 and len <= 60
EN10MB|udp and udp[8] & 0x80 != 0
EN10MB|ip[2:2] * 3 - 7 >> 1 = 5
`
  .trim()
  .split("\n")
  .map((line) => {
    const bar = line.indexOf("|");
    return { dlt: line.slice(0, bar), expr: line.slice(bar + 1) };
  });

interface Case {
  dlt: string;
  expr: string;
  optimize: boolean;
  d: string;
  dd: string;
  ddd: string;
}

describe.skipIf(!requires("tcpdump -d/-dd/-ddd oracle", "tcpdump"))("tcpdump -d / -dd / -ddd oracle (libpcap 1.10.3)", () => {
  let cases: Case[] = [];

  beforeAll(async () => {
    const runs: { dlt: string; expr: string; optimize: boolean }[] = [];
    for (const f of FILTERS) for (const optimize of [true, false]) runs.push({ ...f, optimize });
    const args = runs.flatMap((r) =>
      (["-d", "-dd", "-ddd"] as const).map((style) => ["-y", r.dlt, ...(r.optimize ? [] : ["-O"]), style, "--", r.expr]),
    );
    const outs = await tcpdumpBatch(args);
    cases = runs.map((r, i) => ({ ...r, d: outs[3 * i]!, dd: outs[3 * i + 1]!, ddd: outs[3 * i + 2]! }));
  });

  it("compiles the whole list (at least 150 filters over several link types)", () => {
    const failed = cases.filter((c) => c.ddd === "").map((c) => `${c.dlt} ${c.expr}`);
    expect(failed).toEqual([]);
    expect(FILTERS.length).toBeGreaterThanOrEqual(150);
    expect(new Set(FILTERS.map((f) => f.dlt)).size).toBeGreaterThanOrEqual(10);
  });

  it("formatProgram reproduces -d, -dd and -ddd byte for byte", () => {
    for (const c of cases) {
      const prog = parseProgram(c.ddd);
      const label = `${c.dlt}${c.optimize ? "" : " -O"} ${c.expr}`;
      expect(prog, label).toEqual(programFromDdd(c.ddd));
      expect(formatProgram(prog, "ddd"), label).toBe(c.ddd);
      expect(formatProgram(prog, "dd"), label).toBe(c.dd);
      expect(formatProgram(prog, "d"), label).toBe(c.d);
    }
  });

  it("parses tcpdump's -d listing, -dd initialisers and the comma form back to the same program", () => {
    for (const c of cases) {
      const prog = parseProgram(c.ddd);
      const label = `${c.dlt}${c.optimize ? "" : " -O"} ${c.expr}`;
      expect(parseProgram(c.dd), label).toEqual(prog);
      expect(parseProgram(c.ddd.replace(/\n/g, ",")), label).toEqual(prog);
      // The listing does not show k of operand-less instructions; libpcap leaves those zero.
      const canonical = prog.every((p) => !usesNoK(p.code) || p.k === 0);
      if (canonical) expect(parseProgram(c.d), label).toEqual(prog);
    }
  });

  it("covers the operand forms and features the task lists", () => {
    const all = cases.map((c) => c.d).join("");
    const forms = [
      /ld +\[x \+ \d+\]/, /ldh +\[x \+ /, /ldb +\[x \+ /, /ld +#pktlen/, /ld +M\[\d+\]/, /ldx +M\[/, /st +M\[/, /stx +M\[/,
      /ldh +\[type\]/, /ld +\[ifidx\]/, /ldxb +4\*\(\[\d+\]&0xf\)/, /ja +\d+/, /jset +#0x/, /jgt +#0x/, /jge +#0x/,
      /jeq +x/, /jgt +x/, /mod +#\d/, /xor +#0x/, /lsh +x/, /rsh +#\d/, /div +#\d/, /mul +#\d/, /sub +x/, /add +x/,
      /and +#0x/, /or +#0x/, /neg +\n/, /tax +\n/, /txa +\n/, /ld +#0x/, /ldx +#0x/,
    ];
    for (const form of forms) expect(all, String(form)).toMatch(form);
    // protochain jumps backwards.
    expect(cases.some((c) => parseProgram(c.ddd).some((p: CbpfInsn) => p.code === 0x05 && (p.k | 0) < 0))).toBe(true);
  });

  it("every compiled program passes libpcap's rules; the kernel's unless it jumps backwards or uses scratch oddly", () => {
    for (const c of cases) {
      const prog = parseProgram(c.ddd);
      const label = `${c.dlt}${c.optimize ? "" : " -O"} ${c.expr}`;
      expect(validateProgram(prog, "libpcap"), label).toEqual([]);
      const backward = prog.some((p) => p.code === 0x05 && (p.k | 0) < 0);
      if (!backward) expect(validateProgram(prog, "kernel"), label).toEqual([]);
    }
  });
});
