//! The model router: scores how demanding a request is and picks the light
//! or the heavy model among those installed.
//!
//! The score is a weighted sum of five factors, each first mapped to 0..=1,
//! so the total is in 0..=1 and each factor's share can be shown:
//!
//! | factor     | weight | value                                                      |
//! |------------|--------|------------------------------------------------------------|
//! | task       | 0.40   | the task kind's difficulty ([`TaskKind::difficulty`])       |
//! | languages  | 0.20   | hardest output language, +0.25 per extra language, ≤ 1      |
//! | input      | 0.15   | prompt characters `c`: `c / (c + 2000)`                     |
//! | creativity | 0.15   | temperature / 1.5, clamped to 0..=1                         |
//! | products   | 0.10   | products `n`: `(n - 1) / (n + 1)` (0 for one product)       |
//!
//! The task kind weighs most because it says most about what a small model
//! gets wrong; Chinese (and Japanese, Korean) output comes next because the
//! small models are trained mostly on English and lose fluency first there.
//! Every factor saturates, so no single huge input decides alone.
//!
//! Policy: a score at or above the threshold gets the heavy model, below it
//! the light one. The tiny model is a last resort: used only when pinned or
//! when nothing bigger is installed. See `docs/ARCHITECTURE.md` ("The model
//! router") for why the default threshold sends listings to the heavy model.

use serde::{Deserialize, Serialize};
use vitrine_infer::{ChatMessage, Manifest, ModelSpec, Role};

use crate::error::{CoreError, Result};

/// Scores at or above this go to the heavy model. With the weights above a
/// listing's task factor alone is 0.26, so every listing goes heavy; short
/// English review summaries and fact extraction go light.
pub const DEFAULT_THRESHOLD: f64 = 0.25;

/// Environment variable that overrides [`DEFAULT_THRESHOLD`].
pub const THRESHOLD_ENV: &str = "VITRINE_ROUTER_THRESHOLD";

const WEIGHT_TASK: f64 = 0.40;
const WEIGHT_LANGUAGES: f64 = 0.20;
const WEIGHT_INPUT: f64 = 0.15;
const WEIGHT_CREATIVITY: f64 = 0.15;
const WEIGHT_PRODUCTS: f64 = 0.10;

/// Prompt size, in characters, at which the input factor is one half.
const INPUT_HALF_CHARS: f64 = 2000.0;
/// Temperature at which the creativity factor reaches one.
const MAX_TEMPERATURE: f64 = 1.5;
/// What each output language beyond the first adds to the language factor.
const EXTRA_LANGUAGE: f64 = 0.25;

/// What a request asks the model to do. New pipelines add a variant here and
/// its difficulty in [`TaskKind::difficulty`]; the `match` there makes the
/// compiler ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskKind {
    /// Title, bullets, description and keywords for a marketplace.
    Listing,
    /// A spoken script for a live-stream sale: long, free-form, persuasive.
    LivestreamScript,
    /// A summary of customer reviews.
    ReviewSummary,
    /// Structured facts read from product text.
    ProductFacts,
}

impl TaskKind {
    pub const ALL: [TaskKind; 4] = [
        TaskKind::Listing,
        TaskKind::LivestreamScript,
        TaskKind::ReviewSummary,
        TaskKind::ProductFacts,
    ];

