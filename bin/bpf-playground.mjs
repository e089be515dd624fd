#!/usr/bin/env node
// A JS shim so the TypeScript CLI runs from any working directory once installed or linked
// (a tsx shebang or `node --import tsx` resolves tsx from the cwd and breaks outside the checkout).
import { tsImport } from "tsx/esm/api";
await tsImport("../server/cli.ts", import.meta.url);
