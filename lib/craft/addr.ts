/** Address text → bytes for the builders. Accepts the usual spellings; anything else is a PlaygroundError. */
import { craftError } from "./bytes";

export type Ipv4 = string | Uint8Array;
export type Ipv6 = string | Uint8Array;
export type Mac = string | Uint8Array;

export function ipv4Bytes(a: Ipv4): Uint8Array {
  if (a instanceof Uint8Array) {
    if (a.length !== 4) throw craftError(`IPv4 address must be 4 bytes, got ${a.length}`);
    return a;
  }
  const parts = a.split(".");
  if (parts.length !== 4) throw craftError(`bad IPv4 address "${a}"`);
  return Uint8Array.from(parts, (p) => {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw craftError(`bad IPv4 address "${a}"`);
    return n;
  });
}

export function ipv6Bytes(a: Ipv6): Uint8Array {
  if (a instanceof Uint8Array) {
    if (a.length !== 16) throw craftError(`IPv6 address must be 16 bytes, got ${a.length}`);
    return a;
  }
  let text = a;
  const out = new Uint8Array(16);
  // A trailing dotted quad (::ffff:10.0.0.1) fills the last 32 bits.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tailBytes: Uint8Array | undefined;
  if (quad) {
    tailBytes = ipv4Bytes(quad[1]!);
    text = text.slice(0, -quad[1]!.length) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) throw craftError(`bad IPv6 address "${a}"`);
  const words = (s: string) => (s === "" ? [] : s.split(":"));
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const total = head.length + tail.length;
  if ((halves.length === 1 && total !== 8) || total > 8) throw craftError(`bad IPv6 address "${a}"`);
  const all = [...head, ...Array<string>(8 - total).fill("0"), ...tail];
  all.forEach((w, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw craftError(`bad IPv6 address "${a}"`);
    const v = parseInt(w, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tailBytes) out.set(tailBytes, 12);
  return out;
}

export function macBytes(a: Mac): Uint8Array {
  if (a instanceof Uint8Array) {
    if (a.length !== 6) throw craftError(`MAC address must be 6 bytes, got ${a.length}`);
    return a;
  }
  const hex = a.replace(/[:.-]/g, "");
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw craftError(`bad MAC address "${a}"`);
  return Uint8Array.from({ length: 6 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}
