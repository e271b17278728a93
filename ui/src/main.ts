import "./styles.css";
import { api } from "./api";
import { append, el, replaceChildren, setAttr, setOptions } from "./dom";
import { errorText, errorTitle, isCancelled, toIpcError } from "./errors";
import { FactsPanel } from "./factsPanel";
import { applyTranslations, initLocale, isLocale, type Key, type Locale, onLocaleChange, setAttrText, setLocale, setText, t } from "./i18n";
import { Nav } from "./nav";
import { BatchScreen } from "./screens/batch";
import { ExportScreen } from "./screens/export";
import { ModelsScreen } from "./screens/models";
import { ReviewsScreen } from "./screens/reviews";
import { ReviewScreen } from "./screens/review";
import { languageOptions, SettingsScreen } from "./screens/settings";
import { TryOnScreen } from "./screens/tryon";
import { applyTheme, loadTheme } from "./theme";
import { categoryOptions, isFiltered, loadFilter, matchesFilter, photoOptions, saveFilter, statusOptions, type PhotoFilter } from "./libraryFilter";
import { renderDraft, renderDraftItem, renderModelOptions, renderProductItem } from "./render";
import { StreamView } from "./stream";
import { discardNote, renderVariants, toDiscard, VARIANT_COUNTS } from "./variants";
import type { Draft, IngestOutcome, IpcError, Lang, Marketplace, ModelStatus, ProductDetail, ProductSummary, SettingsView } from "./types";

const ACCEPT = "image/jpeg,image/png,image/webp";

interface State {
  products: ProductSummary[];
  product: ProductDetail | null;
  models: ModelStatus[];
  draftId: number | null;
  generating: number | null;
  busy: boolean;
}

initLocale();
applyTheme(loadTheme());

const state: State = { products: [], product: null, models: [], draftId: null, generating: null, busy: false };
const thumbCache = new Map<string, string>();

// ---------------------------------------------------------------- layout

const errorTitleLine = el("p", { class: "error-title", testid: "error-title" });
const errorMessage = el("p", { class: "error-message", testid: "error-message" });
const errorCode = el("p", { class: "error-code", testid: "error-code" });
const errorDismiss = setText(el("button", { class: "ghost", testid: "error-dismiss", attrs: { type: "button" } }), "error.dismiss");
const errorBanner = el(
  "div",
  { class: "error-banner", testid: "error-banner", attrs: { role: "alert", hidden: true } },
  el("div", {}, errorTitleLine, errorMessage, errorCode),
  errorDismiss,
);

const fileInput = el("input", {
  class: "visually-hidden",
  testid: "file-input",
  attrs: { id: "file-input", type: "file", accept: ACCEPT, multiple: true },
});
const chooseLabel = setText(el("label", { class: "button", testid: "choose-photo", attrs: { for: "file-input" } }), "library.choose");
const ingestStatus = el("p", { class: "status", testid: "ingest-status", attrs: { role: "status" } });
const dropZone = setAttrText(
  el(
    "section",
    { class: "drop-zone", testid: "drop-zone" },
    setText(el("p", { class: "drop-hint" }), "library.dropHere"),
    setText(el("p", { class: "drop-sub" }), "library.formats"),
    fileInput,
    chooseLabel,
    ingestStatus,
  ),
  "aria-label",
  "library.addPhotos",
);

