//! The shipped procedure definitions, the loader's error reporting and the
//! evaluation of a definition against answers (validation, attachments,
//! prefill, effects).

use madoguchi_domain::procedure::{
    FilingData, ProcedureCatalog, ProcedureDefinition, parse_definition,
};
use madoguchi_domain::registry::{EffectTarget, RegistryEffect, RegistryKey, RegistrySnapshot};
use proptest::prelude::*;
use serde_json::{Value, json};

const CHANGE: &str = include_str!("../../../procedures/change-notification/2026-04.toml");
const SUSPENSION: &str = include_str!("../../../procedures/suspension-abolition/2026-04.toml");

fn catalog() -> ProcedureCatalog {
    ProcedureCatalog::from_sources([
        ("procedures/change-notification/2026-04.toml", CHANGE),
        ("procedures/suspension-abolition/2026-04.toml", SUSPENSION),
    ])
    .unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn change() -> ProcedureDefinition {
    catalog().latest("change-notification").unwrap().clone()
}

fn data(value: Value) -> FilingData {
    serde_json::from_value(value).unwrap()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn shipped_definitions_load() {
    let catalog = catalog();
    let listed: Vec<&str> = catalog
        .list_latest()
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(listed, ["change-notification", "suspension-abolition"]);
    let change = catalog.get("change-notification", "2026-04").unwrap();
    assert_eq!(change.title, "変更届出書");
    assert_eq!(change.form_number, "別紙様式第一号（五）");
    assert!(catalog.get("change-notification", "2025-10").is_none());
    let (group, field) = change.field("capacity").unwrap();
    assert!(group.per_establishment);
    assert_eq!(field.unit.as_deref(), Some("人"));
}

#[test]
fn latest_is_the_highest_version() {
    let october = CHANGE.replace("version = \"2026-04\"", "version = \"2026-10\"");
    let catalog = ProcedureCatalog::from_sources([
        ("change-notification/2026-10.toml", october.as_str()),
        ("change-notification/2026-04.toml", CHANGE),
    ])
    .unwrap();
    assert_eq!(
        catalog.latest("change-notification").unwrap().version,
        "2026-10"
    );
    assert_eq!(catalog.versions("change-notification").len(), 2);
}

#[test]
fn manager_only_change_requires_exactly_the_manager_documents() {
    let def = change();
    let d = data(json!({"fields": {"change_items": ["manager"]}}));
    let mut required: Vec<&str> = def
        .required_attachments(&d)
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    required.sort();
    assert_eq!(required, ["pledge", "qualification", "roster"]);
    assert!(!def.is_corporation_wide(&d));
    let missing = def.missing_attachments(&d, &ids(&["roster"]));
    let paths: Vec<&str> = missing.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(paths, ["attachments.pledge", "attachments.qualification"]);
    assert_eq!(missing[0].message, "誓約書を添付してください。");
}

#[test]
fn representative_change_is_corporation_wide_and_needs_certificate_and_pledge() {
    let def = change();
    let d = data(json!({"fields": {"change_items": ["representative"]}}));
    let mut required: Vec<&str> = def
        .required_attachments(&d)
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    required.sort();
    assert_eq!(required, ["pledge", "registry_certificate"]);
    assert!(def.is_corporation_wide(&d));
    let head_office = data(json!({"fields": {"change_items": ["head_office"]}}));
    assert!(def.is_corporation_wide(&head_office));
}

#[test]
fn validation_names_fields_in_japanese_with_their_path() {
    let def = change();
    let d = data(json!({
        "fields": {"change_items": ["manager", "capacity"], "change_date": "2026-04-31", "nickname": "x"},
        "establishments": {"e1": {"manager_name": "佐藤 一郎", "manager_kana": "Sato", "capacity": -3}}
    }));
    let errors = def.validate(&d, &ids(&["e1"]));
    let by_path = |p: &str| {
        errors
            .iter()
            .find(|e| e.field == p)
            .unwrap_or_else(|| panic!("no error at {p}: {errors:#?}"))
    };
    assert_eq!(by_path("fields.change_date").code, "invalid_format");
    assert!(by_path("fields.change_date").message.contains("変更年月日"));
    assert_eq!(by_path("fields.nickname").code, "unknown_field");
    let kana = by_path("establishments.e1.manager_kana");
    assert_eq!(kana.code, "invalid_format");
    assert_eq!(
        kana.message,
        "管理者の氏名（フリガナ）はカタカナで入力してください。"
    );
    let birth = by_path("establishments.e1.manager_birth_date");
    assert_eq!(
        (birth.code.as_str(), birth.message.as_str()),
        ("required", "管理者の生年月日を入力してください。")
    );
    assert_eq!(by_path("establishments.e1.capacity").code, "out_of_range");
    assert!(
        errors.iter().all(|e| !e.field.contains("representative")),
        "hidden groups are not validated"
    );
}

#[test]
fn valid_answers_pass_and_hidden_answers_are_ignored() {
    let def = change();
    let mut d = data(json!({
        "fields": {"change_items": ["manager"], "change_date": "２０２６-０４-０１",
                   "representative_name": 12},
        "establishments": {"e1": {"manager_name": " 佐藤 一郎 ", "manager_kana": "ｻﾄｳ ｲﾁﾛｳ",
                                  "manager_birth_date": "1975-06-15", "manager_address": "東京都新宿区西新宿二丁目8番1号"}}
    }));
    def.normalize(&mut d);
    assert_eq!(d.fields["change_date"], "2026-04-01");
    assert_eq!(d.establishments["e1"]["manager_kana"], "サトウ　イチロウ");
    assert_eq!(d.establishments["e1"]["manager_name"], "佐藤 一郎");
    assert_eq!(def.validate(&d, &ids(&["e1"])), vec![]);
    let none = def.validate(&d, &[]);
    assert_eq!(none[0].code, "too_few_establishments");
}

#[test]
fn suspension_until_is_required_only_for_suspension() {
    let catalog = catalog();
    let def = catalog.latest("suspension-abolition").unwrap();
    let base = json!({"effective_date": "2026-06-01", "reason": "人員確保が困難なため", "user_measures": "他事業所へ引継ぎ"});
    let with_kind = |kind: &str| {
        let mut fields = base.clone();
        fields["kind"] = json!(kind);
        data(json!({ "fields": fields }))
    };
    assert_eq!(def.validate(&with_kind("abolition"), &ids(&["e1"])), vec![]);
    let errors = def.validate(&with_kind("suspension"), &ids(&["e1"]));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "fields.suspension_until");
    assert_eq!(
        errors[0].message,
        "休止予定期間（終了日）を入力してください。"
    );
    let errors = def.validate(&with_kind("closing"), &ids(&["e1"]));
    assert_eq!(errors[0].code, "unknown_option");
    assert!(def.required_attachments(&with_kind("abolition")).is_empty());
    assert!(
        def.effects(&with_kind("abolition"), &ids(&["e1"]))
            .is_empty()
    );
}

fn record(value: Value) -> madoguchi_domain::registry::Record {
    value.as_object().unwrap().clone()
}

fn snapshot() -> RegistrySnapshot {
    RegistrySnapshot {
        corporation: record(
            json!({"representative_name": "山田 太郎", "representative_title": "理事長"}),
        ),
        establishments: [
            (
                "e1".to_string(),
                record(json!({"manager_name": "鈴木 花子", "capacity": 20})),
            ),
            (
                "e2".to_string(),
                record(json!({"manager_name": "高橋 次郎"})),
            ),
        ]
        .into_iter()
        .collect(),
    }
}

#[test]
fn prefill_fills_unanswered_fields_and_reports_sources() {
    let def = change();
    let mut d =
        data(json!({"fields": {"change_items": ["manager"], "representative_title": "会長"}}));
    let filled = def.prefill(&mut d, &snapshot(), &ids(&["e1", "e2"]));
    assert_eq!(d.fields["representative_name"], "山田 太郎");
    assert_eq!(
        d.fields["representative_title"], "会長",
        "answers are never overwritten"
    );
    assert_eq!(d.establishments["e1"]["manager_name"], "鈴木 花子");
    assert_eq!(d.establishments["e2"]["manager_name"], "高橋 次郎");
    assert_eq!(d.establishments["e1"]["capacity"], 20);
    assert!(!d.establishments["e2"].contains_key("capacity"));
    let key = |s: &str| s.parse::<RegistryKey>().unwrap();
    assert!(filled.contains(&(
        "fields.representative_name".into(),
        key("corporation.representative_name")
    )));
    assert!(filled.contains(&(
        "establishments.e2.manager_name".into(),
        key("establishment.manager_name")
    )));
    assert!(
        !filled
            .iter()
            .any(|(p, _)| p == "fields.representative_title")
    );
    assert_eq!(filled.len(), 4);
}

#[test]
fn effects_target_the_corporation_or_each_covered_establishment() {
    let def = change();
    let d = data(json!({
        "fields": {"change_items": ["representative", "manager"], "representative_name": "田中 一郎",
                   "representative_title": ""},
        "establishments": {"e1": {"manager_name": "伊藤 三郎"}, "e2": {"manager_name": "渡辺 四郎"},
                           "e9": {"manager_name": "not covered"}}
    }));
    let effects = def.effects(&d, &ids(&["e1", "e2"]));
    assert_eq!(
        effects,
        vec![
            RegistryEffect {
                target: EffectTarget::Corporation,
                key: "representative_name".into(),
                value: json!("田中 一郎")
            },
            RegistryEffect {
                target: EffectTarget::Establishment("e1".into()),
                key: "manager_name".into(),
                value: json!("伊藤 三郎")
            },
            RegistryEffect {
                target: EffectTarget::Establishment("e2".into()),
                key: "manager_name".into(),
                value: json!("渡辺 四郎")
            },
        ]
    );
    let hidden =
        data(json!({"fields": {"change_items": ["capacity"], "representative_name": "田中 一郎"}}));
    assert!(
        def.effects(&hidden, &ids(&["e1"])).is_empty(),
        "hidden groups have no effect"
    );
}

// ─── load errors ────────────────────────────────────────────────────────

const BASE: &str = r#"
id = "test-procedure"
version = "2026-04"
title = "テスト届出書"
form_number = "様式第一号"
kind = "notification"

[targets]
min_establishments = 1

[[groups]]
id = "main"
title = "内容"

[[groups.fields]]
id = "items"
label = "事項"
kind = "multi_select"
options = [{ value = "a", label = "甲" }, { value = "b", label = "乙" }]

[[groups.fields]]
id = "rep_name"
label = "代表者の氏名"
kind = "text"
prefill = "corporation.representative_name"

[[groups]]
id = "per_est"
title = "事業所ごと"
per_establishment = true
visible_when = { field = "items", includes = "a" }

[[groups.fields]]
id = "mgr"
label = "管理者の氏名"
kind = "text"
effect = "establishment.manager_name"

[[attachments]]
id = "doc"
label = "書類"
required_when = { field = "items", includes = "b" }
"#;

/// Applies `replace` (a unique snippet of BASE → its broken form) and expects
/// one error whose line holds `marker`, with `message_part` in its message.
fn expect_error(from: &str, to: &str, marker: &str, message_part: &str) {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "snippet `{from}` must be unique"
    );
    let text = BASE.replacen(from, to, 1);
    let errors = parse_definition("procedures/test-procedure/2026-04.toml", &text).expect_err(to);
    let expected_line = text.lines().position(|l| l.contains(marker)).unwrap() + 1;
    let found = errors.iter().any(|e| {
        e.file == "procedures/test-procedure/2026-04.toml"
            && e.line == Some(expected_line)
            && e.message.contains(message_part)
    });
    assert!(
        found,
        "expected line {expected_line} `{message_part}` for `{to}`, got {errors:#?}"
    );
    assert!(
        errors[0]
            .to_string()
            .starts_with("procedures/test-procedure/2026-04.toml:")
    );
}

