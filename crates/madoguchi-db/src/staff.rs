//! Staff credentials: the Argon2id password hash and TOTP secret of an authority staff (or
//! operator) account, its single-use recovery codes (SHA-256 of 120-bit codes), and the
//! short-lived sign-ins waiting for their second factor (keyed on the SHA-256 of a cookie
//! secret). Single-use rules are enforced by conditional `UPDATE`/`DELETE` whose row count
//! says whether this caller won, so concurrent attempts cannot both succeed.

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffCredentialRow {
    pub user_id: String,
    pub password_hash: Option<String>,
    pub password_set_at: Option<i64>,
    pub totp_secret: Option<String>,
    pub totp_enrolled_at: Option<i64>,
    pub totp_last_step: Option<i64>,
    pub updated_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingSignInRow {
    pub token_hash: String,
    pub user_id: String,
    pub enrol_secret: Option<String>,
    pub failures: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The credentials of a user, if any were ever set.
pub async fn get_credentials(tx: &mut Tx, user_id: &str) -> DbResult<Option<StaffCredentialRow>> {
    let r = with_conn!(tx, c => sqlx::query_as::<_, StaffCredentialRow>(
        "SELECT user_id, password_hash, password_set_at, totp_secret, totp_enrolled_at, totp_last_step, updated_at
         FROM staff_credentials WHERE user_id = $1")
        .bind(user_id).fetch_one(c).await);
    match r {
        Ok(row) => Ok(Some(row)),
        Err(sqlx::Error::RowNotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Creates the row of a user who has none yet (no password, no TOTP).
async fn ensure_row(tx: &mut Tx, user_id: &str, now: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO staff_credentials (user_id, updated_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
        .bind(user_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sets (or replaces) a user's password hash.
pub async fn set_password_hash(tx: &mut Tx, user_id: &str, phc: &str, now: i64) -> DbResult<()> {
    ensure_row(tx, user_id, now).await?;
    with_conn!(tx, c => sqlx::query(
        "UPDATE staff_credentials SET password_hash = $1, password_set_at = $2, updated_at = $2 WHERE user_id = $3")
        .bind(phc).bind(now).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a confirmed TOTP enrolment; `step` is the step of the code that confirmed it.
pub async fn set_totp(
    tx: &mut Tx,
    user_id: &str,
    secret_base32: &str,
    step: i64,
    now: i64,
) -> DbResult<()> {
    ensure_row(tx, user_id, now).await?;
    with_conn!(tx, c => sqlx::query(
        "UPDATE staff_credentials SET totp_secret = $1, totp_enrolled_at = $2, totp_last_step = $3, updated_at = $2 WHERE user_id = $4")
        .bind(secret_base32).bind(now).bind(step).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forgets a user's TOTP enrolment and recovery codes (they enrol again at next sign-in).
pub async fn clear_totp(tx: &mut Tx, user_id: &str, now: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "UPDATE staff_credentials SET totp_secret = NULL, totp_enrolled_at = NULL, totp_last_step = NULL, updated_at = $1 WHERE user_id = $2")
        .bind(now).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    with_conn!(tx, c => sqlx::query("DELETE FROM staff_recovery_codes WHERE user_id = $1")
        .bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Claims TOTP step `step` for a user: succeeds (true) only if no code of this step or a later
/// one was accepted before. This is the replay guard.
pub async fn claim_totp_step(tx: &mut Tx, user_id: &str, step: i64, now: i64) -> DbResult<bool> {
    let n = with_conn!(tx, c => sqlx::query(
        "UPDATE staff_credentials SET totp_last_step = $1, updated_at = $2
         WHERE user_id = $3 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)")
        .bind(step).bind(now).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Replaces a user's recovery codes with new ones (their hashes).
pub async fn replace_recovery_codes(
    tx: &mut Tx,
    user_id: &str,
    code_hashes: &[String],
    now: i64,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("DELETE FROM staff_recovery_codes WHERE user_id = $1")
        .bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    for h in code_hashes {
        let id = crate::new_id();
        with_conn!(tx, c => sqlx::query(
            "INSERT INTO staff_recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id).bind(user_id).bind(h).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Uses up one recovery code: true only for an unused code of this user (the first caller).
pub async fn use_recovery_code(
    tx: &mut Tx,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> DbResult<bool> {
    let n = with_conn!(tx, c => sqlx::query(
        "UPDATE staff_recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
        .bind(now).bind(user_id).bind(code_hash).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// How many unused recovery codes a user has left.
pub async fn unused_recovery_codes(tx: &mut Tx, user_id: &str) -> DbResult<i64> {
    let (n,): (i64,) = with_conn!(tx, c => sqlx::query_as(
        "SELECT COUNT(*) FROM staff_recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id).fetch_one(c).await)?;
    Ok(n)
}

pub async fn insert_pending(tx: &mut Tx, p: &PendingSignInRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO staff_pending_sign_ins (token_hash, user_id, enrol_secret, failures, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&p.token_hash).bind(&p.user_id).bind(&p.enrol_secret).bind(p.failures).bind(p.created_at).bind(p.expires_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The pending sign-in for a cookie secret's hash (`NotFound` when there is none).
pub async fn get_pending(tx: &mut Tx, token_hash: &str) -> DbResult<PendingSignInRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, PendingSignInRow>(
        "SELECT token_hash, user_id, enrol_secret, failures, created_at, expires_at
         FROM staff_pending_sign_ins WHERE token_hash = $1")
        .bind(token_hash).fetch_one(c).await)?)
}

/// Counts one wrong code against a pending sign-in; returns the new count.
pub async fn add_pending_failure(tx: &mut Tx, token_hash: &str) -> DbResult<i64> {
    with_conn!(tx, c => sqlx::query(
        "UPDATE staff_pending_sign_ins SET failures = failures + 1 WHERE token_hash = $1")
        .bind(token_hash).execute(c).await.map(|r| r.rows_affected()))?;
    let p = get_pending(tx, token_hash).await?;
    Ok(p.failures)
}

/// Deletes a pending sign-in; true when this call deleted it (so it completes only once).
pub async fn take_pending(tx: &mut Tx, token_hash: &str) -> DbResult<bool> {
    let n = with_conn!(tx, c => sqlx::query("DELETE FROM staff_pending_sign_ins WHERE token_hash = $1")
        .bind(token_hash).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Drops every pending sign-in of a user (password or TOTP reset), and any expired ones.
pub async fn delete_pending_of(tx: &mut Tx, user_id: &str, now: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "DELETE FROM staff_pending_sign_ins WHERE user_id = $1 OR expires_at < $2")
        .bind(user_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Drops expired pending sign-ins (housekeeping at each new sign-in).
pub async fn delete_expired_pending(tx: &mut Tx, now: i64) -> DbResult<u64> {
    Ok(
        with_conn!(tx, c => sqlx::query("DELETE FROM staff_pending_sign_ins WHERE expires_at < $1")
        .bind(now).execute(c).await.map(|r| r.rows_affected()))?,
    )
}
