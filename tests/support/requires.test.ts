import { afterEach, describe, expect, it, vi } from "vitest";

/** A fresh copy of the module, so that its probe cache starts empty under the given environment. */
async function fresh(env: { CI?: string; BPFP_PRETEND_MISSING?: string }) {
  vi.resetModules();
  vi.stubEnv("CI", env.CI ?? "");
  vi.stubEnv("BPFP_PRETEND_MISSING", env.BPFP_PRETEND_MISSING ?? "");
  return import("./requires");
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("requires", () => {
  it("is true without a word when the need is met", async () => {
    const { requires } = await fresh({});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(requires("tcpdump oracle", "tcpdump")).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it("warns why and skips when a need is missing", async () => {
    const { requires, unmet } = await fresh({ BPFP_PRETEND_MISSING: "tcpdump" });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(unmet("tcpdump")).toBe("BPFP_PRETEND_MISSING says so");
    expect(requires("tcpdump oracle", "libpcap", "tcpdump")).toBe(false);
    expect(warn).toHaveBeenCalledWith("tcpdump oracle: not run: tcpdump: BPFP_PRETEND_MISSING says so");
  });

  it("fails on CI instead of skipping", async () => {
    const { requires } = await fresh({ CI: "true", BPFP_PRETEND_MISSING: "kernel,btf" });
    expect(() => requires("kernel tests", "kernel", "btf")).toThrow(
      "kernel tests: not run: kernel: BPFP_PRETEND_MISSING says so; btf: BPFP_PRETEND_MISSING says so (CI must provide it)",
    );
  });

  it("on a machine without tcpdump, the tcpdump oracle file fails on CI", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "lib/cbpf/tcpdump-oracle.test.ts"], {
      encoding: "utf8",
      env: { ...process.env, CI: "true", BPFP_PRETEND_MISSING: "tcpdump" },
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("tcpdump -d/-dd/-ddd oracle: not run: tcpdump");
  }, 60_000);
});
