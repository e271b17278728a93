import { afterEach, describe, expect, it } from "vitest";
import { setLocale } from "./i18n";
import { categoryOptions, emptyFilter, FILTER_KEY, loadFilter, matchesFilter, NONE, parseFilter, saveFilter, topCategory } from "./libraryFilter";
import type { ProductSummary } from "./types";

afterEach(() => {
  setLocale("en");
  localStorage.clear();
});

function product(id: number, name: string, category: string | null, status: string | null, photos: number): ProductSummary {
  return { id, name, created_at: "", photo_count: photos, draft_count: status ? 1 : 0, thumbnail_path: null, category, review_status: status };
}

const library = [
  product(1, "Navy hoodie", "apparel.tops.hoodies", "approved", 1),
  product(2, "Grey hoodie", "apparel.tops.hoodies", "in_review", 0),
  product(3, "Trail shoe", "footwear.sneakers", null, 2),
  product(4, "Mystery item", null, "draft", 0),
];

const ids = (f: Partial<ReturnType<typeof emptyFilter>>) => library.filter((p) => matchesFilter(p, { ...emptyFilter(), ...f })).map((p) => p.id);

describe("library filters", () => {
  it("takes the top level of a category key", () => {
    expect(topCategory("apparel.tops.hoodies")).toBe("apparel");
    expect(topCategory("food_drink")).toBe("food_drink");
    expect(topCategory(null)).toBeNull();
    expect(topCategory("")).toBeNull();
  });

  it("filters by category, review state and photo, and combines them with search", () => {
    expect(ids({})).toEqual([1, 2, 3, 4]);
    expect(ids({ category: "apparel" })).toEqual([1, 2]);
    expect(ids({ category: NONE })).toEqual([4]);
    expect(ids({ status: "in_review" })).toEqual([2]);
    expect(ids({ status: NONE })).toEqual([3]);
    expect(ids({ photo: "with" })).toEqual([1, 3]);
    expect(ids({ photo: "without" })).toEqual([2, 4]);
    expect(ids({ category: "apparel", photo: "without" })).toEqual([2]);
    expect(ids({ query: "hoodie", status: "approved" })).toEqual([1]);
    expect(ids({ query: "shoe", category: "apparel" })).toEqual([]);
  });

  it("remembers the filter and drops what it does not know", () => {
    saveFilter({ query: "hood", category: "apparel", status: "approved", photo: "with" });
    expect(localStorage.getItem(FILTER_KEY)).not.toBeNull();
    expect(loadFilter()).toEqual({ query: "hood", category: "apparel", status: "approved", photo: "with" });
    expect(parseFilter('{"category":"<img onerror=x>","status":"bogus","photo":"maybe","query":3}')).toEqual(emptyFilter());
    expect(parseFilter("{not json")).toEqual(emptyFilter());
  });

  it("offers the categories present, in the UI's language, keeping a stored choice", () => {
    const values = (opts: HTMLOptionElement[]) => opts.map((o) => o.value);
    expect(values(categoryOptions(library, ""))).toEqual(["", "apparel", "footwear", NONE]);
    expect(values(categoryOptions([], "beauty"))).toEqual(["", "beauty", NONE]);
    setLocale("zh-CN");
    const labels = categoryOptions(library, "").map((o) => o.textContent);
    expect(labels).toContain("服装");
    expect(labels).toContain("鞋靴");
  });
});
