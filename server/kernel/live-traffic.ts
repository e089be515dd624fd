/**
 * A traffic job of the "xdp-live" mode: the frames are sent by the kernel's packet generator
 * (xdp-live.ts) from inside the demo namespace, one worker request per chunk, so the agent's
 * event loop only waits for replies. The job is stopped between chunks; `sent` counts whole
 * chunks, which the kernel either sent completely or not at all.
 */
import { execFile } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { promisify } from "node:util";
import { PlaygroundError } from "../../lib/errors";
import type { TrafficResult, TrafficRun } from "./traffic";
import { LIVE_MAX_FRAME, type LiveChunk, type LiveChunkResult } from "./xdp-live";

const run = promisify(execFile);

/** Runs one chunk somewhere off the event loop (the agent: its isolate pool) with the namespace fd borrowed. */
export type LiveChunkSender = (chunk: LiveChunk, nsFd: number) => Promise<LiveChunkResult>;

export interface LiveTrafficOptions {
  frames: readonly Uint8Array[];
  /** Exactly this many frames, cycling through the list in order. */
  count: number;
  /** Frames per kernel batch (default the kernel's 64). */
  batchSize?: number;
  /** Packets per worker request (default 1M, about a second at the rates seen). */
  chunkPackets?: number;
  onProgress?: (sent: number) => void;
}

export interface HostEnd {
  /**
   * Whether the host end takes XDP frames from its peer: veth_xdp_xmit only queues them for a
   * receive queue that has NAPI, which it has while a native-mode XDP program is attached (or GRO
   * is on, which this does not check). Without it the kernel drops every frame and the syscall
   * still succeeds, so a job must not start.
   */
  takesXdpFrames: boolean;
  /** veth_xdp_xmit drops (silently, again) a frame longer than the receiver's MTU + 14 + a VLAN tag. */
  maxFrame: number;
}

export async function hostEnd(hostIf: string): Promise<HostEnd> {
  const out = (await run("ip", ["-j", "-d", "link", "show", "dev", hostIf])).stdout;
  const link = (JSON.parse(out) as Array<{ mtu?: number; xdp?: { mode?: number; attached?: Array<{ mode?: number }> } }>)[0];
  const xdp = link?.xdp;
  // XDP_ATTACHED_DRV = 1; XDP_ATTACHED_MULTI = 4 lists each mode.
  const takesXdpFrames = xdp?.mode === 1 || (xdp?.mode === 4 && (xdp.attached ?? []).some((a) => a.mode === 1));
  return { takesXdpFrames, maxFrame: Math.min(LIVE_MAX_FRAME, (link?.mtu ?? 1500) + 14 + 4) };
}

export function startLiveTraffic(net: { nsPath: string; nsIf: string; hostIf: string }, send: LiveChunkSender, opts: LiveTrafficOptions): TrafficRun {
  if (opts.frames.length === 0) throw new PlaygroundError("kernel/traffic", "no frames to send");
  for (const f of opts.frames) {
    if (f.length < 14 || f.length > LIVE_MAX_FRAME) throw new PlaygroundError("kernel/traffic", `an xdp-live frame must be 14..${LIVE_MAX_FRAME} bytes (got ${f.length})`);
  }
  if (!Number.isSafeInteger(opts.count) || opts.count < 1) throw new PlaygroundError("kernel/traffic", "xdp-live traffic needs a count");
  let stopped = false;
  const frames = [...opts.frames];
  const done = (async (): Promise<TrafficResult> => {
    const host = await hostEnd(net.hostIf);
    if (!host.takesXdpFrames) {
      throw new PlaygroundError(
        "kernel/traffic-host-not-ready",
        `${net.hostIf} would drop every live XDP frame: a veth takes them only with an XDP program attached in native mode (attach one with xdpMode "native") or GRO on`,
      );
    }
    const long = frames.findIndex((f) => f.length > host.maxFrame);
    if (long >= 0) throw new PlaygroundError("kernel/traffic", `frame ${long} has ${frames[long]!.length} bytes; ${net.hostIf} takes at most ${host.maxFrame} (its MTU)`);
    const nsFd = openSync(net.nsPath, "r");
    const t0 = process.hrtime.bigint();
    let sent = 0;
    try {
      const per = opts.chunkPackets ?? 1_000_000;
      while (sent < opts.count && !stopped) {
        const r = await send({ frames, start: sent, count: Math.min(per, opts.count - sent), ifname: net.nsIf, batchSize: opts.batchSize }, nsFd);
        sent += r.sent;
        opts.onProgress?.(sent);
      }
    } finally {
      closeSync(nsFd);
    }
    const elapsedNs = Number(process.hrtime.bigint() - t0);
    return { sent, elapsedNs, pps: elapsedNs > 0 ? sent / (elapsedNs / 1e9) : 0 };
  })();
  return { pid: -1, done, stop: () => void (stopped = true) };
}
