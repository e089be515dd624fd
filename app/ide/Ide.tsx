"use client";
/**
 * The web IDE's layout, and nothing else. Each pane is a module that reads the topics it shows
 * and sends signals (events.ts); each service (compile and pipeline, captures, share, selection,
 * debugger, kernel, keys) is a hook mounted here once. State flows one way: settings →
 * /api/compile → worker (runPipeline) → the "pipeline.result" topic → the panes. A new pane is
 * its module and one entry in panes/registry.ts; a new service is its hook and one line below.
 */
import { useState } from "react";
import "./monaco/setup";
import { HubProvider, useTopic } from "./events";
import { createIdeHub } from "./settings";
import { PipelineCore } from "./hooks/use-pipeline";
import { useShare } from "./hooks/use-share";
import { useSelection } from "./hooks/use-selection";
import { useDebugger } from "./hooks/use-debugger";
import { useKernelRun } from "./hooks/use-kernel-run";
import { useKeys } from "./hooks/use-keys";
import { useLive } from "./hooks/use-live";
import { useViewPersistence } from "./hooks/use-view";
import { useReloadOnLink } from "./hooks/use-reload-on-link";
import { useRevealLinks } from "./hooks/use-reveal-links";
import { Split } from "./layout/Split";
import { PaneBoundary } from "./layout/PaneBoundary";
import { ALL_PANES, PANE_IDS, PANES, type PaneId, type PaneSpec } from "./panes/registry";
import { Brand, Controls, FilterBox } from "./panes/Toolbar";
import { FatalBanner, StatusBar } from "./panes/StatusBar";
import { Overlays, Toast } from "./panes/Overlays";
import { CaptureInput } from "./panes/CaptureInput";
import { PatchArea } from "./panes/PatchArea";

/** Mounts a service hook: its own component, so that its topics re-render only it. */
function Service({ use }: { use: () => void }): null {
  use();
  return null;
}

const inPlace = (place: PaneSpec["place"]) => PANE_IDS.filter((id) => PANES[id].place === place);
const weights = (ids: PaneId[]) => Object.fromEntries(ids.map((id) => [id, PANES[id].weight]));
// Split keeps the defaults it is given for a reset: one object each for the page's life.
const TOP = weights(inPlace("top"));
const BOTTOM = { ...weights(inPlace("bottom")), side: 25 };
const SIDE = weights(inPlace("side"));
const PATCH = weights(inPlace("patch"));
const MAIN = { top: 56, bottom: 44 };

function cell(id: PaneId) {
  const { Component, title } = PANES[id];
  return (
    <PaneBoundary key={id} name={title}>
      <Component />
    </PaneBoundary>
  );
}

function Layout() {
  const presenter = useTopic("view.presenter");
  const presenterPanes = useTopic("view.presenterPanes");
  const visible = presenter ? presenterPanes : ALL_PANES;
  const shown = (place: PaneSpec["place"]) => inPlace(place).filter((id) => visible[id]);
  const [top, bottom, side] = [shown("top"), shown("bottom"), shown("side")];

  // Each Split gets one flat array of keyed cells: its keys name the stored sizes.
  const topRow = (
    <Split id="top" dir="row" defaults={TOP}>
      {top.map(cell)}
    </Split>
  );
  const sideColumn = (
    <div key="side" className="split" style={{ flexDirection: "column" }}>
      <Split id="side" dir="col" defaults={SIDE}>
        {side.map(cell)}
      </Split>
    </div>
  );
  const bottomRow = (
    <Split id="bottom" dir="row" defaults={BOTTOM}>
      {side.length > 0 ? [...bottom.map(cell), sideColumn] : bottom.map(cell)}
    </Split>
  );
  const showTop = top.length > 0;
  const showBottom = bottom.length + side.length > 0;

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
          <Split id="main" dir="col" defaults={MAIN}>
            <div key="top" className="split">{topRow}</div>
            <div key="bottom" className="split">{bottomRow}</div>
          </Split>
        ) : showTop ? (
          topRow
        ) : (
          bottomRow
        )}
      </main>
      <PatchArea defaults={PATCH}>{shown("patch").map(cell)}</PatchArea>
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
      <Service use={useLive} />
      <Service use={useKeys} />
      <Service use={useViewPersistence} />
      <Service use={useRevealLinks} />
    </HubProvider>
  );
}
