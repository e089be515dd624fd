/**
 * A small, strict argument parser for the CLI. Strict because the CLI is a contract that outside
 * checks use: an unknown flag or a missing value is an error with a usage hint, never ignored.
 */
export interface FlagSpec {
  /** Takes a value (`--dlt EN10MB`) or is a boolean switch (`--json`). */
  readonly value: boolean;
  /** Allowed values, if the flag is an enumeration. */
  readonly choices?: readonly string[];
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Map<string, string | true>;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || !arg.startsWith("--") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const flag = spec[name];
    if (!flag) throw new UsageError(`unknown option --${name}`);
    if (!flag.value) {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    if (flag.choices && !flag.choices.includes(value)) {
      throw new UsageError(`option --${name} must be one of ${flag.choices.join(", ")} (got "${value}")`);
    }
    flags.set(name, value);
  }
  return { positionals, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function intFlag(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`option --${name} needs a whole number (got "${v}")`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`option --${name} must be between ${min} and ${max}`);
  return n;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}
