/**
 * BPF maps the playground's programs write to: counters (array, per-CPU array), queues, and ring
 * buffers, plus a ring buffer consumer that reads records straight from the mmap-ed map.
 *
 * Ring buffer layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (the only page
 * user space may write), page 1 the producer position, then the data area of `size` bytes mapped
 * twice in a row so a record that wraps is still contiguous. Each record starts with an 8-byte
 * header: u32 length with BUSY (bit 31, still being written) and DISCARD (bit 30) flags, u32 page
 * offset; records are padded to 8 bytes. Positions only grow; the consumer masks them with
 * size - 1.
 */
import { readFileSync } from "node:fs";
import "../native/koffi-config";
import * as koffi from "koffi";
import {
  mapCreate,
  mapLookup,
  mapUpdate,
  mapPop,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF,
  objGetInfo,
} from "../native/bpf";
import { closeFd, Mapping, NativeMem, PROT_READ, PROT_WRITE } from "../native/libc";
import { PlaygroundError } from "../../lib/errors";

export const PAGE_SIZE = 4096;

/** Number of possible CPUs: the stride of per-CPU map values. */
export function possibleCpus(): number {
  const text = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim();
  let n = 0;
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    n += b === undefined ? 1 : b - a! + 1;
  }
  return n;
}

function key32(index: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, index, true);
  return k;
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
}

/** struct bpf_map_info up to its name (type, id, key_size, value_size, max_entries, map_flags, name[16]). */
const MAP_INFO_SIZE = 40;

/** A map fd with its shape. Close it when done (programs that use it keep their own reference). */
export class BpfMap {
  #closed = false;
  constructor(
    readonly fd: number,
    readonly mapType: number,
    readonly keySize: number,
    readonly valueSize: number,
    readonly maxEntries: number,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  lookup(key: Uint8Array): Uint8Array | null {
    return mapLookup(this.fd, key, this.valueSize);
  }

  /** bpf_map_info: the kernel's id and shape of this map. */
  info(): MapInfo {
    const mem = new NativeMem(MAP_INFO_SIZE);
    try {
      objGetInfo(this.fd, mem, "BPF_OBJ_GET_INFO_BY_FD(map)");
      const v = mem.view;
      const name = mem.bytes.subarray(24, 40);
      const nul = name.indexOf(0);
      return {
        type: v.getUint32(0, true),
        id: v.getUint32(4, true),
        keySize: v.getUint32(8, true),
        valueSize: v.getUint32(12, true),
        maxEntries: v.getUint32(16, true),
        flags: v.getUint32(20, true),
        name: new TextDecoder().decode(name.subarray(0, nul < 0 ? 16 : nul)),
      };
    } finally {
      mem.free();
    }
  }

  update(key: Uint8Array, value: Uint8Array): void {
    mapUpdate(this.fd, key, value);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.fd);
  }
}

/** An array of u64 counters (or any fixed-size values) indexed from 0. */
export class ArrayMap extends BpfMap {
  static create(entries: number, valueSize = 8, name?: string): ArrayMap {
    const fd = mapCreate({ mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize, maxEntries: entries, name });
    return new ArrayMap(fd, BPF_MAP_TYPE_ARRAY, 4, valueSize, entries);
  }
  get(index: number): Uint8Array {
    const v = this.lookup(key32(index));
    if (!v) throw new PlaygroundError("kernel/map", `array index ${index} out of range (${this.maxEntries} entries)`);
    return v;
  }
  set(index: number, value: Uint8Array): void {
    this.update(key32(index), value);
  }
  getU64(index: number): bigint {
    return new DataView(this.get(index).buffer).getBigUint64(0, true);
  }
  setU64(index: number, value: bigint): void {
    const b = new Uint8Array(this.valueSize);
    new DataView(b.buffer).setBigUint64(0, value, true);
    this.set(index, b);
  }
}

/** A per-CPU array: each lookup returns one value per possible CPU; counters are summed. */
export class PercpuArrayMap extends BpfMap {
  readonly cpus = possibleCpus();
  static create(entries: number, valueSize = 8, name?: string): PercpuArrayMap {
    const fd = mapCreate({ mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize, maxEntries: entries, name });
    return new PercpuArrayMap(fd, BPF_MAP_TYPE_PERCPU_ARRAY, 4, valueSize, entries);
  }
  /** Per-CPU values, each `valueSize` bytes (the kernel pads each to 8). */
  getPerCpu(index: number): Uint8Array[] {
    const stride = Math.ceil(this.valueSize / 8) * 8;
    const all = mapLookup(this.fd, key32(index), stride * this.cpus);
    if (!all) throw new PlaygroundError("kernel/map", `array index ${index} out of range (${this.maxEntries} entries)`);
    return Array.from({ length: this.cpus }, (_, c) => all.slice(c * stride, c * stride + this.valueSize));
  }
  /** Sum of the u64 at the start of every CPU's value. */
  sumU64(index: number): bigint {
    return this.getPerCpu(index).reduce((s, v) => s + new DataView(v.buffer).getBigUint64(0, true), 0n);
  }
}

