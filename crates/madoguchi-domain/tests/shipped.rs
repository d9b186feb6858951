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

#[test]
fn a_draft_of_the_october_form_opens_under_the_april_form_with_answers_carried() {
    let catalog = shipped_catalog();
    let october = catalog.get("change-notification", "2025-10").unwrap();
    let april = catalog.latest("change-notification").unwrap();
    assert_eq!(april.version, "2026-04");
    let ests = vec!["est1".to_owned()];
    let mut draft = october.sample_data(&ests);
    october.normalize(&mut draft);
    assert!(october.validate(&draft, &ests).is_empty());

    let m = april.migrate_from(october, &draft);
    // Every answer of the October draft is carried across unchanged…
    assert!(m.dropped.is_empty(), "{:?}", m.dropped);
    for (k, v) in &draft.fields {
        assert_eq!(m.data.fields.get(k), Some(v), "fields.{k}");
    }
    assert_eq!(m.data.establishments, draft.establishments);
    assert_eq!(
        m.carried.len(),
        draft.fields.len() + draft.establishments["est1"].len()
    );
    // …and the field April added is marked as new (and is optional, so the draft stays valid).
    assert_eq!(m.new_fields, vec!["reason".to_owned()]);
    assert!(april.validate(&m.data, &ests).is_empty());

    // An answer the new form cannot take is reported, not silently kept.
    let mut odd = draft.clone();
    odd.fields.insert(
        "change_items".into(),
        json!(["name_address", "withdrawn_item"]),
    );
    let m = april.migrate_from(october, &odd);
    assert_eq!(m.dropped.len(), 1);
    assert_eq!(m.dropped[0].0, "fields.change_items");
    assert_eq!(m.dropped[0].1, "変更があった事項");
}

#[test]
fn local_rules_add_to_their_own_authority_only_and_are_labelled() {
    let catalog = shipped_catalog();
    let def = catalog.latest("change-notification").unwrap();
    let shinjuku = catalog.local_rules_for("change-notification", &["131041".to_owned()]);
    assert_eq!(shinjuku.len(), 1);
    let names = |c: &str| (c == "131041").then(|| "新宿区".to_owned());
    let for_shinjuku = def.with_local_rules(&shinjuku, &names);
    let for_tokyo = def.with_local_rules(
        &catalog.local_rules_for("change-notification", &["130001".to_owned()]),
        &names,
    );
    assert_eq!(
        for_tokyo, *def,
        "an authority without local rules gets the standard"
    );
    assert_eq!(for_shinjuku.form_number, "新宿区様式第5号");

    let ests = vec!["est1".to_owned()];
    let mut data = def.sample_data(&ests);
    data.fields
        .insert("change_items".into(), json!(["name_address"]));
    def.normalize(&mut data);
    let ids = |d: &ProcedureDefinition| -> Vec<String> {
        d.required_attachments(&data)
            .iter()
            .map(|a| a.id.clone())
            .collect()
    };
    let standard = ids(def);
    let mut expected = standard.clone();
    expected.push("shinjuku_photos".into());
    assert_eq!(
        ids(&for_shinjuku),
        expected,
        "exactly one more document, for 新宿区"
    );
    assert_eq!(ids(&for_tokyo), standard);

    // Missing: the message says whose rule asks for it; the extra fields are required too.
    let missing = for_shinjuku.missing_attachments(&data, &standard);
    assert_eq!(missing.len(), 1);
    assert_eq!(
        missing[0].message,
        "事業所の写真（外観・内部）を添付してください（新宿区の独自ルール）。"
    );
    // The extra fields are checked like standard ones (新宿区 asks for them, optionally).
    data.fields
        .insert("shinjuku_contact_phone".into(), json!("03-12"));
    let errors = for_shinjuku.validate(&data, &ests);
    assert!(
        errors
            .iter()
            .any(|e| e.field == "fields.shinjuku_contact_phone" && e.code == "invalid_format")
    );
    // An answer to another authority's extra field is unknown to the standard form.
    assert!(
        def.validate(&data, &ests)
            .iter()
            .any(|e| e.code == "unknown_field")
    );
    data.fields.remove("shinjuku_contact_phone");
    assert!(def.validate(&data, &ests).is_empty());
    let added = for_shinjuku.groups.last().unwrap();
    assert_eq!(added.origin.authority_name.as_deref(), Some("新宿区"));

    // 八王子市 asks for 7 days instead of 10, for its own cases only.
    let hachioji = def.with_local_rules(
        &catalog.local_rules_for("change-notification", &["132012".to_owned()]),
        &|_| None,
    );
    data.fields
        .insert("change_date".into(), json!("2026-04-20"));
    assert_eq!(def.due_date(&data).unwrap().to_string(), "2026-04-30");
    assert_eq!(hachioji.due_date(&data).unwrap().to_string(), "2026-04-27");
    // A filing to both shows the union; the standard deadline stays the filing's own.
    let both = def.with_local_rules(
        &catalog.local_rules_for(
            "change-notification",
            &["131041".to_owned(), "132012".to_owned()],
        ),
        &names,
    );
    assert_eq!(both.due_date(&data).unwrap().to_string(), "2026-04-30");
    assert_eq!(
        both.local_rules_of,
        vec!["131041".to_owned(), "132012".to_owned()]
    );
}

#[test]
fn local_rules_problems_point_at_their_own_file() {
    let def = include_str!("../../../procedures/change-notification/2026-04.toml");
    let bad = "authority = \"131041\"\nprocedure = \"change-notification\"\nsummary = \"x\"\n\n[[attachments]]\nid = \"photos\"\nlabel = \"写真\"\nrequired_when = { field = \"no_such_field\", includes = \"x\" }\n";
    let errs = ProcedureCatalog::from_sources([
        ("procedures/change-notification/2026-04.toml", def),
        (
            "procedures/local-rules/131041/change-notification.toml",
            bad,
        ),
    ])
    .unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        errs[0].file,
        "procedures/local-rules/131041/change-notification.toml"
    );
    assert_eq!(errs[0].line, Some(8));
    assert!(errs[0].message.contains("no_such_field"));

    let wrong_folder = bad
        .replace("131041", "131130")
        .replace("no_such_field", "change_items")
        .replace("\"x\"", "\"manager\"");
    let errs = ProcedureCatalog::from_sources([
        ("procedures/change-notification/2026-04.toml", def),
        (
            "procedures/local-rules/131041/change-notification.toml",
            wrong_folder.as_str(),
        ),
    ])
    .unwrap_err();
    assert!(
        errs[0].message.contains("must match its folder"),
        "{errs:?}"
    );
}
