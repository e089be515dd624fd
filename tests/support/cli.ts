/** The real `bpf-playground` binary, run as outside checks run it. */
import { execFile } from "node:child_process";
import { join } from "node:path";

export const BIN = join(__dirname, "..", "..", "bin", "bpf-playground.mjs");

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export function run(file: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<Ran> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 1 << 26, timeout: opts.timeoutMs ?? 0, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

export const cli = (...args: string[]): Promise<Ran> => run(process.execPath, [BIN, ...args]);
