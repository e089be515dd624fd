/**
 * In-kernel cost of filters and the demo network's traffic rate (root and BPF required; without
 * them the benchmark reports why and returns no figures).
 *
 * - ns/packet of a small XDP program and a socket filter, measured by the kernel itself
 *   (BPF_PROG_TEST_RUN with repeat: the duration it returns is the average per run).
 * - "tcp port 80" as eBPF vs the same cBPF attached the classic way (SO_ATTACH_FILTER, i.e. the
 *   kernel's own cBPF->eBPF conversion, which has no test_run): both run on the same AF_UNIX
 *   datagram path on a packet they drop, and the figure is the time per packet above the same
 *   path with a one-instruction `ret #0` filter. The eBPF side is, until lib/translate lands, a
 *   one-to-one LD_ABS/LD_IND rendering of libpcap's program (below).
 * - the highest rate the traffic source reaches out of the demo namespace's veth, with a
 *   counting XDP program on the host end whose count must equal the frames sent.
 */
import type { Benchmark, BenchFigure } from "./harness";
import { tcpFrame } from "./fixtures";
import { median } from "./harness";
import { kernelUnavailableReason } from "../server/kernel/kernel-info";
import { loadProgram } from "../server/kernel/load";
import { benchRun, socketPathBench } from "../server/kernel/test-run";
import { dumpProgram } from "../server/kernel/inspect";
import { ArrayMap } from "../server/kernel/maps";
import { attachXdp, type XdpMode } from "../server/kernel/attach";
import { DemoNetwork } from "../server/kernel/netns";
import { closeFd } from "../server/native/libc";
import { encode, asm, type RawInsn } from "../server/kernel/raw-insn";
import { compileFilter } from "../server/native/libpcap";
import { encodeProgram } from "../lib/cbpf/codec";
import type { CbpfInsn } from "../lib/cbpf/insn";

const DLT_EN10MB = 1;
const REPEAT = 1_000_000;


/** XDP "tcp dst port 80" on IPv4 with a variable header length (as Appendix A's xdp_tcp_dport80). */
function xdpTcpDport80(): Uint8Array {
  const body: RawInsn[] = [
    asm.ldxW(2, 1, 0), // data
    asm.ldxW(3, 1, 4), // data_end
    asm.mov64Reg(4, 2),
    asm.add64Imm(4, 34),
    asm.jgtReg(4, 3, 0), // -> pass
    asm.ldxH(5, 2, 12),
    asm.jneImm(5, 0x0008, 0), // EtherType 0x0800, little-endian load
    asm.ldxB(5, 2, 23),
    asm.jneImm(5, 6, 0),
    asm.ldxB(5, 2, 14),
    asm.and64Imm(5, 0xf),
    asm.lsh64Imm(5, 2), // IP header length, at most 60
    asm.mov64Reg(6, 2),
    asm.add64Reg(6, 5),
    asm.mov64Reg(7, 6),
    asm.add64Imm(7, 18),
    asm.jgtReg(7, 3, 0),
    asm.ldxH(5, 6, 16), // TCP destination port (at 14 + ihl + 2)
    asm.jneImm(5, 0x5000, 0), // 80, little-endian load
    asm.mov64Imm(0, 1), // XDP_DROP on a match
    asm.exit(),
  ];
  const pass = body.length;
  for (const at of [4, 6, 8, 16, 18]) body[at] = { ...body[at]!, off: pass - at - 1 };
  body.push(asm.mov64Imm(0, 2), asm.exit()); // XDP_PASS
  return encode(body);
}

/**
 * One eBPF instruction group per cBPF instruction for the subset libpcap uses in "tcp port 80":
 * A in r0 (LD_ABS/LD_IND write r0), X in r7, ctx in r6. A stand-in for lib/translate's socket
 * target, so this benchmark has a "translated" program before the translator exists.
 */
