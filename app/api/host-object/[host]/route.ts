/**
 * GET /api/host-object/xdp|tc|skb: a built host program for the inject pane, by kind only
 * (server/web/host-object.ts); the same loopback-Host and same-origin guard as /api/compile.
 */
import { handleHostObject } from "../../../../server/web/host-object";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function GET(request: Request, context: { params: Promise<{ host: string }> }): Promise<Response> {
  const { host } = await context.params;
  return handleHostObject(request, host);
}
