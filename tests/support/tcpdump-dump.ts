/**
 * `tcpdump -d/-dd/-ddd` as the oracle for "what listing does this filter compile to", plus a small
 * unified diff so a failing comparison shows where two listings part.
 */
import { execFile } from "node:child_process";

export const TCPDUMP_BIN = "/usr/bin/tcpdump";

export interface TcpdumpDumpRequest {
  filter: string;
  /** A link-type name as `tcpdump -y` takes it. */
  dlt: string;
  style: "d" | "dd" | "ddd";
  optimize: boolean;
  snaplen?: number;
}

export interface TcpdumpDumpResult {
  /** Exit status; 0 when the filter compiled. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tcpdump -y DLT [-O] [-s N] -d -- FILTER`. The `--` keeps a filter that starts with `-`
 * (`- len < 0`) from being read as an option. No interface is opened: with -d tcpdump compiles on
 * a pcap_open_dead handle with netmask 0.
 */
export function tcpdumpDump(req: TcpdumpDumpRequest, timeoutMs = 120_000): Promise<TcpdumpDumpResult> {
  const args = ["-y", req.dlt];
  if (!req.optimize) args.push("-O");
  if (req.snaplen !== undefined) args.push("-s", String(req.snaplen));
  args.push(`-${req.style}`, "--", req.filter);
  return new Promise((resolve) => {
    execFile(
      TCPDUMP_BIN,
      args,
      { encoding: "utf8", maxBuffer: 256 << 20, timeout: timeoutMs, env: { ...process.env, LC_ALL: "C" } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** libpcap's message as tcpdump reports it: the last stderr line without the "tcpdump: " prefix. */
export function tcpdumpError(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l !== "");
  const last = lines[lines.length - 1] ?? "";
  return last.startsWith("tcpdump: ") ? last.slice("tcpdump: ".length) : last;
}

/**
 * A unified diff (3 lines of context) of two texts, line by line. Common head and tail are trimmed
 * first so that long listings that differ in a few lines stay cheap.
 */
export function unifiedDiff(expected: string, actual: string, labels = ["expected", "actual"]): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const ops = midA.length * midB.length <= 4_000_000 ? lcsOps(midA, midB) : [
    ...midA.map((l) => ({ t: "-" as const, l })),
    ...midB.map((l) => ({ t: "+" as const, l })),
  ];
  const ctx = 3;
  const before = a.slice(Math.max(0, head - ctx), head);
  const after = a.slice(a.length - tail, Math.min(a.length, a.length - tail + ctx));
  const startA = head - before.length + 1;
  const countA = before.length + midA.length + after.length;
  const countB = before.length + midB.length + after.length;
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`, `@@ -${startA},${countA} +${startA},${countB} @@`];
  for (const l of before) out.push(` ${l}`);
  for (const op of ops) out.push(`${op.t}${op.l}`);
  for (const l of after) out.push(` ${l}`);
  return out.join("\n");
}

type Op = { t: " " | "-" | "+"; l: string };

function lcsOps(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // len[i][j] = LCS length of a[i..], b[j..], stored row-major in one typed array.
  const len = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i * (m + 1) + j] =
        a[i] === b[j] ? len[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(len[(i + 1) * (m + 1) + j]!, len[i * (m + 1) + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ t: " ", l: a[i]! });
      i++;
      j++;
    } else if (i < n && (j === m || len[(i + 1) * (m + 1) + j]! >= len[i * (m + 1) + j + 1]!)) {
      ops.push({ t: "-", l: a[i]! }); // deletions first, as diff(1) prints them
      i++;
    } else {
      ops.push({ t: "+", l: b[j]! });
      j++;
    }
  }
  return ops;
}
