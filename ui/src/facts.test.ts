import { afterEach, describe, expect, it } from "vitest";
import { chosenValues, currentValues, pickerOptions, renderFactEditor, showEditorError } from "./factEditor";
import { addableKeys } from "./factsPanel";
import { factGroups, keyLabel, renderFacts, sourceBadge, sourceText } from "./render";
import type { CategoryOption, EditableKey, Fact, FactOptions } from "./types";

afterEach(() => {
  document.body.replaceChildren();
});

let nextId = 1;
const fact = (over: Partial<Fact>): Fact => ({
  id: nextId++,
  product_id: 1,
  key: "colour",
  value: "navy",
  label_en: "navy",
  label_zh: "藏青色",
  source: "colour",
  confidence: 0.62,
  data: { hex: "#1f2a44", share: 0.62 },
  ...over,
});

const classifierCategory = fact({
  key: "category",
  value: "apparel.tops.hoodies",
  label_en: "Hoodies & sweatshirts",
  label_zh: "卫衣",
  source: "classifier",
  confidence: 0.534,
  data: { classes: [] },
});
const userCategory = fact({
  key: "category",
  value: "apparel.tops.t_shirts",
  label_en: "T-shirts",
  label_zh: "T恤",
  source: "user",
  confidence: 1,
  data: {},
});

const categories: CategoryOption[] = [
  { key: "apparel", en: "Apparel", zh: "服装", depth: 0 },
  { key: "apparel.tops", en: "Tops", zh: "上衣", depth: 1 },
  { key: "apparel.tops.hoodies", en: "Hoodies & sweatshirts", zh: "卫衣", depth: 2 },
  { key: "apparel.tops.t_shirts", en: "T-shirts", zh: "T恤", depth: 2 },
  { key: "food_drink", en: "Food & drink", zh: "食品饮料", depth: 0 },
];
const categoryKey: EditableKey = { key: "category", en: "category", zh: "类目", multi: false, values: [] };
const colourKey: EditableKey = {
  key: "colour",
  en: "colour",
  zh: "颜色",
  multi: true,
  values: [
    { key: "navy", en: "navy", zh: "藏青色" },
    { key: "white", en: "white", zh: "白色" },
    { key: "red", en: "red", zh: "红色" },
  ],
};
const sleeveKey: EditableKey = {
  key: "sleeve_length",
  en: "sleeve length",
  zh: "袖长",
  multi: false,
  values: [
    { key: "short", en: "short sleeve", zh: "短袖" },
    { key: "long", en: "long sleeve", zh: "长袖" },
  ],
};
const options: FactOptions = {
  category: "apparel.tops.hoodies",
  category_source: "classifier",
  keys: [categoryKey, colourKey, sleeveKey],
  categories,
};

describe("source badges", () => {
  it("say where each fact came from, with the model's confidence", () => {
    expect(sourceText(fact({}))).toBe("photo colours");
    expect(sourceText(classifierCategory)).toBe("classifier 53%");
    expect(sourceText(userCategory)).toBe("you");
    expect(sourceText(fact({ source: "vision", confidence: 0.9 }))).toBe("vision model 90%");
    expect(sourceText(fact({ source: "ocr" }))).toBe("text on the product");
    expect(sourceText(fact({ source: "import" }))).toBe("imported");
    expect(sourceText(fact({ source: "import", data: { from: "title", named: null } }))).toBe("product title");
  });

  it("carry text for screen readers", () => {
    const badge = sourceBadge(classifierCategory);
    expect(badge.textContent).toBe("Source: classifier 53%");
    expect(badge.querySelector(".visually-hidden")?.textContent).toBe("Source: ");
    expect(badge.dataset.source).toBe("classifier");
  });
});

