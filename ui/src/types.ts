// Mirrors of the serde types in crates/vitrine-core/src/types.rs and of the
// IPC payloads of src-tauri. Field names are the Rust ones (snake_case), as
// serde writes them; command *arguments* are camelCase (Tauri's convention).

export type FactSource = "colour" | "classifier" | "vision" | "ocr" | "import" | "user";

/** One named dominant colour and the share of the product it covers. */
export interface ColourShare {
  key: string;
  name_en: string;
  name_zh: string;
  /** `#rrggbb` of the cluster centre. */
  hex: string;
  /** 0..=1 */
  share: number;
}

export interface Fact {
  id: number;
  product_id: number;
  key: string;
  value: string;
  label_en: string;
  label_zh: string;
  source: FactSource;
  confidence: number;
  /** Extra structured data, e.g. `{"hex":"#1f2a44","share":0.62}` for colours. */
  data: unknown;
}

export interface Photo {
  id: number;
  product_id: number;
  sha256: string;
  original_path: string;
  thumbnail_path: string;
  source_name: string;
  width: number;
  height: number;
  format: string;
  created_at: string;
}

export interface ProductSummary {
  id: number;
  name: string;
  created_at: string;
  photo_count: number;
  draft_count: number;
  thumbnail_path: string | null;
  /** The category key it is filed under (user's over the machine's), if any. */
  category?: string | null;
  /** Review state of its newest listing that was not rejected, if it has listings. */
  review_status?: string | null;
}

export interface DraftSummary {
  id: number;
  product_id: number;
  kind: string;
  lang: string;
  marketplace: string;
  status: string;
  current_version: number;
  title: string;
  created_at: string;
  updated_at: string;
}

export interface ProductDetail {
  id: number;
  name: string;
  created_at: string;
  photos: Photo[];
  facts: Fact[];
  drafts: DraftSummary[];
}

export interface IngestOutcome {
  product_id: number;
  photo: Photo;
  duplicate: boolean;
  facts: Fact[];
}

export interface Listing {
  title: string;
  bullets: string[];
  description: string;
  keywords: string[];
  /** Marketplace fields (Shopify's seo_title…), kept as they are by an edit. */
  extra?: Record<string, string>;
}

export interface Provenance {
  model_id: string;
  model_sha256: string;
  prompt_sha256: string;
  sampling: unknown;
  facts_used: number[];
  prompt_tokens: number;
  generated_tokens: number;
  time_to_first_token_ms: number;
  total_ms: number;
  attempts: number;
  /** Answered from the generation cache. */
  cached: boolean;
  /** What the checks noticed without rejecting the text. */
  warnings: string[];
  /** The checks' findings on the stored text (absent in older drafts). */
  findings?: Finding[];
}

/** One problem the checks found (vitrine-core checks::Finding). */
export interface Finding {
  check: string;
  rule: string;
  /** A blocking finding keeps the draft from approval. */
  severity: "blocking" | "warning";
  field: string;
  /** Character offsets [start, end) in the field. */
  span?: [number, number];
  excerpt: string;
  explanation: string;
  suggestion?: string;
}

export interface DraftVersion {
  id: number;
  draft_id: number;
  version: number;
  listing: Listing;
  /** The text of a draft that is not a listing (a script, a review summary), as its kind's JSON. */
  content?: unknown;
  provenance: Provenance | null;
  author: string;
  created_at: string;
}

export interface Draft {
  id: number;
  product_id: number;
  kind: string;
  lang: string;
  marketplace: string;
  status: string;
  created_at: string;
  updated_at: string;
  /** All versions, oldest first; the last is current. */
  versions: DraftVersion[];
}

/** vitrine_infer::ModelStatus */
export interface ModelStatus {
  id: string;
  name: string;
  role: string;
  architecture?: string;
  licence?: string;
  installed: boolean;
  size_bytes: number;
  path: string | null;
  default: boolean;
}

/** vitrine_core::studio::GenerationEvent (`#[serde(tag = "type", rename_all = "snake_case")]`). */
export type GenerationEvent =
  | { type: "loading_model"; model_id: string }
  | { type: "model_loaded"; model_id: string; ms: number; rss_mb?: number }
  | { type: "token"; text: string }
  | { type: "retry"; reason: string };

/** Payload of the `listing://event` Tauri event. */
export interface ListingEventPayload {
  productId: number;
  event: GenerationEvent;
}

/** The typed error every command rejects with. */
export interface IpcError {
  code: string;
  message: string;
  details: unknown;
}

export type Lang = "en" | "zh-CN";
export type Marketplace = "generic" | "shopify" | "amazon" | "taobao";

/** An allowed value of an editable key (src-tauri fact_options::ValueOption). */
export interface ValueOption {
  key: string;
  en: string;
  zh: string;
}

/** A key the user may set (src-tauri fact_options::EditableKey). */
export interface EditableKey {
  key: string;
  en: string;
  zh: string;
  multi: boolean;
  /** Empty for `category`, whose values are {@link FactOptions.categories}. */
  values: ValueOption[];
}

