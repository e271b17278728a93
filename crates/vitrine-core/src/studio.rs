//! `Studio`: the one entry point the CLI and the desktop shell use. It owns
//! the store, the data dir and the loaded model, and runs the pipelines.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use vitrine_infer::{
    fetch::sha256_file, select_device, CancelToken, CandleTextModel, ChatMessage, DevicePref,
    GenerationParams, Manifest, ModelStatus, ModelStore, RemoteConfig, RemoteTextModel, TextModel,
};

use crate::analysis::ImageClassifier;
use crate::brand::BrandProfile;
use crate::cache;
use crate::checks;
use crate::draft_check;
use crate::error::{CoreError, Result};
use crate::ingest::Understanding;
use crate::listing::{self, Lang};
use crate::paths::DataDir;
use crate::review;
use crate::router::{self, RouteDecision, RouteRequest, Router, TaskKind};
use crate::script::{self, Script, ScriptRequest};
use crate::store::{NewDraft, Store};
use crate::types::{
    Draft, DraftRules, IngestOutcome, Listing, ProductDetail, ProductSummary, Provenance,
};

/// What to generate.
#[derive(Debug, Clone)]
pub struct ListingRequest {
    pub product_id: i64,
    /// `en` or `zh-CN`.
    pub lang: String,
    /// `generic`, `shopify` or `amazon`.
    pub marketplace: String,
    /// A manifest model id the user pinned; the router chooses when `None`.
    /// Must be `None` with a remote backend, which has its own model.
    pub model: Option<String>,
    /// Sampling settings; the listing defaults when `None`.
    pub params: Option<GenerationParams>,
    /// Answer from the generation cache when an identical request was
    /// answered before (same model file, prompt, parameters and seed).
    pub use_cache: bool,
    /// A stored brand profile's name: its voice and words go into the
    /// prompt, its rules into the checks.
    pub brand: Option<String>,
    /// The batch item the draft completes.
    pub batch_item: Option<i64>,
}

/// Progress of a generation, streamed to the CLI and the app.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GenerationEvent {
    LoadingModel {
        model_id: String,
    },
    /// `rss_mb`: the process's resident memory just after loading (Linux),
    /// so users see what a model costs.
    ModelLoaded {
        model_id: String,
        ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rss_mb: Option<u64>,
    },
    Token {
        text: String,
    },
    Retry {
        reason: String,
    },
}

/// Sampling defaults for listings: low temperature keeps small models on
/// the JSON shape and on the facts.
pub fn listing_params() -> GenerationParams {
    GenerationParams {
        temperature: 0.3,
        top_p: Some(0.9),
        top_k: Some(40),
        // Small models loop on list items; a firm penalty over the recent
        // window stops that without hurting prose.
        repeat_penalty: 1.15,
        repeat_last_n: 128,
        seed: 42,
        // Enough for the longest schema (Shopify's extra fields, Chinese
        // copy at about a token a character).
        max_tokens: 1024,
        json_schema: None,
        avoid_words: Vec::new(),
    }
}

/// Where generations run.
#[derive(Debug, Clone, Default)]
pub enum Backend {
    /// Models from the manifest, on this machine.
    #[default]
    Local,
    /// One model on an OpenAI-compatible server (vLLM, llama.cpp).
    Remote(RemoteConfig),
}

struct LoadedModel {
    id: String,
    model: Box<dyn TextModel>,
    last_used: Instant,
}

/// How long a loaded model may sit unused before long-running hosts unload
/// it: `VITRINE_UNLOAD_IDLE_SECS`, 600 by default.
pub fn idle_unload_after() -> Duration {
    std::env::var("VITRINE_UNLOAD_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Duration::from_secs(600), Duration::from_secs)
}

/// Resident memory of this process in MiB (Linux `/proc`; `None` elsewhere).
pub fn resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024)
}

#[derive(Clone)]
pub struct Studio {
    dirs: DataDir,
    store: Store,
    manifest: Arc<Manifest>,
    models: ModelStore,
    device: DevicePref,
    backend: Backend,
    router: Router,
    loaded: Arc<Mutex<Option<LoadedModel>>>,
    /// The photo classifier, loaded on first use; `None` inside when it is
    /// not installed (or failed to load: photos still get colours).
    classifier: Arc<tokio::sync::OnceCell<Option<Arc<dyn ImageClassifier>>>>,
    /// A vision-language model the user pointed Vitrine at, if any.
    vlm: Option<crate::vlm_facts::SharedVlm>,
    /// The OCR models: installed (read when unsure) or asked for (always).
    ocr: Option<Arc<crate::label_text::LazyOcr>>,
    ocr_when: crate::label_text::ReadWhen,
}

impl Studio {
    pub async fn open(dirs: DataDir) -> Result<Self> {
        dirs.ensure()?;
        let store = Store::open_target(&dirs.database()?).await?;
        let manifest = Arc::new(Manifest::builtin()?);
        let models = ModelStore::new(dirs.models_dir());
        Ok(Self {
            dirs,
            store,
            manifest,
            models,
            device: DevicePref::from_env()?,
            backend: Backend::Local,
            router: Router::from_env()?,
            loaded: Arc::new(Mutex::new(None)),
            classifier: Arc::new(tokio::sync::OnceCell::new()),
            vlm: None,
            ocr: None,
            ocr_when: crate::label_text::ReadWhen::Unsure,
        }
        .with_installed_ocr())
    }

