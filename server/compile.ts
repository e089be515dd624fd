/**
 * The compile service behind `bpf-playground compile` and the UI's server route: a filter and a
 * link type in, libpcap's cBPF out, rendered the way tcpdump renders it. One function for both, so
 * the CLI and the UI can never disagree about a listing.
 */
import { formatProgram } from "../lib/cbpf";
import type { CbpfInsn } from "../lib/cbpf/insn";
import { PlaygroundError } from "../lib/errors";
import { compileFilter, DEFAULT_SNAPLEN, resolveDlt } from "./native/libpcap";

export type ListingFormat = "tcpdump" | "dd" | "ddd" | "json";

export interface CompileListingOptions {
  filter: string;
  /** A libpcap link-type name ("EN10MB", case-insensitive) or number. */
  dlt: number | string;
  /** Default 262144, tcpdump's default. */
  snaplen?: number;
  /** Default true; false matches `tcpdump -O`. */
  optimize?: boolean;
  /**
   * Host byte order. Default 0, which is what tcpdump passes when it has no interface (`-d`
   * without `-i`), so that `ip broadcast` compiles exactly as `tcpdump -d` compiles it. Pass
   * 0xffffffff (PCAP_NETMASK_UNKNOWN) for libpcap's "netmask not known" behaviour.
   */
  netmask?: number;
  format: ListingFormat;
}

export type CompileListingResult =
  | { ok: true; insns: CbpfInsn[]; text: string }
  | { ok: false; error: string };

/** The netmask tcpdump compiles with when it has no capture device. */
export const TCPDUMP_DEFAULT_NETMASK = 0;

const DUMP_STYLE = { tcpdump: "d", dd: "dd", ddd: "ddd" } as const;

/**
 * Compile and render. `text` is byte for byte what `tcpdump -y DLT [-O] -d|-dd|-ddd FILTER`
 * prints on stdout for the text formats, and `{"dlt": N, "insns": [...]}` pretty-printed (with a
 * trailing newline) for "json". A filter libpcap refuses gives `{ok: false, error}` with libpcap's
 * message (tcpdump prints the same text after "tcpdump: "). Bad options (unknown link type,
 * snaplen out of range, unknown format) throw PlaygroundError.
 */
export function compileListing(opts: CompileListingOptions): CompileListingResult {
  const style = opts.format === "json" ? undefined : DUMP_STYLE[opts.format];
  if (opts.format !== "json" && style === undefined) {
    throw new PlaygroundError("compile/format", `unknown listing format "${String(opts.format)}"`);
  }
  const dlt = resolveDlt(opts.dlt);
  const compiled = compileFilter({
    filter: opts.filter,
    dlt,
    snaplen: opts.snaplen ?? DEFAULT_SNAPLEN,
    optimize: opts.optimize ?? true,
    netmask: opts.netmask ?? TCPDUMP_DEFAULT_NETMASK,
  });
  if (!compiled.ok) return compiled;
  const { insns } = compiled;
  const text =
    style === undefined
      ? JSON.stringify({ dlt, insns: insns.map(({ code, jt, jf, k }) => ({ code, jt, jf, k })) }, null, 2) + "\n"
      : formatProgram(insns, style);
  return { ok: true, insns, text };
}
