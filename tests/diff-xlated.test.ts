/**
 * The diff of what we loaded against the kernel's xlated dump of it (server/kernel/inspect.ts, the
 * text the agent's inspect op returns). Only the verifier's rewrites may differ: LD_ABS expanded
 * into helper calls (socket), context loads converted to the kernel's own layout (xdp); every
 * other instruction is the same or a jump that moved because the code around it grew.
 */
import { afterAll, describe, expect, it } from "vitest";
import { assemble, callLabel, encodeProgram, exit, label, mov64Imm, mov64Reg } from "../lib/ebpf";
import { diffStreams, streamFromRaw, streamFromTranslation, streamFromXlated } from "../lib/diff";
import { PlaygroundError } from "../lib/errors";
import { translate, type Target } from "../lib/translate";
import { compileListing } from "../server/compile";
import { dumpProgram } from "../server/kernel/inspect";
import { loadProgram } from "../server/kernel/load";
import { closeFd } from "../server/native/libc";
import { requires } from "./support/requires";

const kernel = requires("diff against the kernel's xlated dump", "kernel", "libpcap");
const fds: number[] = [];
afterAll(() => fds.forEach(closeFd));

function loadedAndXlated(filter: string, target: Target) {
  const compiled = compileListing({ filter, dlt: 1, format: "json" });
  if (!compiled.ok) throw new Error(compiled.error);
  const t = translate(compiled.insns, { target });
  const r = loadProgram({ insns: encodeProgram(t.program.raw), type: target === "socket" ? "socket" : target, logLevel: 0 });
  if (!r.ok) throw new Error(`${target}: ${r.errnoName}\n${r.log}`);
  fds.push(r.fd);
  const dump = dumpProgram(r.fd);
  const left = streamFromTranslation(t, "loaded");
  const right = streamFromXlated(dump.xlatedText);
  const d = diffStreams([left], [right]).sections[0]!;
  return { t, dump, left, right, d };
}

describe.skipIf(!kernel)("diff: loaded program vs kernel xlated dump", () => {
  it("socket filter: each LD_ABS is rewritten, everything else is the same or a moved jump", () => {
    const { left, right, d, dump } = loadedAndXlated("tcp port 80", "socket");
    expect(right.insns.length).toBe(dump.xlatedText.length);
    const ldAbs = (text: string) => /skb\[/.test(text);
    let rewritten = 0;
    for (const r of d.rows) {
      const a = r.left === undefined ? undefined : left.insns[r.left]!;
      if (a && ldAbs(a.text)) {
        expect(["delete", "change"]).toContain(r.kind);
        rewritten++;
      } else if (a) {
        // Not a packet load: the kernel kept it. A jump may have moved over the expansion.
        expect(["same", "moved"], `${r.kind}: ${a.text}`).toContain(r.kind);
        if (r.kind === "moved") expect(a.target).toBeDefined();
      }
    }
    expect(rewritten).toBe(left.insns.filter((x) => ldAbs(x.text)).length);
    expect(rewritten).toBeGreaterThan(0);
    // The expansion is inserted code on the right, and the kernel's dump is longer than what we gave it.
    expect(d.summary.insert).toBeGreaterThan(0);
    expect(d.summary.moved).toBeGreaterThan(0);
    expect(dump.counts.xlatedInsns).toBeGreaterThan(left.insns.length);
  });

  it("xdp: the context loads are converted, the rest of the program is kept", () => {
    const { left, d } = loadedAndXlated("udp and port 53", "xdp");
    const ctxLoad = (text: string) => /^r\d+ = \*\(u32 \*\)\(r1 /.test(text);
    const converted = d.rows.filter((r) => r.left !== undefined && ctxLoad(left.insns[r.left]!.text));
    expect(converted.length).toBeGreaterThan(0);
    for (const r of converted) expect(r.kind).not.toBe("same");
    for (const r of d.rows) {
      if (r.left === undefined || ctxLoad(left.insns[r.left]!.text)) continue;
      expect(["same", "moved"], left.insns[r.left]!.text).toContain(r.kind);
    }
  });
});

describe.skipIf(!kernel)("xlated text of a bpf-to-bpf call", () => {
  it("reads `call pc+N` as it was loaded (the kernel keeps N in off once JITed), so the diff keeps the call", () => {
    const items = [mov64Imm("r1", 1), callLabel("sub"), exit(), label("pad"), mov64Imm("r0", 9), exit(), label("sub"), mov64Reg("r0", "r1"), exit()];
    // "pad" is a subprogram nothing calls: the verifier rejects unreachable code, so call it too.
    items.splice(2, 0, callLabel("pad"));
    const { raw } = assemble(items);
    const r = loadProgram({ insns: encodeProgram(raw), type: "socket", logLevel: 0 });
    if (!r.ok) throw new Error(`${r.errnoName}\n${r.log}`);
    fds.push(r.fd);
    const loaded = streamFromRaw(raw, { section: "loaded" });
    const xlated = streamFromXlated(dumpProgram(r.fd).xlatedText);
    expect(xlated.insns.map((x) => x.text)).toEqual(loaded.insns.map((x) => x.text));
    expect(diffStreams([loaded], [xlated]).sections[0]!.rows.every((row) => row.kind === "same")).toBe(true);
  });
});

describe("diff: xlated text", () => {
  it("reads `N: (op) text` lines, labels pc-relative targets, and refuses another shape with its line", () => {
    const s = streamFromXlated(["0: (b7) r0 = 0", "1: (05) goto pc+1", "2: (18) r1 = 0x0", "4: (95) exit"]);
    expect(s.insns.map((x) => [x.slot, x.text, x.target])).toEqual([
      [0, "r0 = 0", undefined],
      [1, "goto L3", "xlated:3"],
      [2, "r1 = 0x0", undefined],
      [4, "exit", undefined],
    ]);
    try {
      streamFromXlated(["0: (b7) r0 = 0", "(inspect failed: EPERM)"]);
      throw new Error("expected a refusal");
    } catch (e) {
      expect(e).toBeInstanceOf(PlaygroundError);
      expect((e as PlaygroundError).position).toEqual({ kind: "text", line: 2, column: 1 });
    }
  });
});
