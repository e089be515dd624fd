/**
 * What the running kernel offers the playground, found by asking it (tiny probe loads) rather
 * than by version numbers wherever a probe is cheap and side-effect free.
 */
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import { closeFd } from "../native/libc";
import { linkCreate, BPF_TRACE_FENTRY } from "../native/bpf";
import { kprobePmuType } from "../native/perf";
import { loadProgram } from "./load";
import { encode, asm } from "./raw-insn";
import { PROG_KINDS, type ProgKind } from "./prog-types";

export interface KernelInfo {
  release: string;
  /** [major, minor] parsed from the release. */
  version: [number, number];
  arch: string;
  root: boolean;
  /** Per program kind: can a trivial program of it be loaded, and if not the errno name. */
  canLoad: Record<ProgKind, { ok: boolean; errnoName?: string }>;
  /** tcx links (Linux 6.6+ with CONFIG_NET_XGRESS). */
  tcx: boolean;
  /** The kprobe PMU exists (CONFIG_KPROBES): kprobe programs can be attached. */
  kprobePmu: boolean;
  /** An fentry program on FENTRY_SKB_FUNCTION loads and attaches (BTF + ftrace direct calls). */
  fentry: boolean;
  /** vmlinux BTF is exposed (needed for real sk_buff offsets). */
  btf: boolean;
  /** /proc/sys/net/core/bpf_jit_enable: 0 off, 1 on, 2 on with debug output; null if unreadable. */
  jitEnabled: number | null;
  /** /proc/sys/kernel/unprivileged_bpf_disabled; null if unreadable. */
  unprivilegedBpfDisabled: number | null;
  /**
   * The hook for the "kprobe" target on this kernel, best first: fentry on an skb function (a
   * direct call from an ftrace trampoline, the cheapest), the netif_receive_skb raw tracepoint (a
   * stable tracepoint, cheaper than a kprobe), then a kprobe on the skb function.
   */
  skbHook: { kind: "fentry"; function: string } | { kind: "kprobe"; function: string } | { kind: "raw_tp"; tracepoint: string } | null;
  /** Config options read from /proc/config.gz when it exists (y/m values only). */
  config: Record<string, string>;
}

function readInt(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

const CONFIG_KEYS = ["CONFIG_KPROBES", "CONFIG_FUNCTION_TRACER", "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS", "CONFIG_BPF_JIT", "CONFIG_NET_XGRESS", "CONFIG_DEBUG_INFO_BTF", "CONFIG_BPF_EVENTS", "CONFIG_FPROBE", "CONFIG_VETH"];

function readConfig(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    const text = new TextDecoder().decode(gunzipSync(new Uint8Array(readFileSync("/proc/config.gz"))));
    for (const line of text.split("\n")) {
      const m = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line);
      if (m && CONFIG_KEYS.includes(m[1]!)) out[m[1]!] = m[2]!;
    }
  } catch {
    // No /proc/config.gz (CONFIG_IKCONFIG_PROC off): leave empty, probes below still answer.
  }
  return out;
}

/** An skb function that fires for veth traffic and takes the skb as its first argument. */
export const KPROBE_SKB_FUNCTION = "__netif_receive_skb";
/**
 * The fentry hook. Its only argument is `struct sk_buff *` (`__netif_receive_skb_core` takes
 * `struct sk_buff **`), it is a real out-of-line function on 6.18 (in kallsyms and BTF), and it
 * runs for every skb that goes up the stack one at a time: the backlog path veth uses when the
 * namespace end transmits (veth_xmit -> __netif_rx -> process_backlog -> here), with skb->dev the
 * receiving (host) end. GRO lists (veth in NAPI mode, i.e. with an XDP program on it) go through
 * __netif_receive_skb_list_core instead and are not seen here. `netif_receive_skb` is only for
 * drivers that bypass the backlog, and `ip_rcv` sees IPv4 only.
 * (The Linux 6.18 CI kernel refuses every BPF_PROG_TYPE_TRACING load with EPERM, as bpftool's
 * feature probe confirms, so there the hook falls back to the raw tracepoint; the fentry counting
 * test in tests/kernel/attach.test.ts runs wherever tracing programs are allowed.)
 */
