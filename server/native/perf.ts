/**
 * perf_event_open(2) for kprobe events, and the two ioctls that tie a BPF program to one.
 *
 * A kprobe is opened through the dynamic "kprobe" PMU: its type number is in
 * /sys/bus/event_source/devices/kprobe/type, and the probed function's name goes in config1 as
 * a pointer (config2 is the offset inside the function). Kernels built without CONFIG_KPROBES
 * have no such PMU; callers check `kprobePmuType()` first.
 */
import { readFileSync } from "node:fs";
import { libc, NativeMem, lastErrno } from "./libc";
import { SyscallError } from "./errno";
import { SYS_perf_event_open } from "./bpf";

const PERF_ATTR_SIZE = 112; // PERF_ATTR_SIZE_VER5
const PERF_FLAG_FD_CLOEXEC = 1 << 3;

// _IO('$', 0) and _IOW('$', 8, __u32)
export const PERF_EVENT_IOC_ENABLE = 0x2400;
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;

/** The kprobe PMU's type number, or null when this kernel has no kprobes. */
export function kprobePmuType(): number | null {
  try {
    const n = Number.parseInt(readFileSync("/sys/bus/event_source/devices/kprobe/type", "utf8").trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** Opens a kprobe perf event on `func` (all CPUs' hits reach the attached program). */
export function perfEventOpenKprobe(pmuType: number, func: string, retprobe = false): number {
  const name = NativeMem.cString(func);
  const attr = new NativeMem(PERF_ATTR_SIZE);
  try {
    const v = attr.view;
    v.setUint32(0, pmuType, true); // type
    v.setUint32(4, PERF_ATTR_SIZE, true); // size
    v.setBigUint64(8, retprobe ? 1n : 0n, true); // config: bit 0 = retprobe (format/retprobe)
    v.setBigUint64(16, 1n, true); // sample_period
    v.setBigUint64(56, name.address, true); // config1 = kprobe_func
    v.setBigUint64(64, 0n, true); // config2 = probe_offset
    // pid -1 with cpu 0: a trace event's program runs wherever the probe hits.
    const fd = Number(
      libc().syscall(SYS_perf_event_open, "void *", attr.ptr, "int", -1, "int", 0, "int", -1, "unsigned long", PERF_FLAG_FD_CLOEXEC),
    );
    if (fd < 0) throw new SyscallError(`perf_event_open(kprobe ${func})`, lastErrno());
    return fd;
  } finally {
    name.free();
    attr.free();
  }
}

export function ioctlInt(fd: number, request: number, arg: number, what: string): void {
  const r = Number(libc().ioctl(fd, request, "int", arg));
  if (r < 0) throw new SyscallError(`ioctl(${what})`, lastErrno());
}
