/**
 * The diff of before and after, checked structurally: every program section of the patched host
 * equals the original with exactly one inserted hunk at the stub's start, every other instruction
 * identical except the jump and call offsets whose targets map through `moved` (a call to the
 * stub's start still goes to the start, where the filter now is). The hunk is the translation,
 * then pwru's epilogue, tagged with the translation's cBPF indices; llvm-objdump reads the
 * written file as the model says.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { rawFromDecoded } from "../../lib/ebpf";
import { HOST_KINDS, HOST_OBJECTS, injectFilter, linkTypeOf } from "../../lib/inject";
import { objdumpInsns } from "../elf/oracles";
import { describeWithObjects } from "../support/bpf-objects";
import { checkHunk, checkRaw, checkStreams } from "./check";
import { cbpfFor, hostBytes, scratch } from "./support";

const { dir } = scratch("inject-structural");

const FILTERS = ["tcp port 80", "arp or icmp", "ip[2:2] > 100 and (tcp[tcpflags] & tcp-syn) != 0", "vlan and udp", "len > 100", "ether host 02:00:5e:00:00:01"];

describeWithObjects(
  "inject: before and after differ by one hunk",
  () => {
    for (const host of HOST_KINDS) {
      it.each(FILTERS)(`${host}: %s`, (filter) => {
        const bytes = hostBytes(host);
        const r = injectFilter({ object: bytes, cbpf: cbpfFor(filter), linkType: linkTypeOf("l2") });
        expect(r.stub.name).toBe(HOST_OBJECTS[host].stub);
        expect(r.inserted).toEqual({ sectionIndex: r.stub.sectionIndex, start: r.stub.start, slots: r.inserted.slots });
        checkStreams(r);
        checkRaw(r, bytes);
        checkHunk(r);
        // llvm-objdump reads the written file as the patched model says.
        const file = join(dir, `${host}.o`);
        writeFileSync(file, r.bytes);
        const dumped = objdumpInsns(file);
        for (const p of r.object.programs) {
          const mine = rawFromDecoded(p.insns);
          const theirs = dumped.filter((d) => d.section === p.name);
          expect(theirs.length).toBe(p.insns.length);
          for (const t of theirs) {
            const x = mine[t.slot]!;
            expect(t.bytes.slice(0, 2)).toEqual([x.code, (x.src << 4) | x.dst]);
          }
        }
      });
    }
  },
  ["llvm-objdump"],
);
