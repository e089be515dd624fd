/**
 * Where a translated program may legitimately decide differently from libpcap's `bpf_filter`
 * (the project's oracle, `tcpdump -r`): listed once, here, each with the predicate the
 * differential tests use to whitelist exactly the cases it explains. lib/cbpf/divergences.ts
 * lists how libpcap and the kernel's *classic* BPF differ; where an entry here is the same
 * phenomenon, `cbpf` names that entry (a test checks the names exist).
 *
 * Not listed because the translation reproduces libpcap exactly: division by X = 0 (returns 0),
 * shifts by X >= 32 (A = 0), `[x+k]` with X + k >= 2^32 or >= 2^31 (no wrap-around: no match),
 * scratch memory read before written (0), constant shifts >= 32 (count mod 32, as the cBPF
 * interpreter does).
 */
import {
  BPF_ABS,
  BPF_CLASS,
  BPF_JA,
  BPF_JMP,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_MODE,
  BPF_MSH,
  BPF_OP,
  SKF_AD_OFF,
  SKF_AD_PKTTYPE,
  type CbpfInsn,
} from "../cbpf";
import { createStepper } from "../cbpf";
import { MAX_PACKET_OFF } from "./direct";
import { isHeaderRelative } from "./offsets";
import { DEFAULT_LOOP_BOUND } from "./translate";
import type { Target } from "./types";

/** One packet run through one translated program. */
export interface DivergenceCase {
  readonly prog: readonly CbpfInsn[];
  readonly target: Target;
  /** The captured bytes. */
  readonly packet: Uint8Array;
  /** Length on the wire (libpcap's `ld #pktlen`). */
  readonly wireLen: number;
  /**
   * What `ld #pktlen` read in the translated program: skb->len for socket/tc/kprobe (the engine
   * sets it to the wire length; BPF_PROG_TEST_RUN makes it the data length), data_end - data for
   * xdp. Default: the captured length for xdp, the wire length otherwise.
   */
  readonly lenSeen?: number;
  /** Bytes the translated program could read (kprobe: the skb's linear part). Default: all captured bytes. */
  readonly readable?: number;
  /** The translation's loop bound. Default DEFAULT_LOOP_BOUND. */
  readonly loopBound?: number;
}

export interface Divergence {
  readonly id: string;
  readonly title: string;
  readonly targets: readonly Target[];
  /** What happens and why, in a sentence or two (shown in the UI and docs). */
  readonly explanation: string;
  /** The entry of lib/cbpf's libpcap-vs-kernel table describing the same phenomenon, if any. */
  readonly cbpf?: string;
  /** True when this divergence can explain a different verdict on this case. */
  applies(c: DivergenceCase): boolean;
}

const isLen = (i: CbpfInsn) => i.code === (BPF_LD | BPF_LEN) || i.code === (BPF_LDX | BPF_LEN);
const isAncillary = (i: CbpfInsn) => BPF_CLASS(i.code) === BPF_LD && BPF_MODE(i.code) === BPF_ABS && i.k >>> 0 >= SKF_AD_OFF;
const isPktTypeLoad = (i: CbpfInsn) => isAncillary(i) && i.k >>> 0 === (SKF_AD_OFF + SKF_AD_PKTTYPE) >>> 0;
const isHeaderRelativeLoad = (i: CbpfInsn) =>
  ((BPF_CLASS(i.code) === BPF_LD && BPF_MODE(i.code) === BPF_ABS) || i.code === (BPF_LDX | BPF_MSH | 0x10)) && isHeaderRelative(i.k);
const hasBackwardJump = (prog: readonly CbpfInsn[]) =>
  prog.some((i) => i.code === (BPF_JMP | BPF_JA) && (i.k | 0) < 0 && BPF_OP(i.code) === BPF_JA);

/** How many backward jumps libpcap's interpreter takes on this packet (capped at `cap + 1`). */
export function backwardJumpsTaken(prog: readonly CbpfInsn[], packet: Uint8Array, wireLen: number, cap: number): number {
  const stepper = createStepper(prog, packet, { wireLen, semantics: "libpcap" });
  let taken = 0;
  for (let steps = 0; steps < 1_000_000 && taken <= cap; steps++) {
    const rec = stepper.step();
    if (rec === undefined || rec.nextPc === null) break;
    if (rec.nextPc <= rec.pc) taken++;
  }
  return taken;
}

