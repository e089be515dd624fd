/**
 * `bpf-playground start [--port N]`: the web UI (and, once it exists, the agent) in one command.
 * Builds the Next.js app when `.next` is missing or older than the sources, runs `next start` on
 * 127.0.0.1, prints one URL to open, and stops its children on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { intFlag, parseArgs } from "./args";

const SPEC = { port: { value: true } } as const;
const DEFAULT_PORT = 3000;

/** What `start` can launch besides the UI; the agent plugs in here. */
export interface StartHooks {
  startAgent?: () => Promise<{ url: string; stop?: () => Promise<void> }>;
}

export const startHooks: StartHooks = {};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Paths whose changes make the built app stale. */
const SOURCES = ["app", "lib", "server/web", "server/isolate", "server/native", "server/compile.ts", "public", "next.config.ts", "tsconfig.json", "tsconfig.app.json", "package.json", "package-lock.json"];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return /\.test\.ts$/.test(path) ? 0 : st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** True when there is no build, or a source is newer than it. */
export function buildIsStale(root = ROOT): boolean {
  const stamp = join(root, ".next", "BUILD_ID");
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  return SOURCES.some((p) => newestMtime(join(root, p)) > built);
}

function nextBin(root: string): string {
  return join(root, "node_modules", "next", "dist", "bin", "next");
}

// BPFP_ROOT tells the server where the isolated compile worker lives (its bundle cannot say).
const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, NEXT_TELEMETRY_DISABLED: "1", BPFP_ROOT: ROOT });

function run(args: string[], root: string): Promise<number> {
  return new Promise((resolveExit) => {
    // Build output goes to stderr: stdout carries only the URL, for scripts that read it.
    const child = spawn(process.execPath, [nextBin(root), ...args], { cwd: root, env: childEnv(), stdio: ["ignore", process.stderr, process.stderr] });
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 1 : 0)));
    child.on("error", () => resolveExit(1));
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const r = await fetch(url);
      if (r.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export async function startCommand(argv: string[], hooks: StartHooks = startHooks): Promise<number> {
  const args = parseArgs(argv, SPEC);
  const asked = intFlag(args, "port", 0, 65535);
  let port: number;
  if (asked === undefined) port = (await portFree(DEFAULT_PORT)) ? DEFAULT_PORT : await freePort();
  else if (asked === 0) port = await freePort();
  else {
    if (!(await portFree(asked))) {
      process.stderr.write(`bpf-playground start: port ${asked} on 127.0.0.1 is in use\n`);
      return 1;
    }
    port = asked;
  }
  const root = ROOT;
  if (!existsSync(nextBin(root))) {
    process.stderr.write("bpf-playground start: Next.js is not installed (run: bash scripts/setup.sh)\n");
    return 1;
  }
  if (buildIsStale(root)) {
    process.stderr.write("bpf-playground start: building the web UI (first start, or the sources changed)…\n");
    const code = await run(["build"], root);
    if (code !== 0) {
      process.stderr.write(`bpf-playground start: next build failed (exit ${code})\n`);
      return 1;
    }
  }

  const server = spawn(process.execPath, [nextBin(root), "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: root,
    env: childEnv(),
    stdio: ["ignore", "pipe", process.stderr],
  });
  // Next's own banner goes to stderr so that stdout carries the one URL.
  server.stdout?.on("data", (d: Buffer) => process.stderr.write(d.toString()));
  let agent: { url: string; stop?: () => Promise<void> } | undefined;
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (server.exitCode === null) {
      server.kill("SIGTERM");
      const killer = setTimeout(() => server.exitCode === null && server.kill("SIGKILL"), 5000);
      await new Promise<void>((r) => (server.exitCode !== null ? r() : server.once("exit", () => r())));
      clearTimeout(killer);
    }
    await agent?.stop?.().catch(() => undefined);
  };

  const base = `http://127.0.0.1:${port}/`;
  const up = await waitForHttp(base, server, 60_000);
  if (!up) {
    await stopAll();
    process.stderr.write(`bpf-playground start: the web server did not come up on ${base}\n`);
    return 1;
  }
  if (hooks.startAgent) {
    try {
      agent = await hooks.startAgent();
    } catch (e) {
      process.stderr.write(`bpf-playground start: the agent did not start (${e instanceof Error ? e.message : String(e)}); kernel features stay off\n`);
    }
  }
  const url = agent ? `${base}#agent=${encodeURIComponent(agent.url)}` : base;
  process.stdout.write(`BPF Playground: open ${url}\n`);

  return new Promise<number>((resolveExit) => {
    const onSignal = () => {
      void stopAll().then(() => resolveExit(0));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    server.once("exit", (code) => {
      if (stopping) return;
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      void agent?.stop?.().catch(() => undefined);
      process.stderr.write(`bpf-playground start: the web server exited (${code ?? "signal"})\n`);
      resolveExit(code ?? 1);
    });
  });
}
