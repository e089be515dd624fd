"use client";
/**
 * "Load in kernel" for the patched object (hooks/use-inject-load.ts): libbpf's load through the
 * agent, the verifier's log, and the kernel's verdicts on a generated mix of frames beside the
 * cBPF interpreter's.
 */
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import type { InjectResult } from "../../../lib/inject";
import { summarize } from "../../../lib/dissect";
import { SEND_CYCLES, TEST_FRAMES, useInjectLoad, type AttachState } from "../hooks/use-inject-load";

export function InjectLoad({ result, cbpf }: { result: InjectResult; cbpf: readonly CbpfInsn[] }) {
  const { state, load, canLoad, why, attach, send, detach } = useInjectLoad();
  const busy = state.status === "busy";
  return (
    <div className="inject-load" data-testid="inject-load">
      <div className="inject-line">
        <button className="btn" disabled={!canLoad || busy} onClick={() => void load(result, cbpf)} title={canLoad ? "Load the patched object with libbpf through the agent, then test-run it" : why} data-testid="inject-load-button">
          load in kernel
        </button>{" "}
        {!canLoad && <span className="dim">{why}</span>}
        {busy && <span className="dim">{state.step}</span>}
        {state.status === "loaded" && state.of !== result && <span className="dim">(loaded for an earlier filter or host: load again)</span>}
      </div>
      {state.status === "error" && (
        <div className="inject-refusal" data-testid="inject-load-error">
          {state.message}
        </div>
      )}
      {state.status === "refused" && (
        <div className="inject-refusal" data-testid="inject-load-refused" data-code={state.code}>
          <b>the kernel refused it ({state.code}):</b>
          <pre className="inject-log">{state.message}</pre>
        </div>
      )}
      {state.status === "loaded" && (
        <>
          <div className="inject-line" data-testid="inject-loaded">
            loaded <code>{state.object.name}</code> ({state.object.progType}, section <code>{state.object.section}</code>): program id {state.object.progId}, {state.object.insns} instructions, maps{" "}
            {state.object.maps.map((m) => m.name).join(", ") || "none"}
          </div>
          {state.verdicts && (
            <div className={`inject-line inject-verdict ${state.verdicts.disagree.length ? "bad" : "ok"}`} data-testid="inject-verdicts" data-matched={state.verdicts.matched} data-frames={state.verdicts.frames} data-disagree={state.verdicts.disagree.length}>
              kernel: {state.verdicts.matched} of {state.verdicts.frames} generated frames matched
              {state.verdicts.nsPerPacket !== null ? ` (${state.verdicts.nsPerPacket.toFixed(0)} ns/packet)` : ""};{" "}
              {state.verdicts.disagree.length === 0
                ? "the cBPF interpreter agrees on every frame"
                : `the cBPF interpreter disagrees on ${state.verdicts.disagree.length}: ${state.verdicts.disagree
                    .slice(0, 5)
                    .map((i) => state.verdicts!.descriptions[i])
                    .join("; ")}`}
            </div>
          )}
          {state.testRunError && (
            <div className="inject-line dim" data-testid="inject-testrun-error">
              {state.testRunError}
            </div>
          )}
          {result.stub.layer !== "l2" && <div className="inject-line dim">an L3 stub is not test-run here: the frames are Ethernet ({TEST_FRAMES} of them for L2 stubs)</div>}
          <Live attach={attach} onSend={() => void send()} onDetach={() => void detach()} />
          <details>
            <summary>verifier log</summary>
            <pre className="inject-log" data-testid="inject-verifier-log">
              {state.object.log}
              {state.object.libbpfLog ? `\n--- libbpf ---\n${state.object.libbpfLog}` : ""}
            </pre>
          </details>
        </>
      )}
    </div>
  );
}

/** The attached program on the demo network: its own counters and the packets it sent up. */
function Live({ attach, onSend, onDetach }: { attach: AttachState; onSend: () => void; onDetach: () => void }) {
  const live = attach.status === "live";
  return (
    <div className="inject-live" data-testid="inject-live">
      <div className="inject-line">
        <button className="btn" disabled={attach.status === "busy"} onClick={onSend} title={`Attach on the agent's demo network (once) and send the untagged ones of the ${TEST_FRAMES} test frames through it, ${SEND_CYCLES} times`} data-testid="inject-send">
          {live ? "send again" : "attach and send traffic"}
        </button>{" "}
        {live && (
          <button className="btn" onClick={onDetach} data-testid="inject-detach">
            detach
          </button>
        )}{" "}
        {attach.status === "busy" && <span className="dim">{attach.step}</span>}
      </div>
      {attach.status === "error" && <div className="inject-refusal" data-testid="inject-attach-error">{attach.message}</div>}
      {(attach.status === "live" || attach.status === "detached") && (
        <>
          <div
            className="inject-line"
            data-testid="inject-counters"
            data-total={attach.counters.total - attach.before.total}
            data-matched={attach.counters.matched - attach.before.matched}
            data-sent={attach.sent}
            data-events={attach.eventCount}
          >
            {attach.status === "live" ? "attached" : "was attached"} at {attach.hook} on {attach.ifname}: {attach.counters.matched - attach.before.matched} of {attach.counters.total - attach.before.total} packets
            matched ({attach.sent} sent), {attach.eventCount} matched headers streamed
            {attach.before.total > 0 && <span className="dim"> (the counts map also holds the test run's {attach.before.total} frames)</span>}
          </div>
          <ul className="inject-events" data-testid="inject-events">
            {attach.events.map((e, i) => (
              <li key={i}>
                <code>{e.len}</code> {summarize(e.bytes, 1)}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
