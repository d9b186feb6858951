//! `GET /api/v1/authorities/{code}/local-rules`: an authority's local rules (独自ルール),
//! public and without sign-in, because the law requires local rules to be published.

use axum::Json;
use axum::extract::{Path, State};
use madoguchi_core::local_rules::{self, PublishedLocalRules};

use crate::error::ApiResult;
use crate::state::AppState;

/// What the authority adds to the standard procedures: extra fields and documents, its own
/// deadlines and form numbers. An authority without local rules answers with an empty list.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/local-rules", tag = "procedures",
    params(("code" = String, Path, description = "全国地方公共団体コード, e.g. 131041")),
    responses((status = 200, body = PublishedLocalRules), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_local_rules(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<PublishedLocalRules>> {
    Ok(Json(local_rules::published(&s.app, &code).await?))
}
