/**
 * eBPF opcode vocabulary (include/uapi/linux/bpf.h, bpf_common.h). Numbers only; no behaviour.
 *
 * An opcode byte is `class | size | mode` for loads and stores and `class | op | source` for
 * ALU and jumps. The helpers at the bottom split a byte back into those parts.
 */

// ---- instruction classes (low 3 bits) ----
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// ---- sizes (bits 3-4) ----
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// ---- modes (bits 5-7) ----
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80; // sign-extending load (LDX only)
export const BPF_ATOMIC = 0xc0; // STX only; the operation lives in imm

// ---- source (bit 3) ----
export const BPF_K = 0x00;
export const BPF_X = 0x08;
/** BPF_END direction, sharing the source bit. */
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// ---- ALU operations (bits 4-7) ----
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// ---- jump operations (bits 4-7) ----
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
export const BPF_JCOND = 0xe0; // may_goto (src_reg = BPF_MAY_GOTO)
export const BPF_MAY_GOTO = 0;

// ---- atomic operations (imm of a BPF_STX | BPF_ATOMIC instruction) ----
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;

// ---- `off` variants of ALU instructions ----
/** off = 1 turns DIV/MOD into signed division/modulo. */
export const BPF_OFF_SIGNED = 1;
/** `r = addr_space_cast(...)`: ALU64 MOV X with off = 1. */
export const BPF_ADDR_SPACE_CAST = 1;

// ---- pseudo src_reg values ----
/** ld_imm64: imm is a map fd. */
export const BPF_PSEUDO_MAP_FD = 1;
/** ld_imm64: imm is a map fd, the second imm an offset into its value. */
export const BPF_PSEUDO_MAP_VALUE = 2;
/** ld_imm64: imm is a BTF id of a kernel variable. */
export const BPF_PSEUDO_BTF_ID = 3;
/** ld_imm64: imm is a pc-relative offset of a subprogram (a function pointer). */
export const BPF_PSEUDO_FUNC = 4;
/** ld_imm64: imm is an index into fd_array. */
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;
/** call: imm is a pc-relative offset of a subprogram (bpf-to-bpf call). */
export const BPF_PSEUDO_CALL = 1;
/** call: imm is a BTF id of a kernel function. */
export const BPF_PSEUDO_KFUNC_CALL = 2;

// ---- composite opcodes used often enough to name ----
export const OP_LD_IMM64 = BPF_LD | BPF_IMM | BPF_DW; // 0x18
export const OP_CALL = BPF_JMP | BPF_CALL; // 0x85
export const OP_EXIT = BPF_JMP | BPF_EXIT; // 0x95
export const OP_JA = BPF_JMP | BPF_JA; // 0x05
export const OP_GOTOL = BPF_JMP32 | BPF_JA; // 0x06

// ---- field extraction ----
export const opClass = (code: number): number => code & 0x07;
export const opSize = (code: number): number => code & 0x18;
export const opMode = (code: number): number => code & 0xe0;
export const opSource = (code: number): number => code & 0x08;
export const opAluOp = (code: number): number => code & 0xf0;
export const opJmpOp = (code: number): number => code & 0xf0;

export const isAluClass = (code: number): boolean => {
  const c = code & 0x07;
  return c === BPF_ALU || c === BPF_ALU64;
};
export const isJmpClass = (code: number): boolean => {
  const c = code & 0x07;
  return c === BPF_JMP || c === BPF_JMP32;
};

/** Bytes moved by a load/store of the given size bits. */
export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size & 0x18) {
    case BPF_B:
      return 1;
    case BPF_H:
      return 2;
    case BPF_W:
      return 4;
    default:
      return 8;
  }
}

// ---- symbolic names used by the builders ----
export type SizeName = "u8" | "u16" | "u32" | "u64";
export const SIZE_BY_NAME: Readonly<Record<SizeName, number>> = {
  u8: BPF_B,
  u16: BPF_H,
  u32: BPF_W,
  u64: BPF_DW,
};

export type AluOpName =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "sdiv"
  | "or"
  | "and"
  | "lsh"
  | "rsh"
  | "mod"
  | "smod"
  | "xor"
  | "mov"
  | "arsh";

/** Opcode bits and `off` for each ALU operation name (sdiv/smod are DIV/MOD with off = 1). */
export const ALU_OP_BY_NAME: Readonly<Record<AluOpName, { op: number; off: number }>> = {
  add: { op: BPF_ADD, off: 0 },
  sub: { op: BPF_SUB, off: 0 },
  mul: { op: BPF_MUL, off: 0 },
  div: { op: BPF_DIV, off: 0 },
  sdiv: { op: BPF_DIV, off: 1 },
  or: { op: BPF_OR, off: 0 },
  and: { op: BPF_AND, off: 0 },
  lsh: { op: BPF_LSH, off: 0 },
  rsh: { op: BPF_RSH, off: 0 },
  mod: { op: BPF_MOD, off: 0 },
  smod: { op: BPF_MOD, off: 1 },
  xor: { op: BPF_XOR, off: 0 },
  mov: { op: BPF_MOV, off: 0 },
  arsh: { op: BPF_ARSH, off: 0 },
};

