import "./styles.css";
import { api } from "./api";
import { append, el, replaceChildren, setAttr } from "./dom";
import { isCancelled, toIpcError } from "./errors";
import { FactsPanel } from "./factsPanel";
import { renderDraft, renderDraftItem, renderModelOptions, renderProductItem } from "./render";
import { StreamView } from "./stream";
import type { Draft, IngestOutcome, IpcError, Lang, Marketplace, ModelStatus, ProductDetail, ProductSummary } from "./types";

const ACCEPT = "image/jpeg,image/png,image/webp";

interface State {
  products: ProductSummary[];
  product: ProductDetail | null;
  models: ModelStatus[];
  draftId: number | null;
  generating: number | null;
  busy: boolean;
}

const state: State = { products: [], product: null, models: [], draftId: null, generating: null, busy: false };
const thumbCache = new Map<string, string>();

// ---------------------------------------------------------------- layout

const errorMessage = el("p", { class: "error-message", testid: "error-message" });
const errorCode = el("p", { class: "error-code", testid: "error-code" });
const errorDismiss = el("button", { class: "ghost", testid: "error-dismiss", attrs: { type: "button" } }, "Dismiss");
const errorBanner = el(
  "div",
  { class: "error-banner", testid: "error-banner", attrs: { role: "alert", hidden: true } },
  el("div", {}, errorMessage, errorCode),
  errorDismiss,
);

const fileInput = el("input", {
  class: "visually-hidden",
  testid: "file-input",
  attrs: { id: "file-input", type: "file", accept: ACCEPT, multiple: true },
});
const chooseLabel = el("label", { class: "button", testid: "choose-photo", attrs: { for: "file-input" } }, "Choose photo…");
const ingestStatus = el("p", { class: "status", testid: "ingest-status", attrs: { role: "status" } });
const dropZone = el(
  "section",
  { class: "drop-zone", testid: "drop-zone", attrs: { "aria-label": "Add product photos" } },
  el("p", { class: "drop-hint" }, "Drop product photos here"),
  el("p", { class: "drop-sub" }, "JPEG, PNG or WebP"),
  fileInput,
  chooseLabel,
  ingestStatus,
);

const productList = el("ul", { class: "product-list", testid: "product-list", attrs: { "aria-label": "Products" } });
const sidebar = el(
  "aside",
  { class: "sidebar" },
  dropZone,
  el("h2", { attrs: { id: "products-heading" } }, "Products"),
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
  el("option", { attrs: { value: "generic", selected: true } }, "Generic"),
  el("option", { attrs: { value: "shopify" } }, "Shopify"),
  el("option", { attrs: { value: "amazon" } }, "Amazon"),
  el("option", { attrs: { value: "taobao" } }, "Taobao / Tmall"),
);
const modelSelect = el("select", { testid: "model-select", attrs: { id: "model-select" } });
const generateButton = el("button", { class: "primary", testid: "generate-button", attrs: { type: "submit" } }, "Generate listing");
const cancelButton = el(
  "button",
  { class: "ghost", testid: "cancel-button", attrs: { type: "button", hidden: true } },
  "Cancel",
);
const controls = el(
  "form",
  { class: "controls", testid: "generate-form", attrs: { "aria-label": "Generate a listing" } },
  field("Language", langSelect),
  field("Marketplace", marketSelect),
  field("Model", modelSelect),
  el("div", { class: "actions" }, generateButton, cancelButton),
);

const generationStatus = el("p", { class: "status", testid: "generation-status", attrs: { role: "status" } });
const streamOutput = el("pre", {
  class: "stream",
  testid: "stream-output",
  attrs: { "aria-label": "Model output as it is written", tabindex: 0 },
});
const stream = new StreamView(streamOutput);
const draftSlot = el("div", { class: "draft-slot", testid: "draft-view", attrs: { "aria-live": "polite" } });
const draftList = el("ul", { class: "draft-list", testid: "draft-list", attrs: { "aria-label": "Saved drafts" } });

const productView = el(
  "section",
  { class: "product-view", testid: "product-view", attrs: { hidden: true, "aria-labelledby": "product-name" } },
  el(
    "div",
    { class: "product-head" },
    el("figure", { class: "thumb-frame" }, thumbnail),
    el("div", { class: "product-facts" }, productName, el("h3", {}, "What Vitrine saw"), factsSlot),
  ),
  controls,
  generationStatus,
  streamOutput,
  draftSlot,
  el("h3", {}, "Saved drafts"),
  draftList,
);
productName.id = "product-name";

const emptyView = el(
  "section",
  { class: "empty-view", testid: "empty-view" },
  el("h2", {}, "No product selected"),
  el("p", {}, "Add a product photo, or choose a product from the list."),
);

const app = document.getElementById("app");
if (!app) throw new Error("missing #app");
append(
  app,
  el(
    "header",
    { class: "app-header" },
    el("h1", { testid: "app-title" }, "Vitrine"),
    el("p", { class: "tagline" }, "Product photos in, listings out — on this machine."),
  ),
  errorBanner,
  el("main", { class: "layout" }, sidebar, el("div", { class: "content" }, emptyView, productView)),
);

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

