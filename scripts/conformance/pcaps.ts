/**
 * Differential run over ../shared/pcaps: for every capture and every filter of a generic set that
 * compiles for the capture's link type, each engine's verdicts must equal `tcpdump -r`'s.
 * Also checks that our reader sees the same packets tcpdump sees.
 */
import { execFile } from "node:child_process";
import { listCaptureFiles, readSharedCapture } from "./shared-captures";
import { evaluatePackets, captureSnaplen } from "../../server/run-capture";
import { explainedBy, REFUSAL_CODES, type Variant } from "./variants";
import { compileFilter } from "../../server/native/libpcap";
import { tcpdumpMatches, TCPDUMP } from "../../tests/support/tcpdump-oracle";
import { mapPool } from "../../tests/support/pool";
import { readCapture, type CapturedPacket } from "../../lib/pcap";

/** Filters that make sense on most link types; each is tried where libpcap compiles it. */
export const CAPTURE_FILTERS = [
  "", "ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6", "tcp port 80", "udp port 53", "port 443",
  "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "ip[8] < 64", "ip6 and udp", "vlan", "mpls", "pppoes",
  "net 10.0.0.0/8", "src net 192.168.0.0/16", "host 198.18.0.1 or host 10.0.0.1", "len > 100",
  "less 64", "ether broadcast", "ether multicast", "ip multicast", "ip[6:2] & 0x1fff != 0",
  "tcp and (tcp[12] >> 4) > 5", "udp[8:2] = 0x0800", "not ip and not ip6", "ip proto 47",
  "portrange 1000-2000", "icmp[icmptype] = icmp-echo", "ip6 protochain 6", "greater 1000",
];

export interface PcapsReport {
  files: number;
  unreadable: number;
  readerMismatches: string[];
  comparisons: number;
  packetsCompared: number;
  skippedNoCompile: number;
  /** Different verdicts that a documented divergence explains, by divergence id. */
  explained: Record<string, number>;
  disagreements: string[];
}

function tcpdumpRaw(path: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TCPDUMP, ["-r", path, "-w", "-"], { encoding: "buffer", maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, stdout, stderr: stderr.toString() });
    });
  });
}

function samePackets(ours: readonly CapturedPacket[], theirs: readonly CapturedPacket[]): string | undefined {
  if (ours.length < theirs.length) return `we read ${ours.length} packets, tcpdump ${theirs.length}`;
  for (let i = 0; i < theirs.length; i++) {
    const a = ours[i]!, b = theirs[i]!;
    if (a.origLen !== b.origLen || a.data.length !== b.data.length) return `packet ${i + 1}: lengths differ`;
    for (let j = 0; j < a.data.length; j++) if (a.data[j] !== b.data[j]) return `packet ${i + 1}: byte ${j} differs`;
  }
  return undefined;
}

export async function runPcapsConformance(sharedDir: string, variants: readonly Variant[]): Promise<PcapsReport> {
  const files = await listCaptureFiles(sharedDir);
  const report: PcapsReport = {
    files: files.length, unreadable: 0, readerMismatches: [], comparisons: 0, packetsCompared: 0,
    skippedNoCompile: 0, explained: {}, disagreements: [],
  };
  let done = 0;
  const started = Date.now();
  await mapPool(files, 4, async (path) => {
    if (++done % 100 === 0) process.stderr.write(`  pcaps: ${done}/${files.length} files, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    const cap = await readSharedCapture(path);
    const raw = await tcpdumpRaw(path);
    if ("unreadable" in cap.read) {
      report.unreadable++;
      if (raw.code === 0 && raw.stdout.length > 24) report.readerMismatches.push(`${path}: we cannot read it (${cap.read.unreadable}), tcpdump can`);
      return;
    }
    const read = cap.read;
    const dlts = new Set(read.interfaces.map((i) => i.dlt));
    if (raw.stdout.length >= 24) {
      const mismatch = samePackets(read.packets, readCapture(new Uint8Array(raw.stdout)).packets);
      if (mismatch) report.readerMismatches.push(`${path}: ${mismatch}`);
    }
    // tcpdump cannot read a pcapng whose interfaces have different link types; nothing to compare.
    if (dlts.size !== 1 || read.packets.length === 0) return;
    const dlt = [...dlts][0]!;
    const snaplen = captureSnaplen(read.interfaces[0]!.snaplen);
    for (const filter of CAPTURE_FILTERS) {
      if (!compileFilter({ filter, dlt, snaplen, optimize: true, netmask: 0, savefile: { bigEndian: read.byteOrder === "big" } }).ok) {
        report.skippedNoCompile++;
        continue;
      }
      const oracle = await tcpdumpMatches(read.packets, dlt, filter, snaplen);
      if (!oracle.ok) {
        report.disagreements.push(`${path} [${filter}]: tcpdump failed: ${oracle.error}`);
        continue;
      }
      for (const variant of variants) {
        const ours = await evaluatePackets({ filter, engine: variant.engine, target: variant.target, optimize: true, netmask: 0 }, read);
        report.comparisons++;
        if (!ours.ok) {
          // A translation refused with a reason (e.g. ancillary loads on xdp) is not a wrong verdict.
          if (!REFUSAL_CODES.has(ours.code ?? "")) report.disagreements.push(`${path} [${filter}] ${variant.label}: ${ours.error}`);
          else report.explained[`refused`] = (report.explained[`refused`] ?? 0) + 1;
          continue;
        }
        report.packetsCompared += ours.total;
        const prog = ours.programs.get(dlt)!;
        // A packet no kernel path carries (over 64 KB) is listed as refused, with its reason, and
        // has no verdict to compare; the rest of the run still counts.
        const refused = new Set(ours.refused.map((r) => r.index));
        if (refused.size > 0) report.explained["packet-refused"] = (report.explained["packet-refused"] ?? 0) + refused.size;
        for (let i = 0; i < ours.total; i++) {
          if (refused.has(i) || ours.results[i] === oracle.matches[i]) continue;
          const why = explainedBy(variant, prog, read.packets[i]!);
          if (why.length > 0) {
            for (const id of why) report.explained[id] = (report.explained[id] ?? 0) + 1;
            continue;
          }
          report.disagreements.push(`${path} [${filter}] ${variant.label}: packet ${i + 1} ours=${ours.results[i]} tcpdump=${oracle.matches[i]}`);
          break;
        }
      }
    }
  });
  return report;
}
