/**
 * `bpf-playground live FILTER --target xdp|tc|socket|skb [--inject HOST] --replay FILE [--rate PPS] --json`
 *
 * The agent's live path, driven from the command line: an agent runs in this process (loopback,
 * its own token) and the CLI is its client over lib/protocol, so the demo network, the counting
 * programs, the host-object attach, the traffic source and the stream are the agent's own code,
 * with the agent's clean-up: when the connection or the agent closes, every attachment is
 * detached, every fd closed and the demo network taken down.
 *
 * What a SIGKILL leaves: nothing. Attachments are bpf links (xdp, tcx, raw_tp) or a socket's filter,
 * both released with the last fd, i.e. with the process. The demo namespace has no name and is
 * held only by a holder process started with pdeathsig KILL (server/kernel/netns.ts), as is the
 * traffic source: the kernel kills them when we die and the veth pair goes with the namespace. So
 * there is no stale namespace or veth for a later run to clean up.
 *
 * Counting: counters come from the kernel's counter map (for --inject, the host's own `counts`
 * map). The replay's end is not the counters' end (frames may still be in the veth's backlog), so
 * the result is printed when the counters have stopped moving for DRAIN_QUIET_MS after the last
 * frame was sent (and, where only the veth's frames are counted, have counted them all, or stood
 * still for DRAIN_STALL_MS), then read once more after detaching. `pps` is the frames sent over
 * the traffic jobs' own sending time. The skb target's counting program counts
 * only skbs whose device is the demo veth's host end; a patched skb host (--inject skb) counts
 * every skb the raw tracepoint sees, on every interface of the machine.
 */
import { open, readFile } from "node:fs/promises";
import WebSocket from "ws";
import { CaptureStream, DLT, type CapturedPacket } from "../../lib/pcap";
import { AgentClient, AgentRequestError, toBase64, LIMITS, type WebSocketConstructor, type StreamMessage, type ParamsOf, type ResultOf } from "../../lib/protocol";
import { PlaygroundError } from "../../lib/errors";
import { hostKindOf } from "../../lib/inject";
import { parseArgs, stringFlag, boolFlag, intFlag, UsageError } from "./args";
import { filterFromPositionals } from "./compile";
import { fileChunks } from "../capture-file";

const SPEC = {
  target: { value: true, choices: ["xdp", "tc", "socket", "skb", "kprobe"] },
  inject: { value: true, choices: ["xdp", "tc", "skb", "kprobe"] },
  replay: { value: true },
  rate: { value: true },
  json: { value: false },
} as const;

/** Counters unchanged for this long after the last frame = drained. */
const DRAIN_QUIET_MS = 300;
/** Counters unchanged for this long = drained even though fewer frames were counted than sent (the veth dropped some). */
const DRAIN_STALL_MS = 3000;
/** Stream interval while waiting for the drain. */
const STREAM_MS = 50;
/** Giving up on the drain (a flood from elsewhere keeps a system-wide host's counters moving). */
const DRAIN_LIMIT_MS = 20_000;
/** Ethernet header: the veth takes frames of MTU + this many bytes. */
const ETH_HLEN = 14;

export interface LiveResult {
  sent: number;
  total: number;
  matched: number;
  events: number;
  pps: number;
  /** Frames of the capture that were not sent: larger than the veth takes, or shorter than an Ethernet header. */
  skipped: number;
  /** Matched packets the stream gave no event for (sampled or lost in the ring). */
  dropped: number;
  /** Frames in the capture. */
  frames: number;
  hook: string;
}

/** Every frame of an Ethernet capture; anything else is refused (the demo veth carries Ethernet). */
async function readEthernetFrames(file: string): Promise<Uint8Array[]> {
  const stream = new CaptureStream();
  const frames: Uint8Array[] = [];
  const take = (): void => {
    for (;;) {
      const offset = stream.offset;
      const p: CapturedPacket | undefined = stream.next();
      if (p === undefined) break;
      if (p.dlt !== DLT.EN10MB) {
        throw new PlaygroundError("live/link-type", `${file}: packet ${frames.length + 1} has link type ${p.dlt}, not Ethernet (EN10MB): the demo network's veth carries Ethernet frames only`, { kind: "byte", offset });
      }
      frames.push(p.data);
    }
  };
  for await (const chunk of fileChunks(await open(file, "r"))) {
    stream.push(chunk);
    take();
    if (stream.error) throw stream.error;
  }
  stream.end();
  take();
  if (stream.error) throw stream.error;
  return frames;
}

