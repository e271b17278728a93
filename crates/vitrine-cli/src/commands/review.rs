//! `vitrine review`: the brand review workflow on stored drafts (see
//! docs/review.md). The acting profile is `--as NAME` or
//! `VITRINE_PROFILE`, else the OS user's.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use vitrine_core::checks::{Finding, Severity};
use vitrine_core::review::{
    self, BulkAction, DraftFilter, DraftStatus, NewComment, Outcome, Profile,
};
use vitrine_core::{CoreError, Store};

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// Drafts by state, kind, language or marketplace, oldest first
    List {
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long)]
        json: bool,
    },
    /// A draft's current text with its findings and comments inline, and
    /// its history
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Send drafts for review (author and above)
    Submit(DecisionArgs),
    /// Approve drafts (reviewer and above); the checks run again and a
    /// blocking finding refuses approval unless an admin overrides it
    Approve {
        #[command(flatten)]
        decision: DecisionArgs,
        /// Approve despite blocking findings (admins only); the reason and
        /// the findings are recorded in the audit log
        #[arg(long = "override", value_name = "REASON")]
        override_reason: Option<String>,
        /// Every draft the filters select that can be approved
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Send drafts back to their author (reviewer and above)
    RequestChanges(DecisionArgs),
    /// Reject drafts (reviewer and above)
    Reject {
        #[command(flatten)]
        decision: DecisionArgs,
        /// Every draft the filters select that can be rejected
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Bring rejected drafts back to draft (admins only)
    Reopen(DecisionArgs),
    /// Comment on a field of a draft, or a span of its characters
    Comment {
        id: i64,
        /// `title`, `bullets[2]`, `description`… (`review show` lists them)
        #[arg(long)]
        field: String,
        /// Characters START..END of the field (END excluded)
        #[arg(long, value_name = "START..END")]
        span: Option<String>,
        /// The version commented on (default: the current one)
        #[arg(long)]
        version: Option<i64>,
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// What changed between two versions: by word in English, by character
    /// in Chinese
    Diff {
        id: i64,
        /// Default: the version before --to
        #[arg(long)]
        from: Option<i64>,
        /// Default: the current version
        #[arg(long)]
        to: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Store a person's edit as the draft's new version (a listing JSON
    /// file: title, bullets, description, keywords)
    Edit {
        id: i64,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct DecisionArgs {
    /// Draft ids
    ids: Vec<i64>,
    /// A note kept with the decision in the audit log
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Default)]
pub struct FilterArgs {
    /// draft, in_review, approved, changes_requested, rejected, exported
    #[arg(long)]
    status: Option<String>,
    /// listing, script, review_summary…
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    lang: Option<String>,
    #[arg(long)]
    marketplace: Option<String>,
    /// Only drafts of these products (repeatable)
    #[arg(long = "product", value_name = "ID")]
    products: Vec<i64>,
}

impl FilterArgs {
    fn filter(&self, draft_ids: &[i64]) -> Result<DraftFilter> {
        let status = match &self.status {
            Some(s) => Some(DraftStatus::parse(s).with_context(|| {
                format!(
                    "unknown status `{s}`: {}",
                    DraftStatus::ALL.map(|s| s.as_str()).join(", ")
                )
            })?),
            None => None,
        };
        Ok(DraftFilter {
            status,
            kind: self.kind.clone(),
            lang: self.lang.clone(),
            marketplace: self.marketplace.clone(),
            product_ids: self.products.clone(),
            draft_ids: draft_ids.to_vec(),
        })
    }

    fn is_set(&self) -> bool {
        self.status.is_some()
            || self.kind.is_some()
            || self.lang.is_some()
            || self.marketplace.is_some()
            || !self.products.is_empty()
    }
}

pub async fn run(ctx: &Context, cmd: ReviewCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    let store = studio.store();
    match cmd {
        ReviewCommand::List { filter, json } => {
            let drafts = review::list(store, &filter.filter(&[])?).await?;
            if json {
                return print_json(&drafts);
            }
            if drafts.is_empty() {
                println!("No drafts match.");
            }
            for d in &drafts {
                println!(
                    "{:>5}  {:<17} product {:<4} {:<8} {:<6} {:<9} v{}  {}",
                    d.id,
                    d.status,
                    d.product_id,
                    d.kind,
                    d.lang,
                    d.marketplace,
                    d.current_version,
                    d.title
                );
            }
            Ok(())
        }
        ReviewCommand::Show { id, json } => show(store, id, json).await,
        ReviewCommand::Submit(d) => {
            let actor = ctx.actor(store).await?;
            let outcomes = each(&d.ids, |id| {
                let note = d.reason.as_deref();
                let actor = &actor;
                async move {
                    review::submit(store, actor, id, note)
                        .await
                        .map(|d| (d.status, false))
                }
            })
            .await?;
            report(&outcomes, d.json)
        }
        ReviewCommand::RequestChanges(d) => {
            let actor = ctx.actor(store).await?;
            let outcomes = each(&d.ids, |id| {
                let note = d.reason.as_deref();
                let actor = &actor;
                async move {
                    review::request_changes(store, actor, id, note)
                        .await
                        .map(|d| (d.status, false))
                }
            })
            .await?;
            report(&outcomes, d.json)
        }
        ReviewCommand::Reopen(d) => {
            let actor = ctx.actor(store).await?;
            let outcomes = each(&d.ids, |id| {
                let note = d.reason.as_deref();
                let actor = &actor;
                async move {
                    review::reopen(store, actor, id, note)
                        .await
                        .map(|d| (d.status, false))
                }
            })
            .await?;
            report(&outcomes, d.json)
        }
        ReviewCommand::Approve {
            decision,
            override_reason,
            all,
            filter,
        } => {
            let actor = ctx.actor(store).await?;
            approve(
                store,
                &actor,
                &decision,
                override_reason.as_deref(),
                all,
                &filter,
            )
            .await
        }
        ReviewCommand::Reject {
            decision,
            all,
            filter,
        } => {
            let actor = ctx.actor(store).await?;
            if all || filter.is_set() {
                let outcomes = bulk(
                    store,
                    &actor,
                    BulkAction::Reject,
                    &decision,
                    None,
                    all,
                    &filter,
                )
                .await?;
                return report(&outcomes, decision.json);
            }
            let outcomes = each(&decision.ids, |id| {
                let note = decision.reason.as_deref();
                let actor = &actor;
                async move {
                    review::reject(store, actor, id, note)
                        .await
                        .map(|d| (d.status, false))
                }
            })
            .await?;
            report(&outcomes, decision.json)
        }
        ReviewCommand::Comment {
            id,
            field,
            span,
            version,
            text,
            json,
        } => {
            let actor = ctx.actor(store).await?;
            let span = span.as_deref().map(parse_span).transpose()?;
            let comment = review::add_comment(
                store,
                &actor,
                id,
                &NewComment {
                    version,
                    field,
                    span,
                    body: text,
                },
            )
            .await?;
            if json {
                return print_json(&comment);
            }
            println!(
                "Comment {} on draft {} v{} {}{} by {}.",
                comment.id,
                comment.draft_id,
                comment.version,
                comment.field,
                span_text(comment.span),
                comment.author
            );
            Ok(())
        }
        ReviewCommand::Diff { id, from, to, json } => {
            let draft = store.draft(id).await?;
            let current = draft.versions.last().map_or(0, |v| v.version);
            let to = to.unwrap_or(current);
            let from = from.unwrap_or(to - 1);
            if from < 1 {
                bail!("draft {id} has only version {to}: nothing to compare it with (use --from and --to)");
            }
            let diff = review::diff_versions(&draft, from, to)?;
            if json {
                return print_json(&diff);
            }
            println!("draft {id}: version {from} → {to}");
            println!("{}", diff.render());
            Ok(())
        }
        ReviewCommand::Edit { id, file, json } => {
            let actor = ctx.actor(store).await?;
            let text = super::check::read_text(&file)?;
            let content: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", file.display()))?;
            let draft = review::edit(store, &actor, id, &content).await?;
            if json {
                return print_json(&draft);
            }
            println!(
                "Draft {} is now at version {} ({}), edited by {}.",
                draft.id,
                draft.versions.last().map_or(0, |v| v.version),
                draft.status,
                actor.name
            );
            Ok(())
        }
    }
}

/// `review approve` and the `drafts approve` alias.
pub async fn approve(
    store: &Store,
    actor: &Profile,
    decision: &DecisionArgs,
    override_reason: Option<&str>,
    all: bool,
    filter: &FilterArgs,
) -> Result<()> {
    if all || filter.is_set() {
        let outcomes = bulk(
            store,
            actor,
            BulkAction::Approve,
            decision,
            override_reason,
            all,
            filter,
        )
        .await?;
        return report(&outcomes, decision.json);
    }
    let outcomes = each(&decision.ids, |id| {
        let note = decision.reason.as_deref();
        async move {
            review::approve(store, actor, id, note, override_reason)
                .await
                .map(|a| (a.draft.status, a.overridden))
        }
    })
    .await?;
    report(&outcomes, decision.json)
}

impl DecisionArgs {
    /// One draft, as `drafts approve ID` gives it.
    pub fn one(id: i64) -> DecisionArgs {
        DecisionArgs {
            ids: vec![id],
            reason: None,
            json: false,
        }
    }
}

/// The bulk form: the filters, and the ids when some were given too.
async fn bulk(
    store: &Store,
    actor: &Profile,
    action: BulkAction,
    decision: &DecisionArgs,
    override_reason: Option<&str>,
    all: bool,
    filter: &FilterArgs,
) -> Result<Vec<Outcome>> {
    if !all && decision.ids.is_empty() {
        bail!("filters select drafts only with --all (or give draft ids)");
    }
    let filter = filter.filter(&decision.ids)?;
    Ok(review::bulk(
        store,
        actor,
        action,
        &filter,
        decision.reason.as_deref(),
        override_reason,
    )
    .await?)
}

/// Run `action` on each id in turn; a failure is that draft's outcome.
async fn each<F, Fut>(ids: &[i64], mut action: F) -> Result<Vec<Outcome>>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<(String, bool), CoreError>>,
{
    if ids.is_empty() {
        bail!("give at least one draft id");
    }
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        out.push(match action(id).await {
            Ok((status, overridden)) => Outcome {
                draft_id: id,
                ok: true,
                status: Some(status),
                code: None,
                error: None,
                overridden,
            },
            Err(e) => Outcome {
                draft_id: id,
                ok: false,
                status: None,
                code: Some(e.code().to_string()),
                error: Some(e.to_string()),
                overridden: false,
            },
        });
    }
    Ok(out)
}

/// Print the outcomes; fail when any draft failed (after printing all).
fn report(outcomes: &[Outcome], json: bool) -> Result<()> {
    if json {
        print_json(&outcomes)?;
    } else if outcomes.is_empty() {
        println!("No drafts matched.");
    }
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    if !json {
        for o in outcomes {
            match (&o.status, &o.error) {
                (Some(status), _) if o.ok => println!(
                    "Draft {} is {}{}.",
                    o.draft_id,
                    status,
                    if o.overridden {
                        " (blocking findings overridden)"
                    } else {
                        ""
                    }
                ),
                (_, Some(error)) => eprintln!("Draft {}: {error}", o.draft_id),
                _ => {}
            }
        }
    }
    if failed > 0 {
        if outcomes.len() == 1 {
            let o = &outcomes[0];
            if o.code.as_deref() == Some("blocked") {
                bail!(
                    "draft {} was not approved: fix the blocking findings (`vitrine review show {}`), or an admin may approve with --override REASON",
                    o.draft_id,
                    o.draft_id
                );
            }
            bail!("draft {} was not changed", o.draft_id);
        }
        bail!("{failed} of {} draft(s) were not changed", outcomes.len());
    }
    Ok(())
}

#[derive(Serialize)]
struct Shown<'a> {
    draft: &'a vitrine_core::Draft,
    findings: &'a [Finding],
    comments: &'a [review::Comment],
    history: &'a [vitrine_core::audit::AuditRecord],
}

async fn show(store: &Store, id: i64, json: bool) -> Result<()> {
    let draft = store.draft(id).await?;
    let findings = vitrine_core::draft_check::check_current(store, &draft).await?;
    let comments = review::comments(store, id).await?;
    let history = review::history(store, id).await?;
    if json {
        return print_json(&Shown {
            draft: &draft,
            findings: &findings,
            comments: &comments,
            history: &history,
        });
    }
    let Some(current) = draft.versions.last() else {
        bail!("draft {id} has no version");
    };
    println!(
        "draft {} — product {} — {} / {} / {} — {} — version {} of {}",
        draft.id,
        draft.product_id,
        draft.kind,
        draft.lang,
        draft.marketplace,
        draft.status,
        current.version,
        draft.versions.len()
    );
    let fields = review::version_fields(&draft.kind, current);
    for (name, text) in &fields {
        println!("\n{name}: {text}");
        for f in findings.iter().filter(|f| &f.field == name) {
            print_finding(f);
        }
        for c in comments
            .iter()
            .filter(|c| &c.field == name && c.version == current.version)
        {
            println!("   # {}{}: {}", c.author, span_text(c.span), c.body);
        }
    }
    let other: Vec<&Finding> = findings
        .iter()
        .filter(|f| !fields.iter().any(|(n, _)| *n == f.field))
        .collect();
    if !other.is_empty() {
        println!("\nOther findings:");
        for f in other {
            print_finding(f);
        }
    }
    let older: Vec<&review::Comment> = comments
        .iter()
        .filter(|c| c.version != current.version)
        .collect();
    if !older.is_empty() {
        println!("\nComments on earlier versions:");
        for c in older {
            println!(
                "   # v{} {}{} {}: {}",
                c.version,
                c.field,
                span_text(c.span),
                c.author,
                c.body
            );
        }
    }
    println!("\nHistory:");
    for h in &history {
        let mut line = format!("   {}  {:<16} {}", h.at, h.action, h.actor);
        if let (Some(from), Some(to)) = (h.details["from"].as_str(), h.details["to"].as_str()) {
            if from != to {
                line.push_str(&format!("  {from} → {to}"));
            }
        }
        if let Some(note) = h.details["note"].as_str() {
            line.push_str(&format!("  “{note}”"));
        }
        if let Some(reason) = h.details["override"]["reason"].as_str() {
            line.push_str(&format!("  OVERRIDE: {reason}"));
        }
        println!("{line}");
    }
    Ok(())
}

fn print_finding(f: &Finding) {
    let mark = match f.severity {
        Severity::Blocking => "BLOCKING",
        Severity::Warning => "warning",
    };
    println!(
        "   ! {mark} {}{}: {}",
        f.check.as_str(),
        span_text(f.span),
        f.explanation
    );
}

fn span_text(span: Option<(usize, usize)>) -> String {
    span.map(|(s, e)| format!(" [{s}..{e}]"))
        .unwrap_or_default()
}

fn parse_span(s: &str) -> Result<(usize, usize)> {
    let parsed = s
        .split_once("..")
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
    parsed.with_context(|| format!("--span `{s}`: expected START..END, e.g. 0..4"))
}
