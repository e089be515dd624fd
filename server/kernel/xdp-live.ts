/**
 * The kernel's own packet generator: BPF_PROG_RUN of an XDP program with
 * BPF_F_TEST_XDP_LIVE_FRAMES, as xdp-trafficgen does (net/bpf/test_run.c, Linux ≥ 5.18).
 *
 * In live mode the kernel builds `repeat` real xdp_frames from data_in (in page_pool pages,
 * `batch_size` at a time, default 64), runs the program on each as if it had arrived on
 * ctx.ingress_ifindex, and acts on the verdict for real: XDP_TX becomes a redirect back to that
 * same device, so the frame is handed to its ndo_xdp_xmit. On a veth that is the peer's receive
 * ring: sent from the namespace end, the frames arrive on the host end, where the program under
 * test sees them. No socket, no skb, no copy per packet from user space: one syscall sends
 * millions.
 *
 * What the receiving veth needs (drivers/net/veth.c, veth_xdp_xmit): frames are only taken when
 * the peer's receive queue has NAPI running, which it has while an XDP program is attached to it
 * in native mode or GRO is on. Otherwise every frame is dropped (ENXIO, counted as a tx error).
 * The traffic job checks this before sending: see `hostReady`.
 *
 * Only whole syscalls are counted: a run either completes its `repeat` or fails, so `sent` is
 * exact. A job is split into chunks (one worker request each, see server/isolate/operations.ts)
 * so that it can be stopped between them and reports progress.
 */
import { assemble } from "../../lib/ebpf/asm";
import { encodeProgram } from "../../lib/ebpf/codec";
import { exit, mov64Imm } from "../../lib/ebpf/insn";
import { PlaygroundError } from "../../lib/errors";
import { progTestRun } from "../native/bpf";
import { closeFd, ifNameToIndex } from "../native/libc";
import { loadProgram } from "./load";
import { inNetns } from "./netns";

export const BPF_F_TEST_XDP_LIVE_FRAMES = 2;
const XDP_TX = 3;
/** struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
const XDP_MD_SIZE = 24;
/** The largest linear frame an XDP test run takes with 4 KiB pages (see test-run.ts). */
export const LIVE_MAX_FRAME = 3520;

/** One chunk of a live job: each frame sent `repeats[i]` times, in list order. */
export interface LiveChunk {
  frames: Uint8Array[];
  repeats: number[];
  /** The interface inside the namespace the frames leave from. */
  ifname: string;
  batchSize?: number;
}

export interface LiveChunkResult {
  sent: number;
  /** Time spent inside the syscalls. */
  elapsedNs: number;
}

function xdpMd(frameLen: number, ingressIfindex: number): Uint8Array {
  // The kernel insists on data = data_meta = 0 and data_end = the frame's length, and no
  // egress_ifindex; ingress_ifindex picks the device (and its rx queue 0).
  const md = new Uint8Array(XDP_MD_SIZE);
  const v = new DataView(md.buffer);
  v.setUint32(4, frameLen, true);
  v.setUint32(12, ingressIfindex, true);
  return md;
}

/** The tiny program that turns every frame into a transmit on its ingress device. */
export function txProgramInsns(): Uint8Array {
  return encodeProgram(assemble([mov64Imm("r0", XDP_TX), exit()]).raw);
}

/**
 * Sends one chunk from inside the namespace open at `nsFd` (synchronous: the calling thread
 * enters the namespace for the duration). Runs in a worker process, never on the agent's loop.
 */
export function sendLiveChunk(nsFd: number, chunk: LiveChunk): LiveChunkResult {
  if (chunk.frames.length !== chunk.repeats.length) throw new PlaygroundError("kernel/traffic", "one repeat count per frame");
  for (const f of chunk.frames) {
    if (f.length < 14 || f.length > LIVE_MAX_FRAME) throw new PlaygroundError("kernel/traffic", `a live frame must be 14..${LIVE_MAX_FRAME} bytes (got ${f.length})`);
  }
  const loaded = loadProgram({ insns: txProgramInsns(), type: "xdp", logLevel: 0, name: "bpg_live_tx" });
  if (!loaded.ok) throw new PlaygroundError("kernel/traffic", `the XDP_TX program was refused: ${loaded.errnoName}`);
  try {
    return inNetns(`/proc/self/fd/${nsFd}`, () => {
      const ifindex = ifNameToIndex(chunk.ifname);
      if (!ifindex) throw new PlaygroundError("kernel/traffic", `no interface ${chunk.ifname} in the demo namespace`);
      let sent = 0;
      let ns = 0;
      const t0 = process.hrtime.bigint();
      chunk.frames.forEach((frame, i) => {
        let left = chunk.repeats[i]!;
        while (left > 0) {
          const repeat = Math.min(left, 0xffffffff);
          progTestRun({
            progFd: loaded.fd,
            dataIn: frame,
            dataOutSize: 0,
            repeat,
            ctxIn: xdpMd(frame.length, ifindex),
            flags: BPF_F_TEST_XDP_LIVE_FRAMES,
            batchSize: chunk.batchSize ?? 0,
          });
          sent += repeat;
          left -= repeat;
        }
      });
      ns = Number(process.hrtime.bigint() - t0);
      return { sent, elapsedNs: ns };
    });
  } finally {
    closeFd(loaded.fd);
  }
}

/**
 * Splits `count` frames cycling through `frameCount` distinct ones into chunks of at most
 * `perChunk` packets: the per-frame repeat counts of each chunk. Frame i of the list is sent
 * floor(count / n) times, plus once more for the first count mod n frames, exactly as often as
 * cycling would send it (the order within a chunk is grouped by frame, not interleaved).
 */
export function planChunks(frameCount: number, count: number, perChunk: number): number[][] {
  const base = Math.floor(count / frameCount);
  const extra = count % frameCount;
  const want = Array.from({ length: frameCount }, (_, i) => base + (i < extra ? 1 : 0));
  const chunks: number[][] = [];
  let cur = new Array<number>(frameCount).fill(0);
  let room = perChunk;
  for (let i = 0; i < frameCount; i++) {
    let left = want[i]!;
    while (left > 0) {
      const take = Math.min(left, room);
      cur[i] = cur[i]! + take;
      left -= take;
      room -= take;
      if (room === 0) {
        chunks.push(cur);
        cur = new Array<number>(frameCount).fill(0);
        room = perChunk;
      }
    }
  }
  if (room < perChunk) chunks.push(cur);
  return chunks;
}
