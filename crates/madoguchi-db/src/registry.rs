//! Who is who: authorities, corporations, establishments and designations. Registry values
//! (names, addresses, representative, manager…) live in each record's `profile` JSON, the
//! once-only record filings prefill from; `name` is kept as a column for listing and search.

use serde_json::{Map, Value};

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct AuthorityRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub prefecture_code: String,
    pub delegate_code: Option<String>,
    pub email: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CorporationRow {
    pub id: String,
    pub corporate_number: Option<String>,
    pub name: String,
    pub profile: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EstablishmentRow {
    pub id: String,
    pub corporation_id: String,
    pub office_number: String,
    pub municipality_code: String,
    pub name: String,
    pub profile: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct DesignationRow {
    pub id: String,
    pub establishment_id: String,
    pub service_code: String,
    pub authority_code: String,
    pub valid_from: String,
    pub valid_until: String,
}

/// Parses a stored profile; a corrupt document is an error, never silently empty.
pub fn parse_profile(text: &str) -> DbResult<Map<String, Value>> {
    Ok(serde_json::from_str(text)?)
}

pub async fn insert_authority(tx: &mut Tx, a: &AuthorityRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO authorities (code, name, kind, prefecture_code, delegate_code, email)
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&a.code).bind(&a.name).bind(&a.kind).bind(&a.prefecture_code)
        .bind(&a.delegate_code).bind(&a.email)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn list_authorities(tx: &mut Tx) -> DbResult<Vec<AuthorityRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, AuthorityRow>(
        "SELECT code, name, kind, prefecture_code, delegate_code, email FROM authorities ORDER BY code")
        .fetch_all(c).await)?)
}

pub async fn get_authority(tx: &mut Tx, code: &str) -> DbResult<AuthorityRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, AuthorityRow>(
        "SELECT code, name, kind, prefecture_code, delegate_code, email FROM authorities WHERE code = $1")
        .bind(code).fetch_one(c).await)?)
}

pub async fn insert_corporation(tx: &mut Tx, r: &CorporationRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO corporations (id, corporate_number, name, profile, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&r.id).bind(&r.corporate_number).bind(&r.name).bind(&r.profile)
        .bind(r.created_at).bind(r.updated_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_corporation(tx: &mut Tx, id: &str) -> DbResult<CorporationRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, CorporationRow>(
        "SELECT id, corporate_number, name, profile, created_at, updated_at FROM corporations WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

pub async fn list_corporations(tx: &mut Tx) -> DbResult<Vec<CorporationRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, CorporationRow>(
        "SELECT id, corporate_number, name, profile, created_at, updated_at FROM corporations ORDER BY name")
        .fetch_all(c).await)?)
}

/// Replaces a corporation's profile (and its name column, kept equal to `profile.name`).
pub async fn update_corporation_profile(
    tx: &mut Tx,
    id: &str,
    profile: &Map<String, Value>,
    now: i64,
) -> DbResult<()> {
    let name = profile
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let text = serde_json::to_string(profile)?;
    with_conn!(tx, c => sqlx::query(
        "UPDATE corporations SET profile = $1, name = $2, updated_at = $3 WHERE id = $4")
        .bind(&text).bind(&name).bind(now).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_establishment(tx: &mut Tx, r: &EstablishmentRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO establishments (id, corporation_id, office_number, municipality_code, name, profile, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&r.id).bind(&r.corporation_id).bind(&r.office_number).bind(&r.municipality_code)
        .bind(&r.name).bind(&r.profile).bind(r.created_at).bind(r.updated_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_establishment(tx: &mut Tx, id: &str) -> DbResult<EstablishmentRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, EstablishmentRow>(
        "SELECT id, corporation_id, office_number, municipality_code, name, profile, created_at, updated_at
         FROM establishments WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

pub async fn list_establishments_of(
    tx: &mut Tx,
    corporation_id: &str,
) -> DbResult<Vec<EstablishmentRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, EstablishmentRow>(
        "SELECT id, corporation_id, office_number, municipality_code, name, profile, created_at, updated_at
         FROM establishments WHERE corporation_id = $1 ORDER BY office_number")
        .bind(corporation_id).fetch_all(c).await)?)
}

/// Replaces an establishment's profile (and its name column, kept equal to `profile.name`).
pub async fn update_establishment_profile(
    tx: &mut Tx,
    id: &str,
    profile: &Map<String, Value>,
    now: i64,
) -> DbResult<()> {
    let name = profile
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let text = serde_json::to_string(profile)?;
    with_conn!(tx, c => sqlx::query(
        "UPDATE establishments SET profile = $1, name = $2, updated_at = $3 WHERE id = $4")
        .bind(&text).bind(&name).bind(now).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_designation(tx: &mut Tx, r: &DesignationRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO designations (id, establishment_id, service_code, authority_code, valid_from, valid_until)
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&r.id).bind(&r.establishment_id).bind(&r.service_code).bind(&r.authority_code)
        .bind(&r.valid_from).bind(&r.valid_until)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Designations of every establishment of a corporation, in office-number order.
pub async fn designations_of_corporation(
    tx: &mut Tx,
    corporation_id: &str,
) -> DbResult<Vec<DesignationRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DesignationRow>(
        "SELECT d.id, d.establishment_id, d.service_code, d.authority_code, d.valid_from, d.valid_until
         FROM designations d JOIN establishments e ON e.id = d.establishment_id
         WHERE e.corporation_id = $1 ORDER BY e.office_number, d.service_code")
        .bind(corporation_id).fetch_all(c).await)?)
}

/// One designation by id.
pub async fn get_designation(tx: &mut Tx, id: &str) -> DbResult<DesignationRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DesignationRow>(
        "SELECT id, establishment_id, service_code, authority_code, valid_from, valid_until
         FROM designations WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

/// Sets a designation's period (a renewal).
pub async fn set_designation_period(
    tx: &mut Tx,
    id: &str,
    valid_from: &str,
    valid_until: &str,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("UPDATE designations SET valid_from = $1, valid_until = $2 WHERE id = $3")
        .bind(valid_from).bind(valid_until).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Designations of one establishment.
pub async fn designations_of_establishment(
    tx: &mut Tx,
    establishment_id: &str,
) -> DbResult<Vec<DesignationRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DesignationRow>(
        "SELECT id, establishment_id, service_code, authority_code, valid_from, valid_until
         FROM designations WHERE establishment_id = $1 ORDER BY service_code")
        .bind(establishment_id).fetch_all(c).await)?)
}

/// Records one applied registry change (what a case's acceptance changed, old and new value).
pub async fn insert_registry_change(
    tx: &mut Tx,
    case_id: &str,
    authority_code: &str,
    target_kind: &str,
    target_id: &str,
    key: &str,
    old_value: &Value,
    new_value: &Value,
    at: i64,
) -> DbResult<()> {
    let id = crate::new_id();
    let old = old_value.to_string();
    let new = new_value.to_string();
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO registry_changes (id, case_id, authority_code, target_kind, target_id, field_key, old_value, new_value, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&id).bind(case_id).bind(authority_code).bind(target_kind).bind(target_id)
        .bind(key).bind(&old).bind(&new).bind(at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Counts rows of the registry tables, to tell an empty data directory from a used one.
pub async fn count_corporations(tx: &mut Tx) -> DbResult<i64> {
    let n: (i64,) = with_conn!(tx, c => sqlx::query_as("SELECT COUNT(*) FROM corporations").fetch_one(c).await)?;
    Ok(n.0)
}
