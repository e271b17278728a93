// Settings › Generation: CPU threads, the remote backend (server URL, model
// name, API token) with a "Test connection" button. The backend applies to
// the next generation at once; threads when the app starts again. The token
// field is never filled in: the page only learns whether one is set (and its
// last four characters when it is long).

import type { api as Api } from "../api";
import { el, replaceChildren } from "../dom";
import { toIpcError } from "../errors";
import { setText, t, type Key } from "../i18n";
import type { ConnectionReport, IpcError, SettingsUpdate, SettingsView } from "../types";

type Backend = Pick<typeof Api, "getSettings" | "saveSettings" | "testRemote">;

export const FIELDS = ["threads", "remoteUrl", "remoteModel", "remoteToken"] as const;
export type Field = (typeof FIELDS)[number];

export interface FormValues {
  threads: string;
  remoteUrl: string;
  remoteModel: string;
  remoteToken: string;
  clearToken: boolean;
}

/** What to send for the form as filled in; a threads value that is not a whole number is refused here. */
export function formUpdate(v: FormValues): SettingsUpdate | { field: Field; reason: string } {
  const raw = v.threads.trim();
  const threads = raw === "" ? 0 : Number(raw);
  if (!Number.isInteger(threads) || threads < 0) return { field: "threads", reason: "threads_range" };
  const update: SettingsUpdate = { threads, remoteUrl: v.remoteUrl.trim(), remoteModel: v.remoteModel.trim() };
  if (v.remoteToken.trim()) update.remoteToken = v.remoteToken.trim();
  if (v.clearToken) update.clearToken = true;
  return update;
}

const REASONS: Record<string, Key> = {
  url_parse: "settings.invalid.url_parse",
  url_scheme: "settings.invalid.url_scheme",
  url_extra: "settings.invalid.url_extra",
  model_missing: "settings.invalid.model_missing",
  threads_range: "settings.invalid.threads_range",
  threshold_range: "settings.invalid.threshold_range",
};

/** The field an invalid_setting error belongs to and its sentence; null for other errors. */
export function fieldError(err: IpcError): { field: string; text: string } | null {
  if (err.code !== "invalid_setting" || typeof err.details !== "object" || err.details === null) return null;
  const d = err.details as { field?: unknown; reason?: unknown };
  if (typeof d.field !== "string") return null;
  const key = typeof d.reason === "string" ? REASONS[d.reason] : undefined;
  return { field: d.field, text: key ? t(key) : err.message };
}

export function tokenState(v: SettingsView): string {
  if (!v.tokenSet) return t("settings.token.none");
  if (v.tokenFromEnv) return t("settings.token.env");
  return v.tokenHint ? t("settings.token.hint", { last: v.tokenHint }) : t("settings.token.set");
}

export function backendState(v: SettingsView): string {
  return v.remoteUrl && v.remoteModel ? t("settings.backend.remote", { model: v.remoteModel, url: v.remoteUrl }) : t("settings.backend.local");
}

export function renderConnection(r: ConnectionReport, model: string): HTMLElement {
  const line = r.modelListed
    ? t("settings.test.ok", { model, ms: r.ms })
    : t("settings.test.notListed", { model, list: r.models.join(", ") || "—" });
  return el("span", { class: r.modelListed ? "ok" : "batch-error", testid: "settings-test-result", attrs: { "data-listed": String(r.modelListed) } }, line);
}