const productSearch = setAttrText(
  setAttrText(el("input", { class: "search", testid: "product-search", attrs: { type: "search", autocomplete: "off" } }), "placeholder", "library.search"),
  "aria-label",
  "library.search",
);
const filter = loadFilter();
productSearch.value = filter.query;
const categoryFilter = el("select", { testid: "filter-category", attrs: { id: "filter-category" } });
const statusFilter = el("select", { testid: "filter-status", attrs: { id: "filter-status" } });
const photoFilter = el("select", { testid: "filter-photo", attrs: { id: "filter-photo" } });
const clearFilters = setText(el("button", { class: "ghost small", testid: "filter-clear", attrs: { type: "button" } }), "library.filter.clear");
/** Fill the filter selects in the current language, keeping the choices. */
function fillFilterOptions(): void {
  setOptions(categoryFilter, categoryOptions(state.products, filter.category), filter.category);
  setOptions(statusFilter, statusOptions(), filter.status);
  setOptions(photoFilter, photoOptions(), filter.photo);
  clearFilters.hidden = !isFiltered(filter);
}
function filterChanged(): void {
  filter.query = productSearch.value;
  filter.category = categoryFilter.value;
  filter.status = statusFilter.value;
  filter.photo = photoFilter.value as PhotoFilter;
  saveFilter(filter);
  renderProducts();
}
productSearch.addEventListener("input", filterChanged);
for (const s of [categoryFilter, statusFilter, photoFilter]) s.addEventListener("change", filterChanged);
clearFilters.addEventListener("click", () => {
  filter.category = "";
  filter.status = "";
  filter.photo = "";
  saveFilter(filter);
  renderProducts();
});
const filters = setAttrText(
  el(
    "div",
    { class: "library-filters", testid: "library-filters", attrs: { role: "group" } },
    filterField("library.filter.category", categoryFilter),
    filterField("library.filter.status", statusFilter),
    filterField("library.filter.photo", photoFilter),
    clearFilters,
  ),
  "aria-label",
  "library.filter.label",
);
function filterField(label: Key, control: HTMLSelectElement): HTMLElement {
  return el("div", { class: "field compact" }, setText(el("label", { attrs: { for: control.id } }), label), control);
}
const productList = setAttrText(el("ul", { class: "product-list", testid: "product-list" }), "aria-label", "library.products");
const sidebar = el(
  "aside",
  { class: "sidebar" },
  dropZone,
  setText(el("h2", { attrs: { id: "products-heading" } }), "library.products"),
  productSearch,
  filters,
  productList,
);

const productName = el("h2", { class: "product-name", testid: "product-name" });
const thumbnail = el("img", {
  class: "thumbnail",
  testid: "product-thumbnail",
  attrs: { alt: "", width: 256, height: 256 },
});
const factsSlot = el("div", { class: "facts-slot", testid: "facts" });

const langSelect = el(
  "select",
  { testid: "lang-select", attrs: { id: "lang-select" } },
  el("option", { attrs: { value: "en", selected: true } }, "English"),
  el("option", { attrs: { value: "zh-CN", lang: "zh-CN" } }, "简体中文"),
);
const marketSelect = el(
  "select",
  { testid: "marketplace-select", attrs: { id: "marketplace-select" } },
  setText(el("option", { attrs: { value: "generic", selected: true } }), "generate.generic"),
  el("option", { attrs: { value: "shopify" } }, "Shopify"),
  el("option", { attrs: { value: "amazon" } }, "Amazon"),
  setText(el("option", { attrs: { value: "taobao" } }), "generate.taobao"),
);
const modelSelect = el("select", { testid: "model-select", attrs: { id: "model-select" } });
const generateButton = el("button", { class: "primary", testid: "generate-button", attrs: { type: "submit" } });
const scriptMinutes = el("input", {
  testid: "script-minutes",
  attrs: { id: "script-minutes", type: "number", min: 0.25, max: 10, step: 0.25, value: 1, inputmode: "decimal" },
});
const scriptButton = setText(el("button", { class: "secondary", testid: "script-button", attrs: { type: "button" } }), "script.button");
const variantCount = el(
  "select",
  { testid: "variant-count", attrs: { id: "variant-count" } },
  ...VARIANT_COUNTS.map((n) => el("option", { attrs: { value: n } }, String(n))),
);
const variantsButton = setText(el("button", { class: "secondary", testid: "variants-button", attrs: { type: "button" } }), "variants.button");
const cancelButton = setText(el("button", { class: "ghost", testid: "cancel-button", attrs: { type: "button", hidden: true } }), "generate.cancel");
const controls = setAttrText(
  el(
    "form",
    { class: "controls", testid: "generate-form" },
    field("generate.language", langSelect),
    field("generate.marketplace", marketSelect),
    field("generate.model", modelSelect),
    field("script.minutes", scriptMinutes),
    field("variants.count", variantCount),
    el("div", { class: "actions" }, generateButton, variantsButton, scriptButton, cancelButton),
  ),
  "aria-label",
  "generate.form",
);

