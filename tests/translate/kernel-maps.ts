/**
 * The few BPF map operations the count-epilogue test needs (BPF_MAP_CREATE, BPF_MAP_LOOKUP_ELEM),
 * through libc's syscall() via koffi, like tests/support/raw-bpf-loader.ts does for programs.
 * Layouts are union bpf_attr on x86_64 (include/uapi/linux/bpf.h).
 */
import koffi from "koffi";

const SYS_BPF = 321;
const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const ATTR_SIZE = 160;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_RINGBUF = 27;

let syscall: ((...args: unknown[]) => number | bigint) | null = null;
function sys(): (...args: unknown[]) => number | bigint {
  syscall ??= koffi.load("libc.so.6").func("long syscall(long number, ...)") as (...args: unknown[]) => number | bigint;
  return syscall;
}

function withMem<T>(size: number, fn: (ptr: unknown, bytes: Uint8Array, address: bigint) => T): T {
  const ptr = koffi.alloc("uint8", size);
  try {
    const bytes = new Uint8Array(koffi.view(ptr, size));
    bytes.fill(0);
    return fn(ptr, bytes, koffi.address(ptr));
  } finally {
    koffi.free(ptr);
  }
}

function bpf(cmd: number, fill: (v: DataView) => void): { ret: number; errno: number } {
  return withMem(ATTR_SIZE, (ptr, bytes) => {
    fill(new DataView(bytes.buffer, bytes.byteOffset, ATTR_SIZE));
    const ret = Number(sys()(SYS_BPF, "int", cmd, "void *", ptr, "uint", ATTR_SIZE));
    return { ret, errno: ret < 0 ? koffi.errno() : 0 };
  });
}

/** Creates a map; returns its fd (throws with errno on failure). */
export function mapCreate(type: number, keySize: number, valueSize: number, maxEntries: number): number {
  const { ret, errno } = bpf(BPF_MAP_CREATE, (v) => {
    v.setUint32(0, type, true);
    v.setUint32(4, keySize, true);
    v.setUint32(8, valueSize, true);
    v.setUint32(12, maxEntries, true);
  });
  if (ret < 0) throw new Error(`BPF_MAP_CREATE failed with errno ${errno}`);
  return ret;
}

/** The u64 at `key` of an array map of u64 (or the `index`-th u64 of a wider value of `valueSize` bytes). */
export function lookupU64(fd: number, key: number, index = 0, valueSize = 8): bigint {
  return withMem(4, (_k, keyBytes, keyAddr) =>
    withMem(valueSize, (_v, valueBytes, valueAddr) => {
      new DataView(keyBytes.buffer, keyBytes.byteOffset, 4).setUint32(0, key, true);
      const { ret, errno } = bpf(BPF_MAP_LOOKUP_ELEM, (v) => {
        v.setUint32(0, fd, true);
        v.setBigUint64(8, keyAddr, true);
        v.setBigUint64(16, valueAddr, true);
      });
      if (ret < 0) throw new Error(`BPF_MAP_LOOKUP_ELEM failed with errno ${errno}`);
      return new DataView(valueBytes.buffer, valueBytes.byteOffset, valueSize).getBigUint64(index * 8, true);
    }),
  );
}
