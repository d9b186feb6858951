//! Comparing two versions of a case field by field (版の比較): answers changed, given or
//! cleared, items of repeating groups added or removed, files added or removed. The rules are
//! the domain's (`procedure::diff`); this assembles them with labels for the reviewer.

use std::collections::BTreeMap;

use madoguchi_db::{filings, registry};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};
use serde::Serialize;
use utoipa::ToSchema;

use super::load_for_staff;
use super::view::{attachment_links, case_versions};
use crate::clock::format_ms_jst;
use crate::filings::view::{AttachmentLinkView, VersionSummary, events_view};
use crate::{Actor, App, CoreError, CoreResult};

/// One answer that differs between the versions.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FieldChangeView {
    /// Field path (`fields.<id>`, `establishments.<est>.<id>`, `….<group>.<n>.<id>`), the
    /// same paths a return pins.
    pub path: String,
    pub field_id: String,
    /// The form section (group title, with the establishment's name for per-establishment ones).
    pub section: String,
    /// The field's label; inside a repeating group prefixed with the item (「協力医療機関 2：名称」).
    pub label: String,
    /// `changed`, `added` (answered only in the later version) or `removed`.
    pub change: String,
    /// The answer before (any JSON: a string, a number, a list …; `null` when unanswered).
    pub before: serde_json::Value,
    /// The answer after.
    pub after: serde_json::Value,
}

/// An answer of an added or removed item.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ItemValueView {
    pub field_id: String,
    pub label: String,
    pub value: serde_json::Value,
}

/// An item of a repeating group present in only one of the versions.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ItemChangeView {
    pub path: String,
    pub section: String,
    /// 「協力医療機関 2」.
    pub item_label: String,
    /// `added` or `removed`.
    pub change: String,
    pub values: Vec<ItemValueView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseDiffView {
    pub case_id: String,
    pub reference: String,
    pub procedure_id: String,
    /// The form version the filing was made with.
    pub procedure_version: String,
    pub procedure_title: String,
    pub authority_code: String,
    pub authority_name: String,
    pub from_version: i64,
    pub to_version: i64,
    /// The versions of this case that can be compared.
    pub versions: Vec<VersionSummary>,
    pub changes: Vec<FieldChangeView>,
    pub items: Vec<ItemChangeView>,
    pub attachments_added: Vec<AttachmentLinkView>,
    pub attachments_removed: Vec<AttachmentLinkView>,
}

