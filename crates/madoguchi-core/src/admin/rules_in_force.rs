//! Which local rules apply when: the published rules loaded into the live catalog at start,
//! and the rule that was in force for a procedure at a given time (what a submitted case was
//! checked against).

use std::sync::Arc;

use madoguchi_db::local_rules as db;
use madoguchi_domain::procedure::LocalRules;

use crate::clock::format_ms_jst;
use crate::{App, CoreError, CoreResult};

/// How a published rule names where it is kept (shown on the public page).
pub(crate) fn published_source_label(published_at: i64) -> String {
    format!("管理画面で公開（{}）", format_ms_jst(published_at))
}

/// Loads every published rule into the live catalog (at start-up: `madoguchi serve` calls it
/// after opening the database). A stored rule that no longer loads (a later release changed
/// its procedure) is skipped with an error in the log, and the file's rule applies.
pub async fn load_published(app: &App) -> CoreResult<usize> {
    let mut tx = app.db.begin_read().await?;
    let rows = db::current_published(&mut tx).await?;
    tx.commit().await?;
    let mut n = 0;
    for r in rows {
        match app
            .catalog
            .check_local_rules(&r.authority_code, &r.procedure_id, &r.source)
        {
            Ok(mut rules) => {
                rules.source = published_source_label(r.published_at);
                app.catalog
                    .set_published(&r.authority_code, &r.procedure_id, Some(rules));
                n += 1;
            }
            Err(e) => tracing::error!(
                authority = %r.authority_code,
                procedure = %r.procedure_id,
                problems = ?e,
                "published local rules no longer load; the embedded file applies"
            ),
        }
    }
    Ok(n)
}

/// The rule that applied to `procedure` at `code` at time `at` (ms): the newest publication
/// not after `at`, else the embedded file. `None` when nothing was added. Fast path: when no
/// publication came after `at`, what applies now is the answer.
pub(crate) async fn in_force_at(
    app: &App,
    tx: &mut madoguchi_db::Tx,
    code: &str,
    procedure: &str,
    at: i64,
) -> CoreResult<Option<Arc<LocalRules>>> {
    let history = db::history(tx, code, procedure).await?;
    if history
        .first()
        .is_none_or(|newest| newest.published_at <= at)
    {
        return Ok(app
            .catalog
            .local_rules_for(procedure, &[code.to_owned()])
            .into_iter()
            .next());
    }
    match history.iter().find(|p| p.published_at <= at) {
        None => Ok(app.catalog.embedded_local_rules(code, procedure)),
        Some(p) => match app.catalog.check_local_rules(code, procedure, &p.source) {
            Ok(mut r) if !r.is_empty() => {
                r.source = published_source_label(p.published_at);
                Ok(Some(Arc::new(r)))
            }
            Ok(_) => Ok(None),
            Err(e) => Err(CoreError::Internal(format!(
                "local rules of {code}/{procedure} published {} no longer load: {e:?}",
                p.published_at
            ))),
        },
    }
}
