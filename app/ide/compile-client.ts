/**
 * Talks to POST /api/compile while the user types. At most one request is in flight: a keystroke
 * while the service is idle goes out at once (no fixed delay, so a single edit reaches the panes
 * fast); keystrokes while a request is in flight are coalesced and the newest text goes out as
 * soon as that request answers, or after 100 ms, aborting it, if it is slow (a stale answer is
 * never shown). Every answer is cached, so typing back over old text costs nothing.
 *
 * Each request names this page's session, so the server cancels the compile it superseded rather
 * than finishing it for nobody (an aborted fetch alone does not stop libpcap).
 */
import type { CompileResponse } from "../../server/web/page-compile";

export type { CompileResponse };

export interface CompileParams {
  filter: string;
  dlt: number;
  snaplen: number;
  optimize: boolean;
}

const STALE_MS = 100;
const CACHE_SIZE = 256;

export class CompileClient {
  private readonly cache = new Map<string, CompileResponse>();
  private inflight: { key: string; ac: AbortController } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private latest: { key: string; params: CompileParams } | null = null;
  private readonly session = randomSession();

  constructor(private readonly deliver: (params: CompileParams, result: CompileResponse, ms: number) => void) {}

  static key(p: CompileParams): string {
    return JSON.stringify([p.filter, p.dlt, p.snaplen, p.optimize]);
  }

  request(params: CompileParams): void {
    const key = CompileClient.key(params);
    this.latest = { key, params };
    const hit = this.cache.get(key);
    if (hit) {
      this.deliver(params, hit, 0);
      return;
    }
    if (this.inflight?.key === key) return;
    if (!this.inflight) {
      this.send();
      return;
    }
    // Busy: the newest text goes out when the current request answers, or in 100 ms at the latest.
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.inflight?.ac.abort();
      this.inflight = null;
      this.send();
    }, STALE_MS);
  }

  private send(): void {
    const job = this.latest;
    if (!job || this.cache.has(job.key)) return;
    const ac = new AbortController();
    this.inflight = { key: job.key, ac };
    const t0 = performance.now();
    const settle = () => {
      if (this.inflight?.ac === ac) this.inflight = null;
      if (this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      // Text typed meanwhile goes out now.
      if (!this.inflight && this.latest && this.latest.key !== job.key) this.request(this.latest.params);
    };
    fetch("/api/compile", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...job.params, session: this.session }),
      signal: ac.signal,
    })
      .then((r) => r.json() as Promise<CompileResponse>)
      .then((result) => {
        if (!result.ok && result.superseded) return settle();
        // A timeout may pass on a quieter machine: answer it, but do not remember it.
        if (!result.ok && result.timeout) {
          if (this.latest?.key === job.key) this.deliver(job.params, result, performance.now() - t0);
          return settle();
        }
        if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(job.key, result);
        if (this.latest?.key === job.key) this.deliver(job.params, result, performance.now() - t0);
        settle();
      })
      .catch((e: unknown) => {
        if (ac.signal.aborted) return;
        if (this.latest?.key === job.key) {
          this.deliver(job.params, { ok: false, error: `cannot reach the compile service: ${e instanceof Error ? e.message : String(e)}`, badRequest: true }, 0);
        }
        settle();
      });
  }
}

function randomSession(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
