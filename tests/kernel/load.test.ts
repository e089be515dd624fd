/**
 * BPF_PROG_LOAD through server/kernel/load.ts against the running kernel: verdicts, errno, the
 * verifier log's shape at levels 1 and 2 (verifier-log-format.md sections 2, 3, 8 and Appendix A),
 * the log-growing retry, and the statistics read from the log.
 *
 * Expected texts are never typed here: only shapes the document describes, and equalities
 * between two kernel answers.
 */
import { afterAll, expect, it } from "vitest";
import { loadProgram } from "../../server/kernel/load";
import { progInfo } from "../../server/kernel/inspect";
import { closeFd } from "../../server/native/libc";
import { PlaygroundError } from "../../lib/errors";
import { errorLines, parseLog, type LogLine } from "../../lib/verifier";
import { encode, asm, type RawInsn } from "../../server/kernel/raw-insn";
import { describeKernel, Programs } from "./support";

const tiny = encode([asm.mov64Imm(0, 2), asm.exit()]);
// exit without setting r0 (Appendix A err_r0)
const errR0 = encode([asm.mov64Imm(1, 0), asm.exit()]);
// r0 = 0; exit; r0 = 1; exit (Appendix A err_unreach)
const errUnreach = encode([asm.mov64Imm(0, 0), asm.exit(), asm.mov64Imm(0, 1), asm.exit()]);
// Appendix A `prune`: two paths join at insn 5.
const prune = encode([
  asm.ldxW(2, 1, 0),
  asm.jgtImm(2, 0x64, 2),
  asm.mov64Imm(3, 1),
  asm.ja(1),
  asm.mov64Imm(3, 2),
  asm.mov64Imm(0, 0),
  asm.jeqImm(3, 7, 1),
  asm.mov64Imm(0, 1),
  asm.exit(),
]);
/** A straight line of `n` additions: its level-2 log is about 80 bytes per instruction. */
function longProgram(n: number): Uint8Array {
  const body: RawInsn[] = [asm.mov64Imm(0, 0)];
  for (let i = 0; i < n; i++) body.push(asm.add64Imm(0, 1));
  body.push(asm.exit());
  return encode(body);
}

/** The log's lines, read by lib/verifier's parser (a log always ends with a newline). */
function lines(log: string): LogLine[] {
  expect(log.endsWith("\n")).toBe(true);
  return parseLog(log);
}

/** The 6.18 final line: every counter present, mark_read included. */
function isProcessedLine(l: LogLine | undefined): boolean {
  return l?.kind === "processed" && l.markRead !== null;
}

const isSafe = (l: LogLine): boolean => l.kind === "safe" || (l.kind === "from" && l.state === null);

