/**
 * The running kernel (Linux 6.18) as the oracle of eBPF: the verifier accepts every translation
 * of the project's filter list, BPF_PROG_TEST_RUN returns what the lib/ebpf interpreter returns,
 * and the counting epilogue counts. Needs root; without it the tests are skipped with a warning
 * (and fail on CI).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FILTER_CASES } from "../data/filters";
import { generateMix } from "../../lib/craft";
import {
  alu64,
  assemble,
  call,
  createRunner,
  encodeProgram,
  exit,
  jmp,
  ldMapFd,
  ldx,
  mov64Imm,
  mov64Reg,
  type AsmItem,
  type ContextSpec,
} from "../../lib/ebpf";
import {
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MSH,
  BPF_RET,
  BPF_W,
  BPF_X,
  insn,
  type CbpfInsn,
} from "../../lib/cbpf";
import { translate, type Target, type TranslateOptions, type TranslateResult } from "../../lib/translate";
import { closeFd, progLoad, progTestRun } from "../support/raw-bpf-loader";
import { requires } from "../support/requires";
import { compileOrThrow, runTranslated } from "./support";
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_RINGBUF, lookupU64, mapCreate } from "./kernel-maps";
import { resolveDlt } from "../../server/native/libpcap";

const available = requires("lib/translate kernel tests", "kernel");

interface Loaded {
  fd: number;
  errno: number;
  log: string;
}

const loadedCache = new Map<string, number>();

/** Loads a translation; on rejection, loads again with a verifier log for the failure message. */
function load(t: TranslateResult): Loaded {
  const bytes = encodeProgram(t.program.raw);
  const key = `${t.progType}:${Buffer.from(bytes).toString("base64")}`;
  const cached = loadedCache.get(key);
  if (cached !== undefined) return { fd: cached, errno: 0, log: "" };
  const r = progLoad({ type: t.progType, insns: bytes });
  if (r.fd >= 0) {
    loadedCache.set(key, r.fd);
    return { fd: r.fd, errno: 0, log: "" };
  }
  const withLog = progLoad({ type: t.progType, insns: bytes, logLevel: 1 });
  return { fd: -1, errno: r.errno, log: withLog.log.split("\n").slice(-25).join("\n") };
}

afterAll(() => {
  for (const fd of loadedCache.values()) closeFd(fd);
  loadedCache.clear();
});

/** The interpreter context equal to what BPF_PROG_TEST_RUN builds from the same bytes. */
function testRunContext(target: Target, data: Uint8Array): ContextSpec {
  switch (target) {
    case "xdp":
      return { kind: "xdp", packet: data };
    case "tc":
      return { kind: "tc", packet: data, dataOffset: 0 };
    case "socket":
      // Socket filters run after eth_type_trans: skb->data is past the Ethernet header.
      return { kind: "socket", packet: data, dataOffset: 14 };
    default:
      throw new Error(`no test_run for ${target}`);
  }
}

function interpreterValue(t: TranslateResult, data: Uint8Array): number {
  const r = createRunner(t.program, t.target).run(testRunContext(t.target, data));
  if (r.fault) throw new Error(`interpreter fault at ${r.fault.pc}: ${r.fault.message}`);
  return r.retval >>> 0;
}

function kernelValue(fd: number, data: Uint8Array): number {
  const r = progTestRun(fd, { data });
  if (r.ret < 0) throw new Error(`BPF_PROG_TEST_RUN failed with errno ${r.errno}`);
  return r.retval >>> 0;
}

const en10mb = FILTER_CASES.filter((c) => c.dlts.includes("EN10MB")).map((c) => c.filter);

describe.skipIf(!available)("the kernel accepts the translations", () => {
  const programs = new Map<string, CbpfInsn[]>();
  beforeAll(() => {
    for (const f of en10mb) programs.set(f, compileOrThrow(f));
  });

  for (const target of ["socket", "tc", "xdp", "kprobe"] as const) {
    it(`every EN10MB filter of the list, ${target}`, () => {
      const rejected: string[] = [];
      let loaded = 0;
      for (const [filter, prog] of programs) {
        let t: TranslateResult;
        try {
          t = translate(prog, { target });
        } catch (e) {
          // Every target translates the whole list (inbound/outbound/ifindex included).
          rejected.push(`"${filter}" refused: ${(e as Error).message}`);
          continue;
        }
        const r = load(t);
        if (r.fd < 0) rejected.push(`"${filter}" (errno ${r.errno}):\n${r.log}`);
        else loaded++;
      }
      expect(rejected).toEqual([]);
      expect(loaded).toBe(programs.size);
    });
  }

  it("every other link type's filters, every target", () => {
    const rejected: string[] = [];
    let loaded = 0;
    for (const c of FILTER_CASES) {
      for (const dlt of c.dlts) {
        if (dlt === "EN10MB") continue;
        const prog = compileOrThrow(c.filter, resolveDlt(dlt));
        for (const target of ["socket", "tc", "xdp", "kprobe"] as const) {
          let t: TranslateResult;
          try {
            t = translate(prog, { target });
          } catch {
            continue;
          }
          const r = load(t);
          if (r.fd < 0) rejected.push(`${dlt} "${c.filter}" ${target} (errno ${r.errno}):\n${r.log}`);
          else loaded++;
        }
      }
    }
    expect(rejected).toEqual([]);
    expect(loaded).toBeGreaterThan(1000);
  });

  it("body-mode translations load inside a host program (xdp, tc, kprobe, socket)", () => {
    const prog = compileOrThrow("tcp port 80 or (ip6 and udp)");
    for (const target of ["xdp", "tc", "kprobe", "socket"] as const) {
      const host = hostWrapped(prog, target);
      const r = load(host);
      expect({ target, errno: r.errno, log: r.log }).toEqual({ target, errno: 0, log: "" });
    }
  });
});

