/**
 * `bpf-playground trace FILTER [--target socket|tc|xdp|kprobe] [--source emulator|kernel]
 *  [--dlt NAME|NUMBER] [--snaplen N] [--no-optimize] [--netmask A.B.C.D] [--level 1|2]
 *  [--profile 6.18|6.17|…] [--json]`
 *
 * The filter is compiled by libpcap, translated for the target, and verified: by the emulator
 * (the default; no privileges needed) or by the running kernel (root), printing the log_level 2
 * text either way. The exit status is 0 when the program is accepted, 1 when it is rejected or
 * the filter does not compile, 2 on usage errors. `--json` prints the structured result (text,
 * verdict, errno, error with its explanation, stats; and the trace, from the emulator) instead of
 * the text; for the kernel's log, error and stats are read from it by lib/verifier's analyzer.
 */
import { translate, TARGETS, type Target } from "../../lib/translate";
import { isPlaygroundError } from "../../lib/errors";
import { emulate, explain, logError, logSummary, parseLog } from "../../lib/verifier";
import { compileFilter, resolveDlt } from "../native/libpcap";
import { boolFlag, intFlag, parseArgs, stringFlag, UsageError } from "./args";
import { filterFromPositionals, parseNetmask } from "./compile";

const SPEC = {
  target: { value: true, choices: TARGETS },
  source: { value: true, choices: ["emulator", "kernel"] },
  dlt: { value: true },
  snaplen: { value: true },
  "no-optimize": { value: false },
  netmask: { value: true },
  level: { value: true, choices: ["1", "2"] },
  profile: { value: true },
  json: { value: false },
} as const;

export async function traceCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPEC);
  const filter = filterFromPositionals(args.positionals);
  const target = (stringFlag(args, "target") ?? "socket") as Target;
  const source = stringFlag(args, "source") ?? "emulator";
  const level = Number(stringFlag(args, "level") ?? "2") as 1 | 2;
  const json = boolFlag(args, "json");

  const compiled = compileFilter({
    filter,
    dlt: resolveDlt(stringFlag(args, "dlt") ?? "EN10MB"),
    snaplen: intFlag(args, "snaplen", 1, 0x7fffffff) ?? 262144,
    optimize: !boolFlag(args, "no-optimize"),
    netmask: parseNetmask(stringFlag(args, "netmask")),
  });
  if (!compiled.ok) {
    process.stderr.write(`bpf-playground: ${compiled.error}\n`);
    return 1;
  }
  let raw;
  try {
    raw = translate(compiled.insns, { target }).program.raw;
  } catch (e) {
    if (!isPlaygroundError(e)) throw e;
    process.stderr.write(`bpf-playground: cannot translate for ${target}: ${e.message}\n`);
    return 1;
  }

  if (source === "kernel") {
    const { loadProgram } = await import("../kernel/load");
    const { encodeProgram } = await import("../../lib/ebpf/codec");
    const { closeFd } = await import("../native/libc");
    const r = loadProgram({ insns: encodeProgram(raw), type: target, logLevel: level, name: "trace" });
    if (r.ok) closeFd(r.fd);
    const lines = parseLog(r.log);
    const errno = r.ok ? 0 : r.errno;
    const found = r.ok ? null : logError(lines);
    const error = found && { ...found, errno, explanation: explain(found.message) };
    if (json) {
      const s = logSummary(lines);
      const stats = { processed: s.processedInsns, maxStatesPerInsn: s.maxStatesPerInsn, totalStates: s.totalStates, peakStates: s.peakStates };
      process.stdout.write(JSON.stringify({ accepted: r.ok, errno, error, text: r.log, stats }, null, 1) + "\n");
    } else process.stdout.write(r.log);
    if (!r.ok && !json) {
      const why = error ? `: ${error.explanation.summary}\nhint: ${error.explanation.hint}` : "";
      process.stderr.write(`bpf-playground: the kernel rejected the program (${r.errnoName})${why}\n`);
    }
    return r.ok ? 0 : 1;
  }

  const result = emulate(raw, { progType: target, logLevel: level, profile: stringFlag(args, "profile"), trace: json });
  if (json) {
    process.stdout.write(
      JSON.stringify({ accepted: result.accepted, errno: result.errno ?? 0, error: result.error ?? null, text: result.text, stats: result.stats, trace: result.trace }, null, 1) + "\n",
    );
  } else process.stdout.write(result.text);
  if (!result.accepted && !json && result.error) {
    process.stderr.write(`bpf-playground: rejected: ${result.error.explanation.summary}\nhint: ${result.error.explanation.hint}\n`);
  }
  return result.accepted ? 0 : 1;
}
