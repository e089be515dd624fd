/**
 * The traffic source process: sends frames on the AF_PACKET socket it inherits as fd 3 (bound by
 * its parent to the demo namespace's veth), at a rate or as fast as possible, and reports the
 * exact number sent.
 *
 * Protocol: one JSON line on stdin per job, run one after the other; JSON lines on stdout:
 * `{"progress":N}` about every 100 ms, then `{"done":true,"sent":N,"elapsedNs":T}` or
 * `{"done":false,"error":"..."}`. "stop" on stdin (or SIGTERM) ends the current job early and
 * still reports its count. The process stays for the next job (starting one costs far more than
 * a job) and exits when stdin closes.
 *
 * It is its own process so a tight send loop never stalls the agent's event loop, and it is
 * started under `setpriv --pdeathsig KILL` so it dies with its parent.
 */
import { FrameVector } from "./frame-sender";

export interface TrafficJob {
  /** Frames, base64. */
  frames: string[];
  /** Packets per second; 0 = as fast as possible. */
  rate: number;
  /** Total frames to send; null = until stopped or `durationMs`. */
  count: number | null;
  durationMs: number | null;
  batch: number;
}

const SOCKET_FD = 3;
const SLICE_NS = 20_000_000n; // yield to the event loop every 20 ms

function out(msg: object): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function run(job: TrafficJob, stopped: () => boolean): Promise<void> {
  const frames = job.frames.map((b) => new Uint8Array(Buffer.from(b, "base64")));
  const batch = Math.max(1, Math.min(job.batch, 1024));
  const vec = new FrameVector(frames, batch);
  const t0 = process.hrtime.bigint();
  const limitNs = job.durationMs === null ? null : BigInt(Math.round(job.durationMs * 1e6));
  const total = job.count ?? Number.MAX_SAFE_INTEGER;
  let sent = 0;
  let lastReport = t0;
  try {
    while (sent < total && !stopped()) {
      const sliceStart = process.hrtime.bigint();
      if (limitNs !== null && sliceStart - t0 >= limitNs) break;
      while (sent < total) {
        const now = process.hrtime.bigint();
        if (now - sliceStart >= SLICE_NS || (limitNs !== null && now - t0 >= limitNs)) break;
        let want = Math.min(batch, total - sent);
        if (job.rate > 0) {
          // Frames due by now at the requested rate, minus those already sent.
          const due = Math.floor((Number(now - t0) / 1e9) * job.rate) - sent;
          if (due <= 0) {
            const waitMs = ((sent + 1) / job.rate) * 1000 - Number(now - t0) / 1e6;
            if (waitMs > 2) break; // sleep below rather than spin
            continue;
          }
          want = Math.min(want, due);
        }
        sent += vec.send(SOCKET_FD, sent, want);
      }
      const now = process.hrtime.bigint();
      if (now - lastReport >= 100_000_000n) {
        out({ progress: sent });
        lastReport = now;
      }
      const waitMs = job.rate > 0 ? Math.max(0, ((sent + 1) / job.rate) * 1000 - Number(now - t0) / 1e6) : 0;
      await new Promise((r) => (waitMs > 1 ? setTimeout(r, Math.min(waitMs, 50)) : setImmediate(r)));
    }
    out({ done: true, sent, elapsedNs: Number(process.hrtime.bigint() - t0) });
  } finally {
    vec.free();
  }
}

async function main(): Promise<void> {
  let stop = false;
  let busy = false;
  const queue: TrafficJob[] = [];
  const next = (): void => {
    const job = queue.shift();
    if (!job) return;
    busy = true;
    stop = false;
    run(job, () => stop)
      .catch((e: unknown) => out({ done: false, error: (e as Error).message }))
      .finally(() => {
        busy = false;
        next();
      });
  };
  process.on("SIGTERM", () => {
    stop = true;
    queue.length = 0;
  });
  let buf = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === "stop") {
        stop = true;
      } else if (line) {
        queue.push(JSON.parse(line) as TrafficJob);
        if (!busy) next();
      }
    }
  });
  // The parent closed the pipe or went away: finish the current job quickly, then exit.
  process.stdin.on("end", () => {
    stop = true;
    queue.length = 0;
    const exitWhenIdle = (): void => (busy ? void setTimeout(exitWhenIdle, 10) : process.exit(0));
    exitWhenIdle();
  });
}

void main();
