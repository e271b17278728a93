// The Library's filters: the search text, the top-level category, the review
// state of the product's listing and whether it has a photo. They combine
// (a product must pass all of them) and are remembered on this machine, so
// the Library opens filtered as it was left.

import { el } from "./dom";
import { isKey, t } from "./i18n";
import { matchesProduct, statusText } from "./render";
import type { ProductSummary } from "./types";

export const FILTER_KEY = "vitrine.libraryFilter";

export type PhotoFilter = "" | "with" | "without";

export interface LibraryFilter {
  query: string;
  /** A top-level category key; "" for all, NONE for products with no category. */
  category: string;
  /** A review state; "" for all, NONE for products without a listing. */
  status: string;
  photo: PhotoFilter;
}

/** The value of "no category" / "no listing yet" in the selects. */
export const NONE = "-";

export const STATUSES = ["draft", "in_review", "changes_requested", "approved", "rejected", "exported"] as const;

export function emptyFilter(): LibraryFilter {
  return { query: "", category: "", status: "", photo: "" };
}

/** `apparel` of `apparel.tops.hoodies`. */
export function topCategory(key: string | null | undefined): string | null {
  if (!key) return null;
  return key.split(".")[0] || null;
}

export function matchesFilter(p: ProductSummary, f: LibraryFilter): boolean {
  if (!matchesProduct(p, f.query)) return false;
  const top = topCategory(p.category);
  if (f.category === NONE ? top !== null : f.category !== "" && top !== f.category) return false;
  const status = p.review_status ?? null;
  if (f.status === NONE ? status !== null : f.status !== "" && status !== f.status) return false;
  if (f.photo === "with" && p.photo_count === 0) return false;
  if (f.photo === "without" && p.photo_count > 0) return false;
  return true;
}

export function isFiltered(f: LibraryFilter): boolean {
  return f.category !== "" || f.status !== "" || f.photo !== "";
}

/** A stored filter, with anything unexpected in it dropped. */
export function parseFilter(raw: string | null): LibraryFilter {
  const f = emptyFilter();
  if (!raw) return f;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v.query === "string") f.query = v.query.slice(0, 200);
    if (typeof v.category === "string" && /^[a-z_-]*$/.test(v.category)) f.category = v.category;
    if (typeof v.status === "string" && (v.status === "" || v.status === NONE || (STATUSES as readonly string[]).includes(v.status))) f.status = v.status;
    if (v.photo === "with" || v.photo === "without") f.photo = v.photo;
  } catch {
    // a damaged entry is forgotten
  }
  return f;
}

export function loadFilter(): LibraryFilter {
  try {
    return parseFilter(localStorage.getItem(FILTER_KEY));
  } catch {
    return emptyFilter();
  }
}

export function saveFilter(f: LibraryFilter): void {
  try {
    localStorage.setItem(FILTER_KEY, JSON.stringify(f));
  } catch {
    // storage may be unavailable; the filter then lasts this session
  }
}

/** The top-level category in the UI's language; an unknown one as its key. */
export function categoryLabel(top: string): string {
  const key = `category.${top}`;
  return isKey(key) ? t(key) : top;
}

/**
 * The category select's options: every top-level category some product is
 * filed under (and the chosen one, so a stored choice survives an empty
 * library), sorted by label, then "no category".
 */
export function categoryOptions(products: readonly ProductSummary[], chosen: string): HTMLOptionElement[] {
  const tops = new Set<string>();
  for (const p of products) {
    const top = topCategory(p.category);
    if (top) tops.add(top);
  }
  if (chosen && chosen !== NONE) tops.add(chosen);
  const sorted = [...tops].sort((a, b) => categoryLabel(a).localeCompare(categoryLabel(b)));
  return [
    el("option", { attrs: { value: "" } }, t("library.filter.allCategories")),
    ...sorted.map((c) => el("option", { attrs: { value: c } }, categoryLabel(c))),
    el("option", { attrs: { value: NONE } }, t("library.filter.noCategory")),
  ];
}

export function statusOptions(): HTMLOptionElement[] {
  return [
    el("option", { attrs: { value: "" } }, t("library.filter.allStatuses")),
    ...STATUSES.map((s) => el("option", { attrs: { value: s } }, statusText(s))),
    el("option", { attrs: { value: NONE } }, t("library.filter.noListing")),
  ];
}

export function photoOptions(): HTMLOptionElement[] {
  return [
    el("option", { attrs: { value: "" } }, t("library.filter.anyPhoto")),
    el("option", { attrs: { value: "with" } }, t("library.filter.withPhoto")),
    el("option", { attrs: { value: "without" } }, t("library.filter.withoutPhoto")),
  ];
}
