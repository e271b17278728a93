// The Batch screen: start a batch from a catalogue (a CSV file or a folder
// of photos, typed or dropped on the window), with its outputs, languages
// and marketplace; the queue of batches with live progress bars and ETA
// from the runner's events, pause / resume / cancel, and each batch's
// failed items and rows not imported. Runs live in the app, not in this
// screen: they go on while other screens are shown, and the queue is read
// back from the store (a batch left running at the last quit shows as
// interrupted, ready to resume).

import type { api as Api } from "../api";
import { el, replaceChildren } from "../dom";
import { setText, t, type Key } from "../i18n";
import { fillModelChoice } from "../render";
import { BATCH_OUTPUTS, type BatchDetail, type BatchEventPayload, type BatchOutput, type BatchRow, type ImportProgress, type Lang, type ModelStatus } from "../types";
import { actionsFor, applyEvent, chosen, emptyLive, formatEta, parseBatchPrefs, percentDone, shownStatus, type BatchPrefs, type Live } from "./batchModel";

type Backend = Pick<
  typeof Api,
  "startBatch" | "listBatches" | "batchDetail" | "pauseBatch" | "cancelBatch" | "resumeBatch" | "listModels"
>;

export const BATCH_PREFS_KEY = "vitrine.batch";

const LANGS: readonly Lang[] = ["en", "zh-CN"];
/** Item kinds that are batch outputs (a review summary's kind is `review_summary`). */
const OUTPUT_KINDS = new Set<string>(["listing", "script"]);
const MARKETPLACES = ["", "generic", "shopify", "amazon", "taobao"] as const;

