/**
 * Hand-built eBPF programs for the kernel tests and the kernel benchmark. They are raw
 * instructions on purpose: the kernel layer is tested independently of lib/ebpf and the
 * translator (and until lib/ebpf settles, server/kernel/raw-insn.ts is the encoder).
 */
import { encode, asm, HELPER, type RawInsn } from "../../server/kernel/raw-insn";

/** IEEE 802 local experimental EtherType: test frames carry it so host traffic never counts. */
export const TEST_ETHERTYPE = 0x88b5;

export const XDP_PASS = 2;
export const TC_ACT_OK = 0;
/** tcx: continue with the next program / the stack. */
export const TCX_NEXT = -1;

/** A test frame: broadcast destination, a fixed source, TEST_ETHERTYPE, then `payload` (zero-padded to 60 bytes). */
export function testFrame(seq: number, payloadLen = 46): Uint8Array {
  const f = new Uint8Array(14 + Math.max(payloadLen, 4));
  f.fill(0xff, 0, 6);
  f.set([0x02, 0, 0, 0, 0, 0x01], 6);
  f[12] = TEST_ETHERTYPE >> 8;
  f[13] = TEST_ETHERTYPE & 0xff;
  new DataView(f.buffer).setUint32(14, seq, false);
  return f;
}

/**
 * r0 = map_lookup(map, &0); if (r0) *(u64 *)r0 += 1   — the counting tail shared by the programs.
 * Expects nothing in registers; clobbers r0-r5.
 */
function countInto(mapFd: number): RawInsn[] {
  return [
    asm.stW(10, -4, 0),
    asm.mov64Reg(2, 10),
    asm.add64Imm(2, -4),
    ...asm.ldMapFd(1, mapFd),
    asm.call(HELPER.map_lookup_elem),
    asm.jeqImm(0, 0, 2),
    asm.mov64Imm(1, 1),
    asm.atomicAdd64(0, 0, 1),
  ];
}

/** XDP (or tc, with `tc: true`, through __sk_buff data/data_end): counts TEST_ETHERTYPE frames, returns `verdict`. */
export function countingPacketProgram(mapFd: number, verdict: number, tc = false): Uint8Array {
  const tail = countInto(mapFd);
  const dataOff = tc ? 76 : 0;
  const endOff = tc ? 80 : 4;
  const body: RawInsn[] = [
    asm.ldxW(2, 1, dataOff),
    asm.ldxW(3, 1, endOff),
    asm.mov64Reg(4, 2),
    asm.add64Imm(4, 14),
    asm.jgtReg(4, 3, 2 + tail.length),
    asm.ldxH(5, 2, 12),
    // EtherType as the little-endian u16 the load produces.
    asm.jneImm(5, ((TEST_ETHERTYPE & 0xff) << 8) | (TEST_ETHERTYPE >> 8), tail.length),
    ...tail,
    asm.mov64Imm(0, verdict),
    asm.exit(),
  ];
  return encode(body);
}

/** Socket filter: counts TEST_ETHERTYPE frames (LD_ABS), always returns 0 (keep nothing). */
export function countingSocketFilter(mapFd: number): Uint8Array {
  const tail = countInto(mapFd);
  return encode([
    asm.mov64Reg(6, 1),
    asm.ldAbsH(12),
    asm.jneImm(0, TEST_ETHERTYPE, tail.length),
    ...tail,
    asm.mov64Imm(0, 0),
    asm.exit(),
  ]);
}

/**
 * raw_tp on netif_receive_skb (ctx[0] = skb): counts skbs whose device has `ifindex`, reading
 * skb->dev and dev->ifindex with bpf_probe_read_kernel at the offsets BTF gave.
 */
export function countingRawTp(mapFd: number, ifindex: number, devOff: number, ifindexOff: number): Uint8Array {
  const tail = countInto(mapFd);
  return encode([
    asm.ldxDW(3, 1, 0), // r3 = skb
    asm.add64Imm(3, devOff), // &skb->dev
    asm.mov64Reg(1, 10),
    asm.add64Imm(1, -16),
    asm.mov64Imm(2, 8),
    asm.call(HELPER.probe_read_kernel), // fp-16 = skb->dev
    asm.ldxDW(3, 10, -16),
    asm.add64Imm(3, ifindexOff),
    asm.mov64Reg(1, 10),
    asm.add64Imm(1, -8),
    asm.mov64Imm(2, 4),
    asm.stDW(10, -8, 0),
    asm.call(HELPER.probe_read_kernel), // fp-8 = dev->ifindex
    asm.ldxW(0, 10, -8),
    asm.jneImm(0, ifindex, tail.length),
    ...tail,
    asm.mov64Imm(0, 0),
    asm.exit(),
  ]);
}

/** kprobe (ctx = pt_regs, skb in rdi at offset 112): same count as countingRawTp. */
export function countingKprobe(mapFd: number, ifindex: number, devOff: number, ifindexOff: number): Uint8Array {
  const PT_REGS_DI = 112;
  const tail = countInto(mapFd);
  return encode([
    asm.ldxDW(3, 1, PT_REGS_DI),
    asm.add64Imm(3, devOff),
    asm.mov64Reg(1, 10),
    asm.add64Imm(1, -16),
    asm.mov64Imm(2, 8),
    asm.call(HELPER.probe_read_kernel),
    asm.ldxDW(3, 10, -16),
    asm.add64Imm(3, ifindexOff),
    asm.mov64Reg(1, 10),
    asm.add64Imm(1, -8),
    asm.mov64Imm(2, 4),
    asm.stDW(10, -8, 0),
    asm.call(HELPER.probe_read_kernel),
    asm.ldxW(0, 10, -8),
    asm.jneImm(0, ifindex, tail.length),
    ...tail,
    asm.mov64Imm(0, 0),
    asm.exit(),
  ]);
}

/**
 * XDP: for TEST_ETHERTYPE frames of at least 22 bytes, writes a 16-byte record to the ring
 * buffer: u32 frame length, u32 0, then the frame's bytes 14..21 (the test frame's sequence
 * number and what follows). Returns XDP_PASS.
 */
export function ringbufXdp(ringFd: number): Uint8Array {
  const body: RawInsn[] = [
    asm.ldxW(2, 1, 0),
    asm.ldxW(3, 1, 4),
    asm.mov64Reg(4, 2),
    asm.add64Imm(4, 22),
    asm.jgtReg(4, 3, 0), // patched below
    asm.ldxH(5, 2, 12),
    asm.jneImm(5, ((TEST_ETHERTYPE & 0xff) << 8) | (TEST_ETHERTYPE >> 8), 0), // patched below
    asm.mov64Reg(5, 3),
    asm.sub64Reg(5, 2),
    asm.stxW(10, -16, 5), // length
    asm.stW(10, -12, 0),
    asm.ldxDW(5, 2, 14),
    asm.stxDW(10, -8, 5), // bytes 14..21
    ...asm.ldMapFd(1, ringFd),
    asm.mov64Reg(2, 10),
    asm.add64Imm(2, -16),
    asm.mov64Imm(3, 16),
    asm.mov64Imm(4, 0),
    asm.call(HELPER.ringbuf_output),
  ];
  const outAt = body.length;
  body[4] = asm.jgtReg(4, 3, outAt - 5);
  body[6] = asm.jneImm(5, ((TEST_ETHERTYPE & 0xff) << 8) | (TEST_ETHERTYPE >> 8), outAt - 7);
  body.push(asm.mov64Imm(0, XDP_PASS), asm.exit());
  return encode(body);
}
