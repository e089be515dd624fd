/**
 * End-to-end tests in Debian's Chromium (/usr/bin/chromium; Playwright downloads no browser).
 * The server is started the README's way (`npm start`, which builds the app when it is missing
 * or stale) on a free port chosen once per run.
 */
import { defineConfig } from "@playwright/test";
import { execFileSync } from "node:child_process";

function freePort(): string {
  const script = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim();
}

// Workers re-read this file; the environment carries the port chosen by the first read.
const port = (process.env.BPFP_E2E_PORT ??= freePort());
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "e2e",
  testMatch: /.*\.spec\.ts$/,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    viewport: { width: 1600, height: 950 },
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    },
    trace: "off",
  },
  webServer: {
    command: `npm start --silent -- --port ${port}`,
    url: `${baseURL}/`,
    // The first run may build the app (about a minute on two cores).
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: { NEXT_TELEMETRY_DISABLED: "1" },
  },
});
