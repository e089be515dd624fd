/**
 * The filter compiled for each other link type of the loaded capture (a pcapng may hold several
 * interfaces), so the worker judges every packet by its own interface's program, as `run` does.
 * Each link type has its own compile client, hence its own session: their requests never
 * supersede the main filter's.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import type { LinkProgram } from "../../../lib/pipeline";
import { CompileClient, type CompileParams, type CompileResponse } from "../compile-client";

type Compiled = { params: CompileParams; response: CompileResponse };

/** Programs for `dlts` other than `main.dlt`, once compiled for exactly `main`'s parameters. */
export function useLinkPrograms(main: CompileParams | null, dlts: readonly number[] | undefined): LinkProgram[] {
  const [compiled, setCompiled] = useState<ReadonlyMap<number, Compiled>>(() => new Map());
  const clients = useRef(new Map<number, CompileClient>());
  const others = useMemo(() => (dlts ?? []).filter((d) => d !== main?.dlt), [dlts, main?.dlt]);

  useEffect(() => {
    if (!main) return;
    for (const dlt of others) {
      let cc = clients.current.get(dlt);
      if (!cc) {
        cc = new CompileClient((params, response) => setCompiled((m) => new Map(m).set(params.dlt, { params, response })));
        clients.current.set(dlt, cc);
      }
      cc.request({ ...main, dlt });
    }
  }, [main, others]);

  return useMemo(() => {
    if (!main) return [];
    const programs: LinkProgram[] = [];
    for (const dlt of others) {
      const o = compiled.get(dlt);
      if (!o || o.params.filter !== main.filter || o.params.snaplen !== main.snaplen || o.params.optimize !== main.optimize) continue;
      programs.push({ dlt, cbpf: o.response.ok ? { ok: true, insns: o.response.insns } : { ok: false, error: o.response.error } });
    }
    return programs;
  }, [main, others, compiled]);
}
