use std::collections::HashSet;

use super::parse::to_value;
use super::review::thousands;
use super::*;
use askama::Template;
use serde_json::json;

fn catalog() -> madoguchi_domain::procedure::ProcedureCatalog {
    madoguchi_core::catalog::embedded_catalog().unwrap()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn est(id: &str) -> EstablishmentRef {
    EstablishmentRef {
        id: id.into(),
        office_number: "1370400010".into(),
        name: "さくら訪問介護".into(),
    }
}

/// What a browser without JavaScript posts for the rendered sections: every rendered
/// control's name with its value (checked boxes only), `_present` markers, nothing for
/// computed fields.
fn browser_post(sections: &[SectionView]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let field = |f: &FieldView, out: &mut Vec<(String, String)>| {
        if f.computed {
            return;
        }
        out.push(("_present".into(), f.name.clone()));
        match f.kind.as_str() {
            "multi_select" | "weekdays" => out.extend(
                f.options
                    .iter()
                    .filter(|o| f.is_selected(o))
                    .map(|o| (f.name.clone(), o.value.clone())),
            ),
            "yes_no" if f.value.is_empty() => {}
            "select" => out.push((
                f.name.clone(),
                f.options
                    .iter()
                    .find(|o| f.is_selected(o))
                    .map(|o| o.value.clone())
                    .unwrap_or_default(),
            )),
            _ => out.push((f.name.clone(), f.value.clone())),
        }
    };
    for s in sections {
        for f in &s.fields {
            field(f, &mut out);
        }
        if let Some(r) = &s.repeat {
            out.push(("_present".into(), r.path.clone()));
            for item in &r.items {
                for f in &item.fields {
                    field(f, &mut out);
                }
            }
        }
    }
    out
}

/// Equal JSON, numbers compared by value (`1` = `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn posted_values_become_typed_answers() {
    assert_eq!(to_value(FieldKind::Integer, &["30"]), Some(Value::from(30)));
    assert_eq!(
        to_value(FieldKind::Integer, &["三十"]),
        Some(Value::String("三十".into()))
    );
    assert_eq!(
        to_value(FieldKind::YesNo, &["false"]),
        Some(Value::Bool(false))
    );
    assert_eq!(
        to_value(FieldKind::MultiSelect, &["a", "b"]),
        Some(json!(["a", "b"]))
    );
    assert_eq!(to_value(FieldKind::MultiSelect, &[]), None);
    assert_eq!(to_value(FieldKind::Text, &["  "]), None);
    assert_eq!(to_value(FieldKind::Number, &["25.5"]), Some(json!(25.5)));
    assert_eq!(to_value(FieldKind::Number, &["40"]), Some(json!(40)));
    for typed in ["２５．５", "25.", ".5", "1e3", "約3"] {
        assert_eq!(
            to_value(FieldKind::Number, &[typed]),
            Some(Value::String(typed.into())),
            "{typed} is left for the server to tidy or report"
        );
    }
    assert_eq!(
        to_value(FieldKind::Weekdays, &["mon", "sat", "holiday"]),
        Some(json!(["mon", "sat", "holiday"]))
    );
    assert_eq!(
        to_value(FieldKind::TimeRange, &[" 09:00-18:00 "]),
        Some(json!("09:00-18:00"))
    );
}

