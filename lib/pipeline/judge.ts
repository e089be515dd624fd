/**
 * The engines as the page, the CLI and the agent all run them: one function per engine and link
 * type that gives a packet's verdict (the filter's u32 return value, 0 = no match). A capture with
 * several link types (a pcapng with one interface per link type) has one compiled program, and so
 * one judge, per link type, as libpcap compiles the filter for each interface.
 */
import { compileFilter } from "../cbpf";
import type { CbpfInsn } from "../cbpf/insn";
import { createRunner, type Assembled } from "../ebpf";
import { PlaygroundError } from "../errors";
import type { Target } from "../translate/types";
import { contextFor } from "./engines";
import type { PipelinePacket } from "./types";

/** A packet's verdict; throws PlaygroundError when the engine cannot run it (an eBPF fault). */
export type PacketJudge = (packet: PipelinePacket) => number;

/** The cBPF program run as libpcap's bpf_filter runs it (the answers of `tcpdump -r`). */
export function cbpfJudge(insns: readonly CbpfInsn[]): PacketJudge {
  const filter = compileFilter(insns, { semantics: "libpcap" });
  return (p) => filter(p.data, p.origLen);
}

/** The translated program in the lib/ebpf interpreter, with `target`'s context for the packet's link type. */
export function ebpfJudge(program: Assembled, target: Target): PacketJudge {
  const runner = createRunner(program, target, { maxSteps: 100_000 });
  return (p) => {
    // XDP and tc programs may write packet data; translated filters never do, and the
    // interpreter bounds every write to the buffer it was given.
    const r = runner.run(contextFor(target, p.data, p.dlt, p.origLen));
    if (r.fault) {
      throw new PlaygroundError("run/ebpf-fault", `the translated ${target} program faulted at slot ${r.fault.pc}: ${r.fault.message}`, {
        kind: "insn",
        index: r.fault.pc,
      });
    }
    return r.retval >>> 0;
  };
}
