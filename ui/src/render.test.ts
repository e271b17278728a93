import { afterEach, describe, expect, it } from "vitest";
import { el, isSafeImageUrl, setAttr, setOptions } from "./dom";
import { colourInfo, formatBytes, matchesProduct, pickModels, renderDraft, renderFacts, renderFindings, renderListing, renderModelOptions } from "./render";
import type { Draft, Fact, Listing, ModelStatus } from "./types";

const XSS = [
  "<script>window.__pwned = 1</script>",
  '<img src=x onerror="window.__pwned = 2">',
  '"><svg onload="window.__pwned = 3">',
  "<a href=\"javascript:window.__pwned=4\">click</a>",
];

declare global {
  interface Window {
    __pwned?: number;
  }
}

afterEach(() => {
  document.body.replaceChildren();
  delete window.__pwned;
});

function hostile(): Listing {
  return { title: XSS[0]!, bullets: [XSS[1]!, XSS[2]!], description: XSS.join("\n"), keywords: [XSS[3]!, "cotton"] };
}

function noMarkup(root: Element): void {
  expect(root.querySelectorAll("script, img, svg, iframe, a, object, embed").length).toBe(0);
  for (const node of root.querySelectorAll("*")) {
    for (const attr of Array.from(node.attributes)) {
      expect(attr.name.startsWith("on")).toBe(false);
    }
  }
}

describe("renderListing", () => {
  it("shows model output as text, never as markup", async () => {
    const node = renderListing(hostile(), "en");
    document.body.appendChild(node);
    await new Promise((r) => setTimeout(r, 20));
    noMarkup(node);
    expect(window.__pwned).toBeUndefined();
    expect(node.querySelector('[data-testid="listing-title"]')?.textContent).toBe(XSS[0]);
    const bullets = [...node.querySelectorAll('[data-testid="listing-bullet"]')].map((b) => b.textContent);
    expect(bullets).toEqual([XSS[1], XSS[2]]);
    expect(node.querySelector('[data-testid="listing-description"]')?.textContent).toBe(XSS.join("\n"));
    const keywords = [...node.querySelectorAll('[data-testid="listing-keyword"]')].map((k) => k.textContent);
    expect(keywords).toEqual([XSS[3], "cotton"]);
  });

  it("renders a plain listing in order", () => {
    const node = renderListing({ title: "Navy hoodie", bullets: ["Soft", "Warm"], description: "A hoodie.", keywords: ["hoodie"] });
    expect(node.textContent).toBe("Navy hoodieSoftWarmA hoodie.hoodie");
  });
});