describe("factGroups", () => {
  it("puts the category first and the user's values before the machine's, which they replace", () => {
    const groups = factGroups([fact({}), classifierCategory, userCategory], options);
    expect(groups.map((g) => g.key)).toEqual(["category", "colour"]);
    const [category, colour] = groups;
    expect(category?.used.map((f) => f.value)).toEqual(["apparel.tops.t_shirts"]);
    expect(category?.replaced.map((f) => f.source)).toEqual(["classifier"]);
    expect(colour?.used.map((f) => f.source)).toEqual(["colour"]);
    expect(colour?.replaced).toEqual([]);
  });

  it("keeps several machine colours, largest share first, until the user picks theirs", () => {
    const white = fact({ value: "white", label_en: "white", data: { hex: "#fafafa", share: 0.3 } });
    const navy = fact({});
    let [colour] = factGroups([white, navy]);
    expect(colour?.used.map((f) => f.value)).toEqual(["navy", "white"]);
    const mine = fact({ value: "red", label_en: "red", source: "user", confidence: 1, data: {} });
    [colour] = factGroups([white, navy, mine]);
    expect(colour?.used.map((f) => f.value)).toEqual(["red"]);
    expect(colour?.replaced.map((f) => f.value)).toEqual(["navy", "white"]);
  });

  it("orders other keys as the editor lists them and marks only those it lists as editable", () => {
    const sleeve = fact({ key: "sleeve_length", value: "long", source: "user", data: {} });
    const odd = fact({ key: "brand", value: "acme", source: "ocr", data: {} });
    const groups = factGroups([odd, sleeve, fact({})], options);
    expect(groups.map((g) => [g.key, g.editable])).toEqual([
      ["category", true],
      ["colour", true],
      ["sleeve_length", true],
      ["brand", false],
    ]);
    // Without the editor's options nothing is editable and no empty category is shown.
    expect(factGroups([odd]).map((g) => [g.key, g.editable])).toEqual([["brand", false]]);
  });
});

describe("renderFacts", () => {
  it("shows the category first with its badge, and the replaced guess as not used", () => {
    const node = renderFacts([fact({}), classifierCategory, userCategory], options);
    document.body.appendChild(node);
    const groups = [...node.querySelectorAll<HTMLElement>('[data-testid="fact-group"]')];
    expect(groups.map((g) => g.dataset.key)).toEqual(["category", "colour"]);
    const items = [...groups[0]!.querySelectorAll<HTMLElement>('[data-testid="fact"]')];
    expect(items.map((i) => i.dataset.source)).toEqual(["user", "classifier"]);
    expect(items[0]?.querySelector('[data-testid="fact-source"]')?.textContent).toBe("Source: you");
    expect(items[0]?.querySelector('[lang="zh-CN"]')?.textContent).toBe("T恤");
    expect(items[1]?.classList.contains("fact-replaced")).toBe(true);
    expect(items[1]?.querySelector('[data-testid="fact-replaced"]')?.textContent).toContain("not used");
    const colour = groups[1]!.querySelector('[data-testid="fact-colour"] [data-testid="fact-source"]');
    expect(colour?.textContent).toBe("Source: photo colours");
  });

  it("offers an accessible Edit button per editable key, and none without options", () => {
    const node = renderFacts([fact({}), classifierCategory], options);
    const edits = [...node.querySelectorAll<HTMLButtonElement>('[data-testid="fact-edit"]')];
    expect(edits.map((b) => b.dataset.key)).toEqual(["category", "colour"]);
    expect(edits[0]?.getAttribute("aria-label")).toBe("Edit category");
    expect(edits[0]?.type).toBe("button");
    expect(renderFacts([fact({})]).querySelectorAll('[data-testid="fact-edit"]').length).toBe(0);
  });

  it("shows an unset category as such, so it can be set", () => {
    const node = renderFacts([fact({})], { ...options, category: null, category_source: null });
    const first = node.querySelector<HTMLElement>('[data-testid="fact-group"]');
    expect(first?.dataset.key).toBe("category");
    expect(first?.querySelector('[data-testid="fact-unset"]')?.textContent).toBe("not set");
  });

  it("keeps hostile labels as text", () => {
    const evil = '<img src=x onerror="window.__pwned = 1">';
    const node = renderFacts([fact({ key: "category", label_en: evil, label_zh: evil, source: "user" })], options);
    document.body.appendChild(node);
    expect(node.querySelectorAll("img, script").length).toBe(0);
    expect(node.querySelector('[data-testid="fact-name"]')?.textContent).toBe(evil);
  });

  it("names keys in English and Chinese", () => {
    expect(keyLabel("sleeve_length", options)).toEqual({ en: "sleeve length", zh: "袖长" });
    expect(keyLabel("category", null)).toEqual({ en: "category", zh: "类目" });
    expect(keyLabel("wine_type", null)).toEqual({ en: "wine type", zh: "" });
  });
});

