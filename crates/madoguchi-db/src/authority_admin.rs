//! An authority's own administration: its staff accounts with their role and second-factor
//! state, the role changes an admin makes, and the authority's details shown to providers
//! (name and e-mail live in `authorities`; address and telephone in `authority_details`).

use crate::{DbResult, Tx, with_conn};

/// One staff account of an authority, as its admin sees it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffMemberRow {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    /// `reviewer` or `authority_admin`.
    pub role: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub password_set_at: Option<i64>,
    pub totp_enrolled_at: Option<i64>,
}

/// The staff query's common part (a macro so each query stays one literal string).
macro_rules! staff_select {
    () => {
        "SELECT u.id AS user_id, u.login, u.display_name, u.email, m.role, u.created_at,
        u.disabled_at, s.password_set_at, s.totp_enrolled_at
     FROM users u
     JOIN memberships m ON m.user_id = u.id
     LEFT JOIN staff_credentials s ON s.user_id = u.id
     WHERE m.authority_code = $1 AND m.role IN ('reviewer', 'authority_admin')"
    };
}

/// The staff of an authority, by login.
pub async fn list_staff(tx: &mut Tx, authority_code: &str) -> DbResult<Vec<StaffMemberRow>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, StaffMemberRow>(concat!(staff_select!(), " ORDER BY u.login"))
        .bind(authority_code).fetch_all(c).await)?,
    )
}

/// One staff account of an authority; `NotFound` for anyone else (another authority's staff,
/// a provider, an unknown id).
pub async fn get_staff_member(
    tx: &mut Tx,
    authority_code: &str,
    user_id: &str,
) -> DbResult<StaffMemberRow> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, StaffMemberRow>(concat!(staff_select!(), " AND u.id = $2"))
        .bind(authority_code).bind(user_id).fetch_one(c).await)?,
    )
}

/// Active (not disabled) admins of an authority.
pub async fn count_active_admins(tx: &mut Tx, authority_code: &str) -> DbResult<i64> {
    let (n,): (i64,) = with_conn!(tx, c => sqlx::query_as(
        "SELECT COUNT(*) FROM users u JOIN memberships m ON m.user_id = u.id
         WHERE m.authority_code = $1 AND m.role = 'authority_admin' AND u.disabled_at IS NULL")
        .bind(authority_code).fetch_one(c).await)?;
    Ok(n)
}

/// Sets the role of a staff account within its authority.
pub async fn set_role(
    tx: &mut Tx,
    authority_code: &str,
    user_id: &str,
    role: &str,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "UPDATE memberships SET role = $1 WHERE user_id = $2 AND authority_code = $3
         AND role IN ('reviewer', 'authority_admin')")
        .bind(role).bind(user_id).bind(authority_code)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Serialises changes to an authority's staff and details: PostgreSQL locks the authority's
/// row until commit (SQLite write transactions are exclusive already), so two admins cannot
/// both remove "the other" last admin.
pub async fn lock_authority(tx: &mut Tx, authority_code: &str) -> DbResult<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT code FROM authorities WHERE code = $1 FOR UPDATE")
            .bind(authority_code)
            .fetch_optional(&mut **t)
            .await?;
    }
    Ok(())
}

/// Changes the name shown for an authority and its contact e-mail for notifications.
pub async fn update_authority_contact(
    tx: &mut Tx,
    authority_code: &str,
    name: &str,
    email: &str,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("UPDATE authorities SET name = $1, email = $2 WHERE code = $3")
        .bind(name).bind(email).bind(authority_code)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// An authority's address and telephone number.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuthorityDetailsRow {
    pub authority_code: String,
    pub address: String,
    pub phone: String,
    pub updated_by: String,
    pub updated_at: i64,
}

pub async fn get_details(
    tx: &mut Tx,
    authority_code: &str,
) -> DbResult<Option<AuthorityDetailsRow>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, AuthorityDetailsRow>(
        "SELECT authority_code, address, phone, updated_by, updated_at FROM authority_details WHERE authority_code = $1")
        .bind(authority_code).fetch_optional(c).await)?,
    )
}

pub async fn upsert_details(tx: &mut Tx, d: &AuthorityDetailsRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO authority_details (authority_code, address, phone, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (authority_code) DO UPDATE SET address = excluded.address, phone = excluded.phone,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at")
        .bind(&d.authority_code).bind(&d.address).bind(&d.phone).bind(&d.updated_by).bind(d.updated_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
