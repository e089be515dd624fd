/**
 * Node-only test support for lib/cbpf: the real systems the tests compare against. Imported only
 * by `*.test.ts` files in this directory and by tests/support/requires.ts (which asks whether each of
 * these is present); never by library code (lib/ stays isomorphic).
 *
 * - tcpdump 4.99.3 / libpcap 1.10.3 as installed: `tcpdump -d/-dd/-ddd` text;
 * - libpcap itself through koffi: `bpf_image`, `bpf_filter`, `bpf_validate`;
 * - the running kernel: SO_ATTACH_FILTER on a UDP socket (does Linux accept this program?) and,
 *   when we are root, a packet socket on the loopback device of a private network namespace
 *   (what does Linux's classic filter return for this packet?).
 */
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fc from "fast-check";
import type { CbpfInsn } from "./insn";
import { KNOWN_OPCODES } from "./opcodes";

// __filename, not import.meta: Playwright specs load this (through tests/support/requires.ts) as CommonJS.
const require = createRequire(__filename);

export const TCPDUMP = "/usr/bin/tcpdump";

/**
 * Run many tcpdump invocations and return each one's stdout. They run from a few shells (much
 * cheaper than one spawn each), `parallel` of them at once. Each element of `argLists` is
 * tcpdump's argument vector; a failing run gives "" (its stderr is discarded).
 */
export async function tcpdumpBatch(argLists: readonly string[][], parallel = 2): Promise<string[]> {
  const sep = "@@cbpf-separator@@";
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const chunk = Math.ceil(argLists.length / parallel);
  const runs: Promise<string[]>[] = [];
  for (let start = 0; start < argLists.length; start += chunk) {
    const part = argLists.slice(start, start + chunk);
    const script = part.map((args) => `${TCPDUMP} ${args.map(quote).join(" ")} 2>/dev/null; echo ${sep}`).join("\n");
    runs.push(
      new Promise((resolve, reject) => {
        const child = spawn("/bin/sh", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
        let out = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (d: string) => (out += d));
        child.on("error", reject);
        child.on("close", () => {
          const outs = out.split(`${sep}\n`);
          outs.pop();
          if (outs.length !== part.length) reject(new Error(`tcpdump batch: ${outs.length} outputs for ${part.length} runs`));
          else resolve(outs);
        });
      }),
    );
  }
  return (await Promise.all(runs)).flat();
}

/** Parse `tcpdump -ddd` output without using the code under test. */
export function programFromDdd(text: string): CbpfInsn[] {
  const lines = text.trim().split("\n");
  return lines.slice(1).map((l) => {
    const [code, jt, jf, k] = l.trim().split(/\s+/).map(Number);
    return { code: code!, jt: jt!, jf: jf!, k: k! };
  });
}

// ---------------------------------------------------------------------------------------------
// libpcap through koffi.

export interface Libpcap {
  bpfImage(insn: CbpfInsn, n: number): string;
  bpfFilter(prog: readonly CbpfInsn[], packet: Uint8Array, wireLen?: number): number;
  bpfValidate(prog: readonly CbpfInsn[]): boolean;
}

let libpcap: Libpcap | null | undefined;

type Koffi = {
  load(name: string): { func(decl: string): (...args: unknown[]) => unknown };
  struct(name: string, fields: Record<string, string>): unknown;
  errno(): number;
};

function koffi(): Koffi | null {
  try {
    return require("koffi") as Koffi;
  } catch {
    return null;
  }
}

export function loadLibpcap(): Libpcap | null {
  if (libpcap !== undefined) return libpcap;
  const k = koffi();
  try {
    if (k === null) throw new Error("no koffi");
    const lib = k.load("libpcap.so.0.8");
    // Programs go over as raw struct bpf_insn bytes (a typed array is passed as a pointer without
    // copying), encoded here independently of the code under test and cached per program.
    // One instruction at a time is cheapest as a struct; whole programs as bytes.
    k.struct("cbpf_test_insn", { code: "uint16_t", jt: "uint8_t", jf: "uint8_t", k: "uint32_t" });
    const image = lib.func("char *bpf_image(const cbpf_test_insn *insn, int n)");
    const filter = lib.func("uint32_t bpf_filter(const uint8_t *pc, const uint8_t *p, uint32_t wirelen, uint32_t buflen)");
    const validate = lib.func("int bpf_validate(const uint8_t *f, int len)");
    const cache = new WeakMap<readonly CbpfInsn[], Uint8Array>();
    const bytes = (prog: readonly CbpfInsn[]): Uint8Array => {
      let b = cache.get(prog);
      if (b === undefined) {
        b = new Uint8Array(Math.max(prog.length, 1) * 8);
        const v = new DataView(b.buffer);
        prog.forEach((p, i) => {
          v.setUint16(i * 8, p.code, true);
          v.setUint8(i * 8 + 2, p.jt);
          v.setUint8(i * 8 + 3, p.jf);
          v.setUint32(i * 8 + 4, p.k >>> 0, true);
        });
        cache.set(prog, b);
      }
      return b;
    };
    const one = new Uint8Array(1);
    libpcap = {
      bpfImage: (insn, n) => image({ code: insn.code, jt: insn.jt, jf: insn.jf, k: insn.k >>> 0 }, n) as string,
      // bpf_filter needs a valid pointer even for an empty packet.
      bpfFilter: (prog, packet, wireLen) =>
        filter(bytes(prog), packet.length > 0 ? packet : one, wireLen ?? packet.length, packet.length) as number,
      bpfValidate: (prog) => (validate(bytes(prog), prog.length) as number) !== 0,
    };
  } catch {
    libpcap = null;
  }
  return libpcap;
}

