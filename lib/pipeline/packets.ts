/**
 * What the packet list and the packet detail show. Rows are computed on demand for the visible
 * window (dissecting 100k packets up front would cost seconds); the detail is the dissection tree
 * of one packet.
 */
import { dissect, summarize } from "../dissect/dissect";
import type { DissectNode } from "../dissect";
import { dltToLinkType, writePcap, writePcapng, type CapturedPacket } from "../pcap";

export interface PacketRow {
  index: number;
  /** Seconds since the first packet. */
  time: number;
  caplen: number;
  origLen: number;
  dlt: number;
  summary: string;
}

export function packetRows(packets: readonly CapturedPacket[], from: number, to: number): PacketRow[] {
  const first = packets[0];
  const rows: PacketRow[] = [];
  for (let i = Math.max(0, from); i < Math.min(to, packets.length); i++) {
    const p = packets[i]!;
    rows.push({
      index: i,
      time: p.tsSec - (first?.tsSec ?? 0) + (p.tsNsec - (first?.tsNsec ?? 0)) / 1e9,
      caplen: p.data.length,
      origLen: p.origLen,
      dlt: p.dlt,
      summary: summarize(p.data, p.dlt),
    });
  }
  return rows;
}

export function packetTree(p: CapturedPacket): DissectNode {
  return dissect(p.data, p.dlt);
}

/**
 * A capture file for a set of packets: classic pcap when they share one link type (what most
 * tools open), pcapng with one interface per link type otherwise.
 */
export function captureFile(packets: readonly CapturedPacket[], snaplen = 262144): Uint8Array {
  const dlts = [...new Set(packets.map((p) => p.dlt))];
  if (dlts.length <= 1) {
    return writePcap(packets, { linkType: dltToLinkType(dlts[0] ?? 1), snaplen, nanosecond: true });
  }
  const ifIndex = new Map(dlts.map((d, i) => [d, i]));
  return writePcapng(
    packets.map((p) => ({ ...p, interfaceIndex: ifIndex.get(p.dlt)! })),
    { interfaces: dlts.map((d) => ({ linkType: dltToLinkType(d), snaplen, tsResolutionNs: 1 })) },
  );
}
