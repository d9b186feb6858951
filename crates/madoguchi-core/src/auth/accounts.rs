//! Account administration: disabling a user ends all of their sessions and invalidates their
//! API tokens at once (tokens of disabled users are refused at authentication).

use madoguchi_db::{Tx, users};

use crate::{App, CoreError, CoreResult};

/// Disables or re-enables the user with `login`; `by` names who did it (audit).
pub async fn set_user_disabled(app: &App, login: &str, disabled: bool, by: &str) -> CoreResult<()> {
    let now = app.now_ms();
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
    disable_in(&mut tx, &user, disabled, by, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The change itself, inside the caller's transaction (the CLI above, and an authority admin's
/// page after its own checks): sets or clears `disabled_at` (ending every session when
/// disabling) and appends `user.disabled` / `user.enabled`.
pub(crate) async fn disable_in(
    tx: &mut Tx,
    user: &users::UserRow,
    disabled: bool,
    by: &str,
    now: i64,
) -> CoreResult<()> {
    users::set_disabled(tx, &user.id, disabled.then_some(now)).await?;
    let action = if disabled {
        "user.disabled"
    } else {
        "user.enabled"
    };
    madoguchi_db::audit::append(
        tx,
        now,
        by,
        action,
        "user",
        &user.id,
        &serde_json::json!({ "login": user.login }),
    )
    .await?;
    tracing::info!(user = %user.id, by = %by, action, "account state changed");
    Ok(())
}
