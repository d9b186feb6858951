//! Master data (マスタ): the authority's own details, editable by its admins (the name shown
//! to providers, the contact e-mail notifications go to, the address and telephone number
//! shown on the local-rules page and receipts), and the built-in code tables, shown read-only
//! with where they come from.

use madoguchi_db::{DbError, Tx, authority_admin, registry};
use madoguchi_domain::authority::AuthorityKind;
use madoguchi_domain::ids::service_types;
use madoguchi_domain::procedure::code_tables;
use madoguchi_domain::procedure::{FieldError, is_email, is_phone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{authority_name, required_text};
use crate::clock::format_ms_jst;
use crate::{Actor, App, CoreError, CoreResult};

/// How providers can reach an authority (public: the local-rules page, receipts).
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct AuthorityContact {
    pub code: String,
    pub name: String,
    /// Contact e-mail (notifications of arrivals go there too).
    pub email: String,
    /// Postal address; empty when not given.
    pub address: String,
    /// Telephone number; empty when not given.
    pub phone: String,
}

/// The details an admin edits.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuthorityDetails {
    #[serde(flatten)]
    pub contact: AuthorityContact,
    /// 都道府県, 政令指定都市, …
    pub kind_label: String,
    /// Last change of the address or telephone (JST), if any.
    pub updated_at: Option<String>,
}

pub(crate) async fn load_contact(
    tx: &mut Tx,
    code: &str,
) -> CoreResult<(AuthorityContact, String, Option<i64>)> {
    let a = match registry::get_authority(tx, code).await {
        Ok(a) => a,
        Err(DbError::NotFound) => return Err(CoreError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let d = authority_admin::get_details(tx, code).await?;
    let kind = AuthorityKind::parse(&a.kind)
        .map(|k| k.label().to_owned())
        .unwrap_or(a.kind);
    Ok((
        AuthorityContact {
            code: a.code,
            name: a.name,
            email: a.email,
            address: d.as_ref().map(|d| d.address.clone()).unwrap_or_default(),
            phone: d.as_ref().map(|d| d.phone.clone()).unwrap_or_default(),
        },
        kind,
        d.map(|d| d.updated_at),
    ))
}

/// An authority's contact details, for anyone (they are published); `NotFound` for a code the
/// registry does not hold.
pub async fn contact(app: &App, code: &str) -> CoreResult<AuthorityContact> {
    let mut tx = app.db.begin_read().await?;
    let (c, _, _) = load_contact(&mut tx, code).await?;
    tx.commit().await?;
    Ok(c)
}

/// The authority's details, for its admin.
pub async fn details(app: &App, actor: &Actor, code: &str) -> CoreResult<AuthorityDetails> {
    let mut tx = app.db.begin_read().await?;
    authority_name(&mut tx, actor, code).await?;
    let (contact, kind_label, updated) = load_contact(&mut tx, code).await?;
    tx.commit().await?;
    Ok(AuthorityDetails {
        contact,
        kind_label,
        updated_at: updated.map(format_ms_jst),
    })
}

/// What the admin's form sends.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct DetailsInput {
    /// The name shown to providers (東京都, 新宿区 福祉部介護保険課 …).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// Optional.
    #[serde(default)]
    pub address: String,
    /// Optional; 10–11 digits with hyphens.
    #[serde(default)]
    pub phone: String,
}

/// Full-width digits and hyphen-like marks as typed with a Japanese IME, made ASCII.
fn fold_phone(s: &str) -> String {
    madoguchi_domain::kana::fold_full_width_ascii(s.trim())
        .chars()
        .map(|c| match c {
            'ー' | '−' | '‐' | '―' | '－' | '–' | '—' => '-',
            c => c,
        })
        .collect()
}

fn check(input: &DetailsInput) -> Result<DetailsInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = required_text("name", "表示する名称", &input.name, 100)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let email = input.email.trim().to_owned();
    if email.is_empty() {
        errors.push(FieldError {
            field: "email".into(),
            code: "required".into(),
            message: "連絡先のメールアドレスを入力してください。".into(),
        });
    } else if email.len() > 254 || !is_email(&email) {
        errors.push(FieldError {
            field: "email".into(),
            code: "invalid_format".into(),
            message:
                "連絡先のメールアドレスの形式が正しくありません（例: kaigo@city.example.lg.jp）。"
                    .into(),
        });
    }
    let address = input.address.trim().to_owned();
    if address.chars().count() > 200 || address.chars().any(char::is_control) {
        errors.push(FieldError {
            field: "address".into(),
            code: "invalid_format".into(),
            message: "所在地は改行を含めず200文字以内で入力してください。".into(),
        });
    }
    let phone = fold_phone(&input.phone);
    if !phone.is_empty() && !is_phone(&phone) {
        errors.push(FieldError {
            field: "phone".into(),
            code: "invalid_format".into(),
            message:
                "電話番号は数字とハイフンで、10桁か11桁で入力してください（例: 03-5273-4111）。"
                    .into(),
        });
    }
    if errors.is_empty() {
        Ok(DetailsInput {
            name,
            email,
            address,
            phone,
        })
    } else {
        Err(errors)
    }
}

