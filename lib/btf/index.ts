/** BTF, the BPF type format: one reader for object files and the kernel's vmlinux alike. */
export * from "./types";
export * from "./btf";