const generationStatus = el("p", { class: "status", testid: "generation-status", attrs: { role: "status" } });
const streamOutput = setAttrText(el("pre", { class: "stream", testid: "stream-output", attrs: { tabindex: 0 } }), "aria-label", "generate.output");
const stream = new StreamView(streamOutput);
const draftSlot = el("div", { class: "draft-slot", testid: "draft-view", attrs: { "aria-live": "polite" } });
const variantsSlot = el("div", { class: "variants-slot", testid: "variants-slot" });
/** The variants on show (their product's), until one is kept. */
let variants: { productId: number; drafts: Draft[] } | null = null;
const draftList = setAttrText(el("ul", { class: "draft-list", testid: "draft-list" }), "aria-label", "product.savedDrafts");

const productView = el(
  "section",
  { class: "product-view", testid: "product-view", attrs: { hidden: true, "aria-labelledby": "product-name" } },
  el(
    "div",
    { class: "product-head" },
    el("figure", { class: "thumb-frame" }, thumbnail),
    el("div", { class: "product-facts" }, productName, setText(el("h3", {}), "product.whatVitrineSaw"), factsSlot),
  ),
  controls,
  generationStatus,
  streamOutput,
  variantsSlot,
  draftSlot,
  setText(el("h3", {}), "product.savedDrafts"),
  draftList,
);
productName.id = "product-name";

const emptyView = el(
  "section",
  { class: "empty-view", testid: "empty-view" },
  setText(el("h2", {}), "library.noneSelected"),
  setText(el("p", {}), "library.noneSelectedHint"),
);

const app = document.getElementById("app");
if (!app) throw new Error("missing #app");
const libraryView = el(
  "div",
  { class: "layout screen", testid: "library-screen", attrs: { id: "screen-library" } },
  sidebar,
  el("div", { class: "content" }, emptyView, productView),
);

// ---------------------------------------------------------------- screens, language, navigation

const review = new ReviewScreen(api, (err) => showError(err));
const exporter = new ExportScreen(api, (err) => showError(err));
const batch = new BatchScreen(api, (err) => showError(err));
const models = new ModelsScreen(api, (err) => showError(err), () => void refreshModels().catch(showError));
const reviews = new ReviewsScreen(api, (err) => showError(err), (productId) => {
  void refreshProducts().catch(showError);
  if (state.product?.id === productId) void openProduct(productId);
});
const tryon = new TryOnScreen(api, (err) => showError(err), () => state.product?.id ?? null);
const settings = new SettingsScreen(api, (err) => showError(err), (value) => changeLocale(value), (v) => setBackend(v));
const uiLanguage = el("select", { testid: "ui-language", attrs: { id: "ui-language" } }, ...languageOptions());
uiLanguage.value = document.documentElement.lang;
uiLanguage.addEventListener("change", () => changeLocale(uiLanguage.value));

const navBar = setAttrText(el("nav", { class: "nav", testid: "nav" }), "aria-label", "nav.label");
const nav = new Nav(navBar, [
  { id: "library", label: "nav.library", view: libraryView, onShow: () => void refreshProducts().catch(showError) },
  { id: "batch", label: "nav.batch", view: batch.view, onShow: () => void batch.refresh() },
  { id: "reviews", label: "nav.reviews", view: reviews.view, onShow: () => void reviews.refresh() },
  { id: "review", label: "nav.review", view: review.view, onShow: () => void review.refresh() },
  { id: "tryon", label: "nav.tryon", view: tryon.view, onShow: () => void tryon.refresh() },
  { id: "export", label: "nav.export", view: exporter.view, onShow: () => void exporter.updateDefault() },
  { id: "models", label: "nav.models", view: models.view, onShow: () => void models.refresh() },
  { id: "settings", label: "nav.settings", view: settings.view, onShow: () => void settings.refresh() },
]);