describeKernel("kernel: program load and verifier log", () => {
  const progs = new Programs();
  afterAll(() => progs.cleanup());

  it("accepts a tiny program at level 2 with the 6.18 log structure", () => {
    for (const type of ["socket", "tc", "xdp"] as const) {
      const r = loadProgram({ insns: tiny, type, logLevel: 2 });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      closeFd(r.fd);
      const l = lines(r.log);
      expect(l[0]).toMatchObject({ kind: "func", subprog: 0, start: 0 });
      expect(l[1]!.kind).toBe("live-header");
      // One Live regs row per instruction, no loop column (nothing loops here).
      expect(l[2]).toMatchObject({ kind: "live", insn: 0, scc: null, text: "(b7) r0 = 2" });
      expect(l[3]).toMatchObject({ kind: "live", insn: 1, scc: null, text: "(95) exit" });
      expect(l[4]).toMatchObject({ kind: "state", insn: 0, state: " R1=ctx() R10=fp0" });
      expect(l[5]).toMatchObject({ kind: "insn", insn: 0, text: "(b7) r0 = 2", state: " R0=2" });
      expect(l[6]).toMatchObject({ kind: "insn", insn: 1, text: "(95) exit", state: null });
      expect(isProcessedLine(l.at(-1))).toBe(true);
      expect(r.stats.processedInsns).toBe(2);
    }
  });

  it("appends the state after the instruction at the column section 5's formula gives", () => {
    const r = loadProgram({ insns: prune, type: "socket", logLevel: 2 });
    expect(r.ok).toBe(true);
    if (r.ok) closeFd(r.fd);
    let checked = 0;
    for (const line of lines(r.log)) {
      if (line.kind !== "insn" || line.stateColumn === null) continue;
      const L = `${line.insn}: ${line.text}`.length;
      const pad = Math.ceil(Math.max(L + 1 + 4, 40) / 8) * 8 - (L + 1) - 1;
      expect(line.stateColumn - L, line.raw).toBe(pad);
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
  });

  it("keeps only the processed line for a success at level 1", () => {
    const r = loadProgram({ insns: tiny, type: "xdp", logLevel: 1 });
    expect(r.ok).toBe(true);
    if (r.ok) closeFd(r.fd);
    const l = lines(r.log);
    expect(l).toHaveLength(1);
    expect(isProcessedLine(l[0])).toBe(true);
  });

  it("rejects a program that never sets r0 with EACCES and the failing path at level 1", () => {
    const r = loadProgram({ insns: errR0, type: "socket", logLevel: 1 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errno).toBe(13);
    expect(r.errnoName).toBe("EACCES");
    expect(r.logTruncated).toBe(false);
    const l = lines(r.log);
    expect(l[0]).toMatchObject({ kind: "state", insn: 0 }); // no func#/Live regs header at level 1
    expect(errorLines(l).map((x) => x.raw)).toContain("R0 !read_ok");
    expect(isProcessedLine(l.at(-1))).toBe(true);
  });

  it("gives the same error with the level-2 header on top", () => {
    const r1 = loadProgram({ insns: errR0, type: "socket", logLevel: 1 });
    const r2 = loadProgram({ insns: errR0, type: "socket", logLevel: 2 });
    expect(r2.ok).toBe(false);
    const l2 = lines(r2.log);
    expect(l2[0]!.kind).toBe("func");
    expect(l2[1]!.kind).toBe("live-header");
    // Everything after the header is the level-1 log (a single path, nothing else to keep).
    const start = l2.findIndex((x) => x.kind === "state");
    expect(start).toBeGreaterThan(1);
    expect(l2.slice(start).map((x) => x.raw + "\n").join("")).toBe(r1.log);
  });

  it("reports unreachable code as EINVAL before any instruction is simulated", () => {
    const r = loadProgram({ insns: errUnreach, type: "socket", logLevel: 2 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errnoName).toBe("EINVAL");
    const l = lines(r.log);
    expect(l[0]!.kind).toBe("func");
    expect(errorLines(l).map((x) => x.raw)).toEqual(["unreachable insn 2"]);
    expect(l.some((x) => x.kind === "insn" || x.kind === "live")).toBe(false);
    expect(r.stats.processedInsns).toBe(0);
  });

  it("passes no log buffer at level 0 and still reports the errno", () => {
    const ok = loadProgram({ insns: tiny, type: "socket", logLevel: 0 });
    expect(ok.ok).toBe(true);
    expect(ok.log).toBe("");
    if (ok.ok) closeFd(ok.fd);
    const bad = loadProgram({ insns: errR0, type: "socket", logLevel: 0 });
    expect(bad.ok).toBe(false);
    expect(bad.log).toBe("");
    if (!bad.ok) expect(bad.errnoName).toBe("EACCES");
  });

  it("adds verification time and stack depth with stats, matching bpf_prog_info", () => {
    const r = loadProgram({ insns: prune, type: "socket", logLevel: 1, stats: true });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    closeFd(r.fd);
    const l = lines(r.log);
    expect(l.at(-3)?.kind).toBe("verification-time");
    expect(l.at(-2)).toMatchObject({ kind: "stack-depth", depths: [0] });
    expect(r.stats.verificationTimeUs).toBeGreaterThanOrEqual(0);
    expect(r.stats.stackDepth).toEqual([0]);
    expect(r.stats.processedInsns).toBeGreaterThan(0);
    expect(r.stats.verifiedInsns).toBe(r.stats.processedInsns);
  });

  it("stats alone (level 0 + stats) print only the three summary lines", () => {
    const r = loadProgram({ insns: tiny, type: "socket", logLevel: 0, stats: true });
    expect(r.ok).toBe(true);
    if (r.ok) closeFd(r.fd);
    expect(lines(r.log)).toHaveLength(3);
  });

  it("stores more states with BPF_F_TEST_STATE_FREQ", () => {
    const normal = loadProgram({ insns: prune, type: "socket", logLevel: 2 });
    const freq = loadProgram({ insns: prune, type: "socket", logLevel: 2, testStateFreq: true });
    expect(normal.ok && freq.ok).toBe(true);
    if (normal.ok) closeFd(normal.fd);
    if (freq.ok) closeFd(freq.fd);
    expect(freq.stats.totalStates!).toBeGreaterThan(normal.stats.totalStates!);
    expect(lines(freq.log).filter(isSafe).length).toBeGreaterThanOrEqual(lines(normal.log).filter(isSafe).length);
  });

  it("grows the log buffer on ENOSPC until the whole log fits, identical to a roomy first try", () => {
    const insns = longProgram(3000);
    const small = loadProgram({ insns, type: "socket", logLevel: 2, initialLogSize: 256 });
    const roomy = loadProgram({ insns, type: "socket", logLevel: 2, initialLogSize: 16 << 20 });
    expect(small.ok).toBe(true);
    expect(roomy.ok).toBe(true);
    if (small.ok) closeFd(small.fd);
    if (roomy.ok) closeFd(roomy.fd);
    expect(small.attempts).toBeGreaterThanOrEqual(2);
    expect(roomy.attempts).toBe(1);
    expect(small.log.length).toBeGreaterThan(64 << 10); // more than the default first buffer
    expect(small.log).toBe(roomy.log);
    expect(lines(small.log)[0]!.kind).toBe("func");
    expect(small.logBufferSize).toBeGreaterThan(small.log.length);
  });

  it("says so when the log cannot fit under the cap, instead of truncating silently", () => {
    const r = loadProgram({ insns: longProgram(500), type: "socket", logLevel: 2, initialLogSize: 512, maxLogSize: 4096 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errnoName).toBe("ENOSPC");
    expect(r.logTruncated).toBe(true);
    expect(r.log.length).toBeLessThan(4096);
  });

  it("names the program as bpf_prog_info reports it", () => {
    const fd = progs.load({ insns: tiny, type: "socket", name: "bpg test-prog!" });
    expect(progInfo(fd).name).toBe("bpg_test_prog_");
    expect(progInfo(fd).kind).toBe("socket");
  });

  it("refuses a program that is not whole 8-byte instructions", () => {
    expect(() => loadProgram({ insns: new Uint8Array(12), type: "socket", logLevel: 0 })).toThrow(PlaygroundError);
    expect(() => loadProgram({ insns: new Uint8Array(0), type: "socket", logLevel: 0 })).toThrow(PlaygroundError);
  });
});