export const FENTRY_SKB_FUNCTION = "__netif_receive_skb";
/** The raw tracepoint fallback: trace_netif_receive_skb(skb), fired in __netif_receive_skb_core. */
export const RAW_TP_SKB = "netif_receive_skb";

function kallsymsHas(name: string): boolean {
  try {
    return readFileSync("/proc/kallsyms", "utf8").includes(` ${name}\n`);
  } catch {
    return false;
  }
}

/**
 * Loading an fentry program does not prove it can attach: the trampoline needs ftrace direct
 * calls. So the trivial program (returns 0, touches nothing) is attached and at once detached.
 */
function fentryAttaches(trivial: Uint8Array): boolean {
  const r = loadProgram({ insns: trivial, type: "fentry", logLevel: 0, attachFunc: FENTRY_SKB_FUNCTION });
  if (!r.ok) return false;
  try {
    closeFd(linkCreate({ progFd: r.fd, target: 0, attachType: BPF_TRACE_FENTRY }, "BPF_LINK_CREATE(fentry probe)"));
    return true;
  } catch {
    return false;
  } finally {
    closeFd(r.fd);
  }
}

let cached: KernelInfo | null = null;

export function kernelInfo(refresh = false): KernelInfo {
  if (cached && !refresh) return cached;
  const rel = release();
  const m = /^(\d+)\.(\d+)/.exec(rel);
  const version: [number, number] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const trivial = encode([asm.mov64Imm(0, 0), asm.exit()]);
  const canLoad = {} as KernelInfo["canLoad"];
  for (const kind of PROG_KINDS) {
    try {
      const r = loadProgram({ insns: trivial, type: kind, logLevel: 0, attachFunc: FENTRY_SKB_FUNCTION });
      if (r.ok) closeFd(r.fd);
      canLoad[kind] = r.ok ? { ok: true } : { ok: false, errnoName: r.errnoName };
    } catch (e) {
      canLoad[kind] = { ok: false, errnoName: (e as { errnoName?: string }).errnoName ?? "unavailable" };
    }
  }
  const config = readConfig();
  const kprobePmu = kprobePmuType() !== null;
  const fentry = canLoad.fentry.ok && fentryAttaches(trivial);
  const newEnough = version[0] > 6 || (version[0] === 6 && version[1] >= 6);
  const tcx = canLoad.tc.ok && newEnough && config.CONFIG_NET_XGRESS !== undefined ? config.CONFIG_NET_XGRESS === "y" : canLoad.tc.ok && newEnough;
  const skbHook: KernelInfo["skbHook"] = fentry
    ? { kind: "fentry", function: FENTRY_SKB_FUNCTION }
    : canLoad.raw_tp.ok
      ? { kind: "raw_tp", tracepoint: RAW_TP_SKB }
      : kprobePmu && canLoad.kprobe.ok && kallsymsHas(KPROBE_SKB_FUNCTION)
        ? { kind: "kprobe", function: KPROBE_SKB_FUNCTION }
        : null;
  cached = {
    release: rel,
    version,
    arch: process.arch,
    root: typeof process.getuid === "function" && process.getuid() === 0,
    canLoad,
    tcx,
    kprobePmu,
    fentry,
    btf: existsSync("/sys/kernel/btf/vmlinux"),
    jitEnabled: readInt("/proc/sys/net/core/bpf_jit_enable"),
    unprivilegedBpfDisabled: readInt("/proc/sys/kernel/unprivileged_bpf_disabled"),
    skbHook,
    config,
  };
  return cached;
}

/** Why kernel tests cannot run here, or null when they can (root, Linux x86_64, BPF loads). */
export function kernelUnavailableReason(): string | null {
  if (process.platform !== "linux" || process.arch !== "x64") return `needs Linux x86_64 (this is ${process.platform}/${process.arch})`;
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not running as root";
  try {
    const info = kernelInfo();
    if (!info.canLoad.socket.ok) return `BPF_PROG_LOAD of a trivial socket filter failed (${info.canLoad.socket.errnoName})`;
    return null;
  } catch (e) {
    return `bpf(2) unavailable: ${(e as Error).message}`;
  }
}