/// Changes the authority's details (`authority.details_updated`, with the values before and
/// after).
pub async fn update_details(
    app: &App,
    actor: &Actor,
    code: &str,
    input: &DetailsInput,
) -> CoreResult<AuthorityDetails> {
    let mut tx = app.db.begin_read().await?;
    authority_name(&mut tx, actor, code).await?;
    tx.commit().await?;
    let v = check(input).map_err(CoreError::Validation)?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    authority_admin::lock_authority(&mut tx, code).await?;
    let (before, _, _) = load_contact(&mut tx, code).await?;
    authority_admin::update_authority_contact(&mut tx, code, &v.name, &v.email).await?;
    authority_admin::upsert_details(
        &mut tx,
        &authority_admin::AuthorityDetailsRow {
            authority_code: code.to_owned(),
            address: v.address.clone(),
            phone: v.phone.clone(),
            updated_by: actor.user_id.clone(),
            updated_at: now,
        },
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "authority.details_updated",
        "authority",
        code,
        &serde_json::json!({
            "before": { "name": before.name, "email": before.email, "address": before.address, "phone": before.phone },
            "after": { "name": v.name, "email": v.email, "address": v.address, "phone": v.phone },
        }),
    )
    .await?;
    tx.commit().await?;
    details(app, actor, code).await
}

/// One built-in code table, read-only.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CodeTable {
    /// The name definitions use (`code_table = "service_types"`).
    pub id: String,
    pub title: String,
    /// Where the codes come from.
    pub source: String,
    /// Headings of the columns after the code.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The code tables select fields can take their options from, with their sources.
pub fn code_tables() -> Vec<CodeTable> {
    let service = CodeTable {
        id: "service_types".into(),
        title: "サービス種類コード".into(),
        source: "厚生労働省「介護保険事務処理システム」のサービス種類コード（2桁）と、介護サービス情報公表システムのサービスコード（3桁）。窓口に組み込み（crates/madoguchi-domain/src/ids/service_type.rs）。".into(),
        columns: vec!["コード".into(), "サービス".into(), "公表システムのコード".into(), "区分".into()],
        rows: service_types()
            .iter()
            .map(|t| {
                vec![
                    t.code.to_owned(),
                    t.name.to_owned(),
                    t.public_code.to_owned(),
                    t.category.label().to_owned(),
                ]
            })
            .collect(),
    };
    let table = |id: &str, title: &str, source: &str| CodeTable {
        id: id.into(),
        title: title.into(),
        source: source.into(),
        columns: vec!["コード".into(), "名称".into()],
        rows: code_tables::options(id)
            .unwrap_or_default()
            .into_iter()
            .map(|c| vec![c.value, c.label])
            .collect(),
    };
    vec![
        service,
        table(
            "prefectures",
            "都道府県",
            "JIS X 0401（都道府県コード）。窓口に組み込み（crates/madoguchi-domain/src/procedure/code_tables.rs）。",
        ),
        table(
            "corporation_types",
            "法人等の種類",
            "介護保険法施行規則の標準様式（別紙様式第一号 等）の「法人等の種類」。窓口に組み込み（crates/madoguchi-domain/src/procedure/code_tables.rs）。",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_checked_field_by_field() {
        let ok = check(&DetailsInput {
            name: " 新宿区 ".into(),
            email: "kaigo@shinjuku.example.lg.jp".into(),
            address: "東京都新宿区歌舞伎町1-4-1".into(),
            phone: "０３－５２７３－４１１１".into(),
        })
        .unwrap();
        assert_eq!(ok.name, "新宿区");
        assert_eq!(ok.phone, "03-5273-4111");
        let errs = check(&DetailsInput {
            name: " ".into(),
            email: "nope".into(),
            address: "a\nb".into(),
            phone: "123".into(),
        })
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "address", "phone"]);
        // Address and telephone may stay empty.
        assert!(
            check(&DetailsInput {
                name: "x".into(),
                email: "a@b.jp".into(),
                ..Default::default()
            })
            .is_ok()
        );
    }

    #[test]
    fn the_code_tables_are_complete() {
        let t = code_tables();
        assert_eq!(t.len(), 3);
        assert!(t[0].rows.iter().any(|r| r[0] == "78"));
        assert_eq!(t[1].rows.len(), 47);
        assert_eq!(t[1].rows[12], ["13", "東京都"]);
        assert!(t.iter().all(|t| !t.source.is_empty()));
    }
}
