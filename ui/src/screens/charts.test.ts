import { describe, expect, it } from "vitest";
import { aspectBars, aspectChart, ratingBars, ratingChart } from "./charts";
import { applyFetchEvent, renderModelRow, sortModels } from "./models";
import { renderSummary } from "./reviews";
import type { AspectStats, ModelStatus, ReviewSummary } from "../types";

const aspect = (id: string, mentions: number, positive: number, negative: number): AspectStats => ({
  id,
  en: id.toUpperCase(),
  zh: `${id}-zh`,
  mentions,
  positive,
  negative,
  share: 0,
  positive_share: 0,
  negative_share: 0,
});

const evil = '<img src=x onerror="window.__xss=1">';

describe("charts", () => {
  it("scales rating bars to the largest count, 5 stars first", () => {
    const bars = ratingBars({ counts: [1, 0, 0, 2, 4], unrated: 0, mean: 4 }, 200);
    expect(bars.map((b) => [b.label, b.value, b.width])).toEqual([
      ["5★", 4, 200],
      ["4★", 2, 100],
      ["3★", 0, 0],
      ["2★", 0, 0],
      ["1★", 1, 50],
    ]);
    expect(ratingBars({ counts: [0, 0, 0, 0, 0], unrated: 3, mean: null }, 100).every((b) => b.width === 0)).toBe(true);
  });

  it("splits aspect bars into positive, neutral and negative, most mentioned first", () => {
    const bars = aspectBars([aspect("fit", 2, 1, 1), aspect("comfort", 4, 3, 0), aspect("smell", 0, 0, 0)], false, 100);
    expect(bars.map((b) => b.id)).toEqual(["comfort", "fit"]);
    expect(bars[0]).toMatchObject({ label: "COMFORT", positive: 75, neutral: 25, negative: 0 });
    expect(bars[1]).toMatchObject({ positive: 25, neutral: 0, negative: 25 });
    expect(aspectBars([aspect("fit", 1, 1, 0)], true, 10)[0]?.label).toBe("fit-zh");
  });

  it("draws SVG whose labels are text", () => {
    const svg = ratingChart({ counts: [0, 0, 1, 0, 3], unrated: 0, mean: 4.5 }, "Ratings");
    expect(svg.namespaceURI).toBe("http://www.w3.org/2000/svg");
    expect(svg.querySelectorAll('[data-testid="rating-bar"]').length).toBe(5);
    expect(svg.querySelector("title")?.textContent).toBe("Ratings");
    const a = aspectChart([{ ...aspect("fit", 2, 1, 1), en: evil }], false, "Aspects");
    expect(a.querySelector("img")).toBeNull();
    expect(a.textContent).toContain(evil);
  });
});

describe("models screen", () => {
  const model = (id: string, installed: boolean, role = "text", def = false): ModelStatus => ({
    id,
    name: id,
    role,
    installed,
    size_bytes: 1e8,
    path: null,
    default: def,
  });

  it("lists installed models first", () => {
    expect(sortModels([model("b", false), model("a", true, "vision"), model("c", true)]).map((m) => m.id)).toEqual(["c", "a", "b"]);
  });

  it("follows a fetch's events", () => {
    let s = applyFetchEvent(undefined, { type: "downloading", id: "m", source: "pypi" });
    expect(s).toMatchObject({ phase: "downloading", source: "pypi" });
    s = applyFetchEvent(s, { type: "progress", id: "m", done: 5, total: 10 });
    expect(s).toMatchObject({ phase: "assembling", done: 5, total: 10 });
    expect(applyFetchEvent(s, { type: "failed", id: "m", error: { code: "io", message: "disk full", details: null } })).toMatchObject({ phase: "failed", error: "disk full" });
    const row = renderModelRow(model("m", false), s, false);
    expect(row.querySelector("progress")?.getAttribute("value")).toBe("5");
    expect(row.querySelector('[data-testid="model-fetch"]')?.hasAttribute("disabled")).toBe(true);
    expect(renderModelRow(model("m", true), undefined, false).querySelector('[data-testid="model-fetch"]')).toBeNull();
  });
});

describe("reviews screen", () => {
  it("renders review text and the model's paragraph as text", () => {
    const s: ReviewSummary = {
      lang: "en",
      paragraph: `Great. ${evil}`,
      paragraph_source: "model",
      notices: [],
      model_id: "smollm2-135m",
      total_ms: 1200,
      analysis: {
        format: "csv",
        encoding: "utf-8",
        total: 3,
        empty_skipped: 0,
        invalid_ratings: 0,
        duplicates: [],
        languages: { zh: 0, en: 3, other: 0 },
        suspicious: [{ review_id: 3, reasons: [{ pattern: "html", why: "markup", matched: evil }] }],
        usable: 2,
        ratings: { counts: [0, 0, 0, 1, 2], unrated: 0, mean: 4.67 },
        usable_ratings: { counts: [0, 0, 0, 1, 1], unrated: 0, mean: 4.5 },
        aspects: [aspect("comfort", 2, 2, 0)],
        pros: ["comfort"],
        cons: [],
        problems: [],
        quotes: [{ aspect: "comfort", polarity: "pro", text: `so soft ${evil}`, review_id: 1 }],
      },
    };
    const node = renderSummary(s);
    expect(node.querySelector("img")).toBeNull();
    expect(node.querySelector('[data-testid="review-paragraph"]')?.textContent).toBe(`Great. ${evil}`);
    expect(node.querySelector('[data-testid="suspicious-match"]')?.textContent).toBe(evil);
    expect(node.querySelector('[data-testid="review-quote"]')?.textContent).toBe(`so soft ${evil}`);
    expect(node.querySelector('[data-testid="review-counts"]')?.textContent).toContain("4.67");
    expect(node.querySelectorAll('[data-testid="rating-bar"]').length).toBe(5);
    expect(node.querySelector('[data-testid="review-pros"]')?.textContent).toContain("COMFORT");
  });
});
