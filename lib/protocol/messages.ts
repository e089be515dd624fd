/**
 * Every message of the agent protocol, defined once. The agent validates requests with these
 * schemas on arrival; the client validates replies and stream messages with them too, so a
 * disagreement between the two ends is an error with a path, not a silent misreading.
 *
 * Wire format: one JSON object per WebSocket text message.
 *   client -> agent  { type: <op>, id, ...params }                 (a request)
 *   agent -> client  { type: "result", id, op, result }            (its answer)
 *                    { type: "error", id | null, code, message... } (or its failure)
 *                    { type: "stream", subscription, seq, ... }     (live counters of an attachment)
 * `id` is chosen by the client and echoed back; stream messages carry a per-subscription sequence
 * number starting at 1, so a gap is visible.
 *
 * Versioning: `hello` names the protocol version the client speaks; the agent answers with its
 * own or refuses ("protocol/version"). Any change to a message shape bumps PROTOCOL_VERSION.
 */
import {
  arr,
  b64,
  bool,
  int,
  lit,
  nullable,
  num,
  obj,
  oneOf,
  opt,
  record,
  str,
  tagged,
  tuple,
  anyObject,
  type Infer,
  type Schema,
  type Shape,
  type ObjectOf,
} from "./schema";

/**
 * 2: hello reports time budgets and kernel-job slots; "agent/budget" errors carry budgetMs; compile returns programs of any length.
 * 3: loadObject (a BPF ELF object loaded with libbpf; hello reports its size bound); testRun says where its verdicts come from;
 *    attach takes an object's handle (its result's translation is then absent, and notes say what it hooks).
 * 4: trafficStart takes a mode ("socket", the default, or "xdp-live": the kernel's live-frames packet generator) and a batchSize.
 */
export const PROTOCOL_VERSION = 4;

/** Hard bounds of the protocol itself (the agent may set lower ones; `hello` reports them). */
export const LIMITS = {
  filterChars: 256 * 1024,
  cbpfBytes: 4096 * 8,
  ebpfBytes: 1 << 20,
  packetBytes: 65535,
  packetsPerRun: 10_000,
  repeat: 1_000_000,
  trafficFrames: 1024,
  sampleBytes: 256,
  eventsPerMessage: 1024,
  logChars: 64 << 20,
  nameChars: 15,
  /** A BPF ELF object for loadObject (the project's hosts are a few KiB; 4 MiB leaves room for users' own). */
  objectBytes: 4 << 20,
} as const;

const U32 = 0xffffffff;
const id = int(1, 0x7fffffff);
const handle = int(1, 0x7fffffff);
const u32 = int(0, U32);
const count = int(0, Number.MAX_SAFE_INTEGER);

export const TARGET_NAMES = ["socket", "tc", "xdp", "kprobe"] as const;
export type TargetName = (typeof TARGET_NAMES)[number];
const target = oneOf(TARGET_NAMES);

/** A filter as libpcap compiles it. `dlt`: a libpcap link-type name ("EN10MB") or number. */
const filterFields = {
  filter: str({ max: LIMITS.filterChars }),
  dlt: opt(str({ min: 1, max: 32, pattern: /^[A-Za-z0-9_]+$/, what: "link-type name or number" })),
  snaplen: opt(int(1, 262144)),
  optimize: opt(bool()),
  netmask: opt(u32),
} satisfies Shape;

/** What to load: a filter (compiled and translated by the agent), classic BPF, or raw eBPF. */
export const programSource = tagged("kind", {
  filter: filterFields,
  /** `struct sock_filter[]` little-endian, 8 bytes each; translated by the agent. */
  cbpf: { insns: b64({ minBytes: 8, maxBytes: LIMITS.cbpfBytes }) },
  /** Raw eBPF slots, loaded as they are (no map references allowed: the agent owns every fd). */
  ebpf: { insns: b64({ minBytes: 8, maxBytes: LIMITS.ebpfBytes }) },
});
export type ProgramSource = Infer<typeof programSource>;

/** What a translated program returns (load only; attach always counts). */
export const resultSpec = tagged("kind", {
  return: {},
  verdict: { match: u32, noMatch: u32 },
});

