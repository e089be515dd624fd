/**
 * The built host programs (bpf/build/{xdp,tc,skb}_host.o) for the page, which reads and patches
 * them in the browser (lib/elf, lib/inject). The caller names a host kind and nothing else: the
 * file name comes from a fixed table, so no request text ever reaches a path.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { HOST_KINDS, type HostKind } from "../../lib/inject/types";
import { envExtraHosts, guardGet } from "./request-guard";

const FILES: Readonly<Record<HostKind, string>> = { xdp: "xdp_host.o", tc: "tc_host.o", skb: "skb_host.o" };

/** bpf/build under the server's working directory (npm start runs at the repository root), or BPFP_BPF_BUILD. */
export function hostObjectDir(): string {
  return process.env.BPFP_BPF_BUILD || join(process.cwd(), "bpf", "build");
}

const isHostKind = (name: string): name is HostKind => (HOST_KINDS as readonly string[]).includes(name);

const NO_STORE = { "cache-control": "no-store" };

/** GET /api/host-object/<kind>: the object's bytes, or a JSON error with the reason. */
export async function handleHostObject(request: Request, name: string, dir = hostObjectDir()): Promise<Response> {
  const guarded = guardGet(request, { extraHosts: envExtraHosts() });
  if (!guarded.ok) return Response.json({ ok: false, error: guarded.error }, { status: guarded.status, headers: NO_STORE });
  if (!isHostKind(name)) {
    return Response.json({ ok: false, error: `unknown host "${name.slice(0, 40)}" (${HOST_KINDS.join(", ")})` }, { status: 404, headers: NO_STORE });
  }
  let bytes: Buffer;
  try {
    // The file name is from FILES and dir from the server's own settings: nothing for the
    // bundler to trace (it would otherwise include the whole project in the server output).
    bytes = await readFile(/*turbopackIgnore: true*/ join(/*turbopackIgnore: true*/ dir, FILES[name]));
  } catch {
    return Response.json({ ok: false, error: `${FILES[name]} is not built (run scripts/build-bpf.sh)` }, { status: 503, headers: NO_STORE });
  }
  return new Response(new Uint8Array(bytes), {
    status: 200,
    headers: { ...NO_STORE, "content-type": "application/x-elf", "content-disposition": `attachment; filename="${FILES[name]}"`, "x-content-type-options": "nosniff" },
  });
}