#[test]
fn base_definition_is_valid() {
    parse_definition("procedures/test-procedure/2026-04.toml", BASE).unwrap();
}

#[test]
fn syntax_errors_and_unknown_keys_carry_lines() {
    expect_error(
        "title = \"テスト届出書\"",
        "title = \"テスト届出書",
        "title =",
        "",
    );
    expect_error(
        "label = \"書類\"",
        "label = \"書類\"\nlabell = \"x\"",
        "labell",
        "labell",
    );
    expect_error(
        "kind = \"text\"\nprefill",
        "kind = \"string\"\nprefill",
        "kind = \"string\"",
        "string",
    );
}

#[test]
fn duplicate_ids_carry_lines() {
    expect_error(
        "id = \"per_est\"",
        "id = \"main\"  # dup",
        "# dup",
        "duplicate group id",
    );
    expect_error(
        "id = \"mgr\"",
        "id = \"rep_name\"  # dup",
        "# dup",
        "duplicate field id",
    );
    expect_error(
        "id = \"doc\"",
        "id = \"doc\"\nlabel = \"x\"\n\n[[attachments]]\nid = \"doc\"  # dup",
        "# dup",
        "duplicate attachment id",
    );
}

#[test]
fn bad_conditions_carry_lines() {
    expect_error(
        "includes = \"b\" }",
        "includes = \"z\" }  # bad",
        "# bad",
        "not an option",
    );
    expect_error(
        "{ field = \"items\", includes = \"b\" }",
        "{ field = \"nope\", includes = \"b\" }",
        "nope",
        "unknown field",
    );
    expect_error(
        "{ field = \"items\", includes = \"b\" }",
        "{ field = \"mgr\", equals = \"x\" }",
        "field = \"mgr\"",
        "per-establishment",
    );
    expect_error(
        "{ field = \"items\", includes = \"a\" }",
        "{ field = \"mgr\", includes = \"a\" }",
        "field = \"mgr\"",
        "per-establishment",
    );
    expect_error(
        "includes = \"b\" }",
        "includes = \"b\", equals = \"b\" }",
        "equals",
        "exactly one",
    );
}

