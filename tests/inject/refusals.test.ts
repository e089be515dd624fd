/**
 * Every refusal of lib/inject, with its code and its message: on the project's hosts where they
 * can show it (wrong layer, a missing stub name, a long filter) and otherwise on tiny C variants
 * built with clang into a scratch directory (a global stub, four arguments, an uncalled stub, a
 * deep host frame, a program type no access mode serves), or on a read object edited in memory.
 */
import { writeFileSync } from "node:fs";
import { afterAll, expect, it } from "vitest";
import type { CbpfInsn } from "../../lib/cbpf/insn";
import { rawFromDecoded } from "../../lib/ebpf";
import { readBpfObject, replaceInstructions, writeBpfObject, type BpfObject } from "../../lib/elf";
import { INJECT_REFUSALS, injectFilter, linkTypeOf } from "../../lib/inject";
import { describeKernel } from "../kernel/support";
import { describeWithObjects } from "../support/bpf-objects";
import { bpftool, buildC, cbpfFor, hostBytes, scratch, thrown } from "./support";

const { dir, pins } = scratch("inject-refusals");
const seen = new Set<string>();
const L2 = linkTypeOf("l2");

function refused(req: Parameters<typeof injectFilter>[0]): { code: string; message: string } {
  const e = thrown(() => injectFilter(req));
  seen.add(e.code);
  return e;
}

const PRELUDE = `#include "playground.h"\nchar LICENSE[] SEC("license") = "GPL";\n`;
const STUB = (name: string, prefix = "static ") =>
  `${prefix}__noinline bool ${name}(void *_c, void *__c, void *___c, void *data, void *data_end)\n{\n\tPLAYGROUND_STUB_BODY(_c, __c, ___c, data, data_end);\n}\n`;
const XDP_CALLER = (stub: string, section = "xdp") =>
  `SEC("${section}")\nint prog_${section.replace(/\W/g, "_")}(struct xdp_md *x)\n{\n\tvoid *d = (void *)(long)x->data, *e = (void *)(long)x->data_end;\n\treturn ${stub}(x, x, x, d, e) ? 2 : 1;\n}\n`;

