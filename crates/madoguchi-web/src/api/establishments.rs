//! Registry API: establishments visible to the caller, and the provider's own corporation.

use axum::Json;
use axum::extract::{Path, State};
use madoguchi_core::filings::view::Problem;
use madoguchi_core::registry::view::{self, EstablishmentView};
use madoguchi_domain::ids::OfficeNumber;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiQuery;
use crate::auth::ApiActor;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EstablishmentQuery {
    /// 介護保険事業所番号 (10 characters, check digit verified).
    pub office_number: Option<String>,
}

/// Establishments visible to the caller (a provider: its own; staff: those their authority
/// designated), optionally by 事業所番号.
#[utoipa::path(get, path = "/api/v1/establishments", tag = "registry", security(("bearer" = [])), params(EstablishmentQuery),
    responses((status = 200, body = [EstablishmentView]), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_establishments(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<EstablishmentQuery>,
) -> ApiResult<Json<Vec<EstablishmentView>>> {
    let number = match q.office_number.as_deref() {
        Some(n) => Some(
            OfficeNumber::parse(n)
                .map_err(|e| {
                    AppError::Validation(vec![Problem {
                        field: "office_number".into(),
                        code: "invalid".into(),
                        message: e.to_string(),
                    }])
                })?
                .number,
        ),
        None => None,
    };
    let mut all = view::list(&s.app, &a).await?;
    if let Some(n) = number {
        all.retain(|e| e.office_number == n.as_str());
    }
    Ok(Json(all))
}

/// One establishment with its designations and registry record.
#[utoipa::path(get, path = "/api/v1/establishments/{id}", tag = "registry", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EstablishmentView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_establishment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<EstablishmentView>> {
    Ok(Json(view::get(&s.app, &a, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct CorporationView {
    pub name: String,
    /// The corporation's registry record (代表者, 主たる事務所 …).
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

/// The caller's corporation (providers).
#[utoipa::path(get, path = "/api/v1/corporation", tag = "registry", security(("bearer" = [])),
    responses((status = 200, body = CorporationView), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get_corporation(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<CorporationView>> {
    let (name, record) = view::corporation(&s.app, &a).await?;
    Ok(Json(CorporationView { name, record }))
}
