//! Provider sign-in by OpenID Connect: users keyed on (issuer, subject), their link to a
//! corporation by 法人番号, and the authorization requests in flight (single use).

use crate::users::UserRow;
use crate::{DbResult, Tx, with_conn};

/// An authorization request in flight, found by the hash of the browser's cookie value.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OidcRequestRow {
    pub key_hash: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub created_at: i64,
}

/// The user signed in with this (issuer, subject), if any.
pub async fn user_by_identity(
    tx: &mut Tx,
    issuer: &str,
    subject: &str,
) -> DbResult<Option<UserRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, UserRow>(
        "SELECT id, login, display_name, email, created_at, disabled_at FROM users
         WHERE oidc_issuer = $1 AND oidc_subject = $2")
        .bind(issuer).bind(subject).fetch_optional(c).await)?)
}

/// Records the provider identity of a user and its current account type.
pub async fn set_identity(
    tx: &mut Tx,
    user_id: &str,
    issuer: &str,
    subject: &str,
    account_type: &str,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "UPDATE users SET oidc_issuer = $1, oidc_subject = $2, oidc_account_type = $3 WHERE id = $4")
        .bind(issuer).bind(subject).bind(account_type).bind(user_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Refreshes what the provider said at the latest sign-in: names, e-mail, account type.
pub async fn refresh_profile(
    tx: &mut Tx,
    user_id: &str,
    display_name: &str,
    email: &str,
    account_type: &str,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "UPDATE users SET display_name = $1, email = $2, oidc_account_type = $3 WHERE id = $4")
        .bind(display_name).bind(email).bind(account_type).bind(user_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The provider account type of a user: `None` for local accounts (no provider identity).
pub async fn account_type_of(tx: &mut Tx, user_id: &str) -> DbResult<Option<String>> {
    let row: Option<(Option<String>,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT oidc_account_type FROM users WHERE id = $1")
        .bind(user_id).fetch_optional(c).await)?;
    Ok(row.and_then(|r| r.0))
}

/// The corporation (id, name) holding this 法人番号, if registered.
pub async fn corporation_by_number(
    tx: &mut Tx,
    number: &str,
) -> DbResult<Option<(String, String)>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, (String, String)>(
        "SELECT id, name FROM corporations WHERE corporate_number = $1")
        .bind(number).fetch_optional(c).await)?)
}

/// Removes the user's provider memberships (the link to a corporation).
pub async fn delete_provider_memberships(tx: &mut Tx, user_id: &str) -> DbResult<u64> {
    Ok(with_conn!(tx, c => sqlx::query(
        "DELETE FROM memberships WHERE user_id = $1 AND role = 'provider'")
        .bind(user_id).execute(c).await.map(|r| r.rows_affected()))?)
}

/// Stores an authorization request in flight, first dropping those older than `expired_before`.
pub async fn insert_request(tx: &mut Tx, r: &OidcRequestRow, expired_before: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("DELETE FROM oidc_requests WHERE created_at < $1")
        .bind(expired_before).execute(c).await.map(|r| r.rows_affected()))?;
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO oidc_requests (key_hash, state, nonce, pkce_verifier, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&r.key_hash).bind(&r.state).bind(&r.nonce).bind(&r.pkce_verifier).bind(r.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes (deletes and returns) the request stored under `key_hash`, in one statement, so
/// that of two concurrent callbacks with the same cookie only one gets it: each request is
/// used at most once.
pub async fn take_request(tx: &mut Tx, key_hash: &str) -> DbResult<Option<OidcRequestRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, OidcRequestRow>(
        "DELETE FROM oidc_requests WHERE key_hash = $1
         RETURNING key_hash, state, nonce, pkce_verifier, created_at")
        .bind(key_hash).fetch_optional(c).await)?)
}
