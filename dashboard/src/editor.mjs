// The template editor: CodeMirror 6 (JSON language, lint diagnostics at the core's JSON
// pointers, shortcode completion). It is mounted in a shadow root so CodeMirror's styles
// go into a constructed (adopted) style sheet: the page's CSP allows no <style> element.
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { indentWithTab } from "@codemirror/commands";
import { json } from "@codemirror/lang-json";
import { linter, lintGutter, setDiagnostics } from "@codemirror/lint";
import { autocompletion } from "@codemirror/autocomplete";
import { SHORTCODE_FIELDS } from "./pointer.mjs";

const LINT_COLORS = { error: "#c81e1e", warning: "#b45309", info: "#4b5563", hint: "#4338ca" };

/** Completes `{{ user.… }}` shortcodes inside a string. */
function shortcodes(context) {
  const word = context.matchBefore(/(\{\{\s*)?(user(\.[\w-]*)*|u\w*)$/);
  if (!word || (word.from === word.to && !context.explicit)) return null;
  const lead = /^\{\{\s*/.exec(word.text)?.[0] ?? "";
  return {
    from: word.from + lead.length,
    options: SHORTCODE_FIELDS.map((f) => ({
      label: f,
      type: "variable",
      detail: f.endsWith("_metadata") ? "object (or .path into it)" : undefined,
      // After `{{`, the closing `}}` too, over the one auto-closed brackets may have put there.
      apply: (view, _c, from, to) => {
        const closing = lead && view.state.sliceDoc(to, to + 2) === "}}" ? 2 : 0;
        const insert = lead ? `${f} }}` : f;
        view.dispatch({ changes: { from, to: to + closing, insert }, selection: { anchor: from + insert.length } });
      },
    })),
    validFor: /^[\w.]*$/,
  };
}

/**
 * A CodeMirror editor in `host` (its shadow root). `diagnose(text)` returns the
 * diagnostics (`{ from, to, severity, message, source }`); `onChange(text)` runs on
 * every edit. Returns `{ view, get(), set(text), relint() }`.
 */
export function createEditor(host, { doc, label, diagnose, onChange }) {
  const root = host.attachShadow({ mode: "open" });
  const view = new EditorView({
    root,
    parent: root,
    state: EditorState.create({
      doc,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        json(),
        lintGutter(),
        linter((v) => diagnose(v.state.doc.toString()), { delay: 100 }),
        autocompletion({ override: [shortcodes] }),
        EditorView.contentAttributes.of({ "aria-label": label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
        EditorView.theme({
          "&": { fontSize: "14px", border: "1px solid #8a8f98", borderRadius: "4px", background: "#fff" },
          ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", minHeight: "14em" },
          "&.cm-focused": { outline: "2px solid #1d4ed8" },
          // Darker than the defaults: WCAG AA contrast for the gutter and tooltips.
          ".cm-gutters": { color: "#4b5563", background: "#f3f4f6" },
          ".cm-tooltip-lint": { color: "#111" },
          // CodeMirror draws lint underlines and markers with data: images, which the
          // CSP (img-src 'self') refuses: the same, in CSS.
          ...Object.fromEntries(["error", "warning", "info", "hint"].flatMap((k) => [
            [`.cm-lintRange-${k}`, { backgroundImage: "none", textDecoration: `underline wavy ${LINT_COLORS[k]}`, textUnderlineOffset: "3px" }],
            [`.cm-lint-marker-${k}`, { content: "normal", background: LINT_COLORS[k], borderRadius: "50%", width: ".7em", height: ".7em", margin: ".25em" }],
          ])),
        }),
      ],
    }),
  });
  return {
    view,
    get: () => view.state.doc.toString(),
    set(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    /** Runs `diagnose` now (after a change outside the text, such as the lifetime). */
    relint: () => view.dispatch(setDiagnostics(view.state, diagnose(view.state.doc.toString()))),
  };
}
