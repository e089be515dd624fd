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
import { fail, type Scope } from "./scope";
import { compileSpec, verdictOf } from "./programs";

export interface ProgramEntry {
  fd: number;
  kind: ProgKind;
  target: Target;
  name: string;
  progId: number;
  cbpf: CbpfInsn[] | null;
  dlt: number;
  verdict: (retval: number) => boolean;
  /** Requests whose worker is using the fd; unloading waits for them before closing it. */
  users: number;
  released: boolean;
}

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
      verdict: verdictOf(result),
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

  release(handle: number): void {
    const p = this.#programs.get(handle);
    if (!p) return;
    this.#programs.delete(handle);
    p.released = true;
    if (p.users === 0) this.scope.ctx.backend.closeFd(p.fd);
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
      if (--prog.users === 0 && prog.released) this.scope.ctx.backend.closeFd(prog.fd);
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
    const packets = p.packets.map(bytesOf);
    const linkType = p.linkType ?? prog.dlt;
    const t0 = performance.now();
    const runs = await this.#using(prog, () =>
      this.scope.jobs.run({ id, op: "testRun" }, l.budgets.testRunMs, (job) => backend.testRun(prog.fd, { kind: prog.kind, packets, linkType, repeat }, job())),
    );
    let matched = 0;
    let nsSum = 0;
    let ran = 0;
    const results: ResultOf<"testRun">["results"] = runs.map((r) => {
      if (!r.ok) return r.errnoName ? { status: "error", code: r.code, message: r.message, errnoName: r.errnoName } : { status: "error", code: r.code, message: r.message };
      const match = prog.verdict(r.retval);
      if (match) matched++;
      nsSum += r.durationNs;
      ran++;
      return { status: "ok", retval: r.retval, match, ns: r.durationNs };
    });
    return { results, matched, nsPerPacket: ran > 0 ? nsSum / ran : null, wallMs: performance.now() - t0 };
  }
}
