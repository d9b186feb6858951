//! Sign-in of staff accounts (authority staff and platform operators; providers sign in with
//! OpenID Connect): password, then a TOTP code or a recovery code, then a session.
//!
//! 1. [`sign_in_with_password`] checks login and password. Every refusal looks the same to the
//!    caller (unknown login, wrong password, disabled, provider account, no password set) and
//!    takes one Argon2 verification either way. On success it opens a *pending* sign-in:
//!    a server-side row keyed by the hash of a random cookie secret, valid 10 minutes.
//! 2. [`pending_sign_in`] tells the page what to ask: enrolment (first sign-in: a new secret to
//!    add to an authenticator app) or a code.
//! 3. [`complete_second_factor`] checks the code. Enrolment stores the secret and issues ten
//!    recovery codes (returned once, stored hashed). Five wrong codes end the pending sign-in.
//!    Only then is the session created ([`super::create_session`], a new token), audited as
//!    `session.signed_in` with method `password+totp` (or `password+recovery_code`).
//!
//! Failed attempts are logged and, for existing accounts, audited (`session.sign_in_failed`);
//! never with the password or the code.

use madoguchi_db::{DbError, staff, users};

use super::passwords::check_new_password;
use super::second_factor as factor;
use super::{Session, create_session};
use crate::actor::{Role, load_actor};
use crate::blobs::sha256_hex;
use crate::{App, CoreError, CoreResult};

/// How long a pending sign-in waits for its second factor.
pub const PENDING_TTL_MS: i64 = 10 * 60_000;
/// Wrong codes allowed before the password must be entered again.
pub const MAX_CODE_FAILURES: i64 = 5;

/// The outcome of the password step.
#[derive(Debug)]
pub enum PasswordStep {
    /// Password accepted: the cookie secret of the pending sign-in.
    SecondFactor { pending_secret: String },
    /// Refused; the caller shows one message whatever the reason.
    Refused,
}

/// What the second-factor page asks for.
#[derive(Debug)]
pub enum PendingView {
    /// First sign-in: add this secret to an authenticator app, then type a code.
    Enrol {
        login: String,
        display_name: String,
        secret_base32: String,
        otpauth_uri: String,
    },
    /// Type a code from the app, or a recovery code.
    Verify {
        login: String,
        display_name: String,
        recovery_codes_left: i64,
    },
}

/// The outcome of the second-factor step.
#[derive(Debug)]
pub enum SecondFactorOutcome {
    SignedIn {
        /// The session cookie's secret.
        session_secret: String,
        session: Session,
        /// Fresh recovery codes, at enrolment only: show them once.
        recovery_codes: Option<Vec<String>>,
        /// Signed in with a recovery code: how many are left.
        recovery_codes_left: Option<i64>,
    },
    /// Wrong (or already used) code; the pending sign-in stays.
    WrongCode { attempts_left: i64 },
    /// No pending sign-in (expired, finished, or too many wrong codes): start again.
    Restart,
}

fn unknown_user(login: &str) -> CoreError {
    CoreError::field(
        "login",
        "unknown_user",
        format!("ログインID「{login}」の利用者は登録されていません。"),
    )
}

/// A user who may hold a password: any membership other than a provider's.
async fn staff_user(tx: &mut madoguchi_db::Tx, login: &str) -> CoreResult<users::UserRow> {
    let user = users::get_user_by_login(tx, login)
        .await
        .map_err(|e| match e {
            DbError::NotFound => unknown_user(login),
            other => other.into(),
        })?;
    let memberships = users::memberships_of(tx, &user.id).await?;
    if memberships.is_empty() || memberships.iter().all(|m| m.role == "provider") {
        return Err(CoreError::field(
            "login",
            "not_staff",
            format!(
                "「{login}」は事業者の利用者です。事業者の方は GビズID などの外部の認証でログインするため、パスワードは設定できません。"
            ),
        ));
    }
    Ok(user)
}