function baseName(path: string): string {
  const parts = path.split(/[/\\]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** Minutes of each script from the form: 0.25 to 10, else the core's default (null). */
export function scriptMinutes(raw: string): number | null {
  const v = Number(raw);
  return raw.trim() !== "" && Number.isFinite(v) && v >= 0.25 && v <= 10 ? v : null;
}

/** One row of the queue; buttons carry data-action and data-id (handled by the list). */
export function renderBatchRow(row: BatchRow, live: Live, detail: BatchDetail | null): HTMLLIElement {
  const counts = live.counts && row.active ? live.counts : row.counts;
  const shown = shownStatus(row);
  const pct = percentDone(counts);
  const eta = row.active ? formatEta(live.etaSecs) : null;
  const actions = actionsFor({ ...row, counts });
  const button = (action: string, key: Key, cls = "ghost small") =>
    el("button", { class: cls, testid: `batch-${action}`, attrs: { type: "button", "data-action": action, "data-id": row.id } }, t(key));
  const progress = el("progress", {
    class: "batch-progress",
    testid: "batch-progress",
    attrs: { max: Math.max(1, counts.total), value: counts.done + counts.failed + counts.skipped, "aria-label": t("batch.progressLabel", { id: row.id }) },
  });
  const figures = [
    t("batch.figures", { finished: counts.done + counts.failed + counts.skipped, total: counts.total, pct }),
    counts.failed > 0 ? t("batch.failedN", { n: counts.failed }) : null,
    counts.skipped > 0 ? t("batch.skippedN", { n: counts.skipped }) : null,
    eta ? t("batch.eta", { eta }) : null,
  ].filter((x): x is string => Boolean(x));
  const item = el(
    "li",
    { class: `batch-row batch-${shown}`, testid: "batch-row", attrs: { "data-batch-id": row.id, "data-status": shown } },
    el(
      "div",
      { class: "batch-head" },
      el("span", { class: "batch-name", testid: "batch-name" }, `#${row.id} · ${baseName(row.source)}`),
      el("span", { class: `badge badge-${shown}`, testid: "batch-status" }, t(`batch.status.${shown}`)),
    ),
    el("p", { class: "batch-spec" }, `${row.spec.outputs.map((o) => t(`batch.output.${o}`)).join(", ")} · ${row.spec.langs.join(", ")} · ${row.spec.marketplace}`),
    progress,
    el("p", { class: "batch-figures", testid: "batch-figures" }, figures.join(" · ")),
    row.active && live.current
      ? el(
          "p",
          { class: "hint", testid: "batch-current" },
          t("batch.working", { kind: OUTPUT_KINDS.has(live.current.kind) ? t(`batch.output.${live.current.kind as BatchOutput}`) : live.current.kind, lang: live.current.lang, id: live.current.productId }),
        )
      : null,
    row.error ? el("p", { class: "batch-error", testid: "batch-error" }, row.error) : null,
    el(
      "div",
      { class: "actions" },
      actions.pause ? button("pause", "batch.pause") : null,
      actions.resume ? button("resume", shown === "interrupted" ? "batch.resumeInterrupted" : "batch.resume", "small") : null,
      actions.retryFailed ? button("retry", "batch.retryFailed") : null,
      actions.cancel ? button("cancel", "batch.cancel") : null,
      button("details", detail ? "batch.hideDetails" : "batch.details"),
    ),
  );
  if (detail) item.appendChild(renderBatchDetail(detail));
  return item;
}

/** Failed items with their errors and rows that were not imported, as text. */
export function renderBatchDetail(detail: BatchDetail): HTMLElement {
  const wrap = el("div", { class: "batch-detail", testid: "batch-detail" });
  if (detail.failures.length === 0 && detail.import_errors.length === 0) {
    wrap.appendChild(el("p", { class: "hint", testid: "batch-no-errors" }, t("batch.noErrors")));
    return wrap;
  }
  if (detail.failures.length > 0) {
    wrap.appendChild(el("h4", {}, t("batch.failures")));
    const list = el("ul", { class: "batch-failures", testid: "batch-failures" });
    for (const f of detail.failures) {
      list.appendChild(
        el("li", { testid: "batch-failure" }, el("span", { class: "badge" }, `${f.kind} ${f.lang} · #${f.product_id}`), " ", f.error ?? ""),
      );
    }
    wrap.appendChild(list);
  }
  if (detail.import_errors.length > 0) {
    wrap.appendChild(el("h4", {}, t("batch.importErrors")));
    const list = el("ul", { class: "batch-import-errors", testid: "batch-import-errors" });
    for (const e of detail.import_errors) {
      const where = [e.line !== null ? t("batch.line", { n: e.line }) : null, e.handle].filter(Boolean).join(" · ");
      list.appendChild(el("li", {}, where ? `${where}: ` : "", e.message));
    }
    wrap.appendChild(list);
  }
  return wrap;
}

function check(id: string, value: string, key: Key, checked: boolean, testid: string): { box: HTMLInputElement; field: HTMLElement } {
  const box = el("input", { testid, attrs: { type: "checkbox", id, value, checked } });
  return { box, field: el("div", { class: "field checkbox" }, box, setText(el("label", { attrs: { for: id } }), key)) };
}

export class BatchScreen {
  readonly view: HTMLElement;
  private readonly source = el("input", {
    testid: "batch-source",
    attrs: { id: "batch-source", type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": "batch-source-hint" },
  });
  private readonly reviewsDir = el("input", { testid: "batch-reviews-dir", attrs: { id: "batch-reviews-dir", type: "text", autocomplete: "off", spellcheck: "false" } });
  private readonly reviewsField: HTMLElement;
  private readonly minutes = el("input", {
    testid: "batch-minutes",
    attrs: { id: "batch-minutes", type: "number", min: 0.25, max: 10, step: 0.25, value: 1, inputmode: "decimal" },
  });
  private readonly minutesField: HTMLElement;
  private readonly outputs = new Map<BatchOutput, HTMLInputElement>();
  private readonly langs = new Map<Lang, HTMLInputElement>();
  private readonly marketplace = el("select", { testid: "batch-marketplace", attrs: { id: "batch-marketplace" } });
  private readonly model = el("select", { testid: "batch-model", attrs: { id: "batch-model" } });
  private readonly start = el("button", { class: "primary", testid: "batch-start", attrs: { type: "submit" } });
  private readonly status = el("p", { class: "status", testid: "batch-status-line", attrs: { role: "status" } });
  private readonly list = el("ul", { class: "batch-list", testid: "batch-list" });
  private rows: BatchRow[] = [];
  private models: ModelStatus[] = [];
  private remote: string | null = null;
  private readonly live = new Map<number, Live>();
  private readonly details = new Map<number, BatchDetail>();
  private starting = false;

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: unknown) => void,
  ) {
    let raw: string | null = null;
    try {
      raw = localStorage.getItem(BATCH_PREFS_KEY);
    } catch {
      raw = null;
    }
    const prefs = parseBatchPrefs(raw);
    const outputFields: HTMLElement[] = [];
    for (const o of BATCH_OUTPUTS) {
      const { box, field } = check(`batch-output-${o}`, o, `batch.output.${o}`, prefs.outputs.includes(o), `batch-output-${o}`);
      this.outputs.set(o, box);
      outputFields.push(field);
    }
    const langFields: HTMLElement[] = [];
    for (const l of LANGS) {
      const { box, field } = check(`batch-lang-${l}`, l, l === "en" ? "batch.lang.en" : "batch.lang.zh", prefs.langs.includes(l), `batch-lang-${l}`);
      this.langs.set(l, box);
      langFields.push(field);
    }
    this.fillMarketplaces();
    this.marketplace.value = prefs.marketplace;
    this.reviewsField = el(
      "div",
      { class: "field" },
      setText(el("label", { attrs: { for: "batch-reviews-dir" } }), "batch.reviewsDir"),
      this.reviewsDir,
    );
    this.minutesField = el("div", { class: "field" }, setText(el("label", { attrs: { for: "batch-minutes" } }), "batch.minutes"), this.minutes);
    setText(this.start, "batch.start");
    const form = el(
      "form",
      { class: "batch-form", testid: "batch-form" },
      el(
        "div",
        { class: "field wide" },
        setText(el("label", { attrs: { for: "batch-source" } }), "batch.source"),
        this.source,
        setText(el("p", { class: "hint", attrs: { id: "batch-source-hint" } }), "batch.sourceHint"),
      ),
      el("fieldset", { class: "choices" }, setText(el("legend", {}), "batch.outputs"), ...outputFields),
      this.minutesField,
      this.reviewsField,
      el("fieldset", { class: "choices" }, setText(el("legend", {}), "batch.langs"), ...langFields),
      el("div", { class: "field" }, setText(el("label", { attrs: { for: "batch-marketplace" } }), "batch.marketplace"), this.marketplace),
      el("div", { class: "field" }, setText(el("label", { attrs: { for: "batch-model" } }), "generate.model"), this.model),
      el("div", { class: "actions" }, this.start),
    );
    for (const box of [...this.outputs.values(), ...this.langs.values()]) box.addEventListener("change", () => this.onFormChange());
    this.marketplace.addEventListener("change", () => this.onFormChange());
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.startBatch();
    });
    this.list.addEventListener("click", (ev) => {
      const target = (ev.target as Element | null)?.closest<HTMLButtonElement>("button[data-action]");
      if (!target) return;
      const id = Number(target.dataset.id);
      if (Number.isFinite(id)) void this.act(target.dataset.action ?? "", id);
    });
    this.view = el(
      "section",
      { class: "screen batch-screen", testid: "batch-screen", attrs: { id: "screen-batch", "aria-labelledby": "batch-heading", hidden: true } },
      setText(el("h2", { attrs: { id: "batch-heading" } }), "batch.title"),
      setText(el("p", { class: "hint" }), "batch.intro"),
      form,
      this.status,
      setText(el("h3", { attrs: { id: "batch-queue-heading" } }), "batch.queue"),
      this.list,
    );
    this.list.setAttribute("aria-labelledby", "batch-queue-heading");
    this.onFormChange(false);
    this.render();
  }

  private fillMarketplaces(): void {
    const value = this.marketplace.value;
    replaceChildren(
      this.marketplace,
      ...MARKETPLACES.map((m) => el("option", { attrs: { value: m } }, m === "" ? t("batch.marketplaceAuto") : m === "generic" ? t("generate.generic") : m === "taobao" ? t("generate.taobao") : m[0]?.toUpperCase() + m.slice(1))),
    );
    this.marketplace.value = value;
  }

  private prefs(): BatchPrefs {
    return {
      outputs: chosen(BATCH_OUTPUTS, this.ticked(this.outputs)),
      langs: chosen(LANGS, this.ticked(this.langs)),
      marketplace: this.marketplace.value,
    };
  }

  private ticked<K extends string>(boxes: Map<K, HTMLInputElement>): Set<string> {
    return new Set([...boxes].filter(([, b]) => b.checked).map(([k]) => k));
  }

  private onFormChange(save = true): void {
    const prefs = this.prefs();
    this.reviewsField.hidden = !prefs.outputs.includes("reviews");
    this.minutesField.hidden = !prefs.outputs.includes("script");
    this.start.disabled = this.starting || prefs.outputs.length === 0 || prefs.langs.length === 0;
    if (!save) return;
    try {
      localStorage.setItem(BATCH_PREFS_KEY, JSON.stringify(prefs));
    } catch {
      // not remembered
    }
  }

  relabel(): void {
    this.fillMarketplaces();
    this.fillModels();
    this.render();
  }

  /** Files or folders dropped on the window while this screen shows: the first one becomes the catalogue. */
  acceptDrop(paths: string[]): void {
    const first = paths[0];
    if (!first) return;
    this.source.value = first;
    this.source.focus();
    setText(this.status, "batch.dropped", { name: baseName(first) });
  }

  /** `model@server` when a remote server generates (Settings): the core
   * refuses a local model pin then, so only the server's model is offered. */
  setRemote(backend: string | null): void {
    this.remote = backend;
    this.fillModels();
  }

  private fillModels(): void {
    fillModelChoice(this.model, this.models, this.remote);
  }


  async refresh(): Promise<void> {
    try {
      const [rows, models] = await Promise.all([this.backend.listBatches(), this.backend.listModels()]);
      this.rows = rows;
      this.models = models;
      this.fillModels();
      for (const id of [...this.details.keys()]) {
        if (rows.some((r) => r.id === id)) this.details.set(id, await this.backend.batchDetail(id));
        else this.details.delete(id);
      }
      this.render();
    } catch (err) {
      this.onError(err);
    }
  }

  /** A runner event (whatever screen shows). */
  onEvent(payload: BatchEventPayload): void {
    if (payload.kind === "run") {
      this.live.set(payload.batchId, applyEvent(this.live.get(payload.batchId) ?? emptyLive(), payload.event));
      const row = this.rows.find((r) => r.id === payload.batchId);
      if (!row || payload.event.type === "started") {
        void this.refresh();
        return;
      }
      if (payload.event.type === "item_failed" && this.details.has(row.id)) {
        void this.refresh();
        return;
      }
      this.renderRow(row);
      return;
    }
    this.live.delete(payload.batchId);
    if (payload.error) this.onError(payload.error);
    void this.refresh();
  }

  onImportProgress(p: ImportProgress): void {
    if (this.starting) setText(this.status, "batch.importing", { done: p.done, total: p.total });
  }

  private render(): void {
    replaceChildren(this.list);
    if (this.rows.length === 0) {
      this.list.appendChild(el("li", { class: "empty", testid: "batch-empty" }, t("batch.none")));
      return;
    }
    for (const row of this.rows) this.list.appendChild(renderBatchRow(row, this.live.get(row.id) ?? emptyLive(), this.details.get(row.id) ?? null));
  }

  private renderRow(row: BatchRow): void {
    const old = this.list.querySelector(`[data-batch-id="${row.id}"]`);
    const fresh = renderBatchRow(row, this.live.get(row.id) ?? emptyLive(), this.details.get(row.id) ?? null);
    if (!old) {
      this.render();
      return;
    }
    // Keep the keyboard focus on the button it was on.
    const focused = document.activeElement instanceof HTMLElement && old.contains(document.activeElement) ? document.activeElement.dataset.action : undefined;
    old.replaceWith(fresh);
    if (focused) fresh.querySelector<HTMLElement>(`[data-action="${focused}"]`)?.focus();
  }

  private async startBatch(): Promise<void> {
    const prefs = this.prefs();
    if (this.starting) return;
    this.starting = true;
    this.onFormChange(false);
    setText(this.status, "batch.reading");
    try {
      const started = await this.backend.startBatch({
        source: this.source.value.trim(),
        outputs: prefs.outputs as BatchOutput[],
        langs: prefs.langs as Lang[],
        marketplace: prefs.marketplace || null,
        model: this.model.value || null,
        minutes: prefs.outputs.includes("script") ? scriptMinutes(this.minutes.value) : null,
        reviewsDir: prefs.outputs.includes("reviews") ? this.reviewsDir.value.trim() || null : null,
      });
      const imp = started.import;
      setText(this.status, started.resumed ? "batch.resumed" : "batch.started", {
        id: started.batch.id,
        products: imp.product_ids.length,
        items: started.batch.counts.total,
        problems: imp.errors.length,
      });
      await this.refresh();
    } catch (err) {
      setText(this.status, null);
      this.onError(err);
    } finally {
      this.starting = false;
      this.onFormChange(false);
    }
  }

  private async act(action: string, id: number): Promise<void> {
    try {
      switch (action) {
        case "pause":
          await this.backend.pauseBatch(id);
          break;
        case "resume":
          await this.backend.resumeBatch(id, false);
          break;
        case "retry":
          await this.backend.resumeBatch(id, true);
          break;
        case "cancel":
          await this.backend.cancelBatch(id);
          break;
        case "details":
          if (this.details.has(id)) this.details.delete(id);
          else this.details.set(id, await this.backend.batchDetail(id));
          break;
        default:
          return;
      }
      await this.refresh();
    } catch (err) {
      this.onError(err);
    }
  }
}
