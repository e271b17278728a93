import { afterEach, describe, expect, it } from "vitest";
import { explainFinding, fieldLabel, particulars, suggestFix } from "./checkText";
import { setLocale } from "./i18n";
import { renderFindings } from "./render";
import type { Finding } from "./types";

afterEach(() => setLocale("en"));

// Findings as vitrine-core writes them (explanations copied from its format strings).
const tooLong: Finding = {
  check: "limits", rule: "title_max_chars", severity: "blocking", field: "title", excerpt: "",
  explanation: "title has 212 characters; Amazon allows 200", suggestion: "Shorten it to at most 200 characters, ending on a whole word.",
};
const absolute: Finding = {
  check: "wording", rule: "absolute-en", severity: "blocking", field: "bullets[2]", span: [0, 8], excerpt: "the best",
  explanation: "Unverifiable superlatives and absolute claims (best, #1, perfect, 100%) break marketplace rules and advertising law.",
  suggestion: "Remove it.",
};
const colour: Finding = {
  check: "contradiction", rule: "colour_contradiction", severity: "blocking", field: "description", span: [4, 7], excerpt: "red",
  explanation: "the copy says colour `red`, but the product's colour is navy, white", suggestion: "Use navy / white, or remove `red`.",
};
const unknownRule: Finding = {
  check: "meta_text", rule: "some-new-rule", severity: "warning", field: "keywords[1]", excerpt: "As an AI",
  explanation: "Refusal text", suggestion: undefined,
};

describe("check findings in the UI's language", () => {
  it("keeps the core's English in English", () => {
    expect(explainFinding(tooLong)).toBe(tooLong.explanation);
    expect(suggestFix(absolute)).toBe("Remove it.");
    expect(fieldLabel("bullets[2]")).toBe("bullets[2]");
  });

  it("reads the particulars back out of the English sentence", () => {
    expect(particulars(tooLong)).toEqual({ n: "212", market: "Amazon", max: "200" });
    expect(particulars(colour)).toEqual({ facts: "navy, white" });
  });

  it("says each finding in Chinese with its span, numbers and field filled in", () => {
    setLocale("zh-CN");
    expect(explainFinding(tooLong)).toBe("标题有 212 个字符；Amazon 最多允许 200 个");
    expect(suggestFix(tooLong)).toBe("请缩短到不超过 200 个字符，并以完整词语结尾。");
    expect(explainFinding(absolute)).toBe("无法证实的最高级和绝对化说法违反平台规则：“the best”");
    expect(explainFinding(colour)).toBe("描述写的是“red”，但商品事实为 navy, white");
    // A rule the UI does not know yet still gets a Chinese sentence for its check.
    expect(explainFinding(unknownRule)).toBe("关键词 1包含模型自身的说明而非文案：“As an AI”");
    expect(fieldLabel("segments[3].hook")).toBe("片段 3");
    expect(fieldLabel("odd field")).toBe("odd field");
  });

  it("renders the findings panel in Chinese, the English kept in the tooltip, the span as text", () => {
    setLocale("zh-CN");
    const hostile: Finding = { ...absolute, excerpt: '<img src=x onerror="window.__x=1">' };
    const panel = renderFindings([tooLong, hostile]);
    const items = panel.querySelectorAll('[data-testid="finding"]');
    expect(items[0]?.querySelector('[data-testid="finding-explanation"]')?.textContent).toBe("标题有 212 个字符；Amazon 最多允许 200 个");
    expect(items[0]?.getAttribute("title")).toContain("title has 212 characters");
    expect(items[1]?.querySelector(".finding-field")?.textContent).toBe("卖点 2");
    expect(items[1]?.textContent).toContain('“<img src=x onerror="window.__x=1">”');
    expect(panel.querySelector("img")).toBeNull();
    // The sentence quotes the span, so it is not repeated after it.
    expect(items[1]?.querySelector(".finding-excerpt")).toBeNull();
    expect(panel.textContent).not.toMatch(/Unverifiable|characters;/);
  });
});
