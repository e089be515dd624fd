/**
 * What the page's compile request asks of libpcap, as one synchronous function: validate the
 * request, compile, and on an error place it on the filter text (which may compile each primitive
 * on its own). It runs inside an isolated worker process (server/isolate), never on the web
 * server's event loop: libpcap on untrusted text can run for minutes or, on a small native stack,
 * crash.
 */
import type { CbpfInsn } from "../../lib/cbpf/insn";
import { isPlaygroundError } from "../../lib/errors";
import { locateError, type ErrorLocation } from "../../lib/filter-lang";
import { TCPDUMP_DEFAULT_NETMASK } from "../compile";
import { compileFilter, DEFAULT_SNAPLEN, libpcapVersion, resolveDlt } from "../native/libpcap";

export interface CompileRequest {
  filter: string;
  /** A DLT number or libpcap name. */
  dlt: number | string;
  snaplen?: number;
  optimize?: boolean;
  netmask?: number;
  /**
   * The page's own id (random per page load): a newer request with the same id supersedes an
   * older one still running.
   */
  session?: string;
}

export type CompileResponse =
  | { ok: true; dlt: number; insns: CbpfInsn[]; libpcap: string }
  | {
      ok: false;
      dlt?: number;
      error: string;
      location?: ErrorLocation;
      libpcap?: string;
      /** The request itself was unusable (HTTP 400). */
      badRequest?: boolean;
      /** libpcap did not finish within the time budget. */
      timeout?: boolean;
      /** A newer request from the same page replaced this one. */
      superseded?: boolean;
    };

export const MAX_FILTER_CHARS = 64 * 1024;
const MAX_SESSION_CHARS = 64;

export function badRequest(error: string): CompileResponse {
  return { ok: false, error, badRequest: true };
}

/** Validates an untrusted body; a string when it is unusable. */
export function parseCompileRequest(body: unknown): CompileRequest | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "the body must be a JSON object";
  const b = body as Record<string, unknown>;
  if (typeof b.filter !== "string") return "filter must be a string";
  if (b.filter.length > MAX_FILTER_CHARS) return `filter is longer than ${MAX_FILTER_CHARS} characters`;
  if (typeof b.dlt !== "number" && typeof b.dlt !== "string") return "dlt must be a number or a link-type name";
  const req: CompileRequest = { filter: b.filter, dlt: b.dlt };
  for (const k of ["snaplen", "netmask"] as const) {
    const v = b[k];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) return `${k} must be a non-negative integer`;
    req[k] = v;
  }
  if (b.optimize !== undefined) {
    if (typeof b.optimize !== "boolean") return "optimize must be a boolean";
    req.optimize = b.optimize;
  }
  if (b.session !== undefined) {
    if (typeof b.session !== "string" || b.session.length === 0 || b.session.length > MAX_SESSION_CHARS) {
      return `session must be a string of 1 to ${MAX_SESSION_CHARS} characters`;
    }
    req.session = b.session;
  }
  return req;
}

/** What the answer depends on, as the cache sees it (no native call: runs in the server). */
export function compileCacheKey(req: CompileRequest): string {
  return JSON.stringify([req.filter, req.dlt, req.snaplen ?? DEFAULT_SNAPLEN, req.optimize ?? true, req.netmask ?? TCPDUMP_DEFAULT_NETMASK]);
}

/** The request with every default filled in and the link type resolved. */
export interface ResolvedCompile {
  filter: string;
  dlt: number;
  snaplen: number;
  optimize: boolean;
  netmask: number;
}

/** Resolves the link-type name with libpcap: call it in the worker, like the compile itself. */
export function resolveCompileRequest(req: CompileRequest): ResolvedCompile | string {
  let dlt: number;
  try {
    dlt = resolveDlt(req.dlt);
  } catch (e) {
    return isPlaygroundError(e) ? e.message : String(e);
  }
  return {
    filter: req.filter,
    dlt,
    snaplen: req.snaplen ?? DEFAULT_SNAPLEN,
    optimize: req.optimize ?? true,
    netmask: req.netmask ?? TCPDUMP_DEFAULT_NETMASK,
  };
}

/** libpcap's program for the page, or its error placed on the text. */
export function compileForPage(req: CompileRequest): CompileResponse {
  const r = resolveCompileRequest(req);
  if (typeof r === "string") return badRequest(r);
  const compile = (filter: string) => compileFilter({ ...r, filter });
  let result;
  try {
    result = compile(r.filter);
  } catch (e) {
    if (isPlaygroundError(e)) return badRequest(e.message);
    throw e;
  }
  const libpcap = libpcapVersion();
  if (result.ok) return { ok: true, dlt: r.dlt, insns: result.insns, libpcap };
  const message = result.error;
  const location = locateError(r.filter, message, (f) => {
    const p = compile(f);
    return p.ok ? null : p.error;
  });
  return { ok: false, dlt: r.dlt, error: message, location, libpcap };
}