/**
 * A whole program around a body-mode translation: the host sets up the stub ABI (packet start and
 * end in r4/r5, the context in r1, as pwru's callers do), the body runs, and the host's result
 * label returns the value.
 */
function hostWrapped(prog: CbpfInsn[], target: Target): TranslateResult {
  const body = translate(prog, { target, mode: "body", resultLabel: "host_result", labelPrefix: "flt" });
  const whole = translate([insn(BPF_RET | BPF_A)], { target });
  const items: AsmItem[] = [...hostSetup(target), ...body.insns, { kind: "label", name: "host_result" }, exit()];
  return { ...whole, insns: items, program: assemble(items) };
}

function hostSetup(target: Target): AsmItem[] {
  switch (target) {
    case "xdp":
      return [ldx("u32", "r4", "r1", 0), ldx("u32", "r5", "r1", 4)];
    case "tc":
      return [ldx("u32", "r4", "r1", 76), ldx("u32", "r5", "r1", 80)];
    case "socket":
      return [];
    case "kprobe":
      // r4 = skb->head + skb->mac_header, r5 = skb->head + skb->tail; r1 = skb (6.18 layout:
      // mac_header u16 @182, tail u32 @184, head @192, read with one call from offset 176).
      return [
        ldx("u64", "r6", "r1", 112),
        mov64Reg("r3", "r6"),
        alu64("add", "r3", 176),
        mov64Reg("r1", "r10"),
        alu64("add", "r1", -24),
        mov64Imm("r2", 24),
        call(113),
        ldx("u64", "r4", "r10", -8),
        mov64Reg("r5", "r4"),
        ldx("u16", "r2", "r10", -18),
        alu64("add", "r4", "r2"),
        ldx("u32", "r3", "r10", -16),
        alu64("add", "r5", "r3"),
        mov64Reg("r1", "r6"),
        jmp("jne", "r0", 0, "host_result"),
      ];
  }
}

