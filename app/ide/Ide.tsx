"use client";
/**
 * The web IDE: editor state, the compile service, the pipeline worker and the panes. State flows
 * one way: settings → /api/compile → worker (runPipeline) → panes. The last good compilation stays
 * on screen while the filter is being edited into something libpcap refuses.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type * as Monaco from "monaco-editor/editor";
import "./monaco/setup";
import { monaco } from "./monaco/setup";
import { monacoTheme, type ThemeName } from "./monaco/themes";
import { listingContext } from "./monaco/context";
import { CompileClient, type CompileParams, type CompileResponse } from "./compile-client";
import { PipelineClient, type PacketDetail } from "./worker/client";
import type { DebugCommand, DebugSnapshot, Engine, LoadedInfo, RunInput } from "./worker/protocol";
import { programKey, type EngineVerdicts, type PipelineResult, type Target } from "../../lib/pipeline";
import { decodeShare, encodeShare, SHARE_CAPTURE_LIMIT, shareLink } from "../../lib/pipeline/share";
import type { CbpfInsn } from "../../lib/cbpf/insn";
import { linkStore } from "./link-store";
import { useLinkPrograms } from "./hooks/use-link-programs";
import { useKernelLog } from "./hooks/use-kernel-log";
import { useReloadOnLink } from "./hooks/use-reload-on-link";
import { Split } from "./layout/Split";
import { PaneBoundary } from "./layout/PaneBoundary";
import { clearLayout, loadJson, loadString, saveJson, saveString } from "./layout/storage";
import { FilterEditor, type FilterError } from "./panes/FilterEditor";
import { CbpfPane, EbpfPane, TracePane, type CbpfTab } from "./panes/ListingPanes";
import { PacketsPane, type Sample } from "./panes/PacketsPane";
import { DetailPane } from "./panes/DetailPane";
import { DebuggerPane } from "./panes/DebuggerPane";
import { AgentStatus, KernelPane, agentAtStart, type AgentInfo, type KernelView } from "./panes/AgentPanel";
import { AgentSession } from "./agent/session";
import { RunStatus } from "../../lib/pipeline";
import { GenerateDialog, HelpOverlay, PresenterDialog, ShareDialog, type PaneId } from "./panes/Dialogs";
import { PacketEditor } from "./panes/PacketEditor";
import { COMMON_DLTS } from "./dlts";
import { EventHub, HubProvider } from "./events";
import { useSharedTopics } from "./hooks/use-shared-topics";
import { PatchArea } from "./panes/PatchArea";

interface Settings {
  filter: string;
  dlt: number;
  snaplen: number;
  optimize: boolean;
  target: Target;
}

const DEFAULT_SETTINGS: Settings = { filter: "tcp port 80", dlt: 1, snaplen: 262144, optimize: true, target: "socket" };
const TARGETS: Target[] = ["socket", "tc", "xdp", "kprobe"];
const NO_READS: { offset: number; size: number }[] = [];
/** Kernel test runs: packets per request, the most packets run, and the pause in typing first. */
const KERNEL_CHUNK = 2000;
const KERNEL_PACKET_LIMIT = 50_000;
const KERNEL_DEBOUNCE_MS = 150;
const ALL_PANES: Record<PaneId, boolean> = { cbpf: true, ebpf: true, trace: true, packets: true, detail: true, debugger: true, kernel: true };
const DEFAULT_PRESENTER: Record<PaneId, boolean> = { cbpf: true, ebpf: true, trace: false, packets: true, detail: false, debugger: false, kernel: false };

interface Good {
  params: CompileParams;
  insns: CbpfInsn[];
  libpcap: string;
}

interface Timing {
  compileMs: number | null;
  /** runPipeline's first answer in the worker. */
  workerMs: number | null;
  /** The eBPF verdicts that follow it on large captures. */
  ebpfMs: number | null;
  screenMs: number | null;
}

declare global {
  interface Window {
    /** Test and benchmark hook: figures of the last update and what the panes show. */
    __bpfp?: {
      timing: Timing;
      result: PipelineResult | null;
      settings: Settings;
      updates: number;
      lastFilterShown: string | null;
      /** The filter whose keystroke-to-screen time `timing.screenMs` is. */
      lastMeasured: string | null;
      /** The last events (compile answers, runs, results), newest last, for diagnosing. */
      events?: string[];
    };
  }
}

/** Appends to the diagnostic event list of the test hook (bounded). */
function note(event: string): void {
  const hook = window.__bpfp;
  if (!hook) return;
  const list = (hook.events ??= []);
  list.push(`${Math.round(performance.now())} ${event}`);
  if (list.length > 200) list.splice(0, list.length - 200);
}

