//! Change once, file everywhere: the provider enters a new registry value on マイページ (a new
//! 管理者, 代表者, 主たる事務所 …) and gets every 変更届 the change legally calls for, as drafts
//! prefilled from the registry with the change applied and the right 変更事項 ticked.
//!
//! The registry itself does not change here: only an authority's acceptance changes it. Which
//! item of the 変更届 a registry value belongs to is read from the definition (the groups an
//! item reveals and the registry values they write, see `ProcedureDefinition::revealed_by`).
//! Who receives each draft is the ordinary routing of filings (`filings::addressees`): a
//! corporation's value (代表者, 主たる事務所) is one draft covering every establishment, which
//! fans out to every authority that designated one of them; an establishment's value is one
//! draft per establishment (the 変更届 is made per establishment), which goes to the
//! authorities of that establishment's designations.

use std::collections::{BTreeMap, BTreeSet};

use madoguchi_db::batches::{self, BatchRow, PrefillSourceRow};
use madoguchi_db::{new_id, registry};
use madoguchi_domain::procedure::{FieldError, FilingData, ProcedureDefinition};
use madoguchi_domain::registry::{Record, RegistryKey, RegistryScope, label_of};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::batch::{ChangeLine, KIND_CHANGE};
use crate::{Actor, App, CoreError, CoreResult};

/// The procedure the drafts are made with (its latest version).
pub const PROCEDURE: &str = "change-notification";
/// Its multi-select of 変更事項, its 変更年月日 and its 変更の理由.
pub const ITEMS_FIELD: &str = "change_items";
pub const DATE_FIELD: &str = "change_date";
pub const REASON_FIELD: &str = "reason";
/// The label of answers the provider entered as the change.
pub const CHANGE_LABEL: &str = "マイページで入力した変更内容";

/// A change of registry values, as entered on マイページ.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ChangeRequest {
    /// 変更年月日 (`YYYY-MM-DD`), the day the change took effect.
    #[serde(default)]
    pub change_date: String,
    /// 変更の理由 (optional).
    #[serde(default)]
    pub reason: String,
    /// New values of the corporation's record, by registry key (`representative_name` …).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub corporation: Record,
    /// New values of establishments' records: establishment id → registry key → value.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub establishments: BTreeMap<String, Record>,
    /// Further answers of the 変更届 that are not registry values, e.g. 運営規程の変更の概要
    /// (`{"establishments": {"<id>": {"operating_rules_changes": "…"}}}`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub details: FilingData,
}

/// The 変更届 definition the drafts use.
pub fn definition(app: &App) -> CoreResult<&ProcedureDefinition> {
    app.catalog
        .latest(PROCEDURE)
        .ok_or_else(|| CoreError::Internal(format!("procedure {PROCEDURE} missing")))
}

/// A 変更事項 a provider can change from マイページ: an option of the 変更届 whose groups
/// write registry values of one scope.
#[derive(Clone, Debug)]
pub struct ChangeItem {
    /// The option's value (`manager`) and label (「管理者の氏名、生年月日及び住所」).
    pub value: String,
    pub label: String,
    pub scope: RegistryScope,
    /// The registry keys (without scope) its groups write, in form order.
    pub keys: Vec<String>,
}

/// The items of the 変更届 that write registry values (those マイページ offers to change).
pub fn change_items(def: &ProcedureDefinition) -> Vec<ChangeItem> {
    def.revealed_by(ITEMS_FIELD)
        .into_iter()
        .filter_map(|r| {
            let effects = r.effects();
            let scope = effects.first()?.scope;
            Some(ChangeItem {
                value: r.choice.value.clone(),
                label: r.choice.label.clone(),
                scope,
                keys: effects
                    .iter()
                    .filter(|k| k.scope == scope)
                    .map(|k| k.key.clone())
                    .collect(),
            })
        })
        .collect()
}

/// The field of the 変更届 that writes a registry key, with whether it is per establishment.
fn field_writing<'a>(def: &'a ProcedureDefinition, key: &RegistryKey) -> Option<&'a str> {
    def.groups
        .iter()
        .filter(|g| g.visible_when.is_some())
        .flat_map(|g| g.fields.iter())
        .find(|f| f.effect.as_ref() == Some(key))
        .map(|f| f.id.as_str())
}

