import { readFile } from "node:fs/promises";
import { parseArgs, stringFlag, boolFlag, UsageError } from "./args";
import { filterFromPositionals, parseNetmask, TARGETS } from "./compile";
import { runCapture, type Engine } from "../run-capture";

const SPEC = {
  pcap: { value: true },
  engine: { value: true, choices: ["cbpf", "ebpf", "kernel"] },
  target: { value: true, choices: TARGETS },
  // In the contract (ARCHITECTURE.md section 5) but not built yet: recognised so it can be refused.
  inject: { value: true },
  json: { value: false },
  "no-optimize": { value: false },
  netmask: { value: true },
} as const;

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPEC);
  if (args.flags.has("inject")) {
    throw new UsageError(
      "--inject is not available yet: injecting the filter into a host program is not implemented (run judges packets with --engine cbpf|ebpf|kernel)",
    );
  }
  const file = stringFlag(args, "pcap");
  if (!file) throw new UsageError("run needs --pcap FILE");
  const engine = (stringFlag(args, "engine") ?? "cbpf") as Engine;
  const target = stringFlag(args, "target") ?? "socket";
  const json = boolFlag(args, "json");

  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    process.stderr.write(`bpf-playground: cannot read ${file}: ${(e as NodeJS.ErrnoException).message}\n`);
    return 1;
  }
  const outcome = await runCapture({
    filter: filterFromPositionals(args.positionals),
    capture: bytes,
    engine,
    target,
    optimize: !boolFlag(args, "no-optimize"),
    netmask: parseNetmask(stringFlag(args, "netmask")),
  });
  if (!outcome.ok) {
    process.stderr.write(`bpf-playground: ${outcome.error}\n`);
    return 1;
  }
  const { total, matched, results, returnValues, captureError } = outcome;
  if (json) {
    process.stdout.write(
      JSON.stringify({ total, matched, results, returnValues, engine, target: engine === "cbpf" ? undefined : target,
        captureError: captureError?.message }) + "\n",
    );
  } else {
    for (let i = 0; i < results.length; i++) {
      process.stdout.write(`${String(i + 1).padStart(6)}  ${results[i] ? "match" : "-    "}  ${returnValues[i]}\n`);
    }
    process.stdout.write(`${matched} of ${total} packets matched\n`);
  }
  if (captureError) {
    // Like tcpdump on a truncated file: the packets read before the fault count, the run fails.
    process.stderr.write(`bpf-playground: ${captureError.message}\n`);
    return 1;
  }
  return 0;
}