const loadStats = obj({
  processedInsns: opt(count),
  insnLimit: opt(count),
  maxStatesPerInsn: opt(count),
  totalStates: opt(count),
  peakStates: opt(count),
  verificationTimeUs: opt(count),
  stackDepth: opt(arr(count, { max: 256 })),
  verifiedInsns: opt(count),
  loadWallUs: opt(num({ min: 0 })),
});

const translation = obj({
  /** cBPF instructions the filter compiled to. */
  cbpfInsns: count,
  /** eBPF slots the translation produced (what was loaded). */
  ebpfSlots: count,
  notes: arr(str({ max: 4096 }), { max: 256 }),
});

const counters = obj({ total: count, matched: count });

const trafficResult = obj({ sent: count, elapsedNs: count, pps: num({ min: 0 }) });

const xdpMode = oneOf(["auto", "generic", "native"]);

/**
 * One entry per operation: the request's own fields (besides `type` and `id`) and the schema of
 * its result.
 */
export const OPS = {
  hello: {
    request: { version: int(1, 1000), client: opt(str({ max: 200 })) },
    result: obj({
      protocol: int(1, 1000),
      agent: str({ max: 200 }),
      limits: obj({
        maxPayloadBytes: count,
        programsPerConnection: count,
        attachmentsPerConnection: count,
        subscriptionsPerConnection: count,
        packetsPerRun: count,
        packetBytes: count,
        runsPerRequest: count,
        trafficJobsPerConnection: count,
        /** Wall-clock budget of each kind of kernel work; past it the work is stopped ("agent/budget"). */
        budgetsMs: obj({ compile: count, load: count, inspect: count, testRun: count, attach: count }),
        /** Requests doing kernel work at once per connection, and how many more may wait for a slot. */
        kernelJobsPerConnection: count,
        queuedJobsPerConnection: count,
        /**
         * Bytes the agent buffers for this connection at most: a message that would go past it
         * closes the connection (1008); a single larger reply comes back as agent/reply-too-large.
         */
        outboxBytes: count,
        /** Largest ELF object loadObject takes (bytes, before base64). */
        objectBytes: count,
      }),
      /** Interfaces other than the demo network that attach may use (explicitly allowed at start). */
      interfaces: arr(str({ max: 15 }), { max: 64 }),
    }),
  },
  kernelInfo: {
    request: {},
    result: obj({
      release: str({ max: 200 }),
      version: tuple([count, count]),
      arch: str({ max: 32 }),
      root: bool(),
      canLoad: record(obj({ ok: bool(), errnoName: opt(str({ max: 64 })) }), { max: 16 }),
      tcx: bool(),
      kprobePmu: bool(),
      btf: bool(),
      jitEnabled: nullable(int(-1, 1000)),
      unprivilegedBpfDisabled: nullable(int(-1, 1000)),
      skbHook: nullable(
        tagged("kind", {
          fentry: { function: str({ max: 128 }) },
          kprobe: { function: str({ max: 128 }) },
          raw_tp: { tracepoint: str({ max: 128 }) },
        }),
      ),
      config: record(str({ max: 64 }), { max: 64 }),
      /** What the agent can do per target on this kernel. */
      targets: record(obj({ load: bool(), testRun: bool(), attach: bool() }), { max: 8 }),
    }),
  },
  compile: {
    request: filterFields,
    result: obj({
      dlt: count,
      /** libpcap sets no length limit (unoptimized, thousands of hosts give tens of thousands). */
      insns: arr(obj({ code: int(0, 0xffff), jt: int(0, 255), jf: int(0, 255), k: u32 }), { max: 1 << 20 }),
      /** As `tcpdump -d` prints it. */
      text: str({ max: 64 << 20 }),
    }),
  },
  load: {
    request: {
      program: programSource,
      target,
      /** Verifier log level: 0 none, 1 the failing path, 2 every path (default 1). */
      logLevel: opt(oneOf([0, 1, 2])),
      /** Adds verification time and stack depth to the log. */
      stats: opt(bool()),
      name: opt(str({ max: LIMITS.nameChars, pattern: /^[A-Za-z0-9_.]*$/ })),
      result: opt(resultSpec),
    },
    result: tagged("outcome", {
      loaded: {
        handle,
        progId: u32,
        tag: str({ max: 16 }),
        /** Slots given to the kernel. */
        insns: count,
        log: str({ max: LIMITS.logChars }),
        logTruncated: bool(),
        stats: loadStats,
        translation: opt(translation),
      },
      rejected: {
        errno: count,
        errnoName: str({ max: 64 }),
        log: str({ max: LIMITS.logChars }),
        logTruncated: bool(),
        stats: loadStats,
        translation: opt(translation),
      },
    }),
  },
  /**
   * One program of a BPF ELF object (a patched host, or the user's own), loaded with its maps by
   * libbpf. The handle works with unload, inspect, testRun and attach like a load's.
   */
  loadObject: {
    request: {
      object: b64({ minBytes: 1, maxBytes: LIMITS.objectBytes }),
      /** The program's function or section name; may be omitted when the object has one program. */
      program: opt(str({ min: 1, max: 128 })),
      /** Verifier log level (default 1). */
      logLevel: opt(oneOf([0, 1, 2])),
    },
    result: obj({
      handle,
      progId: u32,
      tag: str({ max: 16 }),
      name: str({ max: 128 }),
      /** The playground's name for the program type libbpf derived from the section: xdp, tc, raw_tp, fentry, socket, kprobe. */
      progType: str({ max: 16 }),
      section: str({ max: 256 }),
      /** Instructions libbpf gave the kernel (subprograms appended). */
      insns: count,
      log: str({ max: LIMITS.logChars }),
      /** libbpf's warnings while opening and loading. */
      libbpfLog: str({ max: 64 * 1024 }),
      maps: arr(obj({ name: str({ max: 128 }), type: u32, keySize: u32, valueSize: u32, maxEntries: u32 }), { max: 256 }),
      /**
       * How testRun judges a packet: "retval" (the program's return value) or "counts" (a host that
       * always passes the packet: the packet matched when its run grew the `counts` map's slot 1).
       */
      verdictSource: oneOf(["retval", "counts"]),
    }),
  },
  unload: {
    request: { handle },
    result: obj({}),
  },
  inspect: {
    request: { handle },
    result: obj({
      info: obj({
        id: u32,
        name: str({ max: 16 }),
        tag: str({ max: 16 }),
        kind: nullable(str({ max: 16 })),
        verifiedInsns: count,
        xlatedBytes: count,
        jitedBytes: count,
        runCnt: count,
        runTimeNs: count,
        mapIds: arr(u32, { max: 64 }),
      }),
      /** Kernel-style text, one entry per instruction (`0: (b7) r0 = 0`). */
      xlated: arr(str({ max: 512 }), { max: 1 << 20 }),
      jit: arr(
        obj({
          /** Kernel address of the function, hex without 0x. */
          address: str({ max: 16, pattern: /^[0-9a-f]*$/ }),
          lines: arr(obj({ offset: count, bytes: str({ max: 64, pattern: /^[0-9a-f]*$/ }), text: str({ max: 256 }) }), { max: 1 << 21 }),
        }),
        { max: 256 },
      ),
      counts: obj({ xlatedInsns: count, jitBytes: count, jitInsns: count }),
    }),
  },
  testRun: {
    request: {
      handle,
      packets: arr(b64({ maxBytes: LIMITS.packetBytes }), { min: 1, max: LIMITS.packetsPerRun }),
      /** DLT of the packets (default: the filter's, or Ethernet). */
      linkType: opt(u32),
      /** Runs per packet; ns are averaged by the kernel (default 1). */
      repeat: opt(int(1, LIMITS.repeat)),
    },
    result: obj({
      results: arr(
        tagged("status", {
          ok: { retval: u32, match: bool(), ns: count },
          error: { code: str({ max: 64 }), message: str({ max: 2000 }), errnoName: opt(str({ max: 64 })) },
        }),
        { max: LIMITS.packetsPerRun },
      ),
      matched: count,
      /** Where `match` came from: the return value, or a host object's counts map (see loadObject). */
      verdictSource: opt(oneOf(["retval", "counts"])),
      /** Mean of the kernel's ns per run over the packets that ran (null when none did). */
      nsPerPacket: nullable(num({ min: 0 })),
      wallMs: num({ min: 0 }),
    }),
  },
  attach: {
    request: {
      source: tagged("kind", {
        /** A loaded handle whose program came from a filter or cBPF (translated again with the counting epilogue). */
        handle: { handle },
        filter: filterFields,
        cbpf: { insns: b64({ minBytes: 8, maxBytes: LIMITS.cbpfBytes }) },
      }),
      target,
      on: tagged("kind", { demo: {}, interface: { name: str({ min: 1, max: 15, pattern: /^[A-Za-z0-9_.:-]+$/ }) } }),
      /** tc only: the hook direction on the interface (default ingress). */
      direction: opt(oneOf(["ingress", "egress"])),
      /** Bytes of each matched packet sent in stream events (default 64). */
      sampleBytes: opt(int(0, LIMITS.sampleBytes)),
      xdpMode: opt(xdpMode),
    },
    result: obj({
      attachment: handle,
      hook: str({ max: 32 }),
      ifname: str({ max: 15 }),
      ifindex: u32,
      progId: u32,
      linkId: nullable(u32),
      sampleBytes: count,
      /** The counting program's translation (absent for an object's handle: its own program is attached). */
      translation: opt(translation),
      notes: opt(arr(str({ max: 1024 }), { max: 16 })),
    }),
  },
  detach: {
    request: { attachment: handle },
    result: obj({ counters }),
  },
  demoUp: {
    request: {},
    result: obj({
      hostIf: str({ max: 15 }),
      nsIf: str({ max: 15 }),
      hostIfindex: u32,
      hostAddr: str({ max: 64 }),
      nsAddr: str({ max: 64 }),
      prefixLen: int(0, 128),
    }),
  },
  demoDown: {
    request: {},
    result: obj({}),
  },
  trafficStart: {
    request: {
      frames: tagged("kind", {
        /** Ethernet frames, sent in order and cycled. */
        supplied: { frames: arr(b64({ minBytes: 14, maxBytes: LIMITS.packetBytes }), { min: 1, max: LIMITS.trafficFrames }) },
        /** A generated mix of Ethernet traffic (lib/craft), `distinct` different frames. */
        synthetic: { seed: opt(u32), distinct: opt(int(1, LIMITS.trafficFrames)) },
      }),
      /**
       * "socket" (default): sendmmsg on an AF_PACKET socket in the namespace, at a rate or as fast as
       * possible. "xdp-live": BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES (XDP_TX on the namespace's
       * veth end), as fast as possible only, with a count; the host end needs a native-mode XDP program.
       */
      mode: opt(oneOf(["socket", "xdp-live"])),
      /**
       * xdp-live: frames per kernel batch (default 64, the kernel's). At most 64: the veth's receive
       * ring has 256 slots, and batches of 256 were measured to overflow it (frames lost, counters short).
       */
      batchSize: opt(int(1, 64)),
      /** Packets per second; 0 or absent = as fast as possible. */
      rate: opt(int(0, 100_000_000)),
      /** Exactly this many frames; absent = until stopped or durationMs. */
      count: opt(int(1, Number.MAX_SAFE_INTEGER)),
      durationMs: opt(int(1, 3_600_000)),
    },
    result: obj({ traffic: handle, frames: count }),
  },
  trafficStop: {
    request: { traffic: handle },
    result: trafficResult,
  },
  trafficWait: {
    request: { traffic: handle, timeoutMs: opt(int(1, 600_000)) },
    result: trafficResult,
  },
  subscribe: {
    request: {
      attachment: handle,
      /** How often counters are sent (default 100 ms). */
      intervalMs: opt(int(20, 10_000)),
      /** Most packet events per message (default 256); more are dropped and counted. */
      maxEvents: opt(int(0, LIMITS.eventsPerMessage)),
    },
    result: obj({ subscription: handle }),
  },
  unsubscribe: {
    request: { subscription: handle },
    result: obj({}),
  },
  objects: {
    request: {},
    result: obj({
      programs: arr(obj({ handle, progId: u32, target, name: str({ max: 16 }) }), { max: 4096 }),
      attachments: arr(obj({ attachment: handle, hook: str({ max: 32 }), ifname: str({ max: 15 }), progId: u32 }), { max: 4096 }),
      subscriptions: arr(obj({ subscription: handle, attachment: handle }), { max: 4096 }),
      traffic: arr(obj({ traffic: handle, running: bool() }), { max: 4096 }),
      demo: nullable(obj({ hostIf: str({ max: 15 }), hostIfindex: u32 })),
    }),
  },
} as const satisfies Record<string, { request: Shape; result: Schema<unknown> }>;

