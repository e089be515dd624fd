/**
 * tcpdump as the oracle, many filters at a time: one capture file per link type (packet i has
 * timestamp i), and for each filter one `tcpdump -r FILE -tt -n FILTER` run from a shell script
 * (far cheaper than a Node spawn per run); the printed timestamps are the indices it matched.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dltToLinkType, writePcap } from "../../lib/pcap";

export const TCPDUMP = "/usr/bin/tcpdump";

export interface BatchCase {
  readonly filter: string;
  readonly dlt: number;
}

export type BatchAnswer =
  | { readonly ok: true; readonly matches: boolean[] }
  | { readonly ok: false; readonly error: string };

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const SEP = "@@translate-batch@@";

function runScript(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
}

/** Runs every case against its link type's packets; `parallel` shells at once. */
export async function tcpdumpBatch(
  cases: readonly BatchCase[],
  packetsByDlt: ReadonlyMap<number, readonly { data: Uint8Array; origLen: number }[]>,
  parallel = 2,
): Promise<BatchAnswer[]> {
  const dir = await mkdtemp(join(tmpdir(), "bpfpg-tcpdump-batch-"));
  try {
    const files = new Map<number, string>();
    for (const [dlt, packets] of packetsByDlt) {
      const file = join(dir, `${dlt}.pcap`);
      const indexed = packets.map((p, i) => ({ data: p.data, origLen: p.origLen, tsSec: i, tsNsec: 0 }));
      await writeFile(file, writePcap(indexed, { linkType: dltToLinkType(dlt), snaplen: 262144 }));
      files.set(dlt, file);
    }
    const line = (c: BatchCase, args: string) =>
      `${TCPDUMP} -r ${quote(files.get(c.dlt)!)} ${args} -- ${quote(c.filter)} 2>&1; echo "${SEP} $?"`;
    const scripts: string[][] = Array.from({ length: parallel }, () => []);
    cases.forEach((c, i) => scripts[i % parallel]!.push(line(c, "-tt -n")));
    const outputs = await Promise.all(scripts.map((s) => runScript(s.join("\n"))));
    const perShell = outputs.map((out) => {
      const parts: { text: string; status: number }[] = [];
      let rest = out;
      for (;;) {
        const at = rest.indexOf(SEP);
        if (at < 0) break;
        const end = rest.indexOf("\n", at);
        parts.push({ text: rest.slice(0, at), status: Number(rest.slice(at + SEP.length, end).trim()) });
        rest = rest.slice(end + 1);
      }
      return parts;
    });
    return cases.map((c, i): BatchAnswer => {
      const run = perShell[i % parallel]![Math.floor(i / parallel)];
      if (!run) return { ok: false, error: "tcpdump batch output is incomplete" };
      if (run.status !== 0) return { ok: false, error: run.text.replace(/^reading from file.*\n/m, "").trim() };
      const matches = new Array<boolean>(packetsByDlt.get(c.dlt)!.length).fill(false);
      for (const m of run.text.matchAll(/^(\d+)\.\d{6} /gm)) matches[Number(m[1])] = true;
      return { ok: true, matches };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