export const DIVERGENCES: readonly Divergence[] = [
  {
    id: "pktlen",
    title: "ld #pktlen is not the wire length",
    cbpf: "len",
    targets: ["socket", "tc", "xdp", "kprobe"],
    explanation:
      "libpcap's `len` is the original length from the capture header. XDP only has the frame it was given " +
      "(data_end - data, the captured bytes); socket, tc and kprobe read skb->len, which is the wire length " +
      "for live traffic but the data length under BPF_PROG_TEST_RUN.",
    applies: (c) => {
      const seen = c.lenSeen ?? (c.target === "xdp" ? c.packet.length : c.wireLen);
      return seen >>> 0 !== c.wireLen >>> 0 && c.prog.some(isLen);
    },
  },
  {
    id: "direct-64k",
    title: "direct packet access stops at 64 KiB",
    targets: ["tc", "xdp"],
    explanation:
      "The verifier keeps packet ranges only up to offset 0xffff, so loads beyond it are translated as " +
      "'no match'. libpcap reads them in captures longer than 65535 bytes.",
    applies: (c) => (c.target === "tc" || c.target === "xdp") && c.packet.length > MAX_PACKET_OFF,
  },
  {
    id: "loop-bound",
    title: "backward jumps are unrolled a bounded number of times",
    cbpf: "backward-ja",
    targets: ["socket", "tc", "xdp", "kprobe"],
    explanation:
      "libpcap's protochain loops over IPv6/IPv4 extension headers with a backward jump. The verifier needs " +
      "provably finite programs, so the loop is unrolled loopBound times (default 8); a packet needing more " +
      "iterations does not match.",
    applies: (c) => {
      if (!hasBackwardJump(c.prog)) return false;
      const bound = c.loopBound ?? DEFAULT_LOOP_BOUND;
      return backwardJumpsTaken(c.prog, c.packet, c.wireLen, bound) > bound;
    },
  },
  {
    id: "ancillary",
    title: "Linux ancillary loads read sk_buff metadata",
    cbpf: "ancillary",
    targets: ["socket", "tc", "xdp", "kprobe"],
    explanation:
      "`ld [SKF_AD_OFF + n]` (inbound/outbound, ifindex, vlan offload...) is skb metadata in the kernel; " +
      "libpcap's offline interpreter treats it as an offset past the packet and fails the load. socket and tc " +
      "translate the __sk_buff fields, xdp and kprobe the packet type and ifindex (and every target the A ^= X " +
      "extension); the verdicts differ whenever the metadata makes the filter succeed.",
    applies: (c) => c.prog.some(isAncillary),
  },
  {
    id: "xdp-pkttype",
    title: "xdp derives the packet type from the destination MAC",
    targets: ["xdp"],
    explanation:
      "XDP has no skb->pkt_type (`inbound`/`outbound`). The translation derives it as eth_type_trans() does: " +
      "ff:ff:ff:ff:ff:ff is PACKET_BROADCAST, another group address PACKET_MULTICAST, a unicast address " +
      "PACKET_HOST: the program does not know the device's own MAC, so PACKET_OTHERHOST (a promiscuous capture " +
      "of someone else's frame) reads as PACKET_HOST. XDP only sees received frames, so PACKET_OUTGOING never " +
      "occurs (`inbound` holds, `outbound` never does), which is right. A frame shorter than a MAC address does " +
      "not match.",
    applies: (c) => c.target === "xdp" && c.prog.some(isPktTypeLoad) && (c.packet.length < 6 || (c.packet[0]! & 1) === 0),
  },
  {
    id: "header-relative",
    title: "SKF_NET_OFF / SKF_LL_OFF offsets address headers",
    cbpf: "negative-offset",
    targets: ["socket"],
    explanation:
      "On the socket target LD_ABS keeps the kernel's meaning of `ld [SKF_NET_OFF + n]` and `[SKF_LL_OFF + n]` " +
      "(byte n of the network or link-layer header); libpcap fails such loads. Other targets refuse them.",
    applies: (c) => c.target === "socket" && c.prog.some(isHeaderRelativeLoad),
  },
  {
    id: "kprobe-linear",
    title: "kprobe sees only the skb's linear data",
    targets: ["kprobe"],
    explanation:
      "The kprobe target reads skb->head + mac_header up to skb->tail, as pwru does; bytes in paged fragments " +
      "are invisible, and loads there do not match.",
    applies: (c) => c.target === "kprobe" && c.readable !== undefined && c.readable < c.packet.length,
  },
];

/** The divergences that explain a different verdict on this case (empty: the verdicts must agree). */
export function divergencesFor(c: DivergenceCase): Divergence[] {
  return DIVERGENCES.filter((d) => d.targets.includes(c.target) && d.applies(c));
}
