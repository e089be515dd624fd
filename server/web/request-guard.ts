/**
 * Who may call the web server's routes: only the app's own pages. A route that does work (libpcap
 * on the filter text) is otherwise reachable from any web page the user visits, which can send a
 * "simple" cross-origin POST with `fetch(…, {mode: "no-cors"})` without reading the answer, and
 * from a DNS-rebinding page that names our port under its own host name.
 *
 * The checks, each cheap and before any work:
 * - Host is a loopback name (the server binds 127.0.0.1), or one named in BPFP_ALLOWED_HOSTS;
 * - Origin is present and is that same host (browsers send it on every POST);
 * - Sec-Fetch-Site, where the browser sends it, says same-origin;
 * - the body is declared application/json (a no-cors request cannot declare it);
 * - the body is at most `maxBodyBytes`, counted while it is read, whatever Content-Length says.
 *
 * A GET (`guardGet`, for files the page fetches) gets the same Host check. Browsers send no
 * Origin on a same-origin GET, so an Origin, when present, must be ours, and Sec-Fetch-Site must
 * say same-origin where the browser sends it: a foreign page's `<script src>` or no-cors fetch
 * says cross-site.
 */
export interface GuardOptions {
  maxBodyBytes: number;
  /** Host names (without port) accepted besides the loopback ones. */
  extraHosts?: readonly string[];
}

export type Guarded = { ok: true; body: unknown } | { ok: false; status: number; error: string };

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

function hostName(hostHeader: string): string | null {
  try {
    // URL parses and normalises "name:port", "[v6]:port" and rejects junk.
    const u = new URL(`http://${hostHeader}`);
    if (u.username || u.password || u.pathname !== "/" || u.search || u.hash) return null;
    return u.hostname;
  } catch {
    return null;
  }
}

export function hostAllowed(hostHeader: string | null, extraHosts: readonly string[] = []): boolean {
  if (!hostHeader) return false;
  const name = hostName(hostHeader);
  if (name === null) return false;
  if (LOOPBACK_NAMES.has(name) || /^127(\.\d{1,3}){3}$/.test(name)) return true;
  return extraHosts.includes(name);
}

export function envExtraHosts(): string[] {
  return (process.env.BPFP_ALLOWED_HOSTS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

export function sameOrigin(origin: string | null, hostHeader: string): boolean {
  if (!origin || origin === "null") return false;
  try {
    const u = new URL(origin);
    return (u.protocol === "http:" || u.protocol === "https:") && u.host === new URL(`http://${hostHeader}`).host;
  } catch {
    return false;
  }
}

function isJson(contentType: string | null): boolean {
  if (!contentType) return false;
  return contentType.split(";")[0]!.trim().toLowerCase() === "application/json";
}

async function readLimited(request: Request, max: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Checks the caller and reads the JSON body, or says why not (and with which HTTP status). */
export async function guardJsonPost(request: Request, opts: GuardOptions): Promise<Guarded> {
  const host = request.headers.get("host");
  if (!hostAllowed(host, opts.extraHosts)) return { ok: false, status: 421, error: "this server answers only to its own loopback host name" };
  if (!sameOrigin(request.headers.get("origin"), host!)) return { ok: false, status: 403, error: "only the app's own pages may use this route" };
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return { ok: false, status: 403, error: "only the app's own pages may use this route" };
  if (!isJson(request.headers.get("content-type"))) return { ok: false, status: 415, error: "the body must be application/json" };
  const bytes = await readLimited(request, opts.maxBodyBytes);
  if (bytes === null) return { ok: false, status: 413, error: `the body is larger than ${opts.maxBodyBytes} bytes` };
  try {
    return { ok: true, body: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as unknown };
  } catch {
    return { ok: false, status: 400, error: "the body must be JSON" };
  }
}

export type GuardedGet = { ok: true } | { ok: false; status: number; error: string };

/** Checks the caller of a GET route (no body). */
export function guardGet(request: Request, opts: { extraHosts?: readonly string[] } = {}): GuardedGet {
  const host = request.headers.get("host");
  if (!hostAllowed(host, opts.extraHosts)) return { ok: false, status: 421, error: "this server answers only to its own loopback host name" };
  const origin = request.headers.get("origin");
  if (origin !== null && !sameOrigin(origin, host!)) return { ok: false, status: 403, error: "only the app's own pages may use this route" };
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return { ok: false, status: 403, error: "only the app's own pages may use this route" };
  return { ok: true };
}
