/**
 * kernel-info.ts and btf.ts against the system's own answers: uname, /proc, sysfs, and bpftool's
 * reading of the same BTF. Also checks lib/ebpf's hard-coded 6.18 sk_buff layout (used by the
 * kprobe context emulation) against this kernel's BTF when the kernel is a 6.18.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { kernelInfo } from "../../server/kernel/kernel-info";
import { readBtfFile, skbLayout } from "../../server/kernel/btf";
import { SKB_LAYOUT_6_18_X86_64 } from "../../lib/ebpf";
import { bpftool, describeKernel, hasBpftool } from "./support";

describeKernel("kernel: capabilities and BTF", () => {
  it("reports what uname, /proc and sysfs say", () => {
    const info = kernelInfo();
    expect(info.release).toBe(execFileSync("uname", ["-r"], { encoding: "utf8" }).trim());
    expect(info.root).toBe(true);
    expect(info.jitEnabled).toBe(Number(readFileSync("/proc/sys/net/core/bpf_jit_enable", "utf8").trim()));
    expect(info.kprobePmu).toBe(existsSync("/sys/bus/event_source/devices/kprobe/type"));
    expect(info.btf).toBe(existsSync("/sys/kernel/btf/vmlinux"));
    for (const k of ["socket", "tc", "xdp"] as const) expect(info.canLoad[k].ok).toBe(true);
    if (info.config.CONFIG_KPROBES !== undefined) expect(info.kprobePmu).toBe(info.config.CONFIG_KPROBES === "y");
    expect(info.skbHook).not.toBeNull();
    // Best hook first: fentry, then the raw tracepoint, then a kprobe.
    expect(info.skbHook!.kind).toBe(info.fentry ? "fentry" : info.canLoad.raw_tp.ok ? "raw_tp" : "kprobe");
    if (info.config.CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS === "n" || !info.btf) expect(info.fentry).toBe(false);
    if (!info.fentry && !info.canLoad.fentry.ok) expect(info.canLoad.fentry.errnoName).toBeTruthy();
  });

  it("fentry availability agrees with bpftool's probe of the tracing program type", () => {
    const info = kernelInfo();
    if (!hasBpftool("[kernel] fentry availability vs bpftool")) return;
    const probe = bpftool(["feature", "probe", "kernel"]) as { program_types?: Record<string, boolean> };
    const tracing = probe.program_types?.have_tracing_prog_type;
    expect(typeof tracing).toBe("boolean");
    expect(info.canLoad.fentry.ok).toBe(tracing);
    // Loading is not attaching (the trampoline needs ftrace direct calls), so fentry implies tracing only.
    if (info.fentry) expect(tracing).toBe(true);
  });

  it("finds sk_buff fields where bpftool's raw BTF dump puts them", () => {
    const layout = skbLayout();
    expect(layout).not.toBeNull();
    if (!hasBpftool("[kernel] BTF offsets vs bpftool")) return;
    // The raw dump is 12 MB; keep the lines after sk_buff's header only.
    const raw = execFileSync("sh", ["-c", "bpftool btf dump file /sys/kernel/btf/vmlinux format raw | grep -A 64 \"^\\[[0-9]*\\] STRUCT 'sk_buff' size=\""], {
      encoding: "utf8",
      maxBuffer: 16 << 20,
    });
    // Top-level members of struct sk_buff, as "'name' type_id=N bits_offset=M" lines.
    const start = raw.search(/^\[\d+\] STRUCT 'sk_buff' size=/m);
    expect(start).toBeGreaterThanOrEqual(0);
    const block = raw.slice(start).split("\n");
    const size = Number(/size=(\d+)/.exec(block[0]!)![1]);
    const members = new Map<string, number>();
    for (const line of block.slice(1)) {
      const m = /^\s+'([^']*)' type_id=\d+ bits_offset=(\d+)/.exec(line);
      if (!m) break;
      members.set(m[1]!, Number(m[2]));
    }
    const btf = readBtfFile();
    expect(btf.structSize("sk_buff")).toBe(size);
    let compared = 0;
    for (const [name, bits] of members) {
      if (!name || name === "(anon)") continue; // anonymous unions: their inner fields are found through them
      expect(btf.field("sk_buff", name)?.bitOffset, name).toBe(bits);
      compared++;
    }
    expect(compared).toBeGreaterThan(10);
    expect(layout!.len.bitOffset).toBe(members.get("len"));
    expect(layout!.data.bitOffset).toBe(members.get("data"));
    expect(layout!.head.bitOffset).toBe(members.get("head"));
    expect(layout!.data.size).toBe(8);
    expect(layout!.len.size).toBe(4);
  });

  it("lib/ebpf's 6.18 sk_buff layout matches this kernel's BTF (on 6.18)", () => {
    const info = kernelInfo();
    if (!(info.version[0] === 6 && info.version[1] === 18 && info.arch === "x64")) {
      console.warn(`[kernel] not a 6.18 x86_64 kernel (${info.release}): SKB_LAYOUT_6_18_X86_64 not checked`);
      return;
    }
    const btf = readBtfFile();
    expect(btf.structSize("sk_buff")).toBe(SKB_LAYOUT_6_18_X86_64.size);
    for (const [name, offset] of Object.entries(SKB_LAYOUT_6_18_X86_64)) {
      if (name === "size") continue;
      const f = btf.field("sk_buff", name);
      expect(f, name).not.toBeNull();
      expect(f!.offset, name).toBe(offset);
    }
  });
});
