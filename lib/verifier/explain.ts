/**
 * Plain-language explanations of the kernel verifier's error messages, with a hint for the fix.
 * Each entry matches the kernel's exact wording (as printed by Linux 6.18); `explain` picks the
 * first whose pattern matches the error text.
 */
export interface Explanation {
  /** Stable key, e.g. "pkt-out-of-range". */
  readonly key: string;
  readonly summary: string;
  readonly hint: string;
}

interface Entry extends Explanation {
  readonly pattern: RegExp;
}

export const EXPLANATIONS: readonly Entry[] = [
  {
    key: "pkt-out-of-range",
    pattern: /invalid access to packet, off=|offset is outside of the packet/,
    summary: "The program reads packet bytes that no bounds check has proven to exist.",
    hint: "Compare data + (offset + size) against data_end before the load (if (p + N > data_end) goto out), and load through the pointer that was checked.",
  },
  {
    key: "pkt-negative",
    pattern: /min value is negative, either use unsigned index/,
    summary: "A pointer's offset may be negative, so the access could land before the start of the object.",
    hint: "Bound the index from below (if (i < 0) goto out) or make it unsigned, e.g. with an AND mask.",
  },
  {
    key: "uninit-reg",
    pattern: /^R0 !read_ok/m,
    summary: "The program exits (or reads R0) without having put a return value in R0.",
    hint: "Set r0 on every path before `exit`, e.g. `r0 = 0`.",
  },
  {
    key: "uninit-reg",
    pattern: /R\d+ !read_ok/,
    summary: "An instruction reads a register that holds no value on this path (never written, or clobbered by a helper call: r1-r5 are lost after `call`).",
    hint: "Write the register first on every path that reaches this instruction; keep values you need across calls in r6-r9.",
  },
  {
    key: "ctx-access",
    pattern: /invalid bpf_context access off=/,
    summary: "The context structure is read or written at an offset/size this program type does not allow (for example a socket filter reading __sk_buff->data, or a field past the end).",
    hint: "Check the program type's context (xdp_md, __sk_buff, pt_regs): use allowed fields with their exact size; socket filters read packets with LD_ABS/LD_IND or bpf_skb_load_bytes.",
  },
  {
    key: "ctx-modified",
    pattern: /dereference of modified ctx ptr|variable ctx access|negative offset ctx ptr/,
    summary: "The context pointer was moved (ctx + k) before being dereferenced; the kernel only accepts ctx with its original value plus the instruction's constant offset.",
    hint: "Load fields as *(u32 *)(r1 + offsetof(field)) from the unmodified context register.",
  },
  {
    key: "stack-bounds",
    pattern: /invalid (?:variable-offset )?(?:read from|write to) stack|invalid unbounded variable-offset/,
    summary: "A stack access falls outside the 512-byte frame (offsets must be between -512 and -1 from r10).",
    hint: "Use offsets like r10 - 8 … r10 - 512, and make sure offset + size stays below 0.",
  },
  {
    key: "stack-read",
    pattern: /invalid read from stack|invalid size of register fill/,
    summary: "A stack slot is read in a way that does not match what was stored there (partial read of a spilled pointer, or uninitialised bytes).",
    hint: "Read back exactly what you stored, with the same size and offset.",
  },
  {
    key: "stack-misaligned",
    pattern: /misaligned stack access/,
    summary: "Stack accesses must be aligned to their size.",
    hint: "Use an offset that is a multiple of the access size (e.g. r10 - 8 for a u64).",
  },
  {
    key: "spill-size",
    pattern: /invalid size of register spill/,
    summary: "A pointer can only be stored to the stack as a full 8-byte value.",
    hint: "Store pointers with *(u64 *)(r10 - N) = rX.",
  },
  {
    key: "scalar-deref",
    pattern: /invalid mem access 'scalar'/,
    summary: "A plain number is used as a memory address. Only pointers the verifier knows about (ctx, packet, stack, map values) can be dereferenced.",
    hint: "Derive the address from a real pointer (r1 = ctx, r10 = stack, a checked packet pointer, a null-checked map value).",
  },
  {
    key: "null-deref",
    pattern: /invalid mem access '.*_or_null'/,
    summary: "A pointer that may be NULL (e.g. the result of bpf_map_lookup_elem) is dereferenced without a NULL check.",
    hint: "Test it first: if (r0 == 0) goto out; then use r0.",
  },
  {
    key: "bad-mem-access",
    pattern: /invalid mem access '/,
    summary: "This register's type cannot be dereferenced (e.g. pkt_end or a map pointer).",
    hint: "Dereference a packet, stack, ctx or map-value pointer instead.",
  },
  {
    key: "unreachable",
    pattern: /unreachable insn \d+/,
    summary: "Some instruction can never be reached from the start; the kernel rejects dead code before simulating anything.",
    hint: "Remove the dead instructions, or fix the jump offsets that should lead to them.",
  },
  {
    key: "jump-range",
    pattern: /jump out of range from insn/,
    summary: "A jump's target lies outside the program.",
    hint: "Fix the jump offset: the target is the jump's index + off + 1.",
  },
  {
    key: "last-insn",
    pattern: /last insn is not an exit or jmp/,
    summary: "Execution could run past the last instruction.",
    hint: "End the program with `exit` (or an unconditional jump back).",
  },
  {
    key: "infinite-loop",
    pattern: /infinite loop detected at insn/,
    summary: "The verifier found the program back at a loop head in exactly the same state, so the loop can never end.",
    hint: "Make every loop change something that its exit condition tests (a counter compared against a bound).",
  },
  {
    key: "too-large",
    pattern: /BPF program is too large|too complex/,
    summary: "Verification explored too many instructions or pending branches.",
    hint: "Simplify control flow, bound loops tightly, or split the program.",
  },
  {
    key: "unknown-helper",
    pattern: /invalid func |unknown func /,
    summary: "The call refers to a helper id the kernel does not have.",
    hint: "Use a helper id from the kernel's enum bpf_func_id (e.g. 26 for bpf_skb_load_bytes).",
  },
  {
    key: "helper-not-allowed",
    pattern: /program of this type cannot use helper/,
    summary: "This helper exists but is not available to the program type (e.g. bpf_skb_load_bytes in XDP).",
    hint: "Use the program type's own helper (bpf_xdp_load_bytes for XDP) or change the program type.",
  },
  {
    key: "helper-arg-type",
    pattern: /R\d+ type=\S+ expected=/,
    summary: "A helper argument has the wrong kind of value (e.g. a scalar where the helper needs the context or a stack pointer).",
    hint: "Pass what the helper's prototype asks for: r1 = ctx for skb helpers, a map from ld_imm64 for map helpers, a stack/packet/map pointer for buffers.",
  },
  {
    key: "helper-size",
    pattern: /invalid zero-sized read|unbounded memory access|min value is negative, either use unsigned or/,
    summary: "The size passed to a helper is not a bounded, positive value.",
    hint: "Pass a constant size, or bound it first (if (len > 64) goto out) and make it non-zero.",
  },
  {
    key: "ptr-arith",
    pattern: /pointer arithmetic|pointer \S+ pointer prohibited|bitwise operator .* on pointer|subtraction from stack pointer|math between .* pointer/,
    summary: "This arithmetic is not allowed on this kind of pointer (e.g. pkt_end, a map pointer or a NULL-able pointer, or 32-bit math on any pointer).",
    hint: "Only add or subtract bounded scalars to ctx/packet/stack/map-value pointers, with 64-bit instructions; compare against pkt_end instead of computing with it.",
  },
  {
    key: "ld-abs",
    pattern: /BPF_LD_\[ABS\|IND\]|R6 != pointer to skb/,
    summary: "LD_ABS/LD_IND are only for socket filters and tc programs, and need the context in r6.",
    hint: "Do `r6 = r1` at the start, or use direct packet access (XDP) or bpf_skb_load_bytes.",
  },
  {
    key: "fp-readonly",
    pattern: /frame pointer is read only/,
    summary: "r10 (the frame pointer) cannot be written.",
    hint: "Copy it to another register first: r2 = r10; r2 += -8.",
  },
  {
    key: "div-zero",
    pattern: /div by zero/,
    summary: "Division or modulo by the constant 0.",
    hint: "Use a non-zero divisor (division by a register that may be 0 is allowed and yields 0).",
  },
  {
    key: "invalid-shift",
    pattern: /invalid shift/,
    summary: "A shift by a constant must be less than the operand width (32 or 64).",
    hint: "Use a shift count between 0 and 31 (w registers) or 0 and 63 (r registers).",
  },
  {
    key: "reserved-fields",
    pattern: /uses reserved fields|unknown opcode|invalid BPF_|invalid bpf_ld_imm64|unrecognized bpf_ld_imm64|is invalid$/,
    summary: "The instruction is malformed: an unused field is non-zero or the opcode does not exist.",
    hint: "Check the encoding: unused src/off/imm fields must be 0.",
  },
  {
    key: "map-fd",
    pattern: /is not pointing to valid bpf_map/,
    summary: "An ld_imm64 refers to a map file descriptor that does not exist.",
    hint: "Create the map first and put its fd in the instruction.",
  },
  {
    key: "map-access",
    pattern: /invalid access to map value|max value is outside of the allowed memory range|min value is outside of the allowed memory range/,
    summary: "Access beyond the map value's size.",
    hint: "Keep offset + size within the map's value_size, bounding variable offsets first.",
  },
];

const FALLBACK: Explanation = {
  key: "other",
  summary: "The verifier rejected the program at this instruction.",
  hint: "Read the register states in the lines above the error: they show what the verifier knew at that point.",
};

export function explain(message: string): Explanation {
  const e = EXPLANATIONS.find((x) => x.pattern.test(message));
  return e ? { key: e.key, summary: e.summary, hint: e.hint } : FALLBACK;
}
