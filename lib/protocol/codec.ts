/**
 * Text <-> message, with validation, for both ends. Parsing never throws: a bad message becomes
 * a `ProtocolFault` carrying what an error reply needs (code, message, path and, when it could
 * be read, the request id and op) so the agent can answer the exact request that was wrong.
 */
import {
  OPS,
  OP_NAMES,
  REQUEST_SCHEMAS,
  errorMessage,
  resultEnvelope,
  streamMessage,
  type ErrorMessage,
  type OpName,
  type Request,
  type ResultOf,
  type ServerMessage,
  type StreamMessage,
} from "./messages";
import { describeValue, type Schema } from "./schema";

export interface ProtocolFault {
  /** "protocol/json" (not JSON), "protocol/invalid" (JSON of the wrong shape). */
  code: "protocol/json" | "protocol/invalid";
  message: string;
  path?: string;
  /** The request id, when the message had a usable one. */
  id: number | null;
  op?: string;
}

export type Parsed<T> = { ok: true; message: T } | { ok: false; fault: ProtocolFault };

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; fault: ProtocolFault } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, fault: { code: "protocol/json", message: `not JSON: ${(e as Error).message}`, id: null } };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function usableId(v: unknown): number | null {
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 0x7fffffff ? v : null;
}

/** How much of an oversize message `peekMessageHead` looks at. */
export const HEAD_PREFIX_CHARS = 4096;

/**
 * The `id`, `type` and `op` of a message that is not parsed as a whole (it is too big): read from the
 * top level of the object's first `HEAD_PREFIX_CHARS` characters, as far as they go. Strings
 * (with their escapes), nested objects and arrays are skipped without being decoded; the scan
 * stops at anything that is not JSON, at the end of the prefix and at the end of the object. A
 * key given twice keeps its last value within the prefix, as JSON.parse would. `id` is null
 * unless a usable id (an integer 1..2^31-1, written as such) was read whole: a number cut off by
 * the end of the prefix is not used.
 */