#[test]
fn bad_fields_carry_lines() {
    expect_error(
        "options = [{ value = \"a\", label = \"甲\" }, { value = \"b\", label = \"乙\" }]",
        "",
        "kind = \"multi_select\"",
        "needs options",
    );
    expect_error(
        "title = \"テスト届出書\"",
        "title = \"\"",
        "title = \"\"",
        "must not be empty",
    );
    expect_error(
        "label = \"代表者の氏名\"",
        "label = \" \"",
        "label = \" \"",
        "must not be empty",
    );
}

#[test]
fn bad_registry_bindings_carry_lines() {
    expect_error(
        "corporation.representative_name\"",
        "corporation.nickname\"",
        "corporation.nickname",
        "unknown corporation key",
    );
    expect_error(
        "corporation.representative_name\"",
        "establishment.manager_name\"",
        "prefill = \"establishment.manager_name\"",
        "top-level group",
    );
    expect_error(
        "effect = \"establishment.manager_name\"",
        "effect = \"corporation.representative_name\"",
        "effect = \"corporation",
        "per-establishment group",
    );
    expect_error(
        "effect = \"establishment.manager_name\"",
        "effect = \"establishment.capacity\"",
        "effect = \"establishment.capacity\"",
        "cannot hold",
    );
}

#[test]
fn visibility_cycles_are_refused() {
    expect_error(
        "{ field = \"items\", includes = \"a\" }",
        "{ field = \"items\", includes = \"a\" }\n\n[[groups]]\nid = \"loop\"\ntitle = \"x\"\nvisible_when = { field = \"flag\", equals = true }  # cycle\n\n[[groups.fields]]\nid = \"flag\"\nlabel = \"y\"\nkind = \"yes_no\"",
        "# cycle",
        "depends on itself",
    );
}

