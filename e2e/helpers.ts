/** Shared steps for the e2e specs: open the IDE, type a filter, read Monaco models, ask tcpdump. */
import { expect, type Page } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const SCREENSHOTS = join(__dirname, "screenshots");
const ROOT = join(__dirname, "..");

/** A private agent for a test: `bpf-playground agent` prints its URL (with the token) first. */
export function startAgent(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "bpf-playground.mjs"), "agent", "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /(ws:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on("exit", (code) => reject(new Error(`the agent exited (${code})`)));
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** tcpdump's stdout for these arguments (the oracle); stderr is dropped. */
export function tcpdump(args: string[]): string {
  return execFileSync("tcpdump", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

/** tcpdump's error text for a filter it refuses ("syntax error", "illegal port number ..."). */
export function tcpdumpError(filter: string): string {
  try {
    execFileSync("tcpdump", ["-y", "EN10MB", "-d", filter], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = String((e as { stderr?: string }).stderr ?? "");
    const line = err.split("\n").find((l) => l.startsWith("tcpdump: "));
    if (line) return line.slice("tcpdump: ".length);
  }
  throw new Error(`tcpdump accepted ${filter}`);
}

/** How many packets of a capture tcpdump keeps for a filter. */
export function tcpdumpCount(file: string, filter: string): number {
  const out = execFileSync("tcpdump", ["-r", file, "--count", filter], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const m = /(\d+) packets?/.exec(out);
  if (!m) throw new Error(`unexpected tcpdump --count output: ${out}`);
  return Number(m[1]);
}

export async function openIde(page: Page, url = "/"): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => !!window.monaco && !!window.__bpfp?.result?.cbpf, null, { timeout: 30_000 });
}

export async function modelText(page: Page, uriSuffix: string): Promise<string> {
  return page.evaluate((suffix) => window.monaco!.editor.getModels().find((m) => m.uri.toString().endsWith(suffix))?.getValue() ?? "", uriSuffix);
}

/** Replace the filter by typing it, as a user would. */
export async function typeFilter(page: Page, text: string): Promise<void> {
  const box = page.getByTestId("filter-input");
  await box.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.type(text, { delay: 5 });
  await page.keyboard.press("Escape"); // close the suggestion widget
  await expect.poll(() => modelText(page, "filter.pcap")).toBe(text);
}

/** Wait until the panes show the compilation of `filter`. */
export async function waitForFilter(page: Page, filter: string): Promise<void> {
  await page.waitForFunction((f) => window.__bpfp?.lastFilterShown === f && !!window.__bpfp.result?.cbpf, filter, { timeout: 20_000 });
}

/** Replace the filter in one edit, as a paste does (no intermediate texts get compiled). */
export async function pasteFilter(page: Page, text: string): Promise<void> {
  await page.evaluate((t) => {
    const model = window.monaco!.editor.getModels().find((m) => m.uri.toString().endsWith("filter.pcap"))!;
    model.pushEditOperations([], [{ range: model.getFullModelRange(), text: t }], () => null);
  }, text);
}

/** Collects uncaught page errors and console errors for a test to assert on at its end. */
export function trackErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Lines (0-based) of a Monaco model carrying a decoration class. */
export async function decoratedLines(page: Page, uriSuffix: string, cls: string): Promise<number[]> {
  return page.evaluate(
    ([suffix, c]) => {
      const model = window.monaco!.editor.getModels().find((m) => m.uri.toString().endsWith(suffix));
      if (!model) return [];
      const lines = model.getAllDecorations().filter((d) => (d.options.className ?? "").split(" ").includes(c)).map((d) => d.range.startLineNumber - 1);
      return [...new Set(lines)].sort((a, b) => a - b);
    },
    [uriSuffix, cls] as const,
  );
}
