//! An authority admin's local rules (独自ルール), edited through forms: add a field, a document
//! or a deadline override to a standard procedure, remove one, say what the rule is for; then
//! preview (`super::preview`) and publish.
//!
//! Each edit changes the admin's **draft** (`authority_local_rule_drafts`), a TOML document in
//! the format of `procedures/local-rules/` that must load with the same loader as the files —
//! an edit that would not load is refused with the loader's message. The draft starts from
//! what applies now: the newest publication, else the embedded file, else an empty rule.
//! **Publishing** appends the draft to `authority_local_rules` (never updated: the rule in force
//! at any time can be read back) and swaps it into the live catalog at once, without a restart.
//!
//! What a publication changes: drafts of providers see it at once (their form shows the new
//! fields, and submission checks them); a case already submitted keeps the rule it was
//! validated against — its due date was stored at submission, and its checklist and form
//! number are read from the rule in force when its current version arrived
//! ([`crate::local_rules::in_force_for_case`]).

use madoguchi_db::local_rules as db;
use madoguchi_domain::procedure::local_rules_edit::LocalRulesDoc;
use madoguchi_domain::procedure::{FieldKind, LoadError, LocalRules};
use serde::Serialize;
use utoipa::ToSchema;

use super::authority_name;
pub use super::rule_edits::{FIELD_KINDS, LocalRuleEdit, kind_label};
pub use super::rules_in_force::load_published;
pub(crate) use super::rules_in_force::published_source_label;
use crate::blobs::sha256_hex;
use crate::catalog::embedded_local_rules_text;
use crate::clock::format_ms_jst;
use crate::local_rules::condition_text;
use crate::{Actor, App, CoreError, CoreResult};

/// Where the working copy comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleBase {
    /// An unpublished draft.
    Draft,
    /// What was last published through these pages.
    Published,
    /// The rule file shipped with the system.
    File,
    /// No rule yet: the standard form only.
    None,
}

/// One field or document of a rule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleItem {
    pub id: String,
    pub label: String,
    /// Field kind, or `attachment`.
    pub kind: String,
    pub kind_label: String,
    pub required: bool,
    /// When it is required, in plain Japanese.
    pub condition: Option<String>,
    pub help: String,
    /// The section of the form it sits in (fields only).
    pub section: Option<String>,
}

/// The authority's deadline of a rule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleDeadline {
    pub label: String,
    /// The date field it counts from, and its label.
    pub field: Option<String>,
    pub field_label: Option<String>,
}

/// A date field a deadline can count from.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DateField {
    pub id: String,
    pub label: String,
}

/// One publication of a rule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Publication {
    pub published_at: String,
    pub published_by: String,
    pub sha256: String,
}

/// Everything the editor of one rule shows.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleEditor {
    pub authority_code: String,
    pub authority_name: String,
    pub procedure_id: String,
    pub procedure_title: String,
    pub base: RuleBase,
    /// The draft differs from what applies now (there is something to publish).
    pub has_changes: bool,
    pub draft_updated_at: Option<String>,
    /// The working copy as TOML (the format of `procedures/local-rules/`).
    pub source: String,
    /// Why a stored draft no longer loads (then it can only be discarded); empty when it loads.
    pub load_errors: Vec<String>,
    pub summary: String,
    pub form_number: Option<String>,
    pub fields: Vec<RuleItem>,
    pub attachments: Vec<RuleItem>,
    pub deadline: Option<RuleDeadline>,
    /// Messages of the rule's cross-field checks (from a file; not editable here).
    pub checks: Vec<String>,
    /// Top-level date fields of the procedure (for the deadline form).
    pub date_fields: Vec<DateField>,
    /// The standard deadline, if the procedure has one.
    pub standard_deadline: Option<String>,
    pub publications: Vec<Publication>,
}

/// The rules of an authority, one line per procedure.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleSummary {
    pub procedure_id: String,
    pub procedure_title: String,
    /// Where what applies now comes from: `published`, `file` or `none`.
    pub applies: RuleBase,
    pub fields: usize,
    pub attachments: usize,
    pub deadline: Option<String>,
    pub has_draft: bool,
}

