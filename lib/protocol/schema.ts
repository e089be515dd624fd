/**
 * A tiny schema language for the agent protocol: each schema is at once a runtime validator and,
 * through `Infer<typeof S>`, the TypeScript type of what it accepts. One definition serves both
 * ends of the WebSocket, so a message the client can type is exactly a message the agent accepts.
 *
 * Validators never throw and never trust their input: anything JSON.parse can produce (and any
 * other value) gets either `ok` or one precise issue naming the path, e.g.
 * `insns: expected base64 string (at most 65536 bytes) at $.insns`. Objects are strict (an
 * unknown key is an issue) so a typo in a field name is reported, not silently ignored.
 */

export interface SchemaIssue {
  /** JSONPath-like location: `$`, `$.program.insns`, `$.packets[3]`. */
  readonly path: string;
  /** What was expected there, in words. */
  readonly expected: string;
  /** `<last key>: expected <expected> at <path>` (or `got ...` details for ranges). */
  readonly message: string;
}

export interface Schema<T> {
  /** What the schema accepts, in words ("integer in 1..65535"). */
  readonly expected: string;
  /** Returns null when `value` conforms, else the first issue found. */
  check(value: unknown, path: string): SchemaIssue | null;
  /** Phantom: carries the inferred type. Never set at run time. */
  readonly __type?: T;
}

/** A schema for an object member that may be absent. */
export interface OptionalSchema<T> extends Schema<T> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type AnySchema = Schema<unknown>;
export type Shape = Readonly<Record<string, AnySchema>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

export type Validation<T> = { ok: true; value: T } | { ok: false; issue: SchemaIssue };

/** Validates `value` against `schema` from the root `$`. */
export function validate<T>(schema: Schema<T>, value: unknown): Validation<T> {
  const issue = schema.check(value, "$");
  return issue ? { ok: false, issue } : { ok: true, value: value as T };
}

/** The name of the innermost key or index of a path, for the message prefix. */
function leaf(path: string): string {
  const m = /(?:\.([^.[\]]+)|\[(\d+)\])$/.exec(path);
  return m ? (m[1] ?? `[${m[2]}]`) : "message";
}

/** Describes a value briefly for "got ..." details (never prints large inputs). */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `array of ${v.length}`;
  switch (typeof v) {
    case "string":
      return v.length > 24 ? `string of ${v.length} characters` : JSON.stringify(v);
    case "number":
      return String(v);
    case "object":
      return "object";
    default:
      return typeof v;
  }
}

export function issue(path: string, expected: string, got?: unknown, detail?: string): SchemaIssue {
  const tail = detail ?? (got === undefined ? "" : ` (got ${describeValue(got)})`);
  return { path, expected, message: `${leaf(path)}: expected ${expected} at ${path}${tail}` };
}

function make<T>(expected: string, check: (value: unknown, path: string) => SchemaIssue | null): Schema<T> {
  return { expected, check };
}

// ---------------------------------------------------------------------------------------------
// Scalars

export function str(opts: { max?: number; min?: number; pattern?: RegExp; what?: string } = {}): Schema<string> {
  const max = opts.max ?? 4096;
  const min = opts.min ?? 0;
  const expected = opts.what ?? (min > 0 ? `string of ${min}..${max} characters` : `string of at most ${max} characters`);
  return make(expected, (v, path) => {
    if (typeof v !== "string") return issue(path, expected, v);
    if (v.length > max || v.length < min) return issue(path, expected, undefined, ` (got ${v.length} characters)`);
    if (opts.pattern && !opts.pattern.test(v)) return issue(path, expected, v);
    return null;
  });
}

