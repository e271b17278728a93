// The picker that edits one fact key: a <select> of the values the knowledge
// graph allows (several at once for multi attributes, the indented category
// tree for `category`), with Save and Cancel. Labels and option texts are
// text nodes; the core checks the chosen values again when they are saved.

import { el } from "./dom";
import { t } from "./i18n";
import type { CategoryOption, EditableKey, Fact, IpcError } from "./types";

export interface PickerOption {
  value: string;
  text: string;
  selected: boolean;
}

/** What the picker starts from: the user's values for the key if they set it, else the machine's. */
export function currentValues(facts: Fact[], key: string): string[] {
  const mine = facts.filter((f) => f.key === key);
  const user = mine.filter((f) => f.source === "user");
  const chosen = user.length > 0 ? user : key === "category" ? mine.slice(0, 1) : mine;
  return [...new Set(chosen.map((f) => f.value))];
}

/** Both names in one option text: options cannot hold markup. */
export function bilingual(en: string, zh: string): string {
  return zh && zh !== en ? `${en} · ${zh}` : en;
}

// Non-breaking spaces: a <select> collapses ordinary ones.
const INDENT = "\u00a0\u00a0\u00a0";

/**
 * The options of the picker for `key`. Single-value keys start with a
 * "not set" option (choosing it clears the user's value); `category`
 * lists the tree, each level indented under its parent.
 */
export function pickerOptions(key: EditableKey, categories: CategoryOption[], current: string[]): PickerOption[] {
  const chosen = new Set(current);
  const values =
    key.key === "category"
      ? categories.map((c) => ({ value: c.key, text: INDENT.repeat(Math.max(0, c.depth)) + bilingual(c.en, c.zh) }))
      : key.values.map((v) => ({ value: v.key, text: bilingual(v.en, v.zh) }));
  const options = values.map((v) => ({ ...v, selected: chosen.has(v.value) }));
  if (key.multi) return options;
  const anySelected = options.some((o) => o.selected);
  return [{ value: "", text: t("facts.optionNotSet"), selected: !anySelected }, ...options];
}

export interface EditorHandlers {
  save: (values: string[]) => void;
  cancel: () => void;
}

/** The values chosen in an editor's select, without the "not set" option. */
export function chosenValues(select: HTMLSelectElement): string[] {
  return Array.from(select.selectedOptions)
    .map((o) => o.value)
    .filter((v) => v !== "");
}

/**
 * The editor form for one key. Enter or Save submits the chosen values,
 * Escape or Cancel closes it; the caller puts the focus on the select.
 */
export function renderFactEditor(
  key: EditableKey,
  categories: CategoryOption[],
  current: string[],
  handlers: EditorHandlers,
): HTMLFormElement {
  const id = `fact-editor-${key.key}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const options = pickerOptions(key, categories, current);
  const select = el(
    "select",
    {
      class: "fact-editor-select",
      testid: "fact-editor-select",
      attrs: {
        id,
        multiple: key.multi,
        size: key.multi ? Math.min(8, Math.max(2, options.length)) : null,
        "aria-describedby": `${hintId} ${errorId}`,
      },
    },
    ...options.map((o) => el("option", { attrs: { value: o.value, selected: o.selected } }, o.text)),
  );
  const hint = key.multi ? t("facts.hintMulti") : t("facts.hintSingle");
  const error = el("p", { class: "fact-editor-error", testid: "fact-editor-error", attrs: { id: errorId, role: "alert", hidden: true } });
  const save = el("button", { class: "primary", testid: "fact-save", attrs: { type: "submit" } }, t("facts.save"));
  const cancel = el("button", { class: "ghost", testid: "fact-cancel", attrs: { type: "button" } }, t("facts.cancel"));
  const form = el(
    "form",
    { class: "fact-editor", testid: "fact-editor", attrs: { "data-key": key.key, "aria-label": t("facts.editKey", { key: key.en }) } },
    el(
      "label",
      { attrs: { for: id } },
      key.en,
      key.zh ? el("span", { class: "fact-key-zh", attrs: { lang: "zh-CN" } }, ` ${key.zh}`) : null,
    ),
    select,
    el("p", { class: "hint", attrs: { id: hintId } }, hint),
    error,
    el("div", { class: "actions" }, save, cancel),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    handlers.save(chosenValues(select));
  });
  cancel.addEventListener("click", () => handlers.cancel());
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      handlers.cancel();
    }
  });
  return form;
}

/** Show a failed save inside the editor, the way the banner does: message, then code. */
export function showEditorError(form: HTMLFormElement, err: IpcError | null): void {
  const slot = form.querySelector<HTMLElement>('[data-testid="fact-editor-error"]');
  if (!slot) return;
  slot.textContent = err ? `${err.message} (${err.code})` : "";
  slot.hidden = err === null;
}

export function setEditorBusy(form: HTMLFormElement, busy: boolean): void {
  for (const control of form.querySelectorAll<HTMLButtonElement | HTMLSelectElement>("button, select")) {
    control.disabled = busy;
  }
  form.setAttribute("aria-busy", busy ? "true" : "false");
}
