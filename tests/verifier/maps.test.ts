/**
 * Helper calls with maps (bpf_map_lookup_elem on array and hash maps, atomic adds on map values,
 * bpf_ringbuf_output) and bpf_probe_read_kernel, against the running kernel: same verdict, same
 * errno, same normalised log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RawInsn } from "../../lib/ebpf/insn";
import { compareLogs, emulate, type MapInfo, type ProgType } from "../../lib/verifier";
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_RINGBUF, mapCreate } from "../../server/native/bpf";
import { closeFd } from "../../server/native/libc";
import { kernelLog } from "../support/kernel-log";
import { requires } from "../support/requires";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ code, dst, src, off, imm });
const ldMap = (dst: number, fd: number): RawInsn[] => [I(0x18, dst, 1, 0, fd), I(0)];
const EXIT = I(0x95);
const R0_0 = I(0xb7, 0, 0, 0, 0);

const enabled = requires("verifier map helpers", "kernel");
const maps: Record<string, { fd: number; info: MapInfo }> = {};

beforeAll(() => {
  if (!enabled) return;
  const make = (name: string, type: number, keySize: number, valueSize: number, maxEntries: number) => {
    maps[name] = { fd: mapCreate({ mapType: type, keySize, valueSize, maxEntries, name }), info: { name, type, keySize, valueSize, maxEntries } };
  };
  make("vt_arr", BPF_MAP_TYPE_ARRAY, 4, 8, 4);
  make("vt_hash", BPF_MAP_TYPE_HASH, 4, 16, 8);
  make("vt_rb", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
});
afterAll(() => {
  for (const m of Object.values(maps)) closeFd(m.fd);
});

/** key 0 (or `key`) at fp-4 (4 bytes), r2 = fp-4 */
const keyOnStack = (key = 0): RawInsn[] => [I(0x62, 10, 0, -4, key), I(0xbf, 2, 10), I(0x07, 2, 0, 0, -4)];
const keySpilled = (key = 0): RawInsn[] => [I(0xb7, 1, 0, 0, key), I(0x63, 10, 1, -8), I(0xbf, 2, 10), I(0x07, 2, 0, 0, -8)];

const cases: { name: string; type: ProgType; prog: () => RawInsn[] }[] = [
  {
    name: "array lookup with constant key, atomic add",
    type: "xdp",
    prog: () => [...keySpilled(1), ...ldMap(1, maps.vt_arr!.fd), I(0x85, 0, 0, 0, 1), I(0x15, 0, 0, 3, 0), I(0xb7, 1, 0, 0, 1), I(0xdb, 0, 1, 0, 0), R0_0, EXIT, I(0xb7, 0, 0, 0, 2), EXIT],
  },
  {
    name: "array lookup, key in misc stack bytes",
    type: "xdp",
    prog: () => [...keyOnStack(0), ...ldMap(1, maps.vt_arr!.fd), I(0x85, 0, 0, 0, 1), I(0x15, 0, 0, 2, 0), I(0x79, 3, 0, 0), R0_0, EXIT, I(0xb7, 0, 0, 0, 2), EXIT],
  },
  {
    name: "hash lookup, null check, read",
    type: "tc",
    prog: () => [...keyOnStack(7), ...ldMap(1, maps.vt_hash!.fd), I(0x85, 0, 0, 0, 1), I(0x15, 0, 0, 2, 0), I(0x79, 3, 0, 8), R0_0, EXIT, R0_0, EXIT],
  },
  {
    name: "hash lookup without null check",
    type: "tc",
    prog: () => [...keyOnStack(7), ...ldMap(1, maps.vt_hash!.fd), I(0x85, 0, 0, 0, 1), I(0x79, 3, 0, 0), R0_0, EXIT],
  },
  {
    name: "map value read past the value",
    type: "xdp",
    prog: () => [...keyOnStack(7), ...ldMap(1, maps.vt_hash!.fd), I(0x85, 0, 0, 0, 1), I(0x15, 0, 0, 2, 0), I(0x79, 3, 0, 16), R0_0, EXIT, R0_0, EXIT],
  },
  {
    name: "lookup with the key uninitialised",
    type: "xdp",
    prog: () => [I(0xbf, 2, 10), I(0x07, 2, 0, 0, -4), ...ldMap(1, maps.vt_hash!.fd), I(0x85, 0, 0, 0, 1), R0_0, EXIT],
  },
  {
    name: "lookup with a scalar as map",
    type: "xdp",
    prog: () => [...keyOnStack(0), I(0xb7, 1, 0, 0, 5), I(0x85, 0, 0, 0, 1), R0_0, EXIT],
  },
  {
    name: "ringbuf output of a stack buffer",
    type: "xdp",
    prog: () => [I(0x7a, 10, 0, -8, 0), ...ldMap(1, maps.vt_rb!.fd), I(0xbf, 2, 10), I(0x07, 2, 0, 0, -8), I(0xb7, 3, 0, 0, 8), I(0xb7, 4, 0, 0, 0), I(0x85, 0, 0, 0, 130), R0_0, EXIT],
  },
  {
    name: "ringbuf output larger than the buffer",
    type: "xdp",
    prog: () => [I(0x7a, 10, 0, -8, 0), ...ldMap(1, maps.vt_rb!.fd), I(0xbf, 2, 10), I(0x07, 2, 0, 0, -8), I(0xb7, 3, 0, 0, 16), I(0xb7, 4, 0, 0, 0), I(0x85, 0, 0, 0, 130), R0_0, EXIT],
  },
  {
    name: "probe_read_kernel into the stack",
    type: "kprobe",
    prog: () => [I(0x79, 3, 1, 112), I(0xbf, 1, 10), I(0x07, 1, 0, 0, -16), I(0xb7, 2, 0, 0, 16), I(0x85, 0, 0, 0, 113), I(0x79, 0, 10, -16), I(0x57, 0, 0, 0, 1), EXIT],
  },
  {
    name: "probe_read_kernel with a variable size",
    type: "kprobe",
    prog: () => [I(0x79, 2, 1, 112), I(0x57, 2, 0, 0, 7), I(0x79, 3, 1, 104), I(0xbf, 1, 10), I(0x07, 1, 0, 0, -8), I(0x85, 0, 0, 0, 113), R0_0, EXIT],
  },
];

describe.skipIf(!enabled)("map and memory helpers: emulator vs kernel", () => {
  for (const c of cases) {
    it(c.name, () => {
      const prog = c.prog();
      const k = kernelLog(prog, c.type);
      const e = emulate(prog, { progType: c.type, maps: Object.fromEntries(Object.values(maps).map((m) => [m.fd, m.info])) });
      expect(e.accepted, `${e.text}\n---\n${k.log}`).toBe(k.accepted);
      expect(e.errno ?? 0).toBe(k.errno);
      expect(compareLogs(k.log, e.text).diff).toEqual([]);
    });
  }
});