export type OpName = keyof typeof OPS;
export const OP_NAMES = Object.keys(OPS) as OpName[];

/** The fields of a request for `op`, besides `type` and `id`. */
export type ParamsOf<K extends OpName> = ObjectOf<(typeof OPS)[K]["request"]>;
export type ResultOf<K extends OpName> = Infer<(typeof OPS)[K]["result"]>;
export type RequestOf<K extends OpName> = { type: K; id: number } & ParamsOf<K>;
export type Request = { [K in OpName]: RequestOf<K> }[OpName];

/** Request schemas, one per op, each with `type` and `id`. */
export const REQUEST_SCHEMAS: { [K in OpName]: Schema<RequestOf<K>> } = Object.fromEntries(
  OP_NAMES.map((k) => [k, obj({ type: lit(k), id, ...(OPS[k].request as Shape) })]),
) as unknown as { [K in OpName]: Schema<RequestOf<K>> };

// ---------------------------------------------------------------------------------------------
// Agent -> client

export const resultEnvelope = obj({
  type: lit("result"),
  id,
  op: oneOf(OP_NAMES),
  /** Checked against OPS[op].result (parseServerMessage does both steps). */
  result: anyObject(),
});

export const errorMessage = obj({
  type: lit("error"),
  /** The request it answers; null when the request was unreadable. */
  id: nullable(int(0, 0x7fffffff)),
  op: opt(str({ max: 64 })),
  /** Stable code: "protocol/invalid", "agent/limit", "kernel/...", "libpcap/compile"... */
  code: str({ max: 64 }),
  message: str({ max: 64 * 1024 }),
  /** For "protocol/invalid": where in the request. */
  path: opt(str({ max: 1024 })),
  errno: opt(count),
  errnoName: opt(str({ max: 64 })),
  /** For "agent/budget": the budget the request exceeded. */
  budgetMs: opt(count),
});

