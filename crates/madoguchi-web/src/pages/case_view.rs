//! A case laid out for review: the answers by section beside the registry's current values
//! (with the previous version's value where a resubmission changed it), attachments with
//! inline previews and the checklist, designations, the assignee, history with internal notes
//! kept apart; the comparison of two versions; and the preview route for PDF and images.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use madoguchi_core::cases;
use madoguchi_core::cases::assign::Colleague;
use madoguchi_core::cases::diff::CaseDiffView;
use madoguchi_core::cases::view::CaseView;
use madoguchi_core::uploads::preview::{PreviewKind, preview_content_type, preview_kind};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};
use madoguchi_domain::registry::RegistrySnapshot;
use serde::Deserialize;

use super::form::{display, review};
use super::form_view::ErrorSummaryItem;
use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

pub(crate) struct PinOption {
    pub path: String,
    pub label: String,
}

/// One answer of the version under review beside the registry's current value and, after a
/// resubmission, the previous version's answer.
pub(crate) struct CompareRow {
    pub label: String,
    pub value: String,
    pub current: Option<String>,
    /// Differs from the registry: the change being notified.
    pub changed: bool,
    /// The previous version's answer, when this version changed it.
    pub previous: Option<String>,
}

pub(crate) struct CompareSection {
    pub title: String,
    pub rows: Vec<CompareRow>,
    /// Some row has a registry value (otherwise the column is left out).
    pub has_current: bool,
    /// The items of a repeating group (then `rows` is empty).
    pub repeat: Option<CompareRepeat>,
}

/// A repeating group's items as a table: a row per item, a column per field.
pub(crate) struct CompareRepeat {
    pub item_label: String,
    pub columns: Vec<String>,
    pub items: Vec<CompareItem>,
    /// The previous version's number of items, when it differs.
    pub previous_count: Option<usize>,
}

pub(crate) struct CompareItem {
    pub title: String,
    pub cells: Vec<CompareCell>,
    /// Some cell differs from the previous version.
    pub changed: bool,
}

pub(crate) struct CompareCell {
    pub label: String,
    pub value: String,
    /// The previous version's value, when this version changed it.
    pub previous: Option<String>,
}

/// One entry of the history or of the internal notes.
pub(crate) struct HistoryEntry {
    pub label: &'static str,
    pub kind: String,
    pub at: String,
    pub actor_name: String,
    pub version_no: Option<i64>,
    pub message: String,
    pub fields: Vec<String>,
}

/// An attachment with its requirement's label and how it can be previewed.
pub(crate) struct FileEntry {
    pub attachment_id: String,
    pub requirement: String,
    pub filename: String,
    pub size_bytes: i64,
    /// `pdf`, `image` or empty (download only).
    pub preview: &'static str,
}

#[derive(Template)]
#[template(path = "pages/case_detail.html")]
pub(crate) struct CasePage {
    pub layout: Layout,
    pub case: CaseView,
    pub review: Vec<CompareSection>,
    pub files: Vec<FileEntry>,
    pub pins: Vec<PinOption>,
    pub messages: Vec<HistoryEntry>,
    pub notes: Vec<HistoryEntry>,
    pub colleagues: Vec<Colleague>,
    pub me: String,
    pub errors: Vec<ErrorSummaryItem>,
    pub open: bool,
    /// The newest version is shown (decisions apply to it).
    pub latest: bool,
    /// Rows changed since the previous version (after a resubmission).
    pub changed_since_previous: usize,
    /// The return form's message, kept when the page is shown again with a problem.
    pub return_message: String,
}

impl CasePage {
    /// The validation message for one control of the page, shown beside it.
    fn error_for(&self, id: &str) -> Option<&str> {
        super::form_view::message_for(&self.errors, id)
    }
}

