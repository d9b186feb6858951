//! The preview of a local rule before it is published: the procedure's form as a provider of
//! this authority would see it with the draft applied (latest form version, the additions
//! labelled with the authority), and the validation of a sample filing — by default one that
//! answers every field of the **standard** form (so what the rule adds shows up as what is
//! still missing), or the answers the admin typed into the preview form.

use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};
use serde::Serialize;
use utoipa::ToSchema;

use super::authority_name;
use super::local_rules::working_copy;
use crate::filings::view::Problem;
use crate::{Actor, App, CoreError, CoreResult};

/// The establishment the preview's per-establishment sections are shown for.
pub const SAMPLE_ESTABLISHMENT_ID: &str = "sample";
/// Its name on the preview.
pub const SAMPLE_ESTABLISHMENT_NAME: &str = "見本の事業所";

/// A document the sample filing would have to carry.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PreviewAttachment {
    pub id: String,
    pub label: String,
    pub help: String,
    /// Added by this authority's rule (the standard ones count as attached in the preview).
    pub added_by_rule: bool,
}

/// The form with the draft applied, and the sample's validation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RulePreview {
    pub authority_code: String,
    pub authority_name: String,
    pub procedure_id: String,
    /// The procedure with the draft applied (latest version), as the provider's form is
    /// built from it.
    #[schema(value_type = Object)]
    pub definition: ProcedureDefinition,
    /// The sample's answers, normalised.
    #[schema(value_type = Object)]
    pub data: FilingData,
    /// What the provider would be asked to fix (fields, then documents).
    pub problems: Vec<Problem>,
    /// The documents required for these answers.
    pub attachments: Vec<PreviewAttachment>,
    /// The authority's due date for these answers, if the deadline's date is answered.
    pub due_on: Option<String>,
    pub deadline_label: Option<String>,
    /// The sample is the generated one (not the admin's answers).
    pub generated: bool,
}

/// The preview of the draft (or of what applies now when there is no draft). `data`: the
/// admin's answers; `None` for the generated sample.
pub async fn preview(
    app: &App,
    actor: &Actor,
    code: &str,
    procedure: &str,
    data: Option<FilingData>,
) -> CoreResult<RulePreview> {
    let mut tx = app.db.begin_read().await?;
    let name = authority_name(&mut tx, actor, code).await?;
    let standard = app.catalog.latest(procedure).ok_or(CoreError::NotFound)?;
    let w = working_copy(app, &mut tx, code, &name, procedure).await?;
    tx.commit().await?;
    // A draft that no longer loads previews as the standard form (the editor says why).
    let rules: Vec<&madoguchi_domain::procedure::LocalRules> = w.rules.iter().collect();
    let def = standard.with_local_rules(&rules, &|_| Some(name.clone()));
    let ests = vec![SAMPLE_ESTABLISHMENT_ID.to_owned()];
    let generated = data.is_none();
    let mut data = data.unwrap_or_else(|| standard.sample_data(&ests));
    data.establishments
        .retain(|k, _| k == SAMPLE_ESTABLISHMENT_ID);
    def.normalize(&mut data);
    // The standard's documents count as attached; what the rule adds is what is asked.
    let present: Vec<String> = standard.attachments.iter().map(|a| a.id.clone()).collect();
    let mut problems: Vec<Problem> = def
        .validate(&data, &ests)
        .into_iter()
        .map(Into::into)
        .collect();
    problems.extend(
        def.missing_attachments(&data, &present)
            .into_iter()
            .map(Into::into),
    );
    let attachments = def
        .required_attachments(&data)
        .into_iter()
        .map(|a| PreviewAttachment {
            id: a.id.clone(),
            label: a.label.clone(),
            help: a.help.clone(),
            added_by_rule: !a.origin.is_standard(),
        })
        .collect();
    Ok(RulePreview {
        authority_code: code.to_owned(),
        authority_name: name,
        procedure_id: procedure.to_owned(),
        due_on: def
            .due_date(&data)
            .map(|d| d.format("%Y-%m-%d").to_string()),
        deadline_label: def.deadline.as_ref().map(|d| d.label.clone()),
        definition: def,
        data,
        problems,
        attachments,
        generated,
    })
}
