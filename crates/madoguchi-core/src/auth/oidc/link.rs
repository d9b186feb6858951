//! Signing in a verified provider identity: the user is found (or registered) by (issuer,
//! subject) and linked to the corporation whose 法人番号 the provider states — checked again at
//! every sign-in, so a changed 法人番号 moves the link, and one no corporation here holds
//! removes it (and ends the user's sessions) and refuses the sign-in.

use madoguchi_db::users::{MembershipRow, UserRow};
use madoguchi_db::{new_id, oidc, users};
use madoguchi_domain::ids::CorporateNumber;

use super::OidcRefusal;
use crate::App;
use crate::auth::{Session, create_session};
use crate::blobs::sha256_hex;

/// Who signed in, as established by the relying party's checks.
#[derive(Clone, Debug)]
pub struct OidcIdentity {
    pub issuer: String,
    pub subject: String,
    /// GビズID account type: "1" エントリー, "2" プライム, "3" メンバー ("" if not stated).
    pub account_type: String,
    /// "1" 法人, "2" 個人事業主 ("" if not stated).
    pub corp_type: String,
    pub corporate_number: String,
    pub display_name: String,
    pub email: String,
}

/// Links the identity to its corporation and opens a session (the cookie secret and the
/// session), or refuses.
pub async fn sign_in(app: &App, id: &OidcIdentity) -> Result<(String, Session), OidcRefusal> {
    let now = app.now_ms();
    let number = CorporateNumber::parse(&id.corporate_number)
        .ok()
        .map(|n| n.as_str().to_string());
    let display_name = if id.display_name.trim().is_empty() {
        "事業者の担当者".to_string()
    } else {
        id.display_name.trim().chars().take(100).collect()
    };
    let email: String = id.email.trim().chars().take(254).collect();
    let mut tx = app.db.begin().await?;
    let corporation = match &number {
        Some(n) => oidc::corporation_by_number(&mut tx, n).await?,
        None => None,
    };
    let existing = oidc::user_by_identity(&mut tx, &id.issuer, &id.subject).await?;
    if existing.as_ref().is_some_and(|u| u.disabled_at.is_some()) {
        tx.rollback().await?;
        tracing::warn!(issuer = %id.issuer, "OIDC sign-in of a disabled user refused");
        return Err(OidcRefusal::Disabled);
    }
    let details = serde_json::json!({
        "issuer": id.issuer,
        "account_type": id.account_type,
        "corp_type": id.corp_type,
        "corporate_number": id.corporate_number,
    });
    let user_id = match (existing, corporation) {
        (None, None) => {
            tx.rollback().await?;
            return Err(refusal(id, number.is_some()));
        }
        (Some(user), None) => {
            // The 法人番号 changed to one nobody here holds (or vanished): the link goes, and
            // with it every session of the user.
            let removed = oidc::delete_provider_memberships(&mut tx, &user.id).await?;
            users::delete_sessions_of(&mut tx, &user.id).await?;
            oidc::refresh_profile(&mut tx, &user.id, &display_name, &email, &id.account_type)
                .await?;
            if removed > 0 {
                madoguchi_db::audit::append(
                    &mut tx,
                    now,
                    &user.id,
                    "user.corporation_unlinked",
                    "user",
                    &user.id,
                    &details,
                )
                .await?;
            }
            tx.commit().await?;
            return Err(refusal(id, number.is_some()));
        }
        (None, Some((corporation_id, _))) => {
            let user = UserRow {
                id: new_id(),
                login: login_for(&id.issuer, &id.subject),
                display_name,
                email,
                created_at: now,
                disabled_at: None,
            };
            users::insert_user(&mut tx, &user).await?;
            oidc::set_identity(&mut tx, &user.id, &id.issuer, &id.subject, &id.account_type)
                .await?;
            link_to(&mut tx, &user.id, &corporation_id, now).await?;
            let mut d = details.clone();
            d["corporation_id"] = corporation_id.clone().into();
            madoguchi_db::audit::append(
                &mut tx,
                now,
                &user.id,
                "user.registered",
                "user",
                &user.id,
                &d,
            )
            .await?;
            user.id
        }
        (Some(user), Some((corporation_id, _))) => {
            oidc::refresh_profile(&mut tx, &user.id, &display_name, &email, &id.account_type)
                .await?;
            let current: Vec<String> = users::memberships_of(&mut tx, &user.id)
                .await?
                .into_iter()
                .filter(|m| m.role == "provider")
                .filter_map(|m| m.corporation_id)
                .collect();
            if current != [corporation_id.clone()] {
                oidc::delete_provider_memberships(&mut tx, &user.id).await?;
                // Sessions opened for the former corporation end with the move.
                users::delete_sessions_of(&mut tx, &user.id).await?;
                link_to(&mut tx, &user.id, &corporation_id, now).await?;
                let mut d = details.clone();
                d["from"] = current.into();
                d["corporation_id"] = corporation_id.clone().into();
                madoguchi_db::audit::append(
                    &mut tx,
                    now,
                    &user.id,
                    "user.corporation_relinked",
                    "user",
                    &user.id,
                    &d,
                )
                .await?;
            }
            user.id
        }
    };
    tx.commit().await?;
    Ok(create_session(app, &user_id, "oidc").await?)
}

fn refusal(id: &OidcIdentity, has_number: bool) -> OidcRefusal {
    tracing::warn!(
        issuer = %id.issuer,
        corporate_number = %id.corporate_number,
        corp_type = %id.corp_type,
        "OIDC sign-in refused: no corporation with this corporate number"
    );
    if has_number {
        OidcRefusal::NotRegistered {
            corporate_number: id.corporate_number.clone(),
        }
    } else {
        OidcRefusal::NoCorporateNumber
    }
}

async fn link_to(
    tx: &mut madoguchi_db::Tx,
    user_id: &str,
    corporation_id: &str,
    now: i64,
) -> Result<(), OidcRefusal> {
    users::insert_membership(
        tx,
        &MembershipRow {
            id: new_id(),
            user_id: user_id.into(),
            role: "provider".into(),
            corporation_id: Some(corporation_id.into()),
            authority_code: None,
            created_at: now,
        },
    )
    .await?;
    Ok(())
}

/// A stable, opaque login name for a provider identity (administration by login works for
/// these users too: `madoguchi admin disable-user oidc-…`).
fn login_for(issuer: &str, subject: &str) -> String {
    let h = sha256_hex(format!("{issuer}\n{subject}").as_bytes());
    format!("oidc-{}", &h[..16])
}