describe("renderDraft", () => {
  const draft: Draft = {
    id: 7,
    product_id: 1,
    kind: "listing",
    lang: "en",
    marketplace: "generic",
    status: "draft",
    created_at: "2026-11-28T10:00:00Z",
    updated_at: "2026-11-28T10:00:00Z",
    versions: [
      {
        id: 1,
        draft_id: 7,
        version: 1,
        listing: { title: "old", bullets: [], description: "", keywords: [] },
        provenance: null,
        author: "model",
        created_at: "2026-11-28T10:00:00Z",
      },
      {
        id: 2,
        draft_id: 7,
        version: 2,
        listing: hostile(),
        provenance: {
          model_id: "smollm2-135m",
          model_sha256: "ab",
          prompt_sha256: "cd",
          sampling: { temperature: 0.7 },
          facts_used: [1],
          prompt_tokens: 100,
          generated_tokens: 50,
          time_to_first_token_ms: 100,
          total_ms: 2500,
          attempts: 2,
          cached: false,
          warnings: ["<img src=x onerror=alert(1)>"],
          findings: [
            {
              check: "wording",
              rule: "absolute-en",
              severity: "blocking",
              field: "title",
              span: [0, 8],
              excerpt: "<b>The best</b>",
              explanation: "Unverifiable superlatives",
              suggestion: "State the concrete feature.",
            },
            { check: "limits", rule: "bullet_count", severity: "warning", field: "bullets", excerpt: "", explanation: "4 bullets instead of 5" },
          ],
        },
        author: "model",
        created_at: "2026-11-28T10:01:00Z",
      },
    ],
  };

  it("shows the current (last) version and how it was made", () => {
    const node = renderDraft(draft);
    document.body.appendChild(node);
    noMarkup(node);
    expect(node.querySelector('[data-testid="listing-title"]')?.textContent).toBe(XSS[0]);
    const meta = node.querySelector('[data-testid="draft-meta"]')?.textContent ?? "";
    expect(meta).toContain("v2");
    expect(meta).toContain("smollm2-135m");
    expect(meta).toContain("50 tokens in 2.5 s");
    expect(meta).toContain("2 attempts");
    // Check warnings are shown, as text.
    expect(node.querySelector('[data-testid="draft-warnings"]')?.textContent).toBe("<img src=x onerror=alert(1)>");
    // Findings: blocking first in the heading, each with field, excerpt (as text) and fix.
    const findings = node.querySelector('[data-testid="draft-findings"]');
    expect(findings?.querySelector("h3")?.textContent).toContain("1 blocking problem");
    const items = [...node.querySelectorAll<HTMLElement>('[data-testid="finding"]')];
    expect(items.map((i) => i.dataset.severity)).toEqual(["blocking", "warning"]);
    expect(items[0].querySelector("q")?.textContent).toBe("<b>The best</b>");
    expect(items[0].textContent).toContain("Fix: State the concrete feature.");
  });

  it("says when nothing blocks", () => {
    const node = renderFindings([
      { check: "wording", rule: "superlative-en", severity: "warning", field: "bullets[1]", excerpt: "best", explanation: "Puffery" },
    ]);
    expect(node.querySelector("h3")?.textContent).toBe("Notes for the reviewer");
  });
});

describe("renderFacts", () => {
  const fact = (over: Partial<Fact>): Fact => ({
    id: 1,
    product_id: 1,
    key: "colour",
    value: "navy",
    label_en: "navy",
    label_zh: "藏青色",
    source: "colour",
    confidence: 1,
    data: { hex: "#1f2a44", share: 0.62 },
    ...over,
  });

  it("shows colours as swatches with both names and share, largest first", () => {
    const node = renderFacts([
      fact({ id: 2, value: "white", label_en: "white", label_zh: "白色", data: { hex: "#fafafa", share: 0.3 } }),
      fact({}),
    ]);
    const items = [...node.querySelectorAll('[data-testid="fact-colour"]')];
    expect(items.map((i) => i.querySelector('[data-testid="fact-colour-en"]')?.textContent)).toEqual(["navy", "white"]);
    expect(items[0]?.querySelector('[data-testid="fact-colour-zh"]')?.textContent).toBe("藏青色");
    expect(items[0]?.querySelector('[data-testid="fact-colour-share"]')?.textContent).toBe("62%");
    const swatch = items[0]?.querySelector<HTMLElement>('[data-testid="colour-swatch"]');
    expect(swatch?.style.backgroundColor).not.toBe("");
  });

  it("ignores a hex that is not a colour and keeps hostile labels as text", () => {
    const node = renderFacts([fact({ label_en: XSS[1]!, data: { hex: "red;background:url(x)", share: "lots" } })]);
    document.body.appendChild(node);
    noMarkup(node);
    expect(node.querySelector<HTMLElement>('[data-testid="colour-swatch"]')?.style.backgroundColor).toBe("");
    expect(node.querySelector('[data-testid="fact-colour-share"]')).toBeNull();
    expect(node.querySelector('[data-testid="fact-colour-en"]')?.textContent).toBe(XSS[1]);
  });

  it("reads colour data defensively", () => {
    expect(colourInfo(fact({ data: null }))).toEqual({ hex: null, share: null });
    expect(colourInfo(fact({ data: { hex: "#ABCDEF", share: 0.5 } }))).toEqual({ hex: "#ABCDEF", share: 0.5 });
  });
});

