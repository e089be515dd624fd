/**
 * A connection's programs: compile, load, unload, inspect and testRun, and the table of what it
 * has loaded. The kernel work of each (libpcap, the verifier, the dumps, BPF_PROG_TEST_RUN) runs
 * in a worker process inside one of the connection's job slots, within the operation's budget;
 * only the program's fd comes back, and from then on it is this table's to close.
 */
import type { CbpfInsn } from "../../lib/cbpf";
import { formatProgram as formatCbpf } from "../../lib/cbpf";
import type { ParamsOf, ResultOf } from "../../lib/protocol";
import type { ResultSpec, Target } from "../../lib/translate";
import type { ProgKind } from "../kernel/prog-types";
import { isHostCounts } from "../kernel/host-verdict";
import { tail, type ObjectMap } from "../kernel/object-load";
import { fail, type Scope } from "./scope";
import { compileSpec, verdictOf } from "./programs";

/**
 * How testRun decides that a packet matched:
 * - "retval": from the program's return value (a translated filter, or an object without a
 *   counts map: non-zero);
 * - "counts": a host object returns XDP_PASS/TCX_NEXT whatever its filter says, so the packet
 *   matched when its run grew the host's counts map at COUNT_MATCHED (server/kernel/host-verdict.ts).
 */
export type VerdictSource = { kind: "retval"; match: (retval: number) => boolean } | { kind: "counts"; countsFd: number };

/** What an entry loaded from an ELF object (loadObject) owns besides its program. */
export interface ObjectPart {
  section: string;
  /** The maps libbpf created; the entry closes their fds with the program's. */
  maps: ObjectMap[];
  /** Attachments of this program that are live: its counters then move under a test run. */
  attachments: number;
}

export interface ProgramEntry {
  fd: number;
  kind: ProgKind;
  target: Target;
  name: string;
  progId: number;
  cbpf: CbpfInsn[] | null;
  dlt: number;
  verdict: VerdictSource;
  /** Set for a program loaded from an object. */
  object: ObjectPart | null;
  /** Requests whose worker is using the fd; unloading waits for them before closing it. */
  users: number;
  released: boolean;
}

/** The protocol's target a program kind attaches as (raw_tp and fentry are the skb-tracing "kprobe" target). */
function targetOfKind(kind: ProgKind): Target {
  return kind === "socket" || kind === "tc" || kind === "xdp" ? kind : "kprobe";
}

const LIBBPF_LOG_CHARS = 60 << 10;