#[test]
fn repeating_items_are_rebuilt_from_their_names_in_index_order() {
    let def = catalog().latest("designation-application").unwrap().clone();
    let ids = vec!["e1".to_string()];
    let mut current = FilingData::default();
    current.establishments.insert(
        "e1".into(),
        json!({ "hk_staff": [
            { "hk_job": "sp", "hk_headcount": 2 },
            { "hk_job": "helper", "hk_headcount": 5 },
        ], "hk_fte": 2.5, "hk_business_days": ["mon"] })
        .as_object()
        .unwrap()
        .clone(),
    );
    let p = "establishments.e1.hk_staff";
    let posted = pairs(&[
        ("_present", p),
        // Index 1 comes first in the post; order follows the index, not the post.
        ("_present", &format!("{p}.1.hk_job")),
        ("_present", &format!("{p}.1.hk_headcount")),
        ("_present", &format!("{p}.0.hk_job")),
        ("_present", &format!("{p}.0.hk_headcount")),
        ("_present", &format!("{p}.0.hk_weekly_hours")),
        ("_present", &format!("{p}.2.hk_job")),
        ("_present", &format!("{p}.2.hk_headcount")),
        (&format!("{p}.1.hk_job"), "helper"),
        (&format!("{p}.1.hk_headcount"), "6"),
        (&format!("{p}.0.hk_job"), "sp"),
        (&format!("{p}.0.hk_headcount"), ""),
        (&format!("{p}.0.hk_weekly_hours"), "37.5"),
        // A blank last item beyond `min` is dropped.
        (&format!("{p}.2.hk_job"), ""),
        (&format!("{p}.2.hk_headcount"), ""),
        ("_present", "establishments.e1.hk_business_days"),
        ("establishments.e1.hk_business_days", "tue"),
        ("establishments.e1.hk_business_days", "holiday"),
        // Computed fields are never taken from the post.
        ("_present", "establishments.e1.hk_fte"),
        ("establishments.e1.hk_fte", "99"),
    ]);
    let data = parse_pairs(&def, &posted, &current, &ids);
    let e1 = &data.establishments["e1"];
    assert_eq!(
        e1["hk_staff"],
        json!([
            { "hk_job": "sp", "hk_weekly_hours": 37.5 },
            { "hk_job": "helper", "hk_headcount": 6 },
        ])
    );
    assert_eq!(e1["hk_business_days"], json!(["tue", "holiday"]));
    assert_eq!(e1["hk_fte"], json!(2.5), "kept as stored, not as posted");

    // Without the group's marker the stored items stay as they are.
    let untouched = parse_pairs(&def, &posted[1..], &current, &ids);
    assert_eq!(
        untouched.establishments["e1"]["hk_staff"],
        current.establishments["e1"]["hk_staff"]
    );
    // Every item blank: `min` (1) of them stay, so the page shows what is missing.
    let mut blank = pairs(&[("_present", p)]);
    for i in 0..2 {
        for f in ["hk_job", "hk_headcount"] {
            blank.push(("_present".into(), format!("{p}.{i}.{f}")));
            blank.push((format!("{p}.{i}.{f}"), String::new()));
        }
    }
    let data = parse_pairs(&def, &blank, &current, &ids);
    assert_eq!(data.establishments["e1"]["hk_staff"], json!([{}]));
}

