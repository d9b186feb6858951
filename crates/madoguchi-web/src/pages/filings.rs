//! The provider's pages: starting a filing, the form (save, attach files, answer a return,
//! submit), moving a draft to the newest form version, and file downloads. The filing's page
//! is `filing_detail`, the list `tracking`, the receipt `receipt`, withdrawal `withdraw`.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::filings::view::{FilingView, Problem};
use madoguchi_core::filings::{self, NewFiling};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};
use serde::Deserialize;

use super::choices::{self, EstablishmentChoice, ProcedureChoice};
use super::form::{SectionView, apply_repeat_action, parse_pairs, repeat_action, sections};
use super::form_view::{ErrorSummaryItem, FieldView};
use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DoneQuery {
    pub(super) done: Option<String>,
}

pub(super) fn crumbs(items: &[(&str, &str)]) -> Vec<NavItem> {
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

/// Where on the form page a field path (`fields.x`, `establishments.e.x`, `attachments.x`)
/// is answered, as a fragment (`#…`).
pub(super) fn field_anchor(path: &str) -> String {
    match path.strip_prefix("attachments.") {
        Some(req) => format!("#req-{req}"),
        None => format!("#{}", FieldView::id_for(path)),
    }
}

/// A field an authority asked to correct, or a problem that stops submission, with a link
/// to where it is answered.
pub(super) struct FieldLink {
    pub(super) label: String,
    pub(super) href: String,
}

pub(super) fn field_links(
    def: &ProcedureDefinition,
    filing_id: &str,
    paths: &[String],
) -> Vec<FieldLink> {
    paths
        .iter()
        .map(|p| FieldLink {
            label: madoguchi_core::cases::field_label(def, p).unwrap_or_else(|| "入力内容".into()),
            href: format!("/filings/{filing_id}/edit{}", field_anchor(p)),
        })
        .collect()
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

impl NewPage {
    /// The validation message for one question, shown beside it.
    fn error_for(&self, id: &str) -> Option<&str> {
        super::form_view::message_for(&self.errors, id)
    }
}

async fn new_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    errors: Vec<ErrorSummaryItem>,
    proc_id: String,
    ests: Vec<String>,
) -> Result<NewPage, PageError> {
    let procedures = choices::procedures(s, |_| true);
    let establishments = choices::establishments(s, &session.actor).await?;
    let mut layout = layout_for(session, "新しい届出・申請", "/filings/new");
    layout.breadcrumbs = crumbs(&[
        ("/filings", "届出・申請の一覧"),
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
        procedure_version: None,
    };
    match filings::create(&s.app, &session.actor, new).await {
        Ok(id) => Ok(Redirect::to(&format!("/filings/{id}/edit?done=created")).into_response()),
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

struct RequirementView {
    id: String,
    label: String,
    help: String,
    required: bool,
    files: Vec<(String, String)>,
    error: Option<String>,
    /// An authority's return pinned this document (reply box beside it).
    pins: Vec<super::form_view::PinView>,
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
    /// Documents this filing needs, or already has, or has a problem with.
    requirements: Vec<RequirementView>,
    /// Optional documents not attached yet (folded away on the page).
    optional_requirements: Vec<RequirementView>,
    reusable: Vec<ReusableFile>,
    errors: Vec<ErrorSummaryItem>,
    /// Open returns, each pinned item with its state (and its reply box when it has no place
    /// beside a field or file).
    returns: Vec<super::return_pins::ReturnBox>,
    /// Some sections appear only for some answers: the page offers a button to refresh them.
    has_conditional_groups: bool,
    /// The form has 付表 (per-service annexes) another establishment's filing can give.
    has_annexes: bool,
}

/// The filing's form: its version, with the local rules of every authority it goes to
/// (each addition labelled with the authority's name).
pub(crate) fn definition(s: &AppState, f: &FilingView) -> Result<ProcedureDefinition, PageError> {
    let def = s
        .app
        .catalog
        .get(&f.procedure_id, &f.procedure_version)
        .ok_or_else(|| PageError(AppError::Internal("procedure missing".into())))?;
    let codes: Vec<String> = f
        .addressees
        .iter()
        .map(|a| a.authority_code.clone())
        .collect();
    let rules = s.app.catalog.local_rules_for(&def.id, &codes);
    let name = |code: &str| {
        f.addressees
            .iter()
            .find(|a| a.authority_code == code)
            .map(|a| a.authority_name.clone())
    };
    Ok(def.with_local_rules(&rules, &name))
}

async fn edit_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    problems: Option<Vec<Problem>>,
    done: Option<&str>,
) -> Result<EditPage, PageError> {
    let filing = filings::view::get(&s.app, &session.actor, id).await?;
    let def = &definition(s, &filing)?;
    let data: FilingData = serde_json::from_value(filing.data.clone())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let corp = session.actor.require_provider()?;
    let registry = madoguchi_core::registry::view::snapshot_for(&s.app, corp).await?;
    let shown = problems.clone().unwrap_or_default();
    let mut secs = sections(def, &data, &filing.establishments, &shown, &registry);
    for f in secs.iter_mut().flat_map(|s| s.fields_mut()) {
        let id = f.name.rsplit('.').next().unwrap_or_default();
        f.is_new = filing.new_fields.iter().any(|n| n == id);
        // Where a prefilled answer came from, while it still holds that value.
        if let Some(src) = filing.prefill_sources.iter().find(|p| p.path == f.name) {
            f.prefilled_from = Some(src.label.clone());
        }
    }
    let required: Vec<&str> = def
        .required_attachments(&data)
        .into_iter()
        .map(|a| a.id.as_str())
        .collect();
    let (requirements, optional_requirements): (Vec<_>, Vec<_>) = def
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
            pins: Vec::new(),
        })
        .partition(|r| r.required || !r.files.is_empty() || r.error.is_some());
    // Files uploaded before, with where they were used (one file may serve many filings).
    let reusable = filings::reusable_files(&s.app, &session.actor, 50)
        .await?
        .into_iter()
        .map(|a| ReusableFile {
            filename: a.label(),
            id: a.attachment_id,
        })
        .collect();
    let errors = shown
        .iter()
        .map(|p| ErrorSummaryItem {
            field_id: if p.field.starts_with("attachments.") {
                format!("file-{}", p.field.trim_start_matches("attachments."))
            } else {
                super::form_view::FieldView::id_for(&p.field)
            },
            // A row's message says which row (the same message may come from several).
            message: match super::form::item_title_for(&secs, &p.field) {
                Some(item) => format!("{item}：{}", p.message),
                None => p.message.clone(),
            },
        })
        .collect();
    // Each pinned item of an open return beside its field or document, with a reply box.
    let open_returns = if filing.cases.iter().any(|c| c.status == "returned") {
        filings::replies::open_returns(&s.app, &session.actor, id).await?
    } else {
        Vec::new()
    };
    let mut requirements = requirements;
    let mut optional_requirements = optional_requirements;
    let returns =
        super::return_pins::place(&open_returns, &mut secs, |req, pin| {
            match requirements
                .iter_mut()
                .chain(optional_requirements.iter_mut())
                .find(|r| r.id == req)
            {
                Some(r) => {
                    r.pins.push(pin);
                    true
                }
                None => false,
            }
        });
    // A pinned optional document is shown unfolded.
    let (pinned, optional_requirements): (Vec<_>, Vec<_>) = optional_requirements
        .into_iter()
        .partition(|r| !r.pins.is_empty());
    requirements.extend(pinned);
    let mut layout = layout_for(session, &format!("{}の入力", def.title), "/filings");
    layout.breadcrumbs = crumbs(&[
        ("/filings", "届出・申請の一覧"),
        (&format!("/filings/{id}"), &def.title),
        ("", "入力"),
    ]);
    layout.flash = match done {
        Some("item_added") => Some(super::layout::Flash::success(
            "入力欄を追加しました。入力中の内容も保存しました。",
        )),
        Some("item_removed") => Some(super::layout::Flash::success(
            "入力欄を削除しました。入力中の内容も保存しました。",
        )),
        other => super::my::flash(other),
    };
    Ok(EditPage {
        layout,
        def_title: def.title.clone(),
        form_number: def.form_number.clone(),
        filing,
        sections: secs,
        requirements,
        optional_requirements,
        reusable,
        errors,
        returns,
        has_conditional_groups: def.groups.iter().any(|g| g.visible_when.is_some()),
        has_annexes: def.annexes.is_some(),
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

/// `POST /filings/{id}`: saves the answers (the form posts name/value pairs). The add and
/// remove buttons of repeating groups submit the same form: the answers are saved with the
/// item added or removed, and the page comes back at the group.
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
    let def = &definition(&s, &filing)?;
    let current: FilingData = serde_json::from_value(filing.data.clone())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let ids: Vec<String> = filing.establishments.iter().map(|e| e.id.clone()).collect();
    let mut data = parse_pairs(def, &pairs, &current, &ids);
    let action = repeat_action(&pairs);
    let back_to = action
        .as_ref()
        .and_then(|a| apply_repeat_action(def, &mut data, a, &pairs, &ids));
    let lock = pairs
        .iter()
        .find(|(k, _)| k == "lock_version")
        .and_then(|(_, v)| v.parse().ok());
    let replies = super::return_pins::replies_from_pairs(&pairs);
    let saved = match filings::update(&s.app, &session.actor, &id, data, lock).await {
        Ok(()) => filings::replies::save(&s.app, &session.actor, &id, &replies).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => {
            let then_submit = pairs.iter().any(|(k, _)| k == "review");
            let to = if let (Some(action), Some(anchor)) = (&action, &back_to) {
                let done = match action {
                    super::form::RepeatAction::Add(_) => "item_added",
                    super::form::RepeatAction::Remove(_) => "item_removed",
                };
                format!("/filings/{id}/edit?done={done}#{anchor}")
            } else if then_submit {
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
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}/receipt?done=submitted")).into_response()),
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

#[derive(Deserialize)]
pub struct MigrateForm {
    csrf_token: String,
    lock_version: i64,
}

/// `POST /filings/{id}/migrate`: moves the draft to the newest form version.
pub async fn migrate(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<MigrateForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    filings::migrate(&s.app, &session.actor, &id, f.lock_version).await?;
    Ok(Redirect::to(&format!("/filings/{id}/edit?done=migrated")).into_response())
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
    // Several files may be chosen at once (`<input type="file" multiple>`).
    let mut files: Vec<(String, String, Vec<u8>)> = Vec::new();
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
                    files.push((name, ct, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    check_csrf(&session, &csrf)?;
    let mut attachment_ids = Vec::new();
    for (name, ct, bytes) in files {
        match filings::upload(&s.app, &session.actor, &name, &ct, bytes).await {
            Ok(a) => attachment_ids.push(a),
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
                                    message: format!("{name}：{}", e.message),
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
    if attachment_ids.is_empty() && !reuse.is_empty() {
        attachment_ids.push(reuse);
    }
    if attachment_ids.is_empty() {
        let p = Problem {
            field: format!("attachments.{requirement}"),
            code: "required".into(),
            message: "添付するファイルを選んでください。".into(),
        };
        return Ok(unprocessable(render(
            &edit_page(&s, &session, &id, Some(vec![p]), None).await?,
        )));
    }
    for attachment_id in &attachment_ids {
        filings::link_attachment(&s.app, &session.actor, &id, attachment_id, &requirement).await?;
    }
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
