/** Enumerates and reads the captures under ../shared/pcaps. */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { readCapture, type CaptureReadResult } from "../../lib/pcap";
import { isPlaygroundError } from "../../lib/errors";

export interface SharedCapture {
  path: string;
  /** The capture as read, or why it could not be read at all. */
  read: CaptureReadResult | { unreadable: string };
}

export async function listCaptureFiles(sharedDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ["libpcap", "tcpdump"]) {
    const dir = join(sharedDir, "pcaps", sub);
    for (const name of (await readdir(dir)).sort()) out.push(join(dir, name));
  }
  return out;
}

export async function readSharedCapture(path: string): Promise<SharedCapture> {
  const bytes = new Uint8Array(await readFile(path));
  try {
    return { path, read: readCapture(bytes) };
  } catch (e) {
    if (isPlaygroundError(e)) return { path, read: { unreadable: e.message } };
    throw e;
  }
}