export const streamEvent = obj({
  /** Length on the wire. */
  len: count,
  /** Bytes sampled: the packet's first bytes, at most the attachment's sampleBytes. */
  capLen: count,
  /** Those capLen bytes. */
  data: b64({ maxBytes: LIMITS.sampleBytes }),
});

export const streamMessage = obj({
  type: lit("stream"),
  subscription: handle,
  attachment: handle,
  /** 1, 2, 3... per subscription. */
  seq: int(1, Number.MAX_SAFE_INTEGER),
  /** Agent time in ms (performance.now()) when the counters were read. */
  time: num({ min: 0 }),
  /** Exact totals since the attachment was made (from the kernel's counter map). */
  counters,
  /** Packets per second since the previous message. */
  rate: obj({ total: num({ min: 0 }), matched: num({ min: 0 }) }),
  /** Matched packets' headers since the previous message (all of them unless `sampled`). */
  events: arr(streamEvent, { max: LIMITS.eventsPerMessage }),
  /** True when some matched packets since the previous message have no event here. */
  sampled: bool(),
  /** Matched packets without an event so far (cumulative): dropped for backpressure or lost in a full ring. */
  dropped: count,
  /** The last message: the attachment is gone (detached or its network went down). */
  final: opt(bool()),
});

export type ResultMessage = { type: "result"; id: number; op: OpName; result: unknown };
export type ErrorMessage = Infer<typeof errorMessage>;
export type StreamMessage = Infer<typeof streamMessage>;
export type StreamEvent = Infer<typeof streamEvent>;
export type ServerMessage = ResultMessage | ErrorMessage | StreamMessage;
