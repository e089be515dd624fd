/**
 * Conformance over the corpus's `accept` blocks: every alias, with the optimizer on (where the
 * block has an `opt` listing) and off (`unopt`), compiled through our compile service and compared
 * byte for byte with `tcpdump -y DLT [-s N] [-O] -d` from the installed tcpdump. That comparison
 * is the pass/fail part. Alongside, it counts how many of our listings equal upstream master's
 * expected text (libpcap 1.10.3 is older, so many do not; that is information, not failure).
 *
 *   npx tsx scripts/conformance/accept.ts ../shared [--every N]
 */
import { resolve } from "node:path";
import { compileListing } from "../../server/compile";
import { PCAP_NETMASK_UNKNOWN, resolveDlt } from "../../server/native/libpcap";
import { mapPool } from "../../tests/support/pool";
import { tcpdumpDump, tcpdumpError } from "../../tests/support/tcpdump-dump";
import { dottedQuad, loadTestrun, mayLookUpNames, type AcceptBlock } from "./corpus";

export interface AcceptConformance {
  blocks: number;
  /** (alias, optimizer setting) pairs tried. */
  compilations: number;
  /** Compared with tcpdump and identical (text, or both rejecting with the same message). */
  identicalToTcpdump: number;
  /** Of those, how many libpcap 1.10.3 refuses although upstream master accepts them. */
  rejectedByLibpcap: number;
  /** The block's link type is unknown to libpcap 1.10.3 (tcpdump -y refuses it as well). */
  unknownLinkType: number;
  /** Left out because they look names up (see corpus.ts); included with `{ nameLookups: true }`. */
  skippedNameLookups: number;
  /** Our listing equals upstream master's expected `opt` / `unopt` text. */
  upstreamOpt: string;
  upstreamUnopt: string;
  seconds: number;
  /** Where our listing or message differs from tcpdump's: real failures. */
  disagreements: string[];
}

export interface AcceptConformanceOptions {
  /** Compare only every Nth compilation (1 = all, the default). */
  every?: number;
  /** Concurrent tcpdump processes. Default 4. */
  pool?: number;
  nameLookups?: boolean;
}

interface Job {
  block: AcceptBlock;
  alias: string;
  optimize: boolean;
  expected: string;
}

/** Upstream's listing text without indentation, blank lines and the trailing `; 0x....` column. */
function normalizeListing(text: string): string {
  return text
    .split("\n")
    .map((l) => l.replace(/\s*;\s*0x[0-9a-fA-F]+\s*$/, "").trim())
    .filter((l) => l !== "")
    .join("\n");
}

function firstDifference(a: string, b: string): string {
  const x = a.split("\n");
  const y = b.split("\n");
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `line ${i + 1}: tcpdump ${JSON.stringify(x[i] ?? "<end>")} vs ours ${JSON.stringify(y[i] ?? "<end>")}`;
  }
  return "no difference";
}

export async function runAcceptConformance(sharedDir: string, opts: AcceptConformanceOptions = {}): Promise<AcceptConformance> {
  const started = Date.now();
  const { accept } = await loadTestrun(sharedDir);
  const every = Math.max(1, Math.floor(opts.every ?? 1));
  const out: AcceptConformance = {
    blocks: accept.length,
    compilations: 0,
    identicalToTcpdump: 0,
    rejectedByLibpcap: 0,
    unknownLinkType: 0,
    skippedNameLookups: 0,
    upstreamOpt: "",
    upstreamUnopt: "",
    seconds: 0,
    disagreements: [],
  };
  const jobs: Job[] = [];
  for (const block of accept) {
    for (const alias of block.aliases) {
      if (!opts.nameLookups && mayLookUpNames({ expr: alias, skip: block.skip })) {
        out.skippedNameLookups += (block.opt === undefined ? 0 : 1) + (block.unopt === undefined ? 0 : 1);
        continue;
      }
      if (block.opt !== undefined) jobs.push({ block, alias, optimize: true, expected: block.opt });
      if (block.unopt !== undefined) jobs.push({ block, alias, optimize: false, expected: block.unopt });
    }
  }
  const chosen = jobs.filter((_, i) => i % every === 0);
  out.compilations = chosen.length;

  const upstream = { opt: [0, 0], unopt: [0, 0] };
  const theirs = await mapPool(chosen, opts.pool ?? 4, (j) =>
    tcpdumpDump({ filter: j.alias, dlt: j.block.DLT, style: "d", optimize: j.optimize, snaplen: j.block.snaplen }),
  );
  chosen.forEach((j, i) => {
    const t = theirs[i]!;
    const where = `${j.block.name} (${j.block.DLT}${j.optimize ? "" : ", -O"}) ${JSON.stringify(j.alias)}`;
    let dlt: number;
    try {
      dlt = resolveDlt(j.block.DLT);
    } catch (e) {
      out.unknownLinkType++;
      if (t.code === 0) out.disagreements.push(`${where}: tcpdump knows the link type, we say ${String(e)}`);
      return;
    }
    const settings = { filter: j.alias, dlt, optimize: j.optimize, snaplen: j.block.snaplen, format: "tcpdump" as const };
    // tcpdump -d always compiles with netmask 0; compileListing's default is the same.
    const ours = compileListing(settings);
    if (t.code !== 0) {
      if (ours.ok) out.disagreements.push(`${where}: tcpdump rejects it (${tcpdumpError(t.stderr)}) but we compile it`);
      else if (ours.error !== tcpdumpError(t.stderr)) out.disagreements.push(`${where}: "${ours.error}" vs tcpdump "${tcpdumpError(t.stderr)}"`);
      else {
        out.identicalToTcpdump++;
        out.rejectedByLibpcap++;
      }
      return;
    }
    if (!ours.ok) {
      out.disagreements.push(`${where}: tcpdump compiles it but we fail with "${ours.error}"`);
      return;
    }
    if (ours.text !== t.stdout) {
      out.disagreements.push(`${where}: ${firstDifference(t.stdout, ours.text)}`);
      return;
    }
    out.identicalToTcpdump++;
    // Upstream's expectation was produced with the block's netmask (or none at all).
    const netmask = j.block.netmask === undefined ? PCAP_NETMASK_UNKNOWN : dottedQuad(j.block.netmask);
    const forUpstream = netmask === 0 ? ours : compileListing({ ...settings, netmask });
    const tally = j.optimize ? upstream.opt : upstream.unopt;
    tally[1]!++;
    if (forUpstream.ok && normalizeListing(forUpstream.text) === normalizeListing(j.expected)) tally[0]!++;
  });
  const pct = ([hit, all]: number[]) => `${hit}/${all} (${all ? ((100 * hit!) / all!).toFixed(1) : "0"}%)`;
  out.upstreamOpt = pct(upstream.opt);
  out.upstreamUnopt = pct(upstream.unopt);
  out.seconds = (Date.now() - started) / 1000;
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const everyAt = args.indexOf("--every");
  const every = everyAt >= 0 ? Number(args[everyAt + 1]) : 1;
  const shared = resolve(args.find((a, i) => !a.startsWith("--") && (everyAt < 0 || i !== everyAt + 1)) ?? "../shared");
  const r = await runAcceptConformance(shared, { every, nameLookups: args.includes("--name-lookups") });
  process.stdout.write(JSON.stringify({ ...r, disagreements: r.disagreements.slice(0, 50) }, null, 2) + "\n");
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