export type JmpOpName =
  | "jeq"
  | "jgt"
  | "jge"
  | "jset"
  | "jne"
  | "jsgt"
  | "jsge"
  | "jlt"
  | "jle"
  | "jslt"
  | "jsle";

export const JMP_OP_BY_NAME: Readonly<Record<JmpOpName, number>> = {
  jeq: BPF_JEQ,
  jgt: BPF_JGT,
  jge: BPF_JGE,
  jset: BPF_JSET,
  jne: BPF_JNE,
  jsgt: BPF_JSGT,
  jsge: BPF_JSGE,
  jlt: BPF_JLT,
  jle: BPF_JLE,
  jslt: BPF_JSLT,
  jsle: BPF_JSLE,
};

/** The logical negation of each conditional jump (jset has none). */
export const JMP_INVERSE: Readonly<Partial<Record<JmpOpName, JmpOpName>>> = {
  jeq: "jne",
  jne: "jeq",
  jgt: "jle",
  jle: "jgt",
  jge: "jlt",
  jlt: "jge",
  jsgt: "jsle",
  jsle: "jsgt",
  jsge: "jslt",
  jslt: "jsge",
};

export type AtomicOpName = "add" | "and" | "or" | "xor" | "fetch_add" | "fetch_and" | "fetch_or" | "fetch_xor" | "xchg" | "cmpxchg";
export const ATOMIC_OP_BY_NAME: Readonly<Record<AtomicOpName, number>> = {
  add: BPF_ADD,
  and: BPF_AND,
  or: BPF_OR,
  xor: BPF_XOR,
  fetch_add: BPF_ADD | BPF_FETCH,
  fetch_and: BPF_AND | BPF_FETCH,
  fetch_or: BPF_OR | BPF_FETCH,
  fetch_xor: BPF_XOR | BPF_FETCH,
  xchg: BPF_XCHG,
  cmpxchg: BPF_CMPXCHG,
};

// ---- registers ----
/** A register number as it appears in an instruction nibble (0..10 valid, 11..15 decodable). */
export type RegNo = number;
export type RegName = "r0" | "r1" | "r2" | "r3" | "r4" | "r5" | "r6" | "r7" | "r8" | "r9" | "r10";
export const REG_NAMES: readonly RegName[] = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"];
/** Frame pointer (read-only). */
export const BPF_REG_FP = 10;
export const MAX_BPF_REG = 11;
/** Bytes of stack below r10. */
export const MAX_BPF_STACK = 512;

export function regNo(name: RegName): number {
  return REG_NAMES.indexOf(name);
}

// ---- program types (the few the playground loads) ----
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_PROG_TYPE_KPROBE = 2;
export const BPF_PROG_TYPE_SCHED_CLS = 3;
export const BPF_PROG_TYPE_XDP = 6;

// ---- helpers ----
/**
 * Helper function names by id, in the order of ___BPF_FUNC_MAPPER (include/uapi/linux/bpf.h).
 * The kernel prints a helper call as `call bpf_<name>#<id>`. The list ends at 211
 * (cgrp_storage_delete): helpers are frozen, new functionality comes as kfuncs.
 */