/// The definition this authority reviews with: the filing's form version and this
/// authority's local rules (their fields are shown and can be pinned too).
fn reviewed_definition(
    s: &AppState,
    procedure: (&str, &str),
    authority: (&str, &str),
) -> Result<ProcedureDefinition, PageError> {
    let standard = s
        .app
        .catalog
        .get(procedure.0, procedure.1)
        .ok_or_else(|| PageError(AppError::Internal("procedure missing".into())))?;
    let code = authority.0.to_owned();
    let rules = s
        .app
        .catalog
        .local_rules_for(&standard.id, std::slice::from_ref(&code));
    let name = authority.1.to_owned();
    Ok(standard.with_local_rules(&rules, &|_| Some(name.clone())))
}

/// The previous version's displayed value of every changed answer (by path), and its number
/// of items per repeating group whose count changed: from the version comparison.
struct Previous {
    values: BTreeMap<String, String>,
    counts: BTreeMap<String, usize>,
}

fn previous_of(
    def: &ProcedureDefinition,
    d: &CaseDiffView,
    current_counts: &BTreeMap<String, usize>,
) -> Previous {
    let values = d
        .changes
        .iter()
        .map(|c| {
            let shown = def
                .field(&c.field_id)
                .map(|(_, f)| display(f, Some(&c.before)))
                .unwrap_or_default();
            (c.path.clone(), shown)
        })
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for it in &d.items {
        let group = it.path.rsplit_once('.').map(|(g, _)| g).unwrap_or(&it.path);
        let n = counts
            .entry(group.to_owned())
            .or_insert_with(|| current_counts.get(group).copied().unwrap_or_default());
        if it.change == "added" {
            *n = n.saturating_sub(1);
        } else {
            *n += 1;
        }
    }
    Previous { values, counts }
}

