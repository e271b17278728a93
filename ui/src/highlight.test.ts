import { describe, expect, it } from "vitest";
import { highlightPieces } from "./highlight";
import { renderDraft, renderListing, renderScript, asScript } from "./render";
import type { Draft, Finding } from "./types";

const finding = (field: string, span: [number, number] | undefined, severity: Finding["severity"] = "warning", rule = "r"): Finding => ({
  check: "compliance",
  rule,
  severity,
  field,
  span,
  excerpt: "",
  explanation: `why ${rule}`,
});

describe("flagged spans", () => {
  it("splits a field at its findings' spans", () => {
    const pieces = highlightPieces("The best hoodie ever", "title", [finding("title", [4, 8]), finding("description", [0, 3])]);
    expect(pieces.map((p) => [p.text, p.findings.length])).toEqual([
      ["The ", 0],
      ["best", 1],
      [" hoodie ever", 0],
    ]);
  });

  it("counts characters as Rust does, not UTF-16 units", () => {
    const pieces = highlightPieces("😀最好的卫衣", "title", [finding("title", [1, 3])]);
    expect(pieces.map((p) => p.text)).toEqual(["😀", "最好", "的卫衣"]);
  });

  it("merges overlapping spans and clamps spans past the end", () => {
    const pieces = highlightPieces("abcdef", "title", [finding("title", [1, 4], "warning", "a"), finding("title", [3, 99], "blocking", "b")]);
    expect(pieces.map((p) => [p.text, p.findings.map((f) => f.rule).join()])).toEqual([
      ["a", ""],
      ["bc", "a"],
      ["d", "a,b"],
      ["ef", "b"],
    ]);
  });

  it("leaves text without spans whole", () => {
    expect(highlightPieces("x", "title", [finding("title", undefined), finding("title", [2, 2])])).toEqual([{ text: "x", findings: [] }]);
  });

  it("marks flagged pieces in a listing, as text", () => {
    const article = renderListing(
      { title: "<script>bad()</script> best", bullets: ["a", "100% cotton"], description: "d", keywords: [] },
      "en",
      [finding("title", [23, 27], "blocking", "absolute"), finding("bullets[2]", [0, 4])],
    );
    const marks = article.querySelectorAll("mark");
    expect([...marks].map((m) => m.textContent)).toEqual(["best", "100%"]);
    expect(marks[0]?.className).toContain("flag-blocking");
    expect(marks[0]?.getAttribute("data-field")).toBe("title");
    expect(marks[0]?.getAttribute("title")).toBe("why absolute");
    expect(article.querySelector("script")).toBeNull();
    expect(article.querySelector('[data-testid="listing-title"]')?.textContent).toBe("<script>bad()</script> best");
  });

  it("shows a script draft's segments with their flags", () => {
    const content = {
      title: "Live: hoodie",
      lang: "en",
      target_seconds: 60,
      measured_seconds: 55,
      segments: [
        { kind: "hook", start: "00:00", end: "00:10", host: "Guaranteed best <b>deal</b>", cues: ["hold up <img src=x onerror=alert(1)>"] },
        { kind: "offer", host: 42 },
      ],
    };
    const script = asScript(content);
    expect(script?.segments.length).toBe(1);
    const node = renderScript(script!, "en", [finding("segments[1].hook", [0, 10])]);
    expect(node.querySelector("mark")?.textContent).toBe("Guaranteed");
    expect(node.querySelector("img")).toBeNull();
    expect(node.querySelector("b")).toBeNull();
    expect(asScript("nope")).toBeNull();
    const draft: Draft = {
      id: 5,
      product_id: 1,
      kind: "script",
      lang: "en",
      marketplace: "livestream",
      status: "draft",
      created_at: "",
      updated_at: "",
      versions: [{ id: 1, draft_id: 5, version: 1, listing: { title: "Live: hoodie", bullets: [], description: "", keywords: [] }, content, provenance: null, author: "model", created_at: "" }],
    };
    const rendered = renderDraft(draft);
    expect(rendered.querySelectorAll('[data-testid="script-segment"]').length).toBe(1);
    expect(rendered.querySelector('[data-testid="listing"]')).toBeNull();
  });
});