describe("models", () => {
  const m = (id: string, installed: boolean, isDefault = false): ModelStatus => ({
    id,
    role: "text",
    name: id,
    installed,
    size_bytes: 98_362_432,
    path: installed ? `/m/${id}.gguf` : null,
    default: isDefault,
  });

  it("offers installed models only and prefers the default", () => {
    expect(pickModels([m("a", true), m("b", true, true), m("c", false)])).toMatchObject({ selected: "b" });
    expect(pickModels([m("a", true), m("c", false, true)]).selected).toBe("a");
    const { options } = renderModelOptions([m("smollm2-135m", true), m("heavy", false, true)]);
    expect(options.map((o) => o.value)).toEqual(["smollm2-135m"]);
    expect(options[0]?.textContent).toContain("98 MB");
  });

  it("says how to get a model when none is installed", () => {
    const { options, selected } = renderModelOptions([m("x", false)]);
    expect(selected).toBeNull();
    expect(options[0]?.value).toBe("");
    expect(options[0]?.textContent).toContain("vitrine models fetch");
  });

  it("formats sizes", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1_117_320_768)).toBe("1.1 GB");
  });
});

describe("dom helpers", () => {
  it("refuses event-handler, style and remote URL attributes", () => {
    const node = el("img");
    expect(() => setAttr(node, "onerror", "x()")).toThrow();
    expect(() => setAttr(node, "OnLoad", "x()")).toThrow();
    expect(() => setAttr(node, "style", "color:red")).toThrow();
    expect(() => setAttr(node, "src", "https://example.com/x.png")).toThrow();
    expect(() => setAttr(node, "src", "javascript:alert(1)")).toThrow();
    expect(() => setAttr(node, "src", "data:text/html;base64,PHNjcmlwdD4=")).toThrow();
    setAttr(node, "src", "data:image/png;base64,iVBORw0KGgo=");
    expect(node.getAttribute("src")).toBe("data:image/png;base64,iVBORw0KGgo=");
  });

  it("only accepts inline raster images as URLs", () => {
    expect(isSafeImageUrl("data:image/png;base64,AAAA")).toBe(true);
    expect(isSafeImageUrl("data:image/svg+xml;base64,AAAA")).toBe(false);
    expect(isSafeImageUrl("data:image/png;base64,AA\"onerror=")).toBe(false);
  });

  it("turns strings into text nodes", () => {
    const node = el("div", {}, XSS[0], 3);
    expect(node.childNodes.length).toBe(2);
    expect(node.firstChild?.nodeType).toBe(Node.TEXT_NODE);
    expect(node.querySelector("script")).toBeNull();
  });

  it("keeps a select's options when they have not changed, and replaces them when they have", () => {
    const opts = (labels: string[]) => labels.map((l, i) => el("option", { attrs: { value: `v${i}` } }, l));
    const select = el("select");
    setOptions(select, opts(["All", "Draft"]), "v1");
    const first = select.options[0];
    expect(select.value).toBe("v1");
    setOptions(select, opts(["All", "Draft"]), "v1");
    expect(select.options[0]).toBe(first);
    setOptions(select, opts(["全部", "草稿"]), "v0");
    expect(select.options[0]).not.toBe(first);
    expect([...select.options].map((o) => o.textContent)).toEqual(["全部", "草稿"]);
    expect(select.value).toBe("v0");
    setOptions(select, opts(["全部", "草稿", "已批准"]), "v2");
    expect(select.options.length).toBe(3);
    expect(select.value).toBe("v2");
  });
});

describe("library search", () => {
  it("matches names in any case, and product numbers", () => {
    const p = { id: 12, name: "Navy Hoodie", created_at: "", photo_count: 1, draft_count: 0, thumbnail_path: null };
    expect(matchesProduct(p, "")).toBe(true);
    expect(matchesProduct(p, "  hood ")).toBe(true);
    expect(matchesProduct(p, "NAVY")).toBe(true);
    expect(matchesProduct(p, "#12")).toBe(true);
    expect(matchesProduct(p, "12")).toBe(true);
    expect(matchesProduct(p, "1")).toBe(false);
    expect(matchesProduct(p, "polo")).toBe(false);
  });
});
