//! The review page of drafts prepared together (the 変更届 of one change made on マイページ,
//! or a 一括申請): every draft with the authorities it goes to (form number, due date, their
//! own additions), what is still missing, uploads on the way (one file can go to every draft
//! that needs it), and "submit all" with a result per draft.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use madoguchi_core::CoreError;
use madoguchi_core::filings::batch::{self, BatchDraft, BatchView, DraftOutcome};
use madoguchi_core::filings::{self};
use madoguchi_core::registry::organisation::display;
use serde::Deserialize;

use super::form_view::FieldView;
use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, layout_for, render};
use crate::auth::SignedIn;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// A changed value, as read.
struct ChangeRow {
    target_name: String,
    label: String,
    before: String,
    after: String,
}

/// What "submit all" did with one draft, in words.
struct OutcomeView {
    title: String,
    ok: bool,
    text: String,
    links: Vec<(String, String)>,
}

struct ReusableFile {
    id: String,
    filename: String,
}

/// A problem of a draft with where to fix it.
struct ProblemLink {
    label: String,
    href: String,
}

struct DraftCard {
    draft: BatchDraft,
    problems: Vec<ProblemLink>,
    /// Other pending drafts of the batch that need each requirement (by requirement id).
    shared_needs: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/batch.html")]
struct BatchPage {
    layout: Layout,
    batch: BatchView,
    heading: String,
    changes: Vec<ChangeRow>,
    drafts: Vec<DraftCard>,
    outcomes: Vec<OutcomeView>,
    reusable: Vec<ReusableFile>,
    /// An upload that failed: (filing id, requirement id, message).
    upload_error: Option<(String, String, String)>,
}

impl BatchPage {
    fn upload_error_for(&self, filing_id: &str, requirement_id: &str) -> Option<&str> {
        self.upload_error
            .as_ref()
            .filter(|(f, r, _)| f == filing_id && r == requirement_id)
            .map(|(_, _, m)| m.as_str())
    }

    /// Whether another pending draft of the batch needs this document too.
    fn shared(&self, card: &DraftCard, requirement_id: &str) -> bool {
        card.shared_needs.iter().any(|r| r == requirement_id)
    }
}

async fn page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    outcomes: Vec<DraftOutcome>,
    upload_error: Option<(String, String, String)>,
    done: Option<&str>,
) -> Result<BatchPage, PageError> {
    let batch = batch::get(&s.app, &session.actor, id).await?;
    let heading = if batch.kind == batch::KIND_CHANGE {
        "変更届の確認と提出".to_string()
    } else {
        format!("一括申請の確認と提出（{}）", batch.procedure_title)
    };
    let changes = batch
        .changes
        .iter()
        .map(|c| ChangeRow {
            target_name: c.target_name.clone(),
            label: c.label.clone(),
            before: display(&c.before),
            after: display(&c.after),
        })
        .collect();
    let titles: Vec<(String, String)> = batch
        .drafts
        .iter()
        .map(|d| (d.filing.id.clone(), d.title.clone()))
        .collect();
    let missing = |d: &BatchDraft| -> Vec<String> {
        d.filing
            .problems
            .iter()
            .filter_map(|p| p.field.strip_prefix("attachments.").map(String::from))
            .collect()
    };
    let all_missing: Vec<(String, Vec<String>)> = batch
        .drafts
        .iter()
        .filter(|d| d.filing.status == "draft")
        .map(|d| (d.filing.id.clone(), missing(d)))
        .collect();
    let drafts = batch
        .drafts
        .iter()
        .cloned()
        .map(|d| {
            let fid = d.filing.id.clone();
            let problems = d
                .filing
                .problems
                .iter()
                .map(|p| ProblemLink {
                    label: p.message.clone(),
                    href: match p.field.strip_prefix("attachments.") {
                        Some(req) => format!("#draft-{fid}-req-{req}"),
                        None => format!("/filings/{fid}/edit#{}", FieldView::id_for(&p.field)),
                    },
                })
                .collect();
            let shared_needs = d
                .requirements
                .iter()
                .map(|r| r.id.clone())
                .filter(|r| {
                    all_missing
                        .iter()
                        .any(|(other, reqs)| *other != fid && reqs.contains(r))
                })
                .collect();
            DraftCard {
                draft: d,
                problems,
                shared_needs,
            }
        })
        .collect();
    let outcomes = outcomes
        .into_iter()
        .map(|o| {
            let title = titles
                .iter()
                .find(|(f, _)| *f == o.filing_id)
                .map(|(_, t)| t.clone())
                .unwrap_or_default();
            let fid = o.filing_id.clone();
            match o.result.as_str() {
                "submitted" => OutcomeView {
                    title,
                    ok: true,
                    text: format!("提出しました。到達番号 {}", o.reference.unwrap_or_default()),
                    links: vec![(format!("/filings/{fid}"), "提出先ごとの状況を見る".into())],
                },
                "already_submitted" => OutcomeView {
                    title,
                    ok: true,
                    text: format!(
                        "すでに提出済みです。到達番号 {}",
                        o.reference.unwrap_or_default()
                    ),
                    links: vec![(format!("/filings/{fid}"), "提出先ごとの状況を見る".into())],
                },
                _ => OutcomeView {
                    title,
                    ok: false,
                    text: o.message.unwrap_or_else(|| {
                        "入力や添付が足りないため、提出していません。".to_string()
                    }),
                    links: o
                        .problems
                        .iter()
                        .map(|p| {
                            let href = match p.field.strip_prefix("attachments.") {
                                Some(req) => format!("#draft-{fid}-req-{req}"),
                                None => {
                                    format!("/filings/{fid}/edit#{}", FieldView::id_for(&p.field))
                                }
                            };
                            (href, p.message.clone())
                        })
                        .collect(),
                },
            }
        })
        .collect();
    let reusable = reusable_files(s, session).await?;
    let mut layout = layout_for(
        session,
        &heading,
        if batch.kind == batch::KIND_CHANGE {
            "/my"
        } else {
            "/bulk/new"
        },
    );
    layout.breadcrumbs = if batch.kind == batch::KIND_CHANGE {
        vec![
            NavItem::new("/my", "法人・事業所の情報"),
            NavItem::new("", heading.clone()).current(true),
        ]
    } else {
        vec![
            NavItem::new("/bulk/new", "一括申請"),
            NavItem::new("", heading.clone()).current(true),
        ]
    };
    layout.flash = match &upload_error {
        Some((_, _, message)) => Some(super::layout::Flash::error(format!(
            "ファイルを添付できませんでした。{message}"
        ))),
        None => super::my::flash(done),
    };
    Ok(BatchPage {
        layout,
        batch,
        heading,
        changes,
        drafts,
        outcomes,
        reusable,
        upload_error,
    })
}

