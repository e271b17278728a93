//! The checks on a stored draft, from the store alone: approval in the
//! review workflow and `Studio::check_draft` share them, so a draft is
//! judged the same way whichever path approves it.

use crate::brand::BrandProfile;
use crate::checks;
use crate::error::{CoreError, Result};
use crate::kg::KnowledgeGraph;
use crate::listing::{self, Lang};
use crate::script::{self, Script};
use crate::store::Store;
use crate::types::{Draft, DraftVersion, Fact, Listing};

/// Check a draft's current version against its product's facts, its
/// marketplace and the brand it was written for (when that brand is still
/// stored).
pub async fn check_draft(store: &Store, id: i64) -> Result<Vec<checks::Finding>> {
    let draft = store.draft(id).await?;
    check_current(store, &draft).await
}

/// [`check_draft`] on a draft already loaded.
pub async fn check_current(store: &Store, draft: &Draft) -> Result<Vec<checks::Finding>> {
    let Some(current) = draft.versions.last() else {
        return Ok(Vec::new());
    };
    let brand_name = draft
        .versions
        .iter()
        .rev()
        .find_map(|v| v.provenance.as_ref()?.rules.as_ref()?.brand.clone());
    if draft.kind == script::DRAFT_KIND {
        return check_script_version(store, current, &draft.lang, brand_name.as_deref()).await;
    }
    check_listing(
        store,
        &current.listing,
        Some(draft.product_id),
        &draft.marketplace,
        &draft.lang,
        brand_name.as_deref(),
    )
    .await
}

/// Check a listing (a draft's, or one from a file), against a product's
/// facts when one is given.
pub async fn check_listing(
    store: &Store,
    listing: &Listing,
    product_id: Option<i64>,
    marketplace: &str,
    lang: &str,
    brand: Option<&str>,
) -> Result<Vec<checks::Finding>> {
    let input = CheckInput::load(store, product_id, marketplace, lang, brand).await?;
    Ok(checks::check_listing(listing, &input.context()))
}

/// Check plain text (a script, a summary, any copy) as one field.
pub async fn check_text(
    store: &Store,
    text: &str,
    product_id: Option<i64>,
    lang: &str,
    brand: Option<&str>,
) -> Result<Vec<checks::Finding>> {
    let input = CheckInput::load(store, product_id, "generic", lang, brand).await?;
    let fields = [checks::FieldText {
        field: "text".into(),
        text,
    }];
    Ok(checks::check_fields_of("text", &fields, &input.context()))
}

/// Check a stored script's host lines again, each segment against its
/// product's current facts.
async fn check_script_version(
    store: &Store,
    version: &DraftVersion,
    lang: &str,
    brand: Option<&str>,
) -> Result<Vec<checks::Finding>> {
    let Some(content) = &version.content else {
        return Ok(Vec::new());
    };
    let script: Script = serde_json::from_value(content.clone())
        .map_err(|e| CoreError::InvalidInput(format!("the stored script does not parse: {e}")))?;
    let mut inputs = Vec::with_capacity(script.product_ids.len());
    for id in &script.product_ids {
        inputs.push(CheckInput::load(store, Some(*id), "generic", lang, brand).await?);
    }
    let contexts: Vec<checks::Context> = inputs.iter().map(CheckInput::context).collect();
    Ok(script::check_script(
        &script,
        &contexts,
        script.offer.as_deref(),
    ))
}

/// What a check needs, loaded once.
pub(crate) struct CheckInput {
    mp: listing::Marketplace,
    lang: Lang,
    name: String,
    facts: Vec<Fact>,
    brand: Option<BrandProfile>,
    kg: KnowledgeGraph,
}

impl CheckInput {
    pub(crate) async fn load(
        store: &Store,
        product_id: Option<i64>,
        marketplace: &str,
        lang: &str,
        brand: Option<&str>,
    ) -> Result<CheckInput> {
        let (name, facts) = match product_id {
            Some(id) => {
                let p = store.product(id).await?;
                (p.name, p.facts)
            }
            None => (String::new(), Vec::new()),
        };
        Ok(CheckInput {
            mp: listing::marketplace(marketplace)?,
            lang: Lang::parse(lang)?,
            name,
            facts,
            brand: match brand {
                Some(b) => Some(store.brand(b).await?),
                None => None,
            },
            kg: store.knowledge_graph().await?,
        })
    }

    pub(crate) fn context(&self) -> checks::Context<'_> {
        checks::Context {
            marketplace: &self.mp,
            lang: self.lang,
            facts: &self.facts,
            product_name: &self.name,
            kg: Some(&self.kg),
            brand: self.brand.as_ref(),
        }
    }
}
