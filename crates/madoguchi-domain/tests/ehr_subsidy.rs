//! The EHR adoption subsidy (DOMAIN.md §8): amounts computed from the answers by the
//! definition's CEL expressions and the fiscal year's constants; eligibility rules refuse
//! with a clear reason.

use madoguchi_domain::procedure::{FilingData, ProcedureCatalog, ProcedureDefinition};
use serde_json::{Value, json};

const EHR: &str = include_str!("../../../procedures/ehr-subsidy/2026-04.toml");

fn ehr() -> ProcedureDefinition {
    let catalog =
        ProcedureCatalog::from_sources([("procedures/ehr-subsidy/2026-04.toml", EHR)]).unwrap();
    catalog.latest("ehr-subsidy").unwrap().clone()
}

/// A complete, eligible application with the given overrides.
fn application(overrides: Value) -> FilingData {
    let mut fields = json!({
        "institution_kind": "clinic",
        "institution_name": "新宿みらいクリニック",
        "institution_name_kana": "シンジュクミライクリニック",
        "institution_postal_code": "160-0023",
        "institution_address": "東京都新宿区西新宿2-8-1",
        "institution_phone": "03-5321-1111",
        "founder_name": "医療法人社団みらい会 理事長 山田太郎",
        "beds": 3,
        "has_existing_ehr": false,
        "product_name": "みらいカルテ",
        "standard_export": "both",
        "acquisition": "purchase",
        "introduction_date": "2026-10-01",
        "total_cost": 900_000_000,
        "received_before": false,
    });
    for (k, v) in overrides.as_object().unwrap() {
        fields[k] = v.clone();
    }
    FilingData {
        fields: fields.as_object().unwrap().clone(),
        establishments: Default::default(),
    }
}

fn computed(overrides: Value) -> (FilingData, Vec<String>) {
    let def = ehr();
    let mut data = application(overrides);
    def.normalize(&mut data);
    let errors = def
        .validate(&data, &[])
        .into_iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    (data, errors)
}

#[test]
fn base_amounts_follow_the_fiscal_year_figures() {
    let (d, errors) = computed(json!({ "institution_kind": "clinic", "beds": 3 }));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(d.fields["base_amount"], json!(3_000_000));
    assert_eq!(d.fields["subsidy_rate"], json!(0.75));
    // The cost is higher than the base: 3/4 of the base.
    assert_eq!(d.fields["subsidy_amount"], json!(2_250_000));

    let (d, errors) = computed(json!({ "institution_kind": "clinic", "beds": 0 }));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(d.fields["base_amount"], json!(3_000_000));

    let (d, errors) = computed(json!({ "institution_kind": "clinic", "beds": 19 }));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(d.fields["base_amount"], json!(11_495_000));
    assert_eq!(d.fields["subsidy_amount"], json!(8_621_250));

    let (d, errors) = computed(json!({ "institution_kind": "clinic", "beds": 5 }));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(d.fields["base_amount"], json!(3_025_000));

    let (d, errors) = computed(json!({ "institution_kind": "hospital", "beds": 200 }));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(d.fields["base_amount"], json!(121_000_000));
    assert_eq!(d.fields["subsidy_rate"], json!(0.5));
    assert_eq!(d.fields["subsidy_amount"], json!(60_500_000));

    // A cost below the base: the rate applies to the cost.
    let (d, _) = computed(json!({ "beds": 3, "total_cost": 1_000_001 }));
    assert_eq!(d.fields["subsidy_amount"], json!(750_000));
}

#[test]
fn amounts_cannot_be_typed_in() {
    let (d, _) = computed(json!({ "beds": 3, "base_amount": 99_999_999, "subsidy_amount": 1 }));
    assert_eq!(d.fields["base_amount"], json!(3_000_000));
    assert_eq!(d.fields["subsidy_amount"], json!(2_250_000));
    // Missing inputs leave the amounts blank rather than guessing.
    let def = ehr();
    let mut data = application(json!({}));
    data.fields.remove("beds");
    def.normalize(&mut data);
    assert!(!data.fields.contains_key("base_amount"));
    assert!(!data.fields.contains_key("subsidy_amount"));
}

#[test]
fn a_hospital_funded_two_fiscal_years_ago_is_refused_with_the_reason() {
    let (_, errors) = computed(json!({
        "institution_kind": "hospital", "beds": 200,
        "received_before": true, "previous_grant_fiscal_year": 2024,
    }));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("fields.previous_grant_fiscal_year: 病院は、過去5年度以内"));

    // Six fiscal years ago is eligible again; a clinic is never subject to the look-back.
    let (_, errors) = computed(json!({
        "institution_kind": "hospital", "beds": 200,
        "received_before": true, "previous_grant_fiscal_year": 2020,
    }));
    assert!(errors.is_empty(), "{errors:?}");
    let (_, errors) = computed(json!({
        "institution_kind": "clinic", "beds": 3,
        "received_before": true, "previous_grant_fiscal_year": 2024,
    }));
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn lease_conditions_are_each_explained() {
    let (_, errors) = computed(json!({
        "acquisition": "lease", "lease_years": 6, "is_re_lease": true,
        "cancellable_at_will": true, "records_handed_over": false,
    }));
    let text = errors.join("\n");
    assert_eq!(errors.len(), 4, "{text}");
    for part in ["5年以内", "再リース", "いつでも解約", "引き渡される"] {
        assert!(text.contains(part), "{part} missing in {text}");
    }
    let (_, errors) = computed(json!({ "standard_export": "none", "has_existing_ehr": true }));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.join("").contains("SS-MIX2"));
}