#[test]
fn duplicate_versions_across_files_are_refused() {
    let errors =
        ProcedureCatalog::from_sources([("a/2026-04.toml", BASE), ("b/2026-04.toml", BASE)])
            .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].file, "b/2026-04.toml");
    let version_line = BASE.lines().position(|l| l.starts_with("version")).unwrap() + 1;
    assert_eq!(errors[0].line, Some(version_line));
    assert!(errors[0].message.contains("a/2026-04.toml"));
}

#[test]
fn file_name_must_match_version() {
    let errors = parse_definition("procedures/test-procedure/2026-10.toml", BASE).unwrap_err();
    assert!(errors[0].message.contains("file name"), "{errors:?}");
}

// ─── robustness ─────────────────────────────────────────────────────────

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~ぁ-んァ-ンｦ-ﾟ０-９一-龠]{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "manager",
            "representative",
            "capacity",
            "suspension",
            "2026-02-30",
            "160-0023",
            "7040005007253"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(field_name(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "change_items",
            "change_date",
            "manager_name",
            "manager_kana",
            "capacity",
            "kind",
            "representative_name",
            "head_office_postal_code",
            "suspension_until",
            "e1",
        ])
        .prop_map(String::from),
        "[a-z_]{1,8}",
    ]
}

proptest! {
    #[test]
    fn evaluation_never_panics(fields in prop::collection::btree_map(field_name(), arb_json(), 0..8),
                               est in prop::collection::btree_map(field_name(), arb_json(), 0..8)) {
        let catalog = catalog();
        let mut d = FilingData {
            fields: fields.into_iter().collect(),
            establishments: [("e1".to_string(), est.into_iter().collect())].into_iter().collect(),
        };
        let covered = ids(&["e1", "e2"]);
        for def in catalog.list_latest() {
            let _ = def.validate(&d, &covered);
            let _ = def.missing_attachments(&d, &[]);
            let _ = def.effects(&d, &covered);
            let _ = def.prefill(&mut d.clone(), &snapshot(), &covered);
            def.normalize(&mut d);
            let _ = def.validate(&d, &covered);
        }
    }

    #[test]
    fn arbitrary_filing_json_never_panics(value in arb_json()) {
        if let Ok(d) = serde_json::from_value::<FilingData>(value) {
            let catalog = catalog();
            for def in catalog.list_latest() {
                let _ = def.validate(&d, &ids(&["e1"]));
            }
        }
    }
}

#[test]
fn worked_example_in_the_docs_behaves_as_described() {
    let doc = include_str!("../../../docs/procedures.md");
    let start = doc.find("```toml\nid = ").expect("worked example") + "```toml\n".len();
    let text = &doc[start..start + doc[start..].find("```").unwrap()];
    let def = parse_definition("docs/procedures.md", text).unwrap_or_else(|e| panic!("{e:?}"));
    let mut d = data(json!({"fields": {"change_items": ["manager"], "change_date": "2026-04-01"}}));
    def.prefill(&mut d, &snapshot(), &ids(&["e1"]));
    assert_eq!(d.fields["representative_name"], "山田 太郎");
    assert_eq!(d.establishments["e1"]["manager_name"], "鈴木 花子");
    d.establishments
        .get_mut("e1")
        .unwrap()
        .insert("manager_name".into(), json!("佐藤 一郎"));
    assert_eq!(def.validate(&d, &ids(&["e1"])), vec![]);
    let required: Vec<&str> = def
        .required_attachments(&d)
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(required, ["pledge"]);
    assert!(!def.is_corporation_wide(&d));
    let effects = def.effects(&d, &ids(&["e1"]));
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].target, EffectTarget::Establishment("e1".into()));
}
