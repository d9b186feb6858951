//! `GET /api/v1/establishments`: the registry as the caller may see it.

use axum::Json;
use axum::extract::{Path, State};
use madoguchi_core::registry::view::{self, EstablishmentView};

use crate::auth::ApiActor;
use crate::error::ApiResult;
use crate::state::AppState;

/// Establishments visible to the caller (a provider: its own; staff: those their authority designated).
#[utoipa::path(get, path = "/api/v1/establishments", tag = "registry", security(("bearer" = [])),
    responses((status = 200, body = [EstablishmentView]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_establishments(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Vec<EstablishmentView>>> {
    Ok(Json(view::list(&s.app, &a).await?))
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