describeWithObjects(
  "inject: refusals",
  () => {
    it("no-stub: an object without a stub, a name that is not there, several stubs and none the default", () => {
      const none = buildC(dir, "none", `${PRELUDE}SEC("xdp")\nint prog(struct xdp_md *x)\n{\n\treturn 2;\n}\n`);
      let e = refused({ object: none, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/no-stub");
      expect(e.message).toMatch(/^the object has no filter stub: define a static __noinline function named filter_pcap_ebpf_l2 or filter_pcap_ebpf_l3/);

      e = refused({ object: hostBytes("xdp"), cbpf: cbpfFor("ip", "l3"), linkType: linkTypeOf("l3"), stub: "filter_pcap_ebpf_l3" });
      expect(e.code).toBe("inject/no-stub");
      expect(e.message).toBe("no function named filter_pcap_ebpf_l3 in the object (stubs here: filter_pcap_ebpf_l2)");

      const two = buildC(
        dir,
        "two_l3",
        `${PRELUDE}${STUB("filter_pcap_ebpf_l3")}${STUB("filter_pcap_ebpf_tunnel_l3")}SEC("xdp")\nint prog(struct xdp_md *x)\n{\n\tvoid *d = (void *)(long)x->data, *e = (void *)(long)x->data_end;\n\treturn filter_pcap_ebpf_l3(x, x, x, d, e) && filter_pcap_ebpf_tunnel_l3(x, x, x, d, e) ? 2 : 1;\n}\n`,
      );
      e = refused({ object: two, cbpf: cbpfFor("ip", "l3"), linkType: linkTypeOf("l3") });
      expect(e.code).toBe("inject/no-stub");
      expect(e.message).toBe("the object has 2 stubs (filter_pcap_ebpf_l3, filter_pcap_ebpf_tunnel_l3) and none is filter_pcap_ebpf_l2: name the one to patch");
      // Named, either goes in.
      expect(injectFilter({ object: two, cbpf: cbpfFor("ip", "l3"), linkType: linkTypeOf("l3"), stub: "filter_pcap_ebpf_tunnel_l3" }).stub.name).toBe("filter_pcap_ebpf_tunnel_l3");
    });

    it("stub-not-static: a global stub (built so, and a static one whose symbol is edited to global)", () => {
      const global = buildC(dir, "global", `${PRELUDE}${STUB("filter_pcap_ebpf_l2", "")}${XDP_CALLER("filter_pcap_ebpf_l2")}`);
      let e = refused({ object: global, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/stub-not-static");
      expect(e.message).toBe(
        "filter_pcap_ebpf_l2 is global: the verifier checks a global function on its own, so data and data_end would reach it as plain memory, not packet pointers; declare it static __noinline",
      );

      // The ELF symbol says global while BTF still says static: the symbol is enough to refuse.
      const obj = readBpfObject(hostBytes("xdp"));
      const edited: BpfObject = {
        ...obj,
        symbols: { ...obj.symbols, symbols: obj.symbols.symbols.map((s) => (s.name === "filter_pcap_ebpf_l2" ? { ...s, bind: "GLOBAL" as const } : s)) },
        programs: obj.programs.map((p) => ({ ...p, functions: p.functions.map((f) => (f.name === "filter_pcap_ebpf_l2" ? { ...f, isStatic: false } : f)) })),
      };
      e = refused({ object: edited, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/stub-not-static");
      expect(e.message).toMatch(/^filter_pcap_ebpf_l2 is global/);
    });

    it("stub-signature: four arguments (BTF FUNC_PROTO), and a stub name without a layer", () => {
      const four = buildC(
        dir,
        "four",
        `${PRELUDE}static __noinline bool filter_pcap_ebpf_l2(void *_c, void *__c, void *___c, void *data)\n{\n\treturn data != 0 && _c == __c && __c == ___c;\n}\nSEC("xdp")\nint prog(struct xdp_md *x)\n{\n\tvoid *d = (void *)(long)x->data;\n\treturn filter_pcap_ebpf_l2(x, x, x, d) ? 2 : 1;\n}\n`,
      );
      let e = refused({ object: four, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/stub-signature");
      expect(e.message).toBe(
        "filter_pcap_ebpf_l2 takes 4 arguments; the stub ABI has five (ctx, ctx, ctx, data, data_end), so that r4 and r5 hold the packet bounds on entry",
      );

      // Five arguments, but a body that is not the ABI's epilogue (with data_end = 0 it is always
      // false): every packet would be refused whatever the filter says.
      const other = buildC(
        dir,
        "other_body",
        `${PRELUDE}static __noinline bool filter_pcap_ebpf_l2(void *_c, void *__c, void *___c, void *data, void *data_end)\n{\n\treturn data != data_end && data_end != 0 && _c == __c && __c == ___c;\n}\n${XDP_CALLER("filter_pcap_ebpf_l2")}`,
      );
      e = refused({ object: other, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/stub-signature");
      expect(e.message).toBe(
        "filter_pcap_ebpf_l2's body returns 0 when entered with r4 = 262144 and r1 = r2 = r3 = r5 = 0, where the stub ABI's body returns 1: the spliced filter falls through into it, so it must be PLAYGROUND_STUB_BODY (data != data_end && a == b && b == c)",
      );

      // `data` unused: clang passes data_end in r4 and the body never reads r5.
      const dropped = buildC(
        dir,
        "dropped_arg",
        `${PRELUDE}static __noinline bool filter_pcap_ebpf_l2(void *_c, void *__c, void *___c, void *data, void *data_end)\n{\n\treturn data_end != 0 && _c == __c && __c == ___c;\n}\n${XDP_CALLER("filter_pcap_ebpf_l2")}`,
      );
      e = refused({ object: dropped, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/stub-signature");
      expect(e.message).toBe(
        "filter_pcap_ebpf_l2's body never reads r5: clang drops an argument a static function does not use and passes the next one in its place, so r4 and r5 may not hold data and data_end; use every argument (PLAYGROUND_STUB_BODY)",
      );

      const unnamed = buildC(dir, "unnamed", `${PRELUDE}${STUB("my_filter")}${XDP_CALLER("my_filter")}`);
      e = refused({ object: unnamed, cbpf: cbpfFor("ip"), linkType: L2, stub: "my_filter" });
      expect(e.code).toBe("inject/stub-signature");
      expect(e.message).toBe("cannot tell the layer of my_filter: a stub's name ends in _l2 (data at the Ethernet header) or _l3 (data at the IP header)");
    });

    it("stub-not-called: a stub nothing calls, and one called only from a function nothing calls", () => {
      const unused = buildC(dir, "unused", `${PRELUDE}static __noinline __attribute__((used)) bool filter_pcap_ebpf_l2(void *_c, void *__c, void *___c, void *data, void *data_end)\n{\n\tPLAYGROUND_STUB_BODY(_c, __c, ___c, data, data_end);\n}\nSEC("xdp")\nint prog(struct xdp_md *x)\n{\n\treturn 2;\n}\n`);
      let e = refused({ object: unused, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/stub-not-called");
      expect(e.message).toBe("nothing calls filter_pcap_ebpf_l2: a filter spliced into it would never run");

      const orphan = buildC(
        dir,
        "orphan",
        `${PRELUDE}${STUB("filter_pcap_ebpf_l2")}static __noinline __attribute__((used)) int orphan(struct xdp_md *x)\n{\n\tvoid *d = (void *)(long)x->data, *e = (void *)(long)x->data_end;\n\treturn filter_pcap_ebpf_l2(x, x, x, d, e);\n}\nSEC("xdp")\nint prog(struct xdp_md *x)\n{\n\treturn 2;\n}\n`,
      );
      e = refused({ object: orphan, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/stub-not-called");
      expect(e.message).toBe("no program section reaches filter_pcap_ebpf_l2: it is called only from functions nothing calls, so the filter would never run");
    });

    it("wrong-layer: an L2 filter in an L3 stub, and an L3 filter in an L2 stub", () => {
      let e = refused({ object: hostBytes("skb"), cbpf: cbpfFor("ip"), linkType: linkTypeOf("l2"), stub: "filter_pcap_ebpf_l3" });
      expect(e.code).toBe("inject/wrong-layer");
      expect(e.message).toBe(
        "filter_pcap_ebpf_l3 is an L3 stub (data points at the IP header), but the filter was compiled for EN10MB (Ethernet); compile it for RAW (IP)",
      );
      e = refused({ object: hostBytes("xdp"), cbpf: cbpfFor("ip", "l3"), linkType: linkTypeOf("l3") });
      expect(e.code).toBe("inject/wrong-layer");
      expect(e.message).toBe(
        "filter_pcap_ebpf_l2 is an L2 stub (data points at the Ethernet header), but the filter was compiled for RAW (IP); compile it for EN10MB (Ethernet)",
      );
    });

    const DEEP = `${PRELUDE}${STUB("filter_pcap_ebpf_l2")}SEC("raw_tp/netif_receive_skb")\nint prog(struct bpf_raw_tracepoint_args *ctx)\n{\n\tchar buf[448];\n\tvoid *skb = (void *)ctx->args[0];\n\n\tif (bpf_probe_read_kernel(buf, sizeof(buf), skb))\n\t\treturn 0;\n\treturn filter_pcap_ebpf_l2(skb, skb, skb, (void *)(long)buf[0], (void *)(long)buf[447]);\n}\n`;

    it("stack: a host frame of 448 bytes leaves no room for a probe-read filter", () => {
      const e = refused({ object: buildC(dir, "deep", DEEP), cbpf: cbpfFor("tcp port 80"), linkType: L2 });
      expect(e.code).toBe("inject/stack");
      expect(e.message).toMatch(
        /^the filter needs 152 bytes of stack in filter_pcap_ebpf_l2, and the call chain prog → filter_pcap_ebpf_l2 would then use 608 bytes \(464 without the filter\); the kernel allows 512$/,
      );
    });

    describeKernel("the stack check against the kernel", () => {
      it("the kernel refuses the same hunk spliced in unchecked, and loads a filter that needs no stack", () => {
        const deep = buildC(dir, "deep-kernel", DEEP);
        // The hunk as it goes into the skb host (same access mode, same stub name), spliced into
        // the deep host with lib/elf directly: the verifier refuses it for its combined stack.
        const same = injectFilter({ object: hostBytes("skb"), cbpf: cbpfFor("tcp port 80"), linkType: L2 });
        const sec = same.object.programs.find((p) => p.sectionIndex === same.inserted.sectionIndex)!;
        const hunk = rawFromDecoded(sec.insns).slice(same.inserted.start, same.inserted.start + same.inserted.slots);
        const deepObj = readBpfObject(deep);
        const stub = deepObj.programs.flatMap((p) => p.functions.map((f) => ({ p, f }))).find((x) => x.f.name === "filter_pcap_ebpf_l2")!;
        const forced = `${dir}/deep-forced.o`;
        writeFileSync(forced, writeBpfObject(replaceInstructions(deepObj, stub.p.sectionIndex, stub.f.start, 0, hunk)));
        const forcedPin = `/sys/fs/bpf/bpfpg-inject-refusals-forced-${process.pid}`;
        pins.push(forcedPin);
        let log = "";
        try {
          bpftool(["prog", "loadall", forced, forcedPin]);
        } catch (err) {
          log = String((err as { stderr?: string }).stderr);
        }
        const kernel = /combined stack size of 2 calls is (\d+)\. Too large/.exec(log);
        expect(kernel, log).not.toBeNull();
        expect(Number(kernel![1])).toBeGreaterThan(512);

        // `ret #0` needs one 8-byte slot at most: the chain stays at 464, and the kernel agrees it fits.
        const reject: CbpfInsn[] = [{ code: 0x06, jt: 0, jf: 0, k: 0 }];
        const ok = injectFilter({ object: deep, cbpf: reject, linkType: L2 });
        const file = `${dir}/deep-ok.o`;
        writeFileSync(file, ok.bytes);
        const pin = `/sys/fs/bpf/bpfpg-inject-refusals-${process.pid}`;
        pins.push(pin);
        bpftool(["prog", "loadall", file, pin]);
      });
    });

    it("range: a filter too long for eBPF's 16-bit jump offsets once translated", () => {
      // 6001 cBPF instructions (libpcap writes programs this long for long host lists; only the
      // kernel's classic loader stops at 4096): indirect loads through bpf_probe_read_kernel.
      const cbpf: CbpfInsn[] = [{ code: 0xb1, jt: 0, jf: 0, k: 14 }];
      const n = 3000;
      for (let i = 0; i < n; i++) cbpf.push({ code: 0x50, jt: 0, jf: 0, k: 200 + ((i * 37) % 1200) }, { code: 0x15, jt: 0, jf: 0, k: i & 0xff });
      cbpf.push({ code: 0x06, jt: 0, jf: 0, k: 1 }, { code: 0x06, jt: 0, jf: 0, k: 0 });
      for (let i = 0; i < n; i++) cbpf[2 + 2 * i] = { ...cbpf[2 + 2 * i]!, jf: Math.min(cbpf.length - 2 - (2 + 2 * i), 255) };
      const e = refused({ object: hostBytes("skb"), cbpf, linkType: L2 });
      expect(e.code).toBe("inject/range");
      expect(e.message).toMatch(/the translated program is too long for this jump \(eBPF jump offsets are signed 16-bit, at most 32767 instructions\)/);
    });

    it("ext-info: a stub whose first instruction lost its line_info", () => {
      const obj = readBpfObject(hostBytes("xdp"));
      const ext = obj.btfExt!;
      // Without .rel.BTF.ext, which would no longer follow clang's one-relocation-per-record pattern.
      const edited: BpfObject = {
        ...obj,
        relocations: obj.relocations.filter((r) => obj.elf.sections[r.target]!.header.name !== ".BTF.ext"),
        btfExt: {
          ...ext,
          lineInfo: { ...ext.lineInfo, sections: ext.lineInfo.sections.map((b) => (obj.btf!.string(b.secNameOff) === ".text" ? { ...b, records: b.records.filter((r) => r.record.insnOff !== 0) } : b)) },
        },
      };
      const e = refused({ object: edited, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/ext-info");
      expect(e.message).toBe(
        "the patched object breaks the kernel's func_info/line_info rules: .text: function filter_pcap_ebpf_l2 (slot 0) has no line_info at its first instruction",
      );
    });

    it("unsupported-program: a perf_event program, and a stub shared by xdp and a tracing program", () => {
      const perf = buildC(
        dir,
        "perf",
        `${PRELUDE}${STUB("filter_pcap_ebpf_l2")}SEC("perf_event")\nint prog(void *ctx)\n{\n\treturn filter_pcap_ebpf_l2(ctx, ctx, ctx, ctx, ctx);\n}\n`,
      );
      let e = refused({ object: perf, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/unsupported-program");
      expect(e.message).toBe(
        'filter_pcap_ebpf_l2 runs in section "perf_event", a program type none of the access modes serves (direct: xdp, tc; bpf_probe_read_kernel: raw_tp, tp_btf, fentry, kprobe; bpf_skb_load_bytes: socket, cgroup_skb)',
      );
      const mixed = buildC(
        dir,
        "mixed",
        `${PRELUDE}${STUB("filter_pcap_ebpf_l2")}${XDP_CALLER("filter_pcap_ebpf_l2")}SEC("raw_tp/netif_receive_skb")\nint trace(struct bpf_raw_tracepoint_args *ctx)\n{\n\tvoid *skb = (void *)ctx->args[0];\n\treturn filter_pcap_ebpf_l2(skb, skb, skb, skb, skb);\n}\n`,
      );
      e = refused({ object: mixed, cbpf: cbpfFor("ip"), linkType: L2 });
      expect(e.code).toBe("inject/unsupported-program");
      expect(e.message).toMatch(/^filter_pcap_ebpf_l2 is called from "(xdp|raw_tp\/netif_receive_skb)" \((direct|probe_read_kernel)\) and from "(xdp|raw_tp\/netif_receive_skb)" \((direct|probe_read_kernel)\); one splice cannot serve both$/);
    });

    afterAll(() => {
      // Every refusal lib/inject documents has a test above.
      expect([...seen].sort()).toEqual(INJECT_REFUSALS.map((r) => `inject/${r}`).sort());
    });
  },
  ["clang", "bpftool"],
);
