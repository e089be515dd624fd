/**
 * Talks to POST /api/compile while the user types: the first keystroke after a pause goes out at
 * once, later ones at most every 100 ms (the last one always), a superseded request is aborted,
 * and every answer is cached so that typing back over old text costs nothing.
 */
import type { CompileResponse } from "../../server/web/compile-handler";

export type { CompileResponse };

export interface CompileParams {
  filter: string;
  dlt: number;
  snaplen: number;
  optimize: boolean;
}

const INTERVAL_MS = 100;
const CACHE_SIZE = 256;

export class CompileClient {
  private readonly cache = new Map<string, CompileResponse>();
  private inflight: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastSent = -Infinity;
  private latest: { key: string; params: CompileParams } | null = null;

  constructor(private readonly deliver: (params: CompileParams, result: CompileResponse, ms: number) => void) {}

  static key(p: CompileParams): string {
    return JSON.stringify([p.filter, p.dlt, p.snaplen, p.optimize]);
  }

  request(params: CompileParams): void {
    const key = CompileClient.key(params);
    this.latest = { key, params };
    const hit = this.cache.get(key);
    if (hit) {
      this.cancelPending();
      this.deliver(params, hit, 0);
      return;
    }
    const wait = this.lastSent + INTERVAL_MS - performance.now();
    if (wait <= 0 && this.timer === null) this.send();
    else if (this.timer === null) this.timer = setTimeout(() => this.send(), Math.max(wait, 0));
  }

  private cancelPending(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.inflight?.abort();
    this.inflight = null;
  }

  private send(): void {
    this.timer = null;
    const job = this.latest;
    if (!job) return;
    this.inflight?.abort();
    const ac = new AbortController();
    this.inflight = ac;
    this.lastSent = performance.now();
    const t0 = this.lastSent;
    fetch("/api/compile", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(job.params),
      signal: ac.signal,
    })
      .then((r) => r.json() as Promise<CompileResponse>)
      .then((result) => {
        if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(job.key, result);
        if (this.inflight === ac) this.inflight = null;
        if (this.latest?.key === job.key) this.deliver(job.params, result, performance.now() - t0);
      })
      .catch((e: unknown) => {
        if (ac.signal.aborted) return;
        if (this.inflight === ac) this.inflight = null;
        if (this.latest?.key === job.key) {
          this.deliver(job.params, { ok: false, error: `cannot reach the compile service: ${e instanceof Error ? e.message : String(e)}`, badRequest: true }, 0);
        }
      });
  }
}