/** A node of the category tree (src-tauri fact_options::CategoryOption). */
export interface CategoryOption {
  key: string;
  en: string;
  zh: string;
  /** 0 for a top level. */
  depth: number;
}

/** What the facts editor may offer for one product (the `fact_options` command). */
export interface FactOptions {
  /** The user's category, else the classifier's; null when none is known. */
  category: string | null;
  category_source: FactSource | null;
  /** `category` first, then the category's attributes. */
  keys: EditableKey[];
  /** Every category, parents right before their children. */
  categories: CategoryOption[];
}

// ---------------------------------------------------------------- review, export, settings

export type DraftStatus = "draft" | "in_review" | "approved" | "changes_requested" | "rejected" | "exported";
export const DRAFT_STATUSES: readonly DraftStatus[] = ["draft", "in_review", "approved", "changes_requested", "rejected", "exported"];

/** The workflow actions the review screen offers (vitrine_core::review::Action). */
export type ReviewAction = "submit" | "approve" | "request_changes" | "reject" | "reopen";

/** vitrine_core::review::Profile */
export interface Profile {
  id: number;
  name: string;
  role: "author" | "reviewer" | "admin";
  created_at: string;
}

/** vitrine_core::review::Comment */
export interface Comment {
  id: number;
  draft_id: number;
  version: number;
  field: string;
  span: [number, number] | null;
  author: string;
  body: string;
  created_at: string;
}

/** vitrine_core::audit::AuditRecord */
export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entity_id: number;
  details: unknown;
}

/** src-tauri review_cmds::ReviewDetail */
export interface ReviewDetail {
  draft: Draft;
  findings: Finding[];
  comments: Comment[];
  history: AuditRecord[];
  actor: Profile;
  actions: string[];
}

export interface ActionOutcome {
  draft: Draft;
  overridden: boolean;
}

export interface DiffChunk {
  op: "equal" | "insert" | "delete";
  text: string;
}

export interface FieldDiff {
  field: string;
  granularity: "word" | "char";
  changed: boolean;
  chunks: DiffChunk[];
  rendered: string;
}

/** vitrine_core::review::VersionDiff */
export interface VersionDiff {
  draft_id: number;
  from: number;
  to: number;
  fields: FieldDiff[];
}

export type ExportFormat = "shopify" | "amazon" | "json" | "markdown" | "html";
export const EXPORT_FORMATS: readonly ExportFormat[] = ["shopify", "amazon", "json", "markdown", "html"];

/** vitrine_core::exports::ExportReport */
export interface ExportReport {
  path: string;
  format: ExportFormat;
  products: number;
  rows: number;
  drafts: number[];
  not_approved: number;
}

/** src-tauri export_cmds::AppInfo */
export interface AppInfo {
  data_dir: string;
  models_dir: string;
  exports_dir: string;
  profile: Profile;
  version: string;
}

/** vitrine_core::review::Outcome: what became of one draft in a bulk action. */
export interface BulkOutcome {
  draft_id: number;
  ok: boolean;
  status?: string;
  code?: string;
  error?: string;
  overridden: boolean;
}

// ---------------------------------------------------------------- batch, models, reviews, scripts

/** vitrine_core::batch::Counts */
export interface BatchCounts {
  total: number;
  pending: number;
  running: number;
  done: number;
  failed: number;
  skipped: number;
}

export type BatchOutput = "listing" | "script" | "reviews";
export const BATCH_OUTPUTS: readonly BatchOutput[] = ["listing", "script", "reviews"];
export type BatchStatus = "queued" | "running" | "paused" | "cancelled" | "done";

/** src-tauri batch_cmds::BatchRow: a core Batch and whether this app runs it now. */
export interface BatchRow {
  id: number;
  source: string;
  spec: { outputs: BatchOutput[]; langs: string[]; marketplace: string; model?: string | null; concurrency: number };
  status: BatchStatus;
  error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  counts: BatchCounts;
  import_errors: number;
  active: boolean;
}

export interface BatchItem {
  id: number;
  batch_id: number;
  product_id: number;
  kind: string;
  lang: string;
  status: string;
  attempts: number;
  draft_id: number | null;
  error: string | null;
}

export interface ImportError {
  line: number | null;
  handle: string | null;
  message: string;
}

export interface ImportReport {
  format: string;
  encoding: string;
  product_ids: number[];
  created: number;
  existing: number;
  photos: number;
  errors: ImportError[];
}

export interface BatchStarted {
  batch: BatchRow;
  import: ImportReport;
  resumed: boolean;
}

export interface BatchDetail {
  batch: BatchRow;
  failures: BatchItem[];
  import_errors: ImportError[];
}

export interface BatchRequest {
  source: string;
  outputs: BatchOutput[];
  langs: Lang[];
  marketplace: string | null;
  model: string | null;
  minutes: number | null;
  reviewsDir: string | null;
}

