//! Browser sessions, stored server-side: the cookie holds a random token, the database its
//! hash, the user and the session's CSRF token. Sign-out deletes the row.

use madoguchi_db::users::{self, SessionRow};

use crate::actor::{Actor, load_actor};
use crate::blobs::sha256_hex;
use crate::{App, CoreError, CoreResult};

/// A resolved session: who, and the CSRF token forms must echo.
#[derive(Clone, Debug)]
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
    /// Unread notifications of a provider user (the header badge); 0 for other roles.
    pub unread_notifications: i64,
}

/// Opens a session for a user; returns the cookie secret and the session.
pub async fn create_session(app: &App, user_id: &str, how: &str) -> CoreResult<(String, Session)> {
    let secret = super::random_secret()?;
    let csrf = super::random_secret()?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let actor = load_actor(&mut tx, user_id).await?;
    users::insert_session(
        &mut tx,
        &SessionRow {
            token_hash: sha256_hex(secret.as_bytes()),
            user_id: user_id.into(),
            csrf_token: csrf.clone(),
            created_at: now,
            last_seen_at: now,
        },
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        user_id,
        "session.signed_in",
        "user",
        user_id,
        &serde_json::json!({ "method": how }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        secret,
        Session {
            actor,
            csrf_token: csrf,
            unread_notifications: 0,
        },
    ))
}

/// The session for a cookie secret; `NotFound` when unknown, expired or the user is disabled.
pub async fn resolve_session(
    app: &App,
    secret: &str,
    idle_timeout_ms: i64,
    absolute_timeout_ms: i64,
) -> CoreResult<Session> {
    if secret.len() != 64 {
        return Err(CoreError::NotFound);
    }
    let hash = sha256_hex(secret.as_bytes());
    let now = app.now_ms();
    let mut tx = app.db.begin_read().await?;
    let row = users::get_session(&mut tx, &hash).await?;
    if now - row.last_seen_at > idle_timeout_ms || now - row.created_at > absolute_timeout_ms {
        return Err(CoreError::NotFound);
    }
    let actor = load_actor(&mut tx, &row.user_id).await?;
    let unread_notifications = if actor.corporation_id().is_some() {
        madoguchi_db::notifications::count_of_user(&mut tx, &actor.user_id, true).await?
    } else {
        0
    };
    tx.commit().await?;
    // Refresh the idle timer at most once a minute, to keep reads read-only.
    if now - row.last_seen_at > 60_000 {
        let mut tx = app.db.begin().await?;
        users::touch_session(&mut tx, &hash, now).await?;
        tx.commit().await?;
    }
    Ok(Session {
        actor,
        csrf_token: row.csrf_token,
        unread_notifications,
    })
}

/// Ends a session (sign-out).
pub async fn end_session(app: &App, secret: &str) -> CoreResult<()> {
    let hash = sha256_hex(secret.as_bytes());
    let mut tx = app.db.begin().await?;
    if let Ok(row) = users::get_session(&mut tx, &hash).await {
        users::delete_session(&mut tx, &hash).await?;
        madoguchi_db::audit::append(
            &mut tx,
            app.now_ms(),
            &row.user_id,
            "session.signed_out",
            "user",
            &row.user_id,
            &serde_json::json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
