/**
 * Hover documentation for eBPF as the kernel prints it (`(b7) r0 = 2`): the opcode byte decoded
 * field by field, every register's role, and the helpers translated filters call. Written for
 * this project from the ISA (Documentation/bpf/standardization/instruction-set.rst semantics).
 */

const CLASSES: Record<number, [string, string]> = {
  0x00: ["BPF_LD", "wide immediate loads (`ld_imm64`, two slots) and the legacy packet loads LD_ABS/LD_IND"],
  0x01: ["BPF_LDX", "load from memory into a register: `dst = *(size *)(src + off)`"],
  0x02: ["BPF_ST", "store an immediate: `*(size *)(dst + off) = imm`"],
  0x03: ["BPF_STX", "store a register (or an atomic operation): `*(size *)(dst + off) = src`"],
  0x04: ["BPF_ALU", "32-bit arithmetic on the low halves (`wN`); the result is zero-extended to 64 bits"],
  0x05: ["BPF_JMP", "64-bit comparisons and jumps, calls and exit"],
  0x06: ["BPF_JMP32", "jumps comparing the low 32 bits (`wN`)"],
  0x07: ["BPF_ALU64", "64-bit arithmetic (`rN`)"],
};

const ALU_OPS: Record<number, [string, string]> = {
  0x00: ["BPF_ADD", "dst += src"],
  0x10: ["BPF_SUB", "dst -= src"],
  0x20: ["BPF_MUL", "dst *= src"],
  0x30: ["BPF_DIV", "dst /= src (unsigned; off=1 signed); division by zero gives 0"],
  0x40: ["BPF_OR", "dst |= src"],
  0x50: ["BPF_AND", "dst &= src"],
  0x60: ["BPF_LSH", "dst <<= src (shift count masked to the width)"],
  0x70: ["BPF_RSH", "dst >>= src, logical"],
  0x80: ["BPF_NEG", "dst = -dst"],
  0x90: ["BPF_MOD", "dst %= src (unsigned; off=1 signed); modulo by zero leaves dst"],
  0xa0: ["BPF_XOR", "dst ^= src"],
  0xb0: ["BPF_MOV", "dst = src (off 8/16/32: sign-extending move)"],
  0xc0: ["BPF_ARSH", "dst >>= src, arithmetic (sign-filling)"],
  0xd0: ["BPF_END", "byte swap: `be16/be32/be64` convert from big-endian (network order) on this little-endian host"],
};

const JMP_OPS: Record<number, [string, string]> = {
  0x00: ["BPF_JA", "goto always (JMP32 class: 32-bit offset in imm, `gotol`)"],
  0x10: ["BPF_JEQ", "if dst == src"],
  0x20: ["BPF_JGT", "if dst > src (unsigned)"],
  0x30: ["BPF_JGE", "if dst >= src (unsigned)"],
  0x40: ["BPF_JSET", "if dst & src"],
  0x50: ["BPF_JNE", "if dst != src"],
  0x60: ["BPF_JSGT", "if dst > src (signed)"],
  0x70: ["BPF_JSGE", "if dst >= src (signed)"],
  0x80: ["BPF_CALL", "call a helper (imm = helper id), a bpf-to-bpf function (src=1) or a kfunc (src=2)"],
  0x90: ["BPF_EXIT", "return r0 to the caller"],
  0xa0: ["BPF_JLT", "if dst < src (unsigned)"],
  0xb0: ["BPF_JLE", "if dst <= src (unsigned)"],
  0xc0: ["BPF_JSLT", "if dst < src (signed)"],
  0xd0: ["BPF_JSLE", "if dst <= src (signed)"],
  0xe0: ["BPF_JCOND", "may_goto: a bounded loop escape"],
};

const SIZES: Record<number, string> = { 0x00: "BPF_W (u32)", 0x08: "BPF_H (u16)", 0x10: "BPF_B (u8)", 0x18: "BPF_DW (u64)" };
const MODES: Record<number, string> = {
  0x00: "BPF_IMM (64-bit immediate, two slots)",
  0x20: "BPF_ABS (legacy packet load at a constant offset; r0 = packet[imm], big-endian)",
  0x40: "BPF_IND (legacy packet load at src + imm)",
  0x60: "BPF_MEM (plain memory access)",
  0x80: "BPF_MEMSX (sign-extending load)",
  0xc0: "BPF_ATOMIC (atomic read-modify-write)",
};

/** Markdown decoding one opcode byte. */
export function ebpfOpcodeHover(code: number): string {
  const cls = code & 0x07;
  const [cname, cdoc] = CLASSES[cls]!;
  const out = [`**opcode 0x${code.toString(16).padStart(2, "0")}**`, "", `class \`${cname}\` — ${cdoc}`];
  if (cls === 0x04 || cls === 0x07) {
    const [op, doc] = ALU_OPS[code & 0xf0] ?? ["?", "unknown operation"];
    out.push("", `operation \`${op}\`: ${doc}`, "", `source \`${code & 0x08 ? "BPF_X" : "BPF_K"}\` — ${code & 0x08 ? "a register" : "the 32-bit immediate, sign-extended"}`);
  } else if (cls === 0x05 || cls === 0x06) {
    const [op, doc] = JMP_OPS[code & 0xf0] ?? ["?", "unknown operation"];
    out.push("", `operation \`${op}\`: ${doc}`);
    if ((code & 0xf0) !== 0x80 && (code & 0xf0) !== 0x90 && (code & 0xf0) !== 0x00) {
      out.push("", `source \`${code & 0x08 ? "BPF_X" : "BPF_K"}\` — compare with ${code & 0x08 ? "a register" : "the immediate"}; the offset counts instructions after this one`);
    }
  } else {
    out.push("", `size \`${SIZES[code & 0x18]}\``, "", `mode \`${MODES[code & 0xe0] ?? "unknown"}\``);
  }
  return out.join("\n");
}