/// The differences from version `from` to version `to` of a case (both must be versions this
/// case was submitted with).
pub async fn diff(
    app: &App,
    actor: &Actor,
    case_id: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> CoreResult<CaseDiffView> {
    if from.is_some() && from == to {
        return Err(CoreError::field(
            "to",
            "same_version",
            "比べる版には、異なる2つの版を選んでください。",
        ));
    }
    let mut tx = app.db.begin_read().await?;
    let c = load_for_staff(&mut tx, actor, case_id).await?;
    let f = filings::get_filing(&mut tx, &c.filing_id).await?;
    let standard = crate::filings::definition_of(app, &f)?;
    let authority = registry::get_authority(&mut tx, &c.authority_code).await?;
    let versions = filings::list_versions(&mut tx, &c.filing_id).await?;
    let events = events_view(&mut tx, case_id, true, &versions).await?;
    let mine = case_versions(&c, &versions, &events);
    // Left out, `to` is the case's latest version and `from` the one before it (or the same
    // one when there is only one: an empty comparison, not an error).
    let to = to
        .or_else(|| mine.iter().map(|v| v.version_no).max())
        .unwrap_or(1);
    let from = from.unwrap_or_else(|| {
        mine.iter()
            .map(|v| v.version_no)
            .filter(|n| *n < to)
            .max()
            .unwrap_or(to)
    });
    let pick = |n: i64, field: &str| {
        mine.iter()
            .find(|v| v.version_no == n)
            .cloned()
            .ok_or_else(|| {
                CoreError::field(
                    field,
                    "unknown_version",
                    format!("第{n}版はこの案件にありません。表示されている版から選んでください。"),
                )
            })
    };
    let (before, after) = (pick(from, "from")?, pick(to, "to")?);
    let (atts_before, atts_after) = (
        attachment_links(&mut tx, &before).await?,
        attachment_links(&mut tx, &after).await?,
    );
    let mut est_ids: Vec<String> = serde_json::from_str(&after.establishments)?;
    for e in serde_json::from_str::<Vec<String>>(&before.establishments)? {
        if !est_ids.contains(&e) {
            est_ids.push(e);
        }
    }
    let mut names = BTreeMap::new();
    for id in &est_ids {
        names.insert(
            id.clone(),
            registry::get_establishment(&mut tx, id).await?.name,
        );
    }
    tx.commit().await?;
    let rules = app
        .catalog
        .local_rules_for(&standard.id, std::slice::from_ref(&c.authority_code));
    let def: ProcedureDefinition =
        standard.with_local_rules(&rules, &|_| Some(authority.name.clone()));
    let (b, a): (FilingData, FilingData) = (
        serde_json::from_str(&before.data)?,
        serde_json::from_str(&after.data)?,
    );
    let d = madoguchi_domain::procedure::diff(&def, &b, &a, &est_ids);
    let section = |g: &madoguchi_domain::procedure::Group, est: &Option<String>| match est
        .as_ref()
        .and_then(|e| names.get(e))
    {
        Some(n) => format!("{}（{}）", g.title, n),
        None => g.title.clone(),
    };
    let item_label = |g: &madoguchi_domain::procedure::Group, i: usize| {
        let l = g
            .repeat
            .as_ref()
            .map(|r| r.item_label.as_str())
            .unwrap_or(&g.title);
        format!("{l} {}", i + 1)
    };
    let changes = d
        .fields
        .iter()
        .map(|ch| FieldChangeView {
            path: ch.path.clone(),
            field_id: ch.field.id.clone(),
            section: section(ch.group, &ch.establishment_id),
            label: match ch.item {
                Some(i) => format!("{}：{}", item_label(ch.group, i), ch.field.label),
                None => ch.field.label.clone(),
            },
            change: ch.kind.as_str().into(),
            before: ch.before.clone().unwrap_or_default(),
            after: ch.after.clone().unwrap_or_default(),
        })
        .collect();
    let items = d
        .items
        .iter()
        .map(|it| ItemChangeView {
            path: it.path.clone(),
            section: section(it.group, &it.establishment_id),
            item_label: item_label(it.group, it.index),
            change: it.kind.as_str().into(),
            values: it
                .values
                .iter()
                .map(|(f, v)| ItemValueView {
                    field_id: f.id.clone(),
                    label: f.label.clone(),
                    value: v.clone().unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    let key = |x: &AttachmentLinkView| (x.attachment_id.clone(), x.requirement_id.clone());
    let attachments_added = atts_after
        .iter()
        .filter(|x| !atts_before.iter().any(|y| key(y) == key(x)))
        .cloned()
        .collect();
    let attachments_removed = atts_before
        .iter()
        .filter(|x| !atts_after.iter().any(|y| key(y) == key(x)))
        .cloned()
        .collect();
    Ok(CaseDiffView {
        case_id: c.id,
        reference: c.reference,
        procedure_id: f.procedure_id,
        procedure_version: f.procedure_version,
        procedure_title: def.title.clone(),
        authority_code: c.authority_code,
        authority_name: authority.name,
        from_version: from,
        to_version: to,
        versions: mine
            .iter()
            .map(|v| VersionSummary {
                id: v.id.clone(),
                version_no: v.version_no,
                created_at: format_ms_jst(v.created_at),
            })
            .collect(),
        changes,
        items,
        attachments_added,
        attachments_removed,
    })
}
