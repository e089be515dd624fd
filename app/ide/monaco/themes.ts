/** The two Monaco themes, matching the page's CSS variables, with colours for the IDE's tokens. */
import type * as Monaco from "monaco-editor/editor";

export type ThemeName = "dark" | "light";

export function defineThemes(monaco: typeof Monaco): void {
  monaco.editor.defineTheme("bpfp-dark", {
    base: "vs-dark",
    inherit: true,
    rules: [
      { token: "keyword.protocol", foreground: "5cc8ff", fontStyle: "bold" },
      { token: "keyword.direction", foreground: "c792ea" },
      { token: "keyword.type", foreground: "82aaff" },
      { token: "keyword.primitive", foreground: "89ddff" },
      { token: "operator.logical", foreground: "ff9d5c", fontStyle: "bold" },
      { token: "address", foreground: "ffcb6b" },
      { token: "number", foreground: "f78c6c" },
      { token: "number.named", foreground: "f78c6c", fontStyle: "italic" },
      { token: "number.hex", foreground: "f78c6c" },
      { token: "number.target", foreground: "b3c0d0" },
      { token: "identifier", foreground: "d7dde5" },
      { token: "invalid", foreground: "ff5370", fontStyle: "underline" },
      { token: "insn-index", foreground: "5d6878" },
      { token: "mnemonic", foreground: "5cc8ff" },
      { token: "mnemonic.ret", foreground: "5fd08a", fontStyle: "bold" },
      { token: "keyword.jump", foreground: "8b96a5" },
      { token: "register", foreground: "c792ea" },
      { token: "register.state", foreground: "c792ea" },
      { token: "opcode", foreground: "5d6878" },
      { token: "keyword", foreground: "ff9d5c" },
      { token: "keyword.swap", foreground: "89ddff" },
      { token: "keyword.branch", foreground: "ffcb6b", fontStyle: "bold" },
      { token: "keyword.safe", foreground: "5fd08a" },
      { token: "helper", foreground: "5fd08a" },
      { token: "type", foreground: "82aaff" },
      { token: "comment", foreground: "6b7686", fontStyle: "italic" },
      { token: "operator", foreground: "b3c0d0" },
      { token: "delimiter", foreground: "8b96a5" },
    ],
    colors: {
      "editor.background": "#171b21",
      "editor.lineHighlightBackground": "#1f252e",
      "editorLineNumber.foreground": "#4a5363",
      "editorGutter.background": "#171b21",
    },
  });
  monaco.editor.defineTheme("bpfp-light", {
    base: "vs",
    inherit: true,
    rules: [
      { token: "keyword.protocol", foreground: "0b6bcb", fontStyle: "bold" },
      { token: "keyword.direction", foreground: "8a3ffc" },
      { token: "keyword.type", foreground: "1f5fbf" },
      { token: "keyword.primitive", foreground: "007a87" },
      { token: "operator.logical", foreground: "c4450c", fontStyle: "bold" },
      { token: "address", foreground: "9a5b00" },
      { token: "number", foreground: "b2401f" },
      { token: "number.named", foreground: "b2401f", fontStyle: "italic" },
      { token: "number.hex", foreground: "b2401f" },
      { token: "number.target", foreground: "4b5563" },
      { token: "identifier", foreground: "1d2430" },
      { token: "invalid", foreground: "c9302c", fontStyle: "underline" },
      { token: "insn-index", foreground: "8a94a3" },
      { token: "mnemonic", foreground: "0b6bcb" },
      { token: "mnemonic.ret", foreground: "17864a", fontStyle: "bold" },
      { token: "keyword.jump", foreground: "5b6678" },
      { token: "register", foreground: "8a3ffc" },
      { token: "register.state", foreground: "8a3ffc" },
      { token: "opcode", foreground: "8a94a3" },
      { token: "keyword", foreground: "c4450c" },
      { token: "keyword.swap", foreground: "007a87" },
      { token: "keyword.branch", foreground: "9a5b00", fontStyle: "bold" },
      { token: "keyword.safe", foreground: "17864a" },
      { token: "helper", foreground: "17864a" },
      { token: "type", foreground: "1f5fbf" },
      { token: "comment", foreground: "7a8594", fontStyle: "italic" },
      { token: "operator", foreground: "4b5563" },
      { token: "delimiter", foreground: "5b6678" },
    ],
    colors: {
      "editor.background": "#ffffff",
      "editor.lineHighlightBackground": "#f2f5f9",
      "editorLineNumber.foreground": "#a4adba",
    },
  });
}

export function monacoTheme(theme: ThemeName): string {
  return theme === "dark" ? "bpfp-dark" : "bpfp-light";
}