const REGS: Record<string, string> = {
  r0: "return value of helpers and of the program (the filter's result before `exit`)",
  r1: "first argument; holds the context pointer (`ctx`) when the program starts",
  r2: "second argument to helpers (clobbered by calls)",
  r3: "third argument to helpers (clobbered by calls)",
  r4: "fourth argument to helpers (clobbered by calls)",
  r5: "fifth argument to helpers (clobbered by calls)",
  r6: "callee-saved: survives helper calls (legacy LD_ABS/LD_IND require the skb context here)",
  r7: "callee-saved: survives helper calls",
  r8: "callee-saved: survives helper calls",
  r9: "callee-saved: survives helper calls",
  r10: "read-only frame pointer; the 512-byte stack is below it (`r10 - 512` .. `r10 - 1`)",
};

/** Markdown for a register; `role` says what the translation keeps there (A, X, ...). */
export function ebpfRegisterHover(name: string, role?: string): string {
  const base = name.replace(/^w/, "r");
  const width = name.startsWith("w") ? " (its low 32 bits, zero-extended on write)" : "";
  const lines = [`**${name}**${width} — ${REGS[base] ?? "register"}`];
  if (role) lines.push("", `In this translation: ${role}.`);
  return lines.join("\n");
}

const HELPER_DOCS: Record<string, string> = {
  bpf_map_lookup_elem: "`void *bpf_map_lookup_elem(map, key)` — pointer to the value, or NULL.",
  bpf_map_update_elem: "`long bpf_map_update_elem(map, key, value, flags)` — insert or replace.",
  bpf_map_delete_elem: "`long bpf_map_delete_elem(map, key)`.",
  bpf_probe_read: "`long bpf_probe_read(dst, size, unsafe_ptr)` — copy kernel memory safely (legacy).",
  bpf_probe_read_kernel: "`long bpf_probe_read_kernel(dst, size, unsafe_ptr)` — copy `size` bytes of kernel memory to the stack; 0 on success, negative error (and zeroed dst) on a fault. The kprobe target reads packet bytes through it.",
  bpf_ktime_get_ns: "`u64 bpf_ktime_get_ns(void)` — monotonic time in ns.",
  bpf_trace_printk: "`long bpf_trace_printk(fmt, fmt_size, ...)` — debug output to the trace pipe.",
  bpf_get_prandom_u32: "`u32 bpf_get_prandom_u32(void)` — pseudo-random number.",
  bpf_get_smp_processor_id: "`u32 bpf_get_smp_processor_id(void)` — current CPU.",
  bpf_skb_load_bytes: "`long bpf_skb_load_bytes(skb, offset, to, len)` — copy packet bytes (also from non-linear skb data) to the stack; negative on out-of-bounds. The socket target uses it in body mode and for long reads.",
  bpf_skb_load_bytes_relative: "`long bpf_skb_load_bytes_relative(skb, offset, to, len, start_header)` — like skb_load_bytes, relative to the MAC or network header.",
  bpf_perf_event_output: "`long bpf_perf_event_output(ctx, map, flags, data, size)` — send a record to user space.",
  bpf_ringbuf_output: "`long bpf_ringbuf_output(ringbuf, data, size, flags)` — copy a record into a ring buffer.",
  bpf_ringbuf_reserve: "`void *bpf_ringbuf_reserve(ringbuf, size, flags)` — reserve space for a record.",
  bpf_ringbuf_submit: "`void bpf_ringbuf_submit(data, flags)` — publish a reserved record.",
  bpf_xdp_load_bytes: "`long bpf_xdp_load_bytes(xdp_md, offset, buf, len)` — copy packet bytes, including fragments.",
  bpf_xdp_get_buff_len: "`u64 bpf_xdp_get_buff_len(xdp_md)` — total frame length including fragments.",
  bpf_get_current_pid_tgid: "`u64 bpf_get_current_pid_tgid(void)` — tgid << 32 | pid.",
  bpf_loop: "`long bpf_loop(nr, callback, ctx, flags)` — bounded loop with a callback.",
};

export function ebpfHelperHover(name: string, id: number | undefined): string {
  const doc = HELPER_DOCS[name] ?? "A kernel helper function: arguments in r1–r5, result in r0; r1–r5 are clobbered.";
  return `**${name}**${id !== undefined ? ` (helper #${id})` : ""}\n\n${doc}`;
}

export const EBPF_WORDS: Readonly<Record<string, string>> = {
  exit: "**exit** — return r0 from the program (or from a bpf-to-bpf call).",
  goto: "**goto pc+N** — jump to the instruction N slots after the next one.",
  call: "**call** — call a helper (r1–r5 arguments, r0 result, r1–r5 clobbered).",
  skb: "**skb[...]** — a legacy LD_ABS/LD_IND packet load: r0 = big-endian bytes at the offset; out of bounds ends the program with r0 = 0.",
  u8: "`u8` — 1-byte access.",
  u16: "`u16` — 2-byte access.",
  u32: "`u32` — 4-byte access.",
  u64: "`u64` — 8-byte access.",
  be16: "**be16** — convert the low 16 bits from big-endian (network order) to host order, zeroing the rest.",
  be32: "**be32** — convert the low 32 bits from big-endian to host order, zeroing the rest.",
  be64: "**be64** — convert 64 bits from big-endian to host order.",
  le16: "**le16** — the low 16 bits as little-endian (a truncation on this host).",
  le32: "**le32** — the low 32 bits as little-endian (a truncation on this host).",
};
