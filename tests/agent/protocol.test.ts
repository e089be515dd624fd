/**
 * lib/protocol on its own: the schema language, every message's validation (round trips, precise
 * errors), robustness on arbitrary input (fast-check), base64 against Node's Buffer, and the
 * client's handling of replies over a scripted WebSocket.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  AgentClient,
  OPS,
  OP_NAMES,
  PROTOCOL_VERSION,
  arr,
  b64,
  bool,
  checkRequest,
  checkResult,
  peekMessageHead,
  HEAD_PREFIX_CHARS,
  LIMITS,
  encodeError,
  encodeResult,
  fromBase64,
  int,
  lit,
  nullable,
  obj,
  oneOf,
  opt,
  parseRequest,
  parseServerMessage,
  str,
  tagged,
  toBase64,
  tuple,
  validate,
  type Infer,
  type WebSocketConstructor,
  type WebSocketLike,
} from "../../lib/protocol";

const b = (bytes: number[]) => toBase64(new Uint8Array(bytes));

/** Valid requests of every op, written as a client would. */
const VALID: Record<string, unknown>[] = [
  { type: "hello", id: 1, version: PROTOCOL_VERSION, client: "test" },
  { type: "kernelInfo", id: 2 },
  { type: "compile", id: 3, filter: "tcp port 80", dlt: "EN10MB", snaplen: 65535, optimize: false, netmask: 0 },
  { type: "load", id: 4, program: { kind: "filter", filter: "udp" }, target: "xdp", logLevel: 2, stats: true, name: "x.y_z" },
  { type: "load", id: 5, program: { kind: "cbpf", insns: b([6, 0, 0, 0, 0, 0, 4, 0]) }, target: "socket", result: { kind: "verdict", match: 2, noMatch: 1 } },
  { type: "load", id: 6, program: { kind: "ebpf", insns: b([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]) }, target: "tc", result: { kind: "return" } },
  { type: "unload", id: 7, handle: 3 },
  { type: "inspect", id: 8, handle: 3 },
  { type: "testRun", id: 9, handle: 3, packets: [b([1, 2, 3]), ""], linkType: 1, repeat: 100 },
  { type: "attach", id: 10, source: { kind: "handle", handle: 3 }, target: "tc", on: { kind: "demo" }, direction: "egress", sampleBytes: 0 },
  { type: "attach", id: 11, source: { kind: "filter", filter: "icmp" }, target: "xdp", on: { kind: "interface", name: "eth0" }, xdpMode: "generic" },
  { type: "detach", id: 12, attachment: 4 },
  { type: "demoUp", id: 13 },
  { type: "demoDown", id: 14 },
  { type: "trafficStart", id: 15, frames: { kind: "supplied", frames: [b(Array.from({ length: 60 }, (_, i) => i))] }, rate: 1000, count: 10 },
  { type: "trafficStart", id: 16, frames: { kind: "synthetic", seed: 7, distinct: 32 }, durationMs: 500 },
  { type: "trafficStop", id: 17, traffic: 5 },
  { type: "trafficWait", id: 18, traffic: 5, timeoutMs: 1000 },
  { type: "subscribe", id: 19, attachment: 4, intervalMs: 50, maxEvents: 10 },
  { type: "unsubscribe", id: 20, subscription: 6 },
  { type: "objects", id: 21 },
  { type: "loadObject", id: 22, object: b([0x7f, 0x45, 0x4c, 0x46]), program: "xdp_host", logLevel: 2 },
];

