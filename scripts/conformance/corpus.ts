/**
 * Reading libpcap's regression corpus (`<shared>/corpus/libpcap-testrun.json`, exported from
 * upstream master's testprogs/TESTrun) for the reject/accept conformance runs.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface RejectEntry {
  name: string;
  errstr: string;
  /** Absent for the few entries that test opening a savefile rather than compiling. */
  expr?: string;
  DLT?: string;
  netmask?: string;
  skip?: string;
  timeout?: number;
  savefile?: string;
}

export interface AcceptBlock {
  name: string;
  DLT: string;
  aliases: string[];
  /** Expected `-d` listings (upstream master), indented, some with a trailing `; 0x....` column. */
  opt?: string;
  unopt?: string;
  snaplen?: number;
  netmask?: string;
  linuxext?: number;
  skip?: string;
}

export interface LibpcapTestrun {
  accept: AcceptBlock[];
  reject: RejectEntry[];
}

export async function loadTestrun(sharedDir: string): Promise<LibpcapTestrun> {
  const text = await readFile(join(sharedDir, "corpus", "libpcap-testrun.json"), "utf8");
  return JSON.parse(text) as LibpcapTestrun;
}

/** "255.255.255.0" to a host-order u32, as pcap_compile takes the netmask. */
export function dottedQuad(text: string): number {
  const parts = text.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`bad netmask in corpus: ${text}`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/**
 * Whether compiling the entry makes libpcap look a name up (DNS through getaddrinfo, or the
 * hosts/networks/ethers databases): TESTrun marks those as needing a configured hosts, networks
 * or ethers file, gives them a timeout, or they spell a dotted host name. Such lookups can block
 * for seconds on a machine without a DNS server, so the committed test sample leaves them out.
 */
export function mayLookUpNames(e: { expr?: string; skip?: string; timeout?: number }): boolean {
  if (e.timeout !== undefined) return true;
  if (e.skip !== undefined && /hosts file|networks file|ethers file/.test(e.skip)) return true;
  return e.expr !== undefined && /(^|[\s(])[A-Za-z][\w-]*\.[A-Za-z][\w.-]*/.test(e.expr);
}
