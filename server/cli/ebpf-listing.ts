/** `compile --format ebpf`: filled in by the translation work (issue 3). */
export async function compileEbpfListing(
  _opts: { filter: string; dlt: string; snaplen: number; optimize: boolean; netmask: number },
  target: string,
): Promise<number> {
  process.stderr.write(`bpf-playground: --format ebpf (target ${target}) is not available yet\n`);
  return 2;
}
