/**
 * BPF_PROG_TEST_RUN (server/kernel/test-run.ts) on XDP, socket filter and tc programs, the framing
 * rules for non-Ethernet packets, and the socketpair runner for classic filters, whose verdicts
 * are compared with libpcap's own bpf_filter on the same cBPF.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { testRun, testRunCapture, benchRun, classicSocketFilterRun, socketFilterRun, socketPathBench, DLT, frameForTestRun } from "../../server/kernel/test-run";
import { compileFilter, makeBpfFilter } from "../../server/native/libpcap";
import { encodeProgram } from "../../lib/cbpf/codec";
import { PlaygroundError } from "../../lib/errors";
import { SyscallError } from "../../server/native/errno";
import { encode, asm } from "../../server/kernel/raw-insn";
import { describeKernel, Programs } from "./support";
import { sampleFrames, ipv4, ethIpv4 } from "./frames";

// XDP: r0 = data_end - data (the length the program sees)
const xdpLen = encode([asm.ldxW(2, 1, 0), asm.ldxW(0, 1, 4), asm.sub64Reg(0, 2), asm.exit()]);
// XDP: r0 = first byte (bounds-checked; 0 on an empty packet)
const xdpFirst = encode([
  asm.ldxW(2, 1, 0),
  asm.ldxW(3, 1, 4),
  asm.mov64Imm(0, 0xffff),
  asm.mov64Reg(4, 2),
  asm.add64Imm(4, 1),
  asm.jgtReg(4, 3, 1),
  asm.ldxB(0, 2, 0),
  asm.exit(),
]);
// socket filter: r0 = packet byte 0 (LD_ABS), and r0 = skb->len
const sockFirst = encode([asm.mov64Reg(6, 1), asm.ldAbsB(0), asm.exit()]);
const skbLen = encode([asm.ldxW(0, 1, 0), asm.exit()]);
// tc: r0 = byte at data + 14 (direct packet access via __sk_buff data/data_end)
const tcByte14 = encode([
  asm.ldxW(2, 1, 76),
  asm.ldxW(3, 1, 80),
  asm.mov64Imm(0, 0xffff),
  asm.mov64Reg(4, 2),
  asm.add64Imm(4, 15),
  asm.jgtReg(4, 3, 1),
  asm.ldxB(0, 2, 14),
  asm.exit(),
]);
const const7 = encode([asm.mov64Imm(0, 7), asm.exit()]);

describeKernel("kernel: BPF_PROG_TEST_RUN", () => {
  const progs = new Programs();
  const fd: Record<string, number> = {};
  const frames = sampleFrames();

  beforeAll(() => {
    fd.xdpLen = progs.load({ insns: xdpLen, type: "xdp" });
    fd.xdpFirst = progs.load({ insns: xdpFirst, type: "xdp" });
    fd.sockFirst = progs.load({ insns: sockFirst, type: "socket" });
    fd.sockLen = progs.load({ insns: skbLen, type: "socket" });
    fd.tcLen = progs.load({ insns: skbLen, type: "tc" });
    fd.tcByte14 = progs.load({ insns: tcByte14, type: "tc" });
    for (const t of ["xdp", "socket", "tc"] as const) fd[`c7${t}`] = progs.load({ insns: const7, type: t });
    fd.kprobe = progs.load({ insns: const7, type: "kprobe" });
  });
  afterAll(() => progs.cleanup());

  it("returns a constant for XDP, socket filter and tc alike", () => {
    for (const t of ["xdp", "socket", "tc"]) {
      for (const f of frames) expect(testRun(fd[`c7${t}`]!, f).retval).toBe(7);
    }
  });

  it("XDP sees the frame as given: length and first byte", () => {
    for (const f of frames) {
      expect(testRun(fd.xdpLen!, f).retval).toBe(f.length);
      expect(testRun(fd.xdpFirst!, f).retval).toBe(f[0]);
    }
  });

  it("a socket filter sees the packet at offset 0 with skb->len its length, for Ethernet and raw IP", () => {
    for (const f of frames) {
      const r = testRun(fd.sockFirst!, f);
      expect(r.retval).toBe(f[0]);
      expect(r.viewOffset).toBe(0);
      expect(r.dataOut).toEqual(f);
      expect(testRun(fd.sockLen!, f).retval).toBe(f.length);
    }
    const raw = ipv4("10.0.0.1", "10.0.0.2", { proto: "udp", sport: 1, dport: 2 });
    expect(testRun(fd.sockFirst!, raw, { linkType: DLT.RAW }).retval).toBe(0x45);
    expect(testRun(fd.sockLen!, raw, { linkType: DLT.RAW }).retval).toBe(raw.length);
  });

  it("tc sees an Ethernet frame as is, and a raw IP packet behind a fake Ethernet header", () => {
    for (const f of frames) {
      expect(testRun(fd.tcLen!, f).retval).toBe(f.length);
      expect(testRun(fd.tcByte14!, f).retval).toBe(f[14]);
    }
    const raw = ipv4("10.0.0.1", "10.0.0.2", { proto: "tcp", sport: 1, dport: 2 });
    const r = testRun(fd.tcByte14!, raw, { linkType: DLT.RAW });
    expect(r.viewOffset).toBe(14);
    expect(r.framing).toBe("fake-ethernet");
    expect(r.retval).toBe(raw[0]);
    expect(r.dataOut).toEqual(raw);
    expect(testRun(fd.tcLen!, raw, { linkType: DLT.RAW }).retval).toBe(raw.length + 14);
  });

  it("works around the kernel's refusal of truncated IP headers where it can, and says why where it cannot", () => {
    const full = ethIpv4("10.0.0.1", "10.0.0.2", { proto: "tcp", sport: 1, dport: 80 });
    const cut = full.slice(0, 14 + 12); // EtherType IPv4, 12 bytes of IP header
    // The kernel itself refuses it as an skb with its real EtherType (the reason for the rule).
    expect(() => testRun(fd.tcLen!, cut)).toThrow(expect.objectContaining({ code: "kernel/test-run-short-l3" }));
    // A socket filter's fake header is followed by the whole frame, so only a frame shorter than an
    // IPv4 header needs the substitute EtherType.
    expect(testRun(fd.sockLen!, cut).protocolSubstituted).toBe(false);
    const tiny = full.slice(0, 18);
    const sock = testRun(fd.sockLen!, tiny);
    expect(sock.protocolSubstituted).toBe(true);
    expect(sock.retval).toBe(tiny.length);
    expect(testRun(fd.xdpLen!, cut).retval).toBe(cut.length);
    expect(frameForTestRun("socket", full).protocolSubstituted).toBe(false);
  });

  it("refuses what the kernel cannot run, with typed errors", () => {
    expect(() => testRun(fd.xdpLen!, new Uint8Array(13))).toThrow(PlaygroundError);
    expect(() => testRun(fd.kprobe!, frames[0]!)).toThrow(expect.objectContaining({ code: "kernel/test-run" }));
    let err: unknown;
    try {
      testRun(fd.tcLen!, new Uint8Array(5000));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as SyscallError).errnoName).toBe("EINVAL");
    expect((err as SyscallError).message).toContain("3712");
  });

  it("runs a capture one packet per call, keeping refused packets as error entries in place", () => {
    const res = testRunCapture(fd.xdpLen!, [frames[0]!, new Uint8Array(3), frames[1]!]);
    expect(res.map((r) => r.ok)).toEqual([true, false, true]);
    expect(res[0]!.ok && res[0]!.retval).toBe(frames[0]!.length);
    expect(res[1]!.ok === false && res[1]!.code).toBe("kernel/test-run");
  });

  it("measures ns per packet with repeat", () => {
    const b = benchRun(fd.xdpFirst!, frames[0]!, 100_000);
    expect(b.retval).toBe(frames[0]![0]);
    expect(b.nsPerPacket).toBeGreaterThan(0);
    expect(b.nsPerPacket).toBeLessThan(10_000);
    expect(() => benchRun(fd.xdpFirst!, frames[0]!, 0)).toThrow(PlaygroundError);
  });

  it("runs classic filters through the kernel's own conversion with libpcap's verdicts", () => {
    const filters = ["tcp port 80", "udp", "ip src 10.0.0.1", "ip6", "tcp[13] & 2 != 0", "len > 100", "ether proto 0x88b5", "ip[6:2] & 0x1fff != 0", ""];
    let matched = 0;
    for (const filter of filters) {
      const c = compileFilter({ filter, dlt: DLT.EN10MB });
      if (!c.ok) throw new Error(c.error);
      const oracle = makeBpfFilter(c.insns);
      const kernel = classicSocketFilterRun(encodeProgram(c.insns), frames);
      frames.forEach((f, i) => {
        const want = oracle(f, f.length);
        // The socket trims to min(retval, len); 0 drops.
        expect(kernel[i], `${filter} on frame ${i}`).toBe(Math.min(want, f.length));
        if (want) matched++;
      });
    }
    expect(matched).toBeGreaterThan(20);
  });

  it("an eBPF socket filter attached to a socket agrees with its test run", () => {
    const got = socketFilterRun(fd.sockFirst!, frames);
    frames.forEach((f, i) => expect(got[i]).toBe(Math.min(testRun(fd.sockFirst!, f).retval, f.length)));
  });

  it("times filters on the socket path with packets they drop, and refuses packets they keep", () => {
    const c = compileFilter({ filter: "tcp port 80", dlt: DLT.EN10MB });
    if (!c.ok) throw new Error(c.error);
    const drop0 = encodeProgram([{ code: 0x06, jt: 0, jf: 0, k: 0 }]); // ret #0
    const miss = ethIpv4("10.0.0.1", "10.0.0.2", { proto: "udp", sport: 1, dport: 2 });
    const ebpfDrop = progs.load({ insns: encode([asm.mov64Imm(0, 0), asm.exit()]), type: "socket" });
    for (const filter of [{ classic: drop0 }, { classic: encodeProgram(c.insns) }, { progFd: ebpfDrop }]) {
      const ns = socketPathBench(filter, miss, 5000);
      expect(ns).toBeGreaterThan(0);
      expect(ns).toBeLessThan(1e6);
    }
    expect(() => socketPathBench({ progFd: fd.c7socket! }, miss, 100)).toThrow(PlaygroundError);
  });
});
