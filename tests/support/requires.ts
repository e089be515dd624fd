/**
 * The one gate for tests that need something from the machine (the kernel, tcpdump, libpcap,
 * a network namespace, the kernel's BTF, bpftool). Where a need is missing the test is skipped
 * with a warning that says why; on CI (process.env.CI set) the machine must have everything, so
 * the gate throws and the run fails instead of passing with tests silently left out.
 *
 *   describe.skipIf(!requires("libpcap agreement", "libpcap"))("...", () => { ... });
 *   test.skip(!requires("agent e2e", "kernel"), "needs the kernel");   // Playwright
 *
 * Each need is probed once per process. BPFP_PRETEND_MISSING=tcpdump,kernel makes needs count as
 * unmet, to see what a machine without them runs. No vitest import: Playwright specs use it too.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadLibpcap, openKernelAttach, TCPDUMP } from "../../lib/cbpf/testkit.node";
import { kernelUnavailableReason } from "../../server/kernel/kernel-info";

export type Need =
  /** Root, Linux x86_64, BPF_PROG_LOAD of a trivial program works. */
  | "kernel"
  /** /usr/bin/tcpdump runs. */
  | "tcpdump"
  /** libpcap.so.0.8 loads through koffi (bpf_image, bpf_filter, bpf_validate). */
  | "libpcap"
  /** SO_ATTACH_FILTER on a UDP socket (the kernel's classic checker; no privilege needed). */
  | "so-attach"
  /** Root and `unshare -n` (packet sockets on the loopback of a private network namespace). */
  | "netns"
  /** /sys/kernel/btf/vmlinux. */
  | "btf"
  /** bpftool, the independent reader of kernel objects (scripts/setup.sh --test installs it). */
  | "bpftool";

export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

const runs = (file: string, args: string[]): boolean => {
  try {
    execFileSync(file, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** Each probe returns why the need is unmet, or null when it is met. */
const PROBES: Record<Need, () => string | null> = {
  kernel: () => kernelUnavailableReason(),
  tcpdump: () => (runs(TCPDUMP, ["--version"]) ? null : `${TCPDUMP} is not installed or does not run`),
  libpcap: () => (loadLibpcap() === null ? "libpcap.so.0.8 does not load through koffi" : null),
  "so-attach": () => {
    const k = openKernelAttach();
    if (k === null) return "SO_ATTACH_FILTER is unavailable (not Linux, or koffi/libc does not load)";
    k.close();
    return null;
  },
  netns: () => {
    if (process.platform !== "linux") return `needs Linux (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return "not running as root";
    return spawnSync("unshare", ["-n", "true"], { stdio: "ignore" }).status === 0 ? null : "`unshare -n` fails";
  },
  btf: () => (existsSync(VMLINUX_BTF) ? null : `${VMLINUX_BTF} is missing (kernel built without BTF)`),
  bpftool: () => (runs("bpftool", ["version"]) ? null : "bpftool is not installed (scripts/setup.sh --test installs it)"),
};

const seen = new Map<Need, string | null>();

/** Why `need` is unmet here, or null when it is met (probed once). */
export function unmet(need: Need): string | null {
  if (!seen.has(need)) {
    const pretend = (process.env.BPFP_PRETEND_MISSING ?? "").split(",").map((s) => s.trim());
    seen.set(need, pretend.includes(need) ? "BPFP_PRETEND_MISSING says so" : PROBES[need]());
  }
  return seen.get(need)!;
}

/**
 * True when every need is met. Otherwise warns `what: not run: <reasons>` and returns false, or,
 * on CI, throws that message: a test that cannot run there is a failure, not a skip.
 */
export function requires(what: string, ...needs: Need[]): boolean {
  return gate(
    what,
    needs.flatMap((n) => {
      const why = unmet(n);
      return why === null ? [] : [`${n}: ${why}`];
    }),
  );
}

/**
 * For kernel tests that need something not every kernel build has: true when the kernel can be
 * asked and `probe` (run only then) returns null; otherwise warns with the probe's reason, and on
 * CI throws, as `requires` does.
 */
export function requiresKernelFeature(what: string, probe: () => string | null): boolean {
  if (!requires(what, "kernel")) return false;
  const missing = probe();
  return gate(what, missing === null ? [] : [missing]);
}

/**
 * The one rule for a test that cannot run: true when nothing is missing; otherwise a warning
 * naming what is missing, or on CI an error: a test that cannot run there fails.
 */
export function gate(what: string, missing: readonly string[]): boolean {
  if (missing.length === 0) return true;
  const msg = `${what}: not run: ${missing.join("; ")}`;
  if (process.env.CI) throw new Error(`${msg} (CI must provide it)`);
  console.warn(msg);
  return false;
}
