import { afterEach, describe, expect, it } from "vitest";
import { setLocale } from "../i18n";
import type { ConnectionReport, IpcError, SettingsUpdate, SettingsView } from "../types";
import { fieldError, formUpdate, GenerationSettings, renderConnection, tokenState } from "./generationSettings";
import { parseThreshold } from "./models";

afterEach(() => {
  setLocale("en");
  document.body.replaceChildren();
});

function view(over: Partial<SettingsView> = {}): SettingsView {
  return {
    threads: null, threadsNow: 2, cores: 2, remoteUrl: null, remoteModel: null, tokenSet: false, tokenHint: null,
    tokenFromEnv: false, routerThreshold: 0.5, settingsFile: "/data/settings.json", ...over,
  };
}

const invalid = (field: string, reason: string): IpcError => ({ code: "invalid_setting", message: `bad ${field}`, details: { field, reason } });

describe("generation settings", () => {
  it("turns the form into an update: empty threads is every core, an empty token keeps the stored one", () => {
    expect(formUpdate({ threads: "", remoteUrl: " http://h:1 ", remoteModel: " m ", remoteToken: "", clearToken: false })).toEqual({ threads: 0, remoteUrl: "http://h:1", remoteModel: "m" });
    expect(formUpdate({ threads: "4", remoteUrl: "", remoteModel: "", remoteToken: " sk-1 ", clearToken: true })).toEqual({ threads: 4, remoteUrl: "", remoteModel: "", remoteToken: "sk-1", clearToken: true });
    expect(formUpdate({ threads: "2.5", remoteUrl: "", remoteModel: "", remoteToken: "", clearToken: false })).toEqual({ field: "threads", reason: "threads_range" });
  });

  it("puts a typed invalid_setting error next to its field, in the UI's language", () => {
    expect(fieldError(invalid("remoteUrl", "url_scheme"))?.field).toBe("remoteUrl");
    expect(fieldError({ code: "io", message: "x", details: null })).toBeNull();
    setLocale("zh-CN");
    expect(fieldError(invalid("remoteUrl", "url_scheme"))?.text).toBe("仅支持 http:// 和 https:// 服务器。");
  });

  it("never shows the token, only whether one is set", () => {
    expect(tokenState(view())).toBe("No token set.");
    expect(tokenState(view({ tokenSet: true, tokenHint: "abcd" }))).toContain("…abcd");
    expect(tokenState(view({ tokenSet: true, tokenFromEnv: true }))).toContain("VITRINE_REMOTE_API_KEY");
  });

  it("reports a test connection, and whether the server lists the model", () => {
    const ok: ConnectionReport = { models: ["qwen", "x"], modelListed: true, ms: 12 };
    expect(renderConnection(ok, "qwen").dataset.listed).toBe("true");
    const missing = renderConnection({ ...ok, modelListed: false }, "llama");
    expect(missing.textContent).toContain("qwen, x");
  });

  it("saves through the backend and shows a refused URL under the URL field, the token field left empty", async () => {
    const sent: SettingsUpdate[] = [];
    let stored = view();
    const backend = {
      getSettings: async () => stored,
      saveSettings: async (u: SettingsUpdate) => {
        sent.push(u);
        if (u.remoteUrl?.startsWith("ftp:")) throw invalid("remoteUrl", "url_scheme");
        stored = view({ remoteUrl: u.remoteUrl || null, remoteModel: u.remoteModel || null, tokenSet: Boolean(u.remoteToken), tokenHint: "wxyz" });
        return stored;
      },
      testRemote: async () => ({ models: [], modelListed: false, ms: 1 }),
    };
    const saved: SettingsView[] = [];
    const g = new GenerationSettings(backend, (e) => { throw e; }, (v) => saved.push(v));
    document.body.append(g.view);
    await g.refresh();
    const input = (id: string) => g.view.querySelector<HTMLInputElement>(`[data-testid="${id}"]`)!;
    input("settings-remote-url").value = "ftp://files";
    input("settings-remote-model").value = "qwen";
    await g.submit();
    const urlError = g.view.querySelector<HTMLElement>('[data-testid="settings-error-remoteUrl"]')!;
    expect(urlError.hidden).toBe(false);
    expect(urlError.textContent).toContain("http://");
    expect(input("settings-remote-url").getAttribute("aria-invalid")).toBe("true");
    expect(saved).toEqual([]);

    input("settings-remote-url").value = "http://127.0.0.1:8000";
    input("settings-remote-token").value = "sk-secret-wxyz";
    await g.submit();
    expect(urlError.hidden).toBe(true);
    expect(sent.at(-1)).toMatchObject({ remoteUrl: "http://127.0.0.1:8000", remoteModel: "qwen", remoteToken: "sk-secret-wxyz" });
    expect(saved.length).toBe(1);
    expect(input("settings-remote-token").value).toBe("");
    expect(g.view.textContent).not.toContain("sk-secret");
    expect(g.view.querySelector('[data-testid="settings-token-state"]')?.textContent).toContain("…wxyz");
  });

  it("accepts a router threshold between 0 and 1 only", () => {
    expect(parseThreshold("0.35")).toBe(0.35);
    expect(parseThreshold("0,7")).toBe(0.7);
    expect(parseThreshold("1")).toBe(1);
    expect(parseThreshold("")).toBeNull();
    expect(parseThreshold("1.2")).toBeNull();
    expect(parseThreshold("-0.1")).toBeNull();
  });
});