// ---------------------------------------------------------------------------------------------
// The kernel's classic checker: SO_ATTACH_FILTER on an ordinary UDP socket (no privilege needed).

export interface KernelAttach {
  /** 0 if the kernel accepted the program, otherwise the errno (22 = EINVAL). */
  attach(prog: readonly CbpfInsn[]): number;
  close(): void;
}

type AttachCalls = { socket: (...a: unknown[]) => unknown; setsockopt: (...a: unknown[]) => unknown; close: (...a: unknown[]) => unknown };
let attachCalls: AttachCalls | null | undefined;

/** libc's socket, setsockopt and close, bound once (koffi refuses a second struct of one name). */
function bindAttachCalls(k: Koffi): AttachCalls | null {
  if (attachCalls !== undefined) return attachCalls;
  try {
    const libc = k.load("libc.so.6");
    k.struct("cbpf_test_fprog", { len: "uint16_t", filter: "void *" });
    attachCalls = {
      socket: libc.func("int socket(int domain, int type, int protocol)"),
      setsockopt: libc.func("int setsockopt(int fd, int level, int name, const cbpf_test_fprog *val, uint32_t len)"),
      close: libc.func("int close(int fd)"),
    };
  } catch {
    attachCalls = null;
  }
  return attachCalls;
}