/// The working copy of a rule and where it came from.
pub(crate) struct WorkingCopy {
    pub base: RuleBase,
    pub source: String,
    /// The loaded rule, or what the loader said about a stored draft that no longer loads
    /// (e.g. a new release changed its procedure): the admin sees why and may discard it.
    pub rules: Result<LocalRules, Vec<LoadError>>,
    pub draft_updated_at: Option<i64>,
    /// The source that applies now (to tell whether the draft changes anything).
    pub applied_source: Option<String>,
}

/// The loader's problems, one line each (`3行目: …`).
fn load_problems(errors: &[LoadError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| match e.line {
            Some(l) => format!("{l}行目: {}", e.message),
            None => e.message.clone(),
        })
        .collect()
}

/// A rule that does not load, refused with the loader's message.
fn invalid(errors: &[LoadError]) -> CoreError {
    CoreError::field(
        "source",
        "local_rules_invalid",
        format!(
            "独自ルールとして読み込めないため、保存・公開できません（{}）。",
            load_problems(errors).join(" / ")
        ),
    )
}

/// Checks a procedure id against the catalog; `NotFound` otherwise.
fn procedure_title(app: &App, procedure: &str) -> CoreResult<String> {
    app.catalog
        .latest(procedure)
        .map(|d| d.title.clone())
        .ok_or(CoreError::NotFound)
}

/// The working copy: the draft, else what applies now.
pub(crate) async fn working_copy(
    app: &App,
    tx: &mut madoguchi_db::Tx,
    code: &str,
    authority: &str,
    procedure: &str,
) -> CoreResult<WorkingCopy> {
    let published = db::latest_published(tx, code, procedure).await?;
    let applied_source = match &published {
        Some(p) => Some(p.source.clone()),
        None => embedded_local_rules_text(code, procedure).map(str::to_owned),
    };
    let (base, source, draft_updated_at) = match db::get_draft(tx, code, procedure).await? {
        Some(d) => (RuleBase::Draft, d.source, Some(d.updated_at)),
        None => match (&published, embedded_local_rules_text(code, procedure)) {
            (Some(p), _) => (RuleBase::Published, p.source.clone(), None),
            (None, Some(file)) => (RuleBase::File, file.to_owned(), None),
            (None, None) => {
                let title = procedure_title(app, procedure)?;
                let doc = LocalRulesDoc::new(
                    code,
                    procedure,
                    &format!("{authority}が{title}に追加している項目です。"),
                );
                (RuleBase::None, doc.to_toml(), None)
            }
        },
    };
    let rules = app.catalog.check_local_rules(code, procedure, &source);
    Ok(WorkingCopy {
        base,
        source,
        rules,
        draft_updated_at,
        applied_source,
    })
}

fn items(app: &App, procedure: &str, rules: &LocalRules) -> (Vec<RuleItem>, Vec<RuleItem>) {
    let standard = app.catalog.latest(procedure);
    let merged = standard.map(|d| d.with_local_rules(&[rules], &|_| None));
    let condition = |c: &Option<madoguchi_domain::procedure::Condition>| match (c, &merged) {
        (Some(c), Some(m)) => Some(condition_text(m, c)),
        _ => None,
    };
    let fields = rules
        .groups
        .iter()
        .flat_map(|g| g.fields.iter().map(move |f| (g, f)))
        .map(|(g, f)| RuleItem {
            id: f.id.clone(),
            label: f.label.clone(),
            kind: f.kind.as_str().into(),
            kind_label: kind_label(f.kind).into(),
            required: f.required || f.required_when.is_some(),
            condition: condition(&f.required_when),
            help: f.help.clone(),
            section: Some(g.title.clone()),
        })
        .collect();
    let attachments = rules
        .attachments
        .iter()
        .map(|a| RuleItem {
            id: a.id.clone(),
            label: a.label.clone(),
            kind: "attachment".into(),
            kind_label: "添付書類".into(),
            required: a.required || a.required_when.is_some(),
            condition: condition(&a.required_when),
            help: a.help.clone(),
            section: None,
        })
        .collect();
    (fields, attachments)
}

/// Top-level date fields of every version of the procedure (a deadline must count from one
/// that all versions have), labelled from the latest.
pub(crate) fn date_fields(app: &App, procedure: &str) -> Vec<DateField> {
    let versions = app.catalog.versions(procedure);
    let Some(latest) = versions.last() else {
        return Vec::new();
    };
    latest
        .groups
        .iter()
        .filter(|g| !g.per_establishment && g.repeat.is_none() && g.origin.is_standard())
        .flat_map(|g| g.fields.iter())
        .filter(|f| f.kind == FieldKind::Date && f.compute.is_none())
        .filter(|f| {
            versions.iter().all(|v| {
                v.field(&f.id).is_some_and(|(g, vf)| {
                    !g.per_establishment && g.repeat.is_none() && vf.kind == FieldKind::Date
                })
            })
        })
        .map(|f| DateField {
            id: f.id.clone(),
            label: f.label.clone(),
        })
        .collect()
}

