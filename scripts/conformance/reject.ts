/**
 * Conformance over the corpus's 16,077 `reject` entries: expressions upstream libpcap refuses.
 *
 * Comparing libpcap with itself would prove nothing, so the question asked is about our own path:
 * does the compile service the CLI uses (`compileListing`) fail exactly when libpcap fails, with
 * libpcap's message unchanged? Separately it counts how far libpcap 1.10.3 (what we link) agrees
 * with upstream master's expectations: rejected with a message containing the corpus errstr,
 * rejected with another message, or accepted.
 *
 * `selectRejectSample` picks the committed test sample (tests/data/reject-sample.json):
 *   npx tsx scripts/conformance/reject.ts --write-sample ../shared
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { compileListing } from "../../server/compile";
import { compileFilter, PCAP_NETMASK_UNKNOWN, resolveDlt } from "../../server/native/libpcap";
import { dottedQuad, loadTestrun, mayLookUpNames, type RejectEntry } from "./corpus";

export interface RejectConformance {
  /** Entries that compile an expression (the few savefile-opening entries are not counted). */
  total: number;
  /** libpcap 1.10.3 refuses the expression. */
  rejectedByLibpcap: number;
  /** ... and its message contains the corpus errstr. */
  agreed: number;
  /** ... but with a message that does not contain the corpus errstr. */
  otherMessage: number;
  /** libpcap 1.10.3 compiles what upstream master refuses. */
  acceptedByLibpcap: number;
  /** The corpus names a link type libpcap 1.10.3 does not know (our resolveDlt refuses it too). */
  unknownLinkType: number;
  /**
   * Entries left out because compiling them looks names up (DNS, hosts/networks/ethers files):
   * thousands of lookups against a rate-limited resolver hit 5 s timeouts. Included, and counted in
   * the other fields instead, with `{ nameLookups: true }`.
   */
  skippedNameLookups: number;
  seconds: number;
  /** Where compileListing and libpcap part: real failures. */
  disagreements: string[];
}

function netmaskOf(e: RejectEntry): number {
  return e.netmask === undefined ? PCAP_NETMASK_UNKNOWN : dottedQuad(e.netmask);
}

export interface RejectConformanceOptions {
  /** Also compile the entries that look names up (slow and resolver-dependent). Default false. */
  nameLookups?: boolean;
}

export async function runRejectConformance(sharedDir: string, opts: RejectConformanceOptions = {}): Promise<RejectConformance> {
  const started = Date.now();
  const { reject } = await loadTestrun(sharedDir);
  const out: RejectConformance = {
    total: 0,
    rejectedByLibpcap: 0,
    agreed: 0,
    otherMessage: 0,
    acceptedByLibpcap: 0,
    unknownLinkType: 0,
    skippedNameLookups: 0,
    seconds: 0,
    disagreements: [],
  };
  for (const e of reject) {
    if (e.expr === undefined || e.DLT === undefined) continue;
    out.total++;
    if (!opts.nameLookups && mayLookUpNames(e)) {
      out.skippedNameLookups++;
      continue;
    }
    let dlt: number;
    try {
      dlt = resolveDlt(e.DLT);
    } catch {
      out.unknownLinkType++;
      continue;
    }
    const settings = { filter: e.expr, dlt, netmask: netmaskOf(e), optimize: true };
    const lib = compileFilter(settings);
    let cli: ReturnType<typeof compileListing>;
    try {
      cli = compileListing({ ...settings, dlt: e.DLT, format: "tcpdump" });
    } catch (err) {
      out.disagreements.push(`${e.name} (${e.DLT}) ${JSON.stringify(e.expr)}: compileListing threw ${String(err)}`);
      continue;
    }
    if (lib.ok) {
      out.acceptedByLibpcap++;
      if (!cli.ok) out.disagreements.push(`${e.name}: libpcap accepts ${JSON.stringify(e.expr)} but compileListing says "${cli.error}"`);
      continue;
    }
    out.rejectedByLibpcap++;
    if (lib.error.includes(e.errstr)) out.agreed++;
    else out.otherMessage++;
    if (cli.ok) out.disagreements.push(`${e.name}: libpcap rejects ${JSON.stringify(e.expr)} ("${lib.error}") but compileListing accepts it`);
    else if (cli.error !== lib.error) out.disagreements.push(`${e.name}: message "${cli.error}" is not libpcap's "${lib.error}"`);
  }
  out.seconds = (Date.now() - started) / 1000;
  return out;
}

// ------------------------------------------------------------------------------------------------
// The committed sample for tests/reject.test.ts.

export interface RejectSampleEntry {
  name: string;
  DLT: string;
  expr: string;
  errstr: string;
  netmask?: string;
}

/** errstr with its variable parts (quoted text, numbers, DLT names) blanked: one stratum each. */
function errstrShape(errstr: string): string {
  return errstr
    .replace(/'[^']*'|"[^"]*"/g, "Q")
    .replace(/DLT_\w+/g, "DLT")
    .replace(/\b\d+\b/g, "N");
}

/**
 * Every hand-written entry (TESTrun lists them before its generated `inv_qual_*` families) plus a
 * stratified sample of the generated ones: per errstr shape, a share proportional to its size
 * (at least 2), spread evenly over the shape's entries so link types and keywords vary. Entries
 * that would look names up are left out (see mayLookUpNames). Deterministic.
 */
export function selectRejectSample(reject: readonly RejectEntry[], generatedBudget = 220): RejectSampleEntry[] {
  const usable = (e: RejectEntry): e is RejectEntry & { expr: string; DLT: string } =>
    e.expr !== undefined && e.DLT !== undefined && !mayLookUpNames(e);
  let firstGenerated = reject.findIndex((e) => e.name.startsWith("inv_qual_"));
  if (firstGenerated < 0) firstGenerated = reject.length;
  const picked: RejectEntry[] = reject.slice(0, firstGenerated).filter(usable);
  const strata = new Map<string, RejectEntry[]>();
  for (const e of reject.slice(firstGenerated).filter(usable)) {
    const key = errstrShape(e.errstr);
    const list = strata.get(key) ?? [];
    list.push(e);
    strata.set(key, list);
  }
  const generatedTotal = [...strata.values()].reduce((n, l) => n + l.length, 0);
  for (const list of strata.values()) {
    const want = Math.min(list.length, Math.max(2, Math.round((generatedBudget * list.length) / generatedTotal)));
    for (let k = 0; k < want; k++) picked.push(list[Math.floor(((k + 0.5) * list.length) / want)]!);
  }
  return picked.map((e) => ({
    name: e.name,
    DLT: e.DLT!,
    expr: e.expr!,
    errstr: e.errstr,
    ...(e.netmask === undefined ? {} : { netmask: e.netmask }),
  }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const shared = resolve(args.find((a) => !a.startsWith("--")) ?? "../shared");
  if (args.includes("--write-sample")) {
    const { reject } = await loadTestrun(shared);
    const sample = selectRejectSample(reject);
    const file = resolve(__dirname, "../../tests/data/reject-sample.json");
    await writeFile(file, JSON.stringify(sample, null, 1) + "\n");
    process.stdout.write(`wrote ${sample.length} entries to ${file}\n`);
    return;
  }
  const r = await runRejectConformance(shared, { nameLookups: args.includes("--name-lookups") });
  process.stdout.write(JSON.stringify({ ...r, disagreements: r.disagreements.slice(0, 50) }, null, 2) + "\n");
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
