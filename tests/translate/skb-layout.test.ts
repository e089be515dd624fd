/**
 * The kprobe target's default `struct sk_buff` offsets are this machine's: read here from the
 * running kernel's BTF (/sys/kernel/btf/vmlinux) with a small BTF reader, and compared with the
 * defaults the translator uses (SKB_LAYOUT_6_18_X86_64). Also the pt_regs offset of the first
 * argument (`di`) and net_device->ifindex (NET_DEVICE_IFINDEX_6_18_X86_64). The same values
 * are what `bpftool btf dump file /sys/kernel/btf/vmlinux` shows for these structs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NET_DEVICE_IFINDEX_6_18_X86_64, SKB_LAYOUT_6_18_X86_64 } from "../../lib/ebpf";
import { PT_REGS_DI } from "../../lib/translate";
import { SKB_PKT_TYPE_MASK } from "../../lib/translate/ancillary";
import { requires, VMLINUX_BTF as VMLINUX } from "../support/requires";

const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 } as const;

interface BtfMember {
  name: string;
  type: number;
  /** Offset in bits from the start of the enclosing struct. */
  bitOffset: number;
  bitSize: number;
}

interface BtfType {
  kind: number;
  name: string;
  /** size for structs/unions/ints, referenced type for modifiers and pointers. */
  sizeOrType: number;
  members: BtfMember[];
}

/** Parses the type section of a BTF blob (include/uapi/linux/btf.h). Type ids start at 1. */
function parseBtf(buf: Uint8Array): BtfType[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (v.getUint16(0, true) !== 0xeb9f) throw new Error("not BTF (bad magic)");
  const hdrLen = v.getUint32(4, true);
  const typeOff = hdrLen + v.getUint32(8, true);
  const typeEnd = typeOff + v.getUint32(12, true);
  const strOff = hdrLen + v.getUint32(16, true);
  const str = (off: number) => {
    let end = strOff + off;
    while (buf[end] !== 0) end++;
    return new TextDecoder().decode(buf.subarray(strOff + off, end));
  };
  const types: BtfType[] = [{ kind: 0, name: "void", sizeOrType: 0, members: [] }];
  let p = typeOff;
  while (p < typeEnd) {
    const nameOff = v.getUint32(p, true);
    const info = v.getUint32(p + 4, true);
    const sizeOrType = v.getUint32(p + 8, true);
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kindFlag = info >>> 31 === 1;
    p += 12;
    const members: BtfMember[] = [];
    switch (kind) {
      case KIND.INT:
      case KIND.VAR:
      case KIND.DECL_TAG:
        p += 4;
        break;
      case KIND.ARRAY:
        p += 12;
        break;
      case KIND.STRUCT:
      case KIND.UNION:
        for (let i = 0; i < vlen; i++, p += 12) {
          const off = v.getUint32(p + 8, true);
          members.push({
            name: str(v.getUint32(p, true)),
            type: v.getUint32(p + 4, true),
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitSize: kindFlag ? off >>> 24 : 0,
          });
        }
        break;
      case KIND.ENUM:
      case KIND.FUNC_PROTO:
        p += 8 * vlen;
        break;
      case KIND.DATASEC:
      case KIND.ENUM64:
        p += 12 * vlen;
        break;
      default:
        break; // PTR, FWD, TYPEDEF, modifiers, FUNC, FLOAT, TYPE_TAG: no extra data
    }
    types.push({ kind, name: str(nameOff), sizeOrType, members });
  }
  return types;
}

/** Field name -> bit offset, looking through anonymous structs and unions. */
function fieldOffsets(types: BtfType[], id: number, base = 0, out = new Map<string, { bit: number; bits: number }>()) {
  const t = types[id]!;
  for (const m of t.members) {
    let mt = m.type;
    while ([KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.TYPE_TAG].includes(types[mt]!.kind as 8)) mt = types[mt]!.sizeOrType;
    if (m.name === "" && (types[mt]!.kind === KIND.STRUCT || types[mt]!.kind === KIND.UNION)) fieldOffsets(types, mt, base + m.bitOffset, out);
    else if (m.name !== "" && !out.has(m.name)) out.set(m.name, { bit: base + m.bitOffset, bits: m.bitSize });
  }
  return out;
}

describe.skipIf(!requires("sk_buff offsets from BTF", "btf"))("struct sk_buff offsets from this kernel's BTF", () => {
  const types = parseBtf(new Uint8Array(readFileSync(VMLINUX)));

  it("match the translator's defaults", () => {
    const skbId = types.findIndex((t) => t.kind === KIND.STRUCT && t.name === "sk_buff");
    expect(skbId).toBeGreaterThan(0);
    const f = fieldOffsets(types, skbId);
    const byte = (name: string) => {
      const o = f.get(name);
      if (!o) throw new Error(`sk_buff has no field ${name}`);
      return Math.floor(o.bit / 8);
    };
    const L = SKB_LAYOUT_6_18_X86_64;
    expect({
      size: types[skbId]!.sizeOrType,
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
    expect(f.get("pkt_type")!.bits).toBe(3);
    expect(f.get("pkt_type")!.bit % 8).toBe(0);
    expect(SKB_PKT_TYPE_MASK).toBe((1 << f.get("pkt_type")!.bits) - 1);
  });

  it("net_device->ifindex (SKF_AD_IFINDEX is skb->dev->ifindex) is at the offset the kprobe target reads", () => {
    const id = types.findIndex((t) => t.kind === KIND.STRUCT && t.name === "net_device");
    expect(id).toBeGreaterThan(0);
    const o = fieldOffsets(types, id).get("ifindex")!;
    expect(o.bit % 8).toBe(0);
    expect(o.bit / 8).toBe(NET_DEVICE_IFINDEX_6_18_X86_64);
  });

  it("pt_regs->di (the first argument) is at the offset the kprobe prologue reads", () => {
    const id = types.findIndex((t) => t.kind === KIND.STRUCT && t.name === "pt_regs");
    expect(Math.floor(fieldOffsets(types, id).get("di")!.bit / 8)).toBe(PT_REGS_DI);
  });
});
