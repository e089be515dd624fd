/**
 * `bpf-playground agent [--port N] [--bind ADDR] [--allow-origin URL]... [--allow-interface NAME]...`
 *
 * Starts the privileged WebSocket agent and prints exactly one line on stdout: the URL a client
 * uses as it is (ws://127.0.0.1:PORT/?token=…). Diagnostics go to stderr. Runs until SIGINT or
 * SIGTERM, then releases every kernel object its clients made.
 */
import { parseArgs, intFlag, stringFlag, UsageError } from "./args";
import { startAgent } from "../agent/server";
import { parseOriginRule } from "../agent/auth";
import { kernelUnavailableReason } from "../kernel/kernel-info";

const SPEC = { port: { value: true }, bind: { value: true } } as const;
const REPEATED = ["allow-origin", "allow-interface"] as const;

/** Pulls the repeatable flags out of argv (the shared parser keeps only the last of each). */
function takeRepeated(argv: readonly string[]): { rest: string[]; values: Record<(typeof REPEATED)[number], string[]> } {
  const values = { "allow-origin": [] as string[], "allow-interface": [] as string[] };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const name = REPEATED.find((n) => arg === `--${n}` || arg.startsWith(`--${n}=`));
    if (!name) {
      rest.push(arg);
      continue;
    }
    const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
    if (value === undefined || value === "") throw new UsageError(`option --${name} needs a value`);
    values[name].push(value);
  }
  return { rest, values };
}

export async function agentCommand(argv: string[]): Promise<number> {
  const { rest, values } = takeRepeated(argv);
  const args = parseArgs(rest, SPEC);
  if (args.positionals.length > 0) throw new UsageError(`agent takes no arguments (got "${args.positionals[0]}")`);
  const port = intFlag(args, "port", 0, 65535) ?? 0;
  const bind = stringFlag(args, "bind");
  for (const o of values["allow-origin"]) {
    try {
      parseOriginRule(o);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  for (const n of values["allow-interface"]) {
    if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(n)) throw new UsageError(`not an interface name: "${n}"`);
  }

  const agent = await startAgent({
    host: bind ?? "127.0.0.1",
    port,
    // --bind is the explicit flag: naming an address is consent to listen there.
    allowNonLoopback: bind !== undefined,
    allowedOrigins: values["allow-origin"],
    allowedInterfaces: values["allow-interface"],
  });
  process.stdout.write(`${agent.url}\n`);
  const why = kernelUnavailableReason();
  if (why) process.stderr.write(`agent: kernel features unavailable: ${why} (compile still works)\n`);

  // A bug must not take the agent (and every client's objects) down with it: log and carry on.
  const onUncaught = (e: unknown) => process.stderr.write(`agent: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.on("uncaughtException", onUncaught);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await agent.close();
  process.off("uncaughtException", onUncaught);
  return 0;
}
