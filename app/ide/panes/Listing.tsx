"use client";
/**
 * A read-only listing (cBPF, eBPF, verifier log) with what every listing shares: line
 * decorations (linked lines, rainbow, debugger pc, breakpoints), hover/click linking and
 * breakpoint toggling in the glyph margin.
 */
import { useEffect, useRef, useState } from "react";
import type * as Monaco from "monaco-editor/editor";
import { CodeView } from "../monaco/CodeView";
import { monaco } from "../monaco/setup";
import { linkStore, type LinkOrigin } from "../link-store";

export interface LineDeco {
  /** 0-based line. */
  line: number;
  className?: string;
  marginClassName?: string;
  glyphClassName?: string;
  /** Faint text after the line (provenance). */
  after?: string;
}

interface Props {
  uri: string;
  language: string;
  value: string;
  fontSize: number;
  origin: LinkOrigin;
  decorations: LineDeco[];
  /** Lines to bring into view when they change (linked lines from another pane, the debugger's pc). */
  reveal?: number | null;
  onGlyphClick?: (line: number) => void;
  onEditor?: (editor: Monaco.editor.IStandaloneCodeEditor | null) => void;
}

export function Listing({ uri, language, value, fontSize, origin, decorations, reveal, onGlyphClick, onEditor }: Props) {
  const [editor, setEditor] = useState<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const collection = useRef<Monaco.editor.IEditorDecorationsCollection | null>(null);
  const glyphRef = useRef(onGlyphClick);
  glyphRef.current = onGlyphClick;

  useEffect(() => {
    if (!editor) return;
    collection.current = editor.createDecorationsCollection();
    const T = monaco.editor.MouseTargetType;
    const subs = [
      editor.onMouseMove((e) => {
        const ln = e.target.position?.lineNumber;
        if (ln === undefined || e.target.type === T.CONTENT_EMPTY) linkStore.setHover(null);
        else linkStore.setHover({ origin, line: ln - 1 });
      }),
      editor.onMouseLeave(() => linkStore.setHover(null)),
      editor.onMouseDown((e) => {
        const ln = e.target.position?.lineNumber;
        if (ln === undefined) return;
        if (e.target.type === T.GUTTER_GLYPH_MARGIN || e.target.type === T.GUTTER_LINE_NUMBERS) {
          if (e.target.type === T.GUTTER_GLYPH_MARGIN) glyphRef.current?.(ln - 1);
          return;
        }
        linkStore.setSelected({ origin, line: ln - 1 });
      }),
      editor.onDidChangeCursorPosition((e) => {
        if (e.source === "keyboard") linkStore.setSelected({ origin, line: e.position.lineNumber - 1 });
      }),
    ];
    return () => {
      subs.forEach((s) => s.dispose());
      collection.current?.clear();
      collection.current = null;
    };
  }, [editor, origin]);

  useEffect(() => {
    const model = editor?.getModel();
    if (!collection.current || !model) return;
    const lines = model.getLineCount();
    collection.current.set(
      decorations
        .filter((d) => d.line >= 0 && d.line < lines)
        .map((d) => ({
          range: new monaco.Range(d.line + 1, 1, d.line + 1, 1),
          options: {
            isWholeLine: true,
            className: d.className,
            marginClassName: d.marginClassName,
            glyphMarginClassName: d.glyphClassName,
            after: d.after ? { content: d.after, inlineClassName: "prov-after" } : undefined,
            showIfCollapsed: true,
          },
        })),
    );
  }, [editor, decorations, value]);

  useEffect(() => {
    if (editor && reveal !== null && reveal !== undefined && reveal >= 0) editor.revealLineInCenterIfOutsideViewport(reveal + 1);
  }, [editor, reveal]);

  return (
    <CodeView
      uri={uri}
      language={language}
      value={value}
      fontSize={fontSize}
      onEditor={(ed) => {
        setEditor(ed);
        onEditor?.(ed);
      }}
    />
  );
}