function changeLocale(value: string): void {
  if (!isLocale(value)) return;
  setLocale(value);
}

onLocaleChange((locale: Locale) => {
  uiLanguage.value = locale;
  if (lastError && !errorBanner.hidden) errorMessage.textContent = errorText(lastError);
  review.relabel();
  exporter.relabel();
  settings.relabel();
  batch.relabel();
  models.relabel();
  reviews.relabel();
  tryon.relabel();
  // What the Library screen rendered from data: draw it again.
  factsPanel.refresh();
  renderProducts();
  renderDraftList();
  if (state.draftId !== null && state.generating === null && !productView.hidden) void showDraft(state.draftId);
  showVariants(state.generating !== null);
  fillModelSelect();
});

append(
  app,
  el(
    "header",
    { class: "app-header" },
    el("h1", { testid: "app-title" }, t("app.title")),
    setText(el("p", { class: "tagline" }), "app.tagline"),
    el(
      "div",
      { class: "header-language" },
      setText(el("label", { attrs: { for: "ui-language" } }), "app.uiLanguage"),
      uiLanguage,
    ),
  ),
  navBar,
  errorBanner,
  el("main", { class: "screens" }, libraryView, batch.view, reviews.view, review.view, tryon.view, exporter.view, models.view, settings.view),
);
applyTranslations(app);

const factsPanel = new FactsPanel(
  factsSlot,
  { options: api.factOptions, save: api.setProductFact },
  {
    onError: (err) => showError(err),
    onSaved: (productId, facts) => {
      if (state.product?.id === productId) state.product.facts = facts;
    },
  },
);

function field(label: Key, control: HTMLSelectElement | HTMLInputElement): HTMLElement {
  const id = control.id;
  return el("div", { class: "field" }, setText(el("label", { attrs: { for: id } }), label), control);
}

// ---------------------------------------------------------------- errors

function showError(err: unknown): void {
  const e: IpcError = toIpcError(err);
  console.error(`[${e.code}] ${e.message}`, e.details);
  setText(errorTitleLine, errorTitle(e.code));
  errorMessage.textContent = errorText(e);
  errorCode.textContent = `(${e.code})`;
  errorBanner.hidden = false;
  lastError = e;
}

/** The error on show, re-worded when the language changes. */
let lastError: IpcError | null = null;

function clearError(): void {
  lastError = null;
  errorBanner.hidden = true;
  setText(errorTitleLine, null);
  errorMessage.textContent = "";
  errorCode.textContent = "";
}

errorDismiss.addEventListener("click", clearError);

// A fault in the UI's own code would otherwise fail in silence: a button
// that does nothing and no word why. Say so in the banner like any error.
window.addEventListener("error", (ev) => {
  if (ev.error !== undefined && ev.error !== null) showError(ev.error);
  else if (ev.message) showError(new Error(ev.message));
});
window.addEventListener("unhandledrejection", (ev) => {
  const e = toIpcError(ev.reason);
  if (!isCancelled(e)) showError(e);
});

// ---------------------------------------------------------------- products

function renderProducts(): void {
  const selected = state.product?.id ?? null;
  fillFilterOptions();
  replaceChildren(productList);
  if (state.products.length === 0) {
    productList.appendChild(el("li", { class: "empty" }, t("library.noProducts")));
    return;
  }
  const shown = state.products.filter((p) => matchesFilter(p, filter));
  productList.dataset.shown = String(shown.length);
  if (shown.length === 0) {
    const q = filter.query.trim();
    productList.appendChild(
      el("li", { class: "empty", testid: "product-no-match" }, q ? t("library.noMatch", { q }) : t("library.filter.noMatch")),
    );
    return;
  }
  for (const p of shown) {
    const item = renderProductItem(p, p.id === selected);
    item.querySelector("button")?.addEventListener("click", () => void openProduct(p.id));
    productList.appendChild(item);
  }
}