function cbpfToSocketEbpf(prog: readonly CbpfInsn[]): Uint8Array {
  const groups: RawInsn[][] = [];
  const jumps: { group: number; within: number; field: "t" | "f"; target: number }[] = [];
  prog.forEach((c, i) => {
    const g: RawInsn[] = [];
    const cls = c.code & 0x07;
    const size = c.code & 0x18;
    const mode = c.code & 0xe0;
    const ld = (ind: boolean) => ({ code: (size === 0 ? 0x00 : size) | (ind ? 0x40 : 0x20), dst: 0, src: ind ? 7 : 0, off: 0, imm: c.k | 0 });
    if (cls === 0x00 && (mode === 0x20 || mode === 0x40)) g.push(ld(mode === 0x40));
    else if (cls === 0x01 && mode === 0xa0) g.push(asm.ldAbsB(c.k), asm.mov64Reg(7, 0), asm.and64Imm(7, 0xf), asm.lsh64Imm(7, 2)); // ldxb 4*([k]&0xf); A is dead after it in libpcap's code
    else if (cls === 0x06) g.push(asm.mov64Imm(0, c.k | 0), asm.exit());
    else if (cls === 0x05 && (c.code & 0xf0) !== 0x00) {
      const op = c.code & 0xf0; // JEQ 0x10, JGT 0x20, JGE 0x30, JSET 0x40: same numbers in eBPF
      g.push({ code: 0x05 | op, dst: 0, src: 0, off: 0, imm: c.k | 0 }, asm.ja(0));
      jumps.push({ group: i, within: 0, field: "t", target: i + 1 + c.jt }, { group: i, within: 1, field: "f", target: i + 1 + c.jf });
    } else throw new Error(`stand-in converter: unsupported cBPF opcode 0x${c.code.toString(16)}`);
    groups.push(g);
  });
  const start: number[] = [];
  let n = 0;
  for (const g of groups) (start.push(n), (n += g.length));
  for (const j of jumps) {
    const at = start[j.group]! + j.within;
    groups[j.group]![j.within] = { ...groups[j.group]![j.within]!, off: start[j.target]! - at - 1 };
  }
  return encode([asm.mov64Reg(6, 1), ...groups.flat()]);
}

async function trafficRate(mode: XdpMode, frames: Uint8Array[]): Promise<BenchFigure> {
  const net = await DemoNetwork.up();
  const map = ArrayMap.create(1, 8, "bench_cnt");
  let fd = -1;
  try {
    // Counts every frame, passes it on.
    const prog = encode([
      asm.stW(10, -4, 0),
      asm.mov64Reg(2, 10),
      asm.add64Imm(2, -4),
      ...asm.ldMapFd(1, map.fd),
      asm.call(1),
      asm.jeqImm(0, 0, 2),
      asm.mov64Imm(1, 1),
      asm.atomicAdd64(0, 0, 1),
      asm.mov64Imm(0, 2),
      asm.exit(),
    ]);
    const r = loadProgram({ insns: prog, type: "xdp", logLevel: 0 });
    if (!r.ok) throw new Error(`counting program rejected: ${r.errnoName}`);
    fd = r.fd;
    const link = attachXdp(fd, net.hostIfindex, mode);
    try {
      await net.startTraffic({ frames, count: 1000 }).done; // start the source process, warm up
      map.setU64(0, 0n);
      const res = await net.startTraffic({ frames, durationMs: 2000 }).done;
      await new Promise((r) => setTimeout(r, 100));
      const counted = Number(map.getU64(0));
      return {
        name: `traffic source out of the demo veth, XDP ${mode} counting on the host end`,
        value: res.pps,
        unit: "packets/s",
        note: `${res.sent} sent in ${(res.elapsedNs / 1e9).toFixed(2)} s, ${counted} counted${counted === res.sent ? " (exact)" : ` (${res.sent - counted} not counted)`}`,
      };
    } finally {
      link.detach();
    }
  } finally {
    if (fd >= 0) closeFd(fd);
    map.close();
    await net.down();
  }
}

