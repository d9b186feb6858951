//! Filings: a provider's act of filing one procedure for one or more of its establishments.
//! One action per file: `create`, `update`, `attach`, `submit`, `withdraw`; `view` assembles
//! what the provider sees.

mod attach;
mod complete;
// Provider portal part A: batches of drafts, change once file everywhere, bulk filing.
pub mod batch;
pub mod bulk;
pub mod change_once;
mod create;
mod download;
mod migrate;
// Provider portal, part B (issue #4): receipt, tracking list, answers to returns, satisfaction.
pub mod rate;
pub mod receipt;
pub mod replies;
mod reuse;
pub(crate) mod submit;
pub mod track;
mod update;
pub mod view;
mod withdraw;

pub use attach::{detach, link_attachment, upload};
pub use complete::{SubmittedFile, submit_complete};
pub use create::{NewFiling, create};
pub use download::download;
pub use migrate::{MigrationOutcome, migrate};
pub use reuse::{
    AnnexService, AnnexSource, CopyAnnex, ReusableFile, annex_sources, copy_annex, reusable_files,
};
pub use submit::{SubmitOutcome, submit};
pub use update::update;
pub use withdraw::{check_reason as check_withdraw_reason, withdraw};

use std::collections::BTreeMap;

use madoguchi_db::filings::FilingRow;
use madoguchi_db::registry::DesignationRow;
use madoguchi_db::{DbError, Tx, filings, registry};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};

use crate::{Actor, App, CoreError, CoreResult};

