import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { readBpfObject } from "../../lib/elf";
import { describeWithObjects, hostObjectPath, HOSTS } from "../../tests/support/bpf-objects";
import { handleHostObject } from "./host-object";

const OK = { host: "127.0.0.1:3000", "sec-fetch-site": "same-origin" };
const get = (headers: Record<string, string>) => new Request("http://127.0.0.1:3000/api/host-object/xdp", { headers });

describeWithObjects("GET /api/host-object", () => {
  it("serves each built host object byte for byte, and it reads as a BPF object with its stub", async () => {
    for (const host of HOSTS) {
      const res = await handleHostObject(get(OK), host);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/x-elf");
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(Buffer.from(bytes).equals(new Uint8Array(readFileSync(hostObjectPath(host))))).toBe(true);
      const obj = readBpfObject(bytes);
      expect(obj.programs.flatMap((p) => p.functions.map((f) => f.name)).some((n) => n.startsWith("filter_pcap_ebpf_"))).toBe(true);
    }
  });

  it("a same-origin fetch without Origin (what browsers send on GET) and one with our Origin both pass", async () => {
    expect((await handleHostObject(get({ host: "localhost:3000" }), "tc")).status).toBe(200);
    expect((await handleHostObject(get({ ...OK, origin: "http://127.0.0.1:3000" }), "tc")).status).toBe(200);
  });

  it("refuses a foreign Host (DNS rebinding), a foreign Origin and a cross-site fetch before reading anything", async () => {
    const cases: [Record<string, string>, number][] = [
      [{ host: "rebind.example:3000" }, 421],
      [{}, 421],
      [{ ...OK, origin: "http://evil.example" }, 403],
      [{ ...OK, origin: "null" }, 403],
      [{ host: OK.host, "sec-fetch-site": "cross-site" }, 403],
      [{ host: OK.host, "sec-fetch-site": "same-site" }, 403],
    ];
    for (const [headers, status] of cases) {
      const res = await handleHostObject(get(headers), "xdp");
      expect(res.status, JSON.stringify(headers)).toBe(status);
      expect(((await res.json()) as { ok: boolean }).ok).toBe(false);
    }
  });

  it("names come from a fixed table: anything else, a path included, is unknown", async () => {
    for (const name of ["../../package.json", "xdp_host.o", "XDP", "skb_fentry", "", "%2e%2e"]) {
      const res = await handleHostObject(get(OK), name);
      expect(res.status, name).toBe(404);
    }
  });

  it("says the object is not built when the build directory lacks it", async () => {
    const res = await handleHostObject(get(OK), "xdp", "/nonexistent-bpf-build");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/xdp_host\.o is not built/);
  });
});
