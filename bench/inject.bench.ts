/**
 * What a filter costs spliced into the XDP host (lib/inject, loaded by the libbpf loader) beside
 * the same filter as a standalone translated XDP program, and beside the kernel's own conversion
 * of the classic program (root and BPF required; without them the benchmark says why and returns
 * no figures).
 *
 * - ns/packet by the kernel's clock (BPF_PROG_TEST_RUN, repeat): a two-instruction program (the
 *   test run's own cost), the injected host, the host with a reject-all stub (`r4 = r5`: what the host costs without a filter: two counter lookups and a
 *   bpf-to-bpf call), and the standalone translation, on a frame the filter rejects (so the host
 *   sends no ring-buffer event) and on one it accepts. The goal is injected - host alone <=
 *   standalone - empty program: the filter costs no more inside the host than on its own, beyond the call.
 * - the kernel's own cBPF -> eBPF conversion has no test run (it exists only attached to a
 *   socket), so it is measured on the AF_UNIX datagram path (socketPathBench) beside the
 *   standalone socket translation, above a `ret #0` filter.
 * - xlated instruction counts of each program (the kernel's conversion cannot be dumped).
 * The "configuration mode" host of issue 10 (a tuple looked up in a hash map) is not built.
 */
import type { Benchmark, BenchFigure } from "./harness";
import { tcpFrame } from "./fixtures";
import { median } from "./harness";
import { kernelUnavailableReason } from "../server/kernel/kernel-info";
import { loadProgram } from "../server/kernel/load";
import { benchRun, socketPathBench } from "../server/kernel/test-run";
import { dumpProgram } from "../server/kernel/inspect";
import { closeLoadedObject, loadObject } from "../server/kernel/object-load";
import { injectedHost } from "../server/engines/inject";
import { hostObjectFile, readObjectFile } from "../server/inject";
import { closeFd } from "../server/native/libc";
import { compileFilter } from "../server/native/libpcap";
import { injectFilter, LINKTYPE_EN10MB, REJECT_ALL } from "../lib/inject";
import { translate, type Target } from "../lib/translate";
import { assemble, encodeProgram, exit, mov64Imm } from "../lib/ebpf";
import { encodeProgram as encodeCbpf } from "../lib/cbpf/codec";
import type { CbpfInsn } from "../lib/cbpf/insn";

const REPEAT = 1_000_000;
const ROUNDS = 5;


function standalone(prog: readonly CbpfInsn[], target: Target): number {
  const t = translate(prog, { target });
  const r = loadProgram({ insns: encodeProgram(t.program.raw), type: target, logLevel: 0, name: `bpg_bench_${target}` });
  if (!r.ok) throw new Error(`the standalone ${target} translation was rejected (${r.errnoName})`);
  return r.fd;
}

const nsOf = (fd: number, packet: Uint8Array) => median(Array.from({ length: ROUNDS }, () => benchRun(fd, packet, REPEAT, { type: "xdp" }).nsPerPacket));

