//! Starting a filing: pick a procedure and establishments; answers are prefilled from the
//! registry (the once-only record), and any answers given are laid over them.

use madoguchi_db::batches::{self, PrefillSourceRow};
use madoguchi_db::filings::FilingRow;
use madoguchi_db::{filings, new_id, registry};
use madoguchi_domain::case::FilingStatus;
use madoguchi_domain::procedure::FilingData;

use crate::{Actor, App, CoreError, CoreResult};

/// What a provider asks to start.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct NewFiling {
    /// Procedure type, e.g. `change-notification`.
    pub procedure_id: String,
    /// Establishments the filing covers (ids from `/api/v1/establishments`).
    #[serde(default)]
    pub establishment_ids: Vec<String>,
    /// Answers to start with; missing ones are prefilled from the registry.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Option<FilingData>,
    /// A form version other than the latest (during a changeover, authorities accept the
    /// previous form); absent = the latest.
    #[serde(default)]
    pub procedure_version: Option<String>,
}

/// Creates a draft filing; returns its id.
pub async fn create(app: &App, actor: &Actor, new: NewFiling) -> CoreResult<String> {
    let mut tx = app.db.begin().await?;
    let id = create_in(app, &mut tx, actor, new).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`create`] in the caller's transaction (a one-request submission creates, attaches and
/// submits in one commit).
pub(crate) async fn create_in(
    app: &App,
    tx: &mut madoguchi_db::Tx,
    actor: &Actor,
    new: NewFiling,
) -> CoreResult<String> {
    let corp = actor.require_provider()?.to_string();
    let id = new.procedure_id.trim();
    let def = match new.procedure_version.as_deref() {
        None => app.catalog.latest(id),
        Some(v) => app.catalog.get(id, v).or_else(|| {
            // An unknown version of a known procedure is its own error.
            app.catalog.latest(id).and(None)
        }),
    };
    if def.is_none() && new.procedure_version.is_some() && app.catalog.latest(id).is_some() {
        return Err(CoreError::field(
            "procedure_version",
            "unknown_version",
            "指定された様式の版はありません。版を指定せずに作成すると最新の様式になります。",
        ));
    }
    let def = def.ok_or_else(|| {
        if id.is_empty() {
            return CoreError::field("procedure_id", "required", "手続を選んでください。");
        }
        CoreError::field(
            "procedure_id",
            "unknown_procedure",
            format!(
                "手続「{}」は見つかりません。手続の一覧から選んでください。",
                new.procedure_id
            ),
        )
    })?;
    let mut ids = new.establishment_ids.clone();
    ids.sort();
    ids.dedup();
    let min = def.targets.min_establishments as usize;
    if ids.len() < min {
        return Err(CoreError::field(
            "establishment_ids",
            "too_few",
            format!("対象の事業所を{min}件以上選んでください。"),
        ));
    }
    if let Some(max) = def.targets.max_establishments
        && ids.len() > max as usize
    {
        return Err(CoreError::field(
            "establishment_ids",
            "too_many",
            format!("この手続で選べる事業所は{max}件までです。"),
        ));
    }
    let own: Vec<String> = registry::list_establishments_of(tx, &corp)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    if let Some(bad) = ids.iter().find(|id| !own.contains(id)) {
        return Err(CoreError::field(
            "establishment_ids",
            "unknown_establishment",
            format!("事業所「{bad}」は貴法人の事業所として登録されていません。"),
        ));
    }
    let data = new.data.unwrap_or_default();
    insert_draft(app, tx, actor, &corp, def, &ids, data, Vec::new(), None).await
}

/// Inserts a draft in the caller's transaction: the answers given, then the registry's values
/// (prefill) and, where the registry has none, the previous filing of the same procedure for
/// the same establishment; records where each filled answer came from (`given_sources` for
/// answers the caller filled in, e.g. a change entered on マイページ) and appends the audit
/// event. `establishment_ids` must be the corporation's own, sorted and without duplicates.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_draft(
    app: &App,
    tx: &mut madoguchi_db::Tx,
    actor: &Actor,
    corporation_id: &str,
    def: &madoguchi_domain::procedure::ProcedureDefinition,
    establishment_ids: &[String],
    mut data: FilingData,
    given_sources: Vec<PrefillSourceRow>,
    batch_id: Option<&str>,
) -> CoreResult<String> {
    let ids = establishment_ids;
    reject_unknown(def, &data, ids)?;
    let id = new_id();
    let snapshot = crate::registry::snapshot(tx, corporation_id).await?;
    let mut filled: Vec<(String, &str, String, String)> = def
        .prefill(&mut data, &snapshot, ids)
        .into_iter()
        .map(|(path, key)| {
            (
                path,
                "registry",
                key.to_string(),
                "登録情報から".to_string(),
            )
        })
        .collect();
    let mut top_carried = false;
    for est in ids {
        let Some(earlier) =
            batches::latest_submitted_for(tx, corporation_id, &def.id, est, &id).await?
        else {
            continue;
        };
        let Ok(previous) = serde_json::from_str::<FilingData>(&earlier.data) else {
            continue;
        };
        let label = match &earlier.reference {
            Some(r) => format!("前回の届出（到達番号 {r}）から"),
            None => "前回の届出から".to_string(),
        };
        let mut paths = def.carry_from_previous(&mut data, &snapshot, &previous, Some(est));
        if !top_carried {
            top_carried = true;
            paths.extend(def.carry_from_previous(&mut data, &snapshot, &previous, None));
        }
        filled.extend(
            paths
                .into_iter()
                .map(|p| (p, "previous", earlier.filing_id.clone(), label.clone())),
        );
    }
    def.normalize(&mut data);
    let mut sources: Vec<PrefillSourceRow> = filled
        .into_iter()
        .filter_map(|(path, source, source_ref, label)| {
            let value = super::answer_at(&data, &path)?;
            Some(PrefillSourceRow {
                path,
                source: source.into(),
                source_ref,
                label,
                value: value.to_string(),
            })
        })
        .collect();
    for given in given_sources {
        sources.retain(|s| s.path != given.path);
        if let Some(value) = super::answer_at(&data, &given.path) {
            sources.push(PrefillSourceRow {
                value: value.to_string(),
                ..given
            });
        }
    }
    let now = app.now_ms();
    filings::insert_filing(
        tx,
        &FilingRow {
            id: id.clone(),
            corporation_id: corporation_id.into(),
            procedure_id: def.id.clone(),
            procedure_version: def.version.clone(),
            status: FilingStatus::Draft.as_str().into(),
            data: serde_json::to_string(&data)?,
            reference: None,
            created_by: actor.user_id.clone(),
            created_at: now,
            updated_at: now,
            submitted_at: None,
            lock_version: 0,
            migrated_from: None,
        },
    )
    .await?;
    filings::set_filing_establishments(tx, &id, ids).await?;
    batches::put_prefill_sources(tx, &id, &sources).await?;
    madoguchi_db::audit::append(
        tx,
        now,
        &actor.user_id,
        "filing.created",
        "filing",
        &id,
        &serde_json::json!({ "procedure": def.id, "version": def.version, "establishments": ids, "batch": batch_id }),
    )
    .await?;
    Ok(id)
}

/// Answers to fields the definition does not have are refused, naming them.
pub(crate) fn reject_unknown(
    def: &madoguchi_domain::procedure::ProcedureDefinition,
    data: &FilingData,
    ids: &[String],
) -> CoreResult<()> {
    let errors: Vec<_> = def
        .validate(data, ids)
        .into_iter()
        .filter(|e| e.code == "unknown_field")
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}