pub(crate) async fn case_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    version: Option<i64>,
    errors: Vec<ErrorSummaryItem>,
    done: Option<&str>,
) -> Result<CasePage, PageError> {
    let case = cases::view::get(&s.app, &session.actor, id, version).await?;
    let def = reviewed_definition(
        s,
        (&case.procedure_id, &case.procedure_version),
        (&case.authority_code, &case.authority_name),
    )?;
    let data: FilingData =
        serde_json::from_value(case.data.clone()).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut registry = RegistrySnapshot {
        corporation: case
            .corporation_record
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..Default::default()
    };
    for e in &case.establishments {
        if let Ok(v) = madoguchi_core::registry::view::get(&s.app, &session.actor, &e.id).await {
            registry.establishments.insert(
                e.id.clone(),
                v.record.as_object().cloned().unwrap_or_default(),
            );
        }
    }
    let review = review(&def, &data, &case.establishments, &registry);
    // After a resubmission, what changed since the version before (the version comparison).
    let previous = if case.version_no > 1
        && case
            .versions
            .iter()
            .any(|v| v.version_no == case.version_no - 1)
    {
        let d = cases::diff::diff(
            &s.app,
            &session.actor,
            id,
            Some(case.version_no - 1),
            Some(case.version_no),
        )
        .await?;
        let counts = review
            .iter()
            .filter_map(|sec| sec.repeat.as_ref())
            .map(|r| (r.path.clone(), r.items.len()))
            .collect();
        Some(previous_of(&def, &d, &counts))
    } else {
        None
    };
    let pins = review
        .iter()
        .flat_map(|sec| {
            sec.rows.iter().map(|r| PinOption {
                path: r.path.clone(),
                label: format!("{}：{}", sec.title, r.label),
            })
        })
        .collect();
    let entry = |e: &madoguchi_core::filings::view::EventView| HistoryEntry {
        label: super::event_label(&e.kind),
        kind: e.kind.clone(),
        at: e.at.clone(),
        actor_name: e.actor_name.clone(),
        version_no: e.version_no,
        message: e.message.clone(),
        fields: e
            .fields
            .iter()
            .map(|p| madoguchi_core::cases::field_label(&def, p).unwrap_or_else(|| p.clone()))
            .collect(),
    };
    let notes = case
        .events
        .iter()
        .filter(|e| e.internal)
        .map(entry)
        .collect();
    let messages = case
        .events
        .iter()
        .filter(|e| !e.internal)
        .map(entry)
        .collect();
    let mut changed_since_previous = 0;
    let mut was = |path: &str| {
        let v = previous.as_ref()?.values.get(path)?.clone();
        changed_since_previous += 1;
        Some(v)
    };
    let review = review
        .into_iter()
        .map(|sec| {
            let rows: Vec<CompareRow> = sec
                .rows
                .into_iter()
                .map(|r| CompareRow {
                    previous: was(&r.path),
                    label: r.label,
                    value: r.value,
                    current: r.current,
                    changed: r.changed,
                })
                .collect();
            let repeat = sec.repeat.map(|r| CompareRepeat {
                previous_count: previous
                    .as_ref()
                    .and_then(|p| p.counts.get(&r.path).copied()),
                item_label: r.item_label,
                columns: r.columns,
                items: r
                    .items
                    .into_iter()
                    .map(|item| {
                        let cells: Vec<CompareCell> = item
                            .cells
                            .into_iter()
                            .map(|c| CompareCell {
                                previous: was(&c.path),
                                label: c.label,
                                value: c.value,
                            })
                            .collect();
                        CompareItem {
                            title: item.title,
                            changed: cells.iter().any(|c| c.previous.is_some()),
                            cells,
                        }
                    })
                    .collect(),
            });
            CompareSection {
                title: sec.title,
                has_current: rows.iter().any(|r| r.current.is_some()),
                rows,
                repeat,
            }
        })
        .collect();
    let files = case
        .attachments
        .iter()
        .map(|a| FileEntry {
            attachment_id: a.attachment_id.clone(),
            requirement: def
                .attachment(&a.requirement_id)
                .map(|r| r.label.clone())
                .unwrap_or_else(|| a.requirement_id.clone()),
            filename: a.filename.clone(),
            size_bytes: a.size_bytes,
            preview: match preview_kind(&a.filename) {
                Some(PreviewKind::Pdf) => "pdf",
                Some(PreviewKind::Image) => "image",
                None => "",
            },
        })
        .collect();
    let mut layout = layout_for(
        session,
        &format!("{}（{}）", case.procedure_title, case.corporation_name),
        "/inbox",
    );
    layout.breadcrumbs = vec![
        NavItem {
            href: "/inbox".into(),
            label: "受付箱".into(),
            current: false,
        },
        NavItem {
            href: String::new(),
            label: case.reference.clone(),
            current: true,
        },
    ];
    layout.flash = flash_for(done);
    let latest = case
        .versions
        .iter()
        .map(|v| v.version_no)
        .max()
        .is_none_or(|n| n == case.version_no);
    let open = case.status == "submitted" && latest;
    Ok(CasePage {
        layout,
        colleagues: cases::colleagues(&s.app, &session.actor).await?,
        me: session.actor.user_id.clone(),
        case,
        review,
        files,
        pins,
        messages,
        notes,
        errors,
        open,
        latest,
        changed_since_previous,
        return_message: String::new(),
    })
}

#[derive(Deserialize)]
pub struct CaseQuery {
    version: Option<i64>,
    done: Option<String>,
}

/// `GET /cases/{id}`: also records that the reviewer opened it (the inbox's unread marker).
pub async fn detail(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> PageResult {
    let page = case_page(&s, &session, &id, q.version, Vec::new(), q.done.as_deref()).await?;
    cases::mark_seen(&s.app, &session.actor, &id).await?;
    Ok(render(&page))
}

/// A changed answer as the comparison shows it.
struct DiffRow {
    section: String,
    label: String,
    change: String,
    before: String,
    after: String,
}

/// An added or removed item of a repeating group.
struct DiffItem {
    section: String,
    item_label: String,
    change: String,
    values: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "pages/case_diff.html")]
struct DiffPage {
    layout: Layout,
    diff: CaseDiffView,
    rows: Vec<DiffRow>,
    items: Vec<DiffItem>,
}