const bench: Benchmark = {
  name: "inject",
  description: "a filter spliced into the XDP host vs the standalone translation vs the kernel's cBPF conversion (ns/packet, xlated insns)",
  async run(): Promise<BenchFigure[]> {
    const why = kernelUnavailableReason();
    if (why) {
      console.warn(`inject bench: not run: ${why}`);
      return [];
    }
    const figures: BenchFigure[] = [];
    const hostOnly = loadObject({ bytes: injectFilter({ object: readObjectFile(hostObjectFile("xdp")), cbpf: REJECT_ALL, linkType: LINKTYPE_EN10MB }).bytes, logLevel: 0 });
    const hit = tcpFrame(80);
    const miss = tcpFrame(81);
    const drop0 = encodeCbpf([{ code: 0x06, jt: 0, jf: 0, k: 0 }]);
    const pass = loadProgram({ insns: encodeProgram(assemble([mov64Imm("r0", 2), exit()]).raw), type: "xdp", logLevel: 0, name: "bpg_bench_pass" });
    if (!pass.ok) throw new Error(`a two-instruction XDP program was rejected (${pass.errnoName})`);
    try {
      const empty = nsOf(pass.fd, miss);
      figures.push({ name: "XDP `r0 = XDP_PASS; exit` (the test run's own cost)", value: empty, unit: "ns/packet" });
      const hostMiss = nsOf(hostOnly.fd, miss);
      figures.push({ name: "XDP host with a reject-all stub", value: hostMiss, unit: "ns/packet", note: `${dumpProgram(hostOnly.fd).counts.xlatedInsns} xlated insns; x${REPEAT}, median of ${ROUNDS}` });
      const hosts = Array.from({ length: 20 }, (_, i) => `host 10.1.${i}.${i + 1}`).join(" or ");
      for (const [label, filter] of [["tcp port 80", "tcp port 80"], ["20 hosts OR'ed", `tcp and (${hosts} or port 80)`]] as const) {
        const c = compileFilter({ filter, dlt: LINKTYPE_EN10MB, netmask: 0 });
        if (!c.ok) throw new Error(c.error);
        const injected = injectedHost(c.insns, "xdp");
        const alone = standalone(c.insns, "xdp");
        const sock = standalone(c.insns, "socket");
        try {
          const xlated = { injected: dumpProgram(injected.object.fd).counts.xlatedInsns, host: dumpProgram(hostOnly.fd).counts.xlatedInsns, alone: dumpProgram(alone).counts.xlatedInsns, sock: dumpProgram(sock).counts.xlatedInsns };
          for (const [what, packet] of [["rejected", miss], ["accepted", hit]] as const) {
            const inj = nsOf(injected.object.fd, packet);
            const sa = nsOf(alone, packet);
            figures.push({
              name: `"${label}" spliced into the XDP host, ${what} frame`,
              value: inj,
              unit: "ns/packet",
              baseline: { name: "standalone XDP translation", value: sa, unit: "ns/packet" },
              note: `injected - host alone (${hostMiss.toFixed(1)}) = ${(inj - hostMiss).toFixed(1)} ns; standalone - empty program = ${(sa - empty).toFixed(1)} ns${what === "accepted" ? " (an accepted frame also costs the host's ring-buffer event)" : ""}`,
            });
          }
          figures.push({
            name: `"${label}" xlated instructions: injected host`,
            value: xlated.injected,
            unit: "insns",
            baseline: { name: "standalone XDP translation", value: xlated.alone, unit: "insns" },
            note: `host with a reject-all stub ${xlated.host}; so the filter adds ${xlated.injected - xlated.host} (${c.insns.length} cBPF insns); standalone socket translation ${xlated.sock}`,
          });
          const N = 200_000;
          const rounds: { base: number[]; classic: number[]; ebpf: number[] } = { base: [], classic: [], ebpf: [] };
          for (let r = 0; r < ROUNDS; r++) {
            rounds.base.push(socketPathBench({ classic: drop0 }, miss, N));
            rounds.classic.push(socketPathBench({ classic: encodeCbpf(c.insns) }, miss, N));
            rounds.ebpf.push(socketPathBench({ progFd: sock }, miss, N));
          }
          const base = median(rounds.base);
          figures.push({
            name: `"${label}": the kernel's own conversion (SO_ATTACH_FILTER) on a dropped AF_UNIX datagram, above \`ret #0\``,
            value: median(rounds.classic) - base,
            unit: "ns/packet",
            baseline: { name: "standalone socket translation (SO_ATTACH_BPF), same path", value: median(rounds.ebpf) - base, unit: "ns/packet" },
            note: `wall clock, path with \`ret #0\` ${base.toFixed(0)} ns/packet; medians of ${ROUNDS} rounds of ${N}; not comparable with the test-run figures`,
          });
        } finally {
          injected.close();
          closeFd(alone);
          closeFd(sock);
        }
      }
    } finally {
      closeLoadedObject(hostOnly);
      closeFd(pass.fd);
    }
    return figures;
  },
};

export default bench;
