// Typed wrappers over the Tauri commands of src-tauri. Every command rejects
// with an IpcError ({code, message, details}); see errors.ts.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { toIpcError } from "./errors";
import type {
  ActionOutcome,
  AppInfo,
  BatchDetail,
  BatchEventPayload,
  BatchRequest,
  BatchRow,
  BatchStarted,
  BulkOutcome,
  Comment,
  ConnectionReport,
  Draft,
  DraftSummary,
  ExportFormat,
  ExportReport,
  Fact,
  FetchPayload,
  ImportProgress,
  FactOptions,
  IngestOutcome,
  Lang,
  Listing,
  ListingEventPayload,
  Marketplace,
  ModelStatus,
  ModelsOverview,
  ProductDetail,
  ProductSummary,
  ReviewAction,
  ReviewDetail,
  ReviewsPayload,
  ReviewSummary,
  SettingsUpdate,
  SettingsView,
  TryOnInfo,
  VersionDiff,
} from "./types";

export const LISTING_EVENT = "listing://event";
export const BATCH_EVENT = "batch://event";
export const IMPORT_EVENT = "batch://import";
export const MODELS_EVENT = "models://event";
export const REVIEWS_EVENT = "reviews://event";

async function call<T>(cmd: string, args?: Parameters<typeof invoke>[1], options?: Parameters<typeof invoke>[2]): Promise<T> {
  try {
    return await invoke<T>(cmd, args, options);
  } catch (err) {
    throw toIpcError(err);
  }
}