#[derive(Deserialize)]
pub struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /cases/{id}/diff?from=1&to=2`: what changed between two versions of the case (without
/// `from`/`to`: the latest version against the one before it).
pub async fn diff(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> PageResult {
    // Left out (or empty), the latest version and the one before it are compared.
    let number = |v: &Option<String>, field: &str| -> Result<Option<i64>, PageError> {
        match v.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(n) => n.parse().map(Some).map_err(|_| {
                PageError(AppError::from(madoguchi_core::CoreError::field(
                    field,
                    "invalid",
                    "比べる版を番号で選んでください。",
                )))
            }),
        }
    };
    let (from, to) = (number(&q.from, "from")?, number(&q.to, "to")?);
    let d = cases::diff::diff(&s.app, &session.actor, &id, from, to).await?;
    let def = reviewed_definition(
        &s,
        (&d.procedure_id, &d.procedure_version),
        (&d.authority_code, &d.authority_name),
    )?;
    let show = |field_id: &str, v: &serde_json::Value| {
        def.field(field_id)
            .map(|(_, f)| display(f, Some(v)))
            .unwrap_or_else(|| v.to_string())
    };
    let label = |c: &str| match c {
        "added" => "入力あり（前の版は未入力）",
        "removed" => "未入力に変更",
        _ => "変更",
    };
    let rows = d
        .changes
        .iter()
        .map(|c| DiffRow {
            section: c.section.clone(),
            label: c.label.clone(),
            change: label(&c.change).into(),
            before: show(&c.field_id, &c.before),
            after: show(&c.field_id, &c.after),
        })
        .collect();
    let items = d
        .items
        .iter()
        .map(|it| DiffItem {
            section: it.section.clone(),
            item_label: it.item_label.clone(),
            change: if it.change == "added" {
                "追加"
            } else {
                "削除"
            }
            .into(),
            values: it
                .values
                .iter()
                .map(|v| (v.label.clone(), show(&v.field_id, &v.value)))
                .collect(),
        })
        .collect();
    let mut layout = layout_for(
        &session,
        &format!(
            "第{}版と第{}版の比較（{}）",
            d.from_version, d.to_version, d.reference
        ),
        "/inbox",
    );
    layout.breadcrumbs = vec![
        NavItem {
            href: "/inbox".into(),
            label: "受付箱".into(),
            current: false,
        },
        NavItem {
            href: format!("/cases/{id}"),
            label: d.reference.clone(),
            current: false,
        },
        NavItem {
            href: String::new(),
            label: "版の比較".into(),
            current: true,
        },
    ];
    Ok(render(&DiffPage {
        layout,
        diff: d,
        rows,
        items,
    }))
}

/// `GET /attachments/{id}/preview`: a PDF, PNG or JPEG the user may see, shown inline — its
/// type judged from its bytes, never sniffed by the browser, sandboxed. A PDF may be framed by
/// our own pages (the case page's `<iframe>`: the one exception to `frame-ancestors 'none'`);
/// images are shown by `<img>`, which needs no framing. Anything else is refused (it can still
/// be downloaded).
pub async fn preview(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    let (row, bytes) = madoguchi_core::filings::download(&s.app, &session.actor, &id).await?;
    let Some(content_type) = preview_content_type(&bytes) else {
        return Err(PageError(AppError::BadRequest {
            code: "not_previewable",
            message: "このファイルは画面に表示できません（表示できるのは PDF・PNG・JPEG です）。ダウンロードしてご覧ください。".into(),
        }));
    };
    let pdf = content_type == "application/pdf";
    let mut r = (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::api::content_disposition("inline", &row.filename),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                if pdf {
                    "sandbox; default-src 'none'; frame-ancestors 'self'"
                } else {
                    "sandbox; default-src 'none'; frame-ancestors 'none'"
                }
                .to_string(),
            ),
        ],
        bytes,
    )
        .into_response();
    if pdf {
        r.headers_mut().insert(
            header::X_FRAME_OPTIONS,
            axum::http::HeaderValue::from_static("SAMEORIGIN"),
        );
    }
    Ok(r)
}
