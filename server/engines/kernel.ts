/**
 * `run --engine kernel --target T`: the filter translated for T, loaded into the running kernel
 * (root), and run on every packet with BPF_PROG_TEST_RUN. The verdict is the program's return
 * value, which for the "return" epilogue is the cBPF return value itself (0 = no match).
 *
 * What the kernel can run, per target and link type (server/kernel/test-run.ts has the framing):
 * - socket: every link type. The kernel's skb test run eats a 14-byte Ethernet header, so one is
 *   made up in front of the packet and a socket filter sees the packet itself at offset 0, as an
 *   AF_PACKET socket filter does, whatever the capture's link type.
 * - tc, xdp: Ethernet (EN10MB) only. Their programs read the frame from its first byte, and the
 *   kernel insists that the first 14 bytes are an Ethernet header; a raw-IP or cooked capture
 *   would be seen 14 bytes off. Other link types are refused with a message saying so rather
 *   than wrapped, because a wrapped packet would give a translated program's offsets another
 *   meaning (and `ld #pktlen` another value) than libpcap gives them.
 * - kprobe: no test run exists for it (its programs run on live traffic: use the agent).
 *
 * Ethernet frames a tc/xdp test run refuses (shorter than 14 bytes; for tc, an IPv4/IPv6
 * EtherType with a truncated IP header, which 6.18 rejects with EINVAL; for tc, frames above
 * what an skb test run takes; for xdp, frames beyond the 3520 linear bytes a test run gives, when
 * the filter reads beyond them) run through the same filter translated as a socket filter, which
 * sees the same bytes at the same offsets. Each such frame is reported through
 * `onNote`; the CLI prints one line about it on stderr.
 *
 * XDP frames above the 3520 linear bytes: when the filter's reach (lib/translate programReach:
 * the leading bytes its verdict can depend on; unbounded when it reads `len`) is within those
 * 3520 bytes, the same translation loaded with BPF_F_XDP_HAS_FRAGS takes a multi-buffer test run
 * of the whole frame: the linear part is all it reads, so the verdict is the frame's. Otherwise a
 * frags run would be wrong (direct packet access does not reach the fragments, which it would
 * take for "no match", and `len` would be the linear length), and the frame goes to the socket
 * translation as below.
 *
 * Frames too large for any skb test run (above 3712 bytes of data with 4 KiB pages, so a socket
 * filter's packet above 3698) run live instead: the socket-filter translation attached with
 * SO_ATTACH_BPF to the receiving end of an AF_UNIX datagram socketpair (socket-filter-run.ts), the
 * frame sent through it, and the verdict read as "arrived or not". The translated socket program
 * reads with LD_ABS, which the kernel serves from a non-linear skb too, and skb->len is the
 * datagram's length, so `ld [k]` and `ld #pktlen` mean what they mean in a test run. What such a
 * run observes is min(retval, length) (the bytes the socket keeps), so that is the return value
 * reported for those frames; it is non-zero exactly when retval is.
 * (A tc frame there gets the socket translation's verdict, not the tc program's: on a veth the tc
 * program would see an AF_PACKET-sent big frame with only its link header in the linear part,
 * and its direct packet access would read the rest as "no match".)
 * Above 65535 bytes no path is taken (the datagram path stops there, as an IP packet does, and
 * direct packet access cannot reach past byte 0xffff): such a packet gets no verdict; `verdict` throws a
 * PlaygroundError with code PACKET_REFUSED and the run marks the packet refused and goes on.
 *
 * Known divergences from `tcpdump -r` (lib/translate/divergences.ts): `len` is the captured length
 * under BPF_PROG_TEST_RUN, not the length on the wire, so it differs on truncated packets.
 */
import { closeWith } from "./lifetime";
import { PlaygroundError } from "../../lib/errors";
import { encodeProgram } from "../../lib/ebpf";
import { programReach, translate, type Target } from "../../lib/translate";
import type { CbpfInsn } from "../../lib/cbpf";
import type { CapturedPacket } from "../../lib/pcap";
import { kernelUnavailableReason } from "../kernel/kernel-info";
import { closeFd } from "../native/libc";
import { loadProgram } from "../kernel/load";
import { PacketRunner, type PacketRun } from "../kernel/packet-runner";
import { FilterSocketPair } from "../kernel/socket-filter-run";
import { targetOf } from "../../lib/pipeline/engines";
import { PACKET_REFUSED, type EngineFactory, type PacketVerdict } from "../run-capture";