    /// How hard the task is for a small model, 0..=1. Extraction into a
    /// schema is nearly mechanical; summaries need some judgement; listings
    /// are customer-facing copy that must stay on the facts; a live-stream
    /// script is long persuasive prose, where small models ramble.
    pub fn difficulty(self) -> f64 {
        match self {
            TaskKind::ProductFacts => 0.10,
            TaskKind::ReviewSummary => 0.30,
            TaskKind::Listing => 0.65,
            TaskKind::LivestreamScript => 0.90,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Listing => "listing",
            TaskKind::LivestreamScript => "livestream_script",
            TaskKind::ReviewSummary => "review_summary",
            TaskKind::ProductFacts => "product_facts",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        TaskKind::ALL
            .into_iter()
            .find(|t| t.as_str() == norm)
            .ok_or_else(|| {
                let known: Vec<&str> = TaskKind::ALL.iter().map(|t| t.as_str()).collect();
                CoreError::InvalidInput(format!("unknown task `{s}` (known: {})", known.join(", ")))
            })
    }
}

/// What the router knows about a request.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRequest {
    pub task: TaskKind,
    /// Characters of prompt material (all chat messages).
    pub input_chars: usize,
    /// Products the request covers.
    pub products: usize,
    /// Output languages, e.g. `["en"]` or `["en", "zh-CN"]`.
    pub languages: Vec<String>,
    /// Requested sampling temperature: how creative the text may be.
    pub temperature: f64,
}

/// Characters of prompt material in a chat: what [`RouteRequest::input_chars`]
/// counts.
pub fn prompt_chars(messages: &[ChatMessage]) -> usize {
    messages.iter().map(|m| m.content.chars().count()).sum()
}

/// One factor of a score: its value (0..=1), weight and weighted share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    pub name: String,
    /// The input the value came from, for people: `listing`, `1180 chars`.
    pub input: String,
    pub value: f64,
    pub weight: f64,
    pub contribution: f64,
}

/// A request's complexity score and how it was made up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// 0..=1: the sum of the contributions.
    pub total: f64,
    pub factors: Vec<Factor>,
}

/// How hard output in a language is for a small model. Scripts the models
/// saw least of cost most; other languages sit between them and English.
fn language_difficulty(code: &str) -> f64 {
    let primary = code
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match primary.as_str() {
        "en" => 0.0,
        "zh" | "ja" | "ko" => 1.0,
        _ => 0.5,
    }
}

/// Scores are kept to four decimals: enough to rank requests, and short
/// enough that the provenance JSON reads back to the same numbers.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn factor(name: &str, input: String, value: f64, weight: f64) -> Factor {
    let value = if value.is_finite() {
        round4(value.clamp(0.0, 1.0))
    } else {
        0.0
    };
    Factor {
        name: name.to_string(),
        input,
        value,
        weight,
        contribution: round4(value * weight),
    }
}

/// The complexity score of a request.
pub fn score(req: &RouteRequest) -> Score {
    let chars = req.input_chars as f64;
    let hardest = req
        .languages
        .iter()
        .map(|l| language_difficulty(l))
        .fold(0.0, f64::max);
    let extra = req.languages.len().saturating_sub(1) as f64 * EXTRA_LANGUAGE;
    let n = req.products as f64;
    let factors = vec![
        factor(
            "task",
            req.task.as_str().to_string(),
            req.task.difficulty(),
            WEIGHT_TASK,
        ),
        factor(
            "languages",
            if req.languages.is_empty() {
                "none given".to_string()
            } else {
                req.languages.join(",")
            },
            hardest + extra,
            WEIGHT_LANGUAGES,
        ),
        factor(
            "input",
            format!("{} chars", req.input_chars),
            chars / (chars + INPUT_HALF_CHARS),
            WEIGHT_INPUT,
        ),
        factor(
            "creativity",
            format!("temperature {}", req.temperature),
            req.temperature / MAX_TEMPERATURE,
            WEIGHT_CREATIVITY,
        ),
        factor(
            "products",
            req.products.to_string(),
            if req.products > 1 {
                (n - 1.0) / (n + 1.0)
            } else {
                0.0
            },
            WEIGHT_PRODUCTS,
        ),
    ];
    let total = round4(
        factors
            .iter()
            .map(|f| f.contribution)
            .sum::<f64>()
            .clamp(0.0, 1.0),
    );
    Score { total, factors }
}

/// Which model a request runs on, and why. Stored in the draft's provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteDecision {
    pub model_id: String,
    pub role: Role,
    pub task: TaskKind,
    pub score: f64,
    pub threshold: f64,
    pub factors: Vec<Factor>,
    pub reason: String,
    /// The user named the model; the score was not used.
    pub pinned: bool,
    /// Set when the model the router wanted is not installed and another
    /// one ran instead.
    #[serde(default)]
    pub fallback: Option<String>,
}

