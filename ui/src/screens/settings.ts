// Settings: the interface language and the theme (both remembered on this
// machine), generation (threads, the remote backend; see
// generationSettings.ts) and where Vitrine keeps its data, shown read-only.

import type { api as Api } from "../api";
import { el, replaceChildren } from "../dom";
import { getLocale, setText, t, type Key } from "../i18n";
import { loadTheme, saveTheme, THEMES, type Theme } from "../theme";
import type { AppInfo, SettingsView } from "../types";
import { GenerationSettings } from "./generationSettings";

type Backend = Pick<typeof Api, "appInfo" | "getSettings" | "saveSettings" | "testRemote">;

export function languageOptions(): HTMLOptionElement[] {
  return [
    el("option", { attrs: { value: "en", lang: "en" } }, "English"),
    el("option", { attrs: { value: "zh-CN", lang: "zh-CN" } }, "简体中文"),
  ];
}

export function renderInfo(info: AppInfo): HTMLElement {
  const row = (key: Key, value: string, testid: string) =>
    [el("dt", {}, t(key)), el("dd", {}, el("code", { testid }, value))] as const;
  return el(
    "dl",
    { class: "info", testid: "settings-info" },
    ...row("settings.dataDir", info.data_dir, "settings-data-dir"),
    ...row("settings.modelsDir", info.models_dir, "settings-models-dir"),
    ...row("settings.exportsDir", info.exports_dir, "settings-exports-dir"),
    ...row("settings.profile", `${info.profile.name} (${t(`role.${info.profile.role}`)})`, "settings-profile"),
    ...row("settings.version", info.version, "settings-version"),
  );
}

export class SettingsScreen {
  readonly view: HTMLElement;
  readonly language = el("select", { testid: "settings-language", attrs: { id: "settings-language" } }, ...languageOptions());
  private readonly theme = el("select", { testid: "settings-theme", attrs: { id: "settings-theme" } });
  private readonly info = el("div", { class: "info-slot" });
  private loaded: AppInfo | null = null;
  readonly generation: GenerationSettings;

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: unknown) => void,
    onLanguage: (value: string) => void,
    onSaved: (v: SettingsView) => void = () => {},
  ) {
    this.generation = new GenerationSettings(backend, onError, onSaved);
    this.fillThemes();
    this.theme.value = loadTheme();
    this.theme.addEventListener("change", () => saveTheme(this.theme.value as Theme));
    this.language.value = getLocale();
    this.language.addEventListener("change", () => onLanguage(this.language.value));
    this.view = el(
      "section",
      { class: "screen settings-screen", testid: "settings-screen", attrs: { id: "screen-settings", "aria-labelledby": "settings-heading", hidden: true } },
      setText(el("h2", { attrs: { id: "settings-heading" } }), "settings.title"),
      el(
        "div",
        { class: "field" },
        setText(el("label", { attrs: { for: "settings-language" } }), "settings.language"),
        this.language,
      ),
      el("div", { class: "field" }, setText(el("label", { attrs: { for: "settings-theme" } }), "settings.theme"), this.theme),
      this.generation.view,
      this.info,
      setText(el("p", { class: "hint" }), "settings.dataHint"),
    );
  }

  private fillThemes(): void {
    const value = this.theme.value;
    replaceChildren(this.theme, ...THEMES.map((th) => el("option", { attrs: { value: th } }, t(`settings.theme.${th}`))));
    if (value) this.theme.value = value;
  }

  relabel(): void {
    this.fillThemes();
    this.language.value = getLocale();
    if (this.loaded) replaceChildren(this.info, renderInfo(this.loaded));
    this.generation.relabel();
  }

  async refresh(): Promise<void> {
    void this.generation.refresh();
    try {
      this.loaded = await this.backend.appInfo();
      replaceChildren(this.info, renderInfo(this.loaded));
    } catch (err) {
      this.onError(err);
    }
  }
}
