//! The review queue's commands: drafts by state, one draft with its
//! findings, comments, audit trail and version diffs, and the workflow's
//! actions. The app acts as the local profile (`VITRINE_PROFILE`, else the
//! OS user's, which the first use creates as an admin), as the CLI does.

use serde::Serialize;
use tauri::State;
use vitrine_core::audit::AuditRecord;
use vitrine_core::checks::Finding;
use vitrine_core::review::{
    self, Action, BulkAction, Comment, DraftFilter, DraftStatus, NewComment, Outcome, Profile,
    VersionDiff,
};
use vitrine_core::{Draft, DraftSummary, Listing, Store};

use crate::error::IpcError;
use crate::state::Shell;

type CmdResult<T> = Result<T, IpcError>;

/// Everything the review screen shows about one draft.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewDetail {
    pub draft: Draft,
    /// The checks run now on the current version (what approval will see).
    pub findings: Vec<Finding>,
    pub comments: Vec<Comment>,
    /// The draft's audit entries, oldest first.
    pub history: Vec<AuditRecord>,
    /// Who the app acts as.
    pub actor: Profile,
    /// The workflow actions this profile may take on the draft now.
    pub actions: Vec<Action>,
}

/// The result of an action: the draft afterwards, and for an approval
/// whether blocking findings were overridden.
#[derive(Debug, Clone, Serialize)]
pub struct ActionOutcome {
    pub draft: Draft,
    pub overridden: bool,
}

/// The actions the buttons offer, in the order they are shown.
const BUTTON_ACTIONS: [Action; 5] = [
    Action::Submit,
    Action::Approve,
    Action::RequestChanges,
    Action::Reject,
    Action::Reopen,
];

/// The actions of [`BUTTON_ACTIONS`] that apply to `status` and that
/// `actor`'s role allows.
pub fn available_actions(status: &str, actor: &Profile) -> Vec<Action> {
    let Some(status) = DraftStatus::parse(status) else {
        return Vec::new();
    };
    BUTTON_ACTIONS
        .into_iter()
        .filter(|a| a.next(status).is_some() && actor.role >= a.min_role())
        .collect()
}

pub async fn actor(store: &Store) -> CmdResult<Profile> {
    let wanted = std::env::var("VITRINE_PROFILE").ok();
    Ok(review::acting_profile(store, wanted.as_deref()).await?)
}

fn parse_status(status: Option<&str>) -> CmdResult<Option<DraftStatus>> {
    match status
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "all")
    {
        None => Ok(None),
        Some(s) => DraftStatus::parse(s)
            .map(Some)
            .ok_or_else(|| IpcError::bad_request(format!("unknown draft status `{s}`"))),
    }
}

/// Listing drafts in one state (all states when `status` is null or
/// `all`), oldest first.
#[tauri::command]
pub async fn list_drafts(
    shell: State<'_, Shell>,
    status: Option<String>,
) -> CmdResult<Vec<DraftSummary>> {
    let studio = shell.studio().await?;
    let filter = DraftFilter {
        status: parse_status(status.as_deref())?,
        kind: Some("listing".into()),
        ..DraftFilter::default()
    };
    Ok(review::list(studio.store(), &filter).await?)
}

#[tauri::command]
pub async fn get_review(shell: State<'_, Shell>, draft_id: i64) -> CmdResult<ReviewDetail> {
    let studio = shell.studio().await?;
    review_detail(studio.store(), draft_id).await
}

async fn review_detail(store: &Store, draft_id: i64) -> CmdResult<ReviewDetail> {
    let draft = store.draft(draft_id).await?;
    let findings = vitrine_core::draft_check::check_current(store, &draft).await?;
    let actor = actor(store).await?;
    Ok(ReviewDetail {
        actions: available_actions(&draft.status, &actor),
        findings,
        comments: review::comments(store, draft_id).await?,
        history: review::history(store, draft_id).await?,
        actor,
        draft,
    })
}

