// The Models screen: every model of the manifest, installed or missing,
// with a Fetch button and its progress for the missing ones; the device
// generation runs on, the backend, the model in memory and the router's
// threshold, which can be changed here (stored in the app's settings and
// used from the next generation). A fetch goes on while other screens are shown.

import type { api as Api } from "../api";
import { el, replaceChildren } from "../dom";
import { toIpcError } from "../errors";
import { setText, t, type Key } from "../i18n";
import { formatBytes } from "../render";
import type { FetchPayload, ModelStatus, ModelsOverview } from "../types";

type Backend = Pick<typeof Api, "modelsOverview" | "fetchModel" | "saveSettings">;

/** The threshold typed in, or null when it is not a number between 0 and 1. */
export function parseThreshold(raw: string): number | null {
  const v = Number(raw.trim().replace(",", "."));
  return raw.trim() !== "" && Number.isFinite(v) && v >= 0 && v <= 1 ? v : null;
}

/** Where a fetch stands, for its row. */
export interface FetchState {
  phase: "starting" | "downloading" | "assembling" | "installed" | "failed";
  done: number;
  total: number;
  source?: string;
  error?: string;
}

export function applyFetchEvent(prev: FetchState | undefined, ev: FetchPayload): FetchState {
  const base: FetchState = prev ?? { phase: "starting", done: 0, total: 0 };
  switch (ev.type) {
    case "downloading":
      return { ...base, phase: "downloading", source: ev.source };
    case "progress":
      return { ...base, phase: "assembling", done: ev.done, total: ev.total };
    case "installed":
      return { ...base, phase: "installed", done: base.total, total: base.total };
    case "failed":
      return { ...base, phase: "failed", error: ev.error.message };
  }
}

/** Models in the order people look for them: installed first, then by role and name. */
export function sortModels(models: readonly ModelStatus[]): ModelStatus[] {
  return [...models].sort(
    (a, b) => Number(b.installed) - Number(a.installed) || a.role.localeCompare(b.role) || Number(b.default) - Number(a.default) || a.id.localeCompare(b.id),
  );
}

export function renderModelRow(m: ModelStatus, fetch: FetchState | undefined, busy: boolean): HTMLTableRowElement {
  const state = m.installed ? "installed" : "missing";
  const fetching = fetch && (fetch.phase === "starting" || fetch.phase === "downloading" || fetch.phase === "assembling");
  const status = el("td", {}, el("span", { class: `badge badge-${state}`, testid: "model-state" }, t(`models.${state}`)));
  if (fetching) {
    const phaseKey: Key = fetch.phase === "assembling" ? "models.assembling" : fetch.phase === "downloading" ? "models.downloading" : "models.starting";
    status.append(
      el("progress", {
        class: "fetch-progress",
        testid: "fetch-progress",
        attrs: fetch.total > 0 ? { max: fetch.total, value: fetch.done, "aria-label": t("models.fetchOf", { id: m.id }) } : { "aria-label": t("models.fetchOf", { id: m.id }) },
      }),
      el("span", { class: "hint" }, t(phaseKey, { source: fetch.source ?? "", done: formatBytes(fetch.done), total: formatBytes(fetch.total) })),
    );
  } else if (fetch?.phase === "failed") {
    status.append(el("span", { class: "batch-error", testid: "fetch-error" }, fetch.error ?? ""));
  }
  return el(
    "tr",
    { testid: "model-row", attrs: { "data-model-id": m.id, "data-installed": String(m.installed) } },
    el("td", {}, el("span", { class: "model-name" }, m.name || m.id), el("br", {}), el("code", { class: "hint" }, m.id), m.default ? el("span", { class: "badge" }, t("generate.default")) : null),
    el("td", {}, m.role),
    el("td", { class: "num" }, formatBytes(m.size_bytes)),
    el("td", {}, m.licence ?? ""),
    status,
    el(
      "td",
      {},
      m.installed
        ? null
        : el("button", { class: "small", testid: "model-fetch", attrs: { type: "button", "data-id": m.id, disabled: busy || Boolean(fetching) } }, t("models.fetch")),
    ),
  );
}

export function renderOverview(o: ModelsOverview): HTMLElement {
  const row = (key: Key, value: string, testid: string) => [el("dt", {}, t(key)), el("dd", {}, el("code", { testid }, value))] as const;
  return el(
    "dl",
    { class: "info", testid: "models-info" },
    ...row("models.device", `${o.device} (${t("models.built", { list: o.accelerators.join(", ") })})`, "models-device"),
    ...row("models.backend", o.backend === "local" ? t("models.local") : o.backend, "models-backend"),
    ...row("models.loaded", o.loaded ?? t("models.noneLoaded"), "models-loaded"),
    ...row("models.router", t("models.routerValue", { threshold: o.routerThreshold.toFixed(2) }), "models-router"),
    ...row("models.dir", o.modelsDir, "models-dir"),
  );
}

