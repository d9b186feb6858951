//! Authority administration API (`/api/v1/authorities/{code}/…`, admins of that authority):
//! per-procedure statistics, local rules (the draft, edits, preview, publishing), staff
//! accounts and the authority's details. Another authority's code is 404; the authority's
//! reviewers get 403. The same use cases serve the admin pages (`pages::admin`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use madoguchi_core::admin::authority::{self, AuthorityDetails, CodeTable, DetailsInput};
use madoguchi_core::admin::local_rules::{self, LocalRuleEdit, RuleEditor, RuleSummary};
use madoguchi_core::admin::preview::{self, RulePreview};
use madoguchi_core::admin::staff::{self, NewStaff, StaffMember};
use madoguchi_core::admin::statistics::{self, Statistics};
use madoguchi_domain::procedure::FilingData;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiQuery};
use crate::auth::ApiActor;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// First day, `YYYY-MM-DD` (default: 1 April of the current fiscal year).
    pub from: Option<String>,
    /// Last day, inclusive (default: 31 March of the current fiscal year).
    pub to: Option<String>,
    /// `json` (default) or `csv` (UTF-8 with BOM).
    pub format: Option<String>,
}

/// Per-procedure statistics of the authority's cases that arrived in the period: received,
/// pending, decided, withdrawn, median days to decide, return rate, satisfaction.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/statistics", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), StatisticsQuery),
    responses((status = 200, body = Statistics, content(
            (Statistics = "application/json"),
            (String = "text/csv"))),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn get_statistics(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<StatisticsQuery>,
) -> ApiResult<Response> {
    let csv = match q.format.as_deref() {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(AppError::Validation(vec![
                madoguchi_core::filings::view::Problem {
                    field: "format".into(),
                    code: "invalid_choice".into(),
                    message: "format は json か csv を指定してください。".into(),
                },
            ]));
        }
    };
    let st = statistics::compute(&s.app, &a, &code, q.from.as_deref(), q.to.as_deref()).await?;
    Ok(if csv {
        crate::pages::admin::statistics::csv_response(&st)
    } else {
        Json(st).into_response()
    })
}

/// What the authority adds to each procedure now, and where a draft is pending.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/admin/local-rules", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード")),
    responses((status = 200, body = [RuleSummary])))]
pub async fn list_rules(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<RuleSummary>>> {
    Ok(Json(local_rules::overview(&s.app, &a, &code).await?))
}

/// The working copy of one rule (the draft, else what applies now) with its items, TOML and
/// publications.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/local-rules/{procedure}/draft", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("procedure" = String, Path, description = "手続ID")),
    responses((status = 200, body = RuleEditor)))]
pub async fn get_draft(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, procedure)): Path<(String, String)>,
) -> ApiResult<Json<RuleEditor>> {
    Ok(Json(
        local_rules::editor(&s.app, &a, &code, &procedure).await?,
    ))
}

/// One change to the draft (`{"op": "add_field", "label": …, "kind": "text", "required": true}`,
/// `add_attachment`, `set_deadline`, `remove_deadline`, `remove_item`, `set_summary`). A change
/// whose result would not load as local rules is refused (422, field `source`, with the
/// loader's message).
#[utoipa::path(post, path = "/api/v1/authorities/{code}/local-rules/{procedure}/draft", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("procedure" = String, Path, description = "手続ID")),
    request_body = LocalRuleEdit,
    responses((status = 200, body = RuleEditor), (status = 422, body = crate::error::ErrorBody)))]
pub async fn edit_draft(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, procedure)): Path<(String, String)>,
    ApiJson(edit): ApiJson<LocalRuleEdit>,
) -> ApiResult<Json<RuleEditor>> {
    Ok(Json(
        local_rules::edit(&s.app, &a, &code, &procedure, &edit).await?,
    ))
}

/// Throws the draft away (409 when there is none).
#[utoipa::path(delete, path = "/api/v1/authorities/{code}/local-rules/{procedure}/draft", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("procedure" = String, Path, description = "手続ID")),
    responses((status = 204, description = "discarded"), (status = 409, body = crate::error::ErrorBody)))]
pub async fn discard_draft(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, procedure)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    local_rules::discard(&s.app, &a, &code, &procedure).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct PreviewRequest {
    /// Answers to check (`{"fields": {…}, "establishments": {"sample": {…}}}`); absent: a
    /// generated filing answering every field of the standard form.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<FilingData>,
}

