import type { PlaygroundError } from "../errors";

/** One packet as read from a capture file. */
export interface CapturedPacket {
  /** The captured bytes: a view into the file's buffer, never a copy. */
  data: Uint8Array;
  /** Length on the wire; larger than data.length when the capture was cut at the snaplen. */
  origLen: number;
  tsSec: number;
  /** Nanoseconds within the second, whatever the file's resolution. */
  tsNsec: number;
  /** Index into CaptureReadResult.interfaces (0 for classic pcap). */
  interfaceIndex: number;
  /** LINKTYPE_* value stored in the file. */
  linkType: number;
  /** DLT_* value, as libpcap on Linux reports it (linktype_to_dlt). */
  dlt: number;
}

export interface CaptureInterface {
  linkType: number;
  dlt: number;
  /** 0 means "no limit" in pcapng. */
  snaplen: number;
  name?: string;
  /** Length of one timestamp unit in nanoseconds: 1000 for microseconds, 1 for nanoseconds. */
  tsResolutionNs: number;
}

export interface CaptureReadResult {
  format: "pcap" | "pcapng";
  byteOrder: "little" | "big";
  /** True when timestamps have sub-microsecond resolution. */
  nanosecond: boolean;
  interfaces: CaptureInterface[];
  packets: CapturedPacket[];
  /** Set when reading stopped early on truncated or corrupt input; packets holds what came before. */
  error?: PlaygroundError;
}

/** What a writer needs from a packet; CapturedPacket fits. */
export interface PacketToWrite {
  data: Uint8Array;
  /** Defaults to data.length. */
  origLen?: number;
  tsSec?: number;
  tsNsec?: number;
  /** pcapng only: which interface of WritePcapngOptions.interfaces. Defaults to 0. */
  interfaceIndex?: number;
}
