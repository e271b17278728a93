//! The Tauri commands: each one unpacks its arguments, calls the Studio and
//! hands back the core's serde types. No business logic lives here.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Emitter, State, Window};
use vitrine_core::studio::{GenerationEvent, ListingRequest};
use vitrine_core::{Draft, Fact, IngestOutcome, ProductDetail, ProductSummary, Store};
use vitrine_infer::ModelStatus;

use crate::error::IpcError;
use crate::fact_options::FactOptions;
use crate::state::Shell;

/// The event that carries generation progress to the page.
pub const LISTING_EVENT: &str = "listing://event";

/// Header of `ingest_photo_bytes` with the file's name, percent-encoded.
const FILE_NAME_HEADER: &str = "x-vitrine-file-name";

/// Thumbnails are at most 256 px on a side; anything bigger is not one.
const MAX_THUMBNAIL_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListingEventPayload {
    pub product_id: i64,
    pub event: GenerationEvent,
}

type CmdResult<T> = Result<T, IpcError>;

#[tauri::command]
pub async fn list_products(shell: State<'_, Shell>) -> CmdResult<Vec<ProductSummary>> {
    Ok(shell.studio().await?.products().await?)
}

#[tauri::command]
pub async fn get_product(shell: State<'_, Shell>, id: i64) -> CmdResult<ProductDetail> {
    Ok(shell.studio().await?.product(id).await?)
}

#[tauri::command]
pub async fn get_draft(shell: State<'_, Shell>, id: i64) -> CmdResult<Draft> {
    Ok(shell.studio().await?.draft(id).await?)
}

#[tauri::command]
pub async fn list_models(shell: State<'_, Shell>) -> CmdResult<Vec<ModelStatus>> {
    Ok(shell.studio().await?.models())
}

/// Set what the user says a product's `key` is (`category` or an attribute
/// of the knowledge graph), replacing their earlier values for it; no values
/// clears them. Resolves with all the product's facts. Values the graph does
/// not know are refused (`invalid_input`), naming the allowed ones.
#[tauri::command]
pub async fn set_product_fact(
    shell: State<'_, Shell>,
    product_id: i64,
    key: String,
    values: Vec<String>,
) -> CmdResult<Vec<Fact>> {
    let studio = shell.studio().await?;
    set_fact(studio.store(), product_id, &key, &values).await
}

async fn set_fact(
    store: &Store,
    product_id: i64,
    key: &str,
    values: &[String],
) -> CmdResult<Vec<Fact>> {
    let facts = store.set_user_facts(product_id, key, values).await?;
    tracing::info!(product_id, key, count = values.len(), "the user set a fact");
    Ok(facts)
}

/// What the facts editor may offer for a product: the keys for its current
/// category with their allowed values, and the category tree.
#[tauri::command]
pub async fn fact_options(shell: State<'_, Shell>, product_id: i64) -> CmdResult<FactOptions> {
    let studio = shell.studio().await?;
    options_for(studio.store(), product_id).await
}

async fn options_for(store: &Store, product_id: i64) -> CmdResult<FactOptions> {
    let facts = store.product(product_id).await?.facts;
    let kg = store.knowledge_graph().await?;
    Ok(crate::fact_options::fact_options(&kg, &facts))
}

/// Ingest a file the user dropped on the window. Only paths that came from a
/// native drop are accepted, so the page cannot make the app read arbitrary files.
#[tauri::command]
pub async fn ingest_photo_path(shell: State<'_, Shell>, path: PathBuf) -> CmdResult<IngestOutcome> {
    if !shell.was_dropped(&path) {
        return Err(IpcError::forbidden(format!(
            "{}: only files dropped on the window can be added by path",
            path.display()
        )));
    }
    Ok(shell.studio().await?.ingest_path(&path).await?)
}

/// Ingest a file chosen with the page's file input. The body is the file's
/// raw bytes (no JSON), the name travels in the `x-vitrine-file-name` header.
#[tauri::command]
pub async fn ingest_photo_bytes(
    shell: State<'_, Shell>,
    request: Request<'_>,
) -> CmdResult<IngestOutcome> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(IpcError::bad_request(
            "ingest_photo_bytes expects the file's bytes as a raw body",
        ));
    };
    let name = file_name_from_header(
        request
            .headers()
            .get(FILE_NAME_HEADER)
            .map(|v| v.as_bytes()),
    )?;
    let bytes = bytes.clone();
    Ok(shell.studio().await?.ingest_bytes(&name, bytes).await?)
}

fn file_name_from_header(raw: Option<&[u8]>) -> CmdResult<String> {
    let raw =
        raw.ok_or_else(|| IpcError::bad_request(format!("missing {FILE_NAME_HEADER} header")))?;
    let decoded = percent_decode(raw)
        .ok_or_else(|| IpcError::bad_request("the file name is not valid UTF-8"))?;
    // Keep only the last path component: it is a label, never a path.
    let name = decoded
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim();
    if name.is_empty() {
        return Err(IpcError::bad_request("the file has no name"));
    }
    Ok(name.chars().filter(|c| !c.is_control()).take(255).collect())
}

