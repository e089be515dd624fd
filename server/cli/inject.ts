/**
 * `inject FILTER --host xdp|tc|skb [--object FILE.o] [--stub NAME] [--out FILE.o] [--diff] [--json]`:
 * compile the filter with libpcap for the stub's link type, splice it into the host object
 * (server/inject.ts, lib/inject), and write or describe the result. Without --out, --diff or
 * --json it prints a short summary. --diff prints lib/diff's aligned diff (the page's diff pane
 * shows the same rows).
 */
import { existsSync, writeFileSync } from "node:fs";
import { diffStreams, formatDiff } from "../../lib/diff";
import type { BpfObject } from "../../lib/elf";
import { hostKindOf, HOST_OBJECTS, type HostKind } from "../../lib/inject";
import { compileAndInject, hostObjectFile, readObjectFile, type CompileInjectResult } from "../inject";
import { boolFlag, parseArgs, stringFlag, UsageError } from "./args";
import { filterFromPositionals, parseNetmask } from "./compile";

const SPEC = {
  host: { value: true, choices: ["xdp", "tc", "skb", "kprobe"] },
  object: { value: true },
  stub: { value: true },
  out: { value: true },
  diff: { value: false },
  json: { value: false },
  "no-optimize": { value: false },
  netmask: { value: true },
} as const;

export async function injectCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPEC);
  const filter = filterFromPositionals(args.positionals);
  if (filter.trim() === "") throw new UsageError("inject needs a FILTER");
  const hostName = stringFlag(args, "host");
  const objectPath = stringFlag(args, "object");
  if (hostName === undefined && objectPath === undefined) throw new UsageError("inject needs --host xdp|tc|skb, or --object FILE.o");
  const host: HostKind | null = hostName === undefined ? null : hostKindOf(hostName);
  const file = objectPath ?? hostObjectFile(host!);
  if (!existsSync(file)) {
    process.stderr.write(`bpf-playground inject: ${file} does not exist${objectPath ? "" : " (build the hosts with scripts/build-bpf.sh)"}\n`);
    return 1;
  }
  const r = compileAndInject({
    filter,
    object: readObjectFile(file),
    stub: stringFlag(args, "stub"),
    optimize: !boolFlag(args, "no-optimize"),
    netmask: parseNetmask(stringFlag(args, "netmask")),
  });
  const out = stringFlag(args, "out");
  if (out !== undefined) writeFileSync(out, r.bytes);
  if (boolFlag(args, "json")) {
    process.stdout.write(`${JSON.stringify(summary(r, host), null, 2)}\n`);
    return 0;
  }
  if (boolFlag(args, "diff")) process.stdout.write(diffListing(r));
  else if (out === undefined) process.stdout.write(shortSummary(r, host));
  return 0;
}

const slotsOf = (obj: BpfObject, sectionIndex: number): number =>
  obj.programs.find((p) => p.sectionIndex === sectionIndex)?.insns.reduce((n, d) => n + d.slots, 0) ?? 0;

function summary(r: CompileInjectResult, host: HostKind | null) {
  const first = r.splices[0]!.result;
  const sec = first.stub.sectionIndex;
  // Inserted ranges in the final object's numbering (a later splice before a range moves it).
  const ranges = r.splices.map((sp, k) => {
    const ins = sp.result.inserted;
    const start = r.splices.slice(k + 1).reduce((s, later) => later.result.moved.get(ins.sectionIndex)?.[s] ?? s, ins.start);
    return { ...ins, start };
  });
  return {
    host,
    object: host ? HOST_OBJECTS[host].file : null,
    stub: first.stub.name,
    layer: first.stub.layer,
    section: first.stub.section,
    access: first.access.mode,
    reason: first.access.reason,
    inserted: ranges[0]!,
    slotsBefore: slotsOf(r.original, sec),
    slotsAfter: slotsOf(r.object, sec),
    cbpfInsns: r.splices[0]!.cbpf.length,
    stackDepth: first.translation.stackDepth,
    also: r.splices.slice(1).map((s, k) => ({ stub: s.result.stub.name, layer: s.result.stub.layer, inserted: ranges[k + 1]!, cbpfInsns: s.cbpf.length, rejectAll: s.rejectAll })),
    notes: r.notes,
  };
}

function shortSummary(r: CompileInjectResult, host: HostKind | null): string {
  const s = summary(r, host);
  const lines = [
    `${s.stub} (${s.layer}, ${s.section}): ${s.inserted.slots} instructions inserted at slot ${s.inserted.start}; ${s.section} ${s.slotsBefore} -> ${s.slotsAfter} slots`,
    `access: ${s.access}: ${s.reason}`,
    ...s.also.map((a) => `${a.stub} (${a.layer}): ${a.inserted.slots} instructions inserted at slot ${a.inserted.start}${a.rejectAll ? " (reject-all)" : ""}`),
    ...s.notes.map((n) => `note: ${n}`),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * lib/diff's aligned diff of every program section, before the first splice and after the last,
 * with every hunk in full and each inserted instruction tagged with its cBPF index (composed over
 * the splices: a later splice's own streams know only its own filter).
 */
function diffListing(r: CompileInjectResult): string {
  const before = r.splices[0]!.result.before;
  const tags = cbpfTags(r);
  const after = r.splices[r.splices.length - 1]!.result.after.map((st) => ({
    ...st,
    insns: st.insns.map((i) => {
      const c = tags.get(`${st.sectionIndex}:${i.slot}`);
      return c === undefined ? i : { ...i, cbpf: c };
    }),
  }));
  return formatDiff(diffStreams(before, after), before, after, { context: 3 });
}

/** The cBPF index of each inserted instruction, keyed "section:slot" in the final numbering. */
function cbpfTags(r: CompileInjectResult): Map<string, number | null> {
  const out = new Map<string, number | null>();
  r.splices.forEach((sp, k) => {
    const ins = sp.result.inserted;
    const stream = sp.result.after.find((s) => s.sectionIndex === ins.sectionIndex)!;
    for (const i of stream.insns) {
      if (i.slot < ins.start || i.slot >= ins.start + ins.slots) continue;
      const final = r.splices.slice(k + 1).reduce((s, later) => later.result.moved.get(ins.sectionIndex)?.[s] ?? s, i.slot);
      out.set(`${ins.sectionIndex}:${final}`, i.cbpf ?? null);
    }
  });
  return out;
}