/// Files the corporation uploaded before, newest first, with where they were used.
async fn reusable_files(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
) -> Result<Vec<ReusableFile>, PageError> {
    Ok(filings::reusable_files(&s.app, &session.actor, 50)
        .await?
        .into_iter()
        .map(|a| ReusableFile {
            filename: a.label(),
            id: a.attachment_id,
        })
        .collect())
}

/// `GET /batches/{id}`.
pub async fn show(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    Ok(render(
        &page(&s, &session, &id, Vec::new(), None, q.done.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /batches/{id}/submit`: submits every draft still to be submitted; the page shows
/// the result of each.
pub async fn submit_all(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    axum_extra::extract::Form(f): axum_extra::extract::Form<SubmitForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let outcomes = batch::submit_all(&s.app, &session.actor, &id).await?;
    let all_ok = outcomes.iter().all(|o| o.result != "not_submitted");
    let mut r = render(&page(&s, &session, &id, outcomes, None, None).await?);
    if !all_ok {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// `POST /batches/{id}/attachments`: uploads files (or reuses an uploaded one) for a
/// requirement of one draft, and optionally for every other draft of the batch needing it.
pub async fn upload(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut filing_id = String::new();
    let mut requirement = String::new();
    let mut reuse = String::new();
    let mut also_others = false;
    let mut files: Vec<(String, String, Vec<u8>)> = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(crate::api::multipart_error)?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let filename = field.file_name().unwrap_or("file").to_string();
            let ct = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = field.bytes().await.map_err(crate::api::multipart_error)?;
            if !bytes.is_empty() {
                files.push((filename, ct, bytes.to_vec()));
            }
            continue;
        }
        let text = field.text().await.map_err(crate::api::multipart_error)?;
        match name.as_str() {
            "csrf_token" => csrf = text,
            "filing_id" => filing_id = text,
            "requirement_id" => requirement = text,
            "reuse_attachment_id" => reuse = text,
            "also_others" => also_others = text == "1",
            _ => {}
        }
    }
    check_csrf(&session, &csrf)?;
    let fail = |message: String| (filing_id.clone(), requirement.clone(), message);
    let mut attachment_ids = Vec::new();
    for (name, ct, bytes) in files {
        match filings::upload(&s.app, &session.actor, &name, &ct, bytes).await {
            Ok(a) => attachment_ids.push(a),
            Err(CoreError::Validation(errs)) => {
                let message = errs
                    .into_iter()
                    .map(|e| format!("{name}：{}", e.message))
                    .collect::<Vec<_>>()
                    .join(" ");
                return unprocessable(&s, &session, &id, fail(message)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if attachment_ids.is_empty() && !reuse.is_empty() {
        attachment_ids.push(reuse);
    }
    if attachment_ids.is_empty() {
        return unprocessable(
            &s,
            &session,
            &id,
            fail("添付するファイルを選んでください。".into()),
        )
        .await;
    }
    for a in &attachment_ids {
        match batch::attach(
            &s.app,
            &session.actor,
            &id,
            &filing_id,
            &requirement,
            a,
            also_others,
        )
        .await
        {
            Ok(_) => {}
            Err(CoreError::Validation(errs)) => {
                let message = errs
                    .into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join(" ");
                return unprocessable(&s, &session, &id, fail(message)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Redirect::to(&format!(
        "/batches/{id}?done=uploaded#draft-{filing_id}-req-{requirement}"
    ))
    .into_response())
}

async fn unprocessable(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    error: (String, String, String),
) -> PageResult {
    let mut r = render(&page(s, session, id, Vec::new(), Some(error), None).await?);
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}