fn percent_decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = raw
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A photo's thumbnail as a `data:` URL, so the page's CSP can stay at
/// `img-src 'self' data:`. Only files inside the data dir's thumbnail folder are served.
#[tauri::command]
pub async fn get_thumbnail(shell: State<'_, Shell>, path: PathBuf) -> CmdResult<String> {
    let studio = shell.studio().await?;
    let thumbs = studio.dirs().thumbs_dir();
    let (bytes, mime) = read_thumbnail(&thumbs, &path).await?;
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

async fn read_thumbnail(thumbs: &Path, path: &Path) -> CmdResult<(Vec<u8>, &'static str)> {
    let not_a_thumbnail = || {
        IpcError::forbidden(format!(
            "{}: not a thumbnail of this library",
            path.display()
        ))
    };
    let root = tokio::fs::canonicalize(thumbs)
        .await
        .map_err(|_| not_a_thumbnail())?;
    let file = tokio::fs::canonicalize(path)
        .await
        .map_err(|_| not_a_thumbnail())?;
    if !file.starts_with(&root) {
        return Err(not_a_thumbnail());
    }
    let meta = tokio::fs::metadata(&file)
        .await
        .map_err(|_| not_a_thumbnail())?;
    if !meta.is_file() || meta.len() > MAX_THUMBNAIL_BYTES {
        return Err(not_a_thumbnail());
    }
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|e| IpcError::new("io", format!("{}: {e}", path.display())))?;
    let mime = image_mime(&bytes).ok_or_else(not_a_thumbnail)?;
    Ok((bytes, mime))
}

fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Generate a listing for a product, streaming progress as `listing://event`
/// to the calling window; resolves with the stored draft.
#[tauri::command]
pub async fn generate_listing(
    app: AppHandle,
    window: Window,
    shell: State<'_, Shell>,
    product_id: i64,
    lang: String,
    marketplace: String,
    model: Option<String>,
) -> CmdResult<Draft> {
    let studio = shell.studio().await?;
    let guard = shell.start_generation(product_id).ok_or_else(|| {
        IpcError::busy(format!(
            "a listing for product {product_id} is already being generated"
        ))
    })?;
    let on_event = forward_events(app, &window, product_id);
    // Each press of Generate is a new variant: a fresh seed, which the
    // draft's provenance records so the text stays reproducible.
    let mut params = vitrine_core::studio::listing_params();
    params.seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(params.seed);
    let request = ListingRequest {
        product_id,
        lang,
        marketplace,
        model: model.filter(|m| !m.is_empty()),
        params: Some(params),
        use_cache: true,
        batch_item: None,
        brand: None,
    };
    let draft = studio
        .generate_listing(request, on_event, guard.token())
        .await?;
    tracing::info!(product_id, draft_id = draft.id, "listing generated");
    Ok(draft)
}

/// Sends a generation's events to the window that asked for it, on
/// `listing://event` (listings and scripts stream alike).
fn forward_events(
    app: AppHandle,
    window: &Window,
    product_id: i64,
) -> Box<dyn FnMut(GenerationEvent) + Send> {
    let label = window.label().to_string();
    Box::new(move |event: GenerationEvent| {
        let payload = ListingEventPayload { product_id, event };
        if let Err(err) = app.emit_to(label.as_str(), LISTING_EVENT, payload) {
            tracing::warn!(%err, "could not send a generation event to the window");
        }
    })
}

/// Write a livestream script for one product (the core's script pipeline),
/// streaming like a listing on `listing://event`; resolves with the stored
/// `script` draft. It shares the product's generation slot with listings,
/// so Cancel stops whichever runs.
// The arguments are the IPC request's fields, as for generate_listing.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn generate_script(
    app: AppHandle,
    window: Window,
    shell: State<'_, Shell>,
    product_id: i64,
    lang: String,
    minutes: Option<f64>,
    offer: Option<String>,
    model: Option<String>,
) -> CmdResult<Draft> {
    let studio = shell.studio().await?;
    let guard = shell.start_generation(product_id).ok_or_else(|| {
        IpcError::busy(format!(
            "a text for product {product_id} is already being generated"
        ))
    })?;
    let on_event = forward_events(app, &window, product_id);
    let request = vitrine_core::script::ScriptRequest {
        product_ids: vec![product_id],
        lang,
        minutes,
        offer: offer.filter(|o| !o.trim().is_empty()),
        brand: None,
        model: model.filter(|m| !m.is_empty()),
        params: None,
        use_cache: true,
        batch_item: None,
    };
    let draft = studio
        .generate_script(request, on_event, guard.token())
        .await?;
    tracing::info!(product_id, draft_id = draft.id, "script generated");
    Ok(draft)
}

