"use client";
/**
 * One Monaco editor bound to named models. Models live as long as the page (tests and automation
 * read them through `monaco.editor.getModels()`), so switching a tab only switches the model.
 */
import { useEffect, useRef } from "react";
import type * as Monaco from "monaco-editor/editor";
import { monaco } from "./setup";

/** Create or update a model by URI without disturbing an editor showing it more than needed. */
export function ensureModel(uri: string, language: string, value: string): Monaco.editor.ITextModel {
  const u = monaco.Uri.parse(uri);
  let model = monaco.editor.getModel(u);
  if (!model) return monaco.editor.createModel(value, language, u);
  if (model.getLanguageId() !== language) monaco.editor.setModelLanguage(model, language);
  if (model.getValue() !== value) {
    // An edit keeps the editors' scroll positions, which setValue would reset.
    model.pushEditOperations([], [{ range: model.getFullModelRange(), text: value }], () => null);
  }
  return model;
}

export const READONLY_OPTIONS: Monaco.editor.IStandaloneEditorConstructionOptions = {
  readOnly: true,
  domReadOnly: true,
  minimap: { enabled: false },
  scrollBeyondLastLine: false,
  lineNumbersMinChars: 3,
  folding: false,
  glyphMargin: true,
  renderLineHighlight: "line",
  contextmenu: true,
  automaticLayout: true,
  wordWrap: "off",
  overviewRulerLanes: 0,
  occurrencesHighlight: "off",
  selectionHighlight: false,
  renderValidationDecorations: "on",
  stickyScroll: { enabled: false },
  fontFamily: "'JetBrains Mono Variable', ui-monospace, monospace",
  fontLigatures: false,
  padding: { top: 4 },
  hover: { delay: 250 },
};

interface Props {
  uri: string;
  language: string;
  value: string;
  fontSize: number;
  options?: Monaco.editor.IStandaloneEditorConstructionOptions;
  onEditor?: (editor: Monaco.editor.IStandaloneCodeEditor | null) => void;
  testId?: string;
}

export function CodeView({ uri, language, value, fontSize, options, onEditor, testId }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const onEditorRef = useRef(onEditor);
  onEditorRef.current = onEditor;

  useEffect(() => {
    const model = ensureModel(uri, language, value);
    const ed = monaco.editor.create(host.current!, { ...READONLY_OPTIONS, ...options, model, fontSize });
    editor.current = ed;
    onEditorRef.current?.(ed);
    return () => {
      onEditorRef.current?.(null);
      ed.setModel(null);
      ed.dispose();
      editor.current = null;
    };
    // The editor is created once; props are applied by the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const model = ensureModel(uri, language, value);
    const ed = editor.current;
    if (ed && ed.getModel() !== model) ed.setModel(model);
  }, [uri, language, value]);

  useEffect(() => {
    editor.current?.updateOptions({ fontSize });
  }, [fontSize]);

  return <div className="editor-host" ref={host} data-testid={testId} />;
}