describe("schema language", () => {
  const S = obj({
    name: str({ max: 5 }),
    n: int(1, 10),
    flag: opt(bool()),
    pair: tuple([int(0, 1), oneOf(["a", "b"])]),
    maybe: nullable(lit("x")),
    list: arr(b64({ maxBytes: 3 }), { max: 2 }),
    pick: tagged("k", { one: { v: int() }, two: {} }),
  });
  type T = Infer<typeof S>;
  const good: T = { name: "abc", n: 3, pair: [1, "b"], maybe: null, list: ["AAEC"], pick: { k: "one", v: 5 } };

  it("accepts what it describes and infers the type", () => {
    expect(validate(S, good)).toEqual({ ok: true, value: good });
    expect(validate(S, { ...good, flag: true, pick: { k: "two" } }).ok).toBe(true);
  });

  it.each([
    [{ ...good, name: 5 }, "$.name", "name: expected string of at most 5 characters at $.name (got 5)"],
    [{ ...good, name: "toolong" }, "$.name", "name: expected string of at most 5 characters at $.name (got 7 characters)"],
    [{ ...good, n: 11 }, "$.n", "n: expected integer in 1..10 at $.n (got 11)"],
    [{ ...good, n: 1.5 }, "$.n", "n: expected integer in 1..10 at $.n (got 1.5)"],
    [{ ...good, pair: [1, "c"] }, "$.pair[1]", '[1]: expected one of "a", "b" at $.pair[1] (got "c")'],
    [{ ...good, list: ["AAECAw=="] }, "$.list[0]", "[0]: expected base64 string (at most 3 bytes) at $.list[0] (got 8 characters)"],
    [{ ...good, list: ["A*EC"] }, "$.list[0]", "[0]: expected base64 string (at most 3 bytes) at $.list[0] (not valid base64)"],
    [{ ...good, pick: { k: "three" } }, "$.pick.k", '$.pick.k'],
    [{ ...good, pick: { k: "one" } }, "$.pick.v", "v: expected integer at $.pick.v (missing)"],
    [{ ...good, extra: 1 }, "$.extra", "extra: unexpected key at $.extra"],
    [{ ...good, maybe: "y" }, "$.maybe", '"x" or null'],
  ])("reports the first problem precisely (%#)", (value, path, text) => {
    const r = validate(S, value);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issue.path).toBe(path);
    expect(r.issue.message).toContain(text);
  });

  it("never reads inherited keys as present", () => {
    const proto = JSON.parse('{"__proto__": {"name": "abc"}}');
    expect(validate(obj({ name: str() }), proto).ok).toBe(false);
  });
});

