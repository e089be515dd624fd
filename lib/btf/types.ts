/**
 * BTF types as a discriminated union: each kind carries exactly the fields its record has
 * (Documentation/bpf/btf.rst, include/uapi/linux/btf.h). Type ids index `Btf.types`; id 0 is void.
 */

/** The kind numbers of the wire format, named as bpftool prints them. */
export const BTF_KINDS = [
  "UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE", "CONST", "RESTRICT",
  "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
] as const;
export type BtfKindName = Exclude<(typeof BTF_KINDS)[number], "UNKN">;

export type TypeId = number;

/** FUNC linkage (btf_func_linkage) and VAR linkage (btf_var_linkage) share their first values. */
export type FuncLinkage = "static" | "global" | "extern";
export type VarLinkage = "static" | "global" | "extern";

export interface BtfMember {
  readonly name: string;
  readonly type: TypeId;
  readonly bitOffset: number;
  /** Non-zero only for a bitfield (structs whose kind_flag is set). */
  readonly bitSize: number;
}

export interface BtfParam {
  readonly name: string;
  /** 0 with an empty name is the `...` of a variadic prototype. */
  readonly type: TypeId;
}

export interface BtfEnumValue {
  readonly name: string;
  readonly value: bigint;
}

export interface BtfVarSecinfo {
  readonly type: TypeId;
  readonly offset: number;
  readonly size: number;
}

interface Named {
  readonly id: TypeId;
  readonly name: string;
}

export type BtfType =
  | (Named & { readonly kind: "INT"; readonly size: number; readonly encoding: number; readonly bitOffset: number; readonly bits: number })
  | (Named & { readonly kind: "PTR" | "TYPEDEF" | "VOLATILE" | "CONST" | "RESTRICT" | "TYPE_TAG"; readonly type: TypeId })
  | (Named & { readonly kind: "ARRAY"; readonly elem: TypeId; readonly index: TypeId; readonly nelems: number })
  | (Named & { readonly kind: "STRUCT" | "UNION"; readonly size: number; readonly members: readonly BtfMember[] })
  | (Named & { readonly kind: "ENUM" | "ENUM64"; readonly size: number; readonly signed: boolean; readonly values: readonly BtfEnumValue[] })
  | (Named & { readonly kind: "FWD"; readonly union: boolean })
  | (Named & { readonly kind: "FUNC"; readonly type: TypeId; readonly linkage: FuncLinkage })
  | (Named & { readonly kind: "FUNC_PROTO"; readonly returns: TypeId; readonly params: readonly BtfParam[] })
  | (Named & { readonly kind: "VAR"; readonly type: TypeId; readonly linkage: VarLinkage })
  | (Named & { readonly kind: "DATASEC"; readonly size: number; readonly vars: readonly BtfVarSecinfo[] })
  | (Named & { readonly kind: "FLOAT"; readonly size: number })
  | (Named & { readonly kind: "DECL_TAG"; readonly type: TypeId; readonly componentIdx: number });

/** The variant of BtfType for one kind (variants shared by several kinds narrowed to that one). */
export type BtfTypeOf<K extends BtfKindName> = BtfType extends infer T
  ? T extends { readonly kind: infer Shared }
    ? K extends Shared
      ? T & { readonly kind: K }
      : never
    : never
  : never;