/// What changed between versions `from` and `to`, field by field.
#[tauri::command]
pub async fn diff_versions(
    shell: State<'_, Shell>,
    draft_id: i64,
    from: i64,
    to: i64,
) -> CmdResult<VersionDiff> {
    let studio = shell.studio().await?;
    let draft = studio.draft(draft_id).await?;
    Ok(review::diff_versions(&draft, from, to)?)
}

/// A workflow action: `submit`, `approve`, `request_changes`, `reject` or
/// `reopen`, with an optional note; `overrideReason` lets an admin approve
/// despite blocking findings.
#[tauri::command]
pub async fn review_action(
    shell: State<'_, Shell>,
    draft_id: i64,
    action: String,
    note: Option<String>,
    override_reason: Option<String>,
) -> CmdResult<ActionOutcome> {
    let studio = shell.studio().await?;
    act(
        studio.store(),
        draft_id,
        &action,
        note.as_deref(),
        override_reason.as_deref(),
    )
    .await
}

async fn act(
    store: &Store,
    draft_id: i64,
    action: &str,
    note: Option<&str>,
    override_reason: Option<&str>,
) -> CmdResult<ActionOutcome> {
    let actor = actor(store).await?;
    let override_reason = override_reason.filter(|r| !r.trim().is_empty());
    if override_reason.is_some() && action != "approve" {
        return Err(IpcError::bad_request("an override applies to approve only"));
    }
    let draft = match action {
        "approve" => {
            let approval = review::approve(store, &actor, draft_id, note, override_reason).await?;
            tracing::info!(
                draft_id,
                overridden = approval.overridden,
                "approved in the app"
            );
            return Ok(ActionOutcome {
                draft: approval.draft,
                overridden: approval.overridden,
            });
        }
        "submit" => review::submit(store, &actor, draft_id, note).await?,
        "request_changes" => review::request_changes(store, &actor, draft_id, note).await?,
        "reject" => review::reject(store, &actor, draft_id, note).await?,
        "reopen" => review::reopen(store, &actor, draft_id, note).await?,
        other => {
            return Err(IpcError::bad_request(format!(
                "no action `{other}`: submit, approve, request_changes, reject or reopen"
            )))
        }
    };
    Ok(ActionOutcome {
        draft,
        overridden: false,
    })
}

/// Approve or reject the chosen drafts, each on its own: one that is
/// blocked or in the wrong state is reported in its outcome and the others
/// go on. No override here: blocking findings are overridden one draft at
/// a time, with their reason.
#[tauri::command]
pub async fn bulk_review(
    shell: State<'_, Shell>,
    draft_ids: Vec<i64>,
    action: String,
    note: Option<String>,
) -> CmdResult<Vec<Outcome>> {
    let studio = shell.studio().await?;
    bulk(studio.store(), &draft_ids, &action, note.as_deref()).await
}

async fn bulk(
    store: &Store,
    draft_ids: &[i64],
    action: &str,
    note: Option<&str>,
) -> CmdResult<Vec<Outcome>> {
    let action = match action {
        "approve" => BulkAction::Approve,
        "reject" => BulkAction::Reject,
        other => {
            return Err(IpcError::bad_request(format!(
                "no bulk action `{other}`: approve or reject"
            )))
        }
    };
    if draft_ids.is_empty() {
        return Ok(Vec::new());
    }
    let actor = actor(store).await?;
    let filter = DraftFilter {
        draft_ids: draft_ids.to_vec(),
        kind: Some("listing".into()),
        ..DraftFilter::default()
    };
    let note = note.filter(|n| !n.trim().is_empty());
    Ok(review::bulk(store, &actor, action, &filter, note, None).await?)
}

/// Comment on a field of the draft's current version (`title`,
/// `description`, `bullets[0]`…).
#[tauri::command]
pub async fn add_comment(
    shell: State<'_, Shell>,
    draft_id: i64,
    field: String,
    body: String,
) -> CmdResult<Comment> {
    let studio = shell.studio().await?;
    let store = studio.store();
    let actor = actor(store).await?;
    let comment = NewComment {
        version: None,
        field,
        span: None,
        body,
    };
    Ok(review::add_comment(store, &actor, draft_id, &comment).await?)
}

