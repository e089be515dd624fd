/**
 * Gate for tests that need the real kernel: root, Linux x86_64, bpf(2) working. Where that is
 * missing they are skipped with a warning that says why, except on CI (process.env.CI), where the
 * machine is supposed to have it and the gate turns into a failing test.
 */
import { execFileSync } from "node:child_process";
import { describe, it } from "vitest";
import { kernelUnavailableReason } from "../../server/kernel/kernel-info";
import { loadProgram, type LoadOptions } from "../../server/kernel/load";
import { closeFd } from "../../server/native/libc";

export const KERNEL_SKIP_REASON: string | null = kernelUnavailableReason();

export function describeKernel(name: string, body: () => void): void {
  if (!KERNEL_SKIP_REASON) {
    describe(name, body);
    return;
  }
  console.warn(`[kernel] ${name}: not run: ${KERNEL_SKIP_REASON}`);
  if (process.env.CI) {
    describe(name, () => {
      it("runs on CI, which must provide root and BPF", () => {
        throw new Error(`kernel tests cannot run: ${KERNEL_SKIP_REASON}`);
      });
    });
  } else {
    describe.skip(name, body);
  }
}

/** Loads a program that must be accepted; its fd is closed by `cleanup()`. */
export class Programs {
  #fds: number[] = [];
  load(opts: Omit<LoadOptions, "logLevel"> & { logLevel?: 0 | 1 | 2 }): number {
    const r = loadProgram({ logLevel: 1, ...opts });
    if (!r.ok) throw new Error(`${opts.type} program rejected (${r.errnoName}):\n${r.log}`);
    this.#fds.push(r.fd);
    return r.fd;
  }
  cleanup(): void {
    for (const fd of this.#fds.splice(0)) closeFd(fd);
  }
}

/** bpftool, the independent reader of kernel objects, when installed (scripts/setup.sh --test installs it). */
export function bpftool(args: string[]): unknown | null {
  try {
    return JSON.parse(execFileSync("bpftool", ["--json", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export function hasBpftool(): boolean {
  try {
    execFileSync("bpftool", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until true or the timeout; returns whether it became true. */
export async function eventually(cond: () => boolean, timeoutMs = 5000, stepMs = 20): Promise<boolean> {
  const t0 = Date.now();
  for (;;) {
    if (cond()) return true;
    if (Date.now() - t0 > timeoutMs) return false;
    await sleep(stepMs);
  }
}