describe("the picker", () => {
  it("lists the category tree indented, with the current category chosen", () => {
    const opts = pickerOptions(categoryKey, categories, ["apparel.tops.hoodies"]);
    expect(opts[0]).toEqual({ value: "", text: "— not set —", selected: false });
    expect(opts.map((o) => o.value).slice(1)).toEqual(categories.map((c) => c.key));
    const hoodies = opts.find((o) => o.value === "apparel.tops.hoodies");
    expect(hoodies?.selected).toBe(true);
    expect(hoodies?.text).toBe("\u00a0".repeat(6) + "Hoodies & sweatshirts · 卫衣");
    expect(opts.find((o) => o.value === "apparel")?.text).toBe("Apparel · 服装");
  });

  it("offers not set for one-value keys and none for multi ones", () => {
    expect(pickerOptions(sleeveKey, [], [])[0]).toEqual({ value: "", text: "— not set —", selected: true });
    const colours = pickerOptions(colourKey, [], ["navy", "white"]);
    expect(colours.map((o) => [o.value, o.selected])).toEqual([
      ["navy", true],
      ["white", true],
      ["red", false],
    ]);
  });

  it("starts from the user's values, else the machine's", () => {
    expect(currentValues([classifierCategory], "category")).toEqual(["apparel.tops.hoodies"]);
    expect(currentValues([classifierCategory, userCategory], "category")).toEqual(["apparel.tops.t_shirts"]);
    const white = fact({ value: "white" });
    expect(currentValues([fact({}), white], "colour")).toEqual(["navy", "white"]);
    expect(currentValues([], "sleeve_length")).toEqual([]);
  });

  it("saves the chosen values and cancels on Escape", () => {
    const saved: string[][] = [];
    let cancelled = 0;
    const form = renderFactEditor(colourKey, [], ["navy"], {
      save: (v) => saved.push(v),
      cancel: () => cancelled++,
    });
    document.body.appendChild(form);
    const select = form.querySelector<HTMLSelectElement>('[data-testid="fact-editor-select"]')!;
    expect(select.multiple).toBe(true);
    expect(form.querySelector(`label[for="${select.id}"]`)?.textContent).toBe("colour 颜色");
    expect(form.getAttribute("aria-label")).toBe("Edit colour");
    select.options[2]!.selected = true;
    expect(chosenValues(select)).toEqual(["navy", "red"]);
    form.querySelector<HTMLButtonElement>('[data-testid="fact-save"]')!.click();
    expect(saved).toEqual([["navy", "red"]]);
    select.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    form.querySelector<HTMLButtonElement>('[data-testid="fact-cancel"]')!.click();
    expect(cancelled).toBe(2);
  });

  it("saves no value when 'not set' is chosen", () => {
    const saved: string[][] = [];
    const form = renderFactEditor(categoryKey, categories, ["apparel"], { save: (v) => saved.push(v), cancel: () => {} });
    document.body.appendChild(form);
    const select = form.querySelector<HTMLSelectElement>("select")!;
    expect(select.multiple).toBe(false);
    select.value = "";
    form.requestSubmit();
    expect(saved).toEqual([[]]);
  });

  it("shows a refused save inside the editor", () => {
    const form = renderFactEditor(sleeveKey, [], [], { save: () => {}, cancel: () => {} });
    const slot = form.querySelector<HTMLElement>('[data-testid="fact-editor-error"]')!;
    expect(slot.hidden).toBe(true);
    showEditorError(form, { code: "invalid_input", message: "`x` is not a sleeve_length; allowed: short, long", details: null });
    expect(slot.hidden).toBe(false);
    expect(slot.getAttribute("role")).toBe("alert");
    expect(slot.textContent).toBe("`x` is not a sleeve_length; allowed: short, long (invalid_input)");
    showEditorError(form, null);
    expect(slot.hidden).toBe(true);
  });
});

describe("addableKeys", () => {
  it("offers the category's attributes the product has no fact for", () => {
    expect(addableKeys(options, [fact({})]).map((k) => k.key)).toEqual(["sleeve_length"]);
    expect(addableKeys(null, [])).toEqual([]);
  });
});
