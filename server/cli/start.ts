/**
 * `bpf-playground start`: the web UI and the agent together. Until the Next.js UI lands this serves
 * a placeholder page, but it is already the command the README documents.
 */
import { createServer } from "node:http";
import { parseArgs, intFlag } from "./args";

const SPEC = { port: { value: true } } as const;

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>BPF Playground</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:4rem auto;padding:0 1rem}code{background:#eee;padding:0 .25rem}</style>
</head><body><h1>BPF Playground</h1>
<p>The web IDE is being built. Meanwhile the command line works:</p>
<pre><code>npx bpf-playground compile 'tcp port 80'
npx bpf-playground run 'tcp port 80' --pcap public/samples/http.pcap --json</code></pre>
</body></html>`;

export async function startCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPEC);
  const port = intFlag(args, "port", 0, 65535) ?? 3000;
  const server = createServer((req, res) => {
    if (req.url === "/" || req.url?.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  process.stdout.write(`BPF Playground: open http://127.0.0.1:${actual}/\n`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