/** A finite number; `int` requires an integer. Bounds are inclusive. */
export function num(opts: { int?: boolean; min?: number; max?: number } = {}): Schema<number> {
  const int = opts.int ?? false;
  const min = opts.min ?? (int ? Number.MIN_SAFE_INTEGER : -Number.MAX_VALUE);
  const max = opts.max ?? (int ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE);
  const bounded = opts.min !== undefined || opts.max !== undefined;
  const expected = `${int ? "integer" : "number"}${bounded ? ` in ${min}..${max}` : ""}`;
  return make(expected, (v, path) => {
    if (typeof v !== "number" || !Number.isFinite(v)) return issue(path, expected, v);
    if (int && !Number.isInteger(v)) return issue(path, expected, v);
    if (v < min || v > max) return issue(path, expected, v);
    return null;
  });
}

export const int = (min?: number, max?: number): Schema<number> => num({ int: true, min, max });

export function bool(): Schema<boolean> {
  return make("boolean", (v, path) => (typeof v === "boolean" ? null : issue(path, "boolean", v)));
}

export function lit<const T extends string | number | boolean>(value: T): Schema<T> {
  const expected = JSON.stringify(value);
  return make(expected, (v, path) => (v === value ? null : issue(path, expected, v)));
}

export function oneOf<const T extends string | number>(values: readonly T[]): Schema<T> {
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;
  return make(expected, (v, path) => ((values as readonly unknown[]).includes(v) ? null : issue(path, expected, v)));
}

/**
 * With the length a multiple of 4 (checked first), this is standard base64: padding only at the
 * end, at most two. A group-of-four form, (?:[A-Za-z0-9+/]{4})*, overflowed V8's regexp stack on
 * strings of a few megabytes (a 4 MiB loadObject), and the check threw instead of answering; a
 * single character class runs as a loop.
 */
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decoded size of a well-formed base64 string. */
export function base64Size(s: string): number {
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

/** Bytes as standard base64 (with padding); at most `maxBytes` once decoded. */
export function b64(opts: { maxBytes: number; minBytes?: number }): Schema<string> {
  const minBytes = opts.minBytes ?? 0;
  const expected = `base64 string (${minBytes > 0 ? `${minBytes}..${opts.maxBytes}` : `at most ${opts.maxBytes}`} bytes)`;
  const maxChars = Math.ceil(opts.maxBytes / 3) * 4;
  return make(expected, (v, path) => {
    if (typeof v !== "string") return issue(path, expected, v);
    // The length check comes first so a huge string is never run through the regular expression.
    if (v.length > maxChars) return issue(path, expected, undefined, ` (got ${v.length} characters)`);
    if (v.length % 4 !== 0 || !B64_RE.test(v)) return issue(path, expected, undefined, " (not valid base64)");
    const n = base64Size(v);
    if (n > opts.maxBytes || n < minBytes) return issue(path, expected, undefined, ` (got ${n} bytes)`);
    return null;
  });
}

// ---------------------------------------------------------------------------------------------
// Composites

export function opt<T>(schema: Schema<T>): OptionalSchema<T> {
  return { expected: schema.expected, check: schema.check, optional: true };
}

export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  const expected = `${schema.expected} or null`;
  return make(expected, (v, path) => {
    if (v === null) return null;
    const bad = schema.check(v, path);
    // A wrong value right here: say that null would also do. A problem deeper inside: report it as is.
    return bad && bad.path === path ? issue(path, expected, v) : bad;
  });
}

