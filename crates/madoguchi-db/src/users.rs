//! People who sign in, what they belong to, and their credentials (API tokens and browser
//! sessions, both stored only as SHA-256 hashes of the secret).

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// A user's place: provider staff of a corporation, reviewer/admin of an authority, or operator.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MembershipRow {
    pub id: String,
    pub user_id: String,
    pub role: String,
    pub corporation_id: Option<String>,
    pub authority_code: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub async fn insert_user(tx: &mut Tx, u: &UserRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO users (id, login, display_name, email, created_at, disabled_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&u.id).bind(&u.login).bind(&u.display_name).bind(&u.email).bind(u.created_at).bind(u.disabled_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_user(tx: &mut Tx, id: &str) -> DbResult<UserRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, UserRow>(
        "SELECT id, login, display_name, email, created_at, disabled_at FROM users WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

pub async fn get_user_by_login(tx: &mut Tx, login: &str) -> DbResult<UserRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, UserRow>(
        "SELECT id, login, display_name, email, created_at, disabled_at FROM users WHERE login = $1")
        .bind(login).fetch_one(c).await)?)
}

pub async fn list_users(tx: &mut Tx) -> DbResult<Vec<UserRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, UserRow>(
        "SELECT id, login, display_name, email, created_at, disabled_at FROM users ORDER BY login")
        .fetch_all(c).await)?)
}

pub async fn insert_membership(tx: &mut Tx, m: &MembershipRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO memberships (id, user_id, role, corporation_id, authority_code, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&m.id).bind(&m.user_id).bind(&m.role).bind(&m.corporation_id).bind(&m.authority_code).bind(m.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn memberships_of(tx: &mut Tx, user_id: &str) -> DbResult<Vec<MembershipRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, MembershipRow>(
        "SELECT id, user_id, role, corporation_id, authority_code, created_at FROM memberships WHERE user_id = $1 ORDER BY created_at, id")
        .bind(user_id).fetch_all(c).await)?)
}

/// E-mail addresses of active users holding `role` for an authority (who to notify of arrivals).
pub async fn authority_staff_emails(tx: &mut Tx, authority_code: &str) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT DISTINCT u.email FROM users u JOIN memberships m ON m.user_id = u.id
         WHERE m.authority_code = $1 AND m.role IN ('reviewer', 'authority_admin') AND u.disabled_at IS NULL AND u.email <> ''
         ORDER BY u.email")
        .bind(authority_code).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn insert_api_token(
    tx: &mut Tx,
    user_id: &str,
    token_hash: &str,
    label: &str,
    now: i64,
) -> DbResult<()> {
    let id = crate::new_id();
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id).bind(user_id).bind(token_hash).bind(label).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The active user owning an unrevoked API token, by the token's hash.
pub async fn user_by_token_hash(tx: &mut Tx, token_hash: &str) -> DbResult<UserRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, UserRow>(
        "SELECT u.id, u.login, u.display_name, u.email, u.created_at, u.disabled_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL")
        .bind(token_hash).fetch_one(c).await)?)
}

pub async fn insert_session(tx: &mut Tx, s: &SessionRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&s.token_hash).bind(&s.user_id).bind(&s.csrf_token).bind(s.created_at).bind(s.last_seen_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_session(tx: &mut Tx, token_hash: &str) -> DbResult<SessionRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, SessionRow>(
        "SELECT token_hash, user_id, csrf_token, created_at, last_seen_at FROM sessions WHERE token_hash = $1")
        .bind(token_hash).fetch_one(c).await)?)
}

pub async fn touch_session(tx: &mut Tx, token_hash: &str, now: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now).bind(token_hash).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Disables (or re-enables) a user; disabling also deletes every session of the user, so
/// all their browsers are signed out at once.
pub async fn set_disabled(tx: &mut Tx, user_id: &str, disabled_at: Option<i64>) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(disabled_at).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    if disabled_at.is_some() {
        delete_sessions_of(tx, user_id).await?;
    }
    Ok(())
}

/// Ends every session of a user (sign-out everywhere).
pub async fn delete_sessions_of(tx: &mut Tx, user_id: &str) -> DbResult<u64> {
    Ok(
        with_conn!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id).execute(c).await.map(|r| r.rows_affected()))?,
    )
}