/** Base64 the schema has already checked, decoded natively (packets arrive by the thousand). */
export function bytesOf(b64: string): Uint8Array {
  const b = Buffer.from(b64, "base64");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function progName(target: Target, given?: string): string {
  return given && given.length > 0 ? given : `bpg_${target}`;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export class ProgramTable {
  readonly #programs = new Map<number, ProgramEntry>();

  constructor(private readonly scope: Scope) {}

  get size(): number {
    return this.#programs.size;
  }

  entries(): IterableIterator<[number, ProgramEntry]> {
    return this.#programs.entries();
  }

  get(handle: number): ProgramEntry {
    const p = this.#programs.get(handle);
    if (!p) throw fail("agent/no-such-handle", `no program with handle ${handle} on this connection`);
    return p;
  }

  async compile(id: number, p: ParamsOf<"compile">): Promise<ResultOf<"compile">> {
    const { backend, limits } = this.scope.ctx;
    const c = await this.scope.jobs.run({ id, op: "compile" }, limits.budgets.compileMs, (job) => compileSpec(backend, p, job));
    return { dlt: c.dlt, insns: c.insns.map(({ code, jt, jf, k }) => ({ code, jt, jf, k: k >>> 0 })), text: formatCbpf(c.insns, "d") };
  }

  async load(id: number, p: ParamsOf<"load">): Promise<ResultOf<"load">> {
    const { backend, limits } = this.scope.ctx;
    if (this.#programs.size >= limits.programsPerConnection) {
      throw fail("agent/limit", `at most ${limits.programsPerConnection} programs per connection; unload some first`);
    }
    const result = p.result as ResultSpec | undefined;
    const name = progName(p.target, p.name);
    const { built, r } = await this.scope.jobs.run({ id, op: "load" }, limits.budgets.loadMs, async (job) => {
      const built = await backend.buildProgram({ source: p.program, target: p.target, ...(result ? { result } : {}) }, job());
      const r = await backend.loadProgram(
        { insns: built.insns, type: built.kind, logLevel: (p.logLevel ?? 1) as 0 | 1 | 2, stats: p.stats ?? false, name, maxLogSize: limits.logBytes },
        job(),
      );
      return { built, r };
    });
    const translation = built.translation ?? undefined;
    const stats = { ...r.stats };
    if (!r.ok) {
      return { outcome: "rejected", errno: r.errno, errnoName: r.errnoName, log: r.log, logTruncated: r.logTruncated, stats, ...(translation ? { translation } : {}) };
    }
    if (this.scope.disposed() || this.#programs.size >= limits.programsPerConnection) {
      // The connection closed (or filled up) while the verifier ran: the program is nobody's.
      backend.closeFd(r.fd);
      if (this.scope.disposed()) throw fail("agent/closed", "the connection closed");
      throw fail("agent/limit", `at most ${limits.programsPerConnection} programs per connection; unload some first`);
    }
    let info;
    try {
      info = backend.progInfo(r.fd);
    } catch (e) {
      backend.closeFd(r.fd);
      throw e;
    }
    const handle = this.scope.newHandle();
    this.#programs.set(handle, {
      fd: r.fd,
      kind: built.kind,
      target: p.target,
      name,
      progId: info.id,
      cbpf: built.cbpf,
      dlt: built.dlt,
      verdict: { kind: "retval", match: verdictOf(result) },
      object: null,
      users: 0,
      released: false,
    });
    return {
      outcome: "loaded",
      handle,
      progId: info.id,
      tag: info.tag,
      insns: built.insns.length / 8,
      log: r.log,
      logTruncated: false,
      stats,
      ...(translation ? { translation } : {}),
    };
  }

  /**
   * One program of an ELF object, loaded by libbpf in a worker with its maps. A host object (one
   * with the `counts` map of bpf/include/playground.h) is judged by its counter in testRun.
   */
  async loadObject(id: number, p: ParamsOf<"loadObject">): Promise<ResultOf<"loadObject">> {
    const { backend, limits } = this.scope.ctx;
    const full = () => fail("agent/limit", `at most ${limits.programsPerConnection} programs per connection; unload some first`);
    if (this.#programs.size >= limits.programsPerConnection) throw full();
    const bytes = bytesOf(p.object);
    const o = await this.scope.jobs.run({ id, op: "loadObject" }, limits.budgets.loadMs, (job) =>
      backend.loadObject({ bytes, logLevel: (p.logLevel ?? 1) as 0 | 1 | 2, maxLogSize: limits.logBytes, objectName: "client", ...(p.program ? { program: p.program } : {}) }, job()),
    );
    const closeAll = () => {
      backend.closeFd(o.fd);
      for (const m of o.maps) backend.closeFd(m.fd);
    };
    if (this.scope.disposed() || this.#programs.size >= limits.programsPerConnection) {
      closeAll();
      if (this.scope.disposed()) throw fail("agent/closed", "the connection closed");
      throw full();
    }
    let info;
    try {
      info = backend.progInfo(o.fd);
    } catch (e) {
      closeAll();
      throw e;
    }
    const counts = o.maps.find(isHostCounts);
    const verdict: VerdictSource = counts ? { kind: "counts", countsFd: counts.fd } : { kind: "retval", match: (r) => r !== 0 };
    const handle = this.scope.newHandle();
    this.#programs.set(handle, {
      fd: o.fd,
      kind: o.program.kind,
      target: targetOfKind(o.program.kind),
      name: o.program.name.slice(0, 15),
      progId: info.id,
      cbpf: null,
      dlt: 1,
      verdict,
      object: { section: o.program.section, maps: o.maps, attachments: 0 },
      users: 0,
      released: false,
    });
    return {
      handle,
      progId: info.id,
      tag: info.tag,
      name: o.program.name,
      progType: o.program.kind,
      section: o.program.section,
      insns: o.program.insns,
      log: o.log,
      libbpfLog: tail(o.libbpfLog, LIBBPF_LOG_CHARS),
      maps: o.maps.map(({ name, type, keySize, valueSize, maxEntries }) => ({ name, type, keySize, valueSize, maxEntries })),
      verdictSource: verdict.kind,
    };
  }

  release(handle: number): void {
    const p = this.#programs.get(handle);
    if (!p) return;
    this.#programs.delete(handle);
    p.released = true;
    if (p.users === 0) this.#close(p);
  }

  /** The program's fd and, for an object, its maps' (an attachment holds its own duplicates). */
  #close(p: ProgramEntry): void {
    const backend = this.scope.ctx.backend;
    backend.closeFd(p.fd);
    for (const m of p.object?.maps ?? []) backend.closeFd(m.fd);
  }

  /**
   * Runs kernel work on a program's fd. The worker borrows the fd when it starts, so the fd must
   * stay open (and keep its number) until the work is over, even if the program is unloaded or
   * the connection closes meanwhile; the last user closes it then.
   */
  async #using<T>(prog: ProgramEntry, work: () => Promise<T>): Promise<T> {
    prog.users++;
    try {
      return await work();
    } finally {
      if (--prog.users === 0 && prog.released) this.#close(prog);
    }
  }

  releaseAll(): void {
    for (const handle of [...this.#programs.keys()]) this.release(handle);
  }

  unload(p: ParamsOf<"unload">): ResultOf<"unload"> {
    this.get(p.handle);
    this.release(p.handle);
    return {};
  }

  async inspect(id: number, p: ParamsOf<"inspect">): Promise<ResultOf<"inspect">> {
    const prog = this.get(p.handle);
    const { backend, limits } = this.scope.ctx;
    const d = await this.#using(prog, () => this.scope.jobs.run({ id, op: "inspect" }, limits.budgets.inspectMs, (job) => backend.dumpProgram(prog.fd, job())));
    return {
      info: {
        id: d.info.id,
        name: d.info.name,
        tag: d.info.tag,
        kind: d.info.kind,
        verifiedInsns: d.info.verifiedInsns,
        xlatedBytes: d.info.xlatedLen,
        jitedBytes: d.info.jitedLen,
        runCnt: Number(d.info.runCnt),
        runTimeNs: Number(d.info.runTimeNs),
        mapIds: d.info.mapIds,
      },
      xlated: d.xlatedText,
      jit: d.jit.map((f) => ({
        address: f.address.toString(16),
        lines: f.lines.map((l) => ({ offset: l.offset, bytes: hex(l.bytes), text: l.text })),
      })),
      counts: d.counts,
    };
  }

  async testRun(id: number, p: ParamsOf<"testRun">): Promise<ResultOf<"testRun">> {
    const prog = this.get(p.handle);
    if (prog.kind !== "socket" && prog.kind !== "tc" && prog.kind !== "xdp") {
      throw fail("kernel/test-run", `BPF_PROG_TEST_RUN cannot run ${prog.kind} programs on packets; attach them to the demo network instead`);
    }
    const repeat = p.repeat ?? 1;
    const { backend, limits: l } = this.scope.ctx;
    if (p.packets.length > l.packetsPerRun) throw fail("agent/limit", `at most ${l.packetsPerRun} packets per test run`);
    if (p.packets.length * repeat > l.runsPerRequest) {
      throw fail("agent/limit", `${p.packets.length} packets x repeat ${repeat} exceeds ${l.runsPerRequest} runs per request`);
    }
    const verdict = prog.verdict;
    if (verdict.kind === "counts" && (prog.object?.attachments ?? 0) > 0) {
      throw fail("agent/busy", `program ${p.handle} is attached: live packets move the counts map its test-run verdicts are read from; detach it first`);
    }
    const packets = p.packets.map(bytesOf);
    const linkType = p.linkType ?? prog.dlt;
    const t0 = performance.now();
    const countsFd = verdict.kind === "counts" ? verdict.countsFd : undefined;
    const runs = await this.#using(prog, () =>
      this.scope.jobs.run({ id, op: "testRun" }, l.budgets.testRunMs, (job) => backend.testRun(prog.fd, { kind: prog.kind, packets, linkType, repeat }, job(), countsFd)),
    );
    let matched = 0;
    let nsSum = 0;
    let ran = 0;
    const results: ResultOf<"testRun">["results"] = runs.map((r) => {
      if (!r.ok) return r.errnoName ? { status: "error", code: r.code, message: r.message, errnoName: r.errnoName } : { status: "error", code: r.code, message: r.message };
      const match = verdict.kind === "retval" ? verdict.match(r.retval) : (r.matchedRuns ?? 0) > 0;
      if (match) matched++;
      nsSum += r.durationNs;
      ran++;
      return { status: "ok", retval: r.retval, match, ns: r.durationNs };
    });
    return { results, matched, verdictSource: verdict.kind, nsPerPacket: ran > 0 ? nsSum / ran : null, wallMs: performance.now() - t0 };
  }
}