    /// Read the text printed on each analysed photo (PP-OCRv4; about 1.5 s
    /// a photo on one core); an error when the models are not installed.
    pub fn with_ocr(mut self) -> Result<Self> {
        let dir = self.models.dir().join(vitrine_infer::vision::ocr::OCR_DIR);
        let models = Arc::new(vitrine_infer::vision::OcrModels::load(&dir)?);
        self.ocr = Some(Arc::new(crate::label_text::LazyOcr::loaded(models)));
        self.ocr_when = crate::label_text::ReadWhen::Always;
        Ok(self)
    }

    /// Never read printed text (`vitrine analyze --no-ocr`, benchmarks of
    /// the classifier path).
    pub fn without_ocr(mut self) -> Self {
        self.ocr = None;
        self
    }

    /// When the OCR models are installed, read a photo's label where it can
    /// change the answer (`label_text::worth_reading`): they load on the
    /// first photo that needs them.
    fn with_installed_ocr(mut self) -> Self {
        use vitrine_infer::vision::ocr;
        let dir = self.models.dir().join(ocr::OCR_DIR);
        if [ocr::DET_FILE, ocr::REC_FILE, ocr::CLS_FILE]
            .iter()
            .all(|f| dir.join(f).is_file())
        {
            self.ocr = Some(Arc::new(crate::label_text::LazyOcr::new(dir)));
            self.ocr_when = crate::label_text::ReadWhen::Unsure;
        }
        self
    }

    /// Also ask this vision-language model about every analysed photo.
    pub fn with_vlm(mut self, vlm: crate::vlm_facts::SharedVlm) -> Self {
        self.vlm = Some(vlm);
        self
    }

    pub fn with_device(mut self, device: DevicePref) -> Self {
        self.device = device;
        self
    }

    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    pub fn with_router(mut self, router: Router) -> Self {
        self.router = router;
        self
    }

    pub fn router(&self) -> Router {
        self.router
    }

    /// The id of the model held in memory, if any.
    pub fn loaded_model(&self) -> Option<String> {
        self.loaded.lock().ok()?.as_ref().map(|l| l.id.clone())
    }

    /// Free the loaded model if it has not been used for `idle`. A model in
    /// use (its lock held by a generation) is left alone. Returns the id of
    /// the model unloaded.
    pub fn unload_if_idle(&self, idle: Duration) -> Option<String> {
        let mut guard = self.loaded.try_lock().ok()?;
        if guard.as_ref()?.last_used.elapsed() < idle {
            return None;
        }
        let id = guard.take().map(|l| l.id);
        tracing::info!(model = ?id, rss_mb = resident_mb(), "idle model unloaded");
        id
    }

