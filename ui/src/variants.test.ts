import { afterEach, describe, expect, it } from "vitest";
import { setLocale } from "./i18n";
import type { Draft, Finding } from "./types";
import { discardNote, findingCounts, renderVariants, toDiscard } from "./variants";

afterEach(() => {
  setLocale("en");
  document.body.replaceChildren();
});

function draft(id: number, title: string, findings: Finding[]): Draft {
  return {
    id, product_id: 7, kind: "listing", lang: "en", marketplace: "generic", status: "draft", created_at: "", updated_at: "",
    versions: [{
      id: id * 10, draft_id: id, version: 1, author: "model", created_at: "",
      listing: { title, bullets: ["b"], description: "d", keywords: [] },
      provenance: {
        model_id: "smollm2-135m", model_sha256: "", prompt_sha256: "", sampling: {}, facts_used: [], prompt_tokens: 1,
        generated_tokens: 1, time_to_first_token_ms: 1, total_ms: 1, attempts: 1, cached: false, warnings: [], findings,
      },
    }],
  };
}

const blocking: Finding = { check: "wording", rule: "absolute-en", severity: "blocking", field: "title", span: [0, 4], excerpt: "Best", explanation: "x" };
const warning: Finding = { ...blocking, severity: "warning", rule: "superlative-en" };

describe("variants side by side", () => {
  it("counts each variant's findings and picks the others to discard", () => {
    const ds = [draft(1, "Best hoodie", [blocking, warning]), draft(2, "Navy hoodie", []), draft(3, "Hoodie", [warning])];
    expect(findingCounts(ds[0]!)).toEqual({ blocking: 1, warnings: 1 });
    expect(toDiscard(ds, 2)).toEqual([1, 3]);
    expect(discardNote(2)).toContain("#2");
  });

  it("shows every variant with its text and checks, and Keep names its draft", () => {
    const ds = [draft(1, "Best hoodie", [blocking]), draft(2, "<script>window.__v=1</script>", [])];
    const kept: number[] = [];
    const view = renderVariants(ds, (id) => kept.push(id));
    document.body.append(view);
    const cols = view.querySelectorAll('[data-testid="variant"]');
    expect(cols.length).toBe(2);
    expect(cols[0]?.querySelector('[data-testid="listing-title"]')?.textContent).toBe("Best hoodie");
    expect(cols[0]?.querySelector('[data-testid="draft-findings"]')).not.toBeNull();
    expect(cols[0]?.classList.contains("variant-blocked")).toBe(true);
    expect(cols[1]?.querySelector('[data-testid="variant-checks"]')?.textContent).toBe("The checks found nothing.");
    expect(view.querySelector("script")).toBeNull();
    (cols[1]?.querySelector('[data-testid="variant-keep"]') as HTMLButtonElement).click();
    expect(kept).toEqual([2]);
    const busy = renderVariants(ds, () => {}, true);
    expect((busy.querySelector('[data-testid="variant-keep"]') as HTMLButtonElement).disabled).toBe(true);
  });
});
