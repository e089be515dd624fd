/**
 * Filters far larger than anyone types: N OR'ed hosts. libpcap needs seconds to a minute for them
 * (and, on a small native stack, crashed on them), so they test every place that compiles
 * untrusted text: the CLI, the page's route and the agent.
 *
 * tcpdump is the oracle. Its listing costs as much as ours, so it is computed once per machine
 * and kept in the temporary directory under a hash of tcpdump's binary and its arguments, shared
 * by the test files that ask for it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TCPDUMP_BIN, tcpdumpDump } from "./tcpdump-dump";

/** `host 10.a.b.1 or …` with `count` distinct hosts. */
export function orHosts(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`host 10.${Math.floor(i / 250)}.${i % 250}.1`);
  return parts.join(" or ");
}

export interface BigListing {
  /** tcpdump's stdout. */
  listing: string;
  /** How long tcpdump took, or 0 when the listing came from the cache. */
  ms: number;
}

/**
 * `tcpdump -y EN10MB [-O] -<style> -- FILTER`, from the cache when this tcpdump already answered.
 * Throws with tcpdump's stderr when it fails.
 */
export async function tcpdumpBigListing(filter: string, optimize: boolean, style: "d" | "ddd" = "d", timeoutMs = 600_000): Promise<BigListing> {
  const req = { filter, dlt: "EN10MB", style, optimize } as const;
  const bin = statSync(TCPDUMP_BIN);
  const key = createHash("sha256").update(JSON.stringify([bin.size, bin.mtimeMs, req])).digest("hex").slice(0, 24);
  const dir = join(tmpdir(), "bpfp-tcpdump-cache");
  const file = join(dir, `${key}.txt`);
  try {
    return { listing: readFileSync(file, "utf8"), ms: 0 };
  } catch {
    // not cached yet
  }
  const t0 = performance.now();
  const r = await tcpdumpDump(req, timeoutMs);
  if (r.code !== 0) throw new Error(`tcpdump failed (status ${r.code}): ${r.stderr.slice(-500)}`);
  const listing = r.stdout;
  const ms = performance.now() - t0;
  mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, listing);
  renameSync(partial, file);
  return { listing, ms };
}
