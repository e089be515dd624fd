/**
 * `run --engine ebpf --target T`: the filter translated for T and run, packet by packet, in the
 * lib/ebpf interpreter with T's context (xdp_md, __sk_buff or a kprobe's pt_regs + sk_buff).
 *
 * Contexts model a live capture: socket filters see the frame from its MAC header (as on an
 * AF_PACKET socket), and skb->len is the length on the wire, which is what `ld #pktlen` means
 * to libpcap. XDP only has the captured bytes (a documented divergence, lib/translate/divergences.ts).
 */
import { createRunner, buildKprobeSkb, type ContextSpec, type Runner } from "../../lib/ebpf";
import { PlaygroundError } from "../../lib/errors";
import { TARGETS, translate, type Target, type TranslateResult } from "../../lib/translate";
import type { CbpfInsn } from "../../lib/cbpf";
import type { CapturedPacket } from "../../lib/pcap";
import type { EngineFactory, PacketVerdict } from "../run-capture";

export function targetOf(name: string): Target {
  if (!(TARGETS as readonly string[]).includes(name)) {
    throw new PlaygroundError("run/target", `unknown target "${name}" (${TARGETS.join(", ")})`);
  }
  return name as Target;
}

/** The interpreter context for one packet on `target`. */
export function contextFor(target: Target, data: Uint8Array, wireLen: number): ContextSpec {
  switch (target) {
    case "xdp":
      return { kind: "xdp", packet: data };
    case "socket":
    case "tc":
      return { kind: target, packet: data, dataOffset: 0, fields: { len: wireLen } };
    case "kprobe": {
      const { kernel, skb, layout } = buildKprobeSkb({ packet: data });
      // skb->len is the whole packet, linear part or not; the builder makes it the linear length.
      // KernelSegments hands out views of its bytes, so the field is patched in place.
      const lenField = kernel.read(skb + BigInt(layout.len), 4);
      if (lenField) new DataView(lenField.buffer, lenField.byteOffset, 4).setUint32(0, wireLen >>> 0, true);
      return { kind: "kprobe", regs: { di: skb }, kernel };
    }
  }
}

/** A verdict function running the translation of `program` for `target` in the interpreter. */
export function ebpfVerdicts(program: readonly CbpfInsn[], target: Target): { translated: TranslateResult; verdict: (data: Uint8Array, wireLen: number) => number } {
  const translated = translate(program, { target });
  const runner: Runner = createRunner(translated.program, target);
  const verdict = (data: Uint8Array, wireLen: number): number => {
    const r = runner.run(contextFor(target, data, wireLen));
    if (r.fault) {
      throw new PlaygroundError("run/ebpf-fault", `the translated ${target} program faulted at slot ${r.fault.pc}: ${r.fault.message}`, {
        kind: "insn",
        index: r.fault.pc,
      });
    }
    return r.retval >>> 0;
  };
  return { translated, verdict };
}

export const ebpfEngine: EngineFactory = async (program, _dlt, request) => {
  const { verdict } = ebpfVerdicts(program, targetOf(request.target));
  return ((p: CapturedPacket) => verdict(p.data, p.origLen)) satisfies PacketVerdict;
};