    /// A background task that unloads the model after `idle` without use
    /// (the desktop app and long-running servers run it; one-shot commands
    /// exit instead).
    pub fn spawn_idle_unloader(&self, idle: Duration) -> tokio::task::JoinHandle<()> {
        let studio = self.clone();
        let every = (idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                studio.unload_if_idle(idle);
            }
        })
    }

    pub fn dirs(&self) -> &DataDir {
        &self.dirs
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    pub fn model_store(&self) -> &ModelStore {
        &self.models
    }

    /// The photo classifier when installed, loaded once.
    pub async fn classifier(&self) -> Option<Arc<dyn ImageClassifier>> {
        let manifest = self.manifest.clone();
        let models = self.models.clone();
        self.classifier
            .get_or_init(|| async move {
                let loaded = tokio::task::spawn_blocking(move || {
                    crate::photo_classifier::load(&manifest, &models)
                })
                .await;
                match loaded {
                    Ok(Ok(Some(c))) => Some(Arc::new(c) as Arc<dyn ImageClassifier>),
                    Ok(Ok(None)) => None,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "photo classifier failed to load; photos get colours only");
                        None
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "photo classifier load task failed");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// Why photos get no category, when they do not: the sentence to show.
    pub async fn classifier_notice(&self) -> Option<String> {
        if self.classifier().await.is_some() {
            return None;
        }
        let spec = crate::photo_classifier::spec(&self.manifest)?;
        Some(if self.models.is_installed(spec) {
            format!(
                "the photo classifier `{}` failed to load (see the log with -v); photos get colours but no category",
                spec.id
            )
        } else {
            format!(
                "the photo classifier is not installed, so photos get colours but no category; run `vitrine models fetch {}`",
                spec.id
            )
        })
    }

    /// The knowledge graph and the classifier, for ingest and analysis.
    pub async fn understanding(&self) -> Result<Understanding> {
        Ok(Understanding {
            kg: Some(Arc::new(self.store.knowledge_graph().await?)),
            classifier: self.classifier().await,
            title: None,
            vlm: self.vlm.clone(),
            ocr: self.ocr.clone(),
            ocr_when: self.ocr_when,
            product: None,
        })
    }

    pub async fn ingest_path(&self, path: &Path) -> Result<IngestOutcome> {
        let u = self.understanding().await?;
        crate::ingest::ingest_path_with(&self.store, &self.dirs, path, &u).await
    }

    pub async fn ingest_bytes(&self, source_name: &str, bytes: Vec<u8>) -> Result<IngestOutcome> {
        let u = self.understanding().await?;
        crate::ingest::ingest_bytes_with(&self.store, &self.dirs, source_name, &bytes, &u).await
    }

    /// Ingest and analyse a photo; one already stored is analysed again
    /// (its machine facts replaced, the user's kept).
    pub async fn analyze_path(&self, path: &Path, title: Option<&str>) -> Result<IngestOutcome> {
        let mut u = self.understanding().await?;
        u.title = title.map(str::to_string);
        let out = crate::ingest::ingest_path_with(&self.store, &self.dirs, path, &u).await?;
        if !out.duplicate {
            return Ok(out);
        }
        crate::ingest::reanalyse(&self.store, &self.dirs, &out.photo, &u).await
    }

    pub async fn products(&self) -> Result<Vec<ProductSummary>> {
        self.store.products().await
    }

    pub async fn product(&self, id: i64) -> Result<ProductDetail> {
        self.store.product(id).await
    }

    /// Check a draft's current version against its product's facts, its
    /// marketplace and the brand it was written for (when that brand is
    /// still stored).
    pub async fn check_draft(&self, id: i64) -> Result<Vec<checks::Finding>> {
        draft_check::check_draft(&self.store, id).await
    }

    /// Check a listing (a draft's, or one from a file), against a product's
    /// facts when one is given.
    pub async fn check_listing(
        &self,
        listing: &Listing,
        product_id: Option<i64>,
        marketplace: &str,
        lang: &str,
        brand: Option<&str>,
    ) -> Result<Vec<checks::Finding>> {
        draft_check::check_listing(&self.store, listing, product_id, marketplace, lang, brand).await
    }

    /// Check plain text (a script, a summary, any copy) as one field.
    pub async fn check_text(
        &self,
        text: &str,
        product_id: Option<i64>,
        lang: &str,
        brand: Option<&str>,
    ) -> Result<Vec<checks::Finding>> {
        draft_check::check_text(&self.store, text, product_id, lang, brand).await
    }

    /// Approve a draft through the review workflow, acting as the default
    /// profile (see [`review::acting_profile`]): its current text is checked
    /// again (a person's edit may have fixed, or caused, a problem) and
    /// approval is refused while a blocking finding stands.
    pub async fn approve_draft(&self, id: i64) -> Result<Draft> {
        let actor = review::acting_profile(&self.store, None).await?;
        Ok(review::approve(&self.store, &actor, id, None, None)
            .await?
            .draft)
    }

    pub async fn draft(&self, id: i64) -> Result<Draft> {
        self.store.draft(id).await
    }

    pub fn models(&self) -> Vec<ModelStatus> {
        self.models.status(&self.manifest)
    }

    /// Ids of the installed text models, in manifest order.
    pub fn installed_ids(&self) -> Vec<String> {
        self.manifest
            .text_models()
            .filter(|m| self.models.is_installed(m))
            .map(|m| m.id.clone())
            .collect()
    }

    /// The model a request runs on: `pin` when given (it must be
    /// installed), else the router's choice among the installed models.
    pub fn route(&self, request: &RouteRequest, pin: Option<&str>) -> Result<RouteDecision> {
        let installed = self.installed_ids();
        let ids: Vec<&str> = installed.iter().map(String::as_str).collect();
        self.router.choose(request, &self.manifest, &ids, pin)
    }

    /// Fails early, before anything is stored, when a request could not
    /// run: the pinned model is missing, or no model is installed at all.
    pub fn check_models(&self, pin: Option<&str>) -> Result<()> {
        let any = RouteRequest {
            task: TaskKind::Listing,
            input_chars: 0,
            products: 1,
            languages: Vec::new(),
            temperature: 0.0,
        };
        self.route(&any, pin).map(|_| ())
    }

    /// Generate a listing for a product, stream it through `on_event`, check
    /// it (with one repair round), and store it as a new draft.
    pub async fn generate_listing(
        &self,
        req: ListingRequest,
        mut on_event: Box<dyn FnMut(GenerationEvent) + Send>,
        cancel: CancelToken,
    ) -> Result<Draft> {
        let lang = Lang::parse(&req.lang)?;
        let mp = listing::marketplace(&req.marketplace)?;
        let product = self.store.product(req.product_id).await?;
        // With nothing known the model could only invent: say so instead.
        if product.facts.is_empty() {
            return Err(CoreError::InvalidInput(format!(
                "not enough information to write about product {}: it has no facts (no visible product \
                 in its photo); add some with `vitrine products set-fact {} KEY VALUE` or another photo",
                product.id, product.id
            )));
        }
        let brand = match req.brand.as_deref() {
            Some(name) => Some(self.store.brand(name).await?),
            None => None,
        };
        let kg = self.store.knowledge_graph().await?;
        let mut params = req.params.clone().unwrap_or_else(listing_params);
        params.json_schema = Some(listing::schema(&mp, lang));
        if params.avoid_words.is_empty() {
            params.avoid_words = checks::avoid_words(lang);
        }
        let facts = listing::prompt_facts(&product.name, &product.facts, lang);
        let (engine, route) = self.engine_for(
            TaskKind::Listing,
            router::prompt_chars(&listing::build_messages(&facts, &mp, lang, brand.as_ref())),
            1,
            lang,
            params.temperature,
            req.model.as_deref(),
        )?;

        let mut generator = self.generator(engine, req.use_cache, cancel);
        let mp_for_task = mp.clone();
        let task = tokio::task::spawn_blocking(move || {
            run_listing(
                &mut generator,
                &ListingJob {
                    product: &product,
                    mp: &mp_for_task,
                    lang,
                    brand: brand.as_ref(),
                    kg: &kg,
                },
                &params,
                &mut on_event,
            )
        });
        let (listing, mut provenance) =
            task.await.map_err(|e| CoreError::Task(e.to_string()))??;
        // The reviewer sees the fallback with the checks' warnings.
        if let Some(route) = route {
            provenance.warnings.extend(route.fallback.clone());
            provenance.route = Some(route);
        }
        self.store
            .create_draft_for(
                &NewDraft {
                    product_id: req.product_id,
                    kind: "listing",
                    lang: lang.code(),
                    marketplace: &mp.id,
                    batch_item: req.batch_item,
                },
                &listing,
                &provenance,
            )
            .await
    }

    /// Write a livestream script for one product or a line-up: plan the
    /// segments from the target duration, generate under the script schema,
    /// time what the model wrote, check the host lines (one repair round for
    /// structure, timing or blocking findings) and store it as a `script`
    /// draft on the first product.
    pub async fn generate_script(
        &self,
        req: ScriptRequest,
        on_event: Box<dyn FnMut(GenerationEvent) + Send>,
        cancel: CancelToken,
    ) -> Result<Draft> {
        let lang = Lang::parse(&req.lang)?;
        if req.product_ids.is_empty() {
            return Err(CoreError::InvalidInput(
                "a script needs at least one product".into(),
            ));
        }
        if req.product_ids.len() > script::MAX_PRODUCTS {
            return Err(CoreError::InvalidInput(format!(
                "a script takes at most {} products; split the line-up",
                script::MAX_PRODUCTS
            )));
        }
        let minutes = req.minutes.unwrap_or(script::DEFAULT_MINUTES);
        if !(0.25..=60.0).contains(&minutes) {
            return Err(CoreError::InvalidInput(format!(
                "--minutes must be between 0.25 and 60 per product, not {minutes}"
            )));
        }
        let offer = req
            .offer
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_string);
        let mut products = Vec::with_capacity(req.product_ids.len());
        for id in &req.product_ids {
            products.push(self.store.product(*id).await?);
        }
        let brand = match req.brand.as_deref() {
            Some(name) => Some(self.store.brand(name).await?),
            None => None,
        };
        let kg = self.store.knowledge_graph().await?;
        let plan = script::plan(products.len(), minutes * 60.0, lang);
        let mut params = req.params.clone().unwrap_or_else(script::script_params);
        params.json_schema = Some(script::schema(&plan, lang));
        if params.avoid_words.is_empty() {
            params.avoid_words = checks::avoid_words(lang);
        }
        params.max_tokens = script::max_tokens(&plan, lang);
        if params.max_tokens > script::MAX_SCRIPT_TOKENS {
            return Err(CoreError::InvalidInput(format!(
                "a {:.0}-minute script does not fit one generation (about {} tokens, at most {}); \
                 shorten --minutes or split the line-up",
                minutes * products.len() as f64,
                params.max_tokens,
                script::MAX_SCRIPT_TOKENS
            )));
        }
        let prompt_products: Vec<script::ScriptProduct> = products
            .iter()
            .map(|p| script::ScriptProduct {
                id: p.id,
                name: p.name.clone(),
                facts: listing::prompt_facts(&p.name, &p.facts, lang),
            })
            .collect();
        let messages = script::build_messages(
            &prompt_products,
            &plan,
            lang,
            offer.as_deref(),
            brand.as_ref(),
        );
        let (engine, route) = self.engine_for(
            TaskKind::LivestreamScript,
            router::prompt_chars(&messages),
            products.len(),
            lang,
            params.temperature,
            req.model.as_deref(),
        )?;
        let mut generator = self.generator(engine, req.use_cache, cancel);
        let task = tokio::task::spawn_blocking(move || {
            let mut on_event = on_event;
            run_script(
                &mut generator,
                &ScriptJob {
                    products: &products,
                    prompt_products: &prompt_products,
                    plan: &plan,
                    messages,
                    lang,
                    offer: offer.as_deref(),
                    brand: brand.as_ref(),
                    kg: &kg,
                },
                &params,
                &mut on_event,
            )
        });
        let (script, mut provenance) = task.await.map_err(|e| CoreError::Task(e.to_string()))??;
        if let Some(route) = route {
            provenance.warnings.extend(route.fallback.clone());
            provenance.route = Some(route);
        }
        let first = script.product_ids.first().copied().unwrap_or_default();
        self.store
            .create_draft_for(
                &NewDraft {
                    product_id: first,
                    kind: script::DRAFT_KIND,
                    lang: lang.code(),
                    marketplace: script::CHANNEL,
                    batch_item: req.batch_item,
                },
                &script,
                &provenance,
            )
            .await
    }

    /// The engine a generation runs on: the routed (or pinned) local model,
    /// or the remote server.
    /// A generator for `engine` sharing this studio's loaded model and cache.
    fn generator(&self, engine: Engine, use_cache: bool, cancel: CancelToken) -> Generator {
        Generator {
            loaded: Arc::clone(&self.loaded),
            engine,
            store: self.store.clone(),
            runtime: tokio::runtime::Handle::current(),
            use_cache,
            cancel,
        }
    }

    fn engine_for(
        &self,
        task: TaskKind,
        input_chars: usize,
        products: usize,
        lang: Lang,
        temperature: f64,
        pin: Option<&str>,
    ) -> Result<(Engine, Option<RouteDecision>)> {
        match &self.backend {
            Backend::Local => {
                let route = self.route(
                    &RouteRequest {
                        task,
                        input_chars,
                        products,
                        languages: vec![lang.code().to_string()],
                        temperature,
                    },
                    pin,
                )?;
                tracing::info!(model = %route.model_id, score = route.score, pinned = route.pinned, task = task.as_str(), "route chosen");
                let spec = self.manifest.get(&route.model_id)?.clone();
                let engine = Engine::Local {
                    path: self.models.path_for(&spec),
                    spec,
                    device: self.device,
                };
                Ok((engine, Some(route)))
            }
            Backend::Remote(config) => {
                if let Some(id) = pin {
                    return Err(CoreError::InvalidInput(format!(
                        "model `{id}` is a local model, but generation goes to the remote server {}",
                        config.identity()
                    )));
                }
                Ok((
                    Engine::Remote {
                        config: config.clone(),
                        client: None,
                    },
                    None,
                ))
            }
        }
    }
}

/// One model call's result, from the model or from the cache.
pub(crate) struct Answer {
    pub(crate) text: String,
    pub(crate) prompt_tokens: usize,
    pub(crate) generated_tokens: usize,
    pub(crate) time_to_first_token_ms: u64,
    pub(crate) cached: bool,
}

/// The model a pipeline's generations go to.
enum Engine {
    Local {
        spec: vitrine_infer::ModelSpec,
        path: std::path::PathBuf,
        device: DevicePref,
    },
    /// The client is made (and the server checked) on the first cache miss.
    Remote {
        config: RemoteConfig,
        client: Option<RemoteTextModel>,
    },
}

impl Engine {
    /// The model's name in provenance and in the cache's bookkeeping.
    fn model_id(&self) -> String {
        match self {
            Engine::Local { spec, .. } => spec.id.clone(),
            Engine::Remote { config, .. } => config.identity(),
        }
    }

    /// What identifies the model's behaviour in the cache key: the weights'
    /// sha256 locally; remotely the sha256 of `model@server`, so another
    /// server or model name never answers from an old entry.
    fn fingerprint(&self) -> String {
        match self {
            Engine::Local { spec, .. } => spec.sha256.clone(),
            Engine::Remote { config, .. } => {
                hex::encode(Sha256::digest(config.identity().as_bytes()))
            }
        }
    }
}

/// Runs generations for a pipeline: answers from the generation cache when
/// it can, and loads the model only when it must.
pub(crate) struct Generator {
    loaded: Arc<Mutex<Option<LoadedModel>>>,
    engine: Engine,
    store: Store,
    runtime: tokio::runtime::Handle,
    use_cache: bool,
    cancel: CancelToken,
}

impl Generator {
    /// The model's name, for provenance.
    pub(crate) fn model_id(&self) -> String {
        self.engine.model_id()
    }

    /// What identifies the model's behaviour (see [`Engine::fingerprint`]).
    pub(crate) fn fingerprint(&self) -> String {
        self.engine.fingerprint()
    }

    pub(crate) fn generate(
        &mut self,
        messages: &[ChatMessage],
        prefill: &str,
        params: &GenerationParams,
        on_event: &mut dyn FnMut(GenerationEvent),
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Answer> {
        let model_id = self.engine.model_id();
        let fingerprint = self.engine.fingerprint();
        let key = cache::key(&fingerprint, messages, prefill, params)?;
        if self.use_cache {
            if let Some(hit) = self.runtime.block_on(self.store.cache_get(&key))? {
                tracing::info!(model = %model_id, "answered from the generation cache");
                on_text(&hit.text);
                return Ok(Answer {
                    text: hit.text,
                    prompt_tokens: hit.prompt_tokens,
                    generated_tokens: hit.generated_tokens,
                    time_to_first_token_ms: 0,
                    cached: true,
                });
            }
        }
        let g = match &mut self.engine {
            Engine::Local { spec, path, device } => {
                let mut guard = self
                    .loaded
                    .lock()
                    .map_err(|_| CoreError::Task("model lock poisoned".into()))?;
                if guard.as_ref().map(|l| l.id.as_str()) != Some(spec.id.as_str()) {
                    // Free the old model before loading the next: two may not fit.
                    *guard = None;
                    on_event(GenerationEvent::LoadingModel {
                        model_id: spec.id.clone(),
                    });
                    let t = Instant::now();
                    let dev = select_device(*device)?;
                    let model = CandleTextModel::load(&spec.id, path, &dev)?;
                    let ms = t.elapsed().as_millis() as u64;
                    let rss_mb = resident_mb();
                    tracing::info!(model = %spec.id, device = vitrine_infer::device::device_name(&dev), engine = %model.engine(), ms, rss_mb, "model loaded");
                    on_event(GenerationEvent::ModelLoaded {
                        model_id: spec.id.clone(),
                        ms,
                        rss_mb,
                    });
                    *guard = Some(LoadedModel {
                        id: spec.id.clone(),
                        model: Box::new(model),
                        last_used: Instant::now(),
                    });
                }
                let loaded = guard
                    .as_mut()
                    .ok_or_else(|| CoreError::Task("model not loaded".into()))?;
                let result = loaded
                    .model
                    .generate(messages, prefill, params, on_text, &self.cancel);
                loaded.last_used = Instant::now();
                result
            }
            // Remote requests bypass the local model's lock: the server
            // runs them side by side, up to the client's concurrency limit.
            Engine::Remote { config, client } => {
                if client.is_none() {
                    on_event(GenerationEvent::LoadingModel {
                        model_id: model_id.clone(),
                    });
                    let t = Instant::now();
                    *client = Some(RemoteTextModel::connect(config.clone())?);
                    on_event(GenerationEvent::ModelLoaded {
                        model_id: model_id.clone(),
                        ms: t.elapsed().as_millis() as u64,
                        rss_mb: None,
                    });
                }
                let model = client
                    .as_mut()
                    .ok_or_else(|| CoreError::Task("remote client missing".into()))?;
                model.generate(messages, prefill, params, on_text, &self.cancel)
            }
        }
        .map_err(|e| match e {
            vitrine_infer::InferError::Cancelled => CoreError::Cancelled,
            other => other.into(),
        })?;
        let answer = Answer {
            text: g.text,
            prompt_tokens: g.prompt_tokens,
            generated_tokens: g.generated_tokens,
            time_to_first_token_ms: g.time_to_first_token.as_millis() as u64,
            cached: false,
        };
        // Only complete answers are worth repeating.
        if g.stop != vitrine_infer::StopReason::ContextFull {
            let stored = cache::CachedGeneration {
                text: answer.text.clone(),
                prompt_tokens: answer.prompt_tokens,
                generated_tokens: answer.generated_tokens,
            };
            self.runtime
                .block_on(self.store.cache_put(&key, &model_id, &fingerprint, &stored))?;
        }
        Ok(answer)
    }
}

/// What one listing is written for and checked against.
struct ListingJob<'a> {
    product: &'a ProductDetail,
    mp: &'a listing::Marketplace,
    lang: Lang,
    brand: Option<&'a BrandProfile>,
    kg: &'a crate::kg::KnowledgeGraph,
}

/// Generation attempts per listing: the first and one repair. A third
/// rarely fixes what the second did not, and a draft that still has
/// problems is stored with the findings that say why.
const LISTING_ATTEMPTS: u32 = 2;

fn run_listing(
    generator: &mut Generator,
    job: &ListingJob,
    params: &GenerationParams,
    on_event: &mut Box<dyn FnMut(GenerationEvent) + Send>,
) -> Result<(Listing, Provenance)> {
    let ListingJob {
        product,
        mp,
        lang,
        brand,
        kg,
    } = *job;
    let facts = listing::prompt_facts(&product.name, &product.facts, lang);
    let mut messages = listing::build_messages(&facts, mp, lang, brand);
    let prompt_sha256 = hex::encode(Sha256::digest(
        serde_json::to_vec(&messages).map_err(|e| CoreError::Task(e.to_string()))?,
    ));
    let ctx = checks::Context {
        marketplace: mp,
        lang,
        facts: &product.facts,
        product_name: &product.name,
        kg: Some(kg),
        brand,
    };

    let mut prefix = listing::RESPONSE_PREFIX.to_string();
    let mut first: Option<(Listing, listing::Validation)> = None;
    let mut usage = Usage::new();
    loop {
        let reply = json_attempt(generator, &messages, &prefix, params, on_event, &mut usage)?;
        let (listing, check) =
            listing::parse_and_validate(&reply, mp, facts.dominant_colour.as_ref());
        // A repair that broke the reply (no JSON left, the token budget run
        // out) keeps the first listing, problems and all: nothing lost.
        let (listing, check) = match (listing, first.take()) {
            (None, Some((l, c))) if usage.attempts >= LISTING_ATTEMPTS => (Some(l), c),
            (l, _) => (l, check),
        };
        let findings = listing
            .as_ref()
            .map(|l| checks::check_listing(l, &ctx))
            .unwrap_or_default();
        let clean = check.errors.is_empty() && !checks::has_blocking(&findings);
        match listing {
            Some(listing) if clean || usage.attempts >= LISTING_ATTEMPTS => {
                // What is still wrong is stored with the draft, so nobody
                // approves it unaware.
                let mut findings = findings;
                findings.extend(check.errors.iter().map(|e| structure_finding(e)));
                let fields = checks::listing_fields(&listing);
                let provenance = Provenance {
                    model_id: generator.engine.model_id(),
                    model_sha256: generator.engine.fingerprint(),
                    prompt_sha256,
                    sampling: serde_json::to_value(params).unwrap_or_default(),
                    facts_used: facts.fact_ids.clone(),
                    prompt_tokens: usage.prompt_tokens,
                    generated_tokens: usage.generated_tokens,
                    time_to_first_token_ms: usage.ttft_ms.unwrap_or_default(),
                    total_ms: usage.started.elapsed().as_millis() as u64,
                    attempts: usage.attempts,
                    cached: usage.all_cached,
                    warnings: check.warnings,
                    route: None,
                    trace: crate::provenance::trace(&fields, &product.facts, Some(kg)),
                    findings,
                    rules: Some(DraftRules {
                        marketplace: mp.id.clone(),
                        lang: lang.code().to_string(),
                        brand: brand.map(|b| b.name.clone()),
                        brand_sha256: brand.and_then(|b| {
                            serde_json::to_vec(b)
                                .ok()
                                .map(|j| hex::encode(Sha256::digest(j)))
                        }),
                        rules_sha256: crate::provenance::rules_sha256(),
                    }),
                    script: None,
                };
                return Ok((listing, provenance));
            }
            None if usage.attempts >= LISTING_ATTEMPTS => {
                return Err(CoreError::InvalidModelOutput {
                    attempts: usage.attempts,
                    reason: check.errors.join("; "),
                });
            }
            _ => {
                if let Some(l) = &listing {
                    first = Some((l.clone(), check.clone()));
                }
                let mut problems = check.errors.clone();
                problems.extend(
                    findings
                        .iter()
                        .filter(|f| f.severity == checks::Severity::Blocking)
                        .map(checks::Finding::describe),
                );
                tracing::info!(?problems, "asking the model to repair its listing");
                on_event(GenerationEvent::Retry {
                    reason: problems.join("; "),
                });
                messages.push(ChatMessage::assistant(reply));
                messages.push(listing::repair_message(&problems));
                let missing_colour = check
                    .errors
                    .iter()
                    .any(|e| e.starts_with(listing::MISSING_COLOUR));
                prefix =
                    listing::repair_prefix(facts.dominant_colour.as_ref(), lang, missing_colour);
            }
        }
    }
}

/// What a pipeline's generation attempts cost, for provenance.
struct Usage {
    attempts: u32,
    prompt_tokens: usize,
    generated_tokens: usize,
    ttft_ms: Option<u64>,
    all_cached: bool,
    started: Instant,
}

impl Usage {
    fn new() -> Self {
        Usage {
            attempts: 0,
            prompt_tokens: 0,
            generated_tokens: 0,
            ttft_ms: None,
            all_cached: true,
            started: Instant::now(),
        }
    }
}

/// One attempt at a JSON reply: streamed to `on_event` (prefill first),
/// stopped as soon as the object closes — whatever a model adds after it is
/// chatter that costs time — and counted in `usage`. The reply includes the
/// prefill.
fn json_attempt(
    generator: &mut Generator,
    messages: &[ChatMessage],
    prefix: &str,
    params: &GenerationParams,
    on_event: &mut Box<dyn FnMut(GenerationEvent) + Send>,
    usage: &mut Usage,
) -> Result<String> {
    usage.attempts += 1;
    on_event(GenerationEvent::Token {
        text: prefix.to_string(),
    });
    let mut so_far = prefix.to_string();
    // Tokens and load events both go to `on_event`, from two callbacks that
    // are never active at the same time.
    let sink = std::cell::RefCell::new(&mut *on_event);
    let mut forward = |piece: &str| {
        (sink.borrow_mut())(GenerationEvent::Token {
            text: piece.to_string(),
        });
        so_far.push_str(piece);
        listing::extract_json_object(&so_far).is_none()
    };
    let mut events = |ev: GenerationEvent| (sink.borrow_mut())(ev);
    let answer = generator.generate(messages, prefix, params, &mut events, &mut forward)?;
    usage.all_cached &= answer.cached;
    usage.prompt_tokens += answer.prompt_tokens;
    usage.generated_tokens += answer.generated_tokens;
    usage.ttft_ms.get_or_insert(answer.time_to_first_token_ms);
    Ok(format!("{prefix}{}", answer.text))
}

/// A problem with the listing's shape (an empty field, the main colour
/// unnamed) as a blocking finding.
fn structure_finding(problem: &str) -> checks::Finding {
    checks::Finding {
        check: checks::CheckKind::Limits,
        rule: "structure".into(),
        severity: checks::Severity::Blocking,
        field: "listing".into(),
        span: None,
        excerpt: String::new(),
        explanation: problem.to_string(),
        suggestion: Some("Regenerate, or edit the draft.".into()),
    }
}

/// Generation for pipelines other than listings (review summaries): the
/// same routing, engines and cache. `generate_listing` could build its
/// engine here too; it is left as it is while listings change.
impl Studio {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn text_generator(
        &self,
        task: TaskKind,
        input_chars: usize,
        lang: Lang,
        temperature: f64,
        pin: Option<&str>,
        use_cache: bool,
        cancel: CancelToken,
    ) -> Result<(Generator, Option<RouteDecision>)> {
        let (engine, route) = self.engine_for(task, input_chars, 1, lang, temperature, pin)?;
        let generator = self.generator(engine, use_cache, cancel);
        Ok((generator, route))
    }
}

/// What one script is written for and checked against.
struct ScriptJob<'a> {
    products: &'a [ProductDetail],
    prompt_products: &'a [script::ScriptProduct],
    plan: &'a [script::PlannedSegment],
    messages: Vec<ChatMessage>,
    lang: Lang,
    offer: Option<&'a str>,
    brand: Option<&'a BrandProfile>,
    kg: &'a crate::kg::KnowledgeGraph,
}

