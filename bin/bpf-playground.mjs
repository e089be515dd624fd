#!/usr/bin/env node
// A JS shim so the TypeScript CLI runs from any working directory once installed or linked
// (a tsx shebang or `node --import tsx` resolves tsx from the cwd and breaks outside the checkout).
// `import "tsx"` registers the loader for the whole process so the CLI's lazy imports work too.
import "tsx";
await import("../server/cli.ts");
