// "What Vitrine saw": the product's facts with their sources, an Edit
// button per key the knowledge graph lets the user set, and an "Add a fact"
// choice for the category's other attributes. A save re-renders from the
// facts the command returns and reloads the options, since a new category
// brings other attributes.

import { el, replaceChildren } from "./dom";
import { toIpcError } from "./errors";
import { getLocale, setText, t } from "./i18n";
import { bilingual, currentValues, renderFactEditor, setEditorBusy, showEditorError } from "./factEditor";
import { keyLabel, renderFacts } from "./render";
import type { Fact, FactOptions } from "./types";

export interface FactsBackend {
  options: (productId: number) => Promise<FactOptions>;
  save: (productId: number, key: string, values: string[]) => Promise<Fact[]>;
}

export interface FactsPanelHooks {
  /** Errors that are not a save's (loading the options): the app's banner. */
  onError: (err: unknown) => void;
  /** The product's facts after a save. */
  onSaved: (productId: number, facts: Fact[]) => void;
}

/** The keys that can be added: editable, not the category, and without a fact yet. */
export function addableKeys(options: FactOptions | null, facts: Fact[]): FactOptions["keys"] {
  if (!options) return [];
  const present = new Set(facts.map((f) => (f.key === "color" ? "colour" : f.key)));
  return options.keys.filter((k) => k.key !== "category" && !present.has(k.key));
}

export class FactsPanel {
  private productId: number | null = null;
  private facts: Fact[] = [];
  private options: FactOptions | null = null;
  private editing: string | null = null;
  private readonly listSlot = el("div", { class: "fact-list-slot" });
  private readonly addSlot = el("div", { class: "fact-add" });
  private readonly status = el("p", { class: "status", testid: "facts-status", attrs: { role: "status" } });

  constructor(
    slot: HTMLElement,
    private readonly backend: FactsBackend,
    private readonly hooks: FactsPanelHooks,
  ) {
    replaceChildren(slot, this.listSlot, this.addSlot, this.status);
    this.listSlot.addEventListener("click", (ev) => {
      const button = (ev.target as Element | null)?.closest<HTMLButtonElement>('[data-testid="fact-edit"]');
      const key = button?.dataset.key;
      if (key) this.edit(key);
    });
  }

  /** Show a product's facts; keeps an open editor when it is the same product. */
  show(productId: number, facts: Fact[]): void {
    if (productId !== this.productId) {
      this.editing = null;
      this.options = null;
      setText(this.status, null);
    }
    this.productId = productId;
    this.facts = facts;
    this.render();
    void this.loadOptions(productId);
  }

  private async loadOptions(productId: number): Promise<void> {
    try {
      const options = await this.backend.options(productId);
      // The user may have opened another product meanwhile.
      if (productId !== this.productId) return;
      this.options = options;
      this.render();
    } catch (err) {
      if (productId === this.productId) this.hooks.onError(err);
    }
  }

  private edit(key: string | null, focusKey: string | null = null): void {
    this.editing = key;
    this.render();
    if (key) {
      this.listSlot.querySelector<HTMLSelectElement>('[data-testid="fact-editor-select"]')?.focus();
    } else if (focusKey) {
      this.editButton(focusKey)?.focus();
    }
  }

  private editButton(key: string): HTMLButtonElement | null {
    return this.listSlot.querySelector<HTMLButtonElement>(`[data-testid="fact-edit"][data-key="${CSS.escape(key)}"]`);
  }

  /** Draw again in the current language. */
  refresh(): void {
    if (this.productId !== null) this.render();
  }

  /** Re-render; an Edit button that had the focus keeps it (keyboard users stay in place). */
  private render(): void {
    const active = document.activeElement;
    const focusedEdit =
      active instanceof HTMLElement && this.listSlot.contains(active) && active.dataset.testid === "fact-edit"
        ? (active.dataset.key ?? null)
        : null;
    this.draw();
    if (focusedEdit) this.editButton(focusedEdit)?.focus();
  }

  private draw(): void {
    const editing = this.editing;
    const alsoShow = editing ? [editing] : [];
    const list = renderFacts(this.facts, this.options, alsoShow);
    const key = editing ? this.options?.keys.find((k) => k.key === editing) : undefined;
    if (editing && key && this.options) {
      const group = list.querySelector(`[data-testid="fact-group"][data-key="${CSS.escape(editing)}"]`);
      const form = renderFactEditor(key, this.options.categories, currentValues(this.facts, editing), {
        save: (values) => void this.save(form, editing, values),
        cancel: () => this.edit(null, editing),
      });
      group?.querySelector('[data-testid="fact-edit"]')?.setAttribute("aria-expanded", "true");
      group?.appendChild(form);
    }
    replaceChildren(this.listSlot, list);
    this.renderAdd();
  }

  private renderAdd(): void {
    const keys = addableKeys(this.options, this.facts).filter((k) => k.key !== this.editing);
    if (keys.length === 0) {
      replaceChildren(this.addSlot);
      return;
    }
    const select = el(
      "select",
      { testid: "fact-add-select", attrs: { id: "fact-add-select" } },
      el("option", { attrs: { value: "", selected: true } }, t("facts.chooseAttr")),
      ...keys.map((k) => el("option", { attrs: { value: k.key } }, bilingual(k.en, k.zh))),
    );
    select.addEventListener("change", () => {
      if (select.value) this.edit(select.value);
    });
    replaceChildren(this.addSlot, el("label", { attrs: { for: "fact-add-select" } }, t("facts.add")), select);
  }

  private async save(form: HTMLFormElement, key: string, values: string[]): Promise<void> {
    const productId = this.productId;
    if (productId === null) return;
    showEditorError(form, null);
    setEditorBusy(form, true);
    try {
      const facts = await this.backend.save(productId, key, values);
      if (productId !== this.productId) return;
      this.facts = facts;
      const label = keyLabel(key, this.options);
      setText(this.status, values.length ? "facts.saved" : "facts.cleared", { key: getLocale() === "zh-CN" && label.zh ? label.zh : label.en });
      this.hooks.onSaved(productId, facts);
      this.edit(null, key);
      await this.loadOptions(productId);
    } catch (err) {
      setEditorBusy(form, false);
      showEditorError(form, toIpcError(err));
      form.querySelector<HTMLSelectElement>("select")?.focus();
    }
  }
}
