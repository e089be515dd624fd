import { parseArgs, stringFlag, intFlag, boolFlag, UsageError } from "./args";
import { compileListing } from "../compile";

export const TARGETS = ["socket", "tc", "xdp", "kprobe"] as const;

const SPEC = {
  dlt: { value: true },
  snaplen: { value: true },
  "no-optimize": { value: false },
  netmask: { value: true },
  format: { value: true, choices: ["tcpdump", "dd", "ddd", "ebpf", "json"] },
  target: { value: true, choices: TARGETS },
} as const;

/** The filter is every positional joined by spaces, as tcpdump takes `tcp port 80` unquoted. */
export function filterFromPositionals(positionals: readonly string[]): string {
  return positionals.join(" ");
}

/** tcpdump passes netmask 0 when it has no interface, so `ip broadcast` compiles as it does there. */
export const TCPDUMP_NETMASK = 0;

export function parseNetmask(text: string | undefined): number {
  if (text === undefined) return TCPDUMP_NETMASK;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--netmask must be a dotted quad like 255.255.255.0 (got "${text}")`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new UsageError(`--netmask has an octet above 255: "${text}"`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export async function compileCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPEC);
  const filter = filterFromPositionals(args.positionals);
  const format = stringFlag(args, "format") ?? "tcpdump";
  const common = {
    filter,
    dlt: stringFlag(args, "dlt") ?? "EN10MB",
    snaplen: intFlag(args, "snaplen", 1, 0x7fffffff) ?? 262144,
    optimize: !boolFlag(args, "no-optimize"),
    netmask: parseNetmask(stringFlag(args, "netmask")),
  };
  if (format === "ebpf") {
    const { compileEbpfListing } = await import("./ebpf-listing");
    return compileEbpfListing(common, stringFlag(args, "target") ?? "socket");
  }
  const result = compileListing({ ...common, format: format as "tcpdump" | "dd" | "ddd" | "json" });
  if (!result.ok) {
    process.stderr.write(`bpf-playground: ${result.error}\n`);
    return 1;
  }
  process.stdout.write(result.text);
  return 0;
}
