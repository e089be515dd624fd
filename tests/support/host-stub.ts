/**
 * A built host object (bpf/build) with its filter stub's body replaced by hand-written eBPF,
 * through lib/elf's replaceInstructions: what a splice does, without lib/inject, for tests of the
 * loader and the agent that need a stub deciding something. The stub keeps the ABI: r4 is the
 * first packet byte, r5 one past the last (packet pointers on xdp and tc), r0 the answer.
 */
import { assemble, alu64, exit, jmp, label, ldx, mov64Imm, mov64Reg, type AsmItem } from "../../lib/ebpf";
import { readBpfObject, replaceInstructions, writeBpfObject } from "../../lib/elf";
import { readHostObject, type HostName } from "./bpf-objects";

/** `host`'s object with the body of `stub` (default the L2 one) replaced by `items`. */
export function hostWithStub(host: HostName, items: readonly AsmItem[], stub = "filter_pcap_ebpf_l2"): Uint8Array {
  const o = readBpfObject(readHostObject(host));
  const text = o.programs.find((p) => p.functions.some((f) => f.name === stub))!;
  const f = text.functions.find((g) => g.name === stub)!;
  return writeBpfObject(replaceInstructions(o, text.sectionIndex, f.start, f.slots, assemble(items).raw));
}

/** Accepts every packet, or none. */
export const constantStub = (match: 0 | 1): AsmItem[] => [mov64Imm("r0", match), exit()];

/**
 * IPv4 carrying TCP: EtherType 0x0800 and protocol 6, read with direct packet access behind one
 * bounds check. tcpdump's `ip proto 6` is the same test.
 */
export const IPV4_TCP_FILTER = "ip proto 6";
export const ipv4TcpStub = (): AsmItem[] => [
  mov64Reg("r1", "r4"),
  alu64("add", "r1", 24),
  jmp("jgt", "r1", "r5", "no"),
  ldx("u16", "r0", "r4", 12),
  jmp("jne", "r0", 0x0008, "no"), // 0x0800 in network order, loaded little-endian
  ldx("u8", "r0", "r4", 23),
  jmp("jne", "r0", 6, "no"),
  mov64Imm("r0", 1),
  exit(),
  label("no"),
  mov64Imm("r0", 0),
  exit(),
];
