"use client";
/**
 * The inject pane: pick a host program (xdp, tc, skb) or upload a BPF object with a filter stub,
 * and the page's filter is spliced into it (hooks/use-inject.ts). Shows the stub, the packet
 * access mode and why, lib/inject's notes or its refusal; downloads the patched object, and loads
 * it into the kernel through the agent (hooks/use-inject-load.ts).
 */
import { useRef } from "react";
import { HOST_KINDS, type HostKind } from "../../../lib/inject";
import { downloadBytes, useInject } from "../hooks/use-inject";
import { InjectLoad } from "./InjectLoad";

const HOST_TITLES: Record<HostKind, string> = {
  xdp: "bpf/xdp_host.c: XDP, the stub sees the frame from its Ethernet header",
  tc: "bpf/tc_host.c: tc (tcx), the stub sees the frame from its Ethernet header",
  skb: "bpf/skb_host.c: raw tracepoint netif_receive_skb, L2 and L3 stubs, bytes read with bpf_probe_read_kernel",
};

export function InjectPane() {
  const s = useInject();
  const file = useRef<HTMLInputElement>(null);
  const { outcome, object } = s;

  return (
    <div className="pane" data-testid="inject-pane">
      <div className="pane-head">
        <span className="pane-title">Inject</span>
        <div className="seg" role="group" aria-label="host program">
          {HOST_KINDS.map((h) => (
            <button key={h} aria-pressed={s.source.kind === "host" && s.source.host === h} onClick={() => s.setSource({ kind: "host", host: h })} title={HOST_TITLES[h]} data-testid={`inject-host-${h}`}>
              {h}
            </button>
          ))}
          <button aria-pressed={s.source.kind === "upload"} onClick={() => file.current?.click()} title="Your own BPF object with a filter stub (pwru's five-argument ABI)" data-testid="inject-upload">
            {s.source.kind === "upload" ? s.source.name : "upload .o"}
          </button>
        </div>
        {object.status === "ok" && object.stubs.length > 1 && (
          <select className="ctl" value={s.stub?.name ?? ""} onChange={(e) => s.setStub(e.target.value)} data-testid="inject-stub" title="The stub the filter goes into">
            {object.stubs.map((st) => (
              <option key={st.name} value={st.name}>
                {st.name}
              </option>
            ))}
          </select>
        )}
        <span className="grow" />
        <button
          className="btn"
          disabled={outcome.status !== "ok"}
          onClick={() => outcome.status === "ok" && downloadBytes(outcome.result.bytes, s.fileName)}
          title="The patched object: loads with bpftool prog loadall, ip link … xdp obj, or your own libbpf loader"
          data-testid="inject-download"
        >
          download patched .o
        </button>
        <input
          ref={file}
          type="file"
          accept=".o,application/x-elf"
          style={{ display: "none" }}
          data-testid="inject-file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = "";
            if (f) void f.arrayBuffer().then((b) => s.setSource({ kind: "upload", name: f.name, bytes: new Uint8Array(b) }));
          }}
        />
      </div>
      <div className="pane-body inject-body">
        {s.stub && (
          <div className="inject-line" data-testid="inject-stub-info">
            stub <code>{s.stub.name}</code> ({s.stub.layer.toUpperCase()}, {s.stub.section} slots {s.stub.start}–{s.stub.start + s.stub.slots - 1}), called from{" "}
            {s.stub.calls.length ? s.stub.calls.map((c) => c.caller).join(", ") : "nowhere"}
          </div>
        )}
        {outcome.status === "waiting" && (
          <div className="inject-line dim" data-testid="inject-status">
            {outcome.why}
          </div>
        )}
        {outcome.status === "refused" && (
          <div className="inject-refusal" data-testid="inject-refusal" data-code={outcome.code}>
            <b>{outcome.code.startsWith("inject/") ? `refused (${outcome.code.slice(7)})` : "cannot inject"}:</b> {outcome.message}
          </div>
        )}
        {outcome.status === "ok" && (
          <>
            <div className="inject-line" data-testid="inject-status">
              spliced: {outcome.result.inserted.slots} instructions into <code>{outcome.result.stub.name}</code> from {outcome.cbpf.length} cBPF instructions
            </div>
            <div className="inject-line" data-testid="inject-access" data-mode={outcome.result.access.mode}>
              access <code>{outcome.result.access.mode}</code>: {outcome.result.access.reason}
            </div>
            <ul className="inject-notes">
              {outcome.result.notes.map((n, i) => (
                <li key={i}>{n}</li>
              ))}
            </ul>
            <InjectLoad result={outcome.result} cbpf={outcome.cbpf} />
          </>
        )}
      </div>
    </div>
  );
}
