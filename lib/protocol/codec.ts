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
