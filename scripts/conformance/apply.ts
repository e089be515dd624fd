/**
 * libpcap's `apply` blocks: run each expression over its savefile. Our verdicts must equal
 * `tcpdump -r` with the installed libpcap; return values must equal libpcap's own bpf_filter.
 * Agreement with the corpus' expected values (written for libpcap master) is reported, not required.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readCapture } from "../../lib/pcap";
import { evaluatePackets, captureSnaplen } from "../../server/run-capture";
import { explainedBy, REFUSAL_CODES, type Variant } from "./variants";
import { compileFilter, bpfFilter } from "../../server/native/libpcap";
import { tcpdumpMatches } from "../../tests/support/tcpdump-oracle";

interface ApplyBlock { name: string; expr: string; savefile: string; results: number[]; skip?: unknown; netmask?: string }

export interface ApplyReport {
  blocks: number;
  compiledBy1103: number;
  rejectedBy1103: number;
  packetsCompared: number;
  agreeWithCorpus: number;
  explained: Record<string, number>;
  disagreements: string[];
}

function netmaskOf(text: string | undefined): number {
  if (!text) return 0;
  return text.split(".").reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

export async function runApplyConformance(sharedDir: string, variants: readonly Variant[]): Promise<ApplyReport> {
  const corpus = JSON.parse(await readFile(join(sharedDir, "corpus", "libpcap-testrun.json"), "utf8")) as { apply: ApplyBlock[] };
  const report: ApplyReport = { blocks: corpus.apply.length, compiledBy1103: 0, rejectedBy1103: 0, packetsCompared: 0, agreeWithCorpus: 0, explained: {}, disagreements: [] };
  for (const block of corpus.apply) {
    const capture = readCapture(new Uint8Array(await readFile(join(sharedDir, "pcaps", "libpcap", block.savefile))));
    const itf = capture.interfaces[0]!;
    const netmask = netmaskOf(block.netmask);
    for (const optimize of [true, false]) {
      const compiled = compileFilter({ filter: block.expr, dlt: itf.dlt, snaplen: captureSnaplen(itf.snaplen), optimize, netmask, savefile: { bigEndian: capture.byteOrder === "big" } });
      if (!compiled.ok) {
        if (optimize) report.rejectedBy1103++;
        break;
      }
      if (optimize) report.compiledBy1103++;
      const oracle = optimize ? await tcpdumpMatches(capture.packets, itf.dlt, block.expr, captureSnaplen(itf.snaplen)) : undefined;
      const libpcapValues = capture.packets.map((p) => bpfFilter(compiled.insns, p.data, p.origLen));
      if (optimize && libpcapValues.every((v, i) => v === block.results[i])) report.agreeWithCorpus++;
      for (const variant of variants) {
        const ours = await evaluatePackets({ filter: block.expr, engine: variant.engine, target: variant.target, optimize, netmask }, capture);
        const where = `${block.name} (${block.expr}) ${optimize ? "opt" : "unopt"} ${variant.label}`;
        if (!ours.ok) {
          if (!REFUSAL_CODES.has(ours.code ?? "")) report.disagreements.push(`${where}: ${ours.error}`);
          else report.explained.refused = (report.explained.refused ?? 0) + 1;
          continue;
        }
        report.packetsCompared += ours.total;
        if (oracle && !oracle.ok) report.disagreements.push(`${where}: tcpdump failed: ${oracle.error}`);
        for (let i = 0; i < ours.total; i++) {
          const packet = capture.packets[i]!;
          const verdictDiffers = oracle?.ok && ours.results[i] !== oracle.matches[i];
          const valueDiffers = variant.engine === "cbpf" && ours.returnValues[i] !== libpcapValues[i];
          if (!verdictDiffers && !valueDiffers) continue;
          const why = explainedBy(variant, compiled.insns, packet);
          if (why.length > 0) {
            for (const id of why) report.explained[id] = (report.explained[id] ?? 0) + 1;
            continue;
          }
          report.disagreements.push(verdictDiffers
            ? `${where}: packet ${i + 1} ours=${ours.results[i]} tcpdump=${oracle!.ok && oracle!.matches[i]}`
            : `${where}: packet ${i + 1} returns ${ours.returnValues[i]}, bpf_filter ${libpcapValues[i]}`);
          break;
        }
      }
    }
  }
  return report;
}