export class ModelsScreen {
  readonly view: HTMLElement;
  private readonly info = el("div", { class: "info-slot" });
  private readonly body = el("tbody", { testid: "models-body" });
  private overview: ModelsOverview | null = null;
  private readonly fetches = new Map<string, FetchState>();
  private readonly threshold = el("input", {
    testid: "router-threshold",
    attrs: { id: "router-threshold", type: "number", min: 0, max: 1, step: 0.05, inputmode: "decimal", "aria-describedby": "router-threshold-error" },
  });
  private readonly thresholdSave = setText(el("button", { class: "small", testid: "router-save", attrs: { type: "submit" } }), "models.routerSave");
  private readonly thresholdError = el("p", { class: "field-error", testid: "router-error", attrs: { id: "router-threshold-error", role: "alert", hidden: true } });
  private readonly thresholdStatus = el("span", { class: "status", testid: "router-status", attrs: { role: "status" } });

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: unknown) => void,
    /** Told when a model was installed (the other screens' model lists change). */
    private readonly onInstalled: () => void,
  ) {
    const head = el(
      "thead",
      {},
      el(
        "tr",
        {},
        ...(["models.name", "models.role", "models.size", "models.licence", "models.state", "models.action"] as const).map((k) => setText(el("th", { attrs: { scope: "col" } }), k)),
      ),
    );
    this.body.addEventListener("click", (ev) => {
      const b = (ev.target as Element | null)?.closest<HTMLButtonElement>("button[data-id]");
      if (b?.dataset.id) void this.fetch(b.dataset.id);
    });
    const routerForm = el(
      "form",
      { class: "router-form", testid: "router-form" },
      el("div", { class: "field" }, setText(el("label", { attrs: { for: "router-threshold" } }), "models.routerThreshold"), this.threshold, this.thresholdError),
      el("div", { class: "actions" }, this.thresholdSave, this.thresholdStatus),
    );
    routerForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.saveThreshold();
    });
    this.view = el(
      "section",
      { class: "screen models-screen", testid: "models-screen", attrs: { id: "screen-models", "aria-labelledby": "models-heading", hidden: true } },
      setText(el("h2", { attrs: { id: "models-heading" } }), "models.title"),
      setText(el("p", { class: "hint" }), "models.intro"),
      this.info,
      routerForm,
      el("table", { class: "models-table", testid: "models-table" }, head, this.body),
      setText(el("p", { class: "hint" }), "models.routerHint"),
    );
  }

  relabel(): void {
    this.render();
  }

  async refresh(): Promise<void> {
    try {
      this.overview = await this.backend.modelsOverview();
      this.threshold.value = String(this.overview.routerThreshold);
      for (const id of this.overview.fetching) if (!this.fetches.has(id)) this.fetches.set(id, { phase: "starting", done: 0, total: 0 });
      this.render();
    } catch (err) {
      this.onError(err);
    }
  }

  async saveThreshold(): Promise<void> {
    this.thresholdError.hidden = true;
    this.threshold.setAttribute("aria-invalid", "false");
    setText(this.thresholdStatus, null);
    const value = parseThreshold(this.threshold.value);
    if (value === null) {
      this.showThresholdError(t("settings.invalid.threshold_range"));
      return;
    }
    try {
      const v = await this.backend.saveSettings({ routerThreshold: value });
      if (this.overview) this.overview.routerThreshold = v.routerThreshold;
      this.render();
      setText(this.thresholdStatus, "models.routerSaved", { threshold: v.routerThreshold.toFixed(2) });
    } catch (err) {
      const e = toIpcError(err);
      if (e.code === "invalid_setting") this.showThresholdError(t("settings.invalid.threshold_range"));
      else this.onError(e);
    }
  }

  private showThresholdError(text: string): void {
    this.thresholdError.hidden = false;
    this.thresholdError.textContent = text;
    this.threshold.setAttribute("aria-invalid", "true");
  }

  onFetchEvent(ev: FetchPayload): void {
    this.fetches.set(ev.id, applyFetchEvent(this.fetches.get(ev.id), ev));
    this.render();
  }

  private render(): void {
    const o = this.overview;
    if (!o) return;
    replaceChildren(this.info, renderOverview(o));
    replaceChildren(this.body, ...sortModels(o.models).map((m) => renderModelRow(m, this.fetches.get(m.id), false)));
  }

  private async fetch(id: string): Promise<void> {
    this.fetches.set(id, { phase: "starting", done: 0, total: 0 });
    this.render();
    try {
      const models = await this.backend.fetchModel(id);
      this.fetches.delete(id);
      if (this.overview) this.overview.models = models;
      this.render();
      this.onInstalled();
    } catch (err) {
      const e = err as { message?: string };
      this.fetches.set(id, { ...(this.fetches.get(id) ?? { done: 0, total: 0 }), phase: "failed", error: e.message ?? String(err) });
      this.render();
      this.onError(err);
    }
  }
}
