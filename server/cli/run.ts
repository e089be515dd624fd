import { open, type FileHandle } from "node:fs/promises";
import { parseArgs, stringFlag, boolFlag, UsageError } from "./args";
import { filterFromPositionals, parseNetmask, TARGETS } from "./compile";
import { runCapture, type Engine, type RunOutcome } from "../run-capture";
import { fileChunks } from "../capture-file";
import { hostKindOf } from "../../lib/inject";

const SPEC = {
  pcap: { value: true },
  engine: { value: true, choices: ["cbpf", "ebpf", "kernel"] },
  target: { value: true, choices: TARGETS },
  /** The filter spliced into a host program (xdp, tc; skb is refused: no test run for raw_tp). */
  inject: { value: true, choices: ["xdp", "tc", "skb", "kprobe"] },
  json: { value: false },
  "no-optimize": { value: false },
  netmask: { value: true },
} as const;

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPEC);
  const file = stringFlag(args, "pcap");
  if (!file) throw new UsageError("run needs --pcap FILE");
  const injectHost = stringFlag(args, "inject");
  if (injectHost !== undefined && (args.flags.has("engine") || args.flags.has("target"))) {
    throw new UsageError("--inject HOST judges with the patched host in the kernel; it takes no --engine or --target");
  }
  const host = injectHost === undefined ? null : hostKindOf(injectHost)!;
  if (host) {
    // Said before the capture is read: no packet could change it.
    const refusal = (await import("../engines/inject")).injectRunRefusal(host);
    if (refusal) {
      process.stderr.write(`bpf-playground: --inject ${injectHost}: ${refusal}\n`);
      return 1;
    }
  }
  const engine = (host ? "inject" : (stringFlag(args, "engine") ?? "cbpf")) as Engine;
  const target = host ?? stringFlag(args, "target") ?? "socket";
  const json = boolFlag(args, "json");

  const cannotRead = (e: unknown): number => {
    process.stderr.write(`bpf-playground: cannot read ${file}: ${(e as NodeJS.ErrnoException).message}\n`);
    return 1;
  };
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (e) {
    return cannotRead(e);
  }
  // Read as it is judged: a bad header is refused after the first chunk, and memory does not
  // grow with the file.
  let outcome: RunOutcome;
  try {
    outcome = await runCapture({
      filter: filterFromPositionals(args.positionals),
      capture: fileChunks(handle),
      engine,
      target,
      optimize: !boolFlag(args, "no-optimize"),
      netmask: parseNetmask(stringFlag(args, "netmask")),
    });
  } catch (e) {
    if (typeof (e as NodeJS.ErrnoException).code === "string" && (e as NodeJS.ErrnoException).syscall) return cannotRead(e);
    throw e;
  }
  if (!outcome.ok) {
    process.stderr.write(`bpf-playground: ${outcome.error}\n`);
    return 1;
  }
  const { total, matched, results, returnValues, refused, captureError } = outcome;
  if (json) {
    // `refused`: 0-based indexes the engine gave no verdict, with reasons (their results entry is
    // false, so `results` stays one boolean per packet).
    process.stdout.write(
      JSON.stringify({ total, matched, results, returnValues, engine, target: engine === "cbpf" ? undefined : target,
        refused, captureError: captureError?.message }) + "\n",
    );
  } else {
    const why = new Map(refused.map((r) => [r.index, r.reason]));
    for (let i = 0; i < results.length; i++) {
      const r = why.get(i);
      process.stdout.write(`${String(i + 1).padStart(6)}  ${r !== undefined ? `refused: ${r}` : `${results[i] ? "match" : "-    "}  ${returnValues[i]}`}\n`);
    }
    if (refused.length > 0) process.stdout.write(`${refused.length} packets refused (no verdict)\n`);
    process.stdout.write(`${matched} of ${total} packets matched\n`);
  }
  if (captureError) {
    // Like tcpdump on a truncated file: the packets read before the fault count, the run fails.
    process.stderr.write(`bpf-playground: ${captureError.message}\n`);
    return 1;
  }
  return 0;
}
