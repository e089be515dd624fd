/**
 * generateMix: a deterministic, varied list of frames for one link type, for differential tests of
 * filters against tcpdump and for sample captures. Same seed, same bytes, on every platform.
 */
import { craftError } from "./bytes";
import { FRAMERS } from "./mix-link";
import { Rng } from "./rng";

export interface CraftedPacket {
  /** Captured bytes (may be shorter than origLen: cut at a snaplen). */
  data: Uint8Array;
  origLen: number;
  dlt: number;
  tsSec: number;
  tsNsec: number;
  /** What was built, e.g. "eth vlan 100 ip tcp 40000>80 [S]". */
  description: string;
}

export interface MixOptions {
  /** DLT to frame for (default 1, EN10MB). See mixDlts(). */
  dlt?: number;
  /** Share of packets cut short, as a small snaplen would (default 0.05). */
  truncatedShare?: number;
  /** Timestamp of the first packet, in seconds (default 1700000000). */
  startSec?: number;
}

/** DLTs generateMix can frame. */
export function mixDlts(): number[] {
  return [...FRAMERS.keys()].sort((a, b) => a - b);
}

export function generateMix(seed: number, count: number, opts: MixOptions = {}): CraftedPacket[] {
  const dlt = opts.dlt ?? 1;
  const framer = FRAMERS.get(dlt);
  if (!framer) throw craftError(`generateMix cannot frame DLT ${dlt}; supported: ${mixDlts().join(", ")}`);
  const r = new Rng(seed);
  const cutShare = opts.truncatedShare ?? 0.05;
  let sec = opts.startSec ?? 1_700_000_000;
  let usec = 0;
  const out: CraftedPacket[] = [];
  for (let i = 0; i < count; i++) {
    const f = framer(r);
    let data = f.data;
    if (data.length > 34 && r.chance(cutShare)) data = data.subarray(0, r.range(Math.min(34, data.length - 1), Math.min(data.length - 1, 128)));
    usec += r.range(1, 200_000);
    sec += Math.floor(usec / 1e6);
    usec %= 1e6;
    out.push({ data, origLen: f.data.length, dlt, tsSec: sec, tsNsec: usec * 1000, description: f.desc });
  }
  return out;
}
