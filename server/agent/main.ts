/**
 * Runs the agent as its own process (`node bin/run-ts.mjs server/agent/main.ts [flags]`), the same
 * as `bpf-playground agent`: tests and benchmarks start it this way to kill it for real.
 */
import { agentCommand } from "../cli/agent";
import { UsageError } from "../cli/args";

agentCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`agent: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
