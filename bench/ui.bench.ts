/**
 * The web IDE's responsiveness, with 10k packets loaded:
 * - keystroke → every pane's data, in the pipeline function as the worker runs it (Node);
 * - keystroke → every pane updated on screen (Chromium, the real app, compile round trip included);
 * - first page load, and the bytes the browser downloads for it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { generateMix } from "../lib/craft";
import { readCapture, writePcap } from "../lib/pcap";
import { PipelineCache, runEbpfVerdicts, runPipeline, type PipelineState } from "../lib/pipeline";
import { compileFilter } from "../server/native/libpcap";
import { median, percentile, type BenchFigure, type Benchmark } from "./harness";

const PACKETS = 10_000;
const ROOT = resolve(__dirname, "..");

/** A typing session: each step is one keystroke, and each text compiles (so every step reaches the panes). */
function keystrokes(): string[] {
  const out: string[] = [];
  for (let round = 0; round < 8; round++) {
    const base = round % 2 === 0 ? "tcp port 80 or udp port " : "ip host 10.0.0.1 or tcp dst port ";
    const digits = String(1000 + ((round * 7919) % 60000));
    for (let i = 1; i <= digits.length; i++) out.push(base + digits.slice(0, i));
  }
  return out;
}

function workerFigures(): BenchFigure[] {
  const crafted = generateMix(11, PACKETS);
  const packets = readCapture(writePcap(crafted, { linkType: 1 })).packets;
  const cache = new PipelineCache();
  const phase1: number[] = [];
  const full: number[] = [];
  const texts = keystrokes();
  // Warm-up: the JIT, the translator and the verifier once.
  const state = (filter: string): PipelineState => {
    const c = compileFilter({ filter, dlt: 1, netmask: 0 });
    if (!c.ok) throw new Error(c.error);
    return { filter, dlt: 1, snaplen: 262144, optimize: true, target: "socket", cbpf: { ok: true, insns: c.insns }, packets };
  };
  runPipeline(state("tcp"), { cache });
  for (const text of texts) {
    const s = state(text);
    const fresh = new PipelineCache(); // every keystroke is a new program: nothing to reuse
    let t = performance.now();
    runPipeline(s, { cache: fresh, skipEbpfVerdicts: true });
    phase1.push(performance.now() - t);
    t = performance.now();
    runPipeline(s, { cache: new PipelineCache() });
    full.push(performance.now() - t);
  }
  void runEbpfVerdicts;
  return [
    { name: "keystroke → panes, worker, first answer (cBPF verdicts; eBPF verdicts follow)", value: median(phase1), unit: "ms median", note: `p95 ${percentile(phase1, 95).toFixed(1)} ms, ${PACKETS} packets, ${texts.length} keystrokes` },
    { name: "keystroke → panes, worker, everything (incl. eBPF verdicts of every packet)", value: median(full), unit: "ms median", note: `p95 ${percentile(full, 95).toFixed(1)} ms` },
  ];
}

function startApp(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "bpf-playground.mjs"), "start", "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] });
    let buf = "";
    const timer = setTimeout(() => rej(new Error("the app did not start within 5 minutes")), 300_000);
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /open (http:\/\/\S+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        res({ child, url: m[1]! });
      }
    });
    child.on("exit", (code) => rej(new Error(`bpf-playground start exited (${code})`)));
  });
}

async function browserFigures(): Promise<BenchFigure[]> {
  const { child, url } = await startApp();
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 950 } });
    const page = await ctx.newPage();
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForFunction(() => !!window.__bpfp?.result?.cbpf && (window.__bpfp.result.verdicts.count ?? 0) > 0, null, { timeout: 60_000 });
    const loadMs = Date.now() - t0;
    await page.waitForTimeout(1500); // let lazy chunks and the editor worker arrive
    const bytes = await page.evaluate(() => {
      const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")] as PerformanceResourceTiming[];
      return {
        transfer: entries.reduce((n, e) => n + (e.transferSize || 0), 0),
        decoded: entries.reduce((n, e) => n + (e.decodedBodySize || 0), 0),
        count: entries.length,
      };
    });

    // 10k packets, generated in the worker.
    await page.getByTestId("samples").selectOption("__gen");
    await page.getByTestId("generate-dialog").locator("input").first().fill(String(PACKETS));
    await page.getByTestId("generate-go").click();
    await page.waitForFunction((n) => window.__bpfp?.result?.verdicts.count === n, PACKETS, { timeout: 60_000 });

    const screen: number[] = [];
    const compile: number[] = [];
    const worker: number[] = [];
    const editor = page.getByTestId("filter-input");
    await editor.click();
    let current = "";
    for (const text of keystrokes()) {
      // Type only what differs: select-all + type for a new base, else one key.
      if (text.startsWith(current) && text.length === current.length + 1) await page.keyboard.type(text.slice(-1));
      else {
        await page.keyboard.press("Control+A");
        await page.keyboard.insertText(text);
      }
      current = text;
      await page.waitForFunction((f) => window.__bpfp?.lastMeasured === f, text, { timeout: 10_000 });
      const t = await page.evaluate(() => window.__bpfp!.timing);
      screen.push(t.screenMs!);
      if (t.compileMs !== null) compile.push(t.compileMs);
      if (t.workerMs !== null) worker.push(t.workerMs);
    }
    await ctx.close();
    return [
      { name: "keystroke → every pane on screen (Chromium, compile round trip included)", value: median(screen), unit: "ms median", note: `p95 ${percentile(screen, 95).toFixed(1)} ms, ${PACKETS} packets; of which /api/compile ${median(compile).toFixed(1)} ms and the worker ${median(worker).toFixed(1)} ms (medians)` },
      { name: "first page load to every pane rendered", value: loadMs, unit: "ms", note: "production build, local server" },
      { name: "bytes downloaded on first load (compressed)", value: bytes.transfer / 1024, unit: "KiB", note: `${(bytes.decoded / 1024).toFixed(0)} KiB uncompressed, ${bytes.count} requests` },
    ];
  } finally {
    await browser.close();
    child.kill("SIGTERM");
  }
}

const bench: Benchmark = {
  name: "ui",
  description: "web IDE: keystroke to panes with 10k packets (worker and screen), first load, download size",
  async run() {
    return [...workerFigures(), ...(await browserFigures())];
  },
};

export default bench;
