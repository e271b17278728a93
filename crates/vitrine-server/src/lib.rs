//! `vitrine serve`: Vitrine's skills over HTTP — a REST API (photos,
//! listings, scripts, review summaries, checks, batches, the review
//! workflow, exports) and an OpenAI-compatible `/v1` on the models Vitrine
//! manages. Handlers call `Studio` and `vitrine_core`; the rules live
//! there. See docs/API.md.

pub mod auth;
pub mod error;
pub mod extract;
pub mod openai;
pub mod openapi;
pub mod routes;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use error::{ApiError, Problem};
pub use state::{AppState, ServerConfig};

/// The whole application: routes, auth, limits, request ids and logs.
pub fn app(state: AppState) -> Router {
    let config = state.config().clone();
    let uploads = DefaultBodyLimit::max(config.max_upload_bytes);
    let api = Router::new()
        .route("/api/me", get(routes::drafts::me))
        .route(
            "/api/photos",
            post(routes::skills::upload_photo).layer(uploads),
        )
        .route("/api/products", get(routes::skills::products))
        .route("/api/products/{id}", get(routes::skills::product))
        .route("/api/products/{id}/analyze", post(routes::skills::analyze))
        .route("/api/products/{id}/listing", post(routes::skills::listing))
        .route("/api/products/{id}/tryon", get(routes::tryon::tryon))
        .route("/api/scripts", post(routes::skills::script))
        .route(
            "/api/reviews/summary",
            post(routes::skills::review_summary).layer(uploads),
        )
        .route("/api/checks", post(routes::skills::check))
        .route("/api/drafts", get(routes::drafts::list))
        .route("/api/drafts/{id}", get(routes::drafts::show))
        .route("/api/drafts/{id}/checks", get(routes::skills::check_draft))
        .route("/api/drafts/{id}/history", get(routes::drafts::history))
        .route(
            "/api/drafts/{id}/comments",
            get(routes::drafts::comments).post(routes::drafts::comment),
        )
        .route("/api/drafts/{id}/approve", post(routes::drafts::approve))
        .route("/api/drafts/{id}/{action}", post(routes::drafts::act))
        .route("/api/audit/verify", get(routes::drafts::audit_verify))
        .route(
            "/api/batches",
            get(routes::batches::list)
                .post(routes::batches::create)
                .layer(uploads),
        )
        .route("/api/batches/{id}", get(routes::batches::status))
        .route("/api/batches/{id}/pause", post(routes::batches::pause))
        .route("/api/batches/{id}/cancel", post(routes::batches::cancel))
        .route("/api/batches/{id}/resume", post(routes::batches::resume))
        .route("/api/exports", post(routes::exports::export))
        .route("/v1/models", get(openai::models))
        .route("/v1/models/{id}", get(openai::model))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    let public = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::document));
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .merge(public)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // JSON bodies; upload routes raise it for themselves.
        .layer(DefaultBodyLimit::max(config.max_json_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        // One line per request at the default level: status
                        // and latency, inside the span that carries the id.
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                        .make_span_with(|req: &Request| {
                            let id = req
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            // The path only: a query string may hold what a
                            // client should not have put there.
                            tracing::info_span!(
                                "request",
                                id = %id,
                                method = %req.method(),
                                path = %req.uri().path(),
                            )
                        }),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(RequestBodyTimeoutLayer::new(config.body_timeout)),
        )
        .with_state(state)
}

/// Liveness, without a token.
#[utoipa::path(get, path = "/health", tag = "meta",
    responses((status = 200, body = Object)))]
pub async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        "no such endpoint; GET /openapi.json lists them",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; GET /openapi.json lists them",
    )
}

/// Serve until `shutdown` resolves; then pause the batches this server
/// runs (they checkpoint) and let open requests finish within the grace
/// period. Slow clients: headers must arrive within `header_timeout`,
/// each piece of a body within `body_timeout`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let config = state.config().clone();
    let app = app(state.clone());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer): (_, SocketAddr) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, go on.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(app.clone());
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: pausing batches, finishing open requests");
    state.pause_batches().await;
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(config.shutdown_grace) => {
            tracing::warn!("open connections did not finish in time; closing them");
        }
    }
    Ok(())
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
