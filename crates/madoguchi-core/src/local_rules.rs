//! Publishing local rules (独自ルール): what each authority adds to the standard
//! procedures, readable by anyone (the law requires local rules to be published). The rules
//! are data files (`procedures/local-rules/`), loaded with the catalog, overlaid with what the
//! authorities' admins published through the admin pages (`crate::admin::local_rules`).

use madoguchi_db::{DbError, registry};
use madoguchi_domain::procedure::{Condition, LocalRules, ProcedureDefinition};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{App, CoreError, CoreResult};

/// One item a local rule adds: a field or a document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AddedItem {
    pub id: String,
    pub label: String,
    /// Field kind (`text`, `phone`, …) or `attachment`.
    pub kind: String,
    /// 必須 always, or only when `condition` holds.
    pub required: bool,
    /// When it is required, in plain Japanese (e.g. 「変更があった事項」で「管理者…」を選んだとき).
    pub condition: Option<String>,
    pub help: String,
}

/// One authority's additions to one procedure.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PublishedRule {
    pub procedure_id: String,
    pub procedure_title: String,
    pub summary: String,
    /// The authority's own form number, if it sets one.
    pub form_number: Option<String>,
    /// The authority's own deadline, if it sets one.
    pub deadline: Option<String>,
    pub fields: Vec<AddedItem>,
    pub attachments: Vec<AddedItem>,
    /// Messages of the extra checks it makes.
    pub checks: Vec<String>,
    /// The data file the rule is kept in (reviewed like code).
    pub source: String,
}

/// An authority's published local rules.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PublishedLocalRules {
    pub authority_code: String,
    pub authority_name: String,
    /// Where to ask about them.
    pub contact: crate::admin::authority::AuthorityContact,
    pub rules: Vec<PublishedRule>,
}

/// The local rules of one authority (an empty list when it has none); `NotFound` for a code
/// that is not an authority of the registry.
pub async fn published(app: &App, code: &str) -> CoreResult<PublishedLocalRules> {
    let mut tx = app.db.begin_read().await?;
    let authority = match registry::get_authority(&mut tx, code).await {
        Ok(a) => a,
        Err(DbError::NotFound) => return Err(CoreError::NotFound),
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let contact = crate::admin::authority::contact(app, code).await?;
    let rules = app
        .catalog
        .local_rules_of(code)
        .into_iter()
        .filter(|r| !r.is_empty())
        .filter_map(|r| Some(describe(app.catalog.latest(&r.procedure)?, &r)))
        .collect();
    Ok(PublishedLocalRules {
        authority_code: authority.code,
        authority_name: authority.name,
        contact,
        rules,
    })
}

/// Every authority of the registry with the number of procedures it adds rules to.
pub async fn index(app: &App) -> CoreResult<Vec<(String, String, usize)>> {
    let mut tx = app.db.begin_read().await?;
    let all = registry::list_authorities(&mut tx).await?;
    tx.commit().await?;
    Ok(all
        .into_iter()
        .map(|a| {
            let n = app
                .catalog
                .local_rules_of(&a.code)
                .iter()
                .filter(|r| !r.is_empty())
                .count();
            (a.code, a.name, n)
        })
        .collect())
}

/// The local rules a case is bound by: its authority's rule for the procedure as it stood
/// when the case's current version arrived (`version_created_at`), so publishing a change
/// later does not change what a submitted case was checked against. Empty when the authority
/// added nothing then.
pub async fn in_force_for_case(
    app: &App,
    tx: &mut madoguchi_db::Tx,
    authority_code: &str,
    procedure_id: &str,
    version_created_at: i64,
) -> CoreResult<Vec<std::sync::Arc<LocalRules>>> {
    Ok(crate::admin::rules_in_force::in_force_at(
        app,
        tx,
        authority_code,
        procedure_id,
        version_created_at,
    )
    .await?
    .into_iter()
    .collect())
}

fn describe(def: &ProcedureDefinition, r: &LocalRules) -> PublishedRule {
    let merged = def.with_local_rules(&[r], &|_| None);
    let condition = |c: &Option<Condition>| c.as_ref().map(|c| condition_text(&merged, c));
    PublishedRule {
        procedure_id: def.id.clone(),
        procedure_title: def.title.clone(),
        summary: r.summary.clone(),
        form_number: r.form_number.clone(),
        deadline: r.deadline.as_ref().map(|d| d.label.clone()),
        fields: r
            .groups
            .iter()
            .flat_map(|g| g.fields.iter())
            .map(|f| AddedItem {
                id: f.id.clone(),
                label: f.label.clone(),
                kind: f.kind.as_str().to_owned(),
                required: f.required || f.required_when.is_some(),
                condition: condition(&f.required_when),
                help: f.help.clone(),
            })
            .collect(),
        attachments: r
            .attachments
            .iter()
            .map(|a| AddedItem {
                id: a.id.clone(),
                label: a.label.clone(),
                kind: "attachment".into(),
                required: a.required || a.required_when.is_some(),
                condition: condition(&a.required_when),
                help: a.help.clone(),
            })
            .collect(),
        checks: r.rules.iter().map(|x| x.message.clone()).collect(),
        source: r.source.clone(),
    }
}

/// A condition in plain Japanese.
pub fn condition_text(def: &ProcedureDefinition, c: &Condition) -> String {
    let label_of = |field: &str, value: &str| {
        def.field(field)
            .and_then(|(_, f)| f.options.iter().find(|o| o.value == value))
            .map(|o| o.label.clone())
            .unwrap_or_else(|| value.to_owned())
    };
    let field_label = |field: &str| {
        def.field(field)
            .map(|(_, f)| f.label.clone())
            .unwrap_or_else(|| field.to_owned())
    };
    match c {
        Condition::Includes { field, value } => format!(
            "「{}」で「{}」を選んだとき",
            field_label(field),
            label_of(field, value)
        ),
        Condition::AnyOf { field, values } => format!(
            "「{}」で{}のいずれかを選んだとき",
            field_label(field),
            values
                .iter()
                .map(|v| format!("「{}」", label_of(field, v)))
                .collect::<Vec<_>>()
                .join("、")
        ),
        Condition::Equals { field, value } => {
            let shown = match value {
                serde_json::Value::Bool(true) => "はい".to_owned(),
                serde_json::Value::Bool(false) => "いいえ".to_owned(),
                serde_json::Value::String(s) => label_of(field, s),
                other => other.to_string(),
            };
            format!("「{}」が「{}」のとき", field_label(field), shown)
        }
        Condition::Expr(e) => format!("条件（{}）を満たすとき", e.source()),
    }
}
