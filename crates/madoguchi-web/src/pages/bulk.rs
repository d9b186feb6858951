//! 一括申請: choose a procedure and several establishments (one draft each, see
//! `filings::bulk`), then answer them on one page — shared answers once, each establishment's
//! own answers (and, where one establishment differs, its own answer to a shared question) —
//! and review and submit them together on the batch page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::filings::batch::{self, BatchSummary};
use madoguchi_core::filings::bulk::{self, BulkRequest, DraftAnswers};
use madoguchi_core::filings::view::{FilingView, Problem};
use madoguchi_domain::procedure::{FilingData, Group, ProcedureDefinition};
use serde::Deserialize;
use serde_json::Value;

use super::choices::{self, EstablishmentChoice, ProcedureChoice};
use super::form::{SectionView, parse_pairs, sections_where};
use super::form_view::{ErrorSummaryItem, FieldView};
use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    procedure: String,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/bulk_new.html")]
struct NewPage {
    layout: Layout,
    procedures: Vec<ProcedureChoice>,
    establishments: Vec<EstablishmentChoice>,
    errors: Vec<ErrorSummaryItem>,
    selected_procedure: String,
    selected_establishments: Vec<String>,
    batches: Vec<BatchSummary>,
}

impl NewPage {
    fn error_for(&self, id: &str) -> Option<&str> {
        super::form_view::message_for(&self.errors, id)
    }
}

async fn new_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    errors: Vec<ErrorSummaryItem>,
    procedure: String,
    selected: Vec<String>,
) -> Result<NewPage, PageError> {
    let procedures = choices::procedures(s, |d| {
        d.targets.min_establishments > 0 && d.targets.max_establishments != Some(0)
    });
    let establishments = choices::establishments(s, &session.actor).await?;
    let batches = batch::list(&s.app, &session.actor, batch::KIND_BULK).await?;
    let mut layout = layout_for(session, "一括申請", "/bulk/new");
    layout.breadcrumbs = vec![NavItem::new("", "一括申請").current(true)];
    Ok(NewPage {
        layout,
        procedures,
        establishments,
        errors,
        selected_procedure: procedure,
        selected_establishments: selected,
        batches,
    })
}

/// `GET /bulk/new`: choose the procedure and the establishments.
pub async fn new_form(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NewQuery>,
) -> PageResult {
    session.actor.require_provider()?;
    let mut page = new_page(&s, &session, Vec::new(), q.procedure, Vec::new()).await?;
    page.layout.flash = super::my::flash(q.done.as_deref());
    Ok(render(&page))
}

#[derive(Deserialize)]
pub struct StartForm {
    csrf_token: String,
    #[serde(default)]
    procedure_id: String,
    #[serde(default)]
    establishment_ids: Vec<String>,
}

