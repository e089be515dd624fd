"use client";
/**
 * The filter expression: a one-line Monaco editor with the pcap-filter language, libpcap's error
 * underlined where lib/filter-lang placed it.
 */
import { useEffect, useRef } from "react";
import type * as Monaco from "monaco-editor/editor";
import { monaco } from "../monaco/setup";
import { LANG } from "../monaco/languages";
import { READONLY_OPTIONS } from "../monaco/CodeView";

export const FILTER_URI = "inmemory://bpf-playground/filter.pcap";

export interface FilterError {
  message: string;
  start: number;
  end: number;
}

interface Props {
  value: string;
  /** Bumped when the value is set from outside (share link); typing never bumps it. */
  revision: number;
  onChange: (value: string) => void;
  error: FilterError | null;
  fontSize: number;
  onEditor?: (editor: Monaco.editor.IStandaloneCodeEditor | null) => void;
}

export function FilterEditor({ value, revision, onChange, error, fontSize, onEditor }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const onEditorRef = useRef(onEditor);
  onEditorRef.current = onEditor;

  useEffect(() => {
    const uri = monaco.Uri.parse(FILTER_URI);
    const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(value, LANG.filter, uri);
    const ed = monaco.editor.create(host.current!, {
      ...READONLY_OPTIONS,
      readOnly: false,
      domReadOnly: false,
      model,
      fontSize,
      lineNumbers: "off",
      glyphMargin: false,
      lineDecorationsWidth: 0,
      lineNumbersMinChars: 0,
      renderLineHighlight: "none",
      scrollbar: { vertical: "hidden", horizontal: "hidden", handleMouseWheel: false, alwaysConsumeMouseWheel: false },
      overviewRulerBorder: false,
      hideCursorInOverviewRuler: true,
      contextmenu: false,
      fixedOverflowWidgets: true,
      placeholder: "tcpdump filter expression, e.g. tcp port 80 and host 10.0.0.1",
      autoClosingBrackets: "never",
      autoClosingQuotes: "never",
      autoIndent: "none",
      formatOnType: false,
      acceptSuggestionOnEnter: "off",
      quickSuggestions: { other: true, comments: false, strings: false },
      suggestOnTriggerCharacters: true,
      wordBasedSuggestions: "off",
      suggest: { showWords: false, preview: false },
      padding: { top: 0 },
      find: { addExtraSpaceOnTop: false, seedSearchStringFromSelection: "never" },
      links: false,
      ariaLabel: "filter expression",
    });
    editor.current = ed;
    // One line: Enter does nothing (suggestions are accepted with Tab), pasted newlines become spaces.
    ed.addCommand(monaco.KeyCode.Enter, () => undefined, "!suggestWidgetVisible");
    const sub = model.onDidChangeContent(() => {
      const v = model.getValue();
      if (/[\r\n]/.test(v)) {
        model.setValue(v.replace(/\r?\n|\r/g, " "));
        return;
      }
      onChangeRef.current(v);
    });
    onEditorRef.current?.(ed);
    return () => {
      sub.dispose();
      onEditorRef.current?.(null);
      ed.setModel(null);
      ed.dispose();
    };
    // created once
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Outside changes (share link) replace the text. Typing never comes back through here: React's
  // state lags the model while keys arrive, and writing a stale value back would scramble them.
  const valueRef = useRef(value);
  valueRef.current = value;
  useEffect(() => {
    const model = editor.current?.getModel();
    if (model && model.getValue() !== valueRef.current) model.setValue(valueRef.current);
  }, [revision]);

  useEffect(() => {
    editor.current?.updateOptions({ fontSize });
  }, [fontSize]);

  useEffect(() => {
    const model = editor.current?.getModel();
    if (!model) return;
    if (!error) {
      monaco.editor.setModelMarkers(model, "libpcap", []);
      return;
    }
    const len = model.getValueLength();
    let { start, end } = error;
    // An expression that ends too early: underline its last character.
    if (start >= end) {
      end = Math.min(len, Math.max(start, 1));
      start = Math.max(0, end - 1);
    }
    const a = model.getPositionAt(start);
    const b = model.getPositionAt(end);
    monaco.editor.setModelMarkers(model, "libpcap", [
      {
        severity: monaco.MarkerSeverity.Error,
        message: error.message,
        source: "libpcap",
        startLineNumber: a.lineNumber,
        startColumn: a.column,
        endLineNumber: b.lineNumber,
        endColumn: b.column,
      },
    ]);
  }, [error, value]);

  return <div ref={host} className={`filter-editor${error ? " has-error" : ""}`} data-testid="filter-input" />;
}
