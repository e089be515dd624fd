/**
 * `run --inject HOST`: the filter spliced into the project's host program (lib/inject), the
 * patched object loaded with its maps by libbpf (server/kernel/object-load.ts, in-process: the
 * hosts are the project's own, built by scripts/build-bpf.sh), and every packet run with
 * BPF_PROG_TEST_RUN. A host passes every packet whatever its stub says, so the verdict is whether
 * the run grew the host's counts map at COUNT_MATCHED (server/kernel/host-verdict.ts): the value
 * reported per packet is that growth, 1 or 0.
 *
 * What can run:
 * - xdp, tc: Ethernet captures (EN10MB). Their stub is L2 and the test run frames from the
 *   Ethernet header; for other link types the frame would be a made-up one, so they are refused
 *   with a message, as `--engine kernel` refuses them for these targets.
 * - skb: the host is a raw tracepoint (netif_receive_skb) program, and the kernel has no
 *   BPF_PROG_TEST_RUN with packet data for raw_tp programs; refused with a message (the agent
 *   attaches it to the demo network instead).
 * Frames a tc/xdp test run refuses (see server/engines/kernel.ts) run through the same filter's
 * standalone socket-filter translation, reported once on stderr, as the kernel engine does.
 */
import { closeWith } from "./lifetime";
import { PlaygroundError } from "../../lib/errors";
import { HOST_OBJECTS, hostKindOf, injectFilter, LINKTYPE_EN10MB, type HostKind } from "../../lib/inject";
import type { CbpfInsn } from "../../lib/cbpf";
import type { CapturedPacket } from "../../lib/pcap";
import { kernelUnavailableReason } from "../kernel/kernel-info";
import { closeLoadedObject, loadObject, type LoadedObject } from "../kernel/object-load";
import { HostCounts, isHostCounts, runCounted } from "../kernel/host-verdict";
import { PacketRunner, type PacketRun } from "../kernel/packet-runner";
import { hostObjectFile, readObjectFile } from "../inject";
import { FALLBACK_CODES, kernelVerdicts, XDP_LINEAR_MAX, type KernelVerdicts } from "./kernel";
import type { EngineFactory, PacketVerdict } from "../run-capture";

/** Why `run --inject HOST` cannot judge a capture of link type `dlt` (null when it can; dlt omitted: the host alone). */
export function injectRunRefusal(host: HostKind, dlt?: number): string | null {
  if (host === "skb") {
    return "the skb host is a raw tracepoint program (netif_receive_skb), and the kernel has no BPF_PROG_TEST_RUN with packet data for raw_tp programs; use --inject xdp or tc, or attach the skb host to the demo network through the agent";
  }
  if (dlt !== undefined && dlt !== LINKTYPE_EN10MB) {
    return `the ${host} host's stub is L2 and its test run takes Ethernet frames; this capture's link type (DLT ${dlt}) has none, so the filter would see a made-up Ethernet header. Use --engine kernel --target socket for other link types`;
  }
  return null;
}

/** A loaded patched host and its per-packet verdicts. */
export interface InjectedHost {
  readonly object: LoadedObject;
  /** How many of the runs on `data` the stub accepted (0 or 1 with repeat 1). */
  verdict(data: Uint8Array, index?: number): number;
  close(): void;
}

/** Splices `program` (compiled for Ethernet) into the host, loads it and returns its verdicts. */
export function injectedHost(program: readonly CbpfInsn[], host: HostKind, opts: { object?: Uint8Array; onNote?: (note: string) => void } = {}): InjectedHost {
  const refusal = injectRunRefusal(host, LINKTYPE_EN10MB);
  if (refusal) throw new PlaygroundError("run/inject-host", refusal);
  const patched = injectFilter({ object: opts.object ?? readObjectFile(hostObjectFile(host)), cbpf: program, linkType: LINKTYPE_EN10MB });
  const object = loadObject({ bytes: patched.bytes, program: HOST_OBJECTS[host].program, logLevel: 0, objectName: `${host}_host` });
  const counts = object.maps.find(isHostCounts);
  if (!counts) {
    closeLoadedObject(object);
    throw new PlaygroundError("run/inject-host", `the ${host} host object has no "counts" map to read verdicts from`);
  }
  const kind = object.program.kind;
  const runner = new PacketRunner(object.fd, kind);
  const hostCounts = new HostCounts(counts.fd);
  let fallback: KernelVerdicts | null = null;
  let closed = false;
  const viaSocket = (data: Uint8Array, why: string, index: number | undefined): number => {
    fallback ??= kernelVerdicts(program, LINKTYPE_EN10MB, "socket");
    opts.onNote?.(`packet ${index === undefined ? "" : `${index + 1} `}ran as a standalone socket filter: ${why}`);
    return fallback.verdict(data, index) !== 0 ? 1 : 0;
  };
  return {
    object,
    verdict(data, index) {
      if (closed) throw new PlaygroundError("run/inject-closed", "the injected host was closed");
      if (kind === "xdp" && data.length > XDP_LINEAR_MAX) {
        return viaSocket(data, `an XDP test run gives a program only the first ${XDP_LINEAR_MAX} bytes of a ${data.length}-byte frame`, index);
      }
      const r: PacketRun = runCounted(runner, hostCounts, data, LINKTYPE_EN10MB);
      if (!r.ok) {
        if (FALLBACK_CODES.has(r.code)) return viaSocket(data, r.message, index);
        throw new PlaygroundError(r.code, `packet ${index === undefined ? "" : `${index + 1} `}(${data.length} bytes): ${r.message}`);
      }
      return r.matchedRuns ?? 0;
    },
    close() {
      if (closed) return;
      closed = true;
      runner.close();
      closeLoadedObject(object);
      fallback?.close();
    },
  };
}

let noted = false;

/** The engine runCapture calls per link type; `request.target` names the host. */
export const injectEngine: EngineFactory = async (program, dlt, request) => {
  const host = hostKindOf(request.target);
  if (!host) throw new PlaygroundError("run/inject-host", `--inject takes xdp, tc or skb (got "${request.target}")`);
  const refusal = injectRunRefusal(host, dlt);
  if (refusal) throw new PlaygroundError("run/inject-host", refusal);
  const why = kernelUnavailableReason();
  if (why) throw new PlaygroundError("run/kernel-unavailable", `--inject loads the patched host into the running kernel, which is not possible here: ${why}`);
  const h = injectedHost(program, host, {
    onNote: (note) => {
      if (noted) return;
      noted = true;
      process.stderr.write(`bpf-playground: note: frames the kernel does not test-run on the ${host} host run through the filter's standalone socket-filter translation (first: ${note})\n`);
    },
  });
  let index = 0;
  return closeWith(((p: CapturedPacket) => h.verdict(p.data, index++)) satisfies PacketVerdict, h);
};
