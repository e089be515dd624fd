/**
 * `bpf-playground`: the command-line face of the project. Its commands and output formats are a
 * contract (ARCHITECTURE.md section 5); change them only by adding.
 */
import { UsageError } from "./cli/args";
import { isPlaygroundError } from "../lib/errors";

const USAGE = `usage:
  bpf-playground compile FILTER [--dlt NAME|NUMBER] [--snaplen N] [--no-optimize]
                                [--format tcpdump|dd|ddd|ebpf|json] [--target socket|tc|xdp|kprobe]
  bpf-playground run FILTER --pcap FILE [--engine cbpf|ebpf|kernel] [--target socket|tc|xdp|kprobe] [--json]
  bpf-playground run FILTER --pcap FILE --inject xdp|tc [--json]   # the filter spliced into a host, in the kernel
  bpf-playground trace FILTER [--target ...] [--source emulator|kernel] [--dlt ...] [--json]
  bpf-playground inject FILTER --host xdp|tc|skb|kprobe [--object FILE.o] [--stub NAME] [--out FILE.o]
                               [--diff] [--json] [--no-optimize] [--netmask A.B.C.D]
  bpf-playground live FILTER --target xdp|tc|socket|skb|kprobe [--inject xdp|tc|skb] --replay FILE [--rate PPS] [--json]
  bpf-playground agent [--port N] [--bind ADDR] [--allow-origin URL]... [--allow-interface NAME]...
  bpf-playground start
`;

type Command = (argv: string[]) => Promise<number>;

/** Commands of the contract (ARCHITECTURE.md section 5) that do not exist yet: refused, by name. */
const NOT_YET: Record<string, string> = {};

// Each command is loaded when it runs: `compile` should not pay for the verifier, the agent or
// Next's start-up code (tsx transforms every imported module on a cold start).
const COMMANDS: Record<string, Command> = {
  compile: async (argv) => (await import("./cli/compile")).compileCommand(argv),
  run: async (argv) => (await import("./cli/run")).runCommand(argv),
  inject: async (argv) => (await import("./cli/inject")).injectCommand(argv),
  trace: async (argv) => (await import("./cli/trace")).traceCommand(argv),
  live: async (argv) => (await import("./cli/live")).liveCommand(argv),
  agent: async (argv) => (await import("./cli/agent")).agentCommand(argv),
  start: async (argv) => {
    const { startCommand, startHooks } = await import("./cli/start");
    // `start` runs the agent beside the UI, in the same process; the printed URL carries its address.
    startHooks.startAgent = async () => {
      const { startAgent } = await import("./agent/server");
      const agent = await startAgent();
      return { url: agent.url, stop: () => agent.close() };
    };
    return startCommand(argv);
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  // Own properties only: "constructor" or "toString" are not commands.
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command && Object.hasOwn(NOT_YET, name)) {
    process.stderr.write(`bpf-playground ${name}: not available: ${NOT_YET[name]}\n${USAGE}`);
    return 2;
  }
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
