/**
 * Monaco from the local package, trimmed: the editor API plus only the contributions the IDE
 * uses (no language services, no CDN). Import this module for its side effects before creating
 * an editor; it also exposes `window.monaco` for tests and user automation (ARCHITECTURE 7).
 */
import * as monaco from "monaco-editor/editor";
import "monaco-editor/features/codicon/register";
import "monaco-editor/features/hover/register";
import "monaco-editor/features/find/register";
import "monaco-editor/features/contextmenu/register";
import "monaco-editor/features/clipboard/register";
import "monaco-editor/features/gotoError/register";
import "monaco-editor/features/gotoLine/register";
import "monaco-editor/features/quickCommand/register";
import "monaco-editor/features/placeholderText/register";
import "monaco-editor/features/readOnlyMessage/register";
import "monaco-editor/features/wordOperations/register";
import "monaco-editor/features/cursorUndo/register";
import "monaco-editor/features/bracketMatching/register";
import "monaco-editor/features/lineSelection/register";
import "monaco-editor/editor/contrib/suggest/browser/suggestController";
import { registerLanguages } from "./languages";
import { defineThemes } from "./themes";

declare global {
  interface Window {
    monaco?: typeof monaco;
  }
}

type Env = { getWorker(workerId: string, label: string): Worker };

(self as unknown as { MonacoEnvironment: Env }).MonacoEnvironment = {
  getWorker(_id: string, label: string): Worker {
    return new Worker(new URL("./editor.worker.ts", import.meta.url), { type: "module", name: `monaco-${label}` });
  },
};

registerLanguages(monaco);
defineThemes(monaco);
window.monaco = monaco;

export { monaco };