fn run_script(
    generator: &mut Generator,
    job: &ScriptJob,
    params: &GenerationParams,
    on_event: &mut Box<dyn FnMut(GenerationEvent) + Send>,
) -> Result<(Script, Provenance)> {
    let mut messages = job.messages.clone();
    let prompt_sha256 = hex::encode(Sha256::digest(
        serde_json::to_vec(&messages).map_err(|e| CoreError::Task(e.to_string()))?,
    ));
    let generic = listing::marketplace("generic")?;
    let contexts: Vec<checks::Context> = job
        .products
        .iter()
        .map(|p| checks::Context {
            marketplace: &generic,
            lang: job.lang,
            facts: &p.facts,
            product_name: &p.name,
            kg: Some(job.kg),
            brand: job.brand,
        })
        .collect();
    let names: Vec<(i64, String)> = job
        .products
        .iter()
        .map(|p| (p.id, p.name.clone()))
        .collect();
    let prefix = script::response_prefix(job.plan);
    let mut first_script: Option<(Vec<script::RawSegment>, Vec<String>)> = None;
    let mut usage = Usage::new();
    loop {
        let reply = json_attempt(generator, &messages, &prefix, params, on_event, &mut usage)?;
        let (raw, errors) = script::parse(&reply, job.plan);
        let parsed = match (raw, first_script.take()) {
            (Some(raw), _) => Some((raw, errors.clone())),
            // A repair that broke the reply (or ran out of context) keeps
            // the first script, problems and all.
            (None, Some(first)) => Some(first),
            (None, None) => None,
        };
        let Some((raw, errors)) = parsed else {
            if usage.attempts >= SCRIPT_ATTEMPTS {
                return Err(CoreError::InvalidModelOutput {
                    attempts: usage.attempts,
                    reason: errors.join("; "),
                });
            }
            on_event(GenerationEvent::Retry {
                reason: errors.join("; "),
            });
            messages.push(ChatMessage::assistant(reply));
            messages.push(script::repair_message(&errors));
            continue;
        };
        let script = script::assemble(job.plan, raw.clone(), &names, job.lang, job.offer);
        let findings = script::check_script(&script, &contexts, job.offer);
        let mut problems = errors.clone();
        problems.extend(script::timing_problems(&script, job.lang));
        problems.extend(
            findings
                .iter()
                .filter(|f| f.severity == checks::Severity::Blocking)
                .map(checks::Finding::describe),
        );
        if problems.is_empty() || usage.attempts >= SCRIPT_ATTEMPTS {
            let mut findings = findings;
            findings.extend(errors.iter().map(|e| structure_finding(e)));
            let fields = script::host_fields(&script);
            let all_facts: Vec<crate::types::Fact> =
                job.products.iter().flat_map(|p| p.facts.clone()).collect();
            let provenance = Provenance {
                model_id: generator.engine.model_id(),
                model_sha256: generator.engine.fingerprint(),
                prompt_sha256,
                sampling: serde_json::to_value(params).unwrap_or_default(),
                facts_used: job
                    .prompt_products
                    .iter()
                    .flat_map(|p| p.facts.fact_ids.clone())
                    .collect(),
                prompt_tokens: usage.prompt_tokens,
                generated_tokens: usage.generated_tokens,
                time_to_first_token_ms: usage.ttft_ms.unwrap_or_default(),
                total_ms: usage.started.elapsed().as_millis() as u64,
                attempts: usage.attempts,
                cached: usage.all_cached,
                warnings: Vec::new(),
                route: None,
                trace: crate::provenance::trace(&fields, &all_facts, Some(job.kg)),
                findings,
                rules: Some(DraftRules {
                    marketplace: script::CHANNEL.to_string(),
                    lang: job.lang.code().to_string(),
                    brand: job.brand.map(|b| b.name.clone()),
                    brand_sha256: job.brand.and_then(|b| {
                        serde_json::to_vec(b)
                            .ok()
                            .map(|j| hex::encode(Sha256::digest(j)))
                    }),
                    rules_sha256: crate::provenance::rules_sha256(),
                }),
                script: Some(script::ScriptProvenance::of(&script)),
            };
            return Ok((script, provenance));
        }
        first_script = Some((raw, errors));
        tracing::info!(?problems, "asking the model to repair its script");
        on_event(GenerationEvent::Retry {
            reason: problems.join("; "),
        });
        messages.push(ChatMessage::assistant(reply));
        messages.push(script::repair_message(&problems));
    }
}

/// Generation attempts per script: the first and one repair round.
const SCRIPT_ATTEMPTS: u32 = 2;

/// sha256 of an installed model file (for `vitrine models verify`).
pub fn verify_model(store: &ModelStore, spec: &vitrine_infer::ModelSpec) -> Result<bool> {
    let path = store.path_for(spec);
    Ok(sha256_file(&path)?.eq_ignore_ascii_case(&spec.sha256))
}