/// Where the 変更届 form answers what the request called `path` (for pages that post the
/// form's own field names): `corporation.<key>` → `fields.<field>`,
/// `establishments.<id>.<key>` → `establishments.<id>.<field>`, `change_date` →
/// `fields.change_date`, `details.<path>` → `<path>`.
pub fn form_path(def: &ProcedureDefinition, path: &str) -> String {
    if path == "change_date" {
        return format!("fields.{DATE_FIELD}");
    }
    if path == "reason" {
        return format!("fields.{REASON_FIELD}");
    }
    if let Some(rest) = path.strip_prefix("details.") {
        return rest.to_string();
    }
    if let Some(key) = path.strip_prefix("corporation.")
        && let Some(field) = field_writing(def, &RegistryKey::corporation(key))
    {
        return format!("fields.{field}");
    }
    if let Some((est, key)) = path
        .strip_prefix("establishments.")
        .and_then(|r| r.split_once('.'))
        && let Some(field) = field_writing(def, &RegistryKey::establishment(key))
    {
        return format!("establishments.{est}.{field}");
    }
    path.to_string()
}

/// The reverse of [`form_path`] for errors found on a draft.
fn request_path(def: &ProcedureDefinition, path: &str) -> String {
    let field_of = |id: &str| def.field(id).map(|(_, f)| f);
    if let Some(id) = path.strip_prefix("fields.") {
        if id == DATE_FIELD {
            return "change_date".into();
        }
        if id == REASON_FIELD {
            return "reason".into();
        }
        if let Some(key) = field_of(id).and_then(|f| f.effect.as_ref()) {
            return format!("corporation.{}", key.key);
        }
    }
    if let Some((est, id)) = path
        .strip_prefix("establishments.")
        .and_then(|r| r.split_once('.'))
        && let Some(key) = field_of(id).and_then(|f| f.effect.as_ref())
    {
        return format!("establishments.{est}.{}", key.key);
    }
    format!("details.{path}")
}

/// One draft to be made: the establishments it covers and its answers.
struct Plan {
    ids: Vec<String>,
    data: FilingData,
    /// Paths of the answers that are the change itself.
    changed: Vec<String>,
}

