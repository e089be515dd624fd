/**
 * POST /api/compile: libpcap compiles the filter (koffi, Node only); everything else the panes
 * show is computed in the browser's worker from the instructions returned here.
 */
import { handleCompile } from "../../../server/web/compile-handler";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return Response.json({ ok: false, error: "the body must be JSON", badRequest: true }, { status: 400 });
  }
  const result = handleCompile(body);
  const status = !result.ok && result.badRequest ? 400 : 200;
  return Response.json(result, { status, headers: { "cache-control": "no-store" } });
}
