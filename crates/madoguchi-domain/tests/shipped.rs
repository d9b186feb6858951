//! Every shipped definition (every file under `procedures/`, every version, with
//! and without each authority's local rules) is filled with data generated from
//! the definition itself: the valid filing passes; breaking any field or any rule
//! gives an error at that field whose Japanese message names it.

use std::path::{Path, PathBuf};

use madoguchi_domain::procedure::{
    FieldKind, FilingData, Group, ProcedureCatalog, ProcedureDefinition,
};
use serde_json::{Value, json};

fn files(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let rel = path.strip_prefix(&root).unwrap().display().to_string();
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

pub fn shipped_catalog() -> ProcedureCatalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../procedures");
    let mut sources = Vec::new();
    files(&dir, &mut sources);
    ProcedureCatalog::from_sources(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())))
        .unwrap_or_else(|errs| {
            panic!(
                "shipped definitions must load:\n{}",
                errs.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
}

fn establishments(def: &ProcedureDefinition) -> Vec<String> {
    let n = def.targets.min_establishments.max(1);
    let n = def.targets.max_establishments.map_or(n, |m| n.min(m));
    let n = if def.groups.iter().any(|g| g.per_establishment) || def.targets.min_establishments > 0
    {
        n
    } else {
        0
    };
    (1..=n).map(|i| format!("est{i}")).collect()
}

fn is_japanese(s: &str) -> bool {
    s.chars().any(|c| ('\u{3040}'..='\u{9FFF}').contains(&c))
}

/// A value of the wrong shape for each kind.
fn invalid_for(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Integer | FieldKind::Number => json!("たくさん"),
        FieldKind::Date => json!("2026-02-30"),
        FieldKind::PostalCode => json!("12"),
        FieldKind::Phone => json!("03"),
        FieldKind::Email => json!("no-at-sign"),
        FieldKind::Select => json!("__no_such_option__"),
        FieldKind::MultiSelect | FieldKind::Weekdays => json!(["__no_such_option__"]),
        FieldKind::YesNo => json!("maybe"),
        FieldKind::CorporateNumber => json!("1234567890123"),
        FieldKind::OfficeNumber => json!("1171201368"),
        FieldKind::TimeRange => json!("18:00-09:00"),
        FieldKind::Address => json!("新宿区西新宿2-8-1"),
        FieldKind::Kana => json!("漢字"),
        FieldKind::Text | FieldKind::TextArea => json!(12),
    }
}

/// Where a group's answers live in the filing data, as a mutable record.
fn record_of<'d>(
    data: &'d mut FilingData,
    group: &Group,
    est: Option<&str>,
) -> &'d mut serde_json::Map<String, Value> {
    let level = match est {
        Some(e) => data.establishments.get_mut(e).unwrap(),
        None => &mut data.fields,
    };
    if group.repeat.is_some() {
        level
            .get_mut(&group.id)
            .and_then(|v| v.as_array_mut())
            .and_then(|items| items.first_mut())
            .and_then(|i| i.as_object_mut())
            .expect("sample data has one item per repeating group")
    } else {
        level
    }
}

fn path_of(group: &Group, est: Option<&str>, field: &str) -> String {
    let prefix = est.map_or("fields".to_owned(), |e| format!("establishments.{e}"));
    match group.repeat {
        Some(_) => format!("{prefix}.{}.0.{field}", group.id),
        None => format!("{prefix}.{field}"),
    }
}