export async function liveCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPEC);
  const filter = filterFromPositionals(args.positionals);
  if (!filter.trim()) throw new UsageError("live needs a FILTER");
  const file = stringFlag(args, "replay");
  if (!file) throw new UsageError("live needs --replay FILE");
  const injectName = stringFlag(args, "inject");
  const host = injectName === undefined ? null : hostKindOf(injectName);
  const targetName = stringFlag(args, "target");
  if (!targetName && !host) throw new UsageError("live needs --target xdp|tc|socket|skb (or --inject HOST)");
  // The protocol's name for the skb-tracing target is "kprobe".
  const target = ((t: string) => (t === "skb" ? "kprobe" : t))(targetName ?? host!) as ParamsOf<"attach">["target"];
  if (host && target !== (host === "skb" ? "kprobe" : host)) {
    throw new UsageError(`--inject ${injectName} attaches the ${host} host; --target ${targetName} does not fit it`);
  }
  const rate = intFlag(args, "rate", 0, 100_000_000) ?? 0;
  const json = boolFlag(args, "json");

  let frames: Uint8Array[];
  try {
    frames = await readEthernetFrames(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).syscall) {
      process.stderr.write(`bpf-playground live: cannot read ${file}: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
  // The patched host is made before anything is brought up: a filter that does not compile fails here.
  let objectBytes: Uint8Array | null = null;
  if (host) {
    const { compileAndInject, hostObjectFile } = await import("../inject");
    objectBytes = compileAndInject({ filter, object: new Uint8Array(await readFile(hostObjectFile(host))) }).bytes;
  }

  const { startAgent } = await import("../agent/server");
  const agent = await startAgent({ log: (line) => process.stderr.write(`live: agent: ${line}\n`) });
  let client: AgentClient | null = null;
  let closing: Promise<void> | null = null;
  const tearDown = (): Promise<void> =>
    (closing ??= (async () => {
      client?.close();
      await agent.close();
    })());
  // SIGINT and SIGTERM: the same tear-down, then the conventional status.
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    process.stderr.write(`bpf-playground live: ${sig}: detaching and taking the demo network down\n`);
    void tearDown().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    client = await AgentClient.connect(agent.url, { WebSocket: WebSocket as unknown as WebSocketConstructor, clientName: "bpf-playground live", timeoutMs: 600_000 });
    const result = await replay(client, { filter, target, objectBytes, frames, rate });
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write(
        `${result.matched} of ${result.total} packets matched on ${result.hook}; ${result.sent} frames sent at ${Math.round(result.pps)} pps` +
          `${result.skipped ? ` (${result.skipped} skipped: larger than the veth takes)` : ""}; ${result.events} events\n`,
      );
    }
    return 0;
  } finally {
    await tearDown();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** trafficWait, again while the agent says the job is still running (a slow --rate). */
async function waitForJob(client: AgentClient, traffic: number): Promise<ResultOf<"trafficWait">> {
  for (;;) {
    try {
      return await client.request("trafficWait", { traffic, timeoutMs: 60_000 }, { timeoutMs: 90_000 });
    } catch (e) {
      if (!(e instanceof AgentRequestError && e.code === "agent/timeout")) throw e;
    }
  }
}

interface ReplayOptions {
  filter: string;
  target: ParamsOf<"attach">["target"];
  objectBytes: Uint8Array | null;
  frames: readonly Uint8Array[];
  rate: number;
}

async function replay(client: AgentClient, o: ReplayOptions): Promise<LiveResult> {
  const demo = await client.request("demoUp", {});
  // The veth's MTU as the kernel has it: a larger frame would be refused by the sending socket.
  const mtu = Number((await readFile(`/sys/class/net/${demo.hostIf}/mtu`, "utf8")).trim());
  const send = o.frames.filter((f) => f.length >= ETH_HLEN && f.length <= mtu + ETH_HLEN);

  let source: ParamsOf<"attach">["source"];
  if (o.objectBytes) {
    const loaded = await client.request("loadObject", { object: toBase64(o.objectBytes), logLevel: 0 });
    source = { kind: "handle", handle: loaded.handle };
  } else {
    source = { kind: "filter", filter: o.filter, dlt: "EN10MB" };
  }
  const att = await client.request("attach", { source, target: o.target, on: { kind: "demo" }, sampleBytes: 64 });

  let events = 0;
  let dropped = 0;
  let latest = { total: -1, matched: -1 };
  let changedAt = performance.now();
  await client.subscribe(
    att.attachment,
    (m: StreamMessage) => {
      events += m.events.length;
      dropped = m.dropped;
      if (m.counters.total !== latest.total || m.counters.matched !== latest.matched) changedAt = performance.now();
      latest = m.counters;
    },
    { intervalMs: STREAM_MS, maxEvents: LIMITS.eventsPerMessage },
  );

  // The protocol takes at most LIMITS.trafficFrames frames a job: longer captures go as successive jobs.
  let sent = 0;
  let elapsedNs = 0;
  for (let i = 0; i < send.length; i += LIMITS.trafficFrames) {
    const chunk = send.slice(i, i + LIMITS.trafficFrames);
    const job = await client.request("trafficStart", { frames: { kind: "supplied", frames: chunk.map((f) => toBase64(f)) }, count: chunk.length, ...(o.rate ? { rate: o.rate } : {}) });
    const r = await waitForJob(client, job.traffic);
    sent += r.sent;
    elapsedNs += r.elapsedNs;
  }

  // Drained: the counters have not moved for DRAIN_QUIET_MS since the last frame went out.
  const sentAt = performance.now();
  changedAt = Math.max(changedAt, sentAt);
  // A hook that counts only the demo veth's frames has drained when it has counted every frame
  // sent; a quiet spell alone could be a busy machine's stall. A system-wide host (--inject skb)
  // counts other traffic too, so for it the quiet spell is the sign.
  const perDevice = !(o.objectBytes && o.target === "kprobe");
  const drained = () => {
    const quiet = performance.now() - changedAt;
    return quiet >= DRAIN_QUIET_MS && (!perDevice || latest.total >= sent || quiet >= DRAIN_STALL_MS);
  };
  while (!drained() && performance.now() - sentAt < DRAIN_LIMIT_MS) {
    await new Promise((r) => setTimeout(r, STREAM_MS));
  }
  // Detached first, then read: these counters are final (the stream's last message came before this reply).
  const det = await client.request("detach", { attachment: att.attachment });
  return {
    sent,
    total: det.counters.total,
    matched: det.counters.matched,
    events,
    pps: elapsedNs > 0 ? Math.round(sent / (elapsedNs / 1e9)) : 0,
    skipped: o.frames.length - send.length,
    dropped,
    frames: o.frames.length,
    hook: att.hook,
  };
}
