/**
 * Real captures reshaped the way the engines disagreed on them (issue 9, item 10): one cut to a
 * 60-byte snaplen (so `len` is larger than the bytes captured) and one pcapng whose two interfaces
 * have different link types. Both are made with the project's writer from files in
 * ../shared/pcaps; where those are missing the caller says so (and fails on CI).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dltToLinkType, readCapture, writePcap, writePcapng, type CapturedPacket } from "../../lib/pcap";

export const SHARED_PCAPS = join(__dirname, "..", "..", "..", "shared", "pcaps");
/** Ethernet, 35 packets, 20 of them 100 bytes or longer on the wire. */
export const ETHERNET_SOURCE = "tcpdump/isakmp4500.pcap";
/** Linux cooked (DLT_LINUX_SLL), 75 packets. */
export const COOKED_SOURCE = "tcpdump/forces2.pcap";

export function sharedPcapsMissing(): string | null {
  for (const f of [ETHERNET_SOURCE, COOKED_SOURCE]) if (!existsSync(join(SHARED_PCAPS, f))) return `${join(SHARED_PCAPS, f)} is missing`;
  return null;
}

function packetsOf(file: string): CapturedPacket[] {
  const r = readCapture(new Uint8Array(readFileSync(join(SHARED_PCAPS, file))));
  if (r.error) throw r.error;
  return r.packets;
}

/** The Ethernet capture written again with snaplen 60: every packet cut to 60 bytes, its wire length kept. */
export function truncatedCapture(snaplen = 60): Uint8Array {
  const packets = packetsOf(ETHERNET_SOURCE);
  return writePcap(packets, { linkType: dltToLinkType(packets[0]!.dlt), snaplen });
}

/** A pcapng with the Ethernet capture on interface 0 and the cooked one on interface 1, packets interleaved. */
export function multiLinkCapture(): Uint8Array {
  const a = packetsOf(ETHERNET_SOURCE);
  const b = packetsOf(COOKED_SOURCE);
  const mixed: (CapturedPacket & { interfaceIndex: number })[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) mixed.push({ ...a[i]!, interfaceIndex: 0 });
    if (i < b.length) mixed.push({ ...b[i]!, interfaceIndex: 1 });
  }
  return writePcapng(mixed, { interfaces: [{ linkType: dltToLinkType(a[0]!.dlt) }, { linkType: dltToLinkType(b[0]!.dlt) }] });
}
