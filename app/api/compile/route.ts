/**
 * POST /api/compile: libpcap compiles the filter (in an isolated worker process); everything else
 * the panes show is computed in the browser's worker from the instructions returned here. Only the
 * app's own pages may call it (server/web/request-guard.ts).
 */
import { handleCompile } from "../../../server/web/compile-handler";
import { envExtraHosts, guardJsonPost } from "../../../server/web/request-guard";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** A filter is at most 64 Ki characters; JSON escaping and the other fields fit well within this. */
const MAX_BODY_BYTES = 256 << 10;

const NO_STORE = { "cache-control": "no-store" };

export async function POST(request: Request): Promise<Response> {
  const guarded = await guardJsonPost(request, { maxBodyBytes: MAX_BODY_BYTES, extraHosts: envExtraHosts() });
  if (!guarded.ok) return Response.json({ ok: false, error: guarded.error, badRequest: true }, { status: guarded.status, headers: NO_STORE });
  const result = await handleCompile(guarded.body, { signal: request.signal });
  const status = result.ok ? 200 : result.badRequest ? 400 : result.superseded ? 409 : result.timeout ? 503 : 200;
  return Response.json(result, { status, headers: NO_STORE });
}
