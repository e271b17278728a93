// Declares the app's own commands so that tauri-build generates an
// `allow-<command>` permission for each: a command is then callable only
// when a capability (capabilities/main.json) grants it.
const COMMANDS: &[&str] = &[
    "list_products",
    "get_product",
    "get_draft",
    "set_product_fact",
    "fact_options",
    "list_models",
    "get_thumbnail",
    "ingest_photo_path",
    "ingest_photo_bytes",
    "generate_listing",
    "cancel_generation",
    "list_drafts",
    "get_review",
    "diff_versions",
    "review_action",
    "bulk_review",
    "add_comment",
    "edit_draft",
    "app_info",
    "default_export_path",
    "export_listings",
    "generate_script",
    "start_batch",
    "list_batches",
    "batch_detail",
    "pause_batch",
    "cancel_batch",
    "resume_batch",
    "models_overview",
    "fetch_model",
    "get_settings",
    "save_settings",
    "test_remote",
    "summarize_reviews",
    "tryon_prepare",
    "tryon_frame",
    "tryon_save_png",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(err) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {err:#}");
        std::process::exit(1);
    }
}
