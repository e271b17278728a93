//! Vitrine's desktop app: a Tauri shell over `vitrine-core`. It opens the
//! Studio once, exposes it through typed commands and streams long work to
//! the page as events. Business logic lives in the core, not here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod batch_cmds;
mod commands;
mod error;
mod export_cmds;
mod fact_options;
mod models_cmds;
mod review_cmds;
mod reviews_cmds;
mod settings_cmds;
mod state;
mod tryon_cmds;
#[cfg(target_os = "linux")]
mod webkit_compositing;

use tauri::{DragDropEvent, Manager, WebviewEvent, WindowEvent};
use tracing_subscriber::EnvFilter;

use crate::error::IpcError;
use crate::state::Shell;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new("warn,vitrine_app=info,vitrine_core=info,vitrine_infer=info")
        }))
        .with_writer(std::io::stderr)
        .init();
    // Before any thread starts and before the webview's process is spawned.
    #[cfg(target_os = "linux")]
    webkit_compositing::apply();

    // VITRINE_DATA_DIR / VITRINE_MODELS_DIR, else the platform's data dir.
    // A failure is kept and reported to the page by every command.
    let dirs = vitrine_core::DataDir::resolve(None).map_err(IpcError::from);
    if let Err(err) = &dirs {
        tracing::error!(code = err.code, "{err}");
    }
    let settings = dirs
        .as_ref()
        .map(|d| settings_cmds::load(&settings_cmds::settings_path(d.root())))
        .unwrap_or_default();
    if let Some(n) = settings.threads {
        // The engines size their CPU thread pools from this when a model
        // loads (candle's global pool only once), so it is set before any
        // thread starts; an explicit RAYON_NUM_THREADS still wins.
        if std::env::var_os("RAYON_NUM_THREADS").is_none() {
            std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        }
    }

    let result = tauri::Builder::default()
        .manage(Shell::new(dirs, settings))
        .manage(std::sync::Arc::new(tryon_cmds::TryOnState::default()))
        .setup(|app| {
            // Open the Studio (database, migrations) in the background right
            // away; commands that arrive first wait for the same open.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                match handle.state::<Shell>().studio().await {
                    Ok(_) => tracing::info!("studio ready"),
                    Err(err) => tracing::error!(code = err.code, "cannot open the studio: {err}"),
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| match event {
            WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) => {
                window.state::<Shell>().remember_dropped(paths);
            }
            WindowEvent::Destroyed => {
                window.state::<Shell>().cancel(None);
            }
            _ => {}
        })
        .on_webview_event(|webview, event| {
            if let WebviewEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                webview.state::<Shell>().remember_dropped(paths);
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::list_products,
            commands::get_product,
            commands::get_draft,
            commands::set_product_fact,
            commands::fact_options,
            commands::list_models,
            commands::get_thumbnail,
            commands::ingest_photo_path,
            commands::ingest_photo_bytes,
            commands::generate_listing,
            commands::cancel_generation,
            commands::generate_script,
            review_cmds::list_drafts,
            review_cmds::get_review,
            review_cmds::diff_versions,
            review_cmds::review_action,
            review_cmds::bulk_review,
            review_cmds::add_comment,
            review_cmds::edit_draft,
            export_cmds::app_info,
            export_cmds::default_export_path,
            export_cmds::export_listings,
            batch_cmds::start_batch,
            batch_cmds::list_batches,
            batch_cmds::batch_detail,
            batch_cmds::pause_batch,
            batch_cmds::cancel_batch,
            batch_cmds::resume_batch,
            models_cmds::models_overview,
            models_cmds::fetch_model,
            settings_cmds::get_settings,
            settings_cmds::save_settings,
            settings_cmds::test_remote,
            reviews_cmds::summarize_reviews,
            tryon_cmds::tryon_prepare,
            tryon_cmds::tryon_frame,
            tryon_cmds::tryon_save_png,
        ])
        .run(tauri::generate_context!());

    if let Err(err) = result {
        tracing::error!("the app stopped with an error: {err}");
        std::process::exit(1);
    }
}
