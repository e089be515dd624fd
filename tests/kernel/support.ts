/**
 * Support for tests that need the real kernel (root, Linux x86_64, bpf(2) working); the gate is
 * tests/support/requires.ts (warn and skip locally, fail on CI).
 */
import { execFileSync } from "node:child_process";
import { describe } from "vitest";
import { loadProgram, type LoadOptions } from "../../server/kernel/load";
import { closeFd } from "../../server/native/libc";
import { requires } from "../support/requires";

/** A describe block that needs the kernel (see tests/support/requires.ts). */
export function describeKernel(name: string, body: () => void): void {
  describe.skipIf(!requires(`[kernel] ${name}`, "kernel"))(name, body);
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

/**
 * Whether the bpftool cross-checks can run: warns when bpftool is missing, and fails on CI, where
 * scripts/setup.sh --test installs it (tests/support/requires.ts).
 */
export function hasBpftool(what = "bpftool cross-check"): boolean {
  return requires(what, "bpftool");
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