/** vitrine_core::batch::runner::BatchEvent */
export type BatchEvent =
  | { type: "started"; batch_id: number; counts: BatchCounts; concurrency: number }
  | { type: "item_started"; item_id: number; product_id: number; kind: string; lang: string }
  | { type: "item_done"; item_id: number; product_id: number; draft_id: number; ms: number }
  | { type: "item_failed"; item_id: number; product_id: number; error: string }
  | { type: "item_skipped"; item_id: number; product_id: number; reason: string }
  | { type: "progress"; counts: BatchCounts; eta_secs: number | null };

/** src-tauri batch_cmds::BatchEventPayload */
export type BatchEventPayload =
  | { kind: "run"; batchId: number; event: BatchEvent }
  | { kind: "ended"; batchId: number; batch: Omit<BatchRow, "active"> | null; error: IpcError | null };

export interface ImportProgress {
  done: number;
  total: number;
}

/** src-tauri models_cmds::ModelsOverview */
export interface ModelsOverview {
  models: ModelStatus[];
  modelsDir: string;
  device: string;
  accelerators: string[];
  backend: string;
  routerThreshold: number;
  loaded: string | null;
  fetching: string[];
}

export type FetchPayload =
  | { type: "downloading"; id: string; source: string }
  | { type: "progress"; id: string; done: number; total: number }
  | { type: "installed"; id: string }
  | { type: "failed"; id: string; error: IpcError };

/** vitrine_core::reviews::RatingStats */
export interface RatingStats {
  /** Counts of 1 to 5 stars. */
  counts: [number, number, number, number, number];
  unrated: number;
  mean: number | null;
}

export interface AspectStats {
  id: string;
  en: string;
  zh: string;
  mentions: number;
  positive: number;
  negative: number;
  share: number;
  positive_share: number;
  negative_share: number;
}

export interface ReviewQuote {
  aspect: string;
  polarity: "pro" | "con";
  text: string;
  review_id: number;
}

export interface ReviewSuspicion {
  review_id: number;
  reasons: { pattern: string; why: string; matched: string }[];
}

/** vitrine_core::reviews::Analysis (the fields the screen shows). */
export interface ReviewAnalysis {
  format: string;
  encoding: string;
  total: number;
  empty_skipped: number;
  invalid_ratings: number;
  duplicates: [number, number][];
  languages: { zh: number; en: number; other: number };
  suspicious: ReviewSuspicion[];
  usable: number;
  ratings: RatingStats;
  usable_ratings: RatingStats;
  aspects: AspectStats[];
  pros: string[];
  cons: string[];
  problems: { kind: string; reviews: number; examples: number[] }[];
  quotes: ReviewQuote[];
}

/** vitrine_core::reviews::ReviewSummary */
export interface ReviewSummary {
  lang: string;
  analysis: ReviewAnalysis;
  paragraph: string;
  /** `model`, `template` or `not_enough`. */
  paragraph_source: string;
  notices: string[];
  model_id?: string;
  draft_id?: number;
  total_ms: number;
}

export type ReviewsPayload =
  | { type: "step"; done: number; total: number; what: string }
  | { type: "loadingModel"; model_id: string }
  | { type: "retry"; reason: string };

/** vitrine_core::script::Segment (what the product screen shows). */
export interface ScriptSegment {
  kind: string;
  start: string;
  end: string;
  host: string;
  cues: string[];
}

export interface Script {
  title: string;
  lang: string;
  target_seconds: number;
  measured_seconds: number;
  offer?: string | null;
  segments: ScriptSegment[];
}

/** A prepared try-on (tryon_prepare). */
export interface TryOnInfo {
  product_id: number;
  photo_id: number;
  back_photo_id: number | null;
  /** `tshirt`, `hoodie`, `polo` or `dress`. */
  garment: string;
  /** The category fact the garment was chosen from, when none was asked for. */
  category: string | null;
  size: string;
  garments: string[];
  sizes: string[];
  adapter: string;
  software: boolean;
}

/** src-tauri settings_cmds::SettingsView: never holds the token itself. */
export interface SettingsView {
  threads: number | null;
  threadsNow: number;
  cores: number;
  remoteUrl: string | null;
  remoteModel: string | null;
  tokenSet: boolean;
  tokenHint: string | null;
  tokenFromEnv: boolean;
  routerThreshold: number;
  settingsFile: string;
}

/** src-tauri settings_cmds::SettingsUpdate: absent fields stay as they are. */
export interface SettingsUpdate {
  /** 0: every core. */
  threads?: number;
  /** "": local models. */
  remoteUrl?: string;
  remoteModel?: string;
  /** A new token; "" keeps the stored one. */
  remoteToken?: string;
  clearToken?: boolean;
  routerThreshold?: number;
}

/** src-tauri settings_cmds::ConnectionReport */
export interface ConnectionReport {
  models: string[];
  modelListed: boolean;
  ms: number;
}