/// A person's edit of a listing draft: a new version with this text. An
/// approved or in-review draft goes back to `draft`.
#[tauri::command]
pub async fn edit_draft(
    shell: State<'_, Shell>,
    draft_id: i64,
    listing: Listing,
) -> CmdResult<Draft> {
    let studio = shell.studio().await?;
    edit(studio.store(), draft_id, listing).await
}

async fn edit(store: &Store, draft_id: i64, listing: Listing) -> CmdResult<Draft> {
    let listing = Listing {
        title: listing.title.trim().to_string(),
        bullets: tidy(listing.bullets),
        description: listing.description.trim().to_string(),
        keywords: tidy(listing.keywords),
        extra: listing.extra,
    };
    if listing.title.is_empty() {
        return Err(IpcError::new("invalid_input", "a listing needs a title"));
    }
    let actor = actor(store).await?;
    let draft = review::edit(store, &actor, draft_id, &listing).await?;
    tracing::info!(draft_id, "draft edited in the app");
    Ok(draft)
}

/// Trimmed, without empty lines.
fn tidy(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_core::review::Role;

    fn profile(role: Role) -> Profile {
        Profile {
            id: 1,
            name: "ana".into(),
            role,
            created_at: String::new(),
        }
    }

    #[test]
    fn the_buttons_follow_the_state_and_the_role() {
        let admin = profile(Role::Admin);
        let author = profile(Role::Author);
        assert_eq!(
            available_actions("draft", &admin),
            vec![Action::Submit, Action::Approve, Action::Reject]
        );
        assert_eq!(available_actions("draft", &author), vec![Action::Submit]);
        assert_eq!(
            available_actions("in_review", &admin),
            vec![Action::Approve, Action::RequestChanges, Action::Reject]
        );
        assert_eq!(available_actions("rejected", &admin), vec![Action::Reopen]);
        assert!(available_actions("rejected", &author).is_empty());
        assert!(available_actions("exported", &admin).is_empty());
        assert!(available_actions("nonsense", &admin).is_empty());
    }

    #[test]
    fn statuses_are_parsed_and_all_means_none() {
        assert_eq!(parse_status(None).ok(), Some(None));
        assert_eq!(parse_status(Some("all")).ok(), Some(None));
        assert_eq!(
            parse_status(Some("in_review")).ok(),
            Some(Some(DraftStatus::InReview))
        );
        assert_eq!(
            parse_status(Some("bogus")).err().map(|e| e.code),
            Some("bad_request")
        );
    }

    /// The review round trip on a real store: edit, submit, approve (with
    /// an override when the checks block), comment; every step audited.
    #[tokio::test]
    async fn a_draft_goes_through_review() {
        use vitrine_core::store::insert_product;
        let tmp = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&tmp.path().join("vitrine.db"))
            .await
            .expect("open store");
        let mut tx = store.begin_write().await.expect("begin");
        let product = insert_product(&mut tx, "hoodie").await.expect("product");
        tx.commit().await.expect("commit");
        let listing = Listing {
            title: "The perfect navy hoodie".into(),
            bullets: vec!["Soft cotton".into()],
            description: "A warm navy hoodie.".into(),
            keywords: vec!["hoodie".into()],
            extra: Default::default(),
        };
        let provenance: vitrine_core::Provenance = serde_json::from_value(serde_json::json!({
            "model_id": "smollm2-135m",
            "model_sha256": "ab".repeat(32),
            "prompt_sha256": "cd".repeat(32),
            "sampling": {"seed": 1},
            "facts_used": [],
            "prompt_tokens": 10,
            "generated_tokens": 20,
            "time_to_first_token_ms": 5,
            "total_ms": 50,
            "attempts": 1
        }))
        .expect("provenance");
        let draft = store
            .create_draft(product, "listing", "en", "generic", &listing, &provenance)
            .await
            .expect("draft");

        let edited = edit(
            &store,
            draft.id,
            Listing {
                title: "  The perfect <img src=x onerror=alert(1)> hoodie ".into(),
                bullets: vec![" Soft ".into(), "  ".into()],
                ..listing.clone()
            },
        )
        .await
        .expect("edit");
        let current = edited.versions.last().expect("a version");
        assert_eq!(current.version, 2);
        assert_eq!(
            current.listing.title,
            "The perfect <img src=x onerror=alert(1)> hoodie"
        );
        assert_eq!(current.listing.bullets, vec!["Soft".to_string()]);
        let err = edit(
            &store,
            draft.id,
            Listing {
                title: " ".into(),
                ..listing.clone()
            },
        )
        .await
        .expect_err("no title");
        assert_eq!(err.code, "invalid_input");

        let out = act(&store, draft.id, "submit", Some("please"), None)
            .await
            .expect("submit");
        assert_eq!(out.draft.status, "in_review");
        let err = act(&store, draft.id, "submit", None, None)
            .await
            .expect_err("already in review");
        assert_eq!(err.code, "illegal_transition");
        let err = act(&store, draft.id, "reject", None, Some("why"))
            .await
            .expect_err("override is for approve");
        assert_eq!(err.code, "bad_request");
        let err = act(&store, draft.id, "dance", None, None)
            .await
            .expect_err("no such action");
        assert_eq!(err.code, "bad_request");

        // "The perfect" is an absolute claim: the checks block approval
        // until an admin overrides them with a reason.
        let err = act(&store, draft.id, "approve", None, None)
            .await
            .expect_err("blocked");
        assert_eq!(err.code, "blocked", "{err}");
        let approved = act(&store, draft.id, "approve", None, Some("checked by hand"))
            .await
            .expect("override");
        assert_eq!(approved.draft.status, "approved");
        assert!(approved.overridden);

        let detail = review_detail(&store, draft.id).await.expect("detail");
        assert_eq!(detail.actor.role, Role::Admin);
        assert!(detail.actions.is_empty(), "{:?}", detail.actions);
        let actions: Vec<&str> = detail.history.iter().map(|h| h.action.as_str()).collect();
        assert!(
            actions.contains(&"submit") && actions.contains(&"approve"),
            "{actions:?}"
        );

        let store_ref = &store;
        let actor = actor(store_ref).await.expect("actor");
        review::add_comment(
            store_ref,
            &actor,
            draft.id,
            &NewComment {
                version: None,
                field: "title".into(),
                span: None,
                body: "nice".into(),
            },
        )
        .await
        .expect("comment");
        let detail = review_detail(&store, draft.id).await.expect("detail");
        assert_eq!(detail.comments.len(), 1);

        // In bulk: the clean draft is approved, the blocked one reported,
        // the approved one skipped (approve does not apply to it).
        let clean = store
            .create_draft(
                product,
                "listing",
                "en",
                "generic",
                &Listing {
                    title: "Navy cotton hoodie".into(),
                    ..listing.clone()
                },
                &provenance,
            )
            .await
            .expect("draft");
        let blocked = store
            .create_draft(product, "listing", "en", "generic", &listing, &provenance)
            .await
            .expect("draft");
        let out = bulk(&store, &[clean.id, blocked.id, draft.id], "approve", None)
            .await
            .expect("bulk");
        assert_eq!(out.len(), 2, "{out:?}");
        let by_id = |id: i64| out.iter().find(|o| o.draft_id == id).expect("outcome");
        assert!(by_id(clean.id).ok);
        assert_eq!(by_id(clean.id).status.as_deref(), Some("approved"));
        assert!(!by_id(blocked.id).ok);
        assert_eq!(by_id(blocked.id).code.as_deref(), Some("blocked"));
        let out = bulk(&store, &[blocked.id], "reject", Some("superlative"))
            .await
            .expect("reject");
        assert_eq!(out[0].status.as_deref(), Some("rejected"));
        assert!(bulk(&store, &[], "approve", None)
            .await
            .expect("nothing")
            .is_empty());
        assert_eq!(
            bulk(&store, &[clean.id], "submit", None)
                .await
                .err()
                .map(|e| e.code),
            Some("bad_request")
        );
        store.close().await;
    }
}
