//! `vitrine serve`: the HTTP API and the OpenAI-compatible endpoint
//! (crate `vitrine-server`) on 127.0.0.1 unless told otherwise.

use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use clap::Args;
use vitrine_core::studio::idle_unload_after;
use vitrine_server::{AppState, ServerConfig};

use super::Context;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback exposes the API to the
    /// network (tokens still required)
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub bind: SocketAddr,
    /// Largest upload (photo, reviews, catalogue) in MiB
    #[arg(long, default_value_t = 64)]
    pub max_upload_mb: usize,
    /// Requests per second per token (0: no limit)
    #[arg(long, default_value_t = 20)]
    pub rate_limit: u32,
    /// Requests a token may send at once above the rate
    #[arg(long, default_value_t = 40)]
    pub rate_burst: u32,
}

pub async fn run(ctx: &Context, args: ServeArgs) -> Result<()> {
    let studio = ctx.studio().await?;
    let config = ServerConfig {
        max_upload_bytes: args.max_upload_mb.max(1) * 1024 * 1024,
        rate_per_second: args.rate_limit,
        rate_burst: args.rate_burst,
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond this machine: anyone who can reach it and holds a token can use the API");
    }
    let _unloader = studio.spawn_idle_unloader(idle_unload_after());
    let tokens = vitrine_core::api_tokens::tokens(studio.store()).await?;
    if tokens.iter().all(|t| t.revoked_at.is_some()) {
        eprintln!("no API token yet: make one with `vitrine tokens create --role author`");
    }
    eprintln!(
        "Vitrine serving on http://{addr} (OpenAPI: http://{addr}/openapi.json); Ctrl-C stops"
    );
    let state = AppState::new(studio.clone(), config);
    vitrine_server::serve(listener, state, vitrine_server::shutdown_signal()).await?;
    studio.store().close().await;
    eprintln!("stopped");
    Ok(())
}
