/**
 * The UI's compile service: the JSON body of `POST /api/compile` in, libpcap's program or its
 * error (placed on the expression) out. Kept apart from the Next route so that it can be tested
 * and benchmarked without a server. Results are cached: typing back and forth recompiles nothing.
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
}

export type CompileResponse =
  | { ok: true; dlt: number; insns: CbpfInsn[]; libpcap: string }
  | { ok: false; dlt?: number; error: string; location?: ErrorLocation; libpcap?: string; badRequest?: boolean };

const MAX_FILTER_CHARS = 64 * 1024;
const CACHE_SIZE = 512;
const cache = new Map<string, CompileResponse>();

function remember(key: string, value: CompileResponse): CompileResponse {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}

function badRequest(error: string): CompileResponse {
  return { ok: false, error, badRequest: true };
}

/** Validate an untrusted body; a string when it is unusable. */
function parseRequest(body: unknown): CompileRequest | string {
  if (typeof body !== "object" || body === null) return "the body must be a JSON object";
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
  return req;
}

export function handleCompile(body: unknown): CompileResponse {
  const req = parseRequest(body);
  if (typeof req === "string") return badRequest(req);
  let dlt: number;
  try {
    dlt = resolveDlt(req.dlt);
  } catch (e) {
    return badRequest(isPlaygroundError(e) ? e.message : String(e));
  }
  const snaplen = req.snaplen ?? DEFAULT_SNAPLEN;
  const optimize = req.optimize ?? true;
  const netmask = req.netmask ?? TCPDUMP_DEFAULT_NETMASK;
  const key = JSON.stringify([req.filter, dlt, snaplen, optimize, netmask]);
  const hit = cache.get(key);
  if (hit) return hit;
  const compile = (filter: string) => compileFilter({ filter, dlt, snaplen, optimize, netmask });
  let result;
  try {
    result = compile(req.filter);
  } catch (e) {
    if (isPlaygroundError(e)) return badRequest(e.message);
    throw e;
  }
  const libpcap = libpcapVersion();
  if (result.ok) return remember(key, { ok: true, dlt, insns: result.insns, libpcap });
  const message = result.error;
  const location = locateError(req.filter, message, (f) => {
    const r = compile(f);
    return r.ok ? null : r.error;
  });
  return remember(key, { ok: false, dlt, error: message, location, libpcap });
}
