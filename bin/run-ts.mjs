#!/usr/bin/env node
// Runs a project TypeScript file (scripts, benchmarks) with the same loader as the CLI.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { tsImport } from "tsx/esm/api";
const [file, ...rest] = process.argv.slice(2);
if (!file) { console.error("usage: run-ts FILE.ts [args...]"); process.exit(2); }
process.argv = [process.argv[0], resolve(file), ...rest];
await tsImport(pathToFileURL(resolve(file)).href, import.meta.url);
