/**
 * Helpers: which ids each program type may call (its get_func_proto, as seen by a root loader on
 * Linux 6.18; tests/verifier/helpers.test.ts checks the table against the running kernel), and the
 * prototypes (struct bpf_func_proto, reduced to what the checks need) of the helpers the emulator
 * models. A helper that is available but not modelled is reported as unsupported, not guessed.
 */
import { HELPER_ID_BY_NAME } from "../ebpf/opcodes";
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

/**
 * Helpers that run a callback before they return (the kernel's is_sync_callback_calling_function).
 * The callback may run any number of times, so the kernel's CFG gives the call an edge back to
 * itself: each such call is a loop of its own and gets a loop (SCC) number in the Live regs listing.
 */
export const SYNC_CALLBACK_HELPERS: ReadonlySet<number> = new Set(
  ["bpf_for_each_map_elem", "bpf_find_vma", "bpf_loop", "bpf_user_ringbuf_drain"].map((name) => HELPER_ID_BY_NAME.get(name)!),
);

export function helperAvailable(progType: ProgType, id: number): boolean {
  return AVAILABLE[progType].some(([a, b]) => id >= a && id <= b);
}

/**
 * How many argument registers each helper reads, for the liveness pass (compute_live_registers
 * counts a prototype's arguments). Taken from the 6.18 kernel's own `Live regs` output; the only
 * helper whose count depends on the program type is bpf_get_cgroup_classid (tc passes the skb).
 */
const ARG_COUNTS: ReadonlyMap<number, number> = new Map(
  (
    [
      [0, [5, 7, 8, 14, 15, 17, 35, 42, 80, 118, 125, 158, 160, 208]],
      [1, [19, 24, 34, 41, 46, 47, 79, 86, 93, 94, 95, 96, 97, 98, 109, 117, 122, 123, 136, 137, 138, 139, 140, 151, 154, 172, 173, 174, 175, 178, 188, 196]],
      [2, [1, 3, 6, 16, 22, 23, 32, 37, 39, 40, 44, 48, 54, 65, 83, 88, 89, 108, 132, 133, 134, 135, 153, 155, 157, 170, 176, 194, 199, 200, 206, 207, 211]],
      [3, [4, 12, 13, 18, 27, 29, 30, 31, 33, 38, 43, 45, 51, 87, 112, 113, 114, 115, 124, 131, 148, 169, 171, 182, 192, 195, 203, 204, 205]],
      [4, [2, 20, 21, 26, 50, 55, 67, 69, 105, 106, 107, 120, 130, 141, 152, 156, 164, 177, 181, 189, 190, 197, 198, 209, 210]],
      [5, [9, 10, 11, 25, 28, 66, 68, 84, 85, 99, 100, 110, 149, 163, 165, 180, 191, 201, 202]],
    ] as [number, number[]][]
  ).flatMap(([n, ids]) => ids.map((id): [number, number] => [id, n])),
);

/** Argument registers a helper call reads (r1..rN); helpers the type lacks count as all five. */
export function helperArgCount(progType: ProgType, id: number): number {
  // Without a prototype for this program type the kernel assumes all five.
  if (!helperAvailable(progType, id)) return 5;
  if (id === 17 && progType === "tc") return 1;
  return ARG_COUNTS.get(id) ?? 5;
}