describe("requests", () => {
  it("covers every op with a valid example that round-trips through JSON", () => {
    expect(new Set(VALID.map((v) => v.type))).toEqual(new Set(OP_NAMES));
    for (const v of VALID) {
      const r = parseRequest(JSON.stringify(v));
      expect(r, JSON.stringify(v)).toEqual({ ok: true, message: v });
    }
  });

  it.each([
    ["{", "protocol/json", null, undefined],
    ["[]", "protocol/invalid", "$", "message: expected object at $ (got array of 0)"],
    ['{"type":"nope","id":3}', "protocol/invalid", "$.type", 'type: expected one of "hello"'],
    ['{"type":"load","id":4,"program":{"kind":"ebpf","insns":5},"target":"xdp"}', "protocol/invalid", "$.program.insns", "insns: expected base64 string (8..1048576 bytes) at $.program.insns (got 5)"],
    ['{"type":"load","id":4,"program":{"kind":"ebpf","insns":"AAAA"},"target":"xdp"}', "protocol/invalid", "$.program.insns", "(got 3 bytes)"],
    ['{"type":"load","id":4,"program":{"kind":"jit"},"target":"xdp"}', "protocol/invalid", "$.program.kind", 'kind: expected one of "filter", "cbpf", "ebpf" at $.program.kind (got "jit")'],
    ['{"type":"load","id":4,"program":{"kind":"filter","filter":"ip"},"target":"ppc"}', "protocol/invalid", "$.target", 'target: expected one of "socket", "tc", "xdp", "kprobe"'],
    ['{"type":"testRun","id":1,"handle":1,"packets":[]}', "protocol/invalid", "$.packets", "packets: expected array of 1..10000 items at $.packets (got 0)"],
    ['{"type":"testRun","id":1,"handle":0,"packets":["AA=="]}', "protocol/invalid", "$.handle", "handle: expected integer in 1..2147483647 at $.handle (got 0)"],
    ['{"type":"kernelInfo","id":2,"extra":true}', "protocol/invalid", "$.extra", "extra: unexpected key at $.extra"],
    ['{"type":"kernelInfo"}', "protocol/invalid", "$.id", "id: expected integer in 1..2147483647 at $.id (missing)"],
  ])("%s -> %s at %s", (text, code, path, message) => {
    const r = parseRequest(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.fault.code).toBe(code);
    if (path !== null) expect(r.fault.path).toBe(path);
    if (message) expect(r.fault.message).toContain(message);
  });

  it("keeps the id and op of a bad request so the error can answer it", () => {
    const r = parseRequest('{"type":"inspect","id":42,"handle":"one"}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.fault).toMatchObject({ id: 42, op: "inspect", path: "$.handle" });
  });

  it("never throws on arbitrary JSON, and every refusal names a path that exists in the input", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = checkRequest(v);
        if (!r.ok) expect(r.fault.message).toMatch(/ at \$|not JSON/);
        const s = parseServerMessage(JSON.stringify(v));
        expect(typeof s.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (t) => {
        expect(typeof parseRequest(t).ok).toBe("boolean");
        expect(typeof parseServerMessage(t).ok).toBe("boolean");
      }),
      { numRuns: 1000 },
    );
  });

  it("a valid request with one field replaced is either still valid or refused at that field or inside it", () => {
    const valid = fc.constantFrom(...VALID);
    fc.assert(
      fc.property(valid, fc.nat(), fc.jsonValue(), (v, pick, value) => {
        const keys = Object.keys(v).filter((k) => k !== "type" && k !== "id");
        if (keys.length === 0) return;
        const k = keys[pick % keys.length]!;
        const r = checkRequest({ ...v, [k]: value });
        if (!r.ok) expect(r.fault.path?.startsWith(`$.${k}`)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("the head of an oversize message", () => {
  it("reads id, type and op from the top level of a prefix, wherever the id is", () => {
    const big = "x".repeat(100_000);
    expect(peekMessageHead(JSON.stringify({ type: "compile", id: 7, filter: big }))).toEqual({ id: 7, type: "compile" });
    expect(peekMessageHead(JSON.stringify({ filter: "a\\\"}{[", nested: { id: 1, type: "x", list: [{ id: 2 }, "]}"] }, id: 9, type: "load", more: big }))).toEqual({ id: 9, type: "load" });
    expect(peekMessageHead(` {\n "id" : 12 ,\t"type":"testRun","packets":["${big}"]}`)).toEqual({ id: 12, type: "testRun" });
    expect(peekMessageHead(encodeResult(5, "compile", { dlt: 1, insns: [], text: big }))).toEqual({ id: 5, type: "result", op: "compile" });
  });

  it("gives no id it could not read whole and usable: past the prefix, cut off, not an integer, not an object", () => {
    const pad = "p".repeat(HEAD_PREFIX_CHARS);
    expect(peekMessageHead(JSON.stringify({ type: "load", pad, id: 3 }))).toEqual({ id: null, type: "load" });
    expect(peekMessageHead(`{"type":"load","id":${"1".repeat(3)}`)).toEqual({ id: null, type: "load" });
    expect(peekMessageHead(`{"id":123${"4".repeat(HEAD_PREFIX_CHARS)}}`)).toEqual({ id: null });
    for (const id of ["0", "-1", "1.5", "1e3", '"7"', "2147483648", "null", "true"]) expect(peekMessageHead(`{"id":${id},"x":1}`), id).toEqual({ id: null });
    for (const text of ["", "[1]", '"id"', "{", '{"id" 5}', "{id:5}", '{"type":"load" "id":5}']) expect(peekMessageHead(text).id, text).toBeNull();
    // The last of a repeated key wins, as in JSON.parse.
    expect(peekMessageHead('{"id":1,"id":2,"pad":0}').id).toBe(2);
  });

  it("never throws, and agrees with JSON.parse on the id of any small request", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        peekMessageHead(text);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }), fc.integer({ min: 1, max: 0x7fffffff }), (rest, id) => {
        const value = { ...rest, id, tail: 0 };
        expect(peekMessageHead(JSON.stringify(value)).id).toBe(id);
      }),
    );
  });
});

describe("agent messages", () => {
  it("results are checked against their op", () => {
    const ok = parseServerMessage(encodeResult(3, "subscribe", { subscription: 9 }));
    expect(ok).toEqual({ ok: true, message: { type: "result", id: 3, op: "subscribe", result: { subscription: 9 } } });
    const bad = parseServerMessage(JSON.stringify({ type: "result", id: 3, op: "subscribe", result: { subscription: "9" } }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.fault).toMatchObject({ id: 3, path: "$.result.subscription" });
    expect(checkResult("detach", { counters: { total: 1, matched: 2 } }).ok).toBe(true);
    expect(checkResult("detach", { counters: { total: -1, matched: 2 } }).ok).toBe(false);
  });

  it("errors and stream messages validate", () => {
    expect(parseServerMessage(encodeError({ id: null, code: "protocol/json", message: "x" })).ok).toBe(true);
    const stream = {
      type: "stream", subscription: 1, attachment: 2, seq: 1, time: 5.5, counters: { total: 10, matched: 3 },
      rate: { total: 100, matched: 30 }, events: [{ len: 60, capLen: 60, data: b([1, 2]) }], sampled: false, dropped: 0, final: true,
    };
    expect(parseServerMessage(JSON.stringify(stream)).ok).toBe(true);
    const noSeq = parseServerMessage(JSON.stringify({ ...stream, seq: 0 }));
    expect(!noSeq.ok && noSeq.fault.path).toBe("$.seq");
  });

  it("every op has a result schema", () => {
    for (const op of OP_NAMES) expect(typeof OPS[op].result.check).toBe("function");
  });
});

describe("base64", () => {
  it("agrees with Node's Buffer both ways", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const ours = toBase64(bytes);
        expect(ours).toBe(Buffer.from(bytes).toString("base64"));
        expect(fromBase64(ours)).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses what is not base64, with the offset", () => {
    expect(() => fromBase64("AB*D")).toThrow(expect.objectContaining({ code: "protocol/base64", position: { kind: "byte", offset: 2 } }));
    expect(() => fromBase64("ABC")).toThrow(expect.objectContaining({ code: "protocol/base64" }));
  });
});

/** A WebSocket whose "agent" is a function from request to reply texts. */
function scripted(reply: (req: Record<string, unknown>) => string[] | null): WebSocketConstructor {
  return class implements WebSocketLike {
    readyState = 0;
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    constructor(readonly url: string) {
      setTimeout(() => {
        this.readyState = 1;
        this.onopen?.({});
      }, 0);
    }
    send(data: string): void {
      const req = JSON.parse(data) as Record<string, unknown>;
      const out = reply(req);
      if (out) setTimeout(() => out.forEach((t) => this.onmessage?.({ data: t })), 0);
    }
    close(code = 1000, reason = ""): void {
      this.readyState = 3;
      setTimeout(() => this.onclose?.({ code, reason }), 0);
    }
  };
}

const HELLO = {
  protocol: PROTOCOL_VERSION,
  agent: "fake",
  limits: { maxPayloadBytes: 1, programsPerConnection: 1, attachmentsPerConnection: 1, subscriptionsPerConnection: 1, packetsPerRun: 1, packetBytes: 1, runsPerRequest: 1, trafficJobsPerConnection: 1, budgetsMs: { compile: 1, load: 1, inspect: 1, testRun: 1, attach: 1 }, kernelJobsPerConnection: 1, queuedJobsPerConnection: 1, outboxBytes: 1, objectBytes: 1 },
  interfaces: [],
};

describe("client", () => {
  it("resolves typed results, rejects agent errors with their code, and delivers stream messages in order", async () => {
    const Ws = scripted((req) => {
      switch (req.type) {
        case "hello":
          return [encodeResult(req.id as number, "hello", HELLO)];
        case "unload":
          return [encodeError({ id: req.id as number, op: "unload", code: "agent/no-such-handle", message: "no program" })];
        case "subscribe": {
          const m = (seq: number) => JSON.stringify({ type: "stream", subscription: 7, attachment: 1, seq, time: 1, counters: { total: seq, matched: 0 }, rate: { total: 0, matched: 0 }, events: [], sampled: false, dropped: 0 });
          // Stream messages may follow the result at once: none may be lost.
          return [encodeResult(req.id as number, "subscribe", { subscription: 7 }), m(1), m(2)];
        }
        case "inspect":
          return [JSON.stringify({ type: "result", id: req.id, op: "inspect", result: { nonsense: true } })];
        default:
          return null;
      }
    });
    const client = await AgentClient.connect("ws://fake/", { WebSocket: Ws, timeoutMs: 200 });
    expect(client.hello?.agent).toBe("fake");
    await expect(client.request("unload", { handle: 1 })).rejects.toMatchObject({ code: "agent/no-such-handle" });
    await expect(client.request("inspect", { handle: 1 })).rejects.toMatchObject({ code: "client/invalid-reply" });
    await expect(client.request("objects", {})).rejects.toMatchObject({ code: "client/timeout" });
    const seen: number[] = [];
    await client.subscribe(1, (m) => seen.push(m.seq));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([1, 2]);
    client.close();
    await client.closed;
    await expect(client.request("objects", {})).rejects.toMatchObject({ code: "client/closed" });
  });

  it("refuses an agent that speaks another version", async () => {
    const Ws = scripted((req) => [encodeError({ id: req.id as number, op: "hello", code: "protocol/version", message: "no" })]);
    await expect(AgentClient.connect("ws://fake/", { WebSocket: Ws })).rejects.toMatchObject({ code: "protocol/version" });
  });
});

describe("base64 of megabytes", () => {
  // A group-of-four regular expression overflowed V8's regexp stack on a few megabytes, so the
  // check threw (and the agent never answered) instead of accepting or refusing the request.
  it("checks a loadObject object at the size bound, and one byte past it, with an answer", () => {
    const at = checkRequest({ type: "loadObject", id: 1, object: toBase64(new Uint8Array(LIMITS.objectBytes).fill(0xa5)) });
    expect(at.ok).toBe(true);
    const past = checkRequest({ type: "loadObject", id: 2, object: toBase64(new Uint8Array(LIMITS.objectBytes + 1)) });
    expect(past).toMatchObject({ ok: false, fault: { code: "protocol/invalid", path: "$.object" } });
    const bad = checkRequest({ type: "loadObject", id: 3, object: `${"A".repeat(LIMITS.objectBytes)}=A==` });
    expect(bad).toMatchObject({ ok: false, fault: { path: "$.object", message: expect.stringContaining("not valid base64") } });
  });
});
