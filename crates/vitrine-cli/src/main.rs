//! `vitrine`: Vitrine from the command line.

mod bench;
mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vitrine",
    version,
    about = "Local-first AI content studio for e-commerce"
)]
struct Cli {
    /// Where Vitrine keeps its database and photo copies [env: VITRINE_DATA_DIR]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Where model weights live (default: <data dir>/models) [env: VITRINE_MODELS_DIR]
    #[arg(long, global = true)]
    models_dir: Option<PathBuf>,
    /// CPU threads for inference (default: all cores)
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Inference device: auto, cpu, cuda, metal [env: VITRINE_DEVICE]
    #[arg(long, global = true)]
    device: Option<String>,
    /// Generate on this OpenAI-compatible server (vLLM, llama.cpp) instead
    /// of a local model; needs --remote-model. An API key, if the server
    /// wants one, comes from VITRINE_REMOTE_API_KEY
    #[arg(long, global = true, env = "VITRINE_REMOTE_URL", value_name = "URL")]
    remote_url: Option<String>,
    /// The model name the remote server serves
    #[arg(long, global = true, env = "VITRINE_REMOTE_MODEL", value_name = "NAME")]
    remote_model: Option<String>,
    /// The profile to act as in the review workflow (default: the OS
    /// user's; see `vitrine profiles list`)
    #[arg(
        long = "as",
        global = true,
        env = "VITRINE_PROFILE",
        value_name = "PROFILE"
    )]
    acting: Option<String>,
    /// More log output (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest product photos and write a listing for each
    Listing(commands::listing::ListingArgs),
    /// Write a timed livestream sales script for products or photos
    Script(commands::script::ScriptArgs),
    /// Analyse product photos: category, colours and cut-out, stored as facts
    Analyze(commands::analyze::AnalyzeArgs),
    /// Measure quality against labelled data
    Eval {
        #[command(subcommand)]
        command: commands::eval::EvalCommand,
    },
    /// Customer reviews: summarize
    Reviews {
        #[command(subcommand)]
        command: commands::reviews::ReviewsCommand,
    },
    /// Show which model a request would run on, and its complexity score
    Route(commands::route::RouteArgs),
    /// Products in the store
    Products {
        #[command(subcommand)]
        command: commands::products::ProductsCommand,
    },
    /// Check a draft or a file: marketplace limits, banned words,
    /// contradictions with the facts, unsupported specs, language, brand
    Check(commands::check::CheckArgs),
    /// Brand profiles: import, list, show, export
    Brand {
        #[command(subcommand)]
        command: commands::brand::BrandCommand,
    },
    /// Batches: generate copy for a whole catalogue (run, resume, status,
    /// pause, cancel, list)
    Batch {
        #[command(subcommand)]
        command: commands::batch::BatchCommand,
    },
    /// Export approved listings: Shopify product CSV, Amazon flat file,
    /// JSON, Markdown or HTML preview
    Export(commands::export::ExportArgs),
    /// Drafts in the store
    Drafts {
        #[command(subcommand)]
        command: commands::drafts::DraftsCommand,
    },
    /// The review workflow: list, show, submit, approve, request changes,
    /// reject, comment, diff, edit
    Review {
        #[command(subcommand)]
        command: commands::review::ReviewCommand,
    },
    /// Profiles for the review workflow: add, list
    Profiles {
        #[command(subcommand)]
        command: commands::profiles::ProfilesCommand,
    },
    /// Bearer tokens for `vitrine serve`: create, list, revoke
    Tokens {
        #[command(subcommand)]
        command: commands::tokens::TokensCommand,
    },
    /// Serve the skills over HTTP (REST + OpenAI-compatible /v1) on
    /// 127.0.0.1:8787
    Serve(commands::serve::ServeArgs),
    /// The audit log: log, verify
    Audit {
        #[command(subcommand)]
        command: commands::audit::AuditCommand,
    },
    /// Models: list, fetch, verify
    Models {
        #[command(subcommand)]
        command: commands::models::ModelsCommand,
    },
    /// Sample product photos: fetch and verify
    Samples {
        #[command(subcommand)]
        command: commands::samples::SamplesCommand,
    },
    /// The product knowledge graph: stats, show, export, import
    Kg {
        #[command(subcommand)]
        command: commands::kg::KgCommand,
    },
    /// The generation cache: stats, clear
    Cache {
        #[command(subcommand)]
        command: commands::cache::CacheCommand,
    },
    /// A 3D try-on preview of a product photo on a mannequin
    Tryon(commands::tryon::TryOnArgs),
    /// Benchmark the engine against llama.cpp on the same GGUF files
    Bench(bench::BenchArgs),
    /// One timed engine run for `vitrine bench` (reads a request on stdin)
    #[command(hide = true)]
    BenchWorker,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server's request log is what its operator reads: info by default.
    let floor = u8::from(matches!(cli.command, Command::Serve(_)));
    init_logging(cli.verbose.max(floor));
    if let Some(n) = cli.threads {
        // candle's CPU kernels use rayon's global pool; it reads this once,
        // on first use, which has not happened yet.
        std::env::set_var("RAYON_NUM_THREADS", n.max(1).to_string());
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctx = commands::Context {
        data_dir: cli.data_dir,
        models_dir: cli.models_dir,
        device: cli.device,
        remote_url: cli.remote_url,
        remote_model: cli.remote_model,
        profile: cli.acting,
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Listing(args) => commands::listing::run(&ctx, args).await,
            Command::Reviews { command } => commands::reviews::run(&ctx, command).await,
            Command::Script(args) => commands::script::run(&ctx, args).await,
            Command::Route(args) => commands::route::run(&ctx, args).await,
            Command::Analyze(args) => commands::analyze::run(&ctx, args).await,
            Command::Eval { command } => commands::eval::run(&ctx, command).await,
            Command::Products { command } => commands::products::run(&ctx, command).await,
            Command::Drafts { command } => commands::drafts::run(&ctx, command).await,
            Command::Batch { command } => commands::batch::run(&ctx, command).await,
            Command::Export(args) => commands::export::run(&ctx, args).await,
            Command::Review { command } => commands::review::run(&ctx, command).await,
            Command::Profiles { command } => commands::profiles::run(&ctx, command).await,
            Command::Audit { command } => commands::audit::run(&ctx, command).await,
            Command::Tokens { command } => commands::tokens::run(&ctx, command).await,
            Command::Serve(args) => commands::serve::run(&ctx, args).await,
            Command::Check(args) => commands::check::run(&ctx, args).await,
            Command::Brand { command } => commands::brand::run(&ctx, command).await,
            Command::Models { command } => commands::models::run(&ctx, command).await,
            Command::Samples { command } => commands::samples::run(&ctx, command).await,
            Command::Cache { command } => commands::cache::run(&ctx, command).await,
            Command::Kg { command } => commands::kg::run(&ctx, command).await,
            Command::Tryon(args) => commands::tryon::run(&ctx, args).await,
            Command::Bench(args) => bench::run(&ctx, args).await,
            Command::BenchWorker => bench::worker(&ctx),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,vitrine=info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VITRINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only for people: logs piped to files stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
}
