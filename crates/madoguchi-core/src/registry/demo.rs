//! Demo data: authorities, two corporations with establishments in five towns, designations
//! routed by the designation rules, and sign-ins for every role. Loaded only into an empty
//! database (`serve --demo`, and tests that want a realistic world).

use std::collections::BTreeMap;

use madoguchi_db::registry::{AuthorityRow, CorporationRow, DesignationRow, EstablishmentRow};
use madoguchi_db::users::{MembershipRow, UserRow};
use madoguchi_db::{Tx, new_id, registry, users};
use madoguchi_domain::authority::{AuthorityKind, MunicipalityFacts};
use madoguchi_domain::ids::{CorporateNumber, LocalGovCode, OfficeNumber, find_service_type};
use serde::Deserialize;

use crate::{App, CoreError, CoreResult};

const DEMO: &str = include_str!("../../../../reference-data/demo.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    authority: Vec<DemoAuthority>,
    corporation: Vec<DemoCorporation>,
    user: Vec<DemoUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoAuthority {
    code: String,
    name: String,
    kind: String,
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCorporation {
    key: String,
    corporate_number: Option<String>,
    profile: serde_json::Map<String, serde_json::Value>,
    establishment: Vec<DemoEstablishment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoEstablishment {
    office_number: String,
    municipality: String,
    services: Vec<String>,
    designated_on: String,
    profile: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUser {
    login: String,
    display_name: String,
    email: String,
    role: String,
    corporation: Option<String>,
}

/// One demo sign-in, for printing.
#[derive(Clone, Debug)]
pub struct DemoLogin {
    pub login: String,
    pub display_name: String,
    pub role_label: String,
    pub organisation: String,
}

/// Loads the demo world if the database holds no corporation yet; returns the sign-ins
/// (empty when data already existed).
pub async fn seed_if_empty(app: &App) -> CoreResult<Vec<DemoLogin>> {
    // Hashed before the write transaction (Argon2 takes a while); one hash serves every
    // demo staff account.
    let staff_password_hash = app.passwords.hash(DEMO_STAFF_PASSWORD).await?;
    let mut tx = app.db.begin().await?;
    if registry::count_corporations(&mut tx).await? > 0 {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    let logins = seed(app, &mut tx).await?;
    set_demo_staff_passwords(&mut tx, &staff_password_hash, app.now_ms()).await?;
    tx.commit().await?;
    Ok(logins)
}

/// The password of every demo staff account (authority staff and the operator). The second
/// factor is enrolled at first sign-in, as for real staff.
pub const DEMO_STAFF_PASSWORD: &str = "madoguchi-demo-staff";

/// Gives every non-provider demo user the demo staff password.
async fn set_demo_staff_passwords(tx: &mut Tx, phc: &str, now: i64) -> CoreResult<()> {
    for u in users::list_users(tx).await? {
        let memberships = users::memberships_of(tx, &u.id).await?;
        if memberships.iter().any(|m| m.role != "provider") {
            madoguchi_db::staff::set_password_hash(tx, &u.id, phc, now).await?;
        }
    }
    Ok(())
}

fn bad(msg: String) -> CoreError {
    CoreError::Internal(format!("demo.toml: {msg}"))
}

async fn seed(app: &App, tx: &mut Tx) -> CoreResult<Vec<DemoLogin>> {
    let demo: DemoFile = toml::from_str(DEMO).map_err(|e| bad(e.to_string()))?;
    let now = app.now_ms();
    let mut logins = Vec::new();
    let mut authorities = BTreeMap::new();
    for a in &demo.authority {
        let code = LocalGovCode::parse(&a.code).map_err(|e| bad(format!("{}: {e}", a.code)))?;
        let kind =
            AuthorityKind::parse(&a.kind).ok_or_else(|| bad(format!("unknown kind {}", a.kind)))?;
        let row = AuthorityRow {
            code: code.as_str().to_string(),
            name: a.name.clone(),
            kind: kind.as_str().into(),
            prefecture_code: format!("{}000", code.prefecture_code()),
            delegate_code: None,
            email: a.email.clone(),
        };
        // The prefecture's own code carries a check digit: find it among the loaded ones.
        let row = AuthorityRow {
            prefecture_code: prefecture_of(&demo.authority, code.prefecture_code())
                .unwrap_or(row.prefecture_code.clone()),
            ..row
        };
        registry::insert_authority(tx, &row).await?;
        authorities.insert(row.code.clone(), row);
    }
    for a in authorities.values() {
        for (prefix, role, label) in [
            ("reviewer", "reviewer", "審査担当"),
            ("admin", "authority_admin", "自治体管理者"),
        ] {
            let login = format!("{prefix}-{}", a.code);
            let name = format!("{}　{}", a.name, label);
            let email = format!(
                "{prefix}-{}@{}",
                a.code,
                a.email.split('@').nth(1).unwrap_or("example.lg.jp")
            );
            add_user(tx, &login, &name, &email, role, None, Some(&a.code), now).await?;
            logins.push(DemoLogin {
                login,
                display_name: name,
                role_label: label.into(),
                organisation: a.name.clone(),
            });
        }
    }
    let mut corp_ids = BTreeMap::new();
    for c in &demo.corporation {
        let number = c
            .corporate_number
            .as_deref()
            .map(CorporateNumber::parse)
            .transpose()
            .map_err(|e| bad(format!("{}: {e}", c.key)))?;
        let id = new_id();
        let name = c
            .profile
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let mut profile = c.profile.clone();
        if let Some(n) = &number {
            profile.insert("corporate_number".into(), n.as_str().into());
        }
        registry::insert_corporation(
            tx,
            &CorporationRow {
                id: id.clone(),
                corporate_number: number.map(|n| n.as_str().to_string()),
                name: name.clone(),
                profile: serde_json::to_string(&profile)?,
                created_at: now,
                updated_at: now,
            },
        )
        .await?;
        for e in &c.establishment {
            let number = OfficeNumber::parse(&e.office_number)
                .map_err(|err| bad(format!("{}: {err}", e.office_number)))?
                .number;
            let muni = authorities
                .get(&e.municipality)
                .ok_or_else(|| bad(format!("unknown municipality {}", e.municipality)))?;
            let est_id = new_id();
            let est_name = e
                .profile
                .get("name")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            let mut profile = e.profile.clone();
            profile.insert("office_number".into(), number.as_str().into());
            registry::insert_establishment(
                tx,
                &EstablishmentRow {
                    id: est_id.clone(),
                    corporation_id: id.clone(),
                    office_number: number.as_str().to_string(),
                    municipality_code: muni.code.clone(),
                    name: est_name,
                    profile: serde_json::to_string(&profile)?,
                    created_at: now,
                    updated_at: now,
                },
            )
            .await?;
            for s in &e.services {
                let st = find_service_type(s).ok_or_else(|| bad(format!("unknown service {s}")))?;
                let facts = MunicipalityFacts {
                    code: &muni.code,
                    kind: AuthorityKind::parse(&muni.kind).unwrap_or(AuthorityKind::Municipality),
                    prefecture_code: &muni.prefecture_code,
                    delegate_code: muni.delegate_code.as_deref(),
                };
                let authority_code = app
                    .rules
                    .designating_authority(st.category, &facts)
                    .map_err(|e| bad(e.to_string()))?;
                let from = chrono::NaiveDate::parse_from_str(&e.designated_on, "%Y-%m-%d")
                    .map_err(|err| bad(err.to_string()))?;
                let until = from
                    .checked_add_months(chrono::Months::new(72))
                    .and_then(|d| d.pred_opt())
                    .ok_or_else(|| bad("date".into()))?;
                registry::insert_designation(
                    tx,
                    &DesignationRow {
                        id: new_id(),
                        establishment_id: est_id.clone(),
                        service_code: st.code.into(),
                        authority_code,
                        valid_from: from.to_string(),
                        valid_until: until.to_string(),
                    },
                )
                .await?;
            }
        }
        corp_ids.insert(c.key.clone(), (id, name));
    }
    for u in &demo.user {
        let corp = u
            .corporation
            .as_ref()
            .map(|k| {
                corp_ids
                    .get(k)
                    .ok_or_else(|| bad(format!("unknown corporation {k}")))
            })
            .transpose()?;
        add_user(
            tx,
            &u.login,
            &u.display_name,
            &u.email,
            &u.role,
            corp.map(|c| c.0.as_str()),
            None,
            now,
        )
        .await?;
        let org = corp
            .map(|c| c.1.clone())
            .unwrap_or_else(|| "窓口運営".into());
        let role_label = match u.role.as_str() {
            "provider" => "事業者",
            "operator" => "運営者",
            _ => "その他",
        };
        logins.insert(
            0,
            DemoLogin {
                login: u.login.clone(),
                display_name: u.display_name.clone(),
                role_label: role_label.into(),
                organisation: org,
            },
        );
    }
    logins.sort_by_key(|l| (l.role_label != "事業者", l.login.clone()));
    madoguchi_db::audit::append(
        tx,
        now,
        "system",
        "demo.seeded",
        "system",
        "demo",
        &serde_json::json!({ "users": logins.len() }),
    )
    .await?;
    Ok(logins)
}

fn prefecture_of(all: &[DemoAuthority], pref: &str) -> Option<String> {
    all.iter()
        .find(|a| a.kind == "prefecture" && a.code.starts_with(pref))
        .map(|a| a.code.clone())
}

async fn add_user(
    tx: &mut Tx,
    login: &str,
    name: &str,
    email: &str,
    role: &str,
    corporation_id: Option<&str>,
    authority_code: Option<&str>,
    now: i64,
) -> CoreResult<()> {
    let id = new_id();
    users::insert_user(
        tx,
        &UserRow {
            id: id.clone(),
            login: login.into(),
            display_name: name.into(),
            email: email.into(),
            created_at: now,
            disabled_at: None,
        },
    )
    .await?;
    users::insert_membership(
        tx,
        &MembershipRow {
            id: new_id(),
            user_id: id,
            role: role.into(),
            corporation_id: corporation_id.map(Into::into),
            authority_code: authority_code.map(Into::into),
            created_at: now,
        },
    )
    .await?;
    Ok(())
}
