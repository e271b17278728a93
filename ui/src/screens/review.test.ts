import { describe, expect, it } from "vitest";
import { extensionOf, followsDefault, parsePrefs, renderReport } from "./export";
import { renderBulkResult } from "./reviewRender";
import { auditNote, defaultDiffRange, editedListing, listingFields, parseKeywords, parseLines, renderComments, renderDiff, renderHistory, renderQueueItem } from "./reviewRender";
import type { AuditRecord, Comment, DraftSummary, Listing } from "../types";

const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

describe("review screen", () => {
  it("names the fields a comment can be anchored to as the core does", () => {
    const l: Listing = { title: "T", bullets: ["a", "b"], description: "D", keywords: ["k"] };
    expect(listingFields(l)).toEqual(["title", "bullets[0]", "bullets[1]", "description", "keywords[0]"]);
  });

  it("turns the edit form into a listing, keeping marketplace fields", () => {
    const current: Listing = { title: "Old", bullets: ["x"], description: "d", keywords: [], extra: { seo_title: "S" } };
    const next = editedListing(current, { title: "  New  ", bullets: "one\n\n two \r\n", description: " desc ", keywords: "a, b，c、 ,d\ne" });
    expect(next).toEqual({ title: "New", bullets: ["one", "two"], description: "desc", keywords: ["a", "b", "c", "d", "e"], extra: { seo_title: "S" } });
    expect(parseLines("")).toEqual([]);
    expect(parseKeywords(" , ")).toEqual([]);
  });

  it("compares the last two versions by default", () => {
    expect(defaultDiffRange([1])).toBeNull();
    expect(defaultDiffRange([3, 1, 2])).toEqual({ from: 2, to: 3 });
  });

  it("shows draft text, diffs, comments and notes as text, never as markup", () => {
    const d: DraftSummary = {
      id: 3, product_id: 1, kind: "listing", lang: "en", marketplace: "generic", status: "in_review",
      current_version: 2, title: evil, created_at: "", updated_at: "",
    };
    const item = renderQueueItem(d, true);
    expect(item.querySelector('[data-testid="review-item-title"]')?.textContent).toBe(evil);
    expect(item.querySelector("img, script")).toBeNull();
    expect(item.querySelector('[data-testid="review-status"]')?.textContent).toBe("In review");
    expect(item.querySelector("button")?.getAttribute("aria-current")).toBe("true");

    const diff = renderDiff({
      draft_id: 3, from: 1, to: 2,
      fields: [
        { field: "title", granularity: "word", changed: true, rendered: "", chunks: [
          { op: "equal", text: "Navy " }, { op: "delete", text: "hoodie" }, { op: "insert", text: evil },
        ] },
        { field: "description", granularity: "word", changed: false, rendered: "", chunks: [{ op: "equal", text: "same" }] },
      ],
    });
    const fields = diff.querySelectorAll('[data-testid="diff-field"]');
    expect(fields.length).toBe(1);
    expect(fields[0]?.querySelector("del")?.textContent).toBe("hoodie");
    expect(fields[0]?.querySelector("ins")?.textContent).toBe(evil);
    expect(diff.querySelector("img, script")).toBeNull();
    const same = renderDiff({ draft_id: 3, from: 1, to: 2, fields: [] });
    expect(same.textContent).toContain("same text");

    const c: Comment = { id: 1, draft_id: 3, version: 2, field: "title", span: null, author: "ana", body: evil, created_at: "now" };
    const comments = renderComments([c]);
    expect(comments.querySelector('[data-testid="review-comment-body"]')?.textContent).toBe(evil);
    expect(comments.querySelector("img, script")).toBeNull();
    expect(renderComments([]).textContent).toBe("No comments yet.");

    const h: AuditRecord = { id: 1, at: "t", actor: "ana", action: "approve", entity: "draft", entity_id: 3, details: { override: { reason: evil } } };
    const history = renderHistory([h]);
    expect(history.querySelector("q")?.textContent).toBe(evil);
    expect(history.querySelector("img, script")).toBeNull();
    expect(auditNote({ note: "n" })).toBe("n");
    expect(auditNote(null)).toBeNull();
  });
});

describe("bulk actions", () => {
  it("says what changed and lists what did not, as text", () => {
    const node = renderBulkResult([
      { draft_id: 1, ok: true, status: "approved", overridden: false },
      { draft_id: 2, ok: false, code: "blocked", error: evil, overridden: false },
    ]);
    expect(node.querySelector("p")?.textContent).toBe("1 done, 1 not changed.");
    const failures = node.querySelectorAll('[data-testid="review-bulk-failure"]');
    expect(failures.length).toBe(1);
    expect(failures[0]?.getAttribute("data-code")).toBe("blocked");
    expect(failures[0]?.textContent).toBe(`#2: ${evil}`);
    expect(node.querySelector("img, script")).toBeNull();
  });

  it("gives every queue row a labelled checkbox", () => {
    const d = { id: 9, product_id: 1, kind: "listing", lang: "en", marketplace: "generic", status: "draft", current_version: 1, title: "T", created_at: "", updated_at: "" };
    const box = renderQueueItem(d, false, true).querySelector<HTMLInputElement>('[data-testid="review-select"]');
    expect(box?.checked).toBe(true);
    expect(box?.getAttribute("aria-label")).toBe("Select draft #9");
  });
});

describe("export screen", () => {
  it("knows each format's extension", () => {
    expect(extensionOf("shopify")).toBe("csv");
    expect(extensionOf("amazon")).toBe("txt");
    expect(extensionOf("markdown")).toBe("md");
  });

  it("lets the path follow the default until the user types their own", () => {
    expect(followsDefault("", null)).toBe(true);
    expect(followsDefault("/d/exports/a.csv", "/d/exports/a.csv")).toBe(true);
    expect(followsDefault("/home/me/shop.csv", "/d/exports/a.csv")).toBe(false);
  });

  it("reads remembered choices defensively", () => {
    expect(parsePrefs(null)).toEqual({ format: "shopify", lang: "en", includeUnapproved: false });
    expect(parsePrefs('{"format":"json","lang":"zh-CN","includeUnapproved":true}')).toEqual({ format: "json", lang: "zh-CN", includeUnapproved: true });
    expect(parsePrefs('{"format":"exe","lang":"fr"}').format).toBe("shopify");
    expect(parsePrefs("not json").lang).toBe("en");
  });

  it("summarises what was written", () => {
    const node = renderReport({ path: "/tmp/x.json", format: "json", products: 2, rows: 2, drafts: [1, 2], not_approved: 1 });
    expect(node.querySelector('[data-testid="export-result-path"]')?.textContent).toBe("/tmp/x.json");
    expect(node.textContent).toContain("Written: 2 product(s), 2 row(s), to /tmp/x.json.");
    expect(node.querySelector('[data-testid="export-result-skipped"]')).not.toBeNull();
  });
});
