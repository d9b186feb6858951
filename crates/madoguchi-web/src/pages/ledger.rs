//! The ledger page (台帳連携) of authority staff: file exports for everyone; for admins, the
//! webhook endpoints with their deliveries (再送), and the upload of an existing ledger.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::ledger::export::{self, ExportKind, ExportOptions};
use madoguchi_core::ledger::import::{self, ImportBy, ImportOptions, ImportReport, InputEncoding};
use madoguchi_core::ledger::webhooks::{self, CreatedEndpoint};
use madoguchi_core::ledger::{self, Overview};
use serde::Deserialize;

use super::form_view::ErrorSummaryItem;
use super::layout::{Flash, FlashKind, Layout};
use super::{PageResult, check_csrf, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/ledger.html")]
struct LedgerPage {
    layout: Layout,
    overview: Overview,
    /// A new endpoint's secret, shown this once.
    created: Option<CreatedEndpoint>,
    /// Form errors (new endpoint, import).
    errors: Vec<ErrorSummaryItem>,
    /// Why a Shift_JIS export was refused, one line per cell.
    export_problems: Vec<String>,
    /// The same export without the rows listed above.
    skip_href: String,
    import_report: Option<ImportReport>,
    url: String,
    description: String,
}

impl LedgerPage {
    fn error_for(&self, id: &str) -> Option<&str> {
        super::form_view::message_for(&self.errors, id)
    }
}

async fn page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
) -> Result<LedgerPage, AppError> {
    let overview = ledger::overview(&s.app, &session.actor).await?;
    Ok(LedgerPage {
        layout: layout_for(session, "台帳連携", "/ledger"),
        overview,
        created: None,
        errors: Vec::new(),
        export_problems: Vec::new(),
        skip_href: String::new(),
        import_report: None,
        url: String::new(),
        description: String::new(),
    })
}

fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    r
}

#[derive(Deserialize)]
pub struct LedgerQuery {
    done: Option<String>,
}

/// `GET /ledger`.
pub async fn show(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<LedgerQuery>,
) -> PageResult {
    let mut p = page(&s, &session).await?;
    p.layout.flash = match q.done.as_deref() {
        Some("redelivered") => Some(Flash {
            kind: FlashKind::Success,
            message: "再送を受け付けました。結果は配信の一覧に表示されます。".into(),
        }),
        Some("paused") => Some(Flash {
            kind: FlashKind::Info,
            message: "配信先を停止しました。".into(),
        }),
        Some("resumed") => Some(Flash {
            kind: FlashKind::Success,
            message: "配信先を再開しました。".into(),
        }),
        _ => None,
    };
    Ok(render(&p))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    encoding: Option<String>,
    unmappable: Option<String>,
}

/// `GET /ledger/exports/establishments`.
pub async fn export_establishments(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<ExportQuery>,
) -> PageResult {
    export_file(
        &s,
        &session,
        ExportKind::Establishments,
        q,
        "establishments",
    )
    .await
}

/// `GET /ledger/exports/cases`.
pub async fn export_cases(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<ExportQuery>,
) -> PageResult {
    export_file(&s, &session, ExportKind::Cases, q, "cases").await
}

