import { afterEach, describe, expect, it } from "vitest";
import { applyTranslations, detectLocale, format, getLocale, keys, LOCALE_KEY, plural, setAttrText, setLocale, setText, t } from "./i18n";
import { el } from "./dom";
import { renderFindings, sourceText, statusText } from "./render";
import type { Fact, Finding } from "./types";

afterEach(() => {
  setLocale("en");
  localStorage.clear();
});

describe("i18n", () => {
  it("has every string in both languages, with the same placeholders", () => {
    for (const key of keys()) {
      const en = t(key, undefined, "en");
      const zh = t(key, undefined, "zh-CN");
      expect(en, key).not.toBe("");
      expect(zh, key).not.toBe("");
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(zh), key).toEqual(names(en));
    }
  });

  it("fills placeholders and leaves unknown ones", () => {
    expect(format("Saved draft #{id}.", { id: 7 })).toBe("Saved draft #7.");
    expect(format("{a} and {b}", { a: "x" })).toBe("x and {b}");
    expect(format("<b>{x}</b>", { x: "<img src=x onerror=alert(1)>" })).toBe("<b><img src=x onerror=alert(1)></b>");
    expect(plural(1, "product.drafts.one", "product.drafts.other")).toBe("1 draft");
    expect(plural(3, "product.drafts.one", "product.drafts.other")).toBe("3 drafts");
  });

  it("starts in the stored language, else the system's, else English", () => {
    expect(detectLocale(null, ["zh-CN", "en"])).toBe("zh-CN");
    expect(detectLocale(null, ["zh-TW"])).toBe("zh-CN");
    expect(detectLocale(null, ["en-GB", "zh-CN"])).toBe("en");
    expect(detectLocale(null, ["fr-FR"])).toBe("en");
    expect(detectLocale(null, [])).toBe("en");
    expect(detectLocale("en", ["zh-CN"])).toBe("en");
    expect(detectLocale("zh-CN", ["en-US"])).toBe("zh-CN");
    expect(detectLocale("klingon", ["zh-CN"])).toBe("zh-CN");
  });

  it("switches registered texts and attributes in place and remembers the choice", () => {
    const root = el("div");
    const nav = setText(el("button"), "nav.review");
    const status = setText(el("p"), "generate.saved", { id: 4 });
    const list = setAttrText(el("ul"), "aria-label", "library.products");
    root.append(nav, status, list);
    document.body.appendChild(root);
    expect(nav.textContent).toBe("Review queue");
    setLocale("zh-CN");
    expect(getLocale()).toBe("zh-CN");
    expect(localStorage.getItem(LOCALE_KEY)).toBe("zh-CN");
    expect(document.documentElement.lang).toBe("zh-CN");
    expect(nav.textContent).toBe("审核队列");
    expect(status.textContent).toBe("已保存草稿 #4。");
    expect(list.getAttribute("aria-label")).toBe("商品");
    setText(status, null);
    setLocale("en");
    expect(nav.textContent).toBe("Review queue");
    expect(status.textContent).toBe("");
    applyTranslations(root);
    root.remove();
  });

  it("renders data-driven text in the current language", () => {
    const fact = { source: "user" } as Fact;
    setLocale("zh-CN");
    expect(sourceText(fact)).toBe("你");
    expect(statusText("in_review")).toBe("审核中");
    expect(statusText("weird")).toBe("weird");
    const f: Finding = { check: "claims", rule: "superlative", severity: "blocking", field: "title", excerpt: "best", explanation: "x" };
    expect(renderFindings([f, f]).querySelector("h3")?.textContent).toContain("2 个阻止性问题");
  });
});
