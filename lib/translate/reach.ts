/**
 * packetReach for a cBPF program as libpcap compiled it (see analysis.ts): how many leading bytes
 * of a packet its verdict can depend on, Infinity when unbounded or when it reads `len`.
 */
import type { CbpfInsn } from "../cbpf";
import { packetReach } from "./analysis";
import { buildCfg } from "./cfg";
import { decodeProgram } from "./decode";
import { DEFAULT_LOOP_BOUND } from "./translate";

export function programReach(prog: readonly CbpfInsn[], loopBound = DEFAULT_LOOP_BOUND): number {
  return packetReach(buildCfg(decodeProgram(prog), loopBound, () => undefined));
}
