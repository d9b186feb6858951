//! Staff accounts of an authority, managed by its admins: the list (role, second factor,
//! disabled), creating an account (with an initial password, set through the same use case as
//! `madoguchi user set-password`), changing a role, disabling and enabling, resetting the
//! second factor (`reset_totp`, as `madoguchi user reset-totp`) and setting a new password.
//!
//! No change may leave the authority without an active admin (so the last admin cannot
//! disable or demote themselves); changes are serialised per authority so two admins cannot
//! both remove "the other" one.

use madoguchi_db::{DbError, authority_admin, users};
use madoguchi_domain::procedure::{FieldError, is_email};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{authority_name, required_text};
use crate::auth::passwords::check_new_password;
use crate::clock::format_ms_jst;
use crate::{Actor, App, CoreError, CoreResult};

/// A role an authority admin can give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// 審査担当: inbox, cases, ledger exports.
    Reviewer,
    /// 管理者: everything a reviewer does, and this administration.
    AuthorityAdmin,
}

impl StaffRole {
    pub fn parse(s: &str) -> Option<StaffRole> {
        match s {
            "reviewer" => Some(StaffRole::Reviewer),
            "authority_admin" | "admin" => Some(StaffRole::AuthorityAdmin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Reviewer => "reviewer",
            StaffRole::AuthorityAdmin => "authority_admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StaffRole::Reviewer => "審査担当",
            StaffRole::AuthorityAdmin => "管理者",
        }
    }
}

/// One staff account as its authority's admin sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub role: StaffRole,
    pub role_label: String,
    /// When the account was created (JST).
    pub created_at: String,
    pub disabled: bool,
    pub password_set: bool,
    /// A TOTP authenticator is enrolled (else the next sign-in enrols one).
    pub second_factor_enrolled: bool,
    /// The account of the admin looking at the list.
    pub is_self: bool,
}

fn member(row: authority_admin::StaffMemberRow, actor: &Actor) -> StaffMember {
    let role = StaffRole::parse(&row.role).unwrap_or(StaffRole::Reviewer);
    StaffMember {
        is_self: row.user_id == actor.user_id,
        user_id: row.user_id,
        login: row.login,
        display_name: row.display_name,
        email: row.email,
        role,
        role_label: role.label().into(),
        created_at: format_ms_jst(row.created_at),
        disabled: row.disabled_at.is_some(),
        password_set: row.password_set_at.is_some(),
        second_factor_enrolled: row.totp_enrolled_at.is_some(),
    }
}

/// The authority's staff accounts, by login.
pub async fn list(app: &App, actor: &Actor, code: &str) -> CoreResult<Vec<StaffMember>> {
    let mut tx = app.db.begin_read().await?;
    authority_name(&mut tx, actor, code).await?;
    let rows = authority_admin::list_staff(&mut tx, code).await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(|r| member(r, actor)).collect())
}

/// One staff account of the authority; `NotFound` for anyone else.
pub async fn get(app: &App, actor: &Actor, code: &str, user_id: &str) -> CoreResult<StaffMember> {
    let mut tx = app.db.begin_read().await?;
    authority_name(&mut tx, actor, code).await?;
    let row = target(&mut tx, code, user_id).await?;
    tx.commit().await?;
    Ok(member(row, actor))
}

/// A new staff account.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct NewStaff {
    /// ログインID: 3–64 characters, lower-case letters, digits, `.`, `_`, `-`.
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    /// `reviewer` or `authority_admin`.
    #[serde(default)]
    pub role: String,
    /// The initial password (the rules of every staff password). The person enrols a second
    /// factor at first sign-in.
    #[serde(default)]
    pub password: String,
}

fn check_login(login: &str) -> Result<String, FieldError> {
    let login = login.trim().to_ascii_lowercase();
    let error = |code: &str, message: &str| FieldError {
        field: "login".into(),
        code: code.into(),
        message: message.into(),
    };
    if login.is_empty() {
        return Err(error("required", "ログインIDを入力してください。"));
    }
    let ok_chars = login
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !ok_chars || !login.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(error(
            "invalid_format",
            "ログインIDは半角の英小文字・数字と「.」「_」「-」で入力し、英数字で始めてください。",
        ));
    }
    if !(3..=64).contains(&login.len()) {
        return Err(error(
            "invalid_length",
            "ログインIDは3文字以上64文字以内で入力してください。",
        ));
    }
    Ok(login)
}