const HELPER_NAMES: readonly string[] = [
  "unspec", "map_lookup_elem", "map_update_elem", "map_delete_elem", "probe_read", "ktime_get_ns",
  "trace_printk", "get_prandom_u32", "get_smp_processor_id", "skb_store_bytes", "l3_csum_replace", "l4_csum_replace",
  "tail_call", "clone_redirect", "get_current_pid_tgid", "get_current_uid_gid", "get_current_comm", "get_cgroup_classid",
  "skb_vlan_push", "skb_vlan_pop", "skb_get_tunnel_key", "skb_set_tunnel_key", "perf_event_read", "redirect",
  "get_route_realm", "perf_event_output", "skb_load_bytes", "get_stackid", "csum_diff", "skb_get_tunnel_opt",
  "skb_set_tunnel_opt", "skb_change_proto", "skb_change_type", "skb_under_cgroup", "get_hash_recalc", "get_current_task",
  "probe_write_user", "current_task_under_cgroup", "skb_change_tail", "skb_pull_data", "csum_update", "set_hash_invalid",
  "get_numa_node_id", "skb_change_head", "xdp_adjust_head", "probe_read_str", "get_socket_cookie", "get_socket_uid",
  "set_hash", "setsockopt", "skb_adjust_room", "redirect_map", "sk_redirect_map", "sock_map_update",
  "xdp_adjust_meta", "perf_event_read_value", "perf_prog_read_value", "getsockopt", "override_return", "sock_ops_cb_flags_set",
  "msg_redirect_map", "msg_apply_bytes", "msg_cork_bytes", "msg_pull_data", "bind", "xdp_adjust_tail",
  "skb_get_xfrm_state", "get_stack", "skb_load_bytes_relative", "fib_lookup", "sock_hash_update", "msg_redirect_hash",
  "sk_redirect_hash", "lwt_push_encap", "lwt_seg6_store_bytes", "lwt_seg6_adjust_srh", "lwt_seg6_action", "rc_repeat",
  "rc_keydown", "skb_cgroup_id", "get_current_cgroup_id", "get_local_storage", "sk_select_reuseport", "skb_ancestor_cgroup_id",
  "sk_lookup_tcp", "sk_lookup_udp", "sk_release", "map_push_elem", "map_pop_elem", "map_peek_elem",
  "msg_push_data", "msg_pop_data", "rc_pointer_rel", "spin_lock", "spin_unlock", "sk_fullsock",
  "tcp_sock", "skb_ecn_set_ce", "get_listener_sock", "skc_lookup_tcp", "tcp_check_syncookie", "sysctl_get_name",
  "sysctl_get_current_value", "sysctl_get_new_value", "sysctl_set_new_value", "strtol", "strtoul", "sk_storage_get",
  "sk_storage_delete", "send_signal", "tcp_gen_syncookie", "skb_output", "probe_read_user", "probe_read_kernel",
  "probe_read_user_str", "probe_read_kernel_str", "tcp_send_ack", "send_signal_thread", "jiffies64", "read_branch_records",
  "get_ns_current_pid_tgid", "xdp_output", "get_netns_cookie", "get_current_ancestor_cgroup_id", "sk_assign", "ktime_get_boot_ns",
  "seq_printf", "seq_write", "sk_cgroup_id", "sk_ancestor_cgroup_id", "ringbuf_output", "ringbuf_reserve",
  "ringbuf_submit", "ringbuf_discard", "ringbuf_query", "csum_level", "skc_to_tcp6_sock", "skc_to_tcp_sock",
  "skc_to_tcp_timewait_sock", "skc_to_tcp_request_sock", "skc_to_udp6_sock", "get_task_stack", "load_hdr_opt", "store_hdr_opt",
  "reserve_hdr_opt", "inode_storage_get", "inode_storage_delete", "d_path", "copy_from_user", "snprintf_btf",
  "seq_printf_btf", "skb_cgroup_classid", "redirect_neigh", "per_cpu_ptr", "this_cpu_ptr", "redirect_peer",
  "task_storage_get", "task_storage_delete", "get_current_task_btf", "bprm_opts_set", "ktime_get_coarse_ns", "ima_inode_hash",
  "sock_from_file", "check_mtu", "for_each_map_elem", "snprintf", "sys_bpf", "btf_find_by_name_kind",
  "sys_close", "timer_init", "timer_set_callback", "timer_start", "timer_cancel", "get_func_ip",
  "get_attach_cookie", "task_pt_regs", "get_branch_snapshot", "trace_vprintk", "skc_to_unix_sock", "kallsyms_lookup_name",
  "find_vma", "loop", "strncmp", "get_func_arg", "get_func_ret", "get_func_arg_cnt",
  "get_retval", "set_retval", "xdp_get_buff_len", "xdp_load_bytes", "xdp_store_bytes", "copy_from_user_task",
  "skb_set_tstamp", "ima_file_hash", "kptr_xchg", "map_lookup_percpu_elem", "skc_to_mptcp_sock", "dynptr_from_mem",
  "ringbuf_reserve_dynptr", "ringbuf_submit_dynptr", "ringbuf_discard_dynptr", "dynptr_read", "dynptr_write", "dynptr_data",
  "tcp_raw_gen_syncookie_ipv4", "tcp_raw_gen_syncookie_ipv6", "tcp_raw_check_syncookie_ipv4", "tcp_raw_check_syncookie_ipv6", "ktime_get_tai_ns", "user_ringbuf_drain",
  "cgrp_storage_get", "cgrp_storage_delete",
];

/** `HELPERS[id]` is the kernel's name for helper `id`, e.g. `HELPERS[26] === "bpf_skb_load_bytes"`. */
export const HELPERS: ReadonlyMap<number, string> = new Map(HELPER_NAMES.map((n, id) => [id, `bpf_${n}`]));
/** One past the last helper id the kernel knows (__BPF_FUNC_MAX_ID). */
export const BPF_FUNC_MAX_ID = HELPER_NAMES.length;
export const HELPER_ID_BY_NAME: ReadonlyMap<string, number> = new Map(HELPER_NAMES.map((n, id) => [`bpf_${n}`, id]));

// Helper ids the interpreter implements, named for call sites.
export const BPF_FUNC_ktime_get_ns = 5;
export const BPF_FUNC_trace_printk = 6;
export const BPF_FUNC_get_prandom_u32 = 7;
export const BPF_FUNC_skb_load_bytes = 26;
export const BPF_FUNC_probe_read_kernel = 113;

/** The kernel's `func_id_name`: the helper name, or "unknown". */
export function helperName(id: number): string {
  return HELPERS.get(id) ?? "unknown";
}
