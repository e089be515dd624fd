/**
 * `npm run conformance -- ../shared`: differential runs over data nobody on this project wrote.
 * Exits non-zero on any disagreement with the oracles (tcpdump, libpcap).
 */
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { runApplyConformance } from "./conformance/apply";
import { runPcapsConformance } from "./conformance/pcaps";
import { runRejectConformance } from "./conformance/reject";
import { runAcceptConformance } from "./conformance/accept";
import { cbpfVariant, ebpfVariants, kernelVariants } from "./conformance/variants";
import { kernelUnavailableReason } from "../server/kernel/kernel-info";

// The kernel engine needs root and BPF; CI has both, so there its absence is a failure.
const kernelMissing = kernelUnavailableReason();
const VARIANTS = [cbpfVariant, ...ebpfVariants(), ...(kernelMissing ? [] : kernelVariants())];

const allProblems: string[] = [];

function section(title: string, lines: Record<string, unknown>, problems: readonly string[]): boolean {
  allProblems.push(...problems.map((p) => `${title}: ${p}`));
  process.stdout.write(`\n== ${title}\n`);
  for (const [k, v] of Object.entries(lines)) process.stdout.write(`  ${k}: ${v}\n`);
  for (const p of problems.slice(0, 40)) process.stdout.write(`  ! ${p}\n`);
  if (problems.length > 40) process.stdout.write(`  ! ... and ${problems.length - 40} more\n`);
  return problems.length === 0;
}

async function main(): Promise<number> {
  const shared = resolve(process.argv[2] ?? "../shared");
  if (!existsSync(resolve(shared, "corpus"))) {
    process.stderr.write(`conformance: no corpus under ${shared}\n`);
    return 2;
  }
  const started = Date.now();
  let ok = true;
  let passed = 0;
  let failed = 0;
  const tally = (good: boolean) => {
    ok &&= good;
    if (good) passed++;
    else failed++;
  };

  const apply = await runApplyConformance(shared, VARIANTS);
  const { disagreements: applyProblems, explained: applyExplained, ...applyCounts } = apply;
  process.stdout.write(`variants: ${VARIANTS.map((v) => v.label).join(", ")}\n`);
  if (kernelMissing) {
    process.stdout.write(`kernel engine not run: ${kernelMissing}\n`);
    if (process.env.CI) tally(false);
  }
  tally(section("libpcap apply blocks (engines vs tcpdump -r and bpf_filter)", { ...applyCounts, explainedByDivergences: JSON.stringify(applyExplained) }, applyProblems));

  const pcaps = await runPcapsConformance(shared, VARIANTS);
  const { disagreements: pcapProblems, readerMismatches, explained: pcapExplained, ...pcapCounts } = pcaps;
  tally(section("shared captures (engines vs tcpdump -r)", { ...pcapCounts, readerMismatches: readerMismatches.length, explainedByDivergences: JSON.stringify(pcapExplained) }, [...readerMismatches, ...pcapProblems]));

  const reject = await runRejectConformance(shared);
  const { disagreements: rejectProblems, ...rejectCounts } = reject;
  tally(section("libpcap reject expressions (compile exits 1 with libpcap's message)", rejectCounts, rejectProblems));

  const accept = await runAcceptConformance(shared);
  const { disagreements: acceptProblems, ...acceptCounts } = accept;
  tally(section("libpcap accept expressions (listing vs tcpdump -d)", acceptCounts, acceptProblems));

  if (allProblems.length > 0) {
    // The console shows the first few per section; the whole list is kept for whoever debugs it.
    const file = resolve(tmpdir(), "bpf-playground-conformance-problems.txt");
    writeFileSync(file, allProblems.join("\n") + "\n");
    process.stdout.write(`\nall ${allProblems.length} problems: ${file}\n`);
  }
  process.stdout.write(`\nconformance: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return ok ? 0 : 1;
}

// A promise left pending would let Node exit silently with the run unfinished: say so instead.
process.on("exit", (code) => {
  if (!finished) process.stderr.write(`conformance: exited (code ${code}) before finishing\n`);
});
let finished = false;
main().then(
  (code) => { finished = true; process.exitCode = code; },
  (e) => { finished = true; console.error(e); process.exitCode = 70; },
);
