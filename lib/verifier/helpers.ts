/**
 * Helpers: which ids each program type may call (its get_func_proto, as seen by a root loader on
 * Linux 6.18; tests/verifier/helpers.test.ts checks the table against the running kernel), and the
 * prototypes (struct bpf_func_proto, reduced to what the checks need) of the helpers the emulator
 * models. A helper that is available but not modelled is reported as unsupported, not guessed.
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
}


export const HELPER_PROTOS: ReadonlyMap<number, HelperProto> = new Map<number, HelperProto>([
  [1, { args: ["map_ptr", "map_key"], ret: "map_value_or_null" }], // map_lookup_elem
  [2, { args: ["map_ptr", "map_key", "map_value", "anything"], ret: "integer" }], // map_update_elem
  [3, { args: ["map_ptr", "map_key"], ret: "integer" }], // map_delete_elem
  [5, { args: [], ret: "integer" }], // ktime_get_ns
  [7, { args: [], ret: "integer" }], // get_prandom_u32
  [14, { args: [], ret: "integer" }], // get_current_pid_tgid
  [26, { args: ["ctx", "anything", "uninit_mem", "const_size"], ret: "integer" }], // skb_load_bytes
  [112, { args: ["uninit_mem", "const_size_or_zero", "anything"], ret: "integer" }], // probe_read_user
  [113, { args: ["uninit_mem", "const_size_or_zero", "anything"], ret: "integer" }], // probe_read_kernel
  [125, { args: [], ret: "integer" }], // ktime_get_boot_ns
  [130, { args: ["map_ptr", "ro_mem", "const_size_or_zero", "anything"], ret: "integer" }], // ringbuf_output
  [131, { args: ["map_ptr", "const_alloc_size_or_zero", "anything"], ret: "ringbuf_mem_or_null" }], // ringbuf_reserve
  [132, { args: ["ringbuf_mem_release", "anything"], ret: "void" }], // ringbuf_submit
  [133, { args: ["ringbuf_mem_release", "anything"], ret: "void" }], // ringbuf_discard
  [189, { args: ["ctx", "anything", "uninit_mem", "const_size"], ret: "integer" }], // xdp_load_bytes
]);

/** Inclusive id ranges available per program type (root, Linux 6.18). */
const AVAILABLE: Readonly<Record<ProgType, readonly [number, number][]>> = {
  socket: [[1, 3], [5, 8], [12, 12], [14, 17], [22, 22], [25, 26], [35, 35], [37, 37], [42, 42], [46, 47], [55, 55], [68, 68], [80, 80], [87, 89], [93, 94], [105, 106], [109, 109], [112, 115], [117, 118], [120, 120], [122, 123], [125, 125], [130, 134], [136, 141], [148, 149], [153, 154], [156, 158], [160, 160], [164, 165], [169, 172], [175, 178], [180, 182], [191, 191], [194, 203], [208, 211]],
  tc: [[1, 3], [5, 26], [28, 35], [37, 43], [46, 48], [50, 50], [55, 55], [66, 66], [68, 69], [79, 80], [83, 89], [93, 100], [105, 110], [112, 115], [117, 118], [120, 120], [122, 125], [130, 141], [148, 149], [151, 158], [160, 160], [163, 165], [169, 172], [175, 178], [180, 182], [191, 192], [194, 211]],
  xdp: [[1, 3], [5, 8], [12, 12], [14, 17], [22, 23], [25, 25], [28, 28], [35, 35], [37, 37], [42, 42], [44, 44], [51, 51], [54, 55], [65, 65], [69, 69], [80, 80], [84, 89], [93, 94], [99, 100], [105, 106], [109, 110], [112, 115], [117, 118], [120, 120], [123, 123], [125, 125], [130, 134], [136, 141], [148, 149], [153, 154], [156, 158], [160, 160], [163, 165], [169, 172], [175, 178], [180, 182], [188, 191], [194, 211]],
  kprobe: [[1, 8], [12, 12], [14, 17], [22, 22], [25, 25], [27, 27], [35, 35], [37, 37], [42, 42], [45, 45], [55, 55], [67, 67], [80, 80], [87, 89], [93, 94], [105, 106], [109, 109], [112, 115], [117, 118], [120, 120], [123, 123], [125, 125], [130, 134], [141, 141], [148, 149], [153, 154], [156, 158], [164, 165], [169, 177], [180, 182], [191, 191], [194, 195], [197, 203], [208, 211]],
};

export function helperAvailable(progType: ProgType, id: number): boolean {
  return AVAILABLE[progType].some(([a, b]) => id >= a && id <= b);
}