async fn export_file(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    kind: ExportKind,
    q: ExportQuery,
    path: &str,
) -> PageResult {
    let code = session.actor.require_authority_staff()?.to_string();
    let options = ExportOptions::parse(
        q.format.as_deref(),
        q.encoding.as_deref(),
        q.unmappable.as_deref(),
    )?;
    match export::start(
        &s.app,
        export::ExportBy::Staff(&session.actor),
        &code,
        kind,
        options,
    )
    .await
    {
        Ok(stream) => Ok(crate::api::ledger::export_response(stream)),
        Err(CoreError::Validation(problems))
            if problems.iter().any(|p| p.code == "unmappable_character") =>
        {
            let mut p = page(s, session).await?;
            p.export_problems = problems.into_iter().map(|p| p.message).collect();
            p.skip_href = format!("/ledger/exports/{path}?encoding=shift_jis&unmappable=skip");
            Ok(unprocessable(render(&p)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    description: String,
}

/// `POST /ledger/webhooks`: adds an endpoint and shows its secret once.
pub async fn create_webhook(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<WebhookForm>,
) -> PageResult {
    let code = session.actor.require_authority_staff()?.to_string();
    match webhooks::create_endpoint(&s.app, &session.actor, &code, &f.url, &f.description).await {
        Ok(created) => {
            let mut p = page(&s, &session).await?;
            p.created = Some(created);
            Ok(render(&p))
        }
        Err(CoreError::Validation(errs)) => {
            let mut p = page(&s, &session).await?;
            p.errors = errs
                .into_iter()
                .map(|e| ErrorSummaryItem {
                    field_id: format!("webhook-{}", e.field),
                    message: e.message,
                })
                .collect();
            p.url = f.url;
            p.description = f.description;
            Ok(unprocessable(render(&p)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
}

/// `POST /ledger/webhooks/{id}/active`: pauses (`active=0`) or resumes (`active=1`).
pub async fn set_webhook_active(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ActiveForm>,
) -> PageResult {
    let code = session.actor.require_authority_staff()?.to_string();
    let active = f.active == "1";
    webhooks::set_active(&s.app, &session.actor, &code, &id, active).await?;
    Ok(Redirect::to(if active {
        "/ledger?done=resumed#webhooks"
    } else {
        "/ledger?done=paused#webhooks"
    })
    .into_response())
}

/// `POST /ledger/deliveries/{id}/redeliver` (再送).
pub async fn redeliver(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    let code = session.actor.require_authority_staff()?.to_string();
    webhooks::redeliver(&s.app, &session.actor, &code, &id).await?;
    Ok(Redirect::to("/ledger?done=redelivered#webhooks").into_response())
}

/// `POST /ledger/import`: the upload form (multipart: `csrf_token`, `file`, `encoding`,
/// `dry_run`), answered with the report.
pub async fn import_ledger(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    mut multipart: Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut encoding = String::from("auto");
    let mut dry_run = false;
    let mut file: Option<Vec<u8>> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(crate::api::multipart_error)?
    {
        match field.name().unwrap_or_default() {
            "csrf_token" => csrf = field.text().await.map_err(crate::api::multipart_error)?,
            "encoding" => encoding = field.text().await.map_err(crate::api::multipart_error)?,
            "dry_run" => {
                dry_run = !field
                    .text()
                    .await
                    .map_err(crate::api::multipart_error)?
                    .is_empty()
            }
            "file" => {
                let bytes = field.bytes().await.map_err(crate::api::multipart_error)?;
                if !bytes.is_empty() {
                    file = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    check_csrf(&session, &csrf)?;
    let code = session.actor.require_authority_staff()?.to_string();
    let form_error = |field: &str, message: String| ErrorSummaryItem {
        field_id: format!("import-{field}"),
        message,
    };
    let outcome = match (file, InputEncoding::parse(&encoding)) {
        (None, _) => Err(vec![form_error(
            "file",
            "取り込む CSV ファイルを選んでください。".into(),
        )]),
        (_, Err(CoreError::Validation(e))) => Err(e
            .into_iter()
            .map(|e| form_error("encoding", e.message))
            .collect()),
        (_, Err(e)) => return Err(e.into()),
        (Some(bytes), Ok(encoding)) => {
            match import::import_establishments(
                &s.app,
                ImportBy::Staff(&session.actor),
                &code,
                &bytes,
                ImportOptions { encoding, dry_run },
                &|_, _| {},
            )
            .await
            {
                Ok(report) => Ok(report),
                Err(CoreError::Validation(e)) => Err(e
                    .into_iter()
                    .map(|e| form_error("file", e.message))
                    .collect()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let mut p = page(&s, &session).await?;
    match outcome {
        Ok(report) => {
            let failed = !report.errors.is_empty();
            p.import_report = Some(report);
            let r = render(&p);
            Ok(if failed { unprocessable(r) } else { r })
        }
        Err(errors) => {
            p.errors = errors;
            Ok(unprocessable(render(&p)))
        }
    }
}