/// Prepares the 変更届 drafts a registry change calls for, as one batch; returns its id.
/// Nothing is created when anything is wrong: every problem is reported at once, each at the
/// request's own path (`change_date`, `corporation.<key>`, `establishments.<id>.<key>`,
/// `details.…`).
pub async fn prepare(app: &App, actor: &Actor, req: ChangeRequest) -> CoreResult<String> {
    let corp = actor.require_provider()?.to_string();
    let def = definition(app)?;
    let items = change_items(def);
    let mut errors: Vec<FieldError> = Vec::new();
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let snapshot = crate::registry::snapshot(&mut tx, &corp).await?;
    let own = registry::list_establishments_of(&mut tx, &corp).await?;
    let mut designated: BTreeSet<String> = BTreeSet::new();
    for d in registry::designations_of_corporation(&mut tx, &corp).await? {
        designated.insert(d.establishment_id);
    }
    let corp_name = registry::get_corporation(&mut tx, &corp).await?.name;

    // Which item each changed key belongs to; unknown keys and values the 変更届 does not
    // carry are refused by name.
    let item_of = |scope: RegistryScope, key: &str| {
        items
            .iter()
            .find(|i| i.scope == scope && i.keys.iter().any(|k| k == key))
    };
    let check_keys =
        |scope: RegistryScope, prefix: &str, record: &Record, errors: &mut Vec<FieldError>| {
            for key in record.keys() {
                let parsed = RegistryKey {
                    scope,
                    key: key.clone(),
                };
                if label_of(&parsed).is_none() {
                    errors.push(field_error(
                        format!("{prefix}.{key}"),
                        "unknown_key",
                        format!("「{key}」という登録情報の項目はありません。"),
                    ));
                } else if item_of(scope, key).is_none() {
                    errors.push(field_error(
                        format!("{prefix}.{key}"),
                        "not_notifiable",
                        format!(
                            "{}は変更届出書の記載事項ではないため、ここでは変更できません。",
                            label_of(&parsed).unwrap_or(key)
                        ),
                    ));
                }
            }
        };
    check_keys(
        RegistryScope::Corporation,
        "corporation",
        &req.corporation,
        &mut errors,
    );
    for (est, record) in &req.establishments {
        if !own.iter().any(|e| &e.id == est) {
            errors.push(field_error(
                format!("establishments.{est}"),
                "unknown_establishment",
                "指定された事業所は貴法人の事業所として登録されていません。",
            ));
            continue;
        }
        check_keys(
            RegistryScope::Establishment,
            &format!("establishments.{est}"),
            record,
            &mut errors,
        );
    }
    for est in req.details.establishments.keys() {
        if !req.establishments.contains_key(est) {
            errors.push(field_error(
                format!("details.establishments.{est}"),
                "no_change",
                "変更する登録情報がない事業所について、変更届の内容は入力できません。",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }

    // The plans: one draft for the corporation's values, one per establishment.
    let common = |item_values: Vec<String>| {
        let mut data = FilingData {
            fields: req.details.fields.clone(),
            ..Default::default()
        };
        data.fields.insert(
            ITEMS_FIELD.into(),
            Value::Array(item_values.into_iter().map(Value::String).collect()),
        );
        data.fields.insert(
            DATE_FIELD.into(),
            Value::String(req.change_date.trim().into()),
        );
        if !req.reason.trim().is_empty() {
            data.fields
                .insert(REASON_FIELD.into(), Value::String(req.reason.clone()));
        }
        data
    };
    let mut lines: Vec<ChangeLine> = Vec::new();
    let mut plans: Vec<Plan> = Vec::new();
    // The corporation's values.
    let mut corp_values = Record::new();
    for (key, value) in &req.corporation {
        if let Some(field) = field_writing(def, &RegistryKey::corporation(key)) {
            corp_values.insert(field.to_string(), value.clone());
        }
    }
    let changed = changed_only(def, &corp_values, &snapshot.corporation, |f| {
        def.field(f).and_then(|(_, f)| f.effect.clone())
    });
    if !changed.is_empty() {
        let mut chosen: Vec<String> = Vec::new();
        for (key, before, after) in changed.values() {
            if let Some(item) = item_of(RegistryScope::Corporation, &key.key)
                && !chosen.contains(&item.value)
            {
                chosen.push(item.value.clone());
            }
            lines.push(ChangeLine {
                target: "corporation".into(),
                target_id: String::new(),
                target_name: "法人".into(),
                key: key.key.clone(),
                label: label_of(key).unwrap_or_default().into(),
                before: before.clone(),
                after: after.clone(),
            });
        }
        let mut data = common(order(&items, chosen));
        for (field, (_, _, after)) in &changed {
            data.fields.insert(field.clone(), after.clone());
        }
        let ids: Vec<String> = own
            .iter()
            .filter(|e| designated.contains(&e.id))
            .map(|e| e.id.clone())
            .collect();
        if ids.is_empty() {
            return Err(CoreError::field(
                "corporation",
                "no_designation",
                "貴法人の事業所には指定がないため、変更届の提出先がありません。",
            ));
        }
        plans.push(Plan {
            ids,
            changed: changed.keys().map(|f| format!("fields.{f}")).collect(),
            data,
        });
    }
    // Each establishment's values.
    for e in &own {
        let Some(record) = req.establishments.get(&e.id) else {
            continue;
        };
        let mut values = Record::new();
        for (key, value) in record {
            if let Some(field) = field_writing(def, &RegistryKey::establishment(key)) {
                values.insert(field.to_string(), value.clone());
            }
        }
        let current = snapshot
            .establishments
            .get(&e.id)
            .cloned()
            .unwrap_or_default();
        let changed = changed_only(def, &values, &current, |f| {
            def.field(f).and_then(|(_, f)| f.effect.clone())
        });
        if changed.is_empty() {
            continue;
        }
        if !designated.contains(&e.id) {
            errors.push(field_error(
                format!("establishments.{}", e.id),
                "no_designation",
                format!("{}には指定がないため、変更届の提出先がありません。", e.name),
            ));
            continue;
        }
        let mut chosen: Vec<String> = Vec::new();
        for (key, before, after) in changed.values() {
            if let Some(item) = item_of(RegistryScope::Establishment, &key.key)
                && !chosen.contains(&item.value)
            {
                chosen.push(item.value.clone());
            }
            lines.push(ChangeLine {
                target: "establishment".into(),
                target_id: e.id.clone(),
                target_name: e.name.clone(),
                key: key.key.clone(),
                label: label_of(key).unwrap_or_default().into(),
                before: before.clone(),
                after: after.clone(),
            });
        }
        let mut data = common(order(&items, chosen));
        let mut own_answers = req
            .details
            .establishments
            .get(&e.id)
            .cloned()
            .unwrap_or_default();
        for (field, (_, _, after)) in &changed {
            own_answers.insert(field.clone(), after.clone());
        }
        data.establishments.insert(e.id.clone(), own_answers);
        plans.push(Plan {
            ids: vec![e.id.clone()],
            changed: changed
                .keys()
                .map(|f| format!("establishments.{}.{f}", e.id))
                .collect(),
            data,
        });
    }
    // The changes in the order of the record: the corporation, then each establishment as
    // the registry lists them, each value in the order of its keys.
    lines.sort_by_key(|l| {
        let (scope, target) = match l.target.as_str() {
            "corporation" => (RegistryScope::Corporation, 0),
            _ => (
                RegistryScope::Establishment,
                1 + own.iter().position(|e| e.id == l.target_id).unwrap_or(0),
            ),
        };
        let key = scope.keys().iter().position(|(k, _)| *k == l.key);
        (target, key)
    });
    if plans.is_empty() && errors.is_empty() {
        errors.push(field_error(
            "changes",
            "no_change",
            "変更された登録情報がありません。変更後の内容を入力してください。",
        ));
    }
    // Every draft must be complete in what the change covers (the attachments and the
    // authorities' own items are completed on the drafts).
    for plan in &plans {
        let mut scratch = plan.data.clone();
        super::create::reject_unknown(def, &scratch, &plan.ids).map_err(|e| match e {
            CoreError::Validation(errs) => CoreError::Validation(
                errs.into_iter()
                    .map(|mut fe| {
                        fe.field = request_path(def, &fe.field);
                        fe
                    })
                    .collect(),
            ),
            other => other,
        })?;
        def.prefill(&mut scratch, &snapshot, &plan.ids);
        def.normalize(&mut scratch);
        for mut fe in def.validate(&scratch, &plan.ids) {
            fe.field = request_path(def, &fe.field);
            if !errors.iter().any(|e| e.field == fe.field) {
                errors.push(fe);
            }
        }
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }

    let batch_id = new_id();
    batches::insert_batch(
        &mut tx,
        &BatchRow {
            id: batch_id.clone(),
            corporation_id: corp.clone(),
            kind: KIND_CHANGE.into(),
            procedure_id: def.id.clone(),
            summary: serde_json::to_string(&lines)?,
            created_by: actor.user_id.clone(),
            created_at: now,
        },
    )
    .await?;
    let mut filing_ids = Vec::new();
    for (i, plan) in plans.into_iter().enumerate() {
        let given = plan
            .changed
            .iter()
            .map(|path| PrefillSourceRow {
                path: path.clone(),
                source: "change".into(),
                source_ref: batch_id.clone(),
                label: CHANGE_LABEL.into(),
                value: String::new(),
            })
            .collect();
        let id = super::create::insert_draft(
            app,
            &mut tx,
            actor,
            &corp,
            def,
            &plan.ids,
            plan.data,
            given,
            Some(&batch_id),
        )
        .await?;
        batches::add_member(&mut tx, &batch_id, &id, i as i64).await?;
        filing_ids.push(id);
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "batch.created",
        "filing_batch",
        &batch_id,
        &serde_json::json!({ "kind": KIND_CHANGE, "corporation": corp_name, "filings": filing_ids, "changes": lines.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(batch_id)
}

/// The answers (by field id) that differ from the registry record, normalised as the form
/// stores them: field id → (registry key, value before, value after).
fn changed_only(
    def: &ProcedureDefinition,
    values: &Record,
    current: &Record,
    key_of: impl Fn(&str) -> Option<RegistryKey>,
) -> BTreeMap<String, (RegistryKey, Value, Value)> {
    // Normalise through the form (trimmed text, full-width katakana, ASCII digits).
    let mut scratch = FilingData::default();
    let per_establishment = values
        .keys()
        .next()
        .and_then(|f| def.field(f))
        .is_some_and(|(g, _)| g.per_establishment);
    if per_establishment {
        scratch.establishments.insert("_".into(), values.clone());
    } else {
        scratch.fields = values.clone();
    }
    def.normalize(&mut scratch);
    let normalised = if per_establishment {
        scratch.establishments.remove("_").unwrap_or_default()
    } else {
        scratch.fields
    };
    let mut out = BTreeMap::new();
    for (field, after) in normalised {
        if !values.contains_key(&field) {
            continue; // a computed value the normalisation added
        }
        let Some(key) = key_of(&field) else { continue };
        let before = current.get(&key.key).cloned().unwrap_or(Value::Null);
        if before != after {
            out.insert(field, (key, before, after));
        }
    }
    out
}

fn field_error(field: impl Into<String>, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// Items in the order the form lists them.
fn order(items: &[ChangeItem], chosen: Vec<String>) -> Vec<String> {
    items
        .iter()
        .filter(|i| chosen.contains(&i.value))
        .map(|i| i.value.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ProcedureDefinition {
        let catalog = crate::catalog::embedded_catalog().unwrap();
        catalog.latest(PROCEDURE).unwrap().clone()
    }

    #[test]
    fn the_shipped_form_has_the_fields_this_flow_fills() {
        let def = def();
        for id in [ITEMS_FIELD, DATE_FIELD, REASON_FIELD] {
            let (group, _) = def.field(id).unwrap_or_else(|| panic!("{id}"));
            assert!(!group.per_establishment);
        }
        let items = change_items(&def);
        let by = |v: &str| items.iter().find(|i| i.value == v).unwrap();
        assert_eq!(by("manager").scope, RegistryScope::Establishment);
        assert_eq!(
            by("manager").keys,
            [
                "manager_name",
                "manager_kana",
                "manager_birth_date",
                "manager_address"
            ]
        );
        assert_eq!(by("representative").scope, RegistryScope::Corporation);
        assert_eq!(by("head_office").keys, ["postal_code", "address"]);
        assert!(
            !items.iter().any(|i| i.value == "building"),
            "建物 writes no registry value"
        );
    }

    #[test]
    fn paths_translate_both_ways() {
        let def = def();
        assert_eq!(form_path(&def, "change_date"), "fields.change_date");
        assert_eq!(
            form_path(&def, "corporation.postal_code"),
            "fields.head_office_postal_code"
        );
        assert_eq!(
            form_path(&def, "establishments.e1.name"),
            "establishments.e1.establishment_name"
        );
        assert_eq!(
            form_path(&def, "details.establishments.e1.operating_rules_changes"),
            "establishments.e1.operating_rules_changes"
        );
        for p in [
            "change_date",
            "corporation.postal_code",
            "establishments.e1.name",
            "details.establishments.e1.operating_rules_changes",
        ] {
            assert_eq!(request_path(&def, &form_path(&def, p)), p);
        }
    }

    #[test]
    fn only_values_that_differ_are_changes() {
        let def = def();
        let mut current = Record::new();
        current.insert("manager_name".into(), "佐藤　花子".into());
        current.insert("manager_kana".into(), "サトウ　ハナコ".into());
        let mut values = Record::new();
        values.insert("manager_name".into(), " 佐藤　花子 ".into());
        values.insert("manager_kana".into(), "ﾀﾅｶ ﾊﾅｺ".into());
        let changed = changed_only(&def, &values, &current, |f| {
            def.field(f).and_then(|(_, f)| f.effect.clone())
        });
        assert_eq!(changed.len(), 1, "{changed:?}");
        let (key, before, after) = &changed["manager_kana"];
        assert_eq!(key.key, "manager_kana");
        assert_eq!(before, "サトウ　ハナコ");
        assert_eq!(after.as_str().unwrap(), "タナカ　ハナコ");
    }
}