/// `POST /bulk`: one draft per establishment, then the answers page.
pub async fn start(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<StartForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let req = BulkRequest {
        procedure_id: f.procedure_id.clone(),
        establishment_ids: f.establishment_ids.clone(),
        data: FilingData::default(),
    };
    match bulk::start(&s.app, &session.actor, req).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/batches/{id}/answers?done=bulk_created")).into_response())
        }
        Err(CoreError::Validation(errs)) => {
            let items = choices::summary_items(errs);
            let mut r =
                render(&new_page(&s, &session, items, f.procedure_id, f.establishment_ids).await?);
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// One establishment's part of the answers page.
struct DraftSection {
    filing_id: String,
    establishment_name: String,
    lock_version: i64,
    /// The establishment's own groups.
    sections: Vec<SectionView>,
    /// Its own answers to shared questions (where it differs).
    overrides: Vec<SectionView>,
    has_override: bool,
}

#[derive(Template)]
#[template(path = "pages/bulk_answers.html")]
struct AnswersPage {
    layout: Layout,
    batch_id: String,
    procedure_title: String,
    shared: Vec<SectionView>,
    drafts: Vec<DraftSection>,
    errors: Vec<ErrorSummaryItem>,
    has_conditional_groups: bool,
}

/// A shared question: a top-level field the 一括申請 answers once for every draft.
fn is_shared(g: &Group) -> bool {
    !g.per_establishment && g.origin.is_standard()
}

/// A shared question an establishment may answer differently (not conditional, not a list).
fn may_differ(g: &Group) -> bool {
    is_shared(g) && g.visible_when.is_none() && g.repeat.is_none()
}

fn data_of(f: &FilingView) -> Result<FilingData, PageError> {
    serde_json::from_value(f.data.clone()).map_err(|e| PageError(AppError::Internal(e.to_string())))
}

/// The answers every draft shares: each top-level answer all drafts give alike.
fn shared_answers(def: &ProcedureDefinition, drafts: &[FilingData]) -> FilingData {
    let mut shared = FilingData::default();
    let Some(first) = drafts.first() else {
        return shared;
    };
    for g in def.groups.iter().filter(|g| is_shared(g)) {
        let ids: Vec<&str> = match g.repeat {
            Some(_) => vec![g.id.as_str()],
            None => g.fields.iter().map(|f| f.id.as_str()).collect(),
        };
        for id in ids {
            if let Some(v) = first.fields.get(id)
                && drafts.iter().all(|d| d.fields.get(id) == Some(v))
            {
                shared.fields.insert(id.to_string(), v.clone());
            }
        }
    }
    shared
}

/// Renames a section's inputs into one draft's override namespace (`only.<filing>.…`).
fn into_override(mut s: SectionView, filing_id: &str) -> SectionView {
    for f in s.fields_mut() {
        f.name = format!("only.{filing_id}.{}", f.name);
        f.id = FieldView::id_for(&f.name);
        f.prefilled_from = None;
        f.required = false;
    }
    s
}

async fn answers_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    batch_id: &str,
    problems: Option<Vec<(String, Problem)>>,
) -> Result<AnswersPage, PageError> {
    let view = batch::get(&s.app, &session.actor, batch_id).await?;
    if view.kind != batch::KIND_BULK {
        return Err(PageError(AppError::NotFound));
    }
    let corp = session.actor.require_provider()?;
    let registry = madoguchi_core::registry::view::snapshot_for(&s.app, corp).await?;
    let pending: Vec<&FilingView> = view
        .drafts
        .iter()
        .map(|d| &d.filing)
        .filter(|f| f.status == "draft")
        .collect();
    let Some(first) = pending.first() else {
        return Err(PageError(AppError::Conflict(
            "この一括申請の届出はすべて提出済みです。".into(),
        )));
    };
    let def = s
        .app
        .catalog
        .get(&first.procedure_id, &first.procedure_version)
        .ok_or_else(|| PageError(AppError::Internal("procedure missing".into())))?;
    let datas: Vec<FilingData> = pending
        .iter()
        .map(|f| data_of(f))
        .collect::<Result<_, _>>()?;
    let shared_data = shared_answers(def, &datas);
    let problems = problems.unwrap_or_default();
    let shown = |fid: &str| -> Vec<Problem> {
        problems
            .iter()
            .filter(|(f, _)| f == fid)
            .map(|(_, p)| p.clone())
            .collect()
    };
    // A problem with a shared answer shows at the shared question when every draft has it.
    let shared_problems: Vec<Problem> = pending
        .first()
        .map(|f| shown(&f.id))
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.field.starts_with("fields."))
        .filter(|p| {
            pending
                .iter()
                .all(|f| shown(&f.id).iter().any(|q| q.field == p.field))
        })
        .collect();
    let shared = sections_where(
        def,
        &shared_data,
        &[],
        &shared_problems,
        &registry,
        is_shared,
    );
    let mut drafts = Vec::new();
    for (f, data) in pending.iter().zip(&datas) {
        let mine = shown(&f.id);
        let own = sections_where(def, data, &f.establishments, &mine, &registry, |g| {
            g.per_establishment
        });
        // Its answers to shared questions where they differ from the shared ones.
        let mut differing = FilingData::default();
        for (k, v) in &data.fields {
            if shared_data.fields.get(k) != Some(v) {
                differing.fields.insert(k.clone(), v.clone());
            }
        }
        let override_problems: Vec<Problem> = mine
            .iter()
            .filter(|p| p.field.starts_with("fields."))
            .filter(|p| !shared_problems.iter().any(|q| q.field == p.field))
            .map(|p| Problem {
                field: format!("only.{}.{}", f.id, p.field),
                ..p.clone()
            })
            .collect();
        let has_override = def
            .groups
            .iter()
            .filter(|g| may_differ(g))
            .flat_map(|g| g.fields.iter())
            .any(|x| differing.fields.contains_key(&x.id))
            || !override_problems.is_empty();
        let unprefixed: Vec<Problem> = override_problems
            .iter()
            .map(|p| Problem {
                field: p
                    .field
                    .trim_start_matches(&format!("only.{}.", f.id))
                    .to_string(),
                ..p.clone()
            })
            .collect();
        let overrides = sections_where(def, &differing, &[], &unprefixed, &registry, may_differ)
            .into_iter()
            .map(|s| into_override(s, &f.id))
            .collect();
        drafts.push(DraftSection {
            filing_id: f.id.clone(),
            establishment_name: f
                .establishments
                .iter()
                .map(|e| e.name.clone())
                .collect::<Vec<_>>()
                .join("、"),
            lock_version: f.lock_version,
            sections: own,
            overrides,
            has_override,
        });
    }
    let errors = problems
        .iter()
        .map(|(fid, p)| {
            let field = if p.field.starts_with("fields.")
                && !shared_problems.iter().any(|q| q.field == p.field)
            {
                format!("only.{fid}.{}", p.field)
            } else {
                p.field.clone()
            };
            let name = pending
                .iter()
                .find(|f| f.id == *fid)
                .map(|f| {
                    f.establishments
                        .iter()
                        .map(|e| e.name.clone())
                        .collect::<Vec<_>>()
                        .join("、")
                })
                .unwrap_or_default();
            ErrorSummaryItem {
                field_id: FieldView::id_for(&field),
                message: format!("{name}：{}", p.message),
            }
        })
        .filter(|e| !e.message.is_empty())
        .collect();
    let title = format!("{}の回答（一括申請）", view.procedure_title);
    let mut layout = layout_for(session, &title, "/bulk/new");
    layout.breadcrumbs = vec![
        NavItem::new("/bulk/new", "一括申請"),
        NavItem::new(format!("/batches/{batch_id}"), "確認と提出"),
        NavItem::new("", "回答の入力").current(true),
    ];
    Ok(AnswersPage {
        layout,
        batch_id: batch_id.into(),
        procedure_title: view.procedure_title.clone(),
        has_conditional_groups: def
            .groups
            .iter()
            .any(|g| is_shared(g) && g.visible_when.is_some()),
        shared,
        drafts,
        errors,
    })
}