describe.skipIf(!available)("BPF_PROG_TEST_RUN agrees with the interpreter", () => {
  const packets = generateMix(0xc0ffee, 48, { dlt: 1 })
    .map((p) => p.data)
    .filter((d) => d.length >= 14);
  const sample = en10mb.filter((_, i) => i % 6 === 0).concat(["ip6 protochain 17", "len > 100", "vlan and tcp port 80", "tcp[13] & 2 != 0"]);

  for (const target of ["xdp", "tc", "socket"] as const) {
    it(`${target}: ${sample.length} filters x ${packets.length} packets`, () => {
      const problems: string[] = [];
      let runs = 0;
      let matched = 0;
      for (const filter of sample) {
        let t: TranslateResult;
        try {
          // A socket filter under test_run sees the packet from its network header on, so it
          // gets the filter compiled for raw IP.
          t = translate(compileOrThrow(filter, target === "socket" ? "RAW" : "EN10MB"), { target });
        } catch {
          continue;
        }
        const { fd, log } = load(t);
        if (fd < 0) {
          problems.push(`"${filter}" rejected:\n${log}`);
          continue;
        }
        for (const data of packets) {
          runs++;
          const k = kernelValue(fd, data);
          const i = interpreterValue(t, data);
          if (k !== 0) matched++;
          if (k !== i) {
            problems.push(`"${filter}" on ${Buffer.from(data).toString("hex")}: kernel ${k}, interpreter ${i}`);
            break;
          }
        }
      }
      expect(problems).toEqual([]);
      expect(runs).toBeGreaterThan(sample.length * packets.length * (target === "socket" ? 0.5 : 0.9));
      expect(matched).toBeGreaterThan(runs / 50);
    });
  }

  it("socket with socketAccess skb_load_bytes (the body-mode strategy) as a whole program", () => {
    const problems: string[] = [];
    let runs = 0;
    for (const filter of sample) {
      let t: TranslateResult;
      try {
        t = translate(compileOrThrow(filter, "RAW"), { target: "socket", socketAccess: "skb_load_bytes" });
      } catch {
        continue;
      }
      const { fd, log } = load(t);
      if (fd < 0) {
        problems.push(`"${filter}" rejected:\n${log}`);
        continue;
      }
      for (const data of packets) {
        runs++;
        const k = kernelValue(fd, data);
        const i = interpreterValue(t, data);
        if (k !== i) {
          problems.push(`"${filter}" on ${Buffer.from(data).toString("hex")}: kernel ${k}, interpreter ${i}`);
          break;
        }
      }
    }
    expect(problems).toEqual([]);
    expect(runs).toBeGreaterThan(packets.length * 10);
  });

  it("xdp: inbound, outbound and ifindex (Linux ancillary data) run as in the interpreter", () => {
    // test_run gives an XDP program the loopback device's ingress_ifindex (1), as the
    // interpreter's default xdp context does; the packet type comes from each frame's MAC.
    const problems: string[] = [];
    let matched = 0;
    const frames = [...packets, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...packets[0]!.subarray(6)])];
    for (const filter of ["inbound", "outbound", "ifindex 1", "ifindex 2", "inbound and ifindex 1 and tcp"]) {
      const t = translate(compileOrThrow(filter), { target: "xdp" });
      const { fd, log } = load(t);
      if (fd < 0) {
        problems.push(`"${filter}" rejected:\n${log}`);
        continue;
      }
      for (const data of frames) {
        const k = kernelValue(fd, data);
        if (k !== 0) matched++;
        if (k !== interpreterValue(t, data)) problems.push(`"${filter}" on ${Buffer.from(data).toString("hex")}: kernel ${k}`);
      }
    }
    expect(problems).toEqual([]);
    expect(matched).toBeGreaterThan(frames.length * 2);
  });

  it(`kprobe: the probe-read translation, run by the kernel inside an XDP host, equals the interpreter's kprobe run`, () => {
    // BPF_PROG_TEST_RUN cannot run kprobes; bpf_probe_read_kernel works from XDP too (root), so
    // the body-mode kprobe translation runs there on the frame's bytes (r4/r5 = data/data_end).
    const problems: string[] = [];
    let runs = 0;
    for (const filter of sample) {
      const prog = compileOrThrow(filter);
      let body: TranslateResult;
      let whole: TranslateResult;
      try {
        body = translate(prog, { target: "kprobe", mode: "body", resultLabel: "host_result", abi: { ctx: undefined } });
        whole = translate(prog, { target: "kprobe" });
      } catch {
        continue;
      }
      const items: AsmItem[] = [ldx("u32", "r4", "r1", 0), ldx("u32", "r5", "r1", 4), ...body.insns, { kind: "label", name: "host_result" }, exit()];
      const host = { ...translate([insn(BPF_RET | BPF_A)], { target: "xdp" }), program: assemble(items) };
      const { fd, log } = load(host);
      if (fd < 0) {
        problems.push(`"${filter}" rejected:\n${log}`);
        continue;
      }
      for (const data of packets) {
        runs++;
        const k = kernelValue(fd, data);
        const i = runTranslated(whole, data, data.length);
        if (k !== i) {
          problems.push(`"${filter}" on ${Buffer.from(data).toString("hex")}: kernel ${k}, interpreter ${i}`);
          break;
        }
      }
    }
    expect(problems).toEqual([]);
    expect(runs).toBeGreaterThan(sample.length * packets.length * 0.9);
  });

  it("hazard programs: MSH keeps A, div by X = 0, shifts by X >= 32, extreme [x+k]", () => {
    const TAX = 0x07;
    const progs: CbpfInsn[][] = [
      [insn(BPF_LD | BPF_IMM, 0xabcdef), insn(BPF_LDX | BPF_B | BPF_MSH, 14), insn(BPF_ALU | BPF_ADD | BPF_X), insn(BPF_RET | BPF_A)],
      [insn(BPF_LD | BPF_H | BPF_ABS, 12), insn(BPF_LDX | BPF_IMM, 0), insn(BPF_ALU | BPF_DIV | BPF_X), insn(BPF_RET | BPF_A)],
      [insn(BPF_LD | BPF_H | BPF_ABS, 12), insn(BPF_LDX | BPF_IMM, 40), insn(BPF_ALU | BPF_LSH | BPF_X), insn(BPF_RET | BPF_A)],
      [insn(BPF_LD | BPF_W | BPF_ABS, 16), insn(TAX), insn(BPF_LD | BPF_H | BPF_IND, 3), insn(BPF_RET | BPF_A)],
      [insn(BPF_LDX | BPF_IMM, 0xffffffff), insn(BPF_LD | BPF_B | BPF_IND, 2), insn(BPF_RET | BPF_A)],
      [insn(BPF_LDX | BPF_IMM, 0x7ffffff0), insn(BPF_LD | BPF_B | BPF_IND, 0x20), insn(BPF_RET | BPF_A)],
      [insn(BPF_LDX | BPF_B | BPF_MSH, 14), insn(BPF_LD | BPF_W | BPF_IND, 14), insn(BPF_RET | BPF_A)],
    ];
    for (const prog of progs) {
      for (const target of ["xdp", "tc", "socket"] as const) {
        const t = translate(prog, { target });
        const { fd, log } = load(t);
        expect({ target, log }).toEqual({ target, log: "" });
        for (const data of packets.slice(0, 12)) expect({ target, v: kernelValue(fd, data) }).toEqual({ target, v: interpreterValue(t, data) });
      }
    }
  });
});