const bench: Benchmark = {
  name: "kernel",
  description: "in-kernel ns/packet (BPF_PROG_TEST_RUN), eBPF vs classic socket filter, demo network traffic rate",
  async run() {
    const reason = kernelUnavailableReason();
    if (reason) {
      console.warn(`kernel benchmark skipped: ${reason}`);
      return [];
    }
    const figures: BenchFigure[] = [];
    const hit = tcpFrame(80);
    const miss = tcpFrame(443);
    const fds: number[] = [];
    const load = (insns: Uint8Array, type: "xdp" | "socket") => {
      const r = loadProgram({ insns, type, logLevel: 0 });
      if (!r.ok) throw new Error(`${type} program rejected: ${r.errnoName}`);
      fds.push(r.fd);
      return r;
    };
    try {
      const xdp = load(xdpTcpDport80(), "xdp");
      for (const [what, pkt] of [["match", hit], ["no match", miss]] as const) {
        const ns = median([0, 1, 2].map(() => benchRun(xdp.fd, pkt, REPEAT).nsPerPacket));
        figures.push({ name: `XDP "tcp dst port 80" (${what}), test_run x${REPEAT}`, value: ns, unit: "ns/packet" });
      }
      figures.push({ name: "XDP program: load + verify + JIT", value: xdp.stats.loadWallUs, unit: "µs", note: `${dumpProgram(xdp.fd).counts.xlatedInsns} xlated insns` });

      const c = compileFilter({ filter: "tcp port 80", dlt: DLT_EN10MB });
      if (!c.ok) throw new Error(c.error);
      const sock = load(cbpfToSocketEbpf(c.insns), "socket");
      for (const [what, pkt] of [["match", hit], ["no match", miss]] as const) {
        const ns = median([0, 1, 2].map(() => benchRun(sock.fd, pkt, REPEAT, { type: "socket" }).nsPerPacket));
        figures.push({ name: `socket filter "tcp port 80" (${what}), test_run x${REPEAT}`, value: ns, unit: "ns/packet", note: `${c.insns.length} cBPF -> ${dumpProgram(sock.fd).counts.xlatedInsns} xlated eBPF insns` });
      }

      // The same socket path three ways, on a packet every filter drops (see socketPathBench), in
      // interleaved rounds so that drift hits all alike. The baseline filter is classic `ret #0`.
      // A long filter is measured too: the filter's share of the path is larger there.
      const hosts = Array.from({ length: 20 }, (_, i) => `host 10.1.${i}.${i + 1}`).join(" or ");
      const drop0 = encodeProgram([{ code: 0x06, jt: 0, jf: 0, k: 0 }]);
      for (const [label, filter] of [["tcp port 80", "tcp port 80"], ["20 hosts OR'ed", hosts]] as const) {
        const cf = compileFilter({ filter, dlt: DLT_EN10MB });
        if (!cf.ok) throw new Error(cf.error);
        const ebpf = filter === "tcp port 80" ? sock : load(cbpfToSocketEbpf(cf.insns), "socket");
        const N = 200_000;
        const rounds: { base: number[]; classic: number[]; ebpf: number[] } = { base: [], classic: [], ebpf: [] };
        for (let r = 0; r < 7; r++) {
          rounds.base.push(socketPathBench({ classic: drop0 }, miss, N));
          rounds.classic.push(socketPathBench({ classic: encodeProgram(cf.insns) }, miss, N));
          rounds.ebpf.push(socketPathBench({ progFd: ebpf.fd }, miss, N));
        }
        const base = median(rounds.base);
        figures.push({
          name: `"${label}" as eBPF (SO_ATTACH_BPF) on a dropped AF_UNIX datagram, above a \`ret #0\` filter`,
          value: median(rounds.ebpf) - base,
          unit: "ns/packet",
          baseline: { name: "same cBPF via SO_ATTACH_FILTER (kernel's conversion)", value: median(rounds.classic) - base, unit: "ns/packet" },
          note: `${cf.insns.length} cBPF insns, ${dumpProgram(ebpf.fd).counts.xlatedInsns} xlated eBPF; path with \`ret #0\` ${base.toFixed(0)} ns/packet; medians of 7 rounds of ${N}`,
        });
      }

      const frames = [hit, miss];
      figures.push(await trafficRate("generic", frames));
      figures.push(await trafficRate("auto", frames));
    } finally {
      for (const fd of fds) closeFd(fd);
    }
    return figures;
  },
};

export default bench;