/// The procedure's form with the draft applied (latest version) and the validation of a
/// sample filing, before publishing.
#[utoipa::path(post, path = "/api/v1/authorities/{code}/local-rules/{procedure}/preview", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("procedure" = String, Path, description = "手続ID")),
    request_body = PreviewRequest,
    responses((status = 200, body = RulePreview)))]
pub async fn preview_draft(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, procedure)): Path<(String, String)>,
    ApiJson(req): ApiJson<PreviewRequest>,
) -> ApiResult<Json<RulePreview>> {
    Ok(Json(
        preview::preview(&s.app, &a, &code, &procedure, req.data).await?,
    ))
}

/// Publishes the draft: from now on it applies to the authority's filings (drafts included;
/// submitted cases keep the rule they were checked against) and is listed publicly.
#[utoipa::path(post, path = "/api/v1/authorities/{code}/local-rules/{procedure}/publish", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("procedure" = String, Path, description = "手続ID")),
    responses((status = 200, body = RuleEditor), (status = 409, body = crate::error::ErrorBody)))]
pub async fn publish_draft(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, procedure)): Path<(String, String)>,
) -> ApiResult<Json<RuleEditor>> {
    local_rules::publish(&s.app, &a, &code, &procedure).await?;
    Ok(Json(
        local_rules::editor(&s.app, &a, &code, &procedure).await?,
    ))
}

/// The authority's staff accounts.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/staff", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード")),
    responses((status = 200, body = [StaffMember])))]
pub async fn list_staff(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<StaffMember>>> {
    Ok(Json(staff::list(&s.app, &a, &code).await?))
}

/// Adds a staff account with an initial password (the person enrols a second factor at first
/// sign-in).
#[utoipa::path(post, path = "/api/v1/authorities/{code}/staff", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード")), request_body = NewStaff,
    responses((status = 201, body = StaffMember), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_staff(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    ApiJson(new): ApiJson<NewStaff>,
) -> ApiResult<(StatusCode, Json<StaffMember>)> {
    let m = staff::create(&s.app, &a, &code, &new).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateStaffRequest {
    /// `reviewer` or `authority_admin`.
    pub role: Option<String>,
    /// `true` disables the account (its sessions end), `false` enables it.
    pub disabled: Option<bool>,
    /// A new password (its sessions end).
    pub password: Option<String>,
    /// `true` forgets its authenticator and recovery codes (it enrols again).
    #[serde(default)]
    pub reset_second_factor: bool,
}

/// Changes a staff account: role, disabled, password, second factor. No change may leave the
/// authority without an active admin (409).
#[utoipa::path(put, path = "/api/v1/authorities/{code}/staff/{id}", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("id" = String, Path, description = "利用者ID")),
    request_body = UpdateStaffRequest,
    responses((status = 200, body = StaffMember), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_staff(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateStaffRequest>,
) -> ApiResult<Json<StaffMember>> {
    let mut m = staff::get(&s.app, &a, &code, &id).await?;
    if let Some(role) = &req.role {
        m = staff::set_role(&s.app, &a, &code, &id, role).await?;
    }
    if let Some(disabled) = req.disabled {
        m = staff::set_disabled(&s.app, &a, &code, &id, disabled).await?;
    }
    if let Some(password) = &req.password {
        m = staff::set_password(&s.app, &a, &code, &id, password).await?;
    }
    if req.reset_second_factor {
        m = staff::reset_second_factor(&s.app, &a, &code, &id).await?;
    }
    Ok(Json(m))
}

/// The authority's details (name shown, contact e-mail, address, telephone).
#[utoipa::path(get, path = "/api/v1/authorities/{code}/details", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード")),
    responses((status = 200, body = AuthorityDetails)))]
pub async fn get_details(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
) -> ApiResult<Json<AuthorityDetails>> {
    Ok(Json(authority::details(&s.app, &a, &code).await?))
}

/// Changes the authority's details (audited with the values before and after).
#[utoipa::path(put, path = "/api/v1/authorities/{code}/details", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード")), request_body = DetailsInput,
    responses((status = 200, body = AuthorityDetails), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_details(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<DetailsInput>,
) -> ApiResult<Json<AuthorityDetails>> {
    Ok(Json(
        authority::update_details(&s.app, &a, &code, &input).await?,
    ))
}

/// The built-in code tables with their sources (read-only).
#[utoipa::path(get, path = "/api/v1/code-tables", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [CodeTable])))]
pub async fn code_tables() -> Json<Vec<CodeTable>> {
    Json(authority::code_tables())
}
