/** Small frame builders for the kernel tests (Ethernet, IPv4/IPv6, TCP/UDP), checksums left zero. */

export interface L4 {
  proto: "tcp" | "udp";
  sport: number;
  dport: number;
  tcpFlags?: number;
  payload?: number;
}

function ethernet(type: number, body: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + body.length);
  f.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(body, 14);
  return f;
}

function l4(spec: L4): Uint8Array {
  const hdr = spec.proto === "tcp" ? 20 : 8;
  const b = new Uint8Array(hdr + (spec.payload ?? 0));
  const v = new DataView(b.buffer);
  v.setUint16(0, spec.sport);
  v.setUint16(2, spec.dport);
  if (spec.proto === "tcp") {
    b[12] = 5 << 4;
    b[13] = spec.tcpFlags ?? 0x10;
  } else {
    v.setUint16(4, b.length);
  }
  for (let i = hdr; i < b.length; i++) b[i] = i & 0xff;
  return b;
}

export function ipv4(src: string, dst: string, spec: L4, opts: { fragOffset?: number; ihl?: number } = {}): Uint8Array {
  const ihl = opts.ihl ?? 5;
  const t = l4(spec);
  const b = new Uint8Array(ihl * 4 + t.length);
  const v = new DataView(b.buffer);
  b[0] = 0x40 | ihl;
  v.setUint16(2, b.length);
  v.setUint16(6, opts.fragOffset ?? 0);
  b[8] = 64;
  b[9] = spec.proto === "tcp" ? 6 : 17;
  b.set(src.split(".").map(Number), 12);
  b.set(dst.split(".").map(Number), 16);
  b.set(t, ihl * 4);
  return b;
}

export function ipv6(spec: L4): Uint8Array {
  const t = l4(spec);
  const b = new Uint8Array(40 + t.length);
  const v = new DataView(b.buffer);
  b[0] = 0x60;
  v.setUint16(4, t.length);
  b[6] = spec.proto === "tcp" ? 6 : 17;
  b[7] = 64;
  b[23] = 1;
  b[39] = 2;
  b.set(t, 40);
  return b;
}

export const ethIpv4 = (src: string, dst: string, spec: L4, opts?: { fragOffset?: number; ihl?: number }) => ethernet(0x0800, ipv4(src, dst, spec, opts));
export const ethIpv6 = (spec: L4) => ethernet(0x86dd, ipv6(spec));
export const ethOther = (type: number, len: number) => ethernet(type, new Uint8Array(Math.max(0, len - 14)).map((_, i) => i));

/** A mixed set of frames that exercises the usual filter primitives. */
export function sampleFrames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [proto, sport, dport] of [
    ["tcp", 12345, 80],
    ["tcp", 80, 40000],
    ["tcp", 443, 8080],
    ["udp", 5353, 53],
    ["udp", 53, 80],
  ] as const) {
    for (const [src, dst] of [
      ["10.0.0.1", "10.0.0.2"],
      ["192.168.1.5", "10.0.0.1"],
    ]) {
      out.push(ethIpv4(src, dst, { proto, sport, dport, payload: 20 }));
      out.push(ethIpv4(src, dst, { proto, sport, dport, tcpFlags: 0x02, payload: 200 }, { ihl: 6 }));
    }
    out.push(ethIpv6({ proto, sport, dport, payload: 10 }));
  }
  out.push(ethIpv4("10.0.0.1", "10.0.0.2", { proto: "tcp", sport: 1, dport: 80 }, { fragOffset: 0x20 }));
  out.push(ethOther(0x0806, 42), ethOther(0x88b5, 60), ethOther(0x8100, 64));
  return out;
}
