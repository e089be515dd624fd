/**
 * The helper functions translated programs call, with the kernel's argument and error conventions
 * (net/core/filter.c, kernel/trace/bpf_trace.c, kernel/bpf/helpers.c). Time and randomness are
 * deterministic so runs are reproducible. Helpers read their arguments from r1..r5 and leave the
 * result in r0; r1..r5 keep their values, as in the kernel's interpreter (the verifier forbids
 * reading them afterwards anyway).
 */
import {
  BPF_FUNC_get_prandom_u32,
  BPF_FUNC_ktime_get_ns,
  BPF_FUNC_probe_read_kernel,
  BPF_FUNC_skb_load_bytes,
  BPF_FUNC_trace_printk,
  helperName,
} from "../opcodes";
import type { Core } from "./core";
import { toBig } from "./u64";

const EFAULT = 14;
const EINVAL = 22;

function setR0(core: Core, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  core.lo[0] = Number(u & 0xffffffffn);
  core.hi[0] = Number(u >> 32n);
}

const arg = (core: Core, i: number): bigint => toBig(core.lo[i], core.hi[i]);

/** Kernel memory first, then the program's own memory (the stack and packet are kernel memory too). */
function readKernel(core: Core, addr: bigint, len: number): Uint8Array | null {
  const own = core.readBytes(Number(addr & 0xffffffffn), Number(addr >> 32n), len);
  if (own !== null) return own;
  return core.kernel?.read(addr, len) ?? null;
}

function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** Formats like bpf_trace_printk (a subset of printf: flags, width, l/ll, d i u x X c s p %). */
function tracePrintk(core: Core, fmt: string, args: bigint[]): string {
  let argi = 0;
  return fmt.replace(/%([-+ 0]*)(\d*)(ll|l|h|hh)?([diuxXcsp%])/g, (_m, flags: string, width: string, len: string | undefined, conv: string) => {
    if (conv === "%") return "%";
    const raw = args[argi++] ?? 0n;
    const wide = len === "l" || len === "ll" || conv === "p";
    const u = wide ? BigInt.asUintN(64, raw) : BigInt.asUintN(32, raw);
    let text: string;
    switch (conv) {
      case "d":
      case "i":
        text = (wide ? BigInt.asIntN(64, raw) : BigInt.asIntN(32, raw)).toString();
        break;
      case "u":
        text = u.toString();
        break;
      case "x":
        text = u.toString(16);
        break;
      case "X":
        text = u.toString(16).toUpperCase();
        break;
      case "c":
        text = String.fromCharCode(Number(u & 0xffn));
        break;
      case "p":
        text = `0x${u.toString(16)}`;
        break;
      default: {
        // %s: a NUL-terminated string in memory
        const bytes: number[] = [];
        for (let k = 0; k < 256; k++) {
          const b = readKernel(core, raw + BigInt(k), 1);
          if (b === null || b[0] === 0) break;
          bytes.push(b[0]);
        }
        text = String.fromCharCode(...bytes);
      }
    }
    const w = width === "" ? 0 : Number(width);
    if (text.length >= w) return text;
    if (flags.includes("-")) return text.padEnd(w);
    return flags.includes("0") && conv !== "s" && conv !== "c" ? text.padStart(w, "0") : text.padStart(w);
  });
}

/** Larger sizes cannot name a valid destination (the stack is 512 bytes per frame); reject before allocating. */
const MAX_HELPER_BYTES = 0x10000;

/** Runs helper `id`; returns false after setting a fault when it cannot be emulated or misused memory. */
export function callHelper(core: Core, id: number, pc: number): boolean {
  const args = [1, 2, 3, 4, 5].map((i) => arg(core, i));
  const sizeArg = id === BPF_FUNC_skb_load_bytes ? core.lo[4] : id === BPF_FUNC_probe_read_kernel || id === 4 || id === BPF_FUNC_trace_printk ? core.lo[2] : 0;
  if (sizeArg > MAX_HELPER_BYTES) {
    core.setFault(pc, "helper", `${helperName(id)}#${id}: size ${sizeArg} is larger than any memory the program can pass`);
    return false;
  }
  let ret: bigint;
  switch (id) {
    case BPF_FUNC_ktime_get_ns:
      ret = core.timeNs;
      core.timeNs += 1000n;
      break;
    case BPF_FUNC_get_prandom_u32:
      core.prng = xorshift32(core.prng);
      ret = BigInt(core.prng);
      break;
    case BPF_FUNC_trace_printk: {
      const size = Number(args[1] & 0xffffffffn);
      const fmtBytes = size > 0 ? core.readBytes(core.lo[1], core.hi[1], size) : null;
      if (fmtBytes === null || fmtBytes[size - 1] !== 0) {
        ret = -BigInt(EINVAL);
        break;
      }
      const fmt = String.fromCharCode(...fmtBytes.subarray(0, fmtBytes.indexOf(0)));
      const text = tracePrintk(core, fmt, args.slice(2));
      core.output.push(text);
      ret = BigInt(text.length);
      break;
    }
    case BPF_FUNC_skb_load_bytes: {
      if (core.kind !== "socket" && core.kind !== "tc") {
        core.setFault(pc, "helper", `${helperName(id)}#${id} is not available to ${core.kind} programs`);
        return false;
      }
      const offset = core.lo[2];
      const len = core.lo[4];
      const pkt = core.packet.bytes;
      const skbLen = pkt.length - core.dataOffset;
      let data: Uint8Array;
      if (offset > 0x7fffffff || offset + len > skbLen) {
        data = new Uint8Array(len);
        ret = -BigInt(EFAULT);
      } else {
        data = pkt.slice(core.dataOffset + offset, core.dataOffset + offset + len);
        ret = 0n;
      }
      if (len > 0 && !core.writeBytes(core.lo[3], core.hi[3], data, pc)) {
        core.setFault(pc, "helper", `${helperName(id)}#${id}: destination r3 is not ${len} bytes of writable memory`);
        return false;
      }
      break;
    }
    case 4: // bpf_probe_read: the pre-5.5 kernel-or-user variant
    case BPF_FUNC_probe_read_kernel: {
      const len = core.lo[2];
      const src = readKernel(core, args[2], len);
      ret = src === null ? -BigInt(EFAULT) : 0n;
      const data = src === null ? new Uint8Array(len) : src.slice();
      if (len > 0 && !core.writeBytes(core.lo[1], core.hi[1], data, pc)) {
        core.setFault(pc, "helper", `${helperName(id)}#${id}: destination r1 is not ${len} bytes of writable memory`);
        return false;
      }
      break;
    }
    default:
      core.setFault(pc, "helper", `helper ${helperName(id)}#${id} is not emulated`);
      return false;
  }
  setR0(core, ret);
  if (core.trace !== null) core.trace.helper = { id, name: helperName(id), args, ret: BigInt.asUintN(64, ret) };
  return true;
}
