/** A large generated capture shared by the benchmarks, written once per run to a temp file. */
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateMix } from "../lib/craft";
import { writePcap, dltToLinkType } from "../lib/pcap";

export const DLT_EN10MB = 1;

let cached: { path: string; bytes: Uint8Array; packets: number } | undefined;

/** About a million Ethernet packets: the mix repeated until the count is reached. */
export function bigCapture(count = 1_000_000): { path: string; bytes: Uint8Array; packets: number } {
  if (cached && cached.packets === count) return cached;
  const base = generateMix(42, 10_000, { dlt: DLT_EN10MB });
  const packets = Array.from({ length: count }, (_, i) => {
    const p = base[i % base.length]!;
    return { data: p.data, origLen: p.origLen, tsSec: 1_700_000_000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1000, interfaceIndex: 0 };
  });
  const bytes = writePcap(packets, { linkType: dltToLinkType(DLT_EN10MB), snaplen: 262144 });
  const path = join(mkdtempSync(join(tmpdir(), "bpfpg-bench-")), "big.pcap");
  writeFileSync(path, bytes);
  cached = { path, bytes, packets: count };
  return cached;
}

/** Ethernet + IPv4 + TCP to `dport`, 74 bytes. */
export function tcpFrame(dport: number): Uint8Array {
  const f = new Uint8Array(74);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  v.setUint16(12, 0x0800);
  f[14] = 0x45;
  v.setUint16(16, 60);
  f[22] = 64;
  f[23] = 6;
  f.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  v.setUint16(34, 40000);
  v.setUint16(36, dport);
  f[46] = 0x50;
  return f;
}
