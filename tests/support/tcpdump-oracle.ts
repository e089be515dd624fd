/**
 * tcpdump as the oracle for "does this packet match". tcpdump prints matched packets, not their
 * indices, so we rewrite the capture with each packet's index as its timestamp, let tcpdump write
 * the matched packets back out, and read the indices from the timestamps.
 */
import { execFile } from "node:child_process";
import { mkdtemp, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCapture, writePcap, dltToLinkType } from "../../lib/pcap";

export interface OraclePacket {
  data: Uint8Array;
  origLen: number;
}

export type OracleResult = { ok: true; matches: boolean[] } | { ok: false; error: string };

export const TCPDUMP = "/usr/bin/tcpdump";

function run(file: string, args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: "buffer", maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString("utf8") });
    });
  });
}

/** Which of `packets` (all of link type `dlt`) match `filter`, according to `tcpdump -r`. */
export async function tcpdumpMatches(
  packets: readonly OraclePacket[],
  dlt: number,
  filter: string,
  snaplen = 262144,
): Promise<OracleResult> {
  const dir = await mkdtemp(join(tmpdir(), "bpfpg-oracle-"));
  try {
    const input = join(dir, "in.pcap");
    const indexed = packets.map((p, i) => ({ data: p.data, origLen: p.origLen, tsSec: i, tsNsec: 0, interfaceIndex: 0 }));
    await writeFile(input, writePcap(indexed, { linkType: dltToLinkType(dlt), snaplen }));
    const { code, stdout, stderr } = await run(TCPDUMP, ["-r", input, "-w", "-", "--", filter]);
    if (code !== 0) return { ok: false, error: stderr.replace(/^reading from file.*\n/m, "").trim() };
    const matches = new Array<boolean>(packets.length).fill(false);
    for (const p of readCapture(new Uint8Array(stdout)).packets) matches[p.tsSec] = true;
    return { ok: true, matches };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
