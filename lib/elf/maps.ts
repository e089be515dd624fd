/**
 * BTF-defined maps: the `struct { __uint(type, …); __type(key, …); … } name SEC(".maps")`
 * declarations of libbpf. Each map is a symbol in the .maps section and a VAR of the ".maps"
 * DATASEC; the VAR's struct encodes every attribute in its member types (libbpf bpf_helpers.h):
 *   __uint(attr, N)  -> a member of type `int (*)[N]`: pointer to an array of N elements
 *   __type(attr, T)  -> a member of type `T *`
 * (In the object file the DATASEC's offsets are 0: libbpf fills them in when it loads, so the
 * symbol, not the DATASEC, says where each map sits.)
 */
import type { Btf } from "../btf";
import { PlaygroundError } from "../errors";
import { BPF_MAP_TYPE_NAMES } from "./constants";
import type { ElfFile } from "./file";
import type { SymbolTable } from "./symbols";

export interface BtfMap {
  readonly name: string;
  /** The map's symbol in the symbol table. */
  readonly symbol: number;
  /** Byte offset in .maps (the symbol's value). */
  readonly offset: number;
  /** bpf_map_type number, and its name as bpftool prints it (undefined for a number it does not know). */
  readonly type: number;
  readonly typeName: string | undefined;
  readonly maxEntries?: number;
  readonly flags?: number;
  readonly keySize?: number;
  readonly valueSize?: number;
  /** BTF ids of the key and value types, when given by __type. */
  readonly keyType?: number;
  readonly valueType?: number;
  readonly pinning?: number;
  readonly numaNode?: number;
  readonly mapExtra?: number;
  /** Members this reader does not interpret (e.g. `values` of a map-in-map), by name. */
  readonly other: readonly string[];
}

const UINT_ATTRS = {
  type: "type", max_entries: "maxEntries", map_flags: "flags", key_size: "keySize", value_size: "valueSize",
  pinning: "pinning", numa_node: "numaNode", map_extra: "mapExtra",
} as const;

export function readBtfMaps(elf: ElfFile, symtab: SymbolTable | null, btf: Btf | null): BtfMap[] {
  const section = elf.sections.find((s) => s.header.name === ".maps");
  if (!section) return [];
  const where = { kind: "byte" as const, offset: section.fileOffset ?? 0 };
  if (!btf) throw new PlaygroundError("elf/maps", "the object has a .maps section but no .BTF to describe it", where);
  if (!symtab) throw new PlaygroundError("elf/maps", "the object has a .maps section but no symbol table", where);
  const datasec = btf.named(".maps", "DATASEC")[0];
  if (!datasec) throw new PlaygroundError("elf/maps", "BTF has no .maps DATASEC for the .maps section", where);
  const maps: BtfMap[] = [];
  for (const v of datasec.vars) {
    const variable = btf.typeOf(v.type, "VAR");
    if (!variable) throw new PlaygroundError("elf/maps", `.maps DATASEC entry [${v.type}] is not a VAR`, where);
    const sym = symtab.symbols.find((s) => s.name === variable.name && s.section.kind === "section" && s.section.index === section.index);
    if (!sym) throw new PlaygroundError("elf/maps", `map ${variable.name} has no symbol in .maps`, where);
    const at = { kind: "byte" as const, offset: (section.fileOffset ?? 0) + Number(sym.value) };
    const def = btf.typeOf(btf.resolve(variable.type), "STRUCT");
    if (!def) throw new PlaygroundError("elf/maps", `map ${variable.name}: its type is not a struct`, at);
    const attrs: Record<string, number> = {};
    const other: string[] = [];
    for (const m of def.members) {
      const ptr = btf.typeOf(btf.resolve(m.type), "PTR");
      if (m.name in UINT_ATTRS) {
        const arr = ptr ? btf.typeOf(btf.resolve(ptr.type), "ARRAY") : null;
        if (!arr) throw new PlaygroundError("elf/maps", `map ${variable.name}: member ${m.name} is not an __uint (pointer to array)`, at);
        attrs[UINT_ATTRS[m.name as keyof typeof UINT_ATTRS]] = arr.nelems;
      } else if (m.name === "key" || m.name === "value") {
        if (!ptr) throw new PlaygroundError("elf/maps", `map ${variable.name}: member ${m.name} is not a __type (pointer)`, at);
        attrs[`${m.name}Type`] = ptr.type;
        attrs[`${m.name}Size`] ??= btf.sizeOf(ptr.type);
      } else other.push(m.name);
    }
    if (attrs.type === undefined) throw new PlaygroundError("elf/maps", `map ${variable.name} has no type`, at);
    maps.push({ name: variable.name, symbol: sym.index, offset: Number(sym.value), typeName: BPF_MAP_TYPE_NAMES[attrs.type], other, ...attrs } as unknown as BtfMap);
  }
  return maps;
}
