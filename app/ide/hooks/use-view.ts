"use client";
/** The page's look: theme, rainbow and presenter panes, kept in storage; the font sizes they imply. */
import { useEffect } from "react";
import { monaco } from "../monaco/setup";
import { monacoTheme } from "../monaco/themes";
import { saveJson, saveString } from "../layout/storage";
import { useTopic } from "../events";

export function useViewPersistence(): void {
  const theme = useTopic("view.theme");
  const rainbow = useTopic("view.rainbow");
  const presenterPanes = useTopic("view.presenterPanes");
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    saveString("theme", theme);
    monaco.editor.setTheme(monacoTheme(theme));
  }, [theme]);
  useEffect(() => saveString("rainbow", rainbow ? "1" : "0"), [rainbow]);
  useEffect(() => saveJson("presenter", presenterPanes), [presenterPanes]);
}

/** Listing font size: larger in presenter mode. */
export function useFontSize(): number {
  return useTopic("view.presenter") ? 18 : 13;
}
