/** The page's handle on the pipeline worker: fire-and-forget runs, promises for queries. */
import type { DebugCommand, DebugSnapshot, ExportWhich, FromWorker, LoadedInfo, RunInput, ToWorker } from "./protocol";
import type { DissectNode } from "../../../lib/dissect";
import type { EngineVerdicts, PacketRow, PipelineResult } from "../../../lib/pipeline";

export interface WorkerEvents {
  result(seq: number, input: RunInput, result: PipelineResult, workerMs: number): void;
  ebpfVerdicts(seq: number, verdicts: EngineVerdicts, mismatches: Uint32Array, workerMs: number): void;
  progress(id: number, phase: string, done: number, total: number): void;
  loaded(info: LoadedInfo): void;
  loadFailed(id: number, name: string, error: string): void;
  fatal(message: string): void;
}

export interface PacketDetail {
  index: number;
  tree: DissectNode | null;
  data: Uint8Array;
  origLen: number;
  dlt: number;
}

export class PipelineClient {
  private readonly worker: Worker;
  private nextReq = 1;
  private nextId = 1;
  private readonly waiting = new Map<number, (msg: FromWorker) => void>();

  constructor(private readonly events: WorkerEvents) {
    this.worker = new Worker(new URL("./pipeline.worker.ts", import.meta.url), { type: "module", name: "pipeline" });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => events.fatal(`the pipeline worker failed: ${e.message}`);
  }

  dispose(): void {
    this.worker.terminate();
  }

  private send(msg: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  private receive(msg: FromWorker): void {
    switch (msg.type) {
      case "result":
        this.events.result(msg.seq, msg.input, msg.result, msg.workerMs);
        return;
      case "ebpf-verdicts":
        this.events.ebpfVerdicts(msg.seq, msg.verdicts, msg.mismatches, msg.workerMs);
        return;
      case "progress":
        this.events.progress(msg.id, msg.phase, msg.done, msg.total);
        return;
      case "loaded": {
        const { type: _t, ...info } = msg;
        this.events.loaded(info);
        return;
      }
      case "load-failed":
        this.events.loadFailed(msg.id, msg.name, msg.error);
        return;
      case "fatal":
        this.events.fatal(msg.message);
        return;
      default: {
        const waiter = this.waiting.get(msg.req);
        if (waiter) {
          this.waiting.delete(msg.req);
          waiter(msg);
        }
      }
    }
  }

  private ask<T>(build: (req: number) => ToWorker, pick: (msg: FromWorker) => T): Promise<T> {
    const req = this.nextReq++;
    return new Promise<T>((resolve) => {
      this.waiting.set(req, (msg) => resolve(pick(msg)));
      this.send(build(req));
    });
  }

  run(seq: number, input: RunInput): void {
    this.send({ type: "run", seq, input });
  }

  load(name: string, bytes: ArrayBuffer): number {
    const id = this.nextId++;
    this.send({ type: "load", id, name, bytes }, [bytes]);
    return id;
  }

  generate(name: string, seed: number, count: number, dlt: number): number {
    const id = this.nextId++;
    this.send({ type: "generate", id, name, seed, count, dlt });
    return id;
  }

  edit(op: "replace" | "insert" | "delete", index: number, data?: Uint8Array, dlt?: number): number {
    const id = this.nextId++;
    const msg: ToWorker = { type: "edit", id, op, index };
    if (data) msg.data = data;
    if (dlt !== undefined) msg.dlt = dlt;
    this.send(msg);
    return id;
  }

  rows(from: number, to: number): Promise<PacketRow[]> {
    return this.ask((req) => ({ type: "rows", req, from, to }), (m) => (m.type === "rows" ? m.rows : []));
  }

  detail(index: number): Promise<PacketDetail> {
    return this.ask(
      (req) => ({ type: "detail", req, index }),
      (m) => (m.type === "detail" ? { index: m.index, tree: m.tree, data: m.data, origLen: m.origLen, dlt: m.dlt } : { index, tree: null, data: new Uint8Array(0), origLen: 0, dlt: 0 }),
    );
  }

  exportCapture(which: ExportWhich): Promise<{ bytes: Uint8Array | null; count: number }> {
    return this.ask((req) => ({ type: "export", req, which }), (m) => (m.type === "export" ? { bytes: m.bytes, count: m.count } : { bytes: null, count: 0 }));
  }

  shareCapture(limit: number): Promise<{ bytes: Uint8Array | null; count: number }> {
    return this.ask((req) => ({ type: "share-capture", req, limit }), (m) => (m.type === "export" ? { bytes: m.bytes, count: m.count } : { bytes: null, count: 0 }));
  }

  /** Copies of packets [from, to) and their link types (for the kernel test runs). */
  packetBytes(from: number, to: number): Promise<{ data: Uint8Array[]; dlts: number[] }> {
    return this.ask((req) => ({ type: "packet-bytes", req, from, to }), (m) => (m.type === "packet-bytes" ? { data: m.data, dlts: m.dlts } : { data: [], dlts: [] }));
  }

  debug(cmd: DebugCommand): Promise<DebugSnapshot> {
    return this.ask((req) => ({ type: "debug", req, cmd }), (m) => {
      if (m.type === "debug") return m.snapshot;
      throw new Error("unexpected reply");
    });
  }
}