async function refreshProducts(): Promise<void> {
  state.products = await api.listProducts();
  renderProducts();
}

async function loadThumbnail(path: string | undefined): Promise<void> {
  setAttr(thumbnail, "src", null);
  thumbnail.alt = "";
  if (!path) return;
  let url = thumbCache.get(path);
  if (!url) {
    url = await api.thumbnail(path);
    thumbCache.set(path, url);
  }
  setAttr(thumbnail, "src", url);
  thumbnail.alt = t("library.photoOf", { name: state.product?.name || t("library.theProduct") });
}

async function openProduct(id: number, draftId?: number): Promise<void> {
  try {
    const product = await api.getProduct(id);
    const switched = state.product?.id !== product.id;
    state.product = product;
    emptyView.hidden = true;
    productView.hidden = false;
    if (product.name) setText(productName, null).textContent = product.name;
    else setText(productName, "product.untitled", { id: product.id });
    factsPanel.show(product.id, product.facts);
    if (switched && state.generating === null) {
      stream.clear();
      setText(generationStatus, null);
    }
    showVariants();
    renderProducts();
    const drafts = sortedDrafts(product);
    const show = draftId ?? (switched ? drafts[0]?.id : state.draftId ?? drafts[0]?.id);
    renderDraftList();
    if (show !== undefined && show !== null) {
      await showDraft(show);
    } else {
      state.draftId = null;
      replaceChildren(draftSlot);
      renderDraftList();
    }
    await loadThumbnail(product.photos[0]?.thumbnail_path);
    updateControls();
  } catch (err) {
    showError(err);
  }
}

function sortedDrafts(product: ProductDetail) {
  return [...product.drafts].sort((a, b) => b.id - a.id);
}

function renderDraftList(): void {
  replaceChildren(draftList);
  const product = state.product;
  if (!product || product.drafts.length === 0) {
    draftList.appendChild(el("li", { class: "empty" }, t("product.noDrafts")));
    return;
  }
  for (const d of sortedDrafts(product)) {
    const item = renderDraftItem(d, d.id === state.draftId);
    item.querySelector("button")?.addEventListener("click", () => void showDraft(d.id));
    draftList.appendChild(item);
  }
}

async function showDraft(id: number): Promise<void> {
  try {
    const draft: Draft = await api.getDraft(id);
    state.draftId = draft.id;
    replaceChildren(draftSlot, renderDraft(draft));
    renderDraftList();
  } catch (err) {
    showError(err);
  }
}

// ---------------------------------------------------------------- ingest

async function ingest(label: string, run: () => Promise<IngestOutcome>): Promise<IngestOutcome | null> {
  setText(ingestStatus, "library.reading", { name: label });
  try {
    const outcome = await run();
    setText(ingestStatus, outcome.duplicate ? "library.duplicate" : "library.added", { name: outcome.photo.source_name });
    return outcome;
  } catch (err) {
    setText(ingestStatus, null);
    showError(err);
    return null;
  }
}

async function ingestMany(items: { label: string; run: () => Promise<IngestOutcome> }[]): Promise<void> {
  if (items.length === 0) return;
  clearError();
  state.busy = true;
  updateControls();
  let last: IngestOutcome | null = null;
  try {
    for (const item of items) {
      last = (await ingest(item.label, item.run)) ?? last;
    }
    await refreshProducts();
    if (last) await openProduct(last.product_id);
  } catch (err) {
    showError(err);
  } finally {
    state.busy = false;
    updateControls();
  }
}

fileInput.addEventListener("change", () => {
  const files = Array.from(fileInput.files ?? []);
  void ingestMany(files.map((f) => ({ label: f.name, run: () => api.ingestPhotoBytes(f) }))).finally(() => {
    fileInput.value = "";
  });
});

// ---------------------------------------------------------------- models and generation

/** `model@server` when generations go to a remote server (Settings), else null. */
let remoteBackend: string | null = null;

