/**
 * The kernel's func_info / line_info rules, checked before load: the host objects and edits that
 * the kernel loads (tests/elf/edit.test.ts) obey them; each kind of violation is reported, and the
 * kernel refuses the same object (bpftool prog loadall fails) where it can be shown.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { assemble, exit, mov64Imm, mov64Reg } from "../../lib/ebpf";
import { extInfoProblems, extSectionName, readBpfObject, replaceInstructions, writeBpfObject, type BpfObject, type ExtInfo, type LineInfo } from "../../lib/elf";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, HOSTS, readHostObject } from "../support/bpf-objects";

const dir = mkdtempSync(join(tmpdir(), "bpfpg-elf-rules-"));
const pins: string[] = [];
afterAll(() => {
  for (const p of pins) rmSync(p, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** The object with the line_info records of section `name` passed through `edit`. */
function withLines(o: BpfObject, name: string, edit: (records: ExtInfo<LineInfo>["sections"][number]["records"]) => ExtInfo<LineInfo>["sections"][number]["records"]): BpfObject {
  const ext = o.btfExt!;
  return {
    ...o,
    btfExt: { ...ext, lineInfo: { ...ext.lineInfo, sections: ext.lineInfo.sections.map((b) => (extSectionName(o.btf!, b) === name ? { ...b, records: edit(b.records) } : b)) } },
  };
}

describeWithObjects(
  "func_info / line_info rules",
  () => {
    it.each(HOSTS)("%s: the object as built, and with its stubs grown, shrunk and given a new first line, obeys them", (host) => {
      const o = readBpfObject(readHostObject(host));
      expect(extInfoProblems(o)).toEqual([]);
      const text = o.programs.find((p) => p.name === ".text")!;
      for (const f of text.functions) {
        expect(extInfoProblems(replaceInstructions(o, text.sectionIndex, f.start, 0, assemble([mov64Reg("r4", "r5")]).raw))).toEqual([]);
        expect(extInfoProblems(replaceInstructions(o, text.sectionIndex, f.start, f.slots, assemble([mov64Imm("r0", 0), exit()]).raw))).toEqual([]);
      }
    });

    it("reports each kind of violation", () => {
      const o = readBpfObject(readHostObject("xdp"));
      const main = o.programs.find((p) => p.name === "xdp")!;
      const ld = main.insns.find((d) => d.slots === 2)!;
      const rules = (x: BpfObject) => extInfoProblems(x).map((p) => p.rule);
      expect(rules(withLines(o, "xdp", (rs) => [...rs].reverse()))).toContain("line-order");
      expect(rules(withLines(o, "xdp", (rs) => [...rs.filter((r) => r.record.insnOff < (ld.index + 1) * 8), { record: { ...rs[0]!.record, insnOff: (ld.index + 1) * 8 } }]))).toContain("line-not-insn");
      expect(rules(withLines(o, ".text", (rs) => rs.slice(1)))).toEqual(["line-missing"]);
      const ext = o.btfExt!;
      const noFunc = { ...o, btfExt: { ...ext, funcInfo: { ...ext.funcInfo, sections: ext.funcInfo.sections.filter((b) => extSectionName(o.btf!, b) !== ".text") } } };
      expect(rules(noFunc)).toEqual(["func-missing"]);
      const wrongType = {
        ...o,
        btfExt: { ...ext, funcInfo: { ...ext.funcInfo, sections: ext.funcInfo.sections.map((b) => ({ ...b, records: b.records.map((r) => ({ record: { ...r.record, typeId: 1 } })) })) } },
      };
      expect(new Set(rules(wrongType))).toEqual(new Set(["func-type"]));
      expect(extInfoProblems(withLines(o, ".text", (rs) => rs.slice(1)))[0]!.message).toMatch(/filter_pcap_ebpf_l2 \(slot 0\) has no line_info/);
    });

    describeKernel("in the running kernel", () => {
      it("an object missing the stub's first line_info is refused by the kernel too", () => {
        const o = readBpfObject(readHostObject("xdp"));
        const bad = withLines(o, ".text", (rs) => rs.slice(1));
        expect(extInfoProblems(bad).map((p) => p.rule)).toEqual(["line-missing"]);
        const file = join(dir, "xdp-no-line.o");
        writeFileSync(file, writeBpfObject(bad));
        const pin = `/sys/fs/bpf/bpfpg-elfr-${process.pid}`;
        pins.push(pin);
        let stderr = "";
        try {
          execFileSync("bpftool", ["prog", "loadall", file, pin], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } catch (e) {
          stderr = String((e as { stderr?: string }).stderr);
        }
        expect(stderr).toMatch(/missing bpf_line_info for func#1/);
      });
    });
  },
  ["bpftool"],
);