fn check_email(email: &str) -> Result<String, FieldError> {
    let email = email.trim();
    let error = |code: &str, message: &str| FieldError {
        field: "email".into(),
        code: code.into(),
        message: message.into(),
    };
    if email.is_empty() {
        return Err(error("required", "メールアドレスを入力してください。"));
    }
    if email.len() > 254 || !is_email(email) {
        return Err(error(
            "invalid_format",
            "メールアドレスの形式が正しくありません（例: kaigo@city.example.lg.jp）。",
        ));
    }
    Ok(email.to_owned())
}

fn check_role(role: &str) -> Result<StaffRole, FieldError> {
    StaffRole::parse(role.trim()).ok_or_else(|| FieldError {
        field: "role".into(),
        code: "invalid_choice".into(),
        message: "役割は「審査担当」か「管理者」から選んでください。".into(),
    })
}

fn taken(login: &str) -> CoreError {
    CoreError::field(
        "login",
        "taken",
        format!("ログインID「{login}」はすでに使われています。別のIDにしてください。"),
    )
}

/// Creates a staff account of the authority with an initial password (`staff.created`, then
/// `user.password_set`).
pub async fn create(
    app: &App,
    actor: &Actor,
    code: &str,
    new: &NewStaff,
) -> CoreResult<StaffMember> {
    let mut tx = app.db.begin_read().await?;
    authority_name(&mut tx, actor, code).await?;
    tx.commit().await?;
    let mut errors = Vec::new();
    let login = check_login(&new.login).map_err(|e| errors.push(e)).ok();
    let name = required_text("display_name", "氏名", &new.display_name, 100)
        .map_err(|e| errors.push(e))
        .ok();
    let email = check_email(&new.email).map_err(|e| errors.push(e)).ok();
    let role = check_role(&new.role).map_err(|e| errors.push(e)).ok();
    // Checked even when the login is not acceptable, so every problem is told at once.
    let typed_login = new.login.trim().to_ascii_lowercase();
    if let Err(p) = check_new_password(&new.password, login.as_deref().unwrap_or(&typed_login)) {
        errors.push(FieldError {
            field: "password".into(),
            code: p.code().into(),
            message: p.message(),
        });
    }
    let (Some(login), Some(name), Some(email), Some(role)) = (login, name, email, role) else {
        return Err(CoreError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let now = app.now_ms();
    let user_id = madoguchi_db::new_id();
    let mut tx = app.db.begin().await?;
    match users::get_user_by_login(&mut tx, &login).await {
        Ok(_) => return Err(taken(&login)),
        Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    users::insert_user(
        &mut tx,
        &users::UserRow {
            id: user_id.clone(),
            login: login.clone(),
            display_name: name.clone(),
            email: email.clone(),
            created_at: now,
            disabled_at: None,
        },
    )
    .await
    .map_err(|e| match e {
        // Two admins creating the same login at once: the second finds it taken.
        DbError::Conflict { .. } => taken(&login),
        other => other.into(),
    })?;
    users::insert_membership(
        &mut tx,
        &users::MembershipRow {
            id: madoguchi_db::new_id(),
            user_id: user_id.clone(),
            role: role.as_str().into(),
            corporation_id: None,
            authority_code: Some(code.to_owned()),
            created_at: now,
        },
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "staff.created",
        "user",
        &user_id,
        &serde_json::json!({ "login": login, "authority": code, "role": role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    crate::auth::set_staff_password(app, &login, &new.password, &actor.user_id).await?;
    let mut tx = app.db.begin_read().await?;
    let row = authority_admin::get_staff_member(&mut tx, code, &user_id).await?;
    tx.commit().await?;
    Ok(member(row, actor))
}

/// A staff member of the actor's authority; `NotFound` for anyone else.
async fn target(
    tx: &mut madoguchi_db::Tx,
    code: &str,
    user_id: &str,
) -> CoreResult<authority_admin::StaffMemberRow> {
    authority_admin::get_staff_member(tx, code, user_id)
        .await
        .map_err(Into::into)
}

fn last_admin() -> CoreError {
    CoreError::Conflict(
        "管理者が1人もいなくなるため、この変更はできません。先にほかの職員を管理者にしてください。"
            .into(),
    )
}

/// Gives a staff member another role (`staff.role_changed`).
pub async fn set_role(
    app: &App,
    actor: &Actor,
    code: &str,
    user_id: &str,
    role: &str,
) -> CoreResult<StaffMember> {
    let role = check_role(role).map_err(|e| CoreError::Validation(vec![e]))?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    authority_name(&mut tx, actor, code).await?;
    authority_admin::lock_authority(&mut tx, code).await?;
    let t = target(&mut tx, code, user_id).await?;
    if t.role != role.as_str() {
        authority_admin::set_role(&mut tx, code, user_id, role.as_str()).await?;
        if authority_admin::count_active_admins(&mut tx, code).await? == 0 {
            tx.rollback().await?;
            return Err(last_admin());
        }
        madoguchi_db::audit::append(
            &mut tx,
            now,
            &actor.user_id,
            "staff.role_changed",
            "user",
            user_id,
            &serde_json::json!({ "login": t.login, "authority": code, "from": t.role, "to": role.as_str() }),
        )
        .await?;
        // The new role applies at once; sessions keep working (the actor is reloaded on every
        // request).
    }
    let row = target(&mut tx, code, user_id).await?;
    tx.commit().await?;
    Ok(member(row, actor))
}

/// Disables (every session ends) or re-enables a staff member (`user.disabled` /
/// `user.enabled`).
pub async fn set_disabled(
    app: &App,
    actor: &Actor,
    code: &str,
    user_id: &str,
    disabled: bool,
) -> CoreResult<StaffMember> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    authority_name(&mut tx, actor, code).await?;
    authority_admin::lock_authority(&mut tx, code).await?;
    let t = target(&mut tx, code, user_id).await?;
    if t.disabled_at.is_some() != disabled {
        let user = users::get_user(&mut tx, user_id).await?;
        crate::auth::disable_in(&mut tx, &user, disabled, &actor.user_id, now).await?;
        if disabled && authority_admin::count_active_admins(&mut tx, code).await? == 0 {
            tx.rollback().await?;
            return Err(last_admin());
        }
    }
    let row = target(&mut tx, code, user_id).await?;
    tx.commit().await?;
    Ok(member(row, actor))
}

/// Forgets a staff member's authenticator and recovery codes (lost phone): the next sign-in
/// enrols again; every session ends (`user.totp_reset`).
pub async fn reset_second_factor(
    app: &App,
    actor: &Actor,
    code: &str,
    user_id: &str,
) -> CoreResult<StaffMember> {
    let login = {
        let mut tx = app.db.begin_read().await?;
        authority_name(&mut tx, actor, code).await?;
        let t = target(&mut tx, code, user_id).await?;
        tx.commit().await?;
        t.login
    };
    crate::auth::reset_totp(app, &login, &actor.user_id).await?;
    let mut tx = app.db.begin_read().await?;
    let row = target(&mut tx, code, user_id).await?;
    tx.commit().await?;
    Ok(member(row, actor))
}

/// Sets a new password for a staff member (forgotten password); every session ends
/// (`user.password_set`).
pub async fn set_password(
    app: &App,
    actor: &Actor,
    code: &str,
    user_id: &str,
    password: &str,
) -> CoreResult<StaffMember> {
    let login = {
        let mut tx = app.db.begin_read().await?;
        authority_name(&mut tx, actor, code).await?;
        let t = target(&mut tx, code, user_id).await?;
        tx.commit().await?;
        t.login
    };
    crate::auth::set_staff_password(app, &login, password, &actor.user_id).await?;
    let mut tx = app.db.begin_read().await?;
    let row = target(&mut tx, code, user_id).await?;
    tx.commit().await?;
    Ok(member(row, actor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_checked_and_folded_to_lower_case() {
        assert_eq!(check_login(" Suzuki.Hanako ").unwrap(), "suzuki.hanako");
        assert_eq!(check_login("").unwrap_err().code, "required");
        assert_eq!(check_login("すずき").unwrap_err().code, "invalid_format");
        assert_eq!(check_login("-abc").unwrap_err().code, "invalid_format");
        assert_eq!(check_login("ab").unwrap_err().code, "invalid_length");
        assert!(check_login(&"a".repeat(65)).is_err());
    }

    #[test]
    fn roles_and_emails() {
        assert_eq!(check_role("admin").unwrap(), StaffRole::AuthorityAdmin);
        assert_eq!(check_role("reviewer").unwrap(), StaffRole::Reviewer);
        assert_eq!(check_role("operator").unwrap_err().field, "role");
        assert!(check_email("a@b.jp").is_ok());
        assert_eq!(check_email("a@b").unwrap_err().code, "invalid_format");
        assert_eq!(check_email(" ").unwrap_err().code, "required");
    }
}
