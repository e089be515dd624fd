/**
 * BPF ELF objects: read the container, symbols, relocations, BTF, .BTF.ext and BTF-defined maps;
 * write an object back from that data. Isomorphic (no node: imports), so the page can read an
 * uploaded object without the agent.
 */
export * from "./constants";
export * from "./file";
export * from "./symbols";
export * from "./relocations";
export * from "./btf-ext";
export * from "./maps";
export * from "./object";
export * from "./edit";
export * from "./ext-rules";