/// The editor of one rule.
pub async fn editor(
    app: &App,
    actor: &Actor,
    code: &str,
    procedure: &str,
) -> CoreResult<RuleEditor> {
    let mut tx = app.db.begin_read().await?;
    let name = authority_name(&mut tx, actor, code).await?;
    let title = procedure_title(app, procedure)?;
    let w = working_copy(app, &mut tx, code, &name, procedure).await?;
    let history = db::history(&mut tx, code, procedure).await?;
    let mut publications = Vec::new();
    for p in history {
        let by = match madoguchi_db::users::get_user(&mut tx, &p.published_by).await {
            Ok(u) => u.display_name,
            Err(_) => p.published_by.clone(),
        };
        publications.push(Publication {
            published_at: format_ms_jst(p.published_at),
            published_by: by,
            sha256: p.sha256,
        });
    }
    tx.commit().await?;
    let (rules, load_errors) = match &w.rules {
        Ok(r) => (r.clone(), Vec::new()),
        Err(e) => (
            LocalRules {
                authority: code.to_owned(),
                procedure: procedure.to_owned(),
                summary: String::new(),
                form_number: None,
                deadline: None,
                groups: Vec::new(),
                attachments: Vec::new(),
                rules: Vec::new(),
                source: String::new(),
            },
            load_problems(e),
        ),
    };
    let (fields, attachments) = items(app, procedure, &rules);
    let standard = app.catalog.latest(procedure);
    let deadline = rules.deadline.as_ref().map(|d| RuleDeadline {
        label: d.label.clone(),
        field: d.field().map(str::to_owned),
        field_label: d
            .field()
            .and_then(|f| standard?.field(f).map(|(_, f)| f.label.clone())),
    });
    Ok(RuleEditor {
        authority_code: code.to_owned(),
        authority_name: name,
        procedure_id: procedure.to_owned(),
        procedure_title: title,
        has_changes: w.base == RuleBase::Draft && w.applied_source.as_deref() != Some(&w.source),
        base: w.base,
        draft_updated_at: w.draft_updated_at.map(format_ms_jst),
        summary: rules.summary.clone(),
        form_number: rules.form_number.clone(),
        checks: rules.rules.iter().map(|r| r.message.clone()).collect(),
        load_errors,
        fields,
        attachments,
        deadline,
        date_fields: date_fields(app, procedure),
        standard_deadline: standard.and_then(|d| d.deadline.as_ref().map(|d| d.label.clone())),
        publications,
        source: w.source,
    })
}

/// Every procedure with what the authority adds to it now, and whether a draft is pending.
pub async fn overview(app: &App, actor: &Actor, code: &str) -> CoreResult<Vec<RuleSummary>> {
    let mut tx = app.db.begin_read().await?;
    authority_name(&mut tx, actor, code).await?;
    let drafts = db::drafts_of(&mut tx, code).await?;
    let mut published = std::collections::BTreeSet::new();
    for p in db::current_published(&mut tx).await? {
        if p.authority_code == code {
            published.insert(p.procedure_id);
        }
    }
    tx.commit().await?;
    Ok(app
        .catalog
        .list_latest()
        .into_iter()
        .map(|def| {
            let applied = app.catalog.local_rules_for(&def.id, &[code.to_owned()]);
            let rule = applied.first();
            let applies = if published.contains(&def.id) {
                RuleBase::Published
            } else if rule.is_some() {
                RuleBase::File
            } else {
                RuleBase::None
            };
            RuleSummary {
                procedure_id: def.id.clone(),
                procedure_title: def.title.clone(),
                applies,
                fields: rule.map_or(0, |r| r.groups.iter().map(|g| g.fields.len()).sum()),
                attachments: rule.map_or(0, |r| r.attachments.len()),
                deadline: rule.and_then(|r| r.deadline.as_ref().map(|d| d.label.clone())),
                has_draft: drafts.iter().any(|d| d.procedure_id == def.id),
            }
        })
        .collect())
}

