//! `GET /api/v1/me`: who the token belongs to.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::ApiActor;
use crate::error::ApiResult;

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    /// `provider`, `reviewer`, `authority_admin`, `operator`.
    pub role: String,
    pub corporation_id: Option<String>,
    pub authority_code: Option<String>,
}

/// The authenticated user.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn get_me(ApiActor(a): ApiActor) -> ApiResult<Json<Me>> {
    Ok(Json(Me {
        role: a.role.key().into(),
        corporation_id: a.corporation_id().map(Into::into),
        authority_code: a.authority_code().map(Into::into),
        user_id: a.user_id,
        login: a.login,
        display_name: a.display_name,
    }))
}
