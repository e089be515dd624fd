/**
 * The kprobe target's default `struct sk_buff` offsets are this machine's: read here from the
 * running kernel's BTF (/sys/kernel/btf/vmlinux) with lib/btf (the project's one BTF reader), and compared with the
 * defaults the translator uses (SKB_LAYOUT_6_18_X86_64). Also the pt_regs offset of the first
 * argument (`di`) and net_device->ifindex (NET_DEVICE_IFINDEX_6_18_X86_64). The same values
 * are what `bpftool btf dump file /sys/kernel/btf/vmlinux` shows for these structs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Btf, type FieldLocation } from "../../lib/btf";
import { NET_DEVICE_IFINDEX_6_18_X86_64, SKB_LAYOUT_6_18_X86_64 } from "../../lib/ebpf";
import { PT_REGS_DI } from "../../lib/translate";
import { SKB_PKT_TYPE_MASK } from "../../lib/translate/ancillary";
import { requires, VMLINUX_BTF } from "../support/requires";

/** The running kernel's BTF, when it has one (otherwise `requires` warns, and fails on CI). */
const vmlinux = requires("struct sk_buff offsets from this kernel's BTF", "btf") ? new Btf(new Uint8Array(readFileSync(VMLINUX_BTF))) : undefined;

/** A field's location, which must exist. */
function field(btf: Btf, struct: string, name: string): FieldLocation {
  const f = btf.field(struct, name);
  if (!f) throw new Error(`${struct} has no field ${name}`);
  return f;
}

describe.skipIf(!vmlinux)("struct sk_buff offsets from this kernel's BTF", () => {
  const btf = (): Btf => vmlinux!;

  it("match the translator's defaults", () => {
    const byte = (name: string) => field(btf(), "sk_buff", name).offset;
    const L = SKB_LAYOUT_6_18_X86_64;
    expect({
      size: btf().structSize("sk_buff"),
      len: byte("len"),
      data_len: byte("data_len"),
      mac_len: byte("mac_len"),
      queue_mapping: byte("queue_mapping"),
      pkt_type: byte("pkt_type"),
      dev: byte("dev"),
      priority: byte("priority"),
      hash: byte("hash"),
      vlan_proto: byte("vlan_proto"),
      vlan_tci: byte("vlan_tci"),
      mark: byte("mark"),
      protocol: byte("protocol"),
      transport_header: byte("transport_header"),
      network_header: byte("network_header"),
      mac_header: byte("mac_header"),
      tail: byte("tail"),
      end: byte("end"),
      head: byte("head"),
      data: byte("data"),
    }).toEqual({ ...L });
    // pkt_type is a 3-bit field in the low bits of its byte: the kprobe target reads that byte
    // and masks it with SKB_PKT_TYPE_MASK (no shift).
    const pktType = field(btf(), "sk_buff", "pkt_type");
    expect(pktType.bitSize).toBe(3);
    expect(pktType.bitOffset % 8).toBe(0);
    expect(SKB_PKT_TYPE_MASK).toBe((1 << pktType.bitSize!) - 1);
  });

  it("net_device->ifindex (SKF_AD_IFINDEX is skb->dev->ifindex) is at the offset the kprobe target reads", () => {
    const o = field(btf(), "net_device", "ifindex");
    expect(o.bitOffset % 8).toBe(0);
    expect(o.offset).toBe(NET_DEVICE_IFINDEX_6_18_X86_64);
  });

  it("pt_regs->di (the first argument) is at the offset the kprobe prologue reads", () => {
    expect(field(btf(), "pt_regs", "di").offset).toBe(PT_REGS_DI);
  });
});
