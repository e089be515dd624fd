/**
 * `bpf-playground`: the command-line face of the project. Its commands and output formats are a
 * contract (ARCHITECTURE.md section 5); change them only by adding.
 */
import { UsageError } from "./cli/args";
import { compileCommand } from "./cli/compile";
import { runCommand } from "./cli/run";
import { startCommand, startHooks } from "./cli/start";
import { traceCommand } from "./cli/trace";
import { agentCommand } from "./cli/agent";
import { isPlaygroundError } from "../lib/errors";

const USAGE = `usage:
  bpf-playground compile FILTER [--dlt NAME|NUMBER] [--snaplen N] [--no-optimize]
                                [--format tcpdump|dd|ddd|ebpf|json] [--target socket|tc|xdp|kprobe]
  bpf-playground run FILTER --pcap FILE [--engine cbpf|ebpf|kernel] [--target socket|tc|xdp|kprobe]
                                [--inject xdp|tc|kprobe] [--json]
  bpf-playground trace FILTER [--target ...] [--source emulator|kernel] [--dlt ...]
  bpf-playground inject FILTER --host xdp|tc|kprobe [--out FILE.o] [--diff]
  bpf-playground agent [--port N] [--bind ADDR] [--allow-origin URL]... [--allow-interface NAME]...
  bpf-playground start
`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  compile: compileCommand,
  run: runCommand,
  trace: traceCommand,
  agent: agentCommand,
  start: startCommand,
};

// `start` runs the agent beside the UI, in the same process; the printed URL carries its address.
startHooks.startAgent = async () => {
  const { startAgent } = await import("./agent/server");
  const agent = await startAgent();
  return { url: agent.url, stop: () => agent.close() };
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`bpf-playground: unknown or not yet available command "${name}"\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bpf-playground ${name}: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (isPlaygroundError(e)) {
      process.stderr.write(`bpf-playground ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bpf-playground: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