function validSettings(s: Partial<Settings>): Settings {
  const out = { ...DEFAULT_SETTINGS };
  if (typeof s.filter === "string") out.filter = s.filter;
  if (typeof s.dlt === "number" && Number.isInteger(s.dlt) && s.dlt >= 0) out.dlt = s.dlt;
  if (typeof s.snaplen === "number" && Number.isInteger(s.snaplen) && s.snaplen > 0) out.snaplen = s.snaplen;
  if (typeof s.optimize === "boolean") out.optimize = s.optimize;
  if (s.target && TARGETS.includes(s.target)) out.target = s.target;
  return out;
}

function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/vnd.tcpdump.pcap" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

export default function Ide() {
  const [settings, setSettings] = useState<Settings>(() => validSettings(loadJson<Partial<Settings>>("settings", {})));
  const [compiled, setCompiled] = useState<{ params: CompileParams; response: CompileResponse } | null>(null);
  const [good, setGood] = useState<Good | null>(null);
  const [result, setResult] = useState<PipelineResult | null>(null);
  const [capture, setCapture] = useState<(LoadedInfo & { key: number }) | null>(null);
  const [loading, setLoading] = useState<{ name: string; progress: number } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [detail, setDetail] = useState<PacketDetail | null>(null);
  const [engine, setEngine] = useState<Engine>("cbpf");
  const [debugSnap, setDebugSnap] = useState<DebugSnapshot | null>(null);
  const [breakpoints, setBreakpoints] = useState<{ cbpf: number[]; ebpf: number[] }>({ cbpf: [], ebpf: [] });
  const [cbpfTab, setCbpfTab] = useState<CbpfTab>("d");
  const [rainbow, setRainbow] = useState<boolean>(() => loadString("rainbow") === "1");
  const [theme, setTheme] = useState<ThemeName>(() => (document.documentElement.dataset.theme === "light" ? "light" : "dark"));
  const [presenter, setPresenter] = useState(false);
  const [presenterPanes, setPresenterPanes] = useState<Record<PaneId, boolean>>(() => ({ ...DEFAULT_PRESENTER, ...loadJson<Partial<Record<PaneId, boolean>>>("presenter", {}) }));
  const [overlay, setOverlay] = useState<null | "help" | "presenter" | "generate" | { share: string; note: string } | { editor: "edit" | "new" }>(null);
  const [toast, setToast] = useState<string | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [agent, setAgent] = useState<AgentInfo>(agentAtStart);
  const [kernel, setKernel] = useState<KernelView | null>(null);
  const [kernelVerdicts, setKernelVerdicts] = useState<EngineVerdicts | null>(null);
  const [timing, setTiming] = useState<Timing>({ compileMs: null, workerMs: null, ebpfMs: null, screenMs: null });
  const [fatal, setFatal] = useState<string | null>(null);
  const [filterRevision, setFilterRevision] = useState(0);
  const [dragging, setDragging] = useState(false);
  const [hub] = useState(() => new EventHub());
  useSharedTopics(hub, { settings, good, agent, kernel });

  const client = useRef<PipelineClient | null>(null);
  const compiler = useRef<CompileClient | null>(null);
  const filterEditor = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const runSeq = useRef(0);
  const captureKeys = useRef(0);
  const keyTime = useRef<{ filter: string; t0: number } | null>(null);
  const updates = useRef(0);
  /** The editor state the shown result was computed from. */
  const shownInput = useRef<RunInput | null>(null);
  const pendingShareView = useRef<Record<string, string | number | boolean> | null>(null);
  const [clientReady, setClientReady] = useState<PipelineClient | null>(null);

  const settingsRef = useRef(settings);
  settingsRef.current = settings;
  const fontSize = presenter ? 18 : 13;
  const rowHeight = presenter ? 30 : 22;

  // ---- worker and compile service ------------------------------------------------------------
  useEffect(() => {
    const c = new PipelineClient({
      result(seq, input, r, workerMs) {
        note(`result ${seq} ${JSON.stringify(input.filter)} (latest run ${runSeq.current})`);
        if (seq !== -1 && seq < runSeq.current) return;
        shownInput.current = input;
        setResult(r);
        setTiming((t) => ({ ...t, workerMs }));
      },
      ebpfVerdicts(seq, verdicts: EngineVerdicts, mismatches, workerMs) {
        if (seq !== -1 && seq < runSeq.current) return;
        setResult((prev) => (prev ? { ...prev, verdicts: { ...prev.verdicts, ebpf: verdicts, mismatches } } : prev));
        setTiming((t) => ({ ...t, ebpfMs: workerMs }));
      },
      progress(_id, _phase, done, total) {
        setLoading((l) => (l ? { ...l, progress: total > 0 ? done / total : 0 } : l));
      },
      loaded(info) {
        captureKeys.current++;
        setCapture({ ...info, key: captureKeys.current });
        setLoading(null);
        setLoadError(info.error ? `${info.name}: reading stopped early: ${info.error}` : null);
        if (info.format === "edited") {
          setSelected((s) => (s === null || info.count === 0 ? null : Math.min(s, info.count - 1)));
          return;
        }
        const view = pendingShareView.current;
        pendingShareView.current = null;
        const sel = typeof view?.selected === "number" && view.selected < info.count ? view.selected : info.count > 0 ? 0 : null;
        setSelected(sel);
        // A capture of another link type: compile the filter for it.
        if (info.dlts.length > 0) setSettings((s) => (info.dlts.includes(s.dlt) ? s : { ...s, dlt: info.dlts[0]! }));
      },
      loadFailed(_id, name, error) {
        setLoading(null);
        setLoadError(`${name}: ${error}`);
      },
      fatal(message) {
        setFatal(message);
      },
    });
    client.current = c;
    setClientReady(c);
    compiler.current = new CompileClient((params, response, ms) => {
      note(`compiled ${JSON.stringify(params.filter)} ${response.ok ? "ok" : "error"} ${ms.toFixed(1)} ms`);
      setCompiled({ params, response });
      setTiming((t) => ({ ...t, compileMs: ms }));
      if (response.ok) setGood({ params, insns: response.insns, libpcap: response.libpcap });
    });
    return () => {
      c.dispose();
      client.current = null;
    };
  }, []);

  // ---- start-up: share link, samples, a first capture ------------------------------------------
  useEffect(() => {
    const c = clientReady;
    if (!c) return;
    let cancelled = false;
    void fetch("/samples/index.json")
      .then((r) => (r.ok ? r.json() : []))
      .then((index: unknown) => {
        const list = Array.isArray(index) ? index : (index as { samples?: unknown })?.samples;
        if (cancelled || !Array.isArray(list)) return;
        setSamples(
          list
            .filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null && typeof (s as { file?: unknown }).file === "string")
            .map((s) => ({ file: String(s.file), title: String(s.title ?? s.name ?? s.file) + (typeof s.packets === "number" ? ` (${s.packets})` : ""), description: typeof s.description === "string" ? s.description : undefined })),
        );
      })
      .catch(() => undefined);
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    const shared = params.get("s");
    if (shared) {
      decodeShare(shared)
        .then((st) => {
          if (cancelled) return;
          setSettings(validSettings(st));
          setFilterRevision((r) => r + 1);
          if (st.view) {
            pendingShareView.current = st.view;
            const v = st.view;
            if (v.tab === "d" || v.tab === "dd" || v.tab === "ddd") setCbpfTab(v.tab);
            if (typeof v.rainbow === "boolean") setRainbow(v.rainbow);
            if (v.engine === "cbpf" || v.engine === "ebpf") setEngine(v.engine);
          }
          if (st.capture) {
            setLoading({ name: st.captureName ?? "shared capture", progress: 0 });
            c.load(st.captureName ?? "shared capture", st.capture.buffer.slice(st.capture.byteOffset, st.capture.byteOffset + st.capture.byteLength) as ArrayBuffer);
          } else c.generate("generated mix (1000 packets)", 1, 1000, 1);
        })
        .catch((e: unknown) => {
          setToast(`The share link could not be read: ${e instanceof Error ? e.message : String(e)}`);
          c.generate("generated mix (1000 packets)", 1, 1000, 1);
        });
    } else {
      c.generate("generated mix (1000 packets)", 1, 1000, 1);
    }
    return () => {
      cancelled = true;
    };
  }, [clientReady]);

  useReloadOnLink();

  // ---- settings → compile → worker -------------------------------------------------------------
  useEffect(() => {
    saveJson("settings", settings);
    compiler.current?.request({ filter: settings.filter, dlt: settings.dlt, snaplen: settings.snaplen, optimize: settings.optimize });
  }, [settings]);

  const programs = useLinkPrograms(good?.params ?? null, capture?.dlts);

  useEffect(() => {
    const c = client.current;
    if (!c || !good) return;
    const p = good.params;
    runSeq.current++;
    note(`run ${runSeq.current} ${JSON.stringify(p.filter)}`);
    c.run(runSeq.current, { filter: p.filter, dlt: p.dlt, snaplen: p.snaplen, optimize: p.optimize, target: settings.target, insns: good.insns, programs });
  }, [good, settings.target, clientReady, programs]);

  const filterError: FilterError | null = useMemo(() => {
    if (!compiled || compiled.response.ok || compiled.params.filter !== settings.filter) return null;
    const r = compiled.response;
    const loc = r.location ?? { start: 0, end: settings.filter.length };
    return { message: r.error, start: loc.start, end: loc.end };
  }, [compiled, settings.filter]);

  // ---- panes' shared context, timing hook ------------------------------------------------------
  useEffect(() => {
    listingContext.cbpf = result?.cbpf?.insns ?? null;
    listingContext.ebpf = result?.ebpf ?? null;
    updates.current++;
    const k = keyTime.current;
    const shownFilter = shownInput.current?.filter ?? null;
    const hook = (window.__bpfp ??= { timing, result, settings, updates: 0, lastFilterShown: null, lastMeasured: null });
    hook.result = result;
    hook.settings = settings;
    hook.updates = updates.current;
    hook.lastFilterShown = shownFilter;
    if (k && shownFilter === k.filter && result) {
      keyTime.current = null;
      note(`committed ${JSON.stringify(k.filter)}`);
      // On screen = after this commit, Monaco's own render (an animation frame) and the paint:
      // a message posted from the next frame's callback runs after that paint.
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => {
          const screenMs = performance.now() - k.t0;
          hook.timing = { ...hook.timing, screenMs };
          hook.lastMeasured = k.filter;
          note(`painted ${JSON.stringify(k.filter)} ${screenMs.toFixed(1)} ms after the keystroke`);
          setTiming((t) => ({ ...t, screenMs }));
        };
        ch.port2.postMessage(0);
      });
    }
    // timing and settings are read, not triggers
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [result]);

  useEffect(() => {
    if (window.__bpfp) window.__bpfp.timing = timing;
  }, [timing]);

  // ---- theme, presenter --------------------------------------------------------------------------
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    saveString("theme", theme);
    monaco.editor.setTheme(monacoTheme(theme));
  }, [theme]);

  useEffect(() => saveString("rainbow", rainbow ? "1" : "0"), [rainbow]);
  useEffect(() => saveJson("presenter", presenterPanes), [presenterPanes]);

  // ---- selection, detail and debugger --------------------------------------------------------------
  useEffect(() => {
    const c = client.current;
    if (!c || selected === null || !capture) {
      setDetail(null);
      return;
    }
    let live = true;
    void c.detail(selected).then((d) => live && setDetail(d));
    return () => {
      live = false;
    };
  }, [selected, capture]);

  const debug = useCallback((cmd: DebugCommand) => {
    const c = client.current;
    if (!c) return;
    void c.debug(cmd).then(setDebugSnap);
  }, []);

  // A new packet, engine, program or target restarts the session at the first instruction.
  const shown = shownInput.current;
  const programSig = result?.cbpf && shown ? `${shown.target}|${shown.dlt}|${programKey(shown.insns)}` : "";
  const start = useCallback(() => {
    const program = shownInput.current;
    if (selected === null || !program) {
      setDebugSnap(null);
      return;
    }
    debug({ op: "start", engine, packet: selected, program });
  }, [debug, engine, selected]);
  useEffect(() => {
    start();
  }, [start, programSig, capture?.key]);

  const bpList = engine === "cbpf" ? breakpoints.cbpf : breakpoints.ebpf;
  const step = useCallback(() => debug({ op: "step" }), [debug]);
  const back = useCallback(() => debug({ op: "back" }), [debug]);
  const runToBp = useCallback(() => debug({ op: "run", breakpoints: bpList }), [debug, bpList]);
  const resetDbg = start;

  const toggleBp = (which: "cbpf" | "ebpf", at: number) =>
    setBreakpoints((b) => {
      const list = b[which];
      return { ...b, [which]: list.includes(at) ? list.filter((x) => x !== at) : [...list, at] };
    });
  // Stable handlers, so that memoised panes skip renders their props do not call for.
  const toggleCbpfBp = useCallback((l: number) => toggleBp("cbpf", l), []);
  const toggleEbpfBp = useCallback((slot: number) => toggleBp("ebpf", slot), []);
  const openFilePicker = useCallback(() => fileInput.current?.click(), []);
  const openGenerate = useCallback(() => setOverlay("generate"), []);
  const openEditor = useCallback((m: "edit" | "new") => setOverlay({ editor: m }), []);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const deleteSelected = useCallback(() => {
    const sel = selectedRef.current;
    if (sel !== null) client.current?.edit("delete", sel);
  }, []);

  // ---- captures ------------------------------------------------------------------------------------
  const loadFile = useCallback((file: File) => {
    const c = client.current;
    if (!c) return;
    setLoading({ name: file.name, progress: 0 });
    setLoadError(null);
    void file.arrayBuffer().then((buf) => c.load(file.name, buf));
  }, []);

  const loadSample = useCallback((s: Sample) => {
    const c = client.current;
    if (!c) return;
    setLoading({ name: s.title, progress: 0 });
    setLoadError(null);
    void fetch(`/samples/${s.file}`)
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.arrayBuffer();
      })
      .then((buf) => c.load(s.file, buf))
      .catch((e: unknown) => {
        setLoading(null);
        setLoadError(`${s.file}: ${e instanceof Error ? e.message : String(e)}`);
      });
  }, []);

  const exportCapture = useCallback(async (which: "matched-cbpf" | "matched-ebpf" | "all") => {
    const c = client.current;
    if (!c) return;
    const { bytes, count } = await c.exportCapture(which);
    if (!bytes) {
      setToast(which === "all" ? "No packets to export." : "No matching packets to export.");
      return;
    }
    download(bytes, `${which}.pcap`);
    setToast(`Exported ${count} packets.`);
  }, []);

  // ---- share -----------------------------------------------------------------------------------
  const share = useCallback(async () => {
    const c = client.current;
    if (!c) return;
    const cap = await c.shareCapture(SHARE_CAPTURE_LIMIT);
    const view: Record<string, string | number | boolean> = { tab: cbpfTab, rainbow, engine };
    if (selected !== null && selected < cap.count) view.selected = selected;
    const encoded = await encodeShare({ ...settings, view, captureName: capture?.name, capture: cap.bytes ?? undefined });
    // Page state only: the receiver's page talks to their own agent (agentAtStart).
    const link = shareLink(window.location.href, encoded);
    const total = capture?.count ?? 0;
    const note = cap.bytes === null ? "No packets are included." : cap.count < total ? `The link carries the first ${cap.count} of ${total} packets (captures in links are limited to 64 KB).` : `The link carries all ${cap.count} packets.`;
    void navigator.clipboard?.writeText(link).catch(() => undefined);
    setOverlay({ share: link, note });
  }, [settings, cbpfTab, rainbow, engine, selected, capture]);

  // ---- the kernel, through the agent ---------------------------------------------------------------
  const agentSession = useRef<AgentSession | null>(null);
  useEffect(() => {
    const url = agent.url;
    if (!url) return;
    let live = true;
    AgentSession.open(url, (reason) => {
      agentSession.current = null;
      if (live) setAgent((a) => ({ ...a, connected: false, reason }));
    })
      .then((session) => {
        if (!live) return session.close();
        agentSession.current = session;
        setAgent((a) => ({ ...a, connected: true, reason: "", kernel: session.kernel.release }));
      })
      .catch((e: unknown) => live && setAgent((a) => ({ ...a, connected: false, reason: e instanceof Error ? e.message : String(e) })));
    return () => {
      live = false;
      agentSession.current?.close();
      agentSession.current = null;
    };
  }, [agent.url]);

  // Each program the panes show is loaded into the kernel (after a short pause in typing), its
  // log and code read back, and the capture run through it. A newer program cancels the rest.
  const kernelJob = useRef(0);
  const kernelHandle = useRef<number | null>(null);
  useEffect(() => {
    const session = agentSession.current;
    const program = shownInput.current;
    if (!agent.connected || !session || !program || !programSig) return;
    const job = ++kernelJob.current;
    setKernel((k) => ({ sig: programSig, program: k?.program ?? null, busy: true }));
    setKernelVerdicts(null);
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
          setKernel({ sig: programSig, program: loaded, busy: false });
          const total = capture?.count ?? 0;
          const c = client.current;
          if (loaded.handle === null || !c || total === 0) return;
          if (!session.canTestRun(program.target)) {
            const v = { status: "unavailable" as const, message: `BPF_PROG_TEST_RUN does not run ${program.target} programs`, values: new Uint32Array(total), runs: new Uint8Array(total), matched: 0, errors: 0 };
            setKernelVerdicts(v);
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
            setKernelVerdicts({ ...v });
          }
        } catch (e) {
          if (!stale()) setKernel({ sig: programSig, program: null, busy: false, error: `the agent: ${e instanceof Error ? e.message : String(e)}` });
        }
      })();
    }, KERNEL_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [agent.connected, programSig, capture?.key, capture?.count]);

  const { kernelLog, kernelSlots } = useKernelLog(kernel?.program, result?.trace.text ?? "");

  // ---- keyboard ---------------------------------------------------------------------------------
  const nextMismatch = useCallback(() => {
    const mm = result?.verdicts.mismatches;
    if (!mm || mm.length === 0) {
      setToast("No mismatches: every engine agrees on every packet.");
      return;
    }
    const after = Array.from(mm).find((i) => selected === null || i > selected);
    setSelected(after ?? mm[0]!);
  }, [result, selected]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = !!t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable || !!t.closest(".monaco-editor"));
      const key = e.key;
      if (e.altKey && !e.ctrlKey && !e.metaKey) {
        const code = e.code;
        const handled = () => {
          e.preventDefault();
          e.stopPropagation();
        };
        if (/^Digit[1-4]$/.test(code)) {
          setSettings((s) => ({ ...s, target: TARGETS[Number(code.slice(5)) - 1]! }));
          return handled();
        }
        switch (code) {
          case "KeyO":
            setSettings((s) => ({ ...s, optimize: !s.optimize }));
            return handled();
          case "KeyR":
            setRainbow((r) => !r);
            return handled();
          case "KeyT":
            setTheme((th) => (th === "dark" ? "light" : "dark"));
            return handled();
          case "KeyP":
            setPresenter((p) => !p);
            return handled();
          case "KeyS":
            void share();
            return handled();
          case "KeyD":
            setCbpfTab((tab) => (tab === "d" ? "dd" : tab === "dd" ? "ddd" : "d"));
            return handled();
          case "KeyM":
            nextMismatch();
            return handled();
        }
      }
      if (key === "F10") {
        e.preventDefault();
        if (e.shiftKey) back();
        else step();
        return;
      }
      if (key === "F5") {
        e.preventDefault();
        if (e.shiftKey) resetDbg();
        else runToBp();
        return;
      }
      if ((e.ctrlKey || e.metaKey) && key.toLowerCase() === "o") {
        e.preventDefault();
        fileInput.current?.click();
        return;
      }
      if ((e.ctrlKey || e.metaKey) && key.toLowerCase() === "l") {
        e.preventDefault();
        filterEditor.current?.focus();
        return;
      }
      if (key === "Escape") {
        linkStore.setSelected(null);
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (key === "/") {
        e.preventDefault();
        filterEditor.current?.focus();
      } else if (key === "?") {
        setOverlay("help");
      } else if (key === "e" && selected !== null) {
        setOverlay({ editor: "edit" });
      } else if (key === "n") {
        setOverlay({ editor: "new" });
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [share, step, back, runToBp, resetDbg, selected, nextMismatch]);

  // ---- drag and drop anywhere on the page ---------------------------------------------------------
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => hasFiles(e) && e.preventDefault();
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const f = e.dataTransfer?.files[0];
      if (f) loadFile(f);
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragleave", leave);
    window.addEventListener("dragover", over);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("dragover", over);
      window.removeEventListener("drop", drop);
    };
  }, [loadFile]);

  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 3500);
    return () => clearTimeout(t);
  }, [toast]);

  // ---- render ---------------------------------------------------------------------------------------
  const visible = presenter ? presenterPanes : ALL_PANES;
  const stale = !!compiled && !compiled.response.ok;
  const ebpf = result?.ebpf ?? null;
  const trace = result?.trace ?? null;
  const reads = debugSnap && !debugSnap.unavailable && debugSnap.packet === selected ? debugSnap.reads : NO_READS;
  const onFilterChange = useCallback((v: string) => {
    keyTime.current = { filter: v, t0: performance.now() };
    note(`key ${JSON.stringify(v)}`);
    // Straight to the compile service: the render this edit causes runs while the request is out.
    const s = settingsRef.current;
    compiler.current?.request({ filter: v, dlt: s.dlt, snaplen: s.snaplen, optimize: s.optimize });
    setSettings((prev) => ({ ...prev, filter: v }));
  }, []);

  const topRow = (
    <Split id="top" dir="row" defaults={{ cbpf: 30, ebpf: 36, trace: 34 }}>
      {visible.cbpf && (
        <PaneBoundary key="cbpf" name="cBPF">
          <CbpfPane
            view={result?.cbpf ?? null}
            tab={cbpfTab}
            onTab={setCbpfTab}
            fontSize={fontSize}
            rainbow={rainbow}
            ebpf={ebpf}
            trace={trace}
            debug={debugSnap}
            breakpoints={breakpoints.cbpf}
            onToggleBreakpoint={toggleCbpfBp}
            stale={stale}
            libpcap={good?.libpcap}
            kernelSlots={kernelSlots}
          />
        </PaneBoundary>
      )}
      {visible.ebpf && (
        <PaneBoundary key="ebpf" name="eBPF">
          <EbpfPane ebpf={ebpf} trace={trace} fontSize={fontSize} rainbow={rainbow} debug={debugSnap} target={settings.target} breakpoints={breakpoints.ebpf} onToggleBreakpoint={toggleEbpfBp} kernelSlots={kernelSlots} />
        </PaneBoundary>
      )}
      {visible.trace && (
        <PaneBoundary key="trace" name="Verifier trace">
          <TracePane ebpf={ebpf} trace={trace} fontSize={fontSize} rainbow={rainbow} debug={debugSnap} agent={agent} kernelLog={kernelLog} kernelSlots={kernelSlots} />
        </PaneBoundary>
      )}
    </Split>
  );

  const bottomRow = (
    <Split id="bottom" dir="row" defaults={{ packets: 44, detail: 31, side: 25 }}>
      {visible.packets && (
        <PaneBoundary key="packets" name="Packets">
          <PacketsPane
            client={clientReady}
            captureKey={capture?.key ?? 0}
            captureName={capture?.name ?? null}
            count={capture?.count ?? 0}
            verdicts={result?.verdicts ?? null}
            selected={selected}
            onSelect={setSelected}
            loading={loading}
            loadError={loadError}
            samples={samples}
            onOpenFile={openFilePicker}
            onSample={loadSample}
            onGenerate={openGenerate}
            onExport={exportCapture}
            onEdit={openEditor}
            onDelete={deleteSelected}
            agentConnected={agent.connected}
            kernelVerdicts={kernelVerdicts}
            rowHeight={rowHeight}
          />
        </PaneBoundary>
      )}
      {visible.detail && (
        <PaneBoundary key="detail" name="Packet" resetKey={detail}>
          <DetailPane key={`${capture?.key}/${detail?.index}`} detail={detail} reads={reads} />
        </PaneBoundary>
      )}
      {(visible.debugger || visible.kernel) && (
        <div key="side" className="split" style={{ flexDirection: "column" }}>
          <Split id="side" dir="col" defaults={{ debugger: 60, kernel: 40 }}>
            {visible.debugger && (
              <PaneBoundary key="debugger" name="Debugger">
                <DebuggerPane
                  engine={engine}
                  onEngine={setEngine}
                  snapshot={debugSnap}
                  selected={selected}
                  onStep={step}
                  onBack={back}
                  onRun={runToBp}
                  onReset={resetDbg}
                  breakpointCount={bpList.length}
                />
              </PaneBoundary>
            )}
            {visible.kernel && (
              <PaneBoundary key="kernel" name="Kernel">
                <KernelPane agent={agent} kernel={kernel} fontSize={fontSize} />
              </PaneBoundary>
            )}
          </Split>
        </div>
      )}
    </Split>
  );

  const showTop = visible.cbpf || visible.ebpf || visible.trace;
  const showBottom = visible.packets || visible.detail || visible.debugger || visible.kernel;

  return (
    <HubProvider value={hub}>
    <div className={`app${presenter ? " presenter" : ""}`}>
      <header className="topbar">
        <div className="brand" title="BPF Playground">
          <svg viewBox="0 0 32 32" aria-hidden="true">
            <path d="M6 9h20l-7 8v7l-6 3V17z" fill="none" stroke="var(--accent)" strokeWidth="2.4" strokeLinejoin="round" />
          </svg>
          {!presenter && <span>BPF Playground</span>}
        </div>
        <div className="filter-box">
          <FilterEditor value={settings.filter} revision={filterRevision} onChange={onFilterChange} error={filterError} fontSize={presenter ? 20 : 14} onEditor={(e) => (filterEditor.current = e)} />
          {filterError && (
            <div className="filter-status" data-testid="filter-error" data-start={filterError.start} data-end={filterError.end}>
              libpcap: {filterError.message}
              {stale && good ? " — showing the last filter that compiled" : ""}
            </div>
          )}
        </div>
        <div className="controls">
          <label className="ctl" title="Link-layer type (tcpdump -y)">
            link
            <select value={settings.dlt} onChange={(e) => setSettings((s) => ({ ...s, dlt: Number(e.target.value) }))} data-testid="dlt-select">
              {COMMON_DLTS.some((d) => d.dlt === settings.dlt) ? null : <option value={settings.dlt}>DLT {settings.dlt}</option>}
              {COMMON_DLTS.map((d) => (
                <option key={d.dlt} value={d.dlt}>
                  {d.name}
                </option>
              ))}
            </select>
          </label>
          <label className="ctl" title="Snapshot length: the value ret returns on a match (tcpdump -s)">
            snaplen
            <input
              type="number"
              min={1}
              max={262144}
              value={settings.snaplen}
              onChange={(e) => {
                const v = Math.max(1, Math.min(0x7fffffff, Math.floor(Number(e.target.value) || 1)));
                setSettings((s) => ({ ...s, snaplen: v }));
              }}
              data-testid="snaplen"
            />
          </label>
          <button className="btn" aria-pressed={settings.optimize} onClick={() => setSettings((s) => ({ ...s, optimize: !s.optimize }))} title="libpcap's optimizer (off = tcpdump -O) (Alt+O)" data-testid="optimize">
            optimize
          </button>
          <div className="seg" role="group" aria-label="target" title="eBPF target (Alt+1…4)">
            {TARGETS.map((t) => (
              <button key={t} aria-pressed={settings.target === t} onClick={() => setSettings((s) => ({ ...s, target: t }))} data-testid={`target-${t}`}>
                {t}
              </button>
            ))}
          </div>
          <button className="btn" aria-pressed={rainbow} onClick={() => setRainbow((r) => !r)} title="A colour per cBPF instruction (Alt+R)" data-testid="rainbow">
            rainbow
          </button>
          <button className="btn" onClick={() => void share()} title="Copy a link that reproduces this page (Alt+S)" data-testid="share">
            share
          </button>
          <button className="btn" aria-pressed={presenter} onClick={() => setPresenter((p) => !p)} onContextMenu={(e) => (e.preventDefault(), setOverlay("presenter"))} title="Presenter mode (Alt+P); right-click to choose panes" data-testid="presenter">
            present
          </button>
          <button className="icon-btn" onClick={() => setOverlay("presenter")} title="Choose the panes shown in presenter mode">
            ⚙
          </button>
          <button className="icon-btn" onClick={() => setTheme((t) => (t === "dark" ? "light" : "dark"))} title="Light / dark (Alt+T)" data-testid="theme">
            {theme === "dark" ? "☾" : "☀"}
          </button>
          <button className="icon-btn" onClick={() => setOverlay("help")} title="Keyboard shortcuts (?)" data-testid="help">
            ?
          </button>
          <AgentStatus agent={agent} />
        </div>
      </header>
      {fatal && <div className="banner bad">{fatal}</div>}
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
      <PatchArea />
      <footer className="statusbar" data-testid="statusbar">
        <span>{capture ? `${capture.name} · ${capture.count} packets` : "no capture"}</span>
        <span>{good ? `${good.insns.length} cBPF insns` : ""}</span>
        <span>{ebpf?.status === "ok" ? `${ebpf.lines.length} eBPF insns (${settings.target})` : ""}</span>
        <span className="spacer" />
        <span title="filter text → /api/compile → answer">{timing.compileMs !== null ? `compile ${timing.compileMs.toFixed(1)} ms` : ""}</span>
        <span title="runPipeline in the worker (eBPF verdicts of large captures follow)">
          {timing.workerMs !== null ? `worker ${timing.workerMs.toFixed(1)} ms` : ""}
          {timing.ebpfMs !== null && (result?.verdicts.count ?? 0) > 2000 ? ` + eBPF ${timing.ebpfMs.toFixed(0)} ms` : ""}
        </span>
        <span title="keystroke to every pane updated" data-testid="screen-ms">{timing.screenMs !== null ? `screen ${timing.screenMs.toFixed(1)} ms` : ""}</span>
      </footer>
      <input
        ref={fileInput}
        type="file"
        accept=".pcap,.pcapng,.cap,.dmp,application/vnd.tcpdump.pcap"
        style={{ display: "none" }}
        data-testid="file-input"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) loadFile(f);
          e.target.value = "";
        }}
      />
      {dragging && <div className="dropzone">Drop a pcap or pcapng file to load it</div>}
      {overlay === "help" && <HelpOverlay onClose={() => setOverlay(null)} />}
      {overlay === "presenter" && (
        <PresenterDialog
          panes={presenterPanes}
          onChange={setPresenterPanes}
          onClose={() => setOverlay(null)}
          onResetLayout={() => {
            clearLayout();
            window.dispatchEvent(new Event("bpfp:reset-layout"));
          }}
        />
      )}
      {overlay === "generate" && (
        <GenerateDialog
          dlts={COMMON_DLTS.filter((d) => d.generate)}
          onClose={() => setOverlay(null)}
          onGenerate={(seed, count, dlt) => {
            setLoading({ name: `generated mix (${count} packets)`, progress: 0 });
            client.current?.generate(`generated mix (${count} packets, seed ${seed})`, seed, count, dlt);
          }}
        />
      )}
      {overlay && typeof overlay === "object" && "share" in overlay && <ShareDialog link={overlay.share} note={overlay.note} onClose={() => setOverlay(null)} />}
      {overlay && typeof overlay === "object" && "editor" in overlay && (
        <PacketEditor
          mode={overlay.editor}
          initial={overlay.editor === "edit" ? (detail?.data ?? null) : null}
          dlt={settings.dlt}
          onClose={() => setOverlay(null)}
          onApply={(data, how) => {
            const c = client.current;
            if (!c) return;
            if (how === "replace" && selected !== null) c.edit("replace", selected, data, settings.dlt);
            else c.edit("insert", selected === null ? capture?.count ?? 0 : selected + 1, data, settings.dlt);
          }}
        />
      )}
      {toast && <div className="toast">{toast}</div>}
    </div>
    </HubProvider>
  );
}
