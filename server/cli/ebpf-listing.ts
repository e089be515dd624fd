/**
 * `compile FILTER --format ebpf --target T`: libpcap's cBPF translated for T, printed one
 * instruction per line as the kernel's verifier log prints it (`N: (op) text`), with an aligned
 * provenance column (`; cbpf 3: ldh [12]`, `; prologue`, `; guard`, `; epilogue`).
 */
import { formatListing, translate, TARGETS, type Target } from "../../lib/translate";
import { isPlaygroundError } from "../../lib/errors";
import { compileFilter, resolveDlt } from "../native/libpcap";

export async function compileEbpfListing(
  opts: { filter: string; dlt: string; snaplen: number; optimize: boolean; netmask: number },
  target: string,
): Promise<number> {
  if (!(TARGETS as readonly string[]).includes(target)) {
    process.stderr.write(`bpf-playground: unknown target "${target}" (${TARGETS.join(", ")})\n`);
    return 2;
  }
  const compiled = compileFilter({ filter: opts.filter, dlt: resolveDlt(opts.dlt), snaplen: opts.snaplen, optimize: opts.optimize, netmask: opts.netmask });
  if (!compiled.ok) {
    process.stderr.write(`bpf-playground: ${compiled.error}\n`);
    return 1;
  }
  try {
    const result = translate(compiled.insns, { target: target as Target });
    process.stdout.write(formatListing(result, compiled.insns));
    return 0;
  } catch (e) {
    if (!isPlaygroundError(e)) throw e;
    process.stderr.write(`bpf-playground: cannot translate for ${target}: ${e.message}\n`);
    return 1;
  }
}