/// Sets (or replaces) the password of a staff account, after checking it against the rules
/// ([`check_new_password`]). Ends every session and pending sign-in of the account. `by`
/// names who did it (audit).
pub async fn set_staff_password(
    app: &App,
    login: &str,
    password: &str,
    by: &str,
) -> CoreResult<()> {
    let login = login.trim();
    let mut tx = app.db.begin_read().await?;
    let user = staff_user(&mut tx, login).await?;
    tx.commit().await?;
    check_new_password(password, login)
        .map_err(|p| CoreError::field("password", p.code(), p.message()))?;
    let phc = app.passwords.hash(password).await?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    staff::set_password_hash(&mut tx, &user.id, &phc, now).await?;
    let ended = users::delete_sessions_of(&mut tx, &user.id).await?;
    staff::delete_pending_of(&mut tx, &user.id, now).await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        by,
        "user.password_set",
        "user",
        &user.id,
        &serde_json::json!({ "login": login, "sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, by = %by, "password set; sessions ended");
    Ok(())
}

/// Forgets the TOTP enrolment and recovery codes of a staff account (lost phone): the next
/// sign-in enrols again. Ends every session and pending sign-in of the account.
pub async fn reset_totp(app: &App, login: &str, by: &str) -> CoreResult<()> {
    let login = login.trim();
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let user = staff_user(&mut tx, login).await?;
    staff::clear_totp(&mut tx, &user.id, now).await?;
    let ended = users::delete_sessions_of(&mut tx, &user.id).await?;
    staff::delete_pending_of(&mut tx, &user.id, now).await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        by,
        "user.totp_reset",
        "user",
        &user.id,
        &serde_json::json!({ "login": login, "sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, by = %by, "TOTP reset; sessions ended");
    Ok(())
}

/// Records a failed attempt: a log line always (never the password or code), an audit event
/// when the account exists.
async fn record_failure(
    app: &App,
    user_id: Option<&str>,
    method: &str,
    reason: &str,
) -> CoreResult<()> {
    tracing::warn!(
        user = user_id.unwrap_or("-"),
        method,
        reason,
        "staff sign-in refused"
    );
    if let Some(user_id) = user_id {
        let mut tx = app.db.begin().await?;
        madoguchi_db::audit::append(
            &mut tx,
            app.now_ms(),
            "anonymous",
            "session.sign_in_failed",
            "user",
            user_id,
            &serde_json::json!({ "method": method, "reason": reason }),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The password step (see the module documentation).
pub async fn sign_in_with_password(
    app: &App,
    login: &str,
    password: &str,
) -> CoreResult<PasswordStep> {
    let login = login.trim();
    let mut tx = app.db.begin_read().await?;
    let user = match users::get_user_by_login(&mut tx, login).await {
        Ok(u) => Some(u),
        Err(DbError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    // (user id, stored hash) when the account may sign in with a password; else the reason.
    let target: Result<(String, String), (Option<String>, &str)> = match &user {
        None => Err((None, "unknown_login")),
        Some(u) => match load_actor(&mut tx, &u.id).await {
            Err(CoreError::NotFound) => Err((Some(u.id.clone()), "disabled")),
            Err(e) => return Err(e),
            Ok(a) if matches!(a.role, Role::Provider { .. }) => {
                Err((Some(u.id.clone()), "not_staff"))
            }
            Ok(_) => match staff::get_credentials(&mut tx, &u.id).await? {
                Some(c) if c.password_hash.is_some() => {
                    Ok((u.id.clone(), c.password_hash.unwrap_or_default()))
                }
                _ => Err((Some(u.id.clone()), "no_password")),
            },
        },
    };
    tx.commit().await?;
    let (user_id, phc) = match target {
        Ok(t) => t,
        Err((user_id, reason)) => {
            app.passwords.verify_dummy(password).await?;
            record_failure(app, user_id.as_deref(), "password", reason).await?;
            return Ok(PasswordStep::Refused);
        }
    };
    if !app.passwords.verify(password, &phc).await? {
        record_failure(app, Some(&user_id), "password", "wrong_password").await?;
        return Ok(PasswordStep::Refused);
    }
    let now = app.now_ms();
    let pending_secret = super::random_secret()?;
    let mut tx = app.db.begin().await?;
    staff::delete_expired_pending(&mut tx, now).await?;
    let enrolled = staff::get_credentials(&mut tx, &user_id)
        .await?
        .and_then(|c| c.totp_secret)
        .is_some();
    let enrol_secret = if enrolled {
        None
    } else {
        Some(factor::new_secret()?)
    };
    staff::insert_pending(
        &mut tx,
        &staff::PendingSignInRow {
            token_hash: sha256_hex(pending_secret.as_bytes()),
            user_id: user_id.clone(),
            enrol_secret,
            failures: 0,
            created_at: now,
            expires_at: now + PENDING_TTL_MS,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user_id, enrol = !enrolled, "password accepted; second factor pending");
    Ok(PasswordStep::SecondFactor { pending_secret })
}

/// A live pending sign-in for a cookie secret, with its user; `None` when unknown or expired.
async fn live_pending(
    tx: &mut madoguchi_db::Tx,
    pending_secret: &str,
    now: i64,
) -> CoreResult<Option<(staff::PendingSignInRow, users::UserRow)>> {
    if pending_secret.len() != 64 {
        return Ok(None);
    }
    let p = match staff::get_pending(tx, &sha256_hex(pending_secret.as_bytes())).await {
        Ok(p) => p,
        Err(DbError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if p.expires_at <= now {
        return Ok(None);
    }
    let user = users::get_user(tx, &p.user_id).await?;
    if user.disabled_at.is_some() {
        return Ok(None);
    }
    Ok(Some((p, user)))
}

/// What the second-factor page shows for a pending sign-in; `NotFound` when there is none.
pub async fn pending_sign_in(app: &App, pending_secret: &str) -> CoreResult<PendingView> {
    let now = app.now_ms();
    let mut tx = app.db.begin_read().await?;
    let (p, user) = live_pending(&mut tx, pending_secret, now)
        .await?
        .ok_or(CoreError::NotFound)?;
    let view = match p.enrol_secret {
        Some(secret) => PendingView::Enrol {
            otpauth_uri: factor::otpauth_uri(&secret, &user.login)?,
            secret_base32: secret,
            login: user.login,
            display_name: user.display_name,
        },
        None => PendingView::Verify {
            recovery_codes_left: staff::unused_recovery_codes(&mut tx, &user.id).await?,
            login: user.login,
            display_name: user.display_name,
        },
    };
    tx.commit().await?;
    Ok(view)
}

/// Abandons a pending sign-in (the person chose to start again).
pub async fn cancel_pending(app: &App, pending_secret: &str) -> CoreResult<()> {
    let mut tx = app.db.begin().await?;
    staff::take_pending(&mut tx, &sha256_hex(pending_secret.as_bytes())).await?;
    tx.commit().await?;
    Ok(())
}

/// The second-factor step (see the module documentation).
pub async fn complete_second_factor(
    app: &App,
    pending_secret: &str,
    input: &str,
) -> CoreResult<SecondFactorOutcome> {
    let now = app.now_ms();
    let now_secs = u64::try_from(now / 1000).unwrap_or(0);
    let code = factor::normalize_code(input);
    let mut tx = app.db.begin().await?;
    let Some((pending, user)) = live_pending(&mut tx, pending_secret, now).await? else {
        // Expired rows go at the next sign-in's housekeeping.
        tx.rollback().await?;
        return Ok(SecondFactorOutcome::Restart);
    };
    let token_hash = pending.token_hash.clone();

    // Which factor, and did it match? (method, Ok(step or none) | Err(reason))
    let (method, verdict): (&str, Result<(), &str>) = match &pending.enrol_secret {
        Some(secret) => {
            let ok = factor::looks_like_totp(&code)
                && factor::check_code(secret, &code, now_secs)?.is_some();
            (
                "totp_enrolment",
                if ok { Ok(()) } else { Err("wrong_code") },
            )
        }
        None => {
            let creds = staff::get_credentials(&mut tx, &user.id).await?;
            let Some(secret) = creds.and_then(|c| c.totp_secret) else {
                // The second factor was reset meanwhile: start again (and enrol).
                staff::take_pending(&mut tx, &token_hash).await?;
                tx.commit().await?;
                return Ok(SecondFactorOutcome::Restart);
            };
            if factor::looks_like_totp(&code) {
                let verdict = match factor::check_code(&secret, &code, now_secs)? {
                    None => Err("wrong_code"),
                    Some(step) => {
                        if staff::claim_totp_step(&mut tx, &user.id, step, now).await? {
                            Ok(())
                        } else {
                            Err("replayed_code")
                        }
                    }
                };
                ("totp", verdict)
            } else {
                let verdict = match factor::recovery_code_hash(&code) {
                    None => Err("wrong_code"),
                    Some(h) => {
                        if staff::use_recovery_code(&mut tx, &user.id, &h, now).await? {
                            Ok(())
                        } else {
                            Err("wrong_or_used_recovery_code")
                        }
                    }
                };
                ("recovery_code", verdict)
            }
        }
    };

    if let Err(reason) = verdict {
        let failures = staff::add_pending_failure(&mut tx, &token_hash).await?;
        let exhausted = failures >= MAX_CODE_FAILURES;
        if exhausted {
            staff::take_pending(&mut tx, &token_hash).await?;
        }
        madoguchi_db::audit::append(
            &mut tx,
            now,
            "anonymous",
            "session.sign_in_failed",
            "user",
            &user.id,
            &serde_json::json!({ "method": method, "reason": reason, "failures": failures }),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(user = %user.id, method, reason, failures, "staff second factor refused");
        return Ok(if exhausted {
            SecondFactorOutcome::Restart
        } else {
            SecondFactorOutcome::WrongCode {
                attempts_left: MAX_CODE_FAILURES - failures,
            }
        });
    }

    // Accepted: this request completes the pending sign-in (a concurrent one cannot).
    if !staff::take_pending(&mut tx, &token_hash).await? {
        tx.rollback().await?;
        return Ok(SecondFactorOutcome::Restart);
    }
    let mut recovery_codes = None;
    let mut recovery_codes_left = None;
    let how = match method {
        "totp_enrolment" => {
            let secret = pending.enrol_secret.as_deref().unwrap_or_default();
            let step = factor::check_code(secret, &code, now_secs)?.unwrap_or_default();
            staff::set_totp(&mut tx, &user.id, secret, step, now).await?;
            let codes = factor::new_recovery_codes()?;
            let hashes: Vec<String> = codes
                .iter()
                .filter_map(|c| factor::recovery_code_hash(c))
                .collect();
            staff::replace_recovery_codes(&mut tx, &user.id, &hashes, now).await?;
            madoguchi_db::audit::append(
                &mut tx,
                now,
                &user.id,
                "user.totp_enrolled",
                "user",
                &user.id,
                &serde_json::json!({ "recovery_codes": hashes.len() }),
            )
            .await?;
            recovery_codes = Some(codes);
            "password+totp"
        }
        "recovery_code" => {
            let left = staff::unused_recovery_codes(&mut tx, &user.id).await?;
            madoguchi_db::audit::append(
                &mut tx,
                now,
                &user.id,
                "user.recovery_code_used",
                "user",
                &user.id,
                &serde_json::json!({ "left": left }),
            )
            .await?;
            recovery_codes_left = Some(left);
            "password+recovery_code"
        }
        _ => "password+totp",
    };
    tx.commit().await?;
    let (session_secret, session) = create_session(app, &user.id, how).await?;
    tracing::info!(user = %user.id, method = how, "staff signed in");
    Ok(SecondFactorOutcome::SignedIn {
        session_secret,
        session,
        recovery_codes,
        recovery_codes_left,
    })
}
