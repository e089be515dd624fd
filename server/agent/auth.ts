/**
 * Who may talk to the agent: the checks made at the HTTP upgrade, before a WebSocket exists and
 * before any work is done. A connection must carry the per-start token in its URL and come from
 * an allowed Origin (or from no browser at all: no Origin header).
 *
 * The token is compared in constant time: both sides are hashed to 32 bytes first, so neither
 * the comparison nor its length check leaks how much of a guess was right.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { PlaygroundError } from "../../lib/errors";

/** A fresh token: 32 random bytes, base64url (43 characters, URL-safe as it is). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

const digest = (s: string): Uint8Array => new Uint8Array(createHash("sha256").update(s, "utf8").digest());

export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== "string") return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token from a request URL such as `/?token=...`; null when absent or given twice. */
export function tokenFromUrl(url: string | undefined): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url, "http://agent.invalid");
  } catch {
    return null;
  }
  if (parsed.pathname !== "/") return null;
  const all = parsed.searchParams.getAll("token");
  return all.length === 1 ? all[0]! : null;
}

/**
 * An allowed origin: an exact origin (`http://127.0.0.1:3000`) or one with any port
 * (`http://localhost:*`). Schemes and hosts compare case-insensitively, as browsers send them
 * in lower case anyway.
 */
export interface OriginRule {
  scheme: string;
  host: string;
  /** null = any port. */
  port: string | null;
}

export const DEFAULT_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"];

export function parseOriginRule(text: string): OriginRule {
  const m = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\*|\d{1,5}))?\/?$/.exec(text.trim());
  if (!m) throw new PlaygroundError("agent/origin", `not an origin: "${text}" (expected e.g. http://localhost:3000 or http://127.0.0.1:*)`);
  const scheme = m[1]!.toLowerCase();
  const port = m[3] === "*" ? null : (m[3] ?? (scheme === "https" ? "443" : "80"));
  return { scheme, host: m[2]!.toLowerCase(), port };
}

/** Whether a request's Origin header is acceptable. No header: a non-browser client, allowed. */
export function originAllowed(origin: string | string[] | undefined, rules: readonly OriginRule[]): boolean {
  if (origin === undefined) return true;
  if (Array.isArray(origin)) return false;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // includes the literal "null" origin of sandboxed frames and file: pages
  }
  if (u.origin === "null" || u.pathname !== "/" || u.search || u.username) return false;
  const scheme = u.protocol.replace(/:$/, "");
  const host = u.hostname.toLowerCase();
  const port = u.port || (scheme === "https" ? "443" : "80");
  return rules.some((r) => r.scheme === scheme && r.host === host && (r.port === null || r.port === port));
}

/** Loopback addresses the agent binds to without being told explicitly. */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  const kind = isIP(host);
  if (kind === 4) return host.startsWith("127.");
  if (kind === 6) return host === "::1" || /^::ffff:127\./i.test(host);
  return false;
}

/**
 * Whether an upgrade's Host header names this agent by a loopback name and its own port:
 * `127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT` (exactly one header, the port required).
 * Behind the Origin check and the token, this refuses a page that reached the agent through a
 * name it does not answer to (DNS rebinding), and anything proxied in under another name.
 * `extraHost` is the address given to an explicit non-loopback bind, accepted as well.
 */
export function hostAllowed(host: string | string[] | undefined, port: number, extraHost?: string): boolean {
  if (typeof host !== "string" || host.length > 300) return false;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(host);
  if (!m || Number(m[2]) !== port || m[2]!.length !== String(port).length) return false;
  const name = m[1]!.toLowerCase();
  if (name === "127.0.0.1" || name === "localhost" || name === "[::1]") return true;
  if (extraHost === undefined) return false;
  const extra = extraHost.includes(":") ? `[${extraHost.toLowerCase()}]` : extraHost.toLowerCase();
  return name === extra;
}