export const api = {
  listProducts: () => call<ProductSummary[]>("list_products"),
  getProduct: (id: number) => call<ProductDetail>("get_product", { id }),
  getDraft: (id: number) => call<Draft>("get_draft", { id }),
  /** Replace the user's values for `key` (`category` or an attribute); [] clears them. Resolves with all the product's facts. */
  setProductFact: (productId: number, key: string, values: string[]) =>
    call<Fact[]>("set_product_fact", { productId, key, values }),
  factOptions: (productId: number) => call<FactOptions>("fact_options", { productId }),
  listModels: () => call<ModelStatus[]>("list_models"),
  /** A thumbnail inside the data dir as a `data:image/...;base64,` URL. */
  thumbnail: (path: string) => call<string>("get_thumbnail", { path }),
  ingestPhotoPath: (path: string) => call<IngestOutcome>("ingest_photo_path", { path }),
  /** Sends the file's bytes as the raw IPC body (no JSON number arrays); the name travels in a header. */
  ingestPhotoBytes: async (file: File) => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    return call<IngestOutcome>("ingest_photo_bytes", bytes, {
      headers: { "x-vitrine-file-name": encodeURIComponent(file.name) },
    });
  },
  generateListing: (productId: number, lang: Lang, marketplace: Marketplace, model: string | null) =>
    call<Draft>("generate_listing", { productId, lang, marketplace, model }),
  cancelGeneration: (productId: number | null) => call<boolean>("cancel_generation", { productId }),
  /** Listing drafts in one review state (all when null), oldest first. */
  listDrafts: (status: string | null) => call<DraftSummary[]>("list_drafts", { status }),
  getReview: (draftId: number) => call<ReviewDetail>("get_review", { draftId }),
  diffVersions: (draftId: number, from: number, to: number) => call<VersionDiff>("diff_versions", { draftId, from, to }),
  reviewAction: (draftId: number, action: ReviewAction, note: string | null, overrideReason: string | null) =>
    call<ActionOutcome>("review_action", { draftId, action, note, overrideReason }),
  /** Approve or reject several drafts, each on its own; no override. */
  bulkReview: (draftIds: number[], action: "approve" | "reject", note: string | null) =>
    call<BulkOutcome[]>("bulk_review", { draftIds, action, note }),
  addComment: (draftId: number, field: string, body: string) => call<Comment>("add_comment", { draftId, field, body }),
  /** A new version with this text (the listing's other fields are kept). */
  editDraft: (draftId: number, listing: Listing) => call<Draft>("edit_draft", { draftId, listing }),
  appInfo: () => call<AppInfo>("app_info"),
  defaultExportPath: (format: ExportFormat, lang: Lang) => call<string>("default_export_path", { format, lang }),
  exportListings: (format: ExportFormat, lang: Lang, includeUnapproved: boolean, path: string | null) =>
    call<ExportReport>("export_listings", { format, lang, includeUnapproved, path }),
  /** A livestream script for one product; streams on listing://event like a listing. */
  generateScript: (productId: number, lang: Lang, minutes: number | null, offer: string | null, model: string | null) =>
    call<Draft>("generate_script", { productId, lang, minutes, offer, model }),
  /** Import a catalogue (CSV file or photo folder) and start its batch in the background. */
  startBatch: (request: BatchRequest) => call<BatchStarted>("start_batch", { request }),
  listBatches: () => call<BatchRow[]>("list_batches"),
  batchDetail: (id: number) => call<BatchDetail>("batch_detail", { id }),
  pauseBatch: (id: number) => call<BatchRow>("pause_batch", { id }),
  cancelBatch: (id: number) => call<BatchRow>("cancel_batch", { id }),
  resumeBatch: (id: number, retryFailed: boolean) => call<BatchRow>("resume_batch", { id, retryFailed }),
  modelsOverview: () => call<ModelsOverview>("models_overview"),
  /** Install a model of the manifest; progress on models://event. */
  fetchModel: (id: string) => call<ModelStatus[]>("fetch_model", { id }),
  getSettings: () => call<SettingsView>("get_settings"),
  /** Validate and store; rejects with code invalid_setting and details {field, reason}. */
  saveSettings: (update: SettingsUpdate) => call<SettingsView>("save_settings", { update }),
  /** GET /v1/models on the server in the form; an empty token uses the stored one. */
  testRemote: (url: string, model: string, token: string | null) => call<ConnectionReport>("test_remote", { url, model, token }),
  /** Summarise a review file; with a product, stored as its review_summary draft. */
  summarizeReviews: (path: string, productId: number | null, lang: Lang, model: string | null) =>
    call<ReviewSummary>("summarize_reviews", { path, productId, lang, model }),
  onBatchEvent: (cb: (p: BatchEventPayload) => void): Promise<UnlistenFn> => listen<BatchEventPayload>(BATCH_EVENT, (e) => cb(e.payload)),
  onImportProgress: (cb: (p: ImportProgress) => void): Promise<UnlistenFn> => listen<ImportProgress>(IMPORT_EVENT, (e) => cb(e.payload)),
  onFetchEvent: (cb: (p: FetchPayload) => void): Promise<UnlistenFn> => listen<FetchPayload>(MODELS_EVENT, (e) => cb(e.payload)),
  onReviewsEvent: (cb: (p: ReviewsPayload) => void): Promise<UnlistenFn> => listen<ReviewsPayload>(REVIEWS_EVENT, (e) => cb(e.payload)),
  /** Prepare the 3D try-on of a product (kept until another is prepared); garment null follows its category. */
  tryonPrepare: (productId: number, photoId: number | null, backPhotoId: number | null, garment: string | null, size: string) =>
    call<TryOnInfo>("tryon_prepare", { productId, photoId, backPhotoId, garment, size }),
  /** One frame of the prepared try-on as raw RGBA bytes (its box, see parseFrame), through binary IPC; moving: unantialiased, for frames shown while the view turns. */
  tryonFrame: (azimuth: number, elevation: number, zoom: number, px: number, moving = false) =>
    call<ArrayBuffer>("tryon_frame", { azimuth, elevation, zoom, px, moving }),
  /** Save the view at 1024² as a PNG in the exports folder; resolves with its path. */
  tryonSavePng: (azimuth: number, elevation: number, zoom: number) => call<string>("tryon_save_png", { azimuth, elevation, zoom }),
  onListingEvent: (cb: (p: ListingEventPayload) => void): Promise<UnlistenFn> =>
    listen<ListingEventPayload>(LISTING_EVENT, (e) => cb(e.payload)),
  /** Native drag and drop of files onto the window: gives absolute paths. */
  onFileDrop: (handlers: { over: (active: boolean) => void; drop: (paths: string[]) => void }): Promise<UnlistenFn> =>
    getCurrentWebview().onDragDropEvent((e) => {
      switch (e.payload.type) {
        case "enter":
        case "over":
          handlers.over(true);
          break;
        case "leave":
          handlers.over(false);
          break;
        case "drop":
          handlers.over(false);
          handlers.drop(e.payload.paths);
          break;
      }
    }),
};
