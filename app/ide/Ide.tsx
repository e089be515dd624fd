"use client";
/**
 * The web IDE's layout, and nothing else. Each pane is a module that reads the topics it shows
 * and sends signals (events.ts); each service (compile and pipeline, captures, share, selection,
 * debugger, kernel, keys) is a hook mounted here once. State flows one way: settings →
 * /api/compile → worker (runPipeline) → the "pipeline.result" topic → the panes. A new pane is
 * its module and one line below.
 */
import { useState, type ReactNode } from "react";
import "./monaco/setup";
import { HubProvider, useTopic } from "./events";
import { ALL_PANES, createIdeHub } from "./settings";
import { PipelineCore } from "./hooks/use-pipeline";
import { useShare } from "./hooks/use-share";
import { useSelection } from "./hooks/use-selection";
import { useDebugger } from "./hooks/use-debugger";
import { useKernelRun } from "./hooks/use-kernel-run";
import { useKeys } from "./hooks/use-keys";
import { useViewPersistence } from "./hooks/use-view";
import { useReloadOnLink } from "./hooks/use-reload-on-link";
import { Split } from "./layout/Split";
import { PaneBoundary } from "./layout/PaneBoundary";
import { CbpfPane, EbpfPane, TracePane } from "./panes/ListingPanes";
import { PacketsPane } from "./panes/PacketsPane";
import { DetailPane } from "./panes/DetailPane";
import { DebuggerPane } from "./panes/DebuggerPane";
import { KernelPane } from "./panes/AgentPanel";
import { Brand, Controls, FilterBox } from "./panes/Toolbar";
import { FatalBanner, StatusBar } from "./panes/StatusBar";
import { Overlays, Toast } from "./panes/Overlays";
import { CaptureInput } from "./panes/CaptureInput";

/** Mounts a service hook: its own component, so that its topics re-render only it. */
function Service({ use }: { use: () => void }): null {
  use();
  return null;
}

function Layout() {
  const presenter = useTopic("view.presenter");
  const presenterPanes = useTopic("view.presenterPanes");
  const visible = presenter ? presenterPanes : ALL_PANES;
  const pane = (id: keyof typeof visible, name: string, body: ReactNode) =>
    visible[id] && (
      <PaneBoundary key={id} name={name}>
        {body}
      </PaneBoundary>
    );

  const topRow = (
    <Split id="top" dir="row" defaults={{ cbpf: 30, ebpf: 36, trace: 34 }}>
      {pane("cbpf", "cBPF", <CbpfPane />)}
      {pane("ebpf", "eBPF", <EbpfPane />)}
      {pane("trace", "Verifier trace", <TracePane />)}
    </Split>
  );
  const bottomRow = (
    <Split id="bottom" dir="row" defaults={{ packets: 44, detail: 31, side: 25 }}>
      {pane("packets", "Packets", <PacketsPane />)}
      {pane("detail", "Packet", <DetailPane />)}
      {(visible.debugger || visible.kernel) && (
        <div key="side" className="split" style={{ flexDirection: "column" }}>
          <Split id="side" dir="col" defaults={{ debugger: 60, kernel: 40 }}>
            {pane("debugger", "Debugger", <DebuggerPane />)}
            {pane("kernel", "Kernel", <KernelPane />)}
          </Split>
        </div>
      )}
    </Split>
  );
  const showTop = visible.cbpf || visible.ebpf || visible.trace;
  const showBottom = visible.packets || visible.detail || visible.debugger || visible.kernel;

  return (
    <div className={`app${presenter ? " presenter" : ""}`}>
      <header className="topbar">
        <Brand />
        <FilterBox />
        <Controls />
      </header>
      <FatalBanner />
      <main className="main">
        {showTop && showBottom ? (
          <Split id="main" dir="col" defaults={{ top: 56, bottom: 44 }}>
            <div key="top" className="split">{topRow}</div>
            <div key="bottom" className="split">{bottomRow}</div>
          </Split>
        ) : showTop ? (
          topRow
        ) : (
          bottomRow
        )}
      </main>
      <StatusBar />
      <CaptureInput />
      <Overlays />
      <Toast />
    </div>
  );
}

export default function Ide() {
  // One hub for the page's life, seeded from storage and the URL.
  const [hub] = useState(createIdeHub);
  return (
    <HubProvider value={hub}>
      {/* The panes first: their effects run before the services' (as children's did before their parent's). */}
      <Layout />
      <PipelineCore />
      <Service use={useShare} />
      <Service use={useReloadOnLink} />
      <Service use={useSelection} />
      <Service use={useDebugger} />
      <Service use={useKernelRun} />
      <Service use={useKeys} />
      <Service use={useViewPersistence} />
    </HubProvider>
  );
}
