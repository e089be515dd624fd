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
 * Many distinct frames, one syscall: a run takes one data_in, and a syscall costs tens of ms to
 * set up (measured: 256 runs of 3,906 frames each reached 130k packets/s where one run of 1M
 * reached 0.8-1.1M). So the program writes each frame itself, as xdp-trafficgen rewrites ports:
 * data_in is as long as the longest frame; an array map holds the frames ({u32 len, bytes}); a
 * one-slot cursor map counts packets, and packet p becomes frame p mod n by
 * bpf_xdp_adjust_tail to its length and bpf_xdp_store_bytes of its bytes. The kernel restores a
 * page's original length before reusing it (reset_ctx in test_run.c), so every packet starts full
 * size. The order is the socket mode's: frames in list order, cycling.
 *
 * Only whole syscalls are counted: a run either completes its `repeat` or fails, so `sent` is
 * exact. A job is split into chunks (one worker request each, see server/isolate/operations.ts)
 * so that it can be stopped between them and reports progress.
 */
import { assemble } from "../../lib/ebpf/asm";
import { encodeProgram } from "../../lib/ebpf/codec";
import { alu64, call, exit, jmp, label, ldMapFd, ldx, mov64Imm, mov64Reg, st, stx } from "../../lib/ebpf/insn";
import { PlaygroundError } from "../../lib/errors";
import { progTestRun } from "../native/bpf";
import { closeFd, ifNameToIndex } from "../native/libc";
import { loadProgram } from "./load";
import { ArrayMap } from "./maps";
import { inNetns } from "./netns";

export const BPF_F_TEST_XDP_LIVE_FRAMES = 2;
const XDP_ABORTED = 0;
const XDP_TX = 3;
const BPF_FUNC_map_lookup_elem = 1;
const BPF_FUNC_xdp_adjust_tail = 65;
const BPF_FUNC_xdp_store_bytes = 190;
/** struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
const XDP_MD_SIZE = 24;
/** The largest linear frame an XDP test run takes with 4 KiB pages (see test-run.ts). */
export const LIVE_MAX_FRAME = 3520;

/** One chunk of a live job: packets `start` .. `start + count - 1` of the cycle through `frames`. */
export interface LiveChunk {
  frames: Uint8Array[];
  start: number;
  count: number;
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

/**
 * The generator program: packet p (the cursor's value) becomes frame p mod `n` of `framesFd`
 * (values {u32 len, bytes[maxLen]}) and is transmitted. A lookup or helper failure aborts the
 * packet (XDP_ABORTED, visible as the xdp_exception tracepoint); none is expected.
 */
export function generatorInsns(cursorFd: number, framesFd: number, n: number, maxLen: number): Uint8Array {
  return encodeProgram(
    assemble([
      mov64Reg("r6", "r1"),
      st("u32", "r10", -4, 0),
      ldMapFd("r1", cursorFd),
      mov64Reg("r2", "r10"),
      alu64("add", "r2", -4),
      call(BPF_FUNC_map_lookup_elem),
      jmp("jeq", "r0", 0, "abort"),
      ldx("u64", "r7", "r0", 0),
      mov64Reg("r8", "r7"),
      alu64("add", "r8", 1),
      stx("u64", "r0", 0, "r8"),
      alu64("mod", "r7", n),
      stx("u32", "r10", -8, "r7"),
      ldMapFd("r1", framesFd),
      mov64Reg("r2", "r10"),
      alu64("add", "r2", -8),
      call(BPF_FUNC_map_lookup_elem),
      jmp("jeq", "r0", 0, "abort"),
      mov64Reg("r9", "r0"),
      ldx("u32", "r8", "r9", 0),
      // Bounds the verifier needs for store_bytes' length; the map's lengths are all within them.
      jmp("jgt", "r8", maxLen, "abort"),
      jmp("jlt", "r8", 14, "abort"),
      // adjust_tail by len - (data_end - data): the page starts at maxLen bytes.
      ldx("u32", "r2", "r6", 4),
      ldx("u32", "r3", "r6", 0),
      alu64("sub", "r2", "r3"),
      mov64Reg("r3", "r8"),
      alu64("sub", "r3", "r2"),
      mov64Reg("r2", "r3"),
      mov64Reg("r1", "r6"),
      call(BPF_FUNC_xdp_adjust_tail),
      jmp("jne", "r0", 0, "abort"),
      mov64Reg("r1", "r6"),
      mov64Imm("r2", 0),
      mov64Reg("r3", "r9"),
      alu64("add", "r3", 4),
      mov64Reg("r4", "r8"),
      call(BPF_FUNC_xdp_store_bytes),
      jmp("jne", "r0", 0, "abort"),
      mov64Imm("r0", XDP_TX),
      exit(),
      label("abort"),
      mov64Imm("r0", XDP_ABORTED),
      exit(),
    ]).raw,
  );
}

/**
 * Sends one chunk from inside the namespace open at `nsFd` (synchronous: the calling thread
 * enters the namespace for the duration). Runs in a worker process, never on the agent's loop.
 */
export function sendLiveChunk(nsFd: number, chunk: LiveChunk): LiveChunkResult {
  const frames = chunk.frames;
  if (frames.length === 0) throw new PlaygroundError("kernel/traffic", "no frames to send");
  for (const f of frames) {
    if (f.length < 14 || f.length > LIVE_MAX_FRAME) throw new PlaygroundError("kernel/traffic", `a live frame must be 14..${LIVE_MAX_FRAME} bytes (got ${f.length})`);
  }
  const maxLen = Math.max(...frames.map((f) => f.length));
  const cursor = ArrayMap.create(1, 8, "bpg_live_cur");
  const table = ArrayMap.create(frames.length, 4 + maxLen, "bpg_live_frm");
  let progFd = -1;
  try {
    frames.forEach((f, i) => {
      const v = new Uint8Array(4 + maxLen);
      new DataView(v.buffer).setUint32(0, f.length, true);
      v.set(f, 4);
      table.set(i, v);
    });
    cursor.setU64(0, BigInt(chunk.start));
    const loaded = loadProgram({ insns: generatorInsns(cursor.fd, table.fd, frames.length, maxLen), type: "xdp", logLevel: 1, name: "bpg_live_gen" });
    if (!loaded.ok) throw new PlaygroundError("kernel/traffic", `the generator program was refused (${loaded.errnoName}): ${loaded.log.slice(-500)}`);
    progFd = loaded.fd;
    return inNetns(`/proc/self/fd/${nsFd}`, () => {
      const ifindex = ifNameToIndex(chunk.ifname);
      if (!ifindex) throw new PlaygroundError("kernel/traffic", `no interface ${chunk.ifname} in the demo namespace`);
      const page = new Uint8Array(maxLen);
      page.set(frames[0]!);
      let sent = 0;
      const t0 = process.hrtime.bigint();
      while (sent < chunk.count) {
        const repeat = Math.min(chunk.count - sent, 0xffffffff);
        progTestRun({ progFd, dataIn: page, dataOutSize: 0, repeat, ctxIn: xdpMd(maxLen, ifindex), flags: BPF_F_TEST_XDP_LIVE_FRAMES, batchSize: chunk.batchSize ?? 0 });
        sent += repeat;
      }
      return { sent, elapsedNs: Number(process.hrtime.bigint() - t0) };
    });
  } finally {
    if (progFd >= 0) closeFd(progFd);
    cursor.close();
    table.close();
  }
}
