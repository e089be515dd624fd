#!/usr/bin/env node
// Runs a project TypeScript file (scripts, benchmarks) with the same loader as the CLI.
// `import "tsx"` registers the loader for the whole process, so the file's own dynamic imports of
// relative .ts modules resolve normally (tsImport would evaluate it from a data: URL, where they fail).
import "tsx";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
const [file, ...rest] = process.argv.slice(2);
if (!file) { console.error("usage: run-ts FILE.ts [args...]"); process.exit(2); }
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
