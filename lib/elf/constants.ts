/**
 * ELF constants a BPF object uses (the System V gABI and include/uapi/linux/elf.h), as named
 * tables so readers hand out names and writers take names back.
 */

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const; // "\x7fELF"
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ET_REL = 1;
export const EM_BPF = 247;
export const EHDR_SIZE = 64;
export const SHDR_SIZE = 64;
export const SYM_SIZE = 24;
export const REL_SIZE = 16;

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const SHT = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, HASH: 5, DYNAMIC: 6, NOTE: 7, NOBITS: 8, REL: 9,
  SYMTAB_SHNDX: 18, LLVM_ADDRSIG: 0x6fff4c03,
} as const;

export const SHF = { WRITE: 0x1n, ALLOC: 0x2n, EXECINSTR: 0x4n, MERGE: 0x10n, STRINGS: 0x20n, INFO_LINK: 0x40n } as const;

/** Symbol bindings and types a BPF object carries; anything else is refused by the reader. */
export const SYMBOL_BINDS = ["LOCAL", "GLOBAL", "WEAK"] as const;
export type SymbolBind = (typeof SYMBOL_BINDS)[number];
export const SYMBOL_TYPES = ["NOTYPE", "OBJECT", "FUNC", "SECTION", "FILE", "COMMON", "TLS"] as const;
export type SymbolType = (typeof SYMBOL_TYPES)[number];
export const SYMBOL_VISIBILITIES = ["DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED"] as const;
export type SymbolVisibility = (typeof SYMBOL_VISIBILITIES)[number];

/** BPF relocation types (llvm's BPF ELF relocations; libbpf `bpf_object__collect_prog_relos`). */
export const BPF_RELOCATION_TYPES = {
  R_BPF_NONE: 0,
  /** ld_imm64 of a map or global variable: the 64-bit immediate across both slots. */
  R_BPF_64_64: 1,
  R_BPF_64_ABS64: 2,
  R_BPF_64_ABS32: 3,
  R_BPF_64_NODYLD32: 4,
  /** A call (pseudo-call to a function, or a kfunc / extern call). */
  R_BPF_64_32: 10,
} as const;
export type BpfRelocationType = keyof typeof BPF_RELOCATION_TYPES;

/** bpf_map_type names as bpftool prints them (include/uapi/linux/bpf.h enum bpf_map_type). */
export const BPF_MAP_TYPE_NAMES = [
  "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace",
  "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "devmap", "sockmap",
  "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
  "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage", "bloom_filter",
  "user_ringbuf", "cgrp_storage", "arena",
] as const;

/** A section type's name as readelf prints it (the number in hex when it is not one of these). */
export function sectionTypeName(type: number): string {
  for (const [name, value] of Object.entries(SHT)) if (value === type) return name;
  return `0x${type.toString(16)}`;
}