/// Picks a model per request; see the module docs for the policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Router {
    threshold: f64,
}

impl Default for Router {
    fn default() -> Self {
        Self {
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

impl Router {
    pub fn new(threshold: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(CoreError::InvalidInput(format!(
                "router threshold must be between 0 and 1, got {threshold}"
            )));
        }
        Ok(Self { threshold })
    }

    /// The threshold from `VITRINE_ROUTER_THRESHOLD`, else the default.
    pub fn from_env() -> Result<Self> {
        match std::env::var(THRESHOLD_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::parse(&v),
            _ => Ok(Self::default()),
        }
    }

    /// A threshold as written in the environment or on the command line.
    pub fn parse(text: &str) -> Result<Self> {
        let t: f64 = text.trim().parse().map_err(|_| {
            CoreError::InvalidInput(format!(
                "{THRESHOLD_ENV} must be a number between 0 and 1, got `{text}`"
            ))
        })?;
        Self::new(t)
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Choose the model for `req` among the manifest's models whose ids are
    /// in `installed`. A pinned model is used as is or not at all: pinning
    /// is explicit, so a missing one is an error rather than a substitute.
    pub fn choose(
        &self,
        req: &RouteRequest,
        manifest: &Manifest,
        installed: &[&str],
        pin: Option<&str>,
    ) -> Result<RouteDecision> {
        let score = score(req);
        let wanted = if score.total >= self.threshold {
            Role::Heavy
        } else {
            Role::Light
        };
        let cmp = if wanted == Role::Heavy { ">=" } else { "<" };
        let verdict = format!(
            "score {:.3} {cmp} threshold {:.3}: {} model",
            score.total,
            self.threshold,
            wanted.as_str()
        );
        let is_installed = |spec: &ModelSpec| installed.contains(&spec.id.as_str());
        let decision = |spec: &ModelSpec, reason: String, pinned, fallback| RouteDecision {
            model_id: spec.id.clone(),
            role: spec.role,
            task: req.task,
            score: score.total,
            threshold: self.threshold,
            factors: score.factors.clone(),
            reason,
            pinned,
            fallback,
        };

        if let Some(id) = pin {
            let spec = manifest.get(id)?;
            if !spec.is_text() {
                let text: Vec<&str> = manifest.text_models().map(|m| m.id.as_str()).collect();
                return Err(CoreError::InvalidInput(format!(
                    "`{id}` is an image model; pin one of the text models: {}",
                    text.join(", ")
                )));
            }
            if !is_installed(spec) {
                return Err(CoreError::ModelNotInstalled {
                    id: spec.id.clone(),
                    installed: installed_list(manifest, installed),
                });
            }
            return Ok(decision(
                spec,
                format!("pinned by the user (the router would pick: {verdict})"),
                true,
                None,
            ));
        }

        let order = match wanted {
            Role::Heavy => [Role::Heavy, Role::Light, Role::Tiny],
            _ => [Role::Light, Role::Heavy, Role::Tiny],
        };
        let Some(spec) = order
            .iter()
            .find_map(|&role| by_preference(manifest, role).find(|s| is_installed(s)))
        else {
            return Err(CoreError::NoModelInstalled);
        };
        if spec.role == wanted {
            return Ok(decision(spec, verdict, false, None));
        }
        let missing = match by_preference(manifest, wanted).next() {
            Some(m) => format!(
                "the router chose {} ({verdict}) but it is not installed; used {} ({}) instead. \
                 Run `vitrine models fetch {}` to install it",
                m.id,
                spec.id,
                spec.role.as_str(),
                m.id
            ),
            None => format!(
                "the router chose a {} model ({verdict}) but the manifest has none; used {} ({}) instead",
                wanted.as_str(),
                spec.id,
                spec.role.as_str()
            ),
        };
        tracing::warn!(wanted = wanted.as_str(), used = %spec.id, "{missing}");
        Ok(decision(
            spec,
            format!(
                "{verdict}; not installed, fell back to the {} model",
                spec.role.as_str()
            ),
            false,
            Some(missing),
        ))
    }
}

/// The manifest's models of a role, its default model first.
fn by_preference(manifest: &Manifest, role: Role) -> impl Iterator<Item = &ModelSpec> {
    let of_role = move |s: &&ModelSpec| s.role == role;
    let defaults = manifest.models.iter().filter(|s| s.default).filter(of_role);
    let others = manifest
        .models
        .iter()
        .filter(|s| !s.default)
        .filter(of_role);
    defaults.chain(others)
}

/// The installed manifest models, for error messages.
fn installed_list(manifest: &Manifest, installed: &[&str]) -> Vec<String> {
    manifest
        .models
        .iter()
        .filter(|s| installed.contains(&s.id.as_str()))
        .map(|s| s.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAVY: &str = "qwen2.5-coder-1.5b";
    const LIGHT: &str = "qwen2.5-coder-0.5b";
    const TINY: &str = "smollm2-135m";

    fn manifest() -> Manifest {
        Manifest::builtin().expect("builtin manifest")
    }

    /// A single-product English listing as the pipeline builds it (the
    /// sample hoodie's prompt is 938 characters).
    fn listing() -> RouteRequest {
        RouteRequest {
            task: TaskKind::Listing,
            input_chars: 950,
            products: 1,
            languages: vec!["en".into()],
            temperature: 0.3,
        }
    }

    fn review_summary() -> RouteRequest {
        RouteRequest {
            task: TaskKind::ReviewSummary,
            input_chars: 1500,
            ..listing()
        }
    }

    fn total(req: &RouteRequest) -> f64 {
        score(req).total
    }

    fn assert_non_decreasing(name: &str, scores: &[f64]) {
        for pair in scores.windows(2) {
            assert!(pair[0] <= pair[1], "{name} lowered the score: {scores:?}");
        }
        assert!(
            scores.first() < scores.last(),
            "{name} has no effect: {scores:?}"
        );
    }

    #[test]
    fn weights_sum_to_one_and_contributions_to_the_total() {
        let s = score(&listing());
        let weights: f64 = s.factors.iter().map(|f| f.weight).sum();
        assert!((weights - 1.0).abs() < 1e-9, "{weights}");
        let sum: f64 = s.factors.iter().map(|f| f.contribution).sum();
        assert!((sum - s.total).abs() < 1e-9);
        let names: Vec<&str> = s.factors.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["task", "languages", "input", "creativity", "products"]
        );
    }

    #[test]
    fn score_stays_within_bounds() {
        let least = RouteRequest {
            task: TaskKind::ProductFacts,
            input_chars: 0,
            products: 0,
            languages: vec![],
            temperature: -3.0,
        };
        let most = RouteRequest {
            task: TaskKind::LivestreamScript,
            input_chars: usize::MAX,
            products: usize::MAX,
            languages: vec!["zh-CN".into(), "ja".into(), "fr".into(), "en".into()],
            temperature: 50.0,
        };
        let nan = RouteRequest {
            temperature: f64::NAN,
            ..listing()
        };
        for req in [&least, &most, &nan] {
            let s = score(req);
            assert!((0.0..=1.0).contains(&s.total), "{req:?}: {}", s.total);
            assert!(s
                .factors
                .iter()
                .all(|f| (0.0..=1.0).contains(&f.value) && f.contribution.is_finite()));
        }
        assert!(total(&least) < 0.05, "{}", total(&least));
        assert!(total(&most) > 0.95, "{}", total(&most));
    }

    #[test]
    fn score_rises_with_each_factor() {
        let mut tasks = TaskKind::ALL.to_vec();
        tasks.sort_by(|a, b| a.difficulty().total_cmp(&b.difficulty()));
        let by_task: Vec<f64> = tasks
            .iter()
            .map(|&task| total(&RouteRequest { task, ..listing() }))
            .collect();
        assert_non_decreasing("task", &by_task);

        let by_chars: Vec<f64> = [0, 100, 1000, 5000, 50_000, 1_000_000]
            .iter()
            .map(|&input_chars| {
                total(&RouteRequest {
                    input_chars,
                    ..listing()
                })
            })
            .collect();
        assert_non_decreasing("input size", &by_chars);

        let by_products: Vec<f64> = [1, 2, 3, 10, 100]
            .iter()
            .map(|&products| {
                total(&RouteRequest {
                    products,
                    ..listing()
                })
            })
            .collect();
        assert_non_decreasing("products", &by_products);

        let by_temperature: Vec<f64> = [0.0, 0.3, 0.7, 1.0, 1.5, 2.0]
            .iter()
            .map(|&temperature| {
                total(&RouteRequest {
                    temperature,
                    ..listing()
                })
            })
            .collect();
        assert_non_decreasing("temperature", &by_temperature);

        let by_languages: Vec<f64> = [
            vec!["en"],
            vec!["fr"],
            vec!["zh-CN"],
            vec!["zh-CN", "en"],
            vec!["zh-CN", "en", "ja"],
        ]
        .iter()
        .map(|langs| {
            total(&RouteRequest {
                languages: langs.iter().map(|l| l.to_string()).collect(),
                ..listing()
            })
        })
        .collect();
        assert_non_decreasing("languages", &by_languages);
    }

    #[test]
    fn default_threshold_sends_listings_heavy_and_simple_tasks_light() {
        let t = DEFAULT_THRESHOLD;
        assert!(total(&listing()) >= t);
        // Even the smallest listing: the task alone clears the threshold.
        let bare = RouteRequest {
            input_chars: 0,
            temperature: 0.0,
            ..listing()
        };
        assert!(total(&bare) >= t, "{}", total(&bare));
        assert!(total(&review_summary()) < t);
        let facts = RouteRequest {
            task: TaskKind::ProductFacts,
            input_chars: 600,
            temperature: 0.0,
            ..listing()
        };
        assert!(total(&facts) < t);
        // Chinese output or a long input make a summary heavy.
        let zh = RouteRequest {
            languages: vec!["zh-CN".into()],
            ..review_summary()
        };
        assert!(total(&zh) >= t);
        let long = RouteRequest {
            input_chars: 20_000,
            ..review_summary()
        };
        assert!(total(&long) >= t);
    }

    #[test]
    fn chooses_by_score_when_all_are_installed() {
        let m = manifest();
        let all = [HEAVY, LIGHT, TINY];
        let r = Router::default();
        let d = r.choose(&listing(), &m, &all, None).unwrap();
        assert_eq!(d.model_id, HEAVY);
        assert_eq!(d.role, Role::Heavy);
        assert!(!d.pinned && d.fallback.is_none());
        assert!(d.reason.contains(">= threshold"), "{}", d.reason);
        assert_eq!(d.threshold, DEFAULT_THRESHOLD);
        assert_eq!(d.score, total(&listing()));

        let d = r.choose(&review_summary(), &m, &all, None).unwrap();
        assert_eq!(d.model_id, LIGHT);
        assert!(d.reason.contains("< threshold"), "{}", d.reason);
        assert!(d.fallback.is_none());
    }

    #[test]
    fn the_threshold_moves_the_boundary() {
        let m = manifest();
        let all = [HEAVY, LIGHT, TINY];
        let always_heavy = Router::new(0.0).unwrap();
        let d = always_heavy
            .choose(&review_summary(), &m, &all, None)
            .unwrap();
        assert_eq!(d.model_id, HEAVY);
        // 0.4: English listings go light, Chinese ones stay heavy.
        let speed = Router::new(0.4).unwrap();
        assert_eq!(
            speed.choose(&listing(), &m, &all, None).unwrap().model_id,
            LIGHT
        );
        let zh = RouteRequest {
            languages: vec!["zh-CN".into()],
            ..listing()
        };
        assert_eq!(speed.choose(&zh, &m, &all, None).unwrap().model_id, HEAVY);
    }

    #[test]
    fn falls_back_with_a_notice_when_the_chosen_model_is_missing() {
        let m = manifest();
        let r = Router::default();

        let d = r.choose(&listing(), &m, &[LIGHT, TINY], None).unwrap();
        assert_eq!(d.model_id, LIGHT, "heavy falls back to light before tiny");
        let notice = d.fallback.expect("a notice");
        assert!(notice.contains(HEAVY), "{notice}");
        assert!(
            notice.contains(&format!("vitrine models fetch {HEAVY}")),
            "{notice}"
        );

        let d = r
            .choose(&review_summary(), &m, &[HEAVY, TINY], None)
            .unwrap();
        assert_eq!(d.model_id, HEAVY, "light falls back to heavy before tiny");
        assert!(d.fallback.expect("a notice").contains(LIGHT));

        for req in [listing(), review_summary()] {
            let d = r.choose(&req, &m, &[TINY], None).unwrap();
            assert_eq!(d.model_id, TINY, "tiny when it is all there is");
            assert_eq!(d.role, Role::Tiny);
            assert!(d.fallback.is_some());
            assert!(d.reason.contains("fell back to the tiny model"));
        }
    }

    #[test]
    fn a_pin_is_used_as_is_or_refused() {
        let m = manifest();
        let r = Router::default();
        let d = r
            .choose(&listing(), &m, &[HEAVY, LIGHT, TINY], Some(TINY))
            .unwrap();
        assert_eq!(d.model_id, TINY);
        assert!(d.pinned && d.fallback.is_none());
        assert!(d.reason.starts_with("pinned"), "{}", d.reason);
        assert_eq!(d.score, total(&listing()), "the score is still recorded");

        let err = r
            .choose(&listing(), &m, &[LIGHT, TINY], Some(HEAVY))
            .unwrap_err();
        assert_eq!(err.code(), "model_not_installed");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("vitrine models fetch {HEAVY}")),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("installed: {LIGHT}, {TINY}")),
            "{msg}"
        );

        let err = r.choose(&listing(), &m, &[], Some(LIGHT)).unwrap_err();
        assert!(err.to_string().contains("installed: none"), "{err}");

        let err = r
            .choose(&listing(), &m, &[HEAVY], Some("gpt-9"))
            .unwrap_err();
        assert_eq!(err.code(), "unknown_model");
    }