/// Cancel the running generation of a product (or all when `productId` is
/// null); resolves true when something was running.
#[tauri::command]
pub fn cancel_generation(shell: State<'_, Shell>, product_id: Option<i64>) -> bool {
    shell.cancel(product_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_decoded_and_reduced_to_a_label() {
        assert_eq!(
            file_name_from_header(Some(b"hoodie%20navy.png"))
                .ok()
                .as_deref(),
            Some("hoodie navy.png")
        );
        assert_eq!(
            file_name_from_header(Some("%E8%A1%A3.jpg".as_bytes()))
                .ok()
                .as_deref(),
            Some("衣.jpg")
        );
        assert_eq!(
            file_name_from_header(Some(b"..%2F..%2Fetc%2Fpasswd"))
                .ok()
                .as_deref(),
            Some("passwd")
        );
        assert_eq!(
            file_name_from_header(Some(b"a%0Ab.png")).ok().as_deref(),
            Some("ab.png")
        );
        assert!(file_name_from_header(None).is_err());
        assert!(file_name_from_header(Some(b"")).is_err());
        assert!(file_name_from_header(Some(b"%FF.png")).is_err());
        assert!(file_name_from_header(Some(b"bad%zz")).is_err());
        assert!(file_name_from_header(Some(b"bad%+f")).is_err());
        assert!(file_name_from_header(Some(b"end%")).is_err());
    }

    #[test]
    fn thumbnails_are_recognised_by_their_bytes() {
        assert_eq!(image_mime(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_mime(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_mime(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_mime(b"<svg onload=alert(1)>"), None);
    }

    /// The editor's round trip on a real store: the classifier's category
    /// drives the options until the user sets another, which then wins;
    /// values the graph does not know come back as a typed error.
    #[tokio::test]
    async fn the_user_edits_facts_and_the_options_follow_the_category() {
        use vitrine_core::store::{insert_product, NewFact};
        use vitrine_core::FactSource;
        let tmp = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&tmp.path().join("vitrine.db"))
            .await
            .expect("open store");
        let mut tx = store.begin_write().await.expect("begin");
        let id = insert_product(&mut tx, "hoodie").await.expect("product");
        tx.commit().await.expect("commit");
        store
            .add_fact(&NewFact {
                product_id: id,
                key: "category".into(),
                value: "apparel.tops.hoodies".into(),
                label_en: "Hoodies & sweatshirts".into(),
                label_zh: "卫衣".into(),
                source: FactSource::Classifier,
                confidence: 0.53,
                data: serde_json::json!({}),
            })
            .await
            .expect("fact");

        let o = options_for(&store, id).await.expect("options");
        assert_eq!(o.category.as_deref(), Some("apparel.tops.hoodies"));
        assert!(o.keys.iter().any(|k| k.key == "sleeve_length"));

        let facts = set_fact(&store, id, "category", &["饮料".into()])
            .await
            .expect("set the category by a Chinese synonym");
        let user: Vec<_> = facts
            .iter()
            .filter(|f| f.key == "category" && f.source == FactSource::User)
            .collect();
        assert_eq!(user.len(), 1, "{facts:?}");
        assert_eq!(user[0].value, "food_drink");
        let o = options_for(&store, id).await.expect("options");
        assert_eq!(o.category.as_deref(), Some(user[0].value.as_str()));
        assert_eq!(o.category_source, Some(FactSource::User));
        assert!(!o.keys.iter().any(|k| k.key == "sleeve_length"));

        let err = set_fact(&store, id, "colour", &["plaid-ish".into()])
            .await
            .expect_err("not a colour");
        assert_eq!(err.code, "invalid_input");
        assert!(err.message.contains("navy"), "{}", err.message);
        let err = options_for(&store, id + 1).await.expect_err("no product");
        assert_eq!(err.code, "not_found");

        let facts = set_fact(&store, id, "category", &[]).await.expect("clear");
        assert!(!facts.iter().any(|f| f.source == FactSource::User));
        store.close().await;
    }

    #[tokio::test]
    async fn only_files_under_the_thumbnail_dir_are_served() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        let thumbs = dir.join("thumbs");
        std::fs::create_dir_all(&thumbs).expect("mkdir");
        let inside = thumbs.join("a.png");
        std::fs::write(&inside, b"\x89PNG\r\n\x1a\nrest").expect("write");
        let outside = dir.join("secret.png");
        std::fs::write(&outside, b"\x89PNG\r\n\x1a\nrest").expect("write");
        let sneaky = thumbs.join("..").join("secret.png");

        assert!(read_thumbnail(&thumbs, &inside).await.is_ok());
        assert_eq!(
            read_thumbnail(&thumbs, &outside)
                .await
                .err()
                .map(|e| e.code),
            Some("forbidden")
        );
        assert_eq!(
            read_thumbnail(&thumbs, &sneaky).await.err().map(|e| e.code),
            Some("forbidden")
        );
        assert_eq!(
            read_thumbnail(&thumbs, Path::new("/etc/passwd"))
                .await
                .err()
                .map(|e| e.code),
            Some("forbidden")
        );
    }
}