/// Applies an edit to the draft (created from what applies now at the first edit) and
/// returns the editor (`local_rules.draft_edited`).
pub async fn edit(
    app: &App,
    actor: &Actor,
    code: &str,
    procedure: &str,
    change: &LocalRuleEdit,
) -> CoreResult<RuleEditor> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let name = authority_name(&mut tx, actor, code).await?;
    procedure_title(app, procedure)?;
    let w = working_copy(app, &mut tx, code, &name, procedure).await?;
    let mut doc = LocalRulesDoc::parse(&w.source)
        .map_err(|e| CoreError::Internal(format!("stored local rules unreadable: {e}")))?;
    let what = match super::rule_edits::apply(app, &mut doc, change, code, &name, procedure, now) {
        Ok(w) => w,
        Err(e) => {
            tx.rollback().await?;
            return Err(CoreError::Validation(e));
        }
    };
    let source = doc.to_toml();
    if let Err(e) = app.catalog.check_local_rules(code, procedure, &source) {
        tx.rollback().await?;
        return Err(invalid(&e));
    }
    db::upsert_draft(
        &mut tx,
        &db::DraftRuleRow {
            authority_code: code.to_owned(),
            procedure_id: procedure.to_owned(),
            source: source.clone(),
            updated_by: actor.user_id.clone(),
            updated_at: now,
        },
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "local_rules.draft_edited",
        "local_rules",
        &format!("{code}/{procedure}"),
        &serde_json::json!({ "edit": what, "sha256": sha256_hex(source.as_bytes()) }),
    )
    .await?;
    tx.commit().await?;
    editor(app, actor, code, procedure).await
}

/// Throws the draft away (`local_rules.draft_discarded`); `Conflict` when there is none.
pub async fn discard(app: &App, actor: &Actor, code: &str, procedure: &str) -> CoreResult<()> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    authority_name(&mut tx, actor, code).await?;
    procedure_title(app, procedure)?;
    if !db::delete_draft(&mut tx, code, procedure).await? {
        tx.rollback().await?;
        return Err(CoreError::Conflict("取り消す下書きはありません。".into()));
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "local_rules.draft_discarded",
        "local_rules",
        &format!("{code}/{procedure}"),
        &serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes the draft: appends it to the publications, deletes the draft and swaps it into
/// the live catalog (`local_rules.published`). `Conflict` when there is no draft.
pub async fn publish(app: &App, actor: &Actor, code: &str, procedure: &str) -> CoreResult<()> {
    // One publication at a time, so the catalog ends with the newest.
    let _guard = app.catalog.publish_lock.lock().await;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    authority_name(&mut tx, actor, code).await?;
    procedure_title(app, procedure)?;
    let Some(draft) = db::get_draft(&mut tx, code, procedure).await? else {
        tx.rollback().await?;
        return Err(CoreError::Conflict(
            "公開する変更がありません。先に項目を追加・削除してください。".into(),
        ));
    };
    let mut rules = match app
        .catalog
        .check_local_rules(code, procedure, &draft.source)
    {
        Ok(r) => r,
        Err(e) => {
            tx.rollback().await?;
            return Err(invalid(&e));
        }
    };
    let sha256 = sha256_hex(draft.source.as_bytes());
    db::insert_published(
        &mut tx,
        &db::PublishedRuleRow {
            id: madoguchi_db::new_id(),
            authority_code: code.to_owned(),
            procedure_id: procedure.to_owned(),
            source: draft.source.clone(),
            sha256: sha256.clone(),
            published_by: actor.user_id.clone(),
            published_at: now,
        },
    )
    .await?;
    db::delete_draft(&mut tx, code, procedure).await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "local_rules.published",
        "local_rules",
        &format!("{code}/{procedure}"),
        &serde_json::json!({
            "sha256": sha256,
            "fields": rules.groups.iter().map(|g| g.fields.len()).sum::<usize>(),
            "attachments": rules.attachments.len(),
            "deadline": rules.deadline.as_ref().map(|d| d.label.clone()),
        }),
    )
    .await?;
    tx.commit().await?;
    rules.source = published_source_label(now);
    app.catalog.set_published(code, procedure, Some(rules));
    tracing::info!(authority = code, procedure, by = %actor.user_id, "local rules published");
    Ok(())
}