export const DLT_EN10MB = 1;
/** Linear bytes an XDP test run gives a program without BPF_F_XDP_HAS_FRAGS (4 KiB pages). */
export const XDP_LINEAR_MAX = 3520;

/** Why `run --engine kernel` cannot use this target for this link type, or null when it can. */
export function kernelRunRefusal(target: Target, dlt: number): string | null {
  if (target === "kprobe") {
    return "BPF_PROG_TEST_RUN cannot run kprobe programs on packets; use --target socket, tc or xdp (or attach the kprobe target to live traffic through the agent)";
  }
  if ((target === "tc" || target === "xdp") && dlt !== DLT_EN10MB) {
    return `the kernel's ${target} test run takes Ethernet frames; this capture's link type (DLT ${dlt}) has none, so a ${target} program would see the packet 14 bytes off. Use --target socket, which sees the packet at offset 0 for every link type`;
  }
  return null;
}

function loadTranslated(program: readonly CbpfInsn[], target: Target, xdpHasFrags = false): number {
  const translated = translate(program, { target });
  const opts = { insns: encodeProgram(translated.program.raw), type: target, name: `bpg_run_${target}`, xdpHasFrags };
  // Without a log the verifier runs about twice as fast; a rejection is loaded again for its log.
  let r = loadProgram({ ...opts, logLevel: 0 });
  if (!r.ok) r = loadProgram({ ...opts, logLevel: 1 });
  if (!r.ok) {
    throw new PlaygroundError("run/kernel-rejected", `the kernel rejected the translated ${target} program (${r.errnoName}):\n${r.log}`);
  }
  return r.fd;
}

/** The largest packet any kernel path here carries (an AF_UNIX datagram, an IP frame). */
export const LIVE_MAX = 65535;

/** How many packets took each path (for the figures in tests and benches). */
export interface KernelPaths {
  /** BPF_PROG_TEST_RUN of the target's own program. */
  testRun: number;
  /** BPF_PROG_TEST_RUN of the socket-filter translation (tc/xdp frames their test run refuses). */
  socketTestRun: number;
  /** The socket-filter translation on a live socket (frames no skb test run takes). */
  live: number;
  /** xdp: a multi-buffer test run (BPF_F_XDP_HAS_FRAGS) of a frame above the linear 3520 bytes. */
  xdpFrags: number;
  /** No verdict: above LIVE_MAX. */
  refused: number;
}

export interface KernelVerdicts {
  /** The program's return value for one packet (captured bytes; link type as compiled). */
  verdict(data: Uint8Array, index?: number): number;
  /** Frames that ran as a socket filter because the target's test run refuses them. */
  readonly fallbacks: number;
  readonly paths: Readonly<KernelPaths>;
  /** Closes the programs and frees the buffers. */
  close(): void;
}

/** Refusals of a tc/xdp test run that a socket filter, seeing the same bytes, can still judge. */
export const FALLBACK_CODES: ReadonlySet<string> = new Set(["kernel/test-run", "kernel/test-run-short-l3"]);

