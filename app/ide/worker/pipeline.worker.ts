/**
 * The pipeline worker: reads captures, runs `runPipeline` on every editor change, serves packet
 * rows and details on demand and hosts the step debugger. Runs are coalesced: when several edits
 * arrive while one is computing, only the newest is computed.
 */
import { generateMix } from "../../../lib/craft";
import { isPlaygroundError } from "../../../lib/errors";
import {
  captureFile,
  captureForShare,
  findMismatches,
  packetRows,
  packetTree,
  PipelineCache,
  PENDING,
  ebpfVerdictJob,
  runPipeline,
  translatedProgram,
  type PipelineResult,
  type PipelineState,
} from "../../../lib/pipeline";
import { openCapture, type CapturedPacket } from "../../../lib/pcap";
import { cbpfSession, ebpfSession, unavailableSession, type DebugSession } from "./debug-session";
import type { FromWorker, RunInput, ToWorker } from "./protocol";

const ctx = self as unknown as {
  postMessage(msg: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};

const post = (msg: FromWorker, transfer?: Transferable[]) => ctx.postMessage(msg, transfer ?? []);
const now = () => performance.now();
const messageOf = (e: unknown) => (isPlaygroundError(e) || e instanceof Error ? e.message : String(e));

/** Above this many packets the eBPF verdicts follow the first answer instead of delaying it. */
const INLINE_EBPF_PACKETS = 2000;
/** Packets per eBPF slice: a few milliseconds, so a keystroke never waits long behind one. */
const EBPF_SLICE = 500;

let packets: CapturedPacket[] = [];
const cache = new PipelineCache();
let lastInput: RunInput | null = null;
let lastResult: PipelineResult | null = null;
let pendingRun: { seq: number; input: RunInput } | null = null;
let runScheduled = false;
let session: DebugSession | null = null;

function stateOf(input: RunInput): PipelineState {
  return {
    filter: input.filter,
    dlt: input.dlt,
    snaplen: input.snaplen,
    optimize: input.optimize,
    target: input.target,
    cbpf: { ok: true, insns: input.insns },
    programs: input.programs,
    packets,
  };
}

/**
 * Run `fn` as a new task, after any message already queued. A MessageChannel, because nested
 * setTimeout(0) calls are clamped to 4 ms each.
 */
const laterQueue: (() => void)[] = [];
const laterChannel = new MessageChannel();
laterChannel.port1.onmessage = () => laterQueue.shift()?.();
function later(fn: () => void): void {
  laterQueue.push(fn);
  laterChannel.port2.postMessage(0);
}

function scheduleRun(): void {
  if (runScheduled) return;
  runScheduled = true;
  later(processRun);
}

function processRun(): void {
  runScheduled = false;
  const job = pendingRun;
  pendingRun = null;
  if (!job) return;
  const t0 = now();
  const state = stateOf(job.input);
  const deferEbpf = packets.length > INLINE_EBPF_PACKETS;
  let result: PipelineResult;
  try {
    result = runPipeline(state, { cache, skipEbpfVerdicts: deferEbpf });
  } catch (e) {
    post({ type: "fatal", message: `pipeline failed: ${messageOf(e)}` });
    return;
  }
  lastInput = job.input;
  lastResult = result;
  post({ type: "result", seq: job.seq, input: job.input, result, workerMs: now() - t0 });
  if (deferEbpf && result.ebpf.status === "ok" && result.verdicts.ebpf.message === PENDING) {
    // The eBPF column fills in slices, yielding between them: a new edit waiting in the queue
    // abandons this work and is answered at once.
    const verdictJob = ebpfVerdictJob(state, { cache });
    const seq = job.seq;
    let spent = 0;
    const slice = () => {
      if (pendingRun) return;
      const t1 = now();
      const complete = verdictJob.advance(EBPF_SLICE);
      spent += now() - t1;
      if (!complete) {
        later(slice);
        return;
      }
      const verdicts = verdictJob.result();
      const mismatches = findMismatches(result.verdicts.cbpf, verdicts);
      if (lastResult === result) {
        result.verdicts.ebpf = verdicts;
        result.verdicts.mismatches = mismatches;
      }
      post({ type: "ebpf-verdicts", seq, verdicts, mismatches, workerMs: spent });
    };
    later(slice);
  }
}

function rerunLast(): void {
  if (lastInput) {
    pendingRun = { seq: -1, input: lastInput };
    scheduleRun();
  }
}

function loadBytes(id: number, name: string, bytes: Uint8Array): void {
  const t0 = now();
  let cursor;
  try {
    cursor = openCapture(bytes);
  } catch (e) {
    post({ type: "load-failed", id, name, error: messageOf(e) });
    return;
  }
  const out: CapturedPacket[] = [];
  const total = bytes.length;
  let lastPost = now();
  try {
    for (let p = cursor.next(); p !== undefined; p = cursor.next()) {
      out.push(p);
      if ((out.length & 4095) === 0 && now() - lastPost > 50) {
        lastPost = now();
        post({ type: "progress", id, phase: "reading", done: cursor.offset, total });
      }
    }
  } catch (e) {
    post({ type: "load-failed", id, name, error: messageOf(e) });
    return;
  }
  setPackets(out);
  const info: FromWorker = {
    type: "loaded",
    id,
    name,
    count: out.length,
    dlts: [...new Set(out.map((p) => p.dlt))],
    format: cursor.format,
    ms: now() - t0,
  };
  if (cursor.error) info.error = cursor.error.message;
  post(info);
}

function setPackets(next: CapturedPacket[]): void {
  packets = next;
  session = null;
  rerunLast();
}

function handle(msg: ToWorker): void {
  switch (msg.type) {
    case "load":
      loadBytes(msg.id, msg.name, new Uint8Array(msg.bytes));
      break;
    case "generate": {
      const t0 = now();
      try {
        const crafted = generateMix(msg.seed, msg.count, { dlt: msg.dlt });
        setPackets(crafted.map((c) => ({ data: c.data, origLen: c.origLen, tsSec: c.tsSec, tsNsec: c.tsNsec, interfaceIndex: 0, linkType: 0, dlt: c.dlt })));
        post({ type: "loaded", id: msg.id, name: msg.name, count: packets.length, dlts: [msg.dlt], format: "generated", ms: now() - t0 });
      } catch (e) {
        post({ type: "load-failed", id: msg.id, name: msg.name, error: messageOf(e) });
      }
      break;
    }
    case "run":
      pendingRun = { seq: msg.seq, input: msg.input };
      scheduleRun();
      break;
    case "rows":
      post({ type: "rows", req: msg.req, rows: packetRows(packets, msg.from, msg.to) });
      break;
    case "detail": {
      const p = packets[msg.index];
      if (!p) {
        post({ type: "detail", req: msg.req, index: msg.index, tree: null, data: new Uint8Array(0), origLen: 0, dlt: 0 });
        break;
      }
      post({ type: "detail", req: msg.req, index: msg.index, tree: packetTree(p), data: p.data.slice(), origLen: p.origLen, dlt: p.dlt });
      break;
    }
    case "edit": {
      const next = packets.slice();
      const base = packets[msg.index] ?? packets[packets.length - 1];
      const made = (data: Uint8Array): CapturedPacket => ({
        data,
        origLen: data.length,
        tsSec: base?.tsSec ?? Math.floor(Date.now() / 1000),
        tsNsec: base?.tsNsec ?? 0,
        interfaceIndex: 0,
        linkType: base?.linkType ?? 0,
        dlt: msg.dlt ?? base?.dlt ?? 1,
      });
      if (msg.op === "delete") next.splice(msg.index, 1);
      else if (msg.op === "replace" && msg.data && next[msg.index]) next[msg.index] = made(msg.data);
      else if (msg.data) next.splice(Math.min(msg.index, next.length), 0, made(msg.data));
      setPackets(next);
      post({ type: "loaded", id: msg.id, name: "edited", count: packets.length, dlts: [...new Set(packets.map((p) => p.dlt))], format: "edited", ms: 0 });
      break;
    }
    case "export": {
      let chosen = packets;
      const v = lastResult?.verdicts;
      if (msg.which !== "all") {
        const ev = msg.which === "matched-cbpf" ? v?.cbpf : v?.ebpf;
        if (!ev || ev.status !== "ok") {
          post({ type: "export", req: msg.req, bytes: null, count: 0 });
          break;
        }
        chosen = packets.filter((_, i) => ev.runs[i] === 1 && ev.values[i] !== 0);
      }
      const bytes = chosen.length > 0 ? captureFile(chosen) : null;
      post({ type: "export", req: msg.req, bytes, count: chosen.length }, bytes ? [bytes.buffer] : []);
      break;
    }
    case "packet-bytes": {
      const chosen = packets.slice(msg.from, msg.to);
      const data = chosen.map((p) => p.data.slice());
      post({ type: "packet-bytes", req: msg.req, data, dlts: chosen.map((p) => p.dlt) }, data.map((d) => d.buffer));
      break;
    }
    case "share-capture": {
      const c = captureForShare(packets, msg.limit);
      post({ type: "export", req: msg.req, bytes: c?.bytes ?? null, count: c?.count ?? 0 });
      break;
    }
    case "debug": {
      const cmd = msg.cmd;
      if (cmd.op === "start") {
        // The page says which program it shows, so a run still queued here cannot confuse the two.
        const p = packets[cmd.packet];
        const prog = cmd.program;
        if (!p) session = unavailableSession(cmd.engine, cmd.packet, "select a packet to debug");
        else if (p.dlt !== prog.dlt) session = unavailableSession(cmd.engine, cmd.packet, "the packet's link type differs from the filter's");
        else if (cmd.engine === "cbpf") session = cbpfSession(prog.insns, p, cmd.packet);
        else {
          const t = translatedProgram(prog.insns, prog.target, { cache });
          session = t.program ? ebpfSession(t.program, prog.target, p, cmd.packet) : unavailableSession("ebpf", cmd.packet, t.ebpf.message ?? "no eBPF program");
        }
      } else if (session) {
        try {
          if (cmd.op === "step") session.step();
          else if (cmd.op === "back") session.back();
          else if (cmd.op === "run") session.run(new Set(cmd.breakpoints));
          else session.reset();
        } catch (e) {
          session = unavailableSession("cbpf", 0, messageOf(e));
        }
      }
      const snapshot = session?.snapshot() ?? unavailableSession("cbpf", 0, "no debug session").snapshot();
      post({ type: "debug", req: msg.req, snapshot });
      break;
    }
  }
}

ctx.onmessage = (e: MessageEvent<ToWorker>) => {
  try {
    handle(e.data);
  } catch (err) {
    post({ type: "fatal", message: messageOf(err) });
  }
};