#[test]
fn add_and_remove_buttons_change_the_items() {
    let def = catalog().latest("designation-application").unwrap().clone();
    let ids = vec!["e1".to_string()];
    let p = "establishments.e1.hk_staff";
    let mut posted = pairs(&[
        ("_present", p),
        ("_present", &format!("{p}.0.hk_job")),
        (&format!("{p}.0.hk_job"), "sp"),
        ("_repeat_add", p),
    ]);
    let mut data = parse_pairs(&def, &posted, &FilingData::default(), &ids);
    let action = repeat_action(&posted).unwrap();
    assert_eq!(action, RepeatAction::Add(p.into()));
    let back = apply_repeat_action(&def, &mut data, &action, &posted, &ids);
    assert_eq!(back.as_deref(), Some("f-establishments-e1-hk_staff-1"));
    assert_eq!(
        data.establishments["e1"]["hk_staff"],
        json!([{ "hk_job": "sp" }, {}])
    );

    // Adding again while the new item is still blank gives one more, not the same one.
    posted.extend(pairs(&[
        ("_present", &format!("{p}.1.hk_job")),
        (&format!("{p}.1.hk_job"), ""),
    ]));
    let mut again = parse_pairs(&def, &posted, &data, &ids);
    apply_repeat_action(&def, &mut again, &action, &posted, &ids);
    assert_eq!(
        again.establishments["e1"]["hk_staff"],
        json!([{ "hk_job": "sp" }, {}, {}])
    );

    let remove = RepeatAction::Remove(format!("{p}.0"));
    let back = apply_repeat_action(&def, &mut again, &remove, &[], &ids);
    assert_eq!(back.as_deref(), Some("f-establishments-e1-hk_staff"));
    assert_eq!(again.establishments["e1"]["hk_staff"], json!([{}, {}]));

    // Nothing past `max` (8), and nothing for paths that name no repeating group of
    // a covered establishment.
    let full: Vec<Value> = (0..8).map(|_| json!({ "hk_job": "sp" })).collect();
    data.establishments
        .get_mut("e1")
        .unwrap()
        .insert("hk_staff".into(), Value::Array(full));
    apply_repeat_action(&def, &mut data, &action, &[], &ids);
    assert_eq!(
        data.establishments["e1"]["hk_staff"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    for path in [
        "establishments.e2.hk_staff",
        "establishments.e1.hk_business_days",
        "fields.hk_staff",
        "establishments.e1",
    ] {
        let before = data.clone();
        let add = RepeatAction::Add(path.into());
        assert_eq!(apply_repeat_action(&def, &mut data, &add, &[], &ids), None);
        assert_eq!(data, before, "{path}");
    }
}

#[test]
fn every_shipped_definition_round_trips_through_the_form() {
    let catalog = catalog();
    let registry = RegistrySnapshot::default();
    let mut checked = 0;
    for latest in catalog.list_latest() {
        for def in catalog.versions(&latest.id) {
            let (ids, ests) = match def.targets.max_establishments {
                Some(0) => (vec![], vec![]),
                _ => (vec!["e1".to_string()], vec![est("e1")]),
            };
            let mut data = def.sample_data(&ids);
            // (A definition without per-establishment groups has nothing to post there.)
            data.establishments.retain(|_, r| !r.is_empty());
            let sections = sections(def, &data, &ests, &[], &registry);
            let mut kinds = HashSet::new();
            for s in &sections {
                let items = s.repeat.iter().flat_map(|r| r.items.iter());
                for f in s.fields.iter().chain(items.flat_map(|i| i.fields.iter())) {
                    assert!(
                        super::super::form_view::FIELD_KINDS.contains(&f.kind.as_str()),
                        "{}: kind {} has no control",
                        def.id,
                        f.kind
                    );
                    kinds.insert(f.kind.clone());
                }
            }
            let mut parsed =
                parse_pairs(def, &browser_post(&sections), &FilingData::default(), &ids);
            def.normalize(&mut parsed);
            let (a, b) = (json!(parsed), json!(data));
            assert!(same(&a, &b), "{} {}:\n{a:#}\n{b:#}", def.id, def.version);
            assert_eq!(def.validate(&parsed, &ids), Vec::new(), "{}", def.id);
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}

#[test]
fn review_shows_items_days_numbers_and_computed_values() {
    let catalog = catalog();
    let def = catalog.latest("designation-application").unwrap();
    let ids = vec!["e1".to_string()];
    let mut data = def.sample_data(&ids);
    data.fields["service_types"] = json!(["11"]);
    let e1 = data.establishments.get_mut("e1").unwrap();
    e1.insert("hk_business_days".into(), json!(["sat", "mon", "holiday"]));
    e1.insert(
        "hk_staff".into(),
        json!([
            { "hk_job": "sp", "hk_employment": "full_time", "hk_dedication": "dedicated",
              "hk_headcount": 2, "hk_weekly_hours": 80 },
            { "hk_job": "helper", "hk_employment": "part_time", "hk_dedication": "concurrent",
              "hk_headcount": 4, "hk_weekly_hours": 62.5 },
        ]),
    );
    def.compute(&mut data);
    let sections = review(def, &data, &[est("e1")], &RegistrySnapshot::default());
    let value = |path: &str| {
        sections
            .iter()
            .flat_map(|s| s.values())
            .find(|(p, _)| *p == path)
            .map(|(_, v)| v.to_owned())
            .unwrap_or_else(|| panic!("{path}"))
    };
    assert_eq!(value("establishments.e1.hk_business_days"), "月・土・祝日");
    assert_eq!(value("establishments.e1.hk_business_hours"), "09:00〜18:00");
    assert_eq!(
        value("establishments.e1.hk_fte"),
        "3.56人",
        "142.5 ÷ 40, cut"
    );
    assert_eq!(
        value("establishments.e1.hk_staff.1.hk_weekly_hours"),
        "62.5時間"
    );
    assert_eq!(
        value("establishments.e1.hk_staff.1.hk_job"),
        "訪問介護員等（サービス提供責任者を除く）"
    );
    let staff = sections
        .iter()
        .find_map(|s| s.repeat.as_ref().filter(|r| r.path.ends_with("hk_staff")))
        .unwrap();
    assert_eq!(staff.items.len(), 2);
    assert_eq!(staff.items[1].title, "職種・勤務形態 2");
    assert_eq!(staff.columns[0], "職種");

    let ehr = catalog.latest("ehr-subsidy").unwrap();
    let mut data = ehr.sample_data(&[]);
    data.fields["institution_kind"] = json!("clinic");
    data.fields["beds"] = json!(0);
    ehr.compute(&mut data);
    let sections = review(ehr, &data, &[], &RegistrySnapshot::default());
    let base = sections
        .iter()
        .flat_map(|s| s.values())
        .find(|(p, _)| *p == "fields.base_amount")
        .unwrap()
        .1
        .to_owned();
    assert_eq!(base, "3,000,000円");
    assert_eq!(thousands("1234567.25"), "1,234,567.25");
    assert_eq!(thousands("999"), "999");
}

#[derive(Template)]
#[template(
    source = r#"{% import "macros/form.html" as form %}{% for s in sections %}{% for f in s.fields %}{{ form::field(f) }}{% endfor %}{% if let Some(r) = s.repeat %}{{ form::repeat(r) }}{% endif %}{% endfor %}"#,
    ext = "html"
)]
struct Sections {
    sections: Vec<SectionView>,
}

#[test]
fn repeating_groups_and_computed_fields_render_without_inputs_for_computed() {
    let catalog = catalog();
    let def = catalog.latest("designation-application").unwrap();
    let ids = vec!["e1".to_string()];
    let mut data = def.sample_data(&ids);
    data.fields["service_types"] = json!(["11"]);
    def.compute(&mut data);
    let problems = vec![
        Problem {
            field: "establishments.e1.hk_staff.0.hk_headcount".into(),
            code: "out_of_range".into(),
            message: "人数は1人以上で入力してください。".into(),
        },
        Problem {
            field: "establishments.e1.hk_fte".into(),
            code: "rule".into(),
            message: "常勤換算後の人数は2.5人以上が必要です。".into(),
        },
    ];
    let sections = sections(
        def,
        &data,
        &[est("e1")],
        &problems,
        &RegistrySnapshot::default(),
    );
    let html = Sections { sections }.render().unwrap();
    let p = "establishments.e1.hk_staff";
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"_present\" value=\"{p}\">"
    )));
    assert!(html.contains("<legend class=\"repeat-item__title\">職種・勤務形態 1</legend>"));
    assert!(html.contains(&format!(
        "name=\"_repeat_add\" value=\"{p}\">職種・勤務形態を追加</button>"
    )));
    assert!(
        !html.contains("_repeat_remove"),
        "one item, the minimum: nothing to remove"
    );
    assert!(html.contains(&format!("name=\"{p}.0.hk_headcount\"")));
    assert!(html.contains(
        "id=\"f-establishments-e1-hk_staff-0-hk_headcount\" name=\"establishments.e1.hk_staff.0.hk_headcount\" value=\"3\" inputmode=\"numeric\""
    ));
    assert!(html.contains("id=\"f-establishments-e1-hk_staff-0-hk_headcount-error\""));
    assert!(html.contains("inputmode=\"decimal\""), "number");
    assert!(html.contains("例: 09:00-18:00"), "time range hint");
    assert!(html.contains("choices--days"));
    assert!(html.contains("value=\"holiday\""));
    assert!(html.contains("<span>祝日</span>"));
    // The computed 常勤換算: labelled read-only text with its error, no input.
    assert!(!html.contains("name=\"establishments.e1.hk_fte\""));
    assert!(!html.contains("value=\"establishments.e1.hk_fte\""));
    assert!(html.contains("<label class=\"field__label\" for=\"f-establishments-e1-hk_fte\">"));
    assert!(html.contains("<output class=\"computed-value\" id=\"f-establishments-e1-hk_fte\""));
    assert!(html.contains("常勤換算後の人数は2.5人以上が必要です。"));
    assert!(
        html.contains(
            "aria-describedby=\"f-establishments-e1-hk_fte-error f-establishments-e1-hk_fte-help\">"
        ),
        "the unit is part of the computed text, not a separate element"
    );
    assert!(html.contains("自動計算"));
}