function setBackend(v: SettingsView): void {
  remoteBackend = v.remoteUrl && v.remoteModel ? `${v.remoteModel}@${v.remoteUrl}` : null;
  fillModelSelect();
  batch.setRemote(remoteBackend);
  reviews.setRemote(remoteBackend);
}

/** The installed models, or the one remote model when a server is set (no local pin then). */
function fillModelSelect(): void {
  if (remoteBackend !== null) {
    replaceChildren(modelSelect, el("option", { attrs: { value: "" } }, t("generate.remoteModel", { backend: remoteBackend })));
    modelSelect.value = "";
  } else {
    const chosen = modelSelect.value;
    const { options, selected } = renderModelOptions(state.models);
    replaceChildren(modelSelect, ...options);
    if (chosen && state.models.some((m) => m.installed && m.id === chosen)) modelSelect.value = chosen;
    else if (selected) modelSelect.value = selected;
  }
  updateControls();
}

async function refreshModels(): Promise<void> {
  state.models = await api.listModels();
  fillModelSelect();
}

function updateControls(): void {
  const running = state.generating !== null;
  const hasModel = modelSelect.value !== "" || remoteBackend !== null;
  generateButton.disabled = running || state.busy || !state.product || !hasModel;
  scriptButton.disabled = generateButton.disabled;
  variantsButton.disabled = generateButton.disabled;
  variantCount.disabled = running;
  scriptMinutes.disabled = running;
  cancelButton.hidden = !running;
  modelSelect.disabled = running;
  langSelect.disabled = running;
  marketSelect.disabled = running;
  fileInput.disabled = state.busy;
  dropZone.classList.toggle("busy", state.busy);
  setText(generateButton, running ? "generate.running" : "generate.button");
}

controls.addEventListener("submit", (ev) => {
  ev.preventDefault();
  void generate();
});

cancelButton.addEventListener("click", () => {
  setText(generationStatus, "generate.cancelling");
  api.cancelGeneration(state.generating).catch(showError);
});

scriptButton.addEventListener("click", () => void generate("script"));
variantsButton.addEventListener("click", () => void generateVariants(Number(variantCount.value) || 2));

function showVariants(busy = false): void {
  if (!variants || variants.productId !== state.product?.id) {
    replaceChildren(variantsSlot);
    return;
  }
  replaceChildren(variantsSlot, renderVariants(variants.drafts, (id) => void keepVariant(id), busy));
}

/** Generate `n` listings one after the other (one model, one slot per product), each with its own seed. */
async function generateVariants(n: number): Promise<void> {
  const product = state.product;
  if (!product || state.generating !== null) return;
  clearError();
  state.generating = product.id;
  updateControls();
  replaceChildren(draftSlot);
  const run: { productId: number; drafts: Draft[] } = { productId: product.id, drafts: [] };
  variants = run;
  showVariants();
  const lang = langSelect.value as Lang;
  const marketplace = marketSelect.value as Marketplace;
  const model = modelSelect.value || null;
  try {
    for (let i = 1; i <= n; i++) {
      stream.clear();
      setText(generationStatus, "variants.running", { i, n });
      const draft = await api.generateListing(product.id, lang, marketplace, model);
      stream.flush();
      run.drafts.push(draft);
      showVariants(true);
    }
    stream.clear();
    setText(generationStatus, "variants.ready", { n });
  } catch (err) {
    const e = toIpcError(err);
    stream.flush();
    if (isCancelled(e)) setText(generationStatus, "generate.cancelled");
    else {
      setText(generationStatus, "generate.failed");
      showError(e);
    }
  } finally {
    state.generating = null;
    updateControls();
    showVariants();
    await refreshProducts().catch(showError);
  }
}

/** Keep one variant as the draft; the others are rejected with a note naming it. */
async function keepVariant(keptId: number): Promise<void> {
  const v = variants;
  if (!v) return;
  showVariants(true);
  const others = toDiscard(v.drafts, keptId);
  try {
    for (const id of others) await api.reviewAction(id, "reject", discardNote(keptId), null);
    setText(generationStatus, "variants.kept", { id: keptId, n: others.length });
  } catch (err) {
    showError(err);
  }
  variants = null;
  replaceChildren(variantsSlot);
  await refreshProducts().catch(showError);
  await openProduct(v.productId, keptId);
}

