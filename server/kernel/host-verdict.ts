/**
 * The verdict of a host program (bpf/*.c): the host lets every packet through (XDP_PASS, TCX_NEXT)
 * whatever its filter stub said, and reports the stub's answer only by counting. So a packet
 * matched exactly when its test run grew the host's `counts` map at COUNT_MATCHED
 * (bpf/include/playground.h: slot 0 counts every packet seen, slot 1 the ones the stub accepted).
 *
 * Runs are judged one at a time against the counter, so nothing else may run the program
 * meanwhile (an attachment of the same program would make the deltas meaningless); callers refuse
 * that case.
 */
import { ArrayMap } from "./maps";
import type { PacketRun, PacketRunner } from "./packet-runner";
import { BPF_MAP_TYPE_ARRAY } from "../native/bpf";
import { PlaygroundError } from "../../lib/errors";

export const COUNT_SEEN = 0;
export const COUNT_MATCHED = 1;

/** The shape a `counts` map must have for the counter verdict: an array of at least two u64. */
export function isHostCounts(m: { name: string; type: number; keySize: number; valueSize: number; maxEntries: number }): boolean {
  return m.name === "counts" && m.type === BPF_MAP_TYPE_ARRAY && m.keySize === 4 && m.valueSize === 8 && m.maxEntries > COUNT_MATCHED;
}

/** A view of a host's counts map; does not own the fd. */
export class HostCounts {
  readonly #map: ArrayMap;
  constructor(fd: number) {
    this.#map = new ArrayMap(fd, BPF_MAP_TYPE_ARRAY, 4, 8, COUNT_MATCHED + 1);
  }
  /** Matched is read first: the host counts a packet as seen before it counts it as matched, so matched <= total in every read. */
  read(): { total: number; matched: number } {
    const matched = this.#map.getU64(COUNT_MATCHED);
    const total = this.#map.getU64(COUNT_SEEN);
    return { total: Number(total), matched: Number(matched) };
  }
  matched(): bigint {
    return this.#map.getU64(COUNT_MATCHED);
  }
}

/** One test run judged by the counter: `matchedRuns` is how many of the `repeat` runs the stub accepted. */
export function runCounted(runner: PacketRunner, counts: HostCounts, packet: Uint8Array, linkType: number, repeat = 1): PacketRun {
  const before = counts.matched();
  const r = runner.run(packet, linkType, repeat);
  if (!r.ok) return r;
  const grew = counts.matched() - before;
  if (grew < 0n || grew > BigInt(repeat)) {
    throw new PlaygroundError("kernel/host-counts", `the host's matched counter moved by ${grew} during ${repeat} runs: something else runs this program`);
  }
  return { ...r, matchedRuns: Number(grew) };
}
