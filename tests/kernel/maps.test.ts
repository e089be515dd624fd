/**
 * Maps (server/kernel/maps.ts): values written by programs run through BPF_PROG_TEST_RUN are
 * read back from user space; the ring buffer consumer reads the mmap-ed ring directly.
 */
import { afterAll, expect, it } from "vitest";
import { ArrayMap, PercpuArrayMap, QueueMap, RingBuffer, possibleCpus } from "../../server/kernel/maps";
import { testRun } from "../../server/kernel/test-run";
import { encode, asm } from "../../server/kernel/raw-insn";
import { PlaygroundError } from "../../lib/errors";
import { countingPacketProgram, ringbufXdp, testFrame, XDP_PASS } from "./programs";
import { describeKernel, Programs, eventually } from "./support";
import { BPF_MAP_TYPE_ARRAY } from "../../server/native/bpf";

describeKernel("kernel: maps", () => {
  const progs = new Programs();
  const maps: { close(): void }[] = [];
  afterAll(() => {
    progs.cleanup();
    for (const m of maps) m.close();
  });
  const keep = <T extends { close(): void }>(m: T): T => (maps.push(m), m);

  it("array: user-space writes and reads, and a program's increments", () => {
    const m = keep(ArrayMap.create(4, 8, "t_array"));
    m.setU64(3, 0x1122334455667788n);
    expect(m.getU64(3)).toBe(0x1122334455667788n);
    expect(m.getU64(0)).toBe(0n);
    expect(() => m.get(4)).toThrow(PlaygroundError);
    const info = m.info();
    expect(info).toMatchObject({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, name: "t_array" });
    const fd = progs.load({ insns: countingPacketProgram(m.fd, XDP_PASS), type: "xdp" });
    testRun(fd, testFrame(1), { repeat: 25 });
    testRun(fd, new Uint8Array(60)); // not a test frame: not counted
    expect(m.getU64(0)).toBe(25n);
  });

  it("per-CPU array: one value per possible CPU, summed", () => {
    const m = keep(PercpuArrayMap.create(1, 8, "t_percpu"));
    expect(m.cpus).toBe(possibleCpus());
    const fd = progs.load({ insns: countingPacketProgram(m.fd, XDP_PASS), type: "xdp" });
    testRun(fd, testFrame(2), { repeat: 40 });
    expect(m.getPerCpu(0)).toHaveLength(m.cpus);
    expect(m.sumU64(0)).toBe(40n);
  });

  it("queue: values pushed by a program pop in order, then null", () => {
    const q = keep(QueueMap.create(8, 4, "t_queue"));
    // *(u32 *)(fp-4) = packet length; bpf_map_push_elem(q, fp-4, 0)
    const prog = encode([
      asm.ldxW(2, 1, 0),
      asm.ldxW(3, 1, 4),
      asm.sub64Reg(3, 2),
      asm.stxW(10, -4, 3),
      ...asm.ldMapFd(1, q.fd),
      asm.mov64Reg(2, 10),
      asm.add64Imm(2, -4),
      asm.mov64Imm(3, 0),
      asm.call(87), // map_push_elem
      asm.mov64Imm(0, XDP_PASS),
      asm.exit(),
    ]);
    const fd = progs.load({ insns: prog, type: "xdp" });
    for (const len of [60, 61, 99]) testRun(fd, new Uint8Array(len));
    const popped: number[] = [];
    for (let v = q.pop(); v; v = q.pop()) popped.push(new DataView(v.buffer).getUint32(0, true));
    expect(popped).toEqual([60, 61, 99]);
  });

  it("ring buffer: records written by a program are read from the mapping, in order, then none", () => {
    const rb = keep(RingBuffer.create(1 << 16, "t_ring"));
    const fd = progs.load({ insns: ringbufXdp(rb.fd), type: "xdp" });
    const sent = [5, 6, 7].map((s) => testFrame(s, 60 + s));
    for (const f of sent) testRun(fd, f);
    testRun(fd, new Uint8Array(64)); // not a test frame: no record
    expect(rb.pending()).toBe(3 * 24); // 16-byte records + 8-byte headers
    const recs = rb.drain();
    expect(recs).toHaveLength(3);
    recs.forEach((r, i) => {
      const v = new DataView(r.buffer);
      expect(r.length).toBe(16);
      expect(v.getUint32(0, true)).toBe(sent[i]!.length);
      expect(r.subarray(8)).toEqual(sent[i]!.subarray(14, 22));
    });
    expect(rb.pending()).toBe(0);
    expect(rb.drain()).toEqual([]);
    expect(rb.delivered).toBe(3);
  });

  it("ring buffer: wraps around the end of the data area and keeps every record", () => {
    const rb = keep(RingBuffer.create(4096, "t_wrap"));
    const fd = progs.load({ insns: ringbufXdp(rb.fd), type: "xdp" });
    const seqs: number[] = [];
    // 24 bytes per record, 170 fit in 4096: fill and drain several times to cross the end.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) testRun(fd, testFrame(round * 1000 + i));
      for (const r of rb.drain()) seqs.push(new DataView(r.buffer).getUint32(8, false));
    }
    expect(seqs).toEqual(Array.from({ length: 500 }, (_, k) => Math.floor(k / 100) * 1000 + (k % 100)));
  });

  it("ring buffer: start() delivers records as they arrive", async () => {
    const rb = keep(RingBuffer.create(1 << 16, "t_live"));
    const fd = progs.load({ insns: ringbufXdp(rb.fd), type: "xdp" });
    const got: Uint8Array[] = [];
    rb.start((recs) => got.push(...recs), { intervalMs: 1000 });
    for (let i = 0; i < 50; i++) testRun(fd, testFrame(i));
    expect(await eventually(() => got.length === 50, 3000)).toBe(true);
    rb.stop();
  });

  it("ring buffer: refuses sizes the kernel would refuse", () => {
    expect(() => RingBuffer.create(1000)).toThrow(PlaygroundError);
    expect(() => RingBuffer.create(3 * 4096)).toThrow(PlaygroundError);
  });
});