export function arr<T>(item: Schema<T>, opts: { max: number; min?: number }): Schema<T[]> {
  const min = opts.min ?? 0;
  const expected = `array of ${min > 0 ? `${min}..${opts.max}` : `at most ${opts.max}`} items`;
  return make(expected, (v, path) => {
    if (!Array.isArray(v)) return issue(path, expected, v);
    if (v.length > opts.max || v.length < min) return issue(path, expected, undefined, ` (got ${v.length})`);
    for (let i = 0; i < v.length; i++) {
      const bad = item.check(v[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  });
}

/** Fixed-length array with per-position schemas. */
export function tuple<const S extends readonly AnySchema[]>(items: S): Schema<{ -readonly [K in keyof S]: Infer<S[K]> }> {
  const expected = `array of exactly ${items.length} items`;
  return make(expected, (v, path) => {
    if (!Array.isArray(v) || v.length !== items.length) return issue(path, expected, v);
    for (let i = 0; i < items.length; i++) {
      const bad = items[i]!.check(v[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  });
}

/** A map from keys matching `key` to values of `value`, at most `max` entries. */
export function record<T>(value: Schema<T>, opts: { max: number; key?: RegExp }): Schema<Record<string, T>> {
  const expected = `object of at most ${opts.max} entries`;
  return make(expected, (v, path) => {
    if (!isPlainObject(v)) return issue(path, expected, v);
    const keys = Object.keys(v);
    if (keys.length > opts.max) return issue(path, expected, undefined, ` (got ${keys.length})`);
    for (const k of keys) {
      const p = `${path}.${k}`;
      if (opts.key && !opts.key.test(k)) return issue(p, `a key matching ${opts.key}`, k);
      const bad = value.check((v as Record<string, unknown>)[k], p);
      if (bad) return bad;
    }
    return null;
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface ObjectSchema<S extends Shape> extends Schema<ObjectOf<S>> {
  readonly shape: S;
}

/** A strict object: every required key present, no key outside the shape. */
export function obj<const S extends Shape>(shape: S): ObjectSchema<S> {
  const keys = Object.keys(shape);
  const expected = "object";
  return {
    expected,
    shape,
    check(v, path) {
      if (!isPlainObject(v)) return issue(path, expected, v);
      for (const k of keys) {
        const s = shape[k]!;
        const present = Object.prototype.hasOwnProperty.call(v, k) && v[k] !== undefined;
        const p = `${path}.${k}`;
        if (!present) {
          if ((s as Partial<OptionalSchema<unknown>>).optional) continue;
          return issue(p, s.expected, undefined, " (missing)");
        }
        const bad = s.check(v[k], p);
        if (bad) return bad;
      }
      for (const k of Object.keys(v)) {
        if (!Object.prototype.hasOwnProperty.call(shape, k)) {
          return { path: `${path}.${k}`, expected: "no such key", message: `${k}: unexpected key at ${path}.${k}` };
        }
      }
      return null;
    },
  };
}

type Variants = Readonly<Record<string, Shape>>;
export type TaggedOf<K extends string, V extends Variants> = {
  [T in keyof V & string]: Simplify<{ [P in K]: T } & ObjectOf<V[T]>>;
}[keyof V & string];

/**
 * A discriminated union: `tagged("kind", { filter: {...}, cbpf: {...} })` accepts objects whose
 * `kind` names a variant and whose other keys match that variant's shape.
 */
export function tagged<const K extends string, const V extends Variants>(key: K, variants: V): Schema<TaggedOf<K, V>> {
  const names = Object.keys(variants);
  const tagSchema = oneOf(names);
  const bodies = new Map<string, ObjectSchema<Shape>>(names.map((n) => [n, obj({ [key]: lit(n), ...variants[n]! })]));
  const expected = `object with "${key}" ${tagSchema.expected}`;
  return make(expected, (v, path) => {
    if (!isPlainObject(v)) return issue(path, expected, v);
    const tag = Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
    const bad = tagSchema.check(tag, `${path}.${key}`);
    if (bad) return bad;
    return bodies.get(tag as string)!.check(v, path);
  });
}

/** Accepts whatever the first matching alternative accepts (for small, non-object alternatives). */
export function either<A, B>(a: Schema<A>, b: Schema<B>): Schema<A | B> {
  const expected = `${a.expected} or ${b.expected}`;
  return make(expected, (v, path) => (a.check(v, path) === null || b.check(v, path) === null ? null : issue(path, expected, v)));
}

/** Any plain object (its contents checked separately, e.g. by a schema chosen from another field). */
export function anyObject(): Schema<Record<string, unknown>> {
  return make("object", (v, path) => (isPlainObject(v) ? null : issue(path, "object", v)));
}
