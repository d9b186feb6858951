//! Who is calling. The API takes `Authorization: Bearer <token>`; pages use the session
//! cookie. Each extractor refuses politely: JSON 401 for the API, a redirect to the sign-in
//! page for pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use madoguchi_core::Actor;
use madoguchi_core::auth::{Session, authenticate_token, resolve_session};

use crate::error::AppError;
use crate::state::AppState;

/// The authenticated API caller.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(ApiActor(actor.clone()));
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AppError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(AppError::Unauthorized)?
            .trim();
        match authenticate_token(&state.app, token).await {
            Ok(actor) => {
                record_actor(&actor);
                Ok(ApiActor(actor))
            }
            Err(madoguchi_core::CoreError::NotFound) => Err(AppError::Unauthorized),
            Err(e) => Err(e.into()),
        }
    }
}

/// A signed-in browser session.
pub struct SignedIn(pub Session);

/// Sends a browser without a session to the sign-in page.
pub struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

/// The session cookie's secret, if the request carries one.
pub fn session_secret(parts: &Parts, state: &AppState) -> Option<String> {
    CookieJar::from_headers(&parts.headers)
        .get(state.web.cookie_name())
        .map(|c| c.value().to_string())
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ToLogin;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(session) = parts.extensions.get::<Session>() {
            return Ok(SignedIn(session.clone()));
        }
        let secret = session_secret(parts, state).ok_or(ToLogin)?;
        let idle = state.web.session_idle_minutes * 60_000;
        let absolute = state.web.session_absolute_hours * 3_600_000;
        let session = resolve_session(&state.app, &secret, idle, absolute)
            .await
            .map_err(|_| ToLogin)?;
        record_actor(&session.actor);
        Ok(SignedIn(session))
    }
}

/// A session if there is one (public pages show the header accordingly).
pub struct MaybeSignedIn(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeSignedIn(
            SignedIn::from_request_parts(parts, state)
                .await
                .ok()
                .map(|s| s.0),
        ))
    }
}

/// Puts the actor and their tenant (corporation or authority) on the request's log span.
fn record_actor(actor: &Actor) {
    let span = tracing::Span::current();
    span.record("actor", actor.user_id.as_str());
    let tenant = actor
        .corporation_id()
        .map(|c| format!("corporation:{c}"))
        .or_else(|| actor.authority_code().map(|a| format!("authority:{a}")))
        .unwrap_or_else(|| "platform".into());
    span.record("tenant", tenant.as_str());
}
