/**
 * Helper prototypes the emulator knows (struct bpf_func_proto, reduced to what the checks need):
 * argument kinds, return kind and which program types may call them. Ids outside this table but
 * below __BPF_FUNC_MAX_ID are treated as "not available to this program type", as the kernel does
 * for helpers a type's get_func_proto does not list.
 */
import type { ProgType } from "./ctx";

export type ArgKind =
  | "ctx"
  | "anything"
  | "map_ptr"
  | "map_key"
  | "map_value"
  /** ARG_PTR_TO_UNINIT_MEM: written by the helper; its size is the next argument. */
  | "uninit_mem"
  /** ARG_PTR_TO_MEM | MEM_RDONLY: read by the helper; its size is the next argument. */
  | "ro_mem"
  | "const_size"
  | "const_size_or_zero"
  | "const_alloc_size_or_zero"
  | "ringbuf_mem_release";

export type RetKind = "integer" | "void" | "map_value_or_null" | "ringbuf_mem_or_null";

export interface HelperProto {
  readonly args: readonly ArgKind[];
  readonly ret: RetKind;
  readonly progTypes: readonly ProgType[];
}

const ALL: readonly ProgType[] = ["socket", "tc", "xdp", "kprobe"];
const SKB: readonly ProgType[] = ["socket", "tc"];

export const HELPER_PROTOS: ReadonlyMap<number, HelperProto> = new Map<number, HelperProto>([
  [1, { args: ["map_ptr", "map_key"], ret: "map_value_or_null", progTypes: ALL }], // map_lookup_elem
  [2, { args: ["map_ptr", "map_key", "map_value", "anything"], ret: "integer", progTypes: ALL }], // map_update_elem
  [3, { args: ["map_ptr", "map_key"], ret: "integer", progTypes: ALL }], // map_delete_elem
  [5, { args: [], ret: "integer", progTypes: ALL }], // ktime_get_ns
  [7, { args: [], ret: "integer", progTypes: ALL }], // get_prandom_u32
  [14, { args: [], ret: "integer", progTypes: ["kprobe"] }], // get_current_pid_tgid
  [26, { args: ["ctx", "anything", "uninit_mem", "const_size"], ret: "integer", progTypes: SKB }], // skb_load_bytes
  [112, { args: ["uninit_mem", "const_size_or_zero", "anything"], ret: "integer", progTypes: ALL }], // probe_read_user
  [113, { args: ["uninit_mem", "const_size_or_zero", "anything"], ret: "integer", progTypes: ALL }], // probe_read_kernel
  [125, { args: [], ret: "integer", progTypes: ALL }], // ktime_get_boot_ns
  [130, { args: ["map_ptr", "ro_mem", "const_size_or_zero", "anything"], ret: "integer", progTypes: ALL }], // ringbuf_output
  [131, { args: ["map_ptr", "const_alloc_size_or_zero", "anything"], ret: "ringbuf_mem_or_null", progTypes: ALL }], // ringbuf_reserve
  [132, { args: ["ringbuf_mem_release", "anything"], ret: "void", progTypes: ALL }], // ringbuf_submit
  [133, { args: ["ringbuf_mem_release", "anything"], ret: "void", progTypes: ALL }], // ringbuf_discard
  [189, { args: ["ctx", "anything", "uninit_mem", "const_size"], ret: "integer", progTypes: ["xdp"] }], // xdp_load_bytes
]);