export function openKernelAttach(): KernelAttach | null {
  const k = koffi();
  if (k === null || process.platform !== "linux") return null;
  const calls = bindAttachCalls(k);
  if (calls === null) return null;
  const { socket, setsockopt, close } = calls;
  try {
    const fd = socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0) as number;
    if (fd < 0) return null;
    return {
      attach(prog) {
        const bytes = new Uint8Array(Math.max(prog.length, 1) * 8);
        const view = new DataView(bytes.buffer);
        prog.forEach((p, i) => {
          view.setUint16(i * 8, p.code, true);
          view.setUint8(i * 8 + 2, p.jt);
          view.setUint8(i * 8 + 3, p.jf);
          view.setUint32(i * 8 + 4, p.k >>> 0, true);
        });
        const rc = setsockopt(fd, 1 /* SOL_SOCKET */, 26 /* SO_ATTACH_FILTER */, { len: prog.length, filter: bytes }, 16) as number;
        return rc === 0 ? 0 : k.errno();
      },
      close() {
        close(fd);
      },
    };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The kernel running classic filters: packets sent on "lo" inside `unshare -n`, received by an
// AF_PACKET socket carrying the filter. The socket sees each frame twice, once outgoing
// (pkt_type 4) and once incoming (pkt_type 0), and a filter's return value trims the frame, so
// the received length is min(return value, frame length), or nothing when it returns 0.

export interface KernelRunJob {
  prog: readonly CbpfInsn[];
  packet: Uint8Array;
}

export interface KernelRunResult {
  /** errno of SO_ATTACH_FILTER, 0 if attached. */
  attach: number;
  /** Received length for the outgoing copy and the incoming copy; -1 = not delivered. */
  outgoing: number;
  incoming: number;
}

/**
 * A CommonJS program run by a separate node inside the namespace. Besides the filtered socket
 * it keeps an unfiltered monitor socket: after each test frame it sends a marker frame, and once
 * the monitor has seen the marker come back in, the test frame's incoming copy has certainly
 * been through the filter too (same device, same CPU, in order), so no timeouts are needed.
 */
const KERNEL_CHILD = String.raw`
const koffi = require(process.env.CBPF_KOFFI);
const libc = koffi.load("libc.so.6");
koffi.struct("fprog", { len: "uint16_t", filter: "void *" });
koffi.struct("sll", { family: "uint16_t", protocol: "uint16_t", ifindex: "int32_t", hatype: "uint16_t", pkttype: "uint8_t", halen: "uint8_t", addr: "uint8_t[8]" });
koffi.struct("pfd", { fd: "int", events: "int16_t", revents: "int16_t" });
const socket = libc.func("int socket(int, int, int)");
const bind = libc.func("int bind(int, const sll *, uint32_t)");
const setsockopt = libc.func("int setsockopt(int, int, int, const fprog *, uint32_t)");
const sendto = libc.func("intptr_t sendto(int, const uint8_t *, uintptr_t, int, const sll *, uint32_t)");
const recvfrom = libc.func("intptr_t recvfrom(int, _Out_ uint8_t *, uintptr_t, int, _Out_ sll *, _Inout_ uint32_t *)");
const poll = libc.func("int poll(_Inout_ pfd *, uint64_t, int)");
const ETH_P_ALL_BE = 0x0300;
const MARKER_TYPE = 0x88b5; // IEEE local experimental EtherType
const lo = { family: 17, protocol: ETH_P_ALL_BE, ifindex: 1, hatype: 0, pkttype: 0, halen: 0, addr: [0,0,0,0,0,0,0,0] };
const rx = socket(17, 3, ETH_P_ALL_BE);
const mon = socket(17, 3, ETH_P_ALL_BE);
const tx = socket(17, 3, 0);
if (rx < 0 || mon < 0 || tx < 0 || bind(rx, lo, 20) !== 0 || bind(mon, lo, 20) !== 0) {
  process.stdout.write(JSON.stringify({ error: "socket/bind failed: " + koffi.errno() }));
  process.exit(0);
}
const dropAll = new Uint8Array([6,0,0,0, 0,0,0,0]);
const buf = new Uint8Array(2048);
function readOne(fd, timeout) {
  const p = { fd, events: 1, revents: 0 };
  if (poll(p, 1, timeout) <= 0) return null;
  const from = {};
  const n = recvfrom(fd, buf, buf.length, 0x20 /* MSG_TRUNC */ | 0x40 /* MSG_DONTWAIT */, from, [20]);
  return n < 0 ? null : { n: Number(n), pkttype: from.pkttype, marker: buf[0] === 2 };
}
function drain(fd) { while (readOne(fd, 0) !== null); }
const marker = new Uint8Array(60); marker[0] = 2; marker[12] = MARKER_TYPE >> 8; marker[13] = MARKER_TYPE & 0xff;
function send(pkt) {
  const to = { ...lo, protocol: pkt[12] | (pkt[13] << 8), halen: 6 };
  return Number(sendto(tx, pkt, pkt.length, 0, to, 20)) === pkt.length;
}
const jobs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const results = [];
for (const job of jobs) {
  setsockopt(rx, 1, 26, { len: 1, filter: dropAll }, 16);
  drain(rx);
  drain(mon);
  const prog = Uint8Array.from(Buffer.from(job.prog, "hex"));
  const rc = setsockopt(rx, 1, 26, { len: prog.length / 8, filter: prog }, 16);
  if (rc !== 0) { results.push({ attach: koffi.errno(), outgoing: -1, incoming: -1 }); continue; }
  const pkt = Uint8Array.from(Buffer.from(job.packet, "hex"));
  if (!send(pkt) || !send(marker)) { results.push({ attach: 0, outgoing: -2, incoming: -2 }); continue; }
  let seen = false;
  for (let tries = 0; tries < 100 && !seen; tries++) {
    const m = readOne(mon, 100);
    if (m !== null && m.marker && m.pkttype !== 4) seen = true;
  }
  if (!seen) { results.push({ attach: 0, outgoing: -3, incoming: -3 }); continue; }
  let outgoing = -1, incoming = -1;
  for (let r = readOne(rx, 0); r !== null; r = readOne(rx, 0)) {
    if (r.marker) continue;
    if (r.pkttype === 4) outgoing = r.n; else incoming = r.n;
  }
  results.push({ attach: 0, outgoing, incoming });
}
process.stdout.write(JSON.stringify({ results }));
`;

export function kernelRun(jobs: readonly KernelRunJob[]): KernelRunResult[] {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
  const input = JSON.stringify(
    jobs.map((j) => ({
      prog: hex(
        new Uint8Array(
          j.prog.flatMap((p) => [p.code & 0xff, p.code >> 8, p.jt, p.jf, p.k & 0xff, (p.k >>> 8) & 0xff, (p.k >>> 16) & 0xff, p.k >>> 24]),
        ),
      ),
      packet: hex(j.packet),
    })),
  );
  const r = spawnSync(
    "unshare",
    // One CPU, so the test frame and the marker go through the same backlog in order.
    ["-n", "sh", "-c", `ip link set lo up && exec taskset -c 0 "${process.execPath}" -e "$CBPF_CHILD"`],
    {
      input,
      encoding: "utf8",
      env: { ...process.env, CBPF_KOFFI: require.resolve("koffi"), CBPF_CHILD: KERNEL_CHILD },
      maxBuffer: 64 << 20,
    },
  );
  if (r.status !== 0) throw new Error(`kernel run failed: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { results?: KernelRunResult[]; error?: string };
  if (parsed.results === undefined) throw new Error(`kernel run failed: ${parsed.error}`);
  return parsed.results;
}

// ---------------------------------------------------------------------------------------------
// Random programs and packets for property tests.


const OPCODES = [...KNOWN_OPCODES].sort((a, b) => a - b);

/** Operands that exercise edges: small offsets, scratch indices, shift counts, signs, SKF_* ranges. */
export const arbK = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 15 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0, 1, 2, 4, 12, 14, 20, 23, 31, 32, 33, 63, 64, 0x800, 0x86dd, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
      0xfffff000, 0xfffff004, 0xfffff008, 0xfffff02c, 0xfffff030, 0xfffff028, 0xfffff03c, 0xfffff002, 0xfffff040,
      0xffe00000, 0xffe0000c, 0xfff00000, 0xfff00009, 0xffdfffff,
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);

export interface ProgramShape {
  /** Instructions before the final ret. */
  maxLength?: number;
  /** Opcodes to choose from (default: every known opcode). */
  opcodes?: readonly number[];
  /** Allow anything in any field (unknown opcodes, jumps out of range, no final ret). */
  wild?: boolean;
  /** Keep unused fields zero (jt/jf of non-jumps, k of operand-less instructions). */
  canonical?: boolean;
}

/** A program whose conditional jumps stay inside it and which ends in a ret. */
export function arbProgram(shape: ProgramShape = {}): fc.Arbitrary<CbpfInsn[]> {
  const opcodes = shape.opcodes ?? OPCODES;
  const max = shape.maxLength ?? 12;
  const raw = fc.record({
    code: fc.constantFrom(...opcodes),
    k: arbK,
    jt: fc.integer({ min: 0, max: 255 }),
    jf: fc.integer({ min: 0, max: 255 }),
  });
  const body = fc.array(raw, { minLength: 0, maxLength: max });
  const last = fc.record({ code: fc.constantFrom(0x06, 0x16), k: arbK });
  const tame = fc.tuple(body, last).map(([insns, ret]) => {
    const n = insns.length + 1;
    const out: CbpfInsn[] = insns.map((p, i) => {
      const room = n - i - 2; // largest forward offset that stays inside
      const cls = p.code & 7;
      const jump = cls === 5 && (p.code & 0xf0) !== 0;
      const ja = p.code === 0x05;
      return {
        code: p.code,
        jt: jump ? p.jt % (room + 1) : 0,
        jf: jump ? p.jf % (room + 1) : 0,
        k: ja ? p.k % (room + 1) : shape.canonical === true && usesNoK(p.code) ? 0 : p.k >>> 0,
      };
    });
    out.push({ code: ret.code, jt: 0, jf: 0, k: shape.canonical === true && ret.code === 0x16 ? 0 : ret.k >>> 0 });
    return out;
  });
  if (shape.wild !== true) return tame;
  const wildInsn = fc.record({
    code: fc.oneof(fc.constantFrom(...opcodes), fc.integer({ min: 0, max: 0xffff })),
    jt: fc.integer({ min: 0, max: 255 }),
    jf: fc.integer({ min: 0, max: 255 }),
    k: arbK,
  });
  return fc.oneof(tame, fc.array(wildInsn, { minLength: 0, maxLength: max + 1 }));
}

/** Opcodes whose k the printer does not show (so a -d round trip loses it). */
export function usesNoK(code: number): boolean {
  return [0x16, 0x80, 0x81, 0x84, 0x07, 0x87].includes(code) || ((code & 7) === 4 && (code & 8) === 8) || ((code & 7) === 5 && (code & 8) === 8);
}

/** Packets: mostly Ethernet/IPv4-shaped with random fields, sometimes arbitrary bytes. */
export const arbPacket: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 80 }),
  fc
    .tuple(fc.uint8Array({ minLength: 14, maxLength: 90 }), fc.constantFrom(0x0800, 0x86dd, 0x0806, 0x8100), fc.constantFrom(6, 17, 1))
    .map(([b, type, proto]) => {
      const p = Uint8Array.from(b);
      p[12] = type >> 8;
      p[13] = type & 0xff;
      if (p.length > 23) {
        p[14] = 0x45;
        p[23] = proto;
      }
      return p;
    }),
);
