/**
 * Test support: split the C harness's capture file (docs/verifier-log-format.md Appendix A) into
 * its programs. The logs inside are read with lib/verifier's parser, like every other log.
 */

export interface LoggedProgram {
  name: string;
  progType: "socket" | "tc" | "xdp";
  level: number;
  errno: number;
  accepted: boolean;
  log: string;
}

const TYPES: Record<string, LoggedProgram["progType"]> = { "1": "socket", "3": "tc", "6": "xdp" };

/** Splits `===PROG name type=N level=L fd=F errno=E (...)` … `===END` sections. */
export function parseHarnessFile(text: string): LoggedProgram[] {
  const out: LoggedProgram[] = [];
  const re = /^===PROG (\S+) type=(\d+) level=(\d+) fd=(-?\d+) errno=(\d+) [^\n]*\n([\s\S]*?)^===END$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ name: m[1]!, progType: TYPES[m[2]!]!, level: Number(m[3]), accepted: Number(m[4]) >= 0, errno: Number(m[5]), log: m[6]! });
  }
  return out;
}
