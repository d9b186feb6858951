//! Moving a draft to the newest form version of its procedure (forms change every April and
//! October): unchanged answers are carried across; the new version's new fields are marked
//! in the form afterwards (`FilingView::new_fields`).

use madoguchi_db::filings;
use serde::Serialize;
use utoipa::ToSchema;

use super::{definition_of, load_own, parse_data};
use crate::{Actor, App, CoreError, CoreResult};

/// What a migration did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MigrationOutcome {
    pub from_version: String,
    pub to_version: String,
    /// Paths of the answers carried across.
    pub carried: Vec<String>,
    /// Answers the new form cannot take: (path, the old field's label).
    pub dropped: Vec<(String, String)>,
    /// Field ids the new form adds.
    pub new_fields: Vec<String>,
}

/// Moves the actor's draft to the latest version; `lock_version` guards against a
/// concurrent edit.
pub async fn migrate(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    lock_version: i64,
) -> CoreResult<MigrationOutcome> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    if f.status != "draft" {
        return Err(CoreError::Conflict(
            "提出済みの届出は様式を切り替えられません。".into(),
        ));
    }
    let old = definition_of(app, &f)?;
    let latest = app
        .catalog
        .latest(&f.procedure_id)
        .ok_or(CoreError::NotFound)?;
    if latest.version <= f.procedure_version {
        return Err(CoreError::Conflict(
            "この下書きは既に最新の様式です。".into(),
        ));
    }
    let data = parse_data(&f.data)?;
    let m = latest.migrate_from(old, &data);
    filings::migrate_version(
        &mut tx,
        filing_id,
        &latest.version,
        &serde_json::to_string(&m.data)?,
        &f.procedure_version,
        lock_version,
        now,
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "filing.migrated",
        "filing",
        filing_id,
        &serde_json::json!({ "from": f.procedure_version, "to": latest.version, "dropped": m.dropped }),
    )
    .await?;
    tx.commit().await?;
    Ok(MigrationOutcome {
        from_version: f.procedure_version,
        to_version: latest.version.clone(),
        carried: m.carried,
        dropped: m.dropped,
        new_fields: m.new_fields,
    })
}