export function peekMessageHead(text: string): { id: number | null; type?: string; op?: string } {
  const s = text.length > HEAD_PREFIX_CHARS ? text.slice(0, HEAD_PREFIX_CHARS) : text;
  const n = s.length;
  let i = 0;
  let id: number | null = null;
  let type: string | undefined;
  let op: string | undefined;
  const ws = () => {
    while (i < n && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i++;
  };
  /** A string starting at s[i] === '"'; returns its raw text (escapes kept) or null if cut off. */
  const str = (): string | null => {
    const start = ++i;
    while (i < n && s[i] !== '"') i += s[i] === "\\" ? 2 : 1;
    if (i >= n) return null;
    return s.slice(start, i++);
  };
  /** Skips one value; returns its raw text for primitives, "" for containers, null if cut off or not JSON. */
  const value = (): string | null => {
    ws();
    if (i >= n) return null;
    const c = s[i];
    if (c === '"') {
      const v = str();
      return v === null ? null : `"${v}"`;
    }
    if (c === "{" || c === "[") {
      let depth = 0;
      while (i < n) {
        const d = s[i];
        if (d === '"') {
          if (str() === null) return null;
          continue;
        }
        if (d === "{" || d === "[") depth++;
        else if (d === "}" || d === "]") {
          depth--;
          if (depth === 0) {
            i++;
            return "";
          }
        }
        i++;
      }
      return null;
    }
    const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(s.slice(i, i + 64));
    if (!m || i + m[0].length >= n) return null; // not JSON, or perhaps cut off by the prefix
    i += m[0].length;
    return m[0];
  };
  ws();
  if (s[i] !== "{") return { id: null };
  const name = (v: string) => (/^"[A-Za-z]{1,32}"$/.test(v) ? v.slice(1, -1) : undefined);
  i++;
  for (;;) {
    ws();
    if (s[i] !== '"') break;
    const key = str();
    if (key === null) break;
    ws();
    if (s[i] !== ":") break;
    i++;
    const v = value();
    if (v === null) break;
    if (key === "id") id = /^\d+$/.test(v) ? usableId(Number(v)) : null;
    else if (key === "type") type = name(v);
    else if (key === "op") op = name(v);
    ws();
    if (s[i] !== ",") break;
    i++;
  }
  return { id, ...(type !== undefined ? { type } : {}), ...(op !== undefined ? { op } : {}) };
}

/** A client request, from its JSON text (the agent's side). */
export function parseRequest(text: string): Parsed<Request> {
  const j = parseJson(text);
  if (!j.ok) return j;
  return checkRequest(j.value);
}

/** A client request, from an already-parsed value. */
export function checkRequest(value: unknown): Parsed<Request> {
  if (!isObject(value)) {
    return { ok: false, fault: { code: "protocol/invalid", message: `message: expected object at $ (got ${describeValue(value)})`, path: "$", id: null } };
  }
  const id = Object.prototype.hasOwnProperty.call(value, "id") ? usableId(value.id) : null;
  const type = Object.prototype.hasOwnProperty.call(value, "type") ? value.type : undefined;
  if (typeof type !== "string" || !(OP_NAMES as string[]).includes(type)) {
    const expected = `one of ${OP_NAMES.map((n) => `"${n}"`).join(", ")}`;
    return {
      ok: false,
      fault: { code: "protocol/invalid", message: `type: expected ${expected} at $.type (got ${describeValue(type)})`, path: "$.type", id },
    };
  }
  const issue = REQUEST_SCHEMAS[type as OpName].check(value, "$");
  if (issue) return { ok: false, fault: { code: "protocol/invalid", message: issue.message, path: issue.path, id, op: type } };
  return { ok: true, message: value as Request };
}

/** Validates a result for `op` (the client's side, and the agent's self-check in tests). */
export function checkResult<K extends OpName>(op: K, value: unknown): Parsed<ResultOf<K>> {
  const issue = (OPS[op].result as Schema<unknown>).check(value, "$.result");
  if (issue) return { ok: false, fault: { code: "protocol/invalid", message: issue.message, path: issue.path, id: null, op } };
  return { ok: true, message: value as ResultOf<K> };
}

/** Any agent message, from its JSON text (the client's side). Results are checked against their op. */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  const j = parseJson(text);
  if (!j.ok) return j;
  const v = j.value;
  const type = isObject(v) ? v.type : undefined;
  const id = isObject(v) ? usableId(v.id) : null;
  const fail = (message: string, path: string): Parsed<ServerMessage> => ({ ok: false, fault: { code: "protocol/invalid", message, path, id } });
  switch (type) {
    case "result": {
      const envIssue = resultEnvelope.check(v, "$");
      if (envIssue) return fail(envIssue.message, envIssue.path);
      const env = v as { op: OpName; result: unknown; id: number };
      const r = checkResult(env.op, env.result);
      if (!r.ok) return { ok: false, fault: { ...r.fault, id: env.id } };
      return { ok: true, message: { type: "result", id: env.id, op: env.op, result: r.message } };
    }
    case "error": {
      const bad = errorMessage.check(v, "$");
      return bad ? fail(bad.message, bad.path) : { ok: true, message: v as ErrorMessage };
    }
    case "stream": {
      const bad = streamMessage.check(v, "$");
      return bad ? fail(bad.message, bad.path) : { ok: true, message: v as StreamMessage };
    }
    default:
      return fail(`type: expected one of "result", "error", "stream" at $.type (got ${describeValue(type)})`, "$.type");
  }
}

export function encodeResult<K extends OpName>(id: number, op: K, result: ResultOf<K>): string {
  return JSON.stringify({ type: "result", id, op, result });
}

export function encodeError(e: Omit<ErrorMessage, "type">): string {
  const out: Record<string, unknown> = { type: "error", id: e.id, code: e.code, message: e.message };
  if (e.op !== undefined) out.op = e.op;
  if (e.path !== undefined) out.path = e.path;
  if (e.errno !== undefined) out.errno = e.errno;
  if (e.errnoName !== undefined) out.errnoName = e.errnoName;
  if (e.budgetMs !== undefined) out.budgetMs = e.budgetMs;
  return JSON.stringify(out);
}

export function encodeStream(m: StreamMessage): string {
  return JSON.stringify(m);
}
