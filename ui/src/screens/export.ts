// The Export screen: a format, a listing language, whether unapproved
// drafts go too, and where to write (a default under the data folder that
// follows the format until the user types their own path); then the
// summary of what was written.

import type { api as Api } from "../api";
import { el, replaceChildren } from "../dom";
import { setText, t, type Key } from "../i18n";
import { EXPORT_FORMATS, type ExportFormat, type ExportReport, type Lang } from "../types";

type Backend = Pick<typeof Api, "defaultExportPath" | "exportListings">;

export const EXPORT_PREFS_KEY = "vitrine.export";

/** The file extension an export format writes (as the core's ExportFormat::extension). */
export function extensionOf(format: ExportFormat): string {
  switch (format) {
    case "shopify":
      return "csv";
    case "amazon":
      return "txt";
    case "json":
      return "json";
    case "markdown":
      return "md";
    case "html":
      return "html";
  }
}

/** Whether the path field may follow a new default: it is empty or still shows the last default. */
export function followsDefault(value: string, lastDefault: string | null): boolean {
  return value.trim() === "" || value === lastDefault;
}

export interface ExportPrefs {
  format: ExportFormat;
  lang: Lang;
  includeUnapproved: boolean;
}

export function parsePrefs(raw: string | null): ExportPrefs {
  const prefs: ExportPrefs = { format: "shopify", lang: "en", includeUnapproved: false };
  if (!raw) return prefs;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if ((EXPORT_FORMATS as readonly unknown[]).includes(v.format)) prefs.format = v.format as ExportFormat;
    if (v.lang === "en" || v.lang === "zh-CN") prefs.lang = v.lang;
    if (typeof v.includeUnapproved === "boolean") prefs.includeUnapproved = v.includeUnapproved;
  } catch {
    // defaults
  }
  return prefs;
}

export function renderReport(report: ExportReport): HTMLElement {
  return el(
    "div",
    { class: "export-result", testid: "export-result" },
    el(
      "p",
      { testid: "export-result-summary" },
      t("export.done", { products: report.products, rows: report.rows, path: report.path }),
    ),
    el("p", {}, el("code", { testid: "export-result-path" }, report.path)),
    report.not_approved > 0 ? el("p", { class: "hint", testid: "export-result-skipped" }, t("export.skipped", { n: report.not_approved })) : null,
  );
}

function labelled(key: Key, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  return el("div", { class: "field" }, setText(el("label", { attrs: { for: id } }), key), control);
}

export class ExportScreen {
  readonly view: HTMLElement;
  private readonly format = el("select", { testid: "export-format" });
  private readonly lang = el(
    "select",
    { testid: "export-lang" },
    el("option", { attrs: { value: "en" } }, "English"),
    el("option", { attrs: { value: "zh-CN", lang: "zh-CN" } }, "简体中文"),
  );
  private readonly unapproved = el("input", { testid: "export-unapproved", attrs: { type: "checkbox" } });
  private readonly path = el("input", { testid: "export-path", attrs: { type: "text", autocomplete: "off", spellcheck: "false" } });
  private readonly hint = el("p", { class: "hint", attrs: { id: "export-path-hint" } });
  private readonly run = el("button", { class: "primary", testid: "export-run", attrs: { type: "submit" } });
  private readonly status = el("p", { class: "status", testid: "export-status", attrs: { role: "status" } });
  private readonly result = el("div", { class: "export-result-slot", attrs: { "aria-live": "polite" } });
  private lastDefault: string | null = null;
  private last: ExportReport | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: unknown) => void,
  ) {
    this.fillFormats();
    let raw: string | null = null;
    try {
      raw = localStorage.getItem(EXPORT_PREFS_KEY);
    } catch {
      raw = null;
    }
    const prefs = parsePrefs(raw);
    this.format.value = prefs.format;
    this.lang.value = prefs.lang;
    this.unapproved.checked = prefs.includeUnapproved;
    this.path.setAttribute("aria-describedby", "export-path-hint");
    setText(this.run, "export.run");
    const unapprovedId = "export-unapproved";
    this.unapproved.id = unapprovedId;
    const form = el(
      "form",
      { class: "export-form", testid: "export-form" },
      labelled("export.format", this.format, "export-format"),
      labelled("export.lang", this.lang, "export-lang"),
      el(
        "div",
        { class: "field checkbox" },
        this.unapproved,
        setText(el("label", { attrs: { for: unapprovedId } }), "export.unapproved"),
      ),
      setText(el("p", { class: "hint" }), "export.unapprovedHint"),
      labelled("export.path", this.path, "export-path"),
      this.hint,
      el("div", { class: "actions" }, this.run),
    );
    for (const c of [this.format, this.lang, this.unapproved]) {
      c.addEventListener("change", () => {
        this.savePrefs();
        void this.updateDefault();
      });
    }
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.exportNow();
    });
    this.view = el(
      "section",
      { class: "screen export-screen", testid: "export-screen", attrs: { id: "screen-export", "aria-labelledby": "export-heading", hidden: true } },
      setText(el("h2", { attrs: { id: "export-heading" } }), "export.title"),
      setText(el("p", { class: "hint" }), "export.intro"),
      form,
      this.status,
      this.result,
    );
    this.updateHint();
  }

  private fillFormats(): void {
    const value = this.format.value;
    replaceChildren(this.format, ...EXPORT_FORMATS.map((f) => el("option", { attrs: { value: f } }, t(`export.format.${f}`))));
    if (value) this.format.value = value;
  }

  private updateHint(): void {
    setText(this.hint, "export.pathHint", { ext: extensionOf(this.format.value as ExportFormat) });
  }

  relabel(): void {
    this.fillFormats();
    this.updateHint();
    if (this.last) replaceChildren(this.result, renderReport(this.last));
  }

  private savePrefs(): void {
    const prefs: ExportPrefs = {
      format: this.format.value as ExportFormat,
      lang: this.lang.value as Lang,
      includeUnapproved: this.unapproved.checked,
    };
    try {
      localStorage.setItem(EXPORT_PREFS_KEY, JSON.stringify(prefs));
    } catch {
      // not remembered
    }
  }

  /** Put the default path for the chosen format in the field, unless the user typed their own. */
  async updateDefault(): Promise<void> {
    this.updateHint();
    try {
      const path = await this.backend.defaultExportPath(this.format.value as ExportFormat, this.lang.value as Lang);
      if (followsDefault(this.path.value, this.lastDefault)) this.path.value = path;
      this.lastDefault = path;
    } catch (err) {
      this.onError(err);
    }
  }

  private async exportNow(): Promise<void> {
    this.run.disabled = true;
    setText(this.status, "export.running");
    replaceChildren(this.result);
    try {
      const report = await this.backend.exportListings(
        this.format.value as ExportFormat,
        this.lang.value as Lang,
        this.unapproved.checked,
        this.path.value.trim() || null,
      );
      this.last = report;
      setText(this.status, null);
      replaceChildren(this.result, renderReport(report));
    } catch (err) {
      setText(this.status, null);
      this.onError(err);
    } finally {
      this.run.disabled = false;
    }
  }
}