/// The problems worth showing beside the questions once the user has saved: what each
/// pending draft still lacks in its answers (documents are handled on the batch page).
async fn saved_problems(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    batch_id: &str,
) -> Result<Vec<(String, Problem)>, PageError> {
    let view = batch::get(&s.app, &session.actor, batch_id).await?;
    Ok(view
        .drafts
        .into_iter()
        .filter(|d| d.filing.status == "draft")
        .flat_map(|d| {
            let id = d.filing.id.clone();
            d.filing
                .problems
                .into_iter()
                .filter(|p| !p.field.starts_with("attachments."))
                .map(move |p| (id.clone(), p))
        })
        .collect())
}

#[derive(Deserialize)]
pub struct AnswersQuery {
    done: Option<String>,
}

/// `GET /batches/{id}/answers`.
pub async fn answers(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<AnswersQuery>,
) -> PageResult {
    let problems = if q.done.as_deref() == Some("answers_saved") {
        Some(saved_problems(&s, &session, &id).await?)
    } else {
        None
    };
    let mut page = answers_page(&s, &session, &id, problems).await?;
    page.layout.flash = super::my::flash(q.done.as_deref());
    Ok(render(&page))
}

/// `POST /batches/{id}/answers`: the shared answers go to every draft, each establishment's
/// answers to its draft, and an establishment's own answer to a shared question (when given)
/// replaces the shared one for that draft. All drafts are saved together or none.
pub async fn save_answers(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let token = pairs
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    check_csrf(&session, token)?;
    let view = batch::get(&s.app, &session.actor, &id).await?;
    let is_override =
        |k: &str, v: &str| k.starts_with("only.") || (k == "_present" && v.starts_with("only."));
    let shared_pairs: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, v)| !is_override(k, v))
        .cloned()
        .collect();
    let mut answers = Vec::new();
    for d in view.drafts.iter().filter(|d| d.filing.status == "draft") {
        let f = &d.filing;
        let def = s
            .app
            .catalog
            .get(&f.procedure_id, &f.procedure_version)
            .ok_or_else(|| PageError(AppError::Internal("procedure missing".into())))?;
        let current = data_of(f)?;
        let ids: Vec<String> = f.establishments.iter().map(|e| e.id.clone()).collect();
        let mut data = parse_pairs(def, &shared_pairs, &current, &ids);
        let prefix = format!("only.{}.", f.id);
        let own_pairs: Vec<(String, String)> = pairs
            .iter()
            .filter_map(|(k, v)| {
                if k == "_present" {
                    v.strip_prefix(&prefix).map(|v| (k.clone(), v.to_string()))
                } else {
                    k.strip_prefix(&prefix).map(|k| (k.to_string(), v.clone()))
                }
            })
            .collect();
        if !own_pairs.is_empty() {
            let own = parse_pairs(def, &own_pairs, &FilingData::default(), &ids);
            for (k, v) in own.fields {
                let blank = match &v {
                    Value::Null => true,
                    Value::String(s) => s.trim().is_empty(),
                    Value::Array(a) => a.is_empty(),
                    _ => false,
                };
                if !blank {
                    data.fields.insert(k, v);
                }
            }
        }
        let lock = pairs
            .iter()
            .find(|(k, _)| *k == format!("lock.{}", f.id))
            .and_then(|(_, v)| v.parse().ok());
        answers.push(DraftAnswers {
            filing_id: f.id.clone(),
            data,
            lock_version: lock,
        });
    }
    match bulk::save_answers(&s.app, &session.actor, &id, answers).await {
        Ok(()) => {
            let to = if pairs.iter().any(|(k, _)| k == "review") {
                format!("/batches/{id}?done=answers_saved")
            } else {
                format!("/batches/{id}/answers?done=answers_saved")
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(CoreError::Validation(errs)) => {
            let problems = errs
                .into_iter()
                .map(|e| (String::new(), e.into()))
                .collect();
            let mut r = render(&answers_page(&s, &session, &id, Some(problems)).await?);
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