/// Loads a filing the actor's corporation owns; any other filing is `NotFound`.
pub(crate) async fn load_own(tx: &mut Tx, actor: &Actor, filing_id: &str) -> CoreResult<FilingRow> {
    actor.require_provider()?;
    filings::lock(tx, filing_id).await?;
    match filings::get_filing(tx, filing_id).await {
        Ok(f) => crate::policy::may_access_filing(actor, &f.corporation_id).map(|()| f),
        Err(DbError::NotFound) => Err(CoreError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// The definition version a filing was started with.
pub(crate) fn definition_of<'a>(
    app: &'a App,
    f: &FilingRow,
) -> CoreResult<&'a ProcedureDefinition> {
    app.catalog
        .get(&f.procedure_id, &f.procedure_version)
        .ok_or_else(|| {
            CoreError::Internal(format!(
                "procedure {}@{} missing from catalog",
                f.procedure_id, f.procedure_version
            ))
        })
}

/// The authorities a filing goes to, with the designations concerned and their names.
pub(crate) struct Addressees {
    pub by_authority: BTreeMap<String, Vec<DesignationRow>>,
    pub names: BTreeMap<String, String>,
}

impl Addressees {
    pub fn codes(&self) -> Vec<String> {
        self.by_authority.keys().cloned().collect()
    }

    /// The definition with the local rules of every authority concerned, each
    /// addition labelled with its authority's name.
    pub fn merged(&self, app: &App, def: &ProcedureDefinition) -> ProcedureDefinition {
        let rules = app.catalog.local_rules_for(&def.id, &self.codes());
        def.with_local_rules(&rules, &|c| self.names.get(c).cloned())
    }

    /// The due date of this authority's case (`YYYY-MM-DD`), from its own
    /// deadline (local rules) or the procedure's.
    pub fn due_on(
        &self,
        app: &App,
        def: &ProcedureDefinition,
        data: &FilingData,
        authority: &str,
    ) -> Option<String> {
        let rules = app
            .catalog
            .local_rules_for(&def.id, &[authority.to_owned()]);
        let own = def.with_local_rules(&rules, &|c| self.names.get(c).cloned());
        own.due_date(data).map(|d| d.format("%Y-%m-%d").to_string())
    }
}

/// Who a filing goes to: the authority fixed by the procedure (`[routing]`), or every
/// authority that designated an establishment concerned (all the corporation's when the
/// change is corporation-wide), grouped by authority.
pub(crate) async fn addressees(
    app: &App,
    tx: &mut Tx,
    f: &FilingRow,
    def: &ProcedureDefinition,
    data: &FilingData,
    ests: &[String],
) -> CoreResult<Addressees> {
    let mut by_authority: BTreeMap<String, Vec<DesignationRow>> = BTreeMap::new();
    if let Some(routing) = &def.routing {
        by_authority.insert(routing.authority.clone(), Vec::new());
    } else if let Some(annexes) = &def.annexes {
        // 指定申請: the services applied for are not designated yet; the designation rules say
        // who designates each of them where the establishment is.
        for code in data.choices(&annexes.field) {
            for e in ests {
                if let Some(authority) = designator(app, tx, e, &code).await? {
                    by_authority.entry(authority).or_default();
                }
            }
        }
    } else {
        let designations = if def.is_corporation_wide(data) {
            registry::designations_of_corporation(tx, &f.corporation_id).await?
        } else {
            let mut all = Vec::new();
            for e in ests {
                all.extend(registry::designations_of_establishment(tx, e).await?);
            }
            all
        };
        // A renewal concerns only the designations of the services it renews.
        let renewed = def.renews.as_ref().map(|r| r.services(data));
        for d in designations
            .into_iter()
            .filter(|d| renewed.as_ref().is_none_or(|s| s.contains(&d.service_code)))
        {
            by_authority
                .entry(d.authority_code.clone())
                .or_default()
                .push(d);
        }
    }
    let mut names = BTreeMap::new();
    for code in by_authority.keys() {
        match registry::get_authority(tx, code).await {
            Ok(a) => {
                names.insert(code.clone(), a.name);
            }
            Err(DbError::NotFound) => {
                return Err(CoreError::Internal(format!(
                    "authority {code} of procedure {} is not in the registry",
                    def.id
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Addressees {
        by_authority,
        names,
    })
}

/// Who designates `service` at this establishment, by the designation rules (`None` for an
/// unknown service code or a category without a rule).
pub(crate) async fn designator(
    app: &App,
    tx: &mut Tx,
    establishment_id: &str,
    service: &str,
) -> CoreResult<Option<String>> {
    let Some(service) = madoguchi_domain::ids::find_service_type(service) else {
        return Ok(None);
    };
    let est = registry::get_establishment(tx, establishment_id).await?;
    let m = registry::get_authority(tx, &est.municipality_code).await?;
    let Some(kind) = madoguchi_domain::authority::AuthorityKind::parse(&m.kind) else {
        return Ok(None);
    };
    let facts = madoguchi_domain::authority::MunicipalityFacts {
        code: &m.code,
        kind,
        prefecture_code: &m.prefecture_code,
        delegate_code: m.delegate_code.as_deref(),
    };
    Ok(app
        .rules
        .designating_authority(service.category, &facts)
        .ok())
}

/// Answers to fields the form no longer has — an authority's admin removed them from its local
/// rules after this draft answered them — are dropped, so a draft in flight never gets stuck
/// on a field it cannot show. With `stored` (saving), only answers the draft already held
/// unchanged are dropped: an unknown field newly sent is still refused. Without (submitting
/// the stored draft, whose answers passed that check when saved), every such answer is
/// ignored.
pub(crate) fn drop_retired_answers(
    def: &ProcedureDefinition,
    data: &mut FilingData,
    stored: Option<&FilingData>,
    establishment_ids: &[String],
) {
    let unknown: Vec<String> = def
        .validate(data, establishment_ids)
        .into_iter()
        .filter(|e| e.code == "unknown_field")
        .map(|e| e.field)
        .collect();
    for path in unknown {
        let (record, stored_record, id) = if let Some(id) = path.strip_prefix("fields.") {
            (Some(&mut data.fields), stored.map(|s| &s.fields), id)
        } else if let Some((est, id)) = path
            .strip_prefix("establishments.")
            .and_then(|rest| rest.split_once('.'))
        {
            (
                data.establishments.get_mut(est),
                stored.and_then(|s| s.establishments.get(est)),
                id,
            )
        } else {
            continue;
        };
        let Some(record) = record else { continue };
        let held = match stored {
            None => true,
            Some(_) => stored_record.and_then(|r| r.get(id)) == record.get(id),
        };
        if held {
            record.remove(id);
        }
    }
}

/// The answer at a path of the form (`fields.<id>`, `establishments.<id>.<field>`), when
/// answered.
pub(crate) fn answer_at<'a>(data: &'a FilingData, path: &str) -> Option<&'a serde_json::Value> {
    let value = if let Some(id) = path.strip_prefix("fields.") {
        data.fields.get(id)
    } else {
        let (est, id) = path.strip_prefix("establishments.")?.split_once('.')?;
        data.establishments.get(est)?.get(id)
    };
    value.filter(|v| match v {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.trim().is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        _ => true,
    })
}

pub(crate) fn parse_data(text: &str) -> CoreResult<FilingData> {
    Ok(serde_json::from_str(text)?)
}