/** A FIFO of fixed-size values (BPF_MAP_TYPE_QUEUE): the program pushes, user space pops. */
export class QueueMap extends BpfMap {
  static create(entries: number, valueSize: number, name?: string): QueueMap {
    const fd = mapCreate({ mapType: BPF_MAP_TYPE_QUEUE, keySize: 0, valueSize, maxEntries: entries, name });
    return new QueueMap(fd, BPF_MAP_TYPE_QUEUE, 0, valueSize, entries);
  }
  pop(): Uint8Array | null {
    return mapPop(this.fd, this.valueSize);
  }
}

const RB_BUSY = 0x80000000;
const RB_DISCARD = 0x40000000;
const RB_HDR = 8;

/** A ring buffer map and its consumer. */
export class RingBuffer extends BpfMap {
  #consumer: Mapping;
  #producer: Mapping;
  #cons: BigUint64Array;
  #prod: BigUint64Array;
  #data: Uint8Array;
  #data32: Uint32Array;
  #mask: bigint;
  #poll: koffi.node.PollHandle | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  /** Records dropped by the program because the ring was full are not visible here; count them in the program. */
  delivered = 0;

  /** `size`: a power of two, a multiple of the page size (e.g. 1 << 20). */
  static create(size: number, name?: string): RingBuffer {
    if (size < PAGE_SIZE || (size & (size - 1)) !== 0) {
      throw new PlaygroundError("kernel/map", `ring buffer size must be a power of two of at least ${PAGE_SIZE} bytes (got ${size})`);
    }
    const fd = mapCreate({ mapType: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: size, name });
    try {
      return new RingBuffer(fd, size);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /**
   * Consumes an existing ring buffer map (one a loaded object made, opened with objGet). Takes
   * ownership of `fd`: close() closes it. `size` is its max_entries.
   */
  static adopt(fd: number, size: number): RingBuffer {
    if (size < PAGE_SIZE || (size & (size - 1)) !== 0) {
      throw new PlaygroundError("kernel/map", `ring buffer size must be a power of two of at least ${PAGE_SIZE} bytes (got ${size})`);
    }
    return new RingBuffer(fd, size);
  }

  private constructor(fd: number, readonly size: number) {
    super(fd, BPF_MAP_TYPE_RINGBUF, 0, 0, size);
    this.#consumer = new Mapping(fd, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
    try {
      this.#producer = new Mapping(fd, PAGE_SIZE + 2 * size, PROT_READ, PAGE_SIZE);
    } catch (e) {
      this.#consumer.unmap();
      throw e;
    }
    this.#cons = new BigUint64Array(this.#consumer.bytes.buffer, this.#consumer.bytes.byteOffset, 1);
    this.#prod = new BigUint64Array(this.#producer.bytes.buffer, this.#producer.bytes.byteOffset, 1);
    this.#data = this.#producer.bytes.subarray(PAGE_SIZE);
    this.#data32 = new Uint32Array(this.#data.buffer, this.#data.byteOffset, (2 * size) / 4);
    this.#mask = BigInt(size - 1);
  }

  /** Bytes written but not yet consumed. */
  pending(): number {
    if (this.closed) return 0;
    return Number(Atomics.load(this.#prod, 0) - Atomics.load(this.#cons, 0));
  }

  /**
   * Reads every complete record available now (copies), advancing the consumer position.
   * Stops early at a record still being written, or after `max` records.
   */
  drain(max = Infinity): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.closed) return out;
    let cons = Atomics.load(this.#cons, 0);
    const prod = Atomics.load(this.#prod, 0);
    while (cons < prod && out.length < max) {
      const at = Number(cons & this.#mask);
      const hdr = Atomics.load(this.#data32, at / 4);
      if (hdr & RB_BUSY) break;
      const len = hdr & 0x3fffffff; // without the BUSY and DISCARD bits
      if (!(hdr & RB_DISCARD)) out.push(this.#data.slice(at + RB_HDR, at + RB_HDR + len));
      cons += BigInt((len + RB_HDR + 7) & ~7);
      // Publish progress per record so the producer can reuse the space at once.
      Atomics.store(this.#cons, 0, cons);
    }
    this.delivered += out.length;
    return out;
  }

  /**
   * Calls `onRecords` whenever records arrive: woken by epoll on the map fd (the kernel signals a
   * waiting consumer), with a timer as a safety net in case a wakeup was skipped.
   */
  start(onRecords: (records: Uint8Array[]) => void, opts: { intervalMs?: number; batch?: number } = {}): void {
    this.stop();
    const flush = () => {
      for (;;) {
        const recs = this.drain(opts.batch ?? 4096);
        if (recs.length === 0) return;
        onRecords(recs);
      }
    };
    this.#poll = koffi.node.poll(this.fd, { readable: true }, () => flush());
    this.#timer = setInterval(flush, opts.intervalMs ?? 50);
    this.#timer.unref?.();
  }

  stop(): void {
    this.#poll?.close();
    this.#poll = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  override close(): void {
    if (this.closed) return;
    this.stop();
    // Unmap before closing: the views must never be read after this point (drain checks `closed`).
    this.#consumer.unmap();
    this.#producer.unmap();
    super.close();
  }
}
