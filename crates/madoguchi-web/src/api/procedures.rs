//! `GET /api/v1/procedures`: the procedures one can file, with their forms.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::ApiActor;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ProcedureSummary {
    pub id: String,
    pub version: String,
    pub title: String,
    pub form_number: String,
    /// `application`, `notification`, `report`.
    pub kind: String,
    pub summary: String,
}

fn summary(d: &madoguchi_domain::procedure::ProcedureDefinition) -> ProcedureSummary {
    ProcedureSummary {
        id: d.id.clone(),
        version: d.version.clone(),
        title: d.title.clone(),
        form_number: d.form_number.clone(),
        kind: serde_json::to_value(d.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        summary: d.summary.clone(),
    }
}

/// Latest version of every procedure.
#[utoipa::path(get, path = "/api/v1/procedures", tag = "procedures", security(("bearer" = [])),
    responses((status = 200, body = [ProcedureSummary]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_procedures(
    State(s): State<AppState>,
    _a: ApiActor,
) -> ApiResult<Json<Vec<ProcedureSummary>>> {
    Ok(Json(
        s.app
            .catalog
            .list_latest()
            .into_iter()
            .map(summary)
            .collect(),
    ))
}

/// The full definition (fields, groups, attachments) of a procedure's latest version.
#[utoipa::path(get, path = "/api/v1/procedures/{id}", tag = "procedures", security(("bearer" = [])),
    params(("id" = String, Path, description = "procedure id, e.g. change-notification")),
    responses((status = 200, description = "the definition", body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_procedure(
    State(s): State<AppState>,
    _a: ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let d = s.app.catalog.latest(&id).ok_or(AppError::NotFound)?;
    Ok(Json(
        serde_json::to_value(d).map_err(|e| AppError::Internal(e.to_string()))?,
    ))
}