fn check_definition(def: &ProcedureDefinition, what: &str) -> usize {
    let ests = establishments(def);
    let mut valid = def.sample_data(&ests);
    def.normalize(&mut valid);
    let errors = def.validate(&valid, &ests);
    assert!(
        errors.is_empty(),
        "{what}: generated data must be valid: {errors:#?}"
    );
    let mut checks = 0;

    for group in &def.groups {
        if !def.is_group_visible(group, &valid) {
            continue;
        }
        let places: Vec<Option<&str>> = if group.per_establishment {
            ests.iter().take(1).map(|e| Some(e.as_str())).collect()
        } else {
            vec![None]
        };
        for est in places {
            for field in group.fields.iter().filter(|f| f.compute.is_none()) {
                let path = path_of(group, est, &field.id);
                // A wrong value.
                let mut data = valid.clone();
                record_of(&mut data, group, est).insert(field.id.clone(), invalid_for(field.kind));
                let errors = def.validate(&data, &ests);
                let hit = errors.iter().find(|e| e.field == path);
                let hit = hit.unwrap_or_else(|| {
                    panic!(
                        "{what}: an invalid {} answer is not refused at {path}: {errors:#?}",
                        field.kind.as_str()
                    )
                });
                assert!(
                    hit.message.contains(&field.label) && is_japanese(&hit.message),
                    "{what}: message at {path} must name 「{}」 in Japanese: {}",
                    field.label,
                    hit.message
                );
                checks += 1;
                // A blank required answer.
                if field.required {
                    let mut data = valid.clone();
                    record_of(&mut data, group, est).remove(&field.id);
                    let errors = def.validate(&data, &ests);
                    assert!(
                        errors.iter().any(|e| e.field == path
                            && e.code == "required"
                            && e.message.contains(&field.label)),
                        "{what}: blank required {path} is not reported: {errors:#?}"
                    );
                    checks += 1;
                }
            }
            // Every rule can fail, with the data its definition gives.
            for rule in &group.rules {
                assert!(
                    !rule.fails_with.is_empty(),
                    "{what}: rule `{}` needs `fails_with`",
                    rule.id
                );
                let mut data = valid.clone();
                record_of(&mut data, group, est).extend(rule.fails_with.clone());
                def.normalize(&mut data);
                let path = path_of(group, est, &rule.field);
                let errors = def.validate(&data, &ests);
                assert!(
                    errors
                        .iter()
                        .any(|e| e.field == path && e.code == "rule" && e.message == rule.message),
                    "{what}: rule `{}` does not fail at {path} with its fails_with: {errors:#?}",
                    rule.id
                );
                assert!(is_japanese(&rule.message));
                checks += 1;
            }
        }
    }
    for rule in &def.rules {
        assert!(
            !rule.fails_with.is_empty(),
            "{what}: rule `{}` needs `fails_with`",
            rule.id
        );
        let mut data = valid.clone();
        data.fields.extend(rule.fails_with.clone());
        def.normalize(&mut data);
        let errors = def.validate(&data, &ests);
        let path = format!("fields.{}", rule.field);
        assert!(
            errors
                .iter()
                .any(|e| e.field == path && e.code == "rule" && e.message == rule.message),
            "{what}: rule `{}` does not fail with its fails_with: {errors:#?}",
            rule.id
        );
        assert!(is_japanese(&rule.message));
        checks += 1;
    }
    checks
}

#[test]
fn every_shipped_definition_accepts_its_own_sample_and_refuses_every_broken_rule() {
    let catalog = shipped_catalog();
    let mut total = 0;
    let mut definitions = 0;
    for latest in catalog.list_latest() {
        for def in catalog.versions(&latest.id) {
            total += check_definition(def, &format!("{} {}", def.id, def.version));
            definitions += 1;
        }
    }
    for authority in catalog.authorities_with_local_rules() {
        for rules in catalog.local_rules_of(authority) {
            for def in catalog.versions(&rules.procedure) {
                let merged = def.with_local_rules(&[rules], &|_| None);
                let what = format!("{} {} + local rules of {authority}", def.id, def.version);
                total += check_definition(&merged, &what);
                definitions += 1;
            }
        }
    }
    assert!(
        definitions >= 2 && total > 50,
        "{definitions} definitions, {total} checks"
    );
    eprintln!("{definitions} definitions, {total} checks");
}