function field(label: string, control: HTMLSelectElement): HTMLElement {
  const id = control.id;
  return el("div", { class: "field" }, el("label", { attrs: { for: id } }, label), control);
}

// ---------------------------------------------------------------- errors

function showError(err: unknown): void {
  const e: IpcError = toIpcError(err);
  console.error(`[${e.code}] ${e.message}`, e.details);
  errorMessage.textContent = e.message;
  errorCode.textContent = `(${e.code})`;
  errorBanner.hidden = false;
}

function clearError(): void {
  errorBanner.hidden = true;
  errorMessage.textContent = "";
  errorCode.textContent = "";
}

errorDismiss.addEventListener("click", clearError);

// ---------------------------------------------------------------- products

function renderProducts(): void {
  const selected = state.product?.id ?? null;
  replaceChildren(productList);
  if (state.products.length === 0) {
    productList.appendChild(el("li", { class: "empty" }, "No products yet."));
    return;
  }
  for (const p of state.products) {
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
  thumbnail.alt = `Photo of ${state.product?.name ?? "the product"}`;
}

async function openProduct(id: number, draftId?: number): Promise<void> {
  try {
    const product = await api.getProduct(id);
    const switched = state.product?.id !== product.id;
    state.product = product;
    emptyView.hidden = true;
    productView.hidden = false;
    productName.textContent = product.name || `Product ${product.id}`;
    factsPanel.show(product.id, product.facts);
    if (switched && state.generating === null) {
      stream.clear();
      generationStatus.textContent = "";
    }
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
    draftList.appendChild(el("li", { class: "empty" }, "No drafts yet."));
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
  ingestStatus.textContent = `Reading ${label}…`;
  try {
    const outcome = await run();
    ingestStatus.textContent = outcome.duplicate
      ? `${outcome.photo.source_name} is already in the library.`
      : `Added ${outcome.photo.source_name}.`;
    return outcome;
  } catch (err) {
    ingestStatus.textContent = "";
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

async function refreshModels(): Promise<void> {
  state.models = await api.listModels();
  const { options, selected } = renderModelOptions(state.models);
  replaceChildren(modelSelect, ...options);
  if (selected) modelSelect.value = selected;
  updateControls();
}

function updateControls(): void {
  const running = state.generating !== null;
  const hasModel = modelSelect.value !== "";
  generateButton.disabled = running || state.busy || !state.product || !hasModel;
  cancelButton.hidden = !running;
  modelSelect.disabled = running;
  langSelect.disabled = running;
  marketSelect.disabled = running;
  fileInput.disabled = state.busy;
  dropZone.classList.toggle("busy", state.busy);
  generateButton.textContent = running ? "Generating…" : "Generate listing";
}

controls.addEventListener("submit", (ev) => {
  ev.preventDefault();
  void generate();
});

cancelButton.addEventListener("click", () => {
  generationStatus.textContent = "Cancelling…";
  api.cancelGeneration(state.generating).catch(showError);
});

async function generate(): Promise<void> {
  const product = state.product;
  if (!product || state.generating !== null) return;
  clearError();
  state.generating = product.id;
  updateControls();
  stream.clear();
  replaceChildren(draftSlot);
  generationStatus.textContent = "Starting…";
  const lang = langSelect.value as Lang;
  const marketplace = marketSelect.value as Marketplace;
  const model = modelSelect.value || null;
  try {
    const draft = await api.generateListing(product.id, lang, marketplace, model);
    stream.flush();
    generationStatus.textContent = `Saved draft #${draft.id}.`;
    state.draftId = draft.id;
    replaceChildren(draftSlot, renderDraft(draft));
    await refreshProducts();
    await openProduct(product.id, draft.id);
  } catch (err) {
    const e = toIpcError(err);
    stream.flush();
    if (isCancelled(e)) {
      generationStatus.textContent = "Cancelled.";
    } else {
      generationStatus.textContent = "Generation failed.";
      showError(e);
    }
  } finally {
    state.generating = null;
    updateControls();
  }
}

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  await api.onListingEvent(({ productId, event }) => {
    if (productId !== state.generating) return;
    switch (event.type) {
      case "loading_model":
        generationStatus.textContent = `Loading model ${event.model_id}…`;
        break;
      case "model_loaded":
        generationStatus.textContent = `Model ${event.model_id} loaded in ${(event.ms / 1000).toFixed(1)} s${
          event.rss_mb === undefined ? "" : ` (${event.rss_mb} MB in memory)`
        }; writing…`;
        break;
      case "token":
        stream.push(event.text);
        break;
      case "retry":
        generationStatus.textContent = `The output was not a valid listing (${event.reason}); trying once more…`;
        stream.push("\n\n— retry —\n\n");
        break;
    }
  });
  await api.onFileDrop({
    over: (active) => dropZone.classList.toggle("drag-over", active),
    drop: (paths) => void ingestMany(paths.map((p) => ({ label: p, run: () => api.ingestPhotoPath(p) }))),
  });
  await Promise.all([refreshModels(), refreshProducts()]);
  document.body.dataset.ready = "true";
}

updateControls();
renderProducts();
renderDraftList();
start().catch(showError);
