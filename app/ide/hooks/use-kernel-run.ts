"use client";
/**
 * The kernel, through the agent: the agent session, and each program the panes show loaded into
 * the kernel (after a short pause in typing), its log and code read back ("kernel.view") and the
 * capture run through it with BPF_PROG_TEST_RUN ("kernel.verdicts"). A newer program cancels
 * the rest.
 */
import { useEffect, useRef } from "react";
import { RunStatus, type EngineVerdicts } from "../../../lib/pipeline";
import { AgentSession } from "../agent/session";
import { useHub, useTopicPart } from "../events";
import { useProgramSig } from "./use-debugger";

/** Kernel test runs: packets per request, the most packets run, and the pause in typing first. */
const KERNEL_CHUNK = 2000;
const KERNEL_PACKET_LIMIT = 50_000;
const KERNEL_DEBOUNCE_MS = 150;

function useAgentSession(): { current: AgentSession | null } {
  const hub = useHub();
  const url = useTopicPart("agent", (a) => a.url);
  const session = useRef<AgentSession | null>(null);
  useEffect(() => {
    if (!url) return;
    let live = true;
    AgentSession.open(url, (reason) => {
      session.current = null;
      if (live) hub.update("agent", (a) => ({ ...a, connected: false, reason }));
    })
      .then((s) => {
        if (!live) return s.close();
        session.current = s;
        hub.update("agent", (a) => ({ ...a, connected: true, reason: "", kernel: s.kernel.release }));
      })
      .catch((e: unknown) => live && hub.update("agent", (a) => ({ ...a, connected: false, reason: e instanceof Error ? e.message : String(e) })));
    return () => {
      live = false;
      session.current?.close();
      session.current = null;
    };
  }, [url, hub]);
  return session;
}

export function useKernelRun(): void {
  const hub = useHub();
  const agentSession = useAgentSession();
  const connected = useTopicPart("agent", (a) => a.connected);
  const programSig = useProgramSig();
  const captureKey = useTopicPart("capture", (c) => c?.key);
  const captureCount = useTopicPart("capture", (c) => c?.count);
  const kernelJob = useRef(0);
  const kernelHandle = useRef<number | null>(null);

  useEffect(() => {
    const session = agentSession.current;
    const program = hub.get("pipeline.input");
    if (!connected || !session || !program || !programSig) return;
    const job = ++kernelJob.current;
    hub.update("kernel.view", (k) => ({ sig: programSig, program: k?.program ?? null, busy: true }));
    hub.publish("kernel.verdicts", null);
    const timer = setTimeout(() => {
      void (async () => {
        const stale = () => job !== kernelJob.current;
        try {
          if (kernelHandle.current !== null) {
            const old = kernelHandle.current;
            kernelHandle.current = null;
            await session.unload(old);
          }
          const loaded = await session.load(program.insns, program.target);
          if (stale()) {
            if (loaded.handle !== null) await session.unload(loaded.handle);
            return;
          }
          kernelHandle.current = loaded.handle;
          hub.publish("kernel.view", { sig: programSig, program: loaded, busy: false });
          const total = captureCount ?? 0;
          const c = hub.get("worker");
          if (loaded.handle === null || !c || total === 0) return;
          if (!session.canTestRun(program.target)) {
            const v = { status: "unavailable" as const, message: `BPF_PROG_TEST_RUN does not run ${program.target} programs`, values: new Uint32Array(total), runs: new Uint8Array(total), matched: 0, errors: 0 };
            hub.publish("kernel.verdicts", v);
            return;
          }
          const n = Math.min(total, KERNEL_PACKET_LIMIT);
          const v: EngineVerdicts = { status: "ok", values: new Uint32Array(total), runs: new Uint8Array(total), matched: 0, errors: 0 };
          if (n < total) v.message = `the kernel ran the first ${n} packets`;
          const chunk = Math.min(KERNEL_CHUNK, session.limits?.packetsPerRun ?? KERNEL_CHUNK);
          for (let from = 0; from < n; from += chunk) {
            const { data, dlts } = await c.packetBytes(from, Math.min(n, from + chunk));
            if (stale()) return;
            const idx: number[] = [];
            const send: Uint8Array[] = [];
            data.forEach((d, i) => {
              if (dlts[i] !== program.dlt || d.length === 0 || d.length > (session.limits?.packetBytes ?? 65535)) v.runs[from + i] = RunStatus.Skipped;
              else {
                idx.push(from + i);
                send.push(d);
              }
            });
            if (send.length > 0) {
              const results = await session.testRun(loaded.handle, send, program.dlt);
              if (stale()) return;
              results.forEach((r, k) => {
                const at = idx[k]!;
                if (r.status === "ok") {
                  v.values[at] = r.retval >>> 0;
                  v.runs[at] = RunStatus.Ok;
                  if (r.retval !== 0) v.matched++;
                } else {
                  v.runs[at] = RunStatus.Error;
                  v.errors++;
                  v.firstError ??= r.message;
                }
              });
            }
            hub.publish("kernel.verdicts", { ...v });
          }
        } catch (e) {
          if (!stale()) hub.publish("kernel.view", { sig: programSig, program: null, busy: false, error: `the agent: ${e instanceof Error ? e.message : String(e)}` });
        }
      })();
    }, KERNEL_DEBOUNCE_MS);
    return () => clearTimeout(timer);
    // The session is a ref: `connected` changes when it opens or closes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [connected, programSig, captureKey, captureCount, hub]);
}
