//! API bearer tokens: `madoguchi token issue <login>` prints one; requests present it as
//! `Authorization: Bearer mdg_…`.

use madoguchi_db::users;

use crate::actor::{Actor, load_actor};
use crate::blobs::sha256_hex;
use crate::{App, CoreError, CoreResult};

const PREFIX: &str = "mdg_";

/// Issues a new token for the user with `login`; returns the secret (shown once).
pub async fn issue_token(app: &App, login: &str, label: &str) -> CoreResult<String> {
    let token = format!("{PREFIX}{}", super::random_secret()?);
    let mut tx = app.db.begin().await?;
    let user = users::get_user_by_login(&mut tx, login)
        .await
        .map_err(|e| match e {
            madoguchi_db::DbError::NotFound => CoreError::field(
                "login",
                "unknown_user",
                format!("ログインID「{login}」の利用者は登録されていません。"),
            ),
            other => other.into(),
        })?;
    let now = app.now_ms();
    users::insert_api_token(&mut tx, &user.id, &sha256_hex(token.as_bytes()), label, now).await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &user.id,
        "token.issued",
        "user",
        &user.id,
        &serde_json::json!({ "label": label }),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The actor owning a bearer token; `NotFound` for unknown, revoked or disabled.
pub async fn authenticate_token(app: &App, token: &str) -> CoreResult<Actor> {
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Err(CoreError::NotFound);
    }
    let mut tx = app.db.begin_read().await?;
    let user = users::user_by_token_hash(&mut tx, &sha256_hex(token.as_bytes())).await?;
    let actor = load_actor(&mut tx, &user.id).await?;
    tx.commit().await?;
    Ok(actor)
}