/** Bytes waiting in a ring buffer, asked from the kernel by a tiny program (bpf_ringbuf_query). */
function ringbufAvailable(mapFd: number): number {
  const query = assemble([ldMapFd("r1", mapFd), mov64Imm("r2", 0), call(134), exit()]);
  const r = progLoad({ type: 1, insns: encodeProgram(query.raw), logLevel: 1 });
  if (r.fd < 0) throw new Error(r.log);
  try {
    return kernelValue(r.fd, new Uint8Array(64));
  } finally {
    closeFd(r.fd);
  }
}

describe.skipIf(!available)("the counting epilogue", () => {
  const fds: number[] = [];
  afterAll(() => {
    for (const fd of fds) closeFd(fd);
  });

  const packets = generateMix(0xbeef, 40, { dlt: 1 })
    .map((p) => p.data)
    .filter((d) => d.length >= 14);

  for (const target of ["xdp", "tc", "socket"] as const) {
    it(`${target}: counters equal the interpreter's matches; matched packets go to the ring buffer`, () => {
      const counters = mapCreate(BPF_MAP_TYPE_ARRAY, 4, 16, 1);
      const events = mapCreate(BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 16);
      fds.push(counters, events);
      const prog = compileOrThrow("tcp or udp port 53", target === "socket" ? "RAW" : "EN10MB");
      const plain = translate(prog, { target });
      const opts: TranslateOptions = { target, result: { kind: "count", countersMapFd: counters, eventsMapFd: events, sampleBytes: 64, action: 2 } };
      const t = translate(prog, opts);
      const r = progLoad({ type: t.progType, insns: encodeProgram(t.program.raw), logLevel: 1 });
      if (r.fd < 0) expect(r.log.split("\n").slice(-25).join("\n")).toBe("");
      fds.push(r.fd);
      let matched = 0;
      for (const data of packets) {
        expect(kernelValue(r.fd, data)).toBe(2);
        if (interpreterValue(plain, data) !== 0) matched++;
      }
      // One slot: non-matches, then matches.
      expect(lookupU64(counters, 0, 0, 16)).toBe(BigInt(packets.length - matched));
      expect(lookupU64(counters, 0, 1, 16)).toBe(BigInt(matched));
      expect(matched).toBeGreaterThan(0);
      // One ring-buffer record per match: an 8-byte record header and the 8 + 64-byte sample.
      expect(ringbufAvailable(events)).toBe(matched * (8 + 8 + 64));
    });
  }

  it("kprobe: the counting program loads (prog type 2)", () => {
    const counters = mapCreate(BPF_MAP_TYPE_ARRAY, 4, 16, 1);
    const events = mapCreate(BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 16);
    fds.push(counters, events);
    const t = translate(compileOrThrow("tcp port 80 or len > 1000"), {
      target: "kprobe",
      result: { kind: "count", countersMapFd: counters, eventsMapFd: events, sampleBytes: 128, action: 0 },
    });
    expect(t.progType).toBe(2);
    const r = progLoad({ type: t.progType, insns: encodeProgram(t.program.raw), logLevel: 1 });
    fds.push(r.fd);
    expect(r.fd >= 0 ? "" : r.log.split("\n").slice(-25).join("\n")).toBe("");
  });

  it("verdict epilogue: XDP_PASS on a match, XDP_DROP otherwise", () => {
    const prog = compileOrThrow("udp");
    const t = translate(prog, { target: "xdp", result: { kind: "verdict", match: 2, noMatch: 1 } });
    const plain = translate(prog, { target: "xdp" });
    const { fd, log } = load(t);
    expect(log).toBe("");
    for (const data of packets) expect(kernelValue(fd, data)).toBe(interpreterValue(plain, data) !== 0 ? 2 : 1);
  });
});