    #[test]
    fn no_installed_model_is_an_error_naming_the_fetch_command() {
        let err = Router::default()
            .choose(&listing(), &manifest(), &[], None)
            .unwrap_err();
        assert_eq!(err.code(), "no_model_installed");
        assert!(err.to_string().contains("vitrine models fetch"), "{err}");
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(Router::new(-0.1).is_err());
        assert!(Router::new(1.5).is_err());
        assert!(Router::new(f64::NAN).is_err());
        assert_eq!(Router::parse(" 0.4 ").unwrap().threshold(), 0.4);
        let err = Router::parse("high").unwrap_err();
        assert!(err.to_string().contains(THRESHOLD_ENV), "{err}");
    }

    #[test]
    fn task_kinds_parse_and_decisions_round_trip_through_json() {
        for t in TaskKind::ALL {
            assert_eq!(TaskKind::parse(t.as_str()).unwrap(), t);
        }
        assert_eq!(
            TaskKind::parse("Livestream-Script").unwrap(),
            TaskKind::LivestreamScript
        );
        let err = TaskKind::parse("poem").unwrap_err();
        assert!(err.to_string().contains("listing"), "{err}");

        let d = Router::default()
            .choose(&listing(), &manifest(), &[TINY], None)
            .unwrap();
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["task"], "listing");
        assert_eq!(json["role"], "tiny");
        // Through text, as the store keeps it: the numbers read back exactly.
        let text = serde_json::to_string(&d).unwrap();
        let back: RouteDecision = serde_json::from_str(&text).unwrap();
        assert_eq!(back, d);
    }
}