export class GenerationSettings {
  readonly view: HTMLElement;
  private readonly threads = el("input", { testid: "settings-threads", attrs: { id: "settings-threads", type: "number", min: 0, max: 256, step: 1, inputmode: "numeric" } });
  private readonly threadsHint = el("p", { class: "hint", testid: "settings-threads-hint" });
  private readonly url = el("input", { testid: "settings-remote-url", attrs: { id: "settings-remote-url", type: "url", autocomplete: "off", spellcheck: "false", placeholder: "http://127.0.0.1:8000" } });
  private readonly model = el("input", { testid: "settings-remote-model", attrs: { id: "settings-remote-model", type: "text", autocomplete: "off", spellcheck: "false" } });
  private readonly token = el("input", { testid: "settings-remote-token", attrs: { id: "settings-remote-token", type: "password", autocomplete: "off" } });
  private readonly tokenInfo = el("p", { class: "hint", testid: "settings-token-state" });
  private readonly clearToken = el("input", { testid: "settings-clear-token", attrs: { id: "settings-clear-token", type: "checkbox" } });
  private readonly backendInfo = el("p", { class: "hint", testid: "settings-backend-state" });
  private readonly save = setText(el("button", { class: "primary", testid: "settings-save", attrs: { type: "submit" } }), "settings.save");
  private readonly test = setText(el("button", { class: "secondary", testid: "settings-test", attrs: { type: "button" } }), "settings.test");
  private readonly status = el("p", { class: "status", testid: "settings-status", attrs: { role: "status" } });
  private readonly testResult = el("p", { class: "status", testid: "settings-test-status", attrs: { role: "status" } });
  private readonly errors = new Map<string, { node: HTMLElement; control: HTMLInputElement }>();
  private loaded: SettingsView | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: unknown) => void,
    /** Told after a save: the Generate screen's model list depends on the backend. */
    private readonly onSaved: (v: SettingsView) => void,
  ) {
    const form = el(
      "form",
      { class: "settings-generation", testid: "settings-generation", attrs: { novalidate: true } },
      setText(el("h3", {}), "settings.generation"),
      this.field("threads", "settings.threads", this.threads, this.threadsHint),
      this.backendInfo,
      this.field("remoteUrl", "settings.remoteUrl", this.url, setText(el("p", { class: "hint" }), "settings.remoteUrlHint")),
      this.field("remoteModel", "settings.remoteModel", this.model),
      this.field(
        "remoteToken",
        "settings.remoteToken",
        this.token,
        this.tokenInfo,
        el("label", { class: "inline" }, this.clearToken, " ", setText(el("span", {}), "settings.clearToken")),
      ),
      el("div", { class: "actions" }, this.save, this.test),
      this.status,
      this.testResult,
      setText(el("p", { class: "hint" }), "settings.appliesHint"),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.submit();
    });
    this.test.addEventListener("click", () => void this.testConnection());
    this.view = form;
  }

  private field(name: Field, label: Key, control: HTMLInputElement, ...extra: HTMLElement[]): HTMLElement {
    const error = el("p", { class: "field-error", testid: `settings-error-${name}`, attrs: { id: `settings-error-${name}`, role: "alert", hidden: true } });
    this.errors.set(name, { node: error, control });
    control.setAttribute("aria-describedby", `settings-error-${name}`);
    return el("div", { class: "field" }, setText(el("label", { attrs: { for: control.id } }), label), control, ...extra, error);
  }

  private showFieldError(field: string, text: string | null): void {
    for (const [name, { node, control }] of this.errors) {
      const mine = name === field && text !== null;
      node.hidden = !mine;
      node.textContent = mine ? text : "";
      control.setAttribute("aria-invalid", String(mine));
    }
  }

  relabel(): void {
    if (this.loaded) this.fill(this.loaded, false);
  }

  async refresh(): Promise<void> {
    try {
      this.fill(await this.backend.getSettings(), true);
    } catch (err) {
      this.onError(err);
    }
  }

  private fill(v: SettingsView, values: boolean): void {
    this.loaded = v;
    if (values) {
      this.threads.value = v.threads === null ? "" : String(v.threads);
      this.url.value = v.remoteUrl ?? "";
      this.model.value = v.remoteModel ?? "";
      this.token.value = "";
      this.clearToken.checked = false;
    }
    this.threads.placeholder = t("settings.threadsAll", { n: v.cores });
    this.threadsHint.textContent = t("settings.threadsHint", { now: v.threadsNow, cores: v.cores });
    this.tokenInfo.textContent = tokenState(v);
    this.backendInfo.textContent = backendState(v);
  }

  private values(): FormValues {
    return { threads: this.threads.value, remoteUrl: this.url.value, remoteModel: this.model.value, remoteToken: this.token.value, clearToken: this.clearToken.checked };
  }

  async submit(): Promise<void> {
    this.showFieldError("", null);
    setText(this.status, null);
    const update = formUpdate(this.values());
    if ("field" in update) {
      this.showFieldError(update.field, t(REASONS[update.reason] ?? "settings.invalid.threads_range"));
      return;
    }
    this.save.disabled = true;
    try {
      const v = await this.backend.saveSettings(update);
      this.fill(v, true);
      setText(this.status, "settings.saved");
      this.onSaved(v);
    } catch (err) {
      const e = toIpcError(err);
      const f = fieldError(e);
      if (f) this.showFieldError(f.field, f.text);
      else this.onError(e);
    } finally {
      this.save.disabled = false;
    }
  }

  async testConnection(): Promise<void> {
    this.showFieldError("", null);
    replaceChildren(this.testResult);
    setText(this.testResult, "settings.test.running");
    this.test.disabled = true;
    const model = this.model.value.trim();
    try {
      const r = await this.backend.testRemote(this.url.value, model, this.token.value.trim() || null);
      setText(this.testResult, null);
      replaceChildren(this.testResult, renderConnection(r, model));
    } catch (err) {
      const e = toIpcError(err);
      setText(this.testResult, null);
      const f = fieldError(e);
      if (f) this.showFieldError(f.field, f.text);
      else replaceChildren(this.testResult, el("span", { class: "batch-error", testid: "settings-test-error", attrs: { "data-code": e.code } }, t("settings.test.failed", { message: e.message })));
    } finally {
      this.test.disabled = false;
    }
  }
}