/** Loads the translation of `program` for `target` and returns a per-packet runner. */
export function kernelVerdicts(
  program: readonly CbpfInsn[],
  dlt: number,
  target: Target,
  onNote?: (note: string) => void,
): KernelVerdicts {
  const refusal = kernelRunRefusal(target, dlt);
  if (refusal) throw new PlaygroundError("run/kernel-target", refusal);
  const fd = loadTranslated(program, target);
  const runner = new PacketRunner(fd, target);
  let fallback: { fd: number; runner: PacketRunner } | null = null;
  let pair: FilterSocketPair | null = null;
  let fallbacks = 0;
  const paths: KernelPaths = { testRun: 0, socketTestRun: 0, live: 0, xdpFrags: 0, refused: 0 };
  // A frags test run shows the program only the frame's linear part (direct packet access does
  // not reach the fragments, and `len` reads as that part's length), so its verdict is the
  // frame's verdict only when the filter never looks further: its reach.
  const reach = target === "xdp" ? programReach(program) : Infinity;
  let frags: { fd: number; runner: PacketRunner } | null = null;
  let closed = false;

  const socketFd = (): { fd: number; runner: PacketRunner } => {
    if (target === "socket") return { fd, runner };
    if (!fallback) {
      const sfd = loadTranslated(program, "socket");
      fallback = { fd: sfd, runner: new PacketRunner(sfd, "socket") };
    }
    return fallback;
  };

  /** The socket translation on a socketpair: what arrived is min(retval, length). */
  const live = (data: Uint8Array): PacketRun => {
    pair ??= new FilterSocketPair({ progFd: socketFd().fd });
    paths.live++;
    return { ok: true, retval: pair.run(data), durationNs: 0 };
  };

  const viaSocket = (data: Uint8Array, why: string, index: number | undefined): PacketRun => {
    fallbacks++;
    onNote?.(`packet ${index === undefined ? "" : `${index + 1} `}ran as a socket filter: ${why}`);
    const r = socketFd().runner.run(data, dlt);
    if (!r.ok && r.code === "kernel/test-run-too-large") return live(data);
    paths.socketTestRun++;
    return r;
  };

  return {
    get fallbacks() {
      return fallbacks;
    },
    paths,
    verdict(data, index) {
      if (closed) throw new PlaygroundError("run/kernel-closed", "the kernel engine was closed");
      if (data.length > LIVE_MAX) {
        paths.refused++;
        throw new PlaygroundError(PACKET_REFUSED, `a ${data.length}-byte packet is larger than any kernel path here carries (${LIVE_MAX} bytes): no kernel verdict`);
      }
      let r: PacketRun;
      if (target === "xdp" && data.length > XDP_LINEAR_MAX && reach <= XDP_LINEAR_MAX) {
        if (!frags) {
          const ffd = loadTranslated(program, "xdp", true);
          frags = { fd: ffd, runner: new PacketRunner(ffd, "xdp") };
        }
        r = frags.runner.run(data, dlt);
        if (r.ok) paths.xdpFrags++;
        // More fragments than the kernel builds (MAX_SKB_FRAGS pages): the socket translation.
        else r = viaSocket(data, `a multi-buffer XDP test run refused the ${data.length}-byte frame: ${r.message}`, index);
      } else if (target === "xdp" && data.length > XDP_LINEAR_MAX) {
        r = viaSocket(
          data,
          `an XDP test run gives a program only the first ${XDP_LINEAR_MAX} bytes of a ${data.length}-byte frame in its linear part, and this filter ${reach === Infinity ? "reads len or an unbounded offset" : `reads up to byte ${reach}`}`,
          index,
        );
      } else {
        r = runner.run(data, dlt);
        if (r.ok) paths.testRun++;
        else if (target === "socket" && r.code === "kernel/test-run-too-large") r = live(data);
        else if (target !== "socket" && (FALLBACK_CODES.has(r.code) || r.code === "kernel/test-run-too-large")) r = viaSocket(data, r.message, index);
      }
      if (!r.ok) {
        throw new PlaygroundError(r.code, `packet ${index === undefined ? "" : `${index + 1} `}(${data.length} bytes): ${r.message}`);
      }
      return r.retval;
    },
    close() {
      if (closed) return;
      closed = true;
      pair?.close();
      if (frags) {
        const f = frags as { fd: number; runner: PacketRunner };
        f.runner.close();
        closeFd(f.fd);
      }
      runner.close();
      closeFd(fd);
      if (fallback) {
        const f = fallback as { fd: number; runner: PacketRunner };
        f.runner.close();
        closeFd(f.fd);
      }
    },
  };
}

let noted = false;

export const kernelEngine: EngineFactory = async (program, dlt, request) => {
  const target = targetOf(request.target);
  const refusal = kernelRunRefusal(target, dlt);
  if (refusal) throw new PlaygroundError("run/kernel-target", refusal);
  const why = kernelUnavailableReason();
  if (why) throw new PlaygroundError("run/kernel-unavailable", `--engine kernel loads programs into the running kernel, which is not possible here: ${why}`);
  const k = kernelVerdicts(program, dlt, target, (note) => {
    // Once per process: a conformance run evaluates thousands of filters.
    if (noted) return;
    noted = true;
    process.stderr.write(`bpf-playground: note: frames the kernel does not test-run on ${target} run through the socket-filter translation of the same filter (first: ${note})\n`);
  });
  let index = 0;
  return closeWith(((p: CapturedPacket) => k.verdict(p.data, index++)) satisfies PacketVerdict, k);
};
