/**
 * The page's compile service behind `POST /api/compile`: a validated body in, libpcap's program or
 * its placed error out. libpcap runs in an isolated worker process with a time budget; answers are
 * cached, so typing back and forth recompiles nothing; and a newer request from the same page
 * (its `session`) cancels the older one, so a slow stale compile never holds up the current one.
 * Kept apart from the Next route so it can be tested and benchmarked without a server.
 */
import { PlaygroundError, isPlaygroundError } from "../../lib/errors";
import { IsolatePool } from "../isolate/pool";
import { badRequest, compileCacheKey, parseCompileRequest, type CompileRequest, type CompileResponse } from "./page-compile";

export type { CompileRequest, CompileResponse };

/**
 * How long libpcap may take for one page request. tcpdump itself needs tens of seconds for a few
 * thousand OR'ed hosts, and the page must compile what tcpdump compiles; the budget is what keeps
 * a pathological filter from holding a worker for good.
 */
export const PAGE_COMPILE_BUDGET_MS = Number(process.env.BPFP_COMPILE_BUDGET_MS) || 120_000;

const CACHE_SIZE = 512;
const cache = new Map<string, CompileResponse>();
const running = new Map<string, AbortController>();

// One pool per server process, kept across Next's module reloads.
const POOL_KEY = Symbol.for("bpf-playground.web.compile-pool");
function compilePool(): IsolatePool {
  const holder = globalThis as unknown as Record<symbol, IsolatePool | undefined>;
  return (holder[POOL_KEY] ??= new IsolatePool({ name: "compile", maxWorkers: 2, warmWorkers: 1 }));
}

function remember(key: string, value: CompileResponse): CompileResponse {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}

export interface HandleOptions {
  /** The HTTP request's own signal: the page went away or aborted its fetch. */
  signal?: AbortSignal;
  /** Budget override (tests). */
  budgetMs?: number;
}

export async function handleCompile(body: unknown, opts: HandleOptions = {}): Promise<CompileResponse> {
  const req = parseCompileRequest(body);
  if (typeof req === "string") return badRequest(req);
  const key = compileCacheKey(req);
  const hit = cache.get(key);
  if (hit) return hit;

  const ac = new AbortController();
  const onAbort = () => ac.abort(new PlaygroundError("isolate/cancelled", "the page cancelled the compile request"));
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (req.session !== undefined) {
    running.get(req.session)?.abort(new PlaygroundError("compile/superseded", "a newer compile request from the same page replaced this one"));
    running.set(req.session, ac);
  }
  const budgetMs = opts.budgetMs ?? PAGE_COMPILE_BUDGET_MS;
  try {
    const { session: _session, ...work } = req;
    const { result } = await compilePool().run("pageCompile", work, { budgetMs, signal: ac.signal });
    // A refused request (unknown link type) is not worth a cache slot.
    return result.ok || !result.badRequest ? remember(key, result) : result;
  } catch (e) {
    if (!isPlaygroundError(e)) throw e;
    switch (e.code) {
      case "compile/superseded":
        return { ok: false, error: e.message, superseded: true };
      case "isolate/timeout":
        // Not cached: a quieter machine may finish it.
        return { ok: false, error: `libpcap did not finish compiling this filter within ${Math.round(budgetMs / 1000)} s; simplify it, or use the CLI, which has no time limit`, timeout: true };
      default:
        return { ok: false, error: `the compiler failed: ${e.message}` };
    }
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    if (req.session !== undefined && running.get(req.session) === ac) running.delete(req.session);
  }
}

/** Stops the compile workers (tests, shutdown). */
export function closeCompilePool(): Promise<void> {
  const holder = globalThis as unknown as Record<symbol, IsolatePool | undefined>;
  const pool = holder[POOL_KEY];
  holder[POOL_KEY] = undefined;
  return pool ? pool.close() : Promise.resolve();
}
