/**
 * bpf_prog_info, the xlated dump and the JIT image (server/kernel/inspect.ts), checked against
 * bpftool reading the same program, the independent oracle. On CI bpftool is installed by
 * scripts/setup.sh --test; elsewhere the bpftool comparisons are skipped with a warning.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { dumpProgram, progInfo, disassemble } from "../../server/kernel/inspect";
import { ArrayMap, RingBuffer } from "../../server/kernel/maps";
import { testRun } from "../../server/kernel/test-run";
import { enableRunTimeStats } from "../../server/native/bpf";
import { closeFd } from "../../server/native/libc";
import { countingPacketProgram, countingSocketFilter, ringbufXdp, testFrame, XDP_PASS } from "./programs";
import { bpftool, describeKernel, hasBpftool, Programs } from "./support";
import { execFileSync } from "node:child_process";

describeKernel("kernel: inspecting loaded programs", () => {
  const progs = new Programs();
  let map: ArrayMap;
  let xdp: number;
  let sock: number;
  const haveBpftool = hasBpftool("[kernel] inspect vs bpftool");

  beforeAll(() => {
    map = ArrayMap.create(1, 8, "inspect_cnt");
    xdp = progs.load({ insns: countingPacketProgram(map.fd, XDP_PASS), type: "xdp", name: "inspect_xdp" });
    sock = progs.load({ insns: countingSocketFilter(map.fd), type: "socket", name: "inspect_sock" });
  });
  afterAll(() => {
    progs.cleanup();
    map.close();
  });

  it("reads id, name, tag, lengths and map ids as bpftool sees them", () => {
    for (const fd of [xdp, sock]) {
      const d = dumpProgram(fd);
      expect(d.info.id).toBeGreaterThan(0);
      expect(d.info.tag).toMatch(/^[0-9a-f]{16}$/);
      expect(d.info.mapIds).toEqual([map.info().id]);
      expect(d.counts.xlatedInsns * 8).toBe(d.info.xlatedLen);
      expect(d.counts.jitBytes).toBe(d.info.jitedLen);
      if (!haveBpftool) continue;
      const shown = bpftool(["prog", "show", "id", String(d.info.id)]) as Record<string, unknown>;
      expect(shown.name).toBe(d.info.name);
      expect(shown.tag).toBe(d.info.tag);
      expect(shown.bytes_xlated).toBe(d.info.xlatedLen);
      expect(shown.bytes_jited).toBe(d.info.jitedLen);
      expect(shown.map_ids).toEqual(d.info.mapIds);
    }
  });

  it("formats the xlated instructions as the kernel's disassembler does (bpftool dump xlated)", () => {
    const d = dumpProgram(xdp);
    expect(d.xlatedText.length).toBeGreaterThan(5);
    // The verifier rewrote the program: ctx loads became 64-bit, the array lookup got inlined.
    expect(d.counts.xlatedInsns).toBeGreaterThan(countingPacketProgram(map.fd, XDP_PASS).length / 8);
    if (!haveBpftool) return;
    const theirs = execFileSync("bpftool", ["prog", "dump", "xlated", "id", String(d.info.id)], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    expect(theirs).toHaveLength(d.xlatedText.length);
    let compared = 0;
    theirs.forEach((line, i) => {
      // bpftool prints maps as map[id:N] where the kernel's dump has the id as a number.
      if (/map\[/.test(line)) return;
      expect(d.xlatedText[i]).toBe(line);
      compared++;
    });
    expect(compared).toBeGreaterThan(15);
  });

  it("names helper calls in the xlated text through kallsyms, as bpftool does", () => {
    const rb = RingBuffer.create(4096, "inspect_ring");
    try {
      const fd = progs.load({ insns: ringbufXdp(rb.fd), type: "xdp" });
      const d = dumpProgram(fd);
      const calls = d.xlatedText.filter((l) => / call /.test(l));
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatch(/^\d+: \(85\) call bpf_ringbuf_output#\d+$/);
      if (!haveBpftool) return;
      const theirs = execFileSync("bpftool", ["prog", "dump", "xlated", "id", String(d.info.id)], { encoding: "utf8" });
      expect(theirs).toContain(calls[0]);
    } finally {
      rb.close();
    }
  });

  it("disassembles the JIT image with iced-x86: contiguous, addressed from the function's ksym", () => {
    const d = dumpProgram(xdp);
    expect(d.info.nrJitedKsyms).toBe(1);
    expect(d.jit).toHaveLength(1);
    const f = d.jit[0]!;
    expect(f.address > 0xffff000000000000n).toBe(true); // a kernel text address
    expect(f.lines.length).toBeGreaterThan(10);
    let at = 0;
    for (const l of f.lines) {
      expect(l.offset).toBe(at);
      expect(l.address).toBe(f.address + BigInt(l.offset));
      expect(l.text).not.toBe("(bad)");
      expect(l.text.length).toBeGreaterThan(1);
      at += l.bytes.length;
    }
    expect(at).toBe(f.bytes.length);
    expect(d.counts.jitInsns).toBe(f.lines.length);
    // x86-64 JIT prologue (arch/x86/net/bpf_jit_comp.c): frame set-up appears within the first lines.
    const texts = f.lines.slice(0, 8).map((l) => l.text);
    expect(texts).toContain("push rbp");
    expect(texts).toContain("mov rbp,rsp");
  });

  it("disassembles arbitrary bytes in Intel syntax", () => {
    const lines = disassemble(new Uint8Array([0x55, 0x48, 0x89, 0xe5, 0xc3]), 0x1000n);
    expect(lines.map((l) => l.text)).toEqual(["push rbp", "mov rbp,rsp", "ret"]);
    expect(lines.map((l) => l.address)).toEqual([0x1000n, 0x1001n, 0x1004n]);
  });

  it("counts runs and run time while BPF_ENABLE_STATS is held", () => {
    const statsFd = enableRunTimeStats();
    try {
      const before = progInfo(xdp);
      testRun(xdp, testFrame(1), { repeat: 100 });
      const after = progInfo(xdp);
      expect(after.runCnt - before.runCnt).toBe(100n);
      expect(after.runTimeNs > before.runTimeNs).toBe(true);
    } finally {
      closeFd(statsFd);
    }
  });
});
