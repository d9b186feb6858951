//! The provider's pages: filing list, starting a filing, the form (save, attach files,
//! submit), the filing's status per authority, withdrawal, and file downloads.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::filings::view::{FilingListItem, FilingView, Problem};
use madoguchi_core::filings::{self, NewFiling};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};
use serde::Deserialize;

use super::form::{ReviewSection, SectionView, parse_pairs, review, sections};
use super::form_view::ErrorSummaryItem;
use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn crumbs(items: &[(&str, &str)]) -> Vec<NavItem> {
    let n = items.len();
    items
        .iter()
        .enumerate()
        .map(|(i, (h, l))| NavItem {
            href: (*h).into(),
            label: (*l).into(),
            current: i + 1 == n,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/filings_list.html")]
struct ListPage {
    layout: Layout,
    items: Vec<FilingListItem>,
}

/// `GET /filings`.
pub async fn list(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let items = filings::view::list(&s.app, &session.actor).await?;
    let mut layout = layout_for(&session, "届出・申請の一覧", "/filings");
    layout.flash = flash_for(q.done.as_deref());
    Ok(render(&ListPage { layout, items }))
}

struct ProcedureChoice {
    id: String,
    title: String,
    form_number: String,
    summary: String,
}

struct EstablishmentChoice {
    id: String,
    label: String,
    services: String,
}

#[derive(Template)]
#[template(path = "pages/filing_new.html")]
struct NewPage {
    layout: Layout,
    procedures: Vec<ProcedureChoice>,
    establishments: Vec<EstablishmentChoice>,
    errors: Vec<ErrorSummaryItem>,
    selected_procedure: String,
    selected_establishments: Vec<String>,
}

async fn new_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    errors: Vec<ErrorSummaryItem>,
    proc_id: String,
    ests: Vec<String>,
) -> Result<NewPage, PageError> {
    let procedures = s
        .app
        .catalog
        .list_latest()
        .into_iter()
        .map(|d| ProcedureChoice {
            id: d.id.clone(),
            title: d.title.clone(),
            form_number: d.form_number.clone(),
            summary: d.summary.clone(),
        })
        .collect();
    let establishments = madoguchi_core::registry::view::list(&s.app, &session.actor)
        .await?
        .into_iter()
        .map(|e| EstablishmentChoice {
            label: format!("{}（事業所番号 {}）", e.name, e.office_number),
            services: e
                .designations
                .iter()
                .map(|d| format!("{}：{}指定", d.service_name, d.authority_name))
                .collect::<Vec<_>>()
                .join("、"),
            id: e.id,
        })
        .collect();
    let mut layout = layout_for(session, "新しい届出・申請", "/filings/new");
    layout.breadcrumbs = crumbs(&[
        ("/filings", "届出・申請"),
        ("/filings/new", "新しい届出・申請"),
    ]);
    Ok(NewPage {
        layout,
        procedures,
        establishments,
        errors,
        selected_procedure: proc_id,
        selected_establishments: ests,
    })
}

/// `GET /filings/new`: choose the procedure and the establishments.
pub async fn new_form(State(s): State<AppState>, SignedIn(session): SignedIn) -> PageResult {
    session.actor.require_provider()?;
    Ok(render(
        &new_page(&s, &session, Vec::new(), String::new(), Vec::new()).await?,
    ))
}

#[derive(Deserialize)]
pub struct CreateForm {
    csrf_token: String,
    #[serde(default)]
    procedure_id: String,
    #[serde(default)]
    establishment_ids: Vec<String>,
}

/// `POST /filings`: creates the draft and opens its form.
pub async fn create(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<CreateForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let new = NewFiling {
        procedure_id: f.procedure_id.clone(),
        establishment_ids: f.establishment_ids.clone(),
        data: None,
    };
    match filings::create(&s.app, &session.actor, new).await {
        Ok(id) => Ok(Redirect::to(&format!("/filings/{id}/edit?done=created")).into_response()),
        Err(CoreError::Validation(errs)) => {
            let items = errs
                .into_iter()
                .map(|e| ErrorSummaryItem {
                    field_id: if e.field == "procedure_id" {
                        "procedure".into()
                    } else {
                        "establishments".into()
                    },
                    message: e.message,
                })
                .collect();
            let mut r =
                render(&new_page(&s, &session, items, f.procedure_id, f.establishment_ids).await?);
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

struct RequirementView {
    id: String,
    label: String,
    help: String,
    required: bool,
    files: Vec<(String, String)>,
    error: Option<String>,
}

struct ReusableFile {
    id: String,
    filename: String,
}

#[derive(Template)]
#[template(path = "pages/filing_edit.html")]
struct EditPage {
    layout: Layout,
    filing: FilingView,
    def_title: String,
    form_number: String,
    sections: Vec<SectionView>,
    requirements: Vec<RequirementView>,
    reusable: Vec<ReusableFile>,
    errors: Vec<ErrorSummaryItem>,
    returned_messages: Vec<(String, String, Vec<String>)>,
}

fn definition<'a>(s: &'a AppState, f: &FilingView) -> Result<&'a ProcedureDefinition, PageError> {
    s.app
        .catalog
        .get(&f.procedure_id, &f.procedure_version)
        .ok_or_else(|| PageError(AppError::Internal("procedure missing".into())))
}

async fn edit_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    problems: Option<Vec<Problem>>,
    done: Option<&str>,
) -> Result<EditPage, PageError> {
    let filing = filings::view::get(&s.app, &session.actor, id).await?;
    let def = definition(s, &filing)?;
    let data: FilingData = serde_json::from_value(filing.data.clone())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let corp = session.actor.require_provider()?;
    let registry = madoguchi_core::registry::view::snapshot_for(&s.app, corp).await?;
    let shown = problems.clone().unwrap_or_default();
    let secs = sections(def, &data, &filing.establishments, &shown, &registry);
    let required: Vec<&str> = def
        .required_attachments(&data)
        .into_iter()
        .map(|a| a.id.as_str())
        .collect();
    let requirements = def
        .attachments
        .iter()
        .map(|a| RequirementView {
            id: a.id.clone(),
            label: a.label.clone(),
            help: a.help.clone(),
            required: required.contains(&a.id.as_str()),
            files: filing
                .attachments
                .iter()
                .filter(|l| l.requirement_id == a.id)
                .map(|l| (l.attachment_id.clone(), l.filename.clone()))
                .collect(),
            error: shown
                .iter()
                .find(|p| p.field == format!("attachments.{}", a.id))
                .map(|p| p.message.clone()),
        })
        .collect();
    let mut tx = s
        .app
        .db
        .begin_read()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let reusable = madoguchi_db::attachments::list_of_corporation(&mut tx, corp)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let reusable = reusable
        .into_iter()
        .take(50)
        .map(|a| ReusableFile {
            id: a.id,
            filename: a.filename,
        })
        .collect();
    let errors = shown
        .iter()
        .map(|p| ErrorSummaryItem {
            field_id: if p.field.starts_with("attachments.") {
                format!("req-{}", p.field.trim_start_matches("attachments."))
            } else {
                super::form_view::FieldView::id_for(&p.field)
            },
            message: p.message.clone(),
        })
        .collect();
    let returned_messages = filing
        .cases
        .iter()
        .filter(|c| c.status == "returned")
        .filter_map(|c| {
            c.events
                .iter()
                .rev()
                .find(|e| e.kind == "returned")
                .map(|e| {
                    (
                        c.authority_name.clone(),
                        e.message.clone(),
                        e.fields
                            .iter()
                            .map(|p| {
                                madoguchi_core::cases::field_label(def, p).unwrap_or(p.clone())
                            })
                            .collect(),
                    )
                })
        })
        .collect();
    let mut layout = layout_for(session, &format!("{}の入力", def.title), "/filings");
    layout.breadcrumbs = crumbs(&[
        ("/filings", "届出・申請"),
        (&format!("/filings/{id}"), &def.title),
        ("", "入力"),
    ]);
    layout.flash = flash_for(done);
    Ok(EditPage {
        layout,
        def_title: def.title.clone(),
        form_number: def.form_number.clone(),
        filing,
        sections: secs,
        requirements,
        reusable,
        errors,
        returned_messages,
    })
}

/// `GET /filings/{id}/edit`.
pub async fn edit(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    Ok(render(
        &edit_page(&s, &session, &id, None, q.done.as_deref()).await?,
    ))
}

/// `POST /filings/{id}`: saves the answers (the form posts name/value pairs).
pub async fn save(
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
    let filing = filings::view::get(&s.app, &session.actor, &id).await?;
    let def = definition(&s, &filing)?;
    let current: FilingData = serde_json::from_value(filing.data.clone())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let ids: Vec<String> = filing.establishments.iter().map(|e| e.id.clone()).collect();
    let data = parse_pairs(def, &pairs, &current, &ids);
    let lock = pairs
        .iter()
        .find(|(k, _)| k == "lock_version")
        .and_then(|(_, v)| v.parse().ok());
    match filings::update(&s.app, &session.actor, &id, data, lock).await {
        Ok(()) => {
            let then_submit = pairs.iter().any(|(k, _)| k == "review");
            let to = if then_submit {
                format!("/filings/{id}?done=saved")
            } else {
                format!("/filings/{id}/edit?done=saved")
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(CoreError::Validation(errs)) => Ok(unprocessable(render(
            &edit_page(
                &s,
                &session,
                &id,
                Some(errs.into_iter().map(Into::into).collect()),
                None,
            )
            .await?,
        ))),
        Err(e) => Err(e.into()),
    }
}

fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    r
}

#[derive(Deserialize)]
pub struct SubmitForm {
    csrf_token: String,
    /// The version of the answers the user reviewed; with the filing id it keys the
    /// submission, so a double click submits once and a resubmission after edits is new.
    #[serde(default)]
    lock_version: Option<i64>,
}

/// `POST /filings/{id}/submit`: submits; problems send the user back to the form with each
/// message beside its field.
pub async fn submit(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<SubmitForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let key = f.lock_version.map(|v| format!("page-{id}-{v}"));
    match filings::submit(&s.app, &session.actor, &id, key.as_deref()).await {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}?done=submitted")).into_response()),
        Err(CoreError::Validation(errs)) => Ok(unprocessable(render(
            &edit_page(
                &s,
                &session,
                &id,
                Some(errs.into_iter().map(Into::into).collect()),
                None,
            )
            .await?,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/filing_detail.html")]
struct DetailPage {
    layout: Layout,
    filing: FilingView,
    review: Vec<ReviewSection>,
    editable: bool,
    can_submit: bool,
    can_withdraw: bool,
    requirement_labels: Vec<(String, String)>,
}

/// `GET /filings/{id}`: status per authority, messages, answers, files.
pub async fn detail(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let filing = filings::view::get(&s.app, &session.actor, &id).await?;
    let def = definition(&s, &filing)?;
    let data: FilingData = serde_json::from_value(filing.data.clone())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let corp = session.actor.require_provider()?;
    let registry = madoguchi_core::registry::view::snapshot_for(&s.app, corp).await?;
    let any_returned = filing.cases.iter().any(|c| c.status == "returned");
    let editable = filing.status == "draft" || any_returned;
    let can_submit = editable && filing.problems.is_empty();
    let can_withdraw = filing
        .cases
        .iter()
        .any(|c| c.status == "submitted" || c.status == "returned");
    let mut layout = layout_for(&session, &def.title, "/filings");
    layout.breadcrumbs = crumbs(&[("/filings", "届出・申請"), ("", &def.title)]);
    layout.flash = flash_for(q.done.as_deref());
    let review = review(def, &data, &filing.establishments, &registry);
    let requirement_labels = def
        .attachments
        .iter()
        .map(|a| (a.id.clone(), a.label.clone()))
        .collect();
    Ok(render(&DetailPage {
        layout,
        filing,
        review,
        editable,
        can_submit,
        can_withdraw,
        requirement_labels,
    }))
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    csrf_token: String,
    #[serde(default)]
    reason: String,
}

/// `POST /filings/{id}/withdraw`.
pub async fn withdraw(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<WithdrawForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    filings::withdraw(&s.app, &session.actor, &id, &f.reason).await?;
    Ok(Redirect::to(&format!("/filings/{id}?done=withdrawn")).into_response())
}

/// `POST /filings/{id}/attachments`: uploads a file (or reuses an uploaded one) for a requirement.
pub async fn upload(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut requirement = String::new();
    let mut reuse = String::new();
    let mut file: Option<(String, String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(crate::api::multipart_error)?
    {
        match field.name().unwrap_or_default() {
            "csrf_token" => csrf = field.text().await.map_err(crate::api::multipart_error)?,
            "requirement_id" => {
                requirement = field.text().await.map_err(crate::api::multipart_error)?
            }
            "reuse_attachment_id" => {
                reuse = field.text().await.map_err(crate::api::multipart_error)?
            }
            "file" => {
                let name = field.file_name().unwrap_or("file").to_string();
                let ct = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let bytes = field.bytes().await.map_err(crate::api::multipart_error)?;
                if !bytes.is_empty() {
                    file = Some((name, ct, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    check_csrf(&session, &csrf)?;
    let attachment_id = match (file, reuse.is_empty()) {
        (Some((name, ct, bytes)), _) => {
            match filings::upload(&s.app, &session.actor, &name, &ct, bytes).await {
                Ok(a) => a,
                Err(CoreError::Validation(errs)) => {
                    return Ok(unprocessable(render(
                        &edit_page(
                            &s,
                            &session,
                            &id,
                            Some(
                                errs.into_iter()
                                    .map(|e| Problem {
                                        field: format!("attachments.{requirement}"),
                                        code: e.code,
                                        message: e.message,
                                    })
                                    .collect(),
                            ),
                            None,
                        )
                        .await?,
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        (None, false) => reuse,
        (None, true) => {
            let p = Problem {
                field: format!("attachments.{requirement}"),
                code: "required".into(),
                message: "添付するファイルを選んでください。".into(),
            };
            return Ok(unprocessable(render(
                &edit_page(&s, &session, &id, Some(vec![p]), None).await?,
            )));
        }
    };
    filings::link_attachment(&s.app, &session.actor, &id, &attachment_id, &requirement).await?;
    Ok(Redirect::to(&format!(
        "/filings/{id}/edit?done=uploaded#req-{requirement}"
    ))
    .into_response())
}

/// `GET /attachments/{id}`: a file the signed-in user may see, as a download.
pub async fn download(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    let (row, bytes) = filings::download(&s.app, &session.actor, &id).await?;
    Ok(crate::api::file_response(&row.filename, bytes))
}
