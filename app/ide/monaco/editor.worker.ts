// Monaco's own editor worker (diffing, word suggestions, link detection). The app registers no
// language that needs a language-service worker, so this is the only one Monaco ever starts.
import "monaco-editor/editor/editor.worker";
