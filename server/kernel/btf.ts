/**
 * The running kernel's BTF (/sys/kernel/btf/vmlinux), read once, so programs that read a struct
 * sk_buff through bpf_probe_read_kernel (the kprobe / raw_tp targets) use this kernel's real
 * offsets instead of guessed ones. The parser itself is lib/btf, shared with the ELF reader.
 */
import { readFileSync } from "node:fs";
import { Btf, type FieldLocation } from "../../lib/btf";
import { PlaygroundError } from "../../lib/errors";

export type { BtfFunc, BtfFuncParam, FieldLocation } from "../../lib/btf";
export { Btf };

/** Reads and indexes a BTF file such as /sys/kernel/btf/vmlinux (lib/btf does the parsing). */
export function readBtfFile(path = "/sys/kernel/btf/vmlinux"): Btf {
  return new Btf(new Uint8Array(readFileSync(path)));
}

/** Where the fields a packet filter needs sit in this kernel's struct sk_buff. */
export interface SkbLayout {
  len: FieldLocation;
  dataLen: FieldLocation;
  data: FieldLocation;
  head: FieldLocation;
  macHeader: FieldLocation;
  networkHeader: FieldLocation;
  protocol: FieldLocation;
  dev: FieldLocation;
  /** struct net_device.ifindex */
  devIfindex: FieldLocation;
}

let cachedVmlinux: Btf | null | undefined;

/** The running kernel's BTF, parsed once per process; null when the kernel does not expose it. */
export function vmlinuxBtf(): Btf | null {
  if (cachedVmlinux !== undefined) return cachedVmlinux;
  try {
    cachedVmlinux = readBtfFile();
  } catch {
    cachedVmlinux = null;
  }
  return cachedVmlinux;
}

let cachedSkb: SkbLayout | null | undefined;

/** The sk_buff layout from the running kernel's BTF, or null when BTF is not available. */
export function skbLayout(): SkbLayout | null {
  if (cachedSkb !== undefined) return cachedSkb;
  try {
    const btf = vmlinuxBtf();
    if (!btf) throw new PlaygroundError("kernel/btf", "no vmlinux BTF");
    const need = (s: string, f: string): FieldLocation => {
      const loc = btf.field(s, f);
      if (!loc) throw new PlaygroundError("kernel/btf", `struct ${s} has no field ${f}`);
      return loc;
    };
    cachedSkb = {
      len: need("sk_buff", "len"),
      dataLen: need("sk_buff", "data_len"),
      data: need("sk_buff", "data"),
      head: need("sk_buff", "head"),
      macHeader: need("sk_buff", "mac_header"),
      networkHeader: need("sk_buff", "network_header"),
      protocol: need("sk_buff", "protocol"),
      dev: need("sk_buff", "dev"),
      devIfindex: need("net_device", "ifindex"),
    };
  } catch {
    cachedSkb = null;
  }
  return cachedSkb;
}
