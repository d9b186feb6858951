//! マイページ: the provider's own corporation and establishments as the registry holds them —
//! the once-only record every filing prefills from — with each designation's validity, and
//! for each value the 変更届 item through which it is changed.

use chrono::{Months, NaiveDate};
use madoguchi_db::registry;
use madoguchi_domain::registry::{Record, RegistryScope};
use madoguchi_domain::wareki::format_date_ja;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::filings::change_once::{self, ChangeItem};
use crate::{Actor, App, CoreResult};

/// One registry value, ready to show.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RegistryValueView {
    pub key: String,
    pub label: String,
    /// The value as read (dates in 和暦 and 西暦); empty when not registered.
    pub display: String,
    /// The raw value (any JSON: a string, a number, an object …), `null` when not
    /// registered.
    pub value: Value,
    /// The 変更届 item through which it changes (`manager` …), `None` when no 変更届
    /// carries it.
    pub change_item: Option<String>,
}

/// A 変更届 item offered for this record.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChangeItemView {
    pub value: String,
    pub label: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DesignationCard {
    pub service_code: String,
    pub service_name: String,
    pub authority_code: String,
    pub authority_name: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    pub valid_until: String,
    /// 「令和4年4月1日（2022年4月1日）」.
    pub valid_from_ja: String,
    pub valid_until_ja: String,
    /// `valid`, `expiring` (ends within 3 months) or `expired`.
    pub status: String,
    /// Days from today (JST) to the last valid day (negative once expired).
    pub days_left: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CorporationCard {
    /// 法人番号 (13 digits), when the corporation has one.
    pub corporate_number: Option<String>,
    pub name: String,
    pub values: Vec<RegistryValueView>,
    pub change_items: Vec<ChangeItemView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EstablishmentCard {
    pub id: String,
    pub office_number: String,
    pub name: String,
    /// The municipality the establishment is in.
    pub municipality_name: String,
    pub values: Vec<RegistryValueView>,
    pub designations: Vec<DesignationCard>,
    pub change_items: Vec<ChangeItemView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    pub corporation: CorporationCard,
    pub establishments: Vec<EstablishmentCard>,
    /// Today (JST) as the expiry markers count it.
    pub today: String,
}

/// The actor's corporation and establishments (providers only).
pub async fn organisation(app: &App, actor: &Actor) -> CoreResult<OrganisationView> {
    let corp_id = actor.require_provider()?;
    let items = change_once::change_items(change_once::definition(app)?);
    let today = crate::clock::today_jst(app.clock.as_ref());
    let mut tx = app.db.begin_read().await?;
    let authorities = registry::list_authorities(&mut tx).await?;
    let name_of = |code: &str| {
        authorities
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let corp = registry::get_corporation(&mut tx, corp_id).await?;
    let record = registry::parse_profile(&corp.profile)?;
    let corporation = CorporationCard {
        corporate_number: corp.corporate_number.clone(),
        name: corp.name.clone(),
        values: values(RegistryScope::Corporation, &record, &items),
        change_items: offered(RegistryScope::Corporation, &items),
    };
    let mut establishments = Vec::new();
    for e in registry::list_establishments_of(&mut tx, corp_id).await? {
        let record = registry::parse_profile(&e.profile)?;
        let designations = registry::designations_of_establishment(&mut tx, &e.id)
            .await?
            .into_iter()
            .map(|d| designation(d, &today, &name_of))
            .collect();
        establishments.push(EstablishmentCard {
            municipality_name: name_of(&e.municipality_code),
            values: values(RegistryScope::Establishment, &record, &items),
            change_items: offered(RegistryScope::Establishment, &items),
            id: e.id,
            office_number: e.office_number,
            name: e.name,
            designations,
        });
    }
    tx.commit().await?;
    Ok(OrganisationView {
        corporation,
        establishments,
        today: today.format("%Y-%m-%d").to_string(),
    })
}

fn offered(scope: RegistryScope, items: &[ChangeItem]) -> Vec<ChangeItemView> {
    items
        .iter()
        .filter(|i| i.scope == scope)
        .map(|i| ChangeItemView {
            value: i.value.clone(),
            label: i.label.clone(),
        })
        .collect()
}

fn values(scope: RegistryScope, record: &Record, items: &[ChangeItem]) -> Vec<RegistryValueView> {
    scope
        .keys()
        .iter()
        .map(|(key, label)| {
            let value = record.get(*key).cloned().unwrap_or(Value::Null);
            RegistryValueView {
                key: (*key).to_string(),
                label: (*label).to_string(),
                display: display(&value),
                change_item: items
                    .iter()
                    .find(|i| i.scope == scope && i.keys.iter().any(|k| k == key))
                    .map(|i| i.value.clone()),
                value,
            }
        })
        .collect()
}

/// A registry value as read: dates in 和暦 with 西暦, numbers as written, text as is.
pub fn display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => format_date_ja(d),
            Err(_) => s.clone(),
        },
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "はい".into(),
        Value::Bool(false) => "いいえ".into(),
        other => other.to_string(),
    }
}

/// The validity of a designation as of `today`: expiring when it ends within 3 months.
pub fn validity(valid_until: NaiveDate, today: NaiveDate) -> (&'static str, i64) {
    let days_left = (valid_until - today).num_days();
    let status = if valid_until < today {
        "expired"
    } else if today
        .checked_add_months(Months::new(3))
        .is_none_or(|limit| valid_until <= limit)
    {
        "expiring"
    } else {
        "valid"
    };
    (status, days_left)
}

fn designation(
    d: registry::DesignationRow,
    today: &NaiveDate,
    name_of: &dyn Fn(&str) -> String,
) -> DesignationCard {
    let from = NaiveDate::parse_from_str(&d.valid_from, "%Y-%m-%d").ok();
    let until = NaiveDate::parse_from_str(&d.valid_until, "%Y-%m-%d").ok();
    let (status, days_left) = until.map(|u| validity(u, *today)).unwrap_or(("valid", 0));
    DesignationCard {
        service_name: madoguchi_domain::ids::find_service_type(&d.service_code)
            .map(|s| s.name.to_string())
            .unwrap_or_else(|| d.service_code.clone()),
        authority_name: name_of(&d.authority_code),
        valid_from_ja: from.map(format_date_ja).unwrap_or(d.valid_from.clone()),
        valid_until_ja: until.map(format_date_ja).unwrap_or(d.valid_until.clone()),
        status: status.into(),
        days_left,
        service_code: d.service_code,
        authority_code: d.authority_code,
        valid_from: d.valid_from,
        valid_until: d.valid_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn expiry_marker_within_three_months() {
        let today = d("2026-04-15");
        assert_eq!(validity(d("2026-07-15"), today), ("expiring", 91));
        assert_eq!(validity(d("2026-07-16"), today).0, "valid");
        assert_eq!(validity(d("2026-04-15"), today), ("expiring", 0));
        assert_eq!(validity(d("2026-04-14"), today), ("expired", -1));
        // Month ends: 3 months after 11-30 is 02-28.
        assert_eq!(validity(d("2027-02-28"), d("2026-11-30")).0, "expiring");
        assert_eq!(validity(d("2027-03-01"), d("2026-11-30")).0, "valid");
    }

    #[test]
    fn values_read_as_japanese() {
        assert_eq!(
            display(&Value::String("1975-06-01".into())),
            "昭和50年6月1日（1975年6月1日）"
        );
        assert_eq!(display(&serde_json::json!(30)), "30");
        assert_eq!(display(&Value::Null), "");
        assert_eq!(display(&Value::String("9時から18時".into())), "9時から18時");
    }
}