/** Minutes of the script from the field: 0.25 to 10, else the core's default. */
function minutesValue(): number | null {
  const v = Number(scriptMinutes.value);
  return Number.isFinite(v) && v >= 0.25 && v <= 10 ? v : null;
}

async function generate(kind: "listing" | "script" = "listing"): Promise<void> {
  const product = state.product;
  if (!product || state.generating !== null) return;
  clearError();
  state.generating = product.id;
  updateControls();
  stream.clear();
  replaceChildren(draftSlot);
  variants = null;
  showVariants();
  setText(generationStatus, "generate.starting");
  const lang = langSelect.value as Lang;
  const marketplace = marketSelect.value as Marketplace;
  const model = modelSelect.value || null;
  try {
    const draft =
      kind === "script"
        ? await api.generateScript(product.id, lang, minutesValue(), null, model)
        : await api.generateListing(product.id, lang, marketplace, model);
    stream.flush();
    setText(generationStatus, kind === "script" ? "script.saved" : "generate.saved", { id: draft.id });
    state.draftId = draft.id;
    replaceChildren(draftSlot, renderDraft(draft));
    await refreshProducts();
    await openProduct(product.id, draft.id);
  } catch (err) {
    const e = toIpcError(err);
    stream.flush();
    if (isCancelled(e)) {
      setText(generationStatus, "generate.cancelled");
    } else {
      setText(generationStatus, "generate.failed");
      showError(e);
    }
  } finally {
    state.generating = null;
    updateControls();
  }
}

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  // Every listener and the first data load are IPC round trips: made at
  // once, not one after the other, since start-up waits for all of them.
  const listening = api.onListingEvent(({ productId, event }) => {
    if (productId !== state.generating) return;
    switch (event.type) {
      case "loading_model":
        setText(generationStatus, "generate.loading", { model: event.model_id });
        break;
      case "model_loaded": {
        const vars = { model: event.model_id, s: (event.ms / 1000).toFixed(1) };
        if (event.rss_mb === undefined) setText(generationStatus, "generate.loaded", vars);
        else setText(generationStatus, "generate.loadedMem", { ...vars, mb: event.rss_mb });
        break;
      }
      case "token":
        stream.push(event.text);
        break;
      case "retry":
        setText(generationStatus, "generate.retry", { reason: event.reason });
        stream.push(`\n\n${t("generate.retryMark")}\n\n`);
        break;
    }
  });
  const dropping = api.onFileDrop({
    over: (active) => dropZone.classList.toggle("drag-over", active),
    // A drop goes to the screen it was made on: a catalogue for Batch, a
    // review file for Reviews, photos anywhere else.
    drop: (paths) => {
      if (nav.current === "batch") batch.acceptDrop(paths);
      else if (nav.current === "reviews") reviews.acceptDrop(paths);
      else void ingestMany(paths.map((p) => ({ label: p, run: () => api.ingestPhotoPath(p) })));
    },
  });
  await Promise.all([
    listening,
    dropping,
    // Long work reports here whatever screen shows.
    api.onBatchEvent((p) => batch.onEvent(p)),
    api.onImportProgress((p) => batch.onImportProgress(p)),
    api.onFetchEvent((p) => models.onFetchEvent(p)),
    api.onReviewsEvent((p) => reviews.onEvent(p)),
    refreshModels(),
    refreshProducts(),
    api.getSettings().then(setBackend, showError),
  ]);
  nav.start();
  // Wall-clock time the page became usable: the e2e's measurement of cold
  // start compares it with the process's start time.
  document.body.dataset.readyAt = String(Date.now());
  document.body.dataset.ready = "true";
}

updateControls();
renderProducts();
renderDraftList();
start().catch(showError);
