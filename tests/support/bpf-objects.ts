/**
 * The host objects in bpf/, built by scripts/build-bpf.sh (the same step scripts/setup.sh runs),
 * and the gate for tests that need them. Without clang the tests say why and do not run, except on
 * CI (process.env.CI), where that is a failing test rather than a silent skip.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe } from "vitest";
import { gate } from "./requires";

export const ROOT = resolve(__dirname, "../..");
export const HOSTS = ["xdp", "tc", "skb"] as const;
export type HostName = (typeof HOSTS)[number];

export const hostObjectPath = (host: HostName): string => join(ROOT, "bpf", "build", `${host}_host.o`);
/** A user-style example object (bpf/examples/NAME.c). */
export const exampleObjectPath = (name: string): string => join(ROOT, "bpf", "build", "examples", `${name}.o`);

function which(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

let buildError: string | null | undefined;

/** Builds what is out of date once per test process; null when the objects are there. */
export function bpfObjectsUnavailableReason(): string | null {
  if (buildError !== undefined) return buildError;
  if (!which("clang")) return (buildError = "clang is not installed (scripts/setup.sh installs it)");
  try {
    execFileSync("bash", [join(ROOT, "scripts/build-bpf.sh")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    buildError = null;
  } catch (e) {
    buildError = `scripts/build-bpf.sh failed: ${String((e as { stderr?: Buffer }).stderr ?? e)}`;
  }
  return buildError;
}

/** The tools a test compares against, beside the objects themselves. */
export function toolsUnavailableReason(tools: readonly string[]): string | null {
  const missing = tools.filter((t) => !which(t));
  return missing.length ? `missing ${missing.join(", ")} (scripts/setup.sh --test installs them)` : null;
}

/** describe() that runs only when the objects (and `tools`) are there; warns, and fails on CI. */
export function describeWithObjects(name: string, body: () => void, tools: readonly string[] = []): void {
  const reason = bpfObjectsUnavailableReason() ?? toolsUnavailableReason(tools);
  describe.skipIf(!gate(name, reason === null ? [] : [reason]))(name, body);
}

export function readHostObject(host: HostName): Uint8Array {
  return new Uint8Array(readFileSync(hostObjectPath(host)));
}

/** Runs a tool and returns its stdout (throws with its stderr on failure). */
export function tool(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
}
