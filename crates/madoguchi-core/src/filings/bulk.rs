//! 一括申請: one procedure started for several establishments at once, answered together
//! (shared answers once, each establishment's own answers separately) and submitted together.
//!
//! It makes one filing per establishment, never one filing covering several. The definitions
//! decide it: in every shipped procedure the answers that differ between establishments are
//! top-level fields (サービスの種類, 現在の指定の有効期間満了日, 届け出る加算, 算定開始年月日,
//! 廃止・休止の年月日 …), so a filing covering several establishments could give them only one
//! answer; several procedures allow only one establishment (`max_establishments = 1`); and
//! each establishment's case must be decidable, returnable and withdrawable on its own.

use madoguchi_db::batches::{self, BatchRow};
use madoguchi_db::{new_id, registry};
use madoguchi_domain::procedure::FilingData;
use serde::Deserialize;
use utoipa::ToSchema;

use super::batch::KIND_BULK;
use crate::{Actor, App, CoreError, CoreResult};

/// What a provider asks to start for several establishments.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct BulkRequest {
    /// Procedure type, e.g. `addition-notification`.
    pub procedure_id: String,
    /// The establishments (at least two); one draft is made for each.
    #[serde(default)]
    pub establishment_ids: Vec<String>,
    /// Answers every draft starts with (top-level `fields`), and each establishment's own
    /// (`establishments`); the rest is prefilled from the registry and earlier filings.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: FilingData,
}

/// Starts one draft per establishment, as one batch; returns the batch id.
pub async fn start(app: &App, actor: &Actor, req: BulkRequest) -> CoreResult<String> {
    let corp = actor.require_provider()?.to_string();
    let def = app.catalog.latest(req.procedure_id.trim()).ok_or_else(|| {
        CoreError::field(
            "procedure_id",
            "unknown_procedure",
            format!(
                "手続「{}」は見つかりません。手続の一覧から選んでください。",
                req.procedure_id
            ),
        )
    })?;
    if def.targets.min_establishments == 0 || def.targets.max_establishments == Some(0) {
        return Err(CoreError::field(
            "procedure_id",
            "not_per_establishment",
            format!(
                "{}は事業所ごとの手続ではないため、一括申請はできません。「新しい届出・申請」から作成してください。",
                def.title
            ),
        ));
    }
    let mut ids = req.establishment_ids.clone();
    ids.sort();
    ids.dedup();
    if ids.len() < 2 {
        return Err(CoreError::field(
            "establishment_ids",
            "too_few",
            "一括申請では事業所を2か所以上選んでください。1か所だけのときは「新しい届出・申請」から作成できます。",
        ));
    }
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let own = registry::list_establishments_of(&mut tx, &corp).await?;
    if let Some(bad) = ids.iter().find(|id| !own.iter().any(|e| &e.id == *id)) {
        return Err(CoreError::field(
            "establishment_ids",
            "unknown_establishment",
            format!("事業所「{bad}」は貴法人の事業所として登録されていません。"),
        ));
    }
    if let Some(bad) = req.data.establishments.keys().find(|e| !ids.contains(e)) {
        return Err(CoreError::field(
            "data.establishments",
            "unknown_establishment",
            format!("事業所「{bad}」は選んだ事業所に含まれていません。"),
        ));
    }
    let batch_id = new_id();
    batches::insert_batch(
        &mut tx,
        &BatchRow {
            id: batch_id.clone(),
            corporation_id: corp.clone(),
            kind: KIND_BULK.into(),
            procedure_id: def.id.clone(),
            summary: "[]".into(),
            created_by: actor.user_id.clone(),
            created_at: now,
        },
    )
    .await?;
    let mut filing_ids = Vec::new();
    // Establishments in the order the registry lists them (事業所番号).
    let ordered: Vec<&str> = own
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| ids.iter().any(|i| i == id))
        .collect();
    for (i, est) in ordered.into_iter().enumerate() {
        let mut data = FilingData {
            fields: req.data.fields.clone(),
            ..Default::default()
        };
        if let Some(own_answers) = req.data.establishments.get(est) {
            data.establishments
                .insert(est.to_owned(), own_answers.clone());
        }
        let id = super::create::insert_draft(
            app,
            &mut tx,
            actor,
            &corp,
            def,
            &[est.to_owned()],
            data,
            Vec::new(),
            Some(&batch_id),
        )
        .await
        .map_err(in_data)?;
        batches::add_member(&mut tx, &batch_id, &id, i as i64).await?;
        filing_ids.push(id);
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "batch.created",
        "filing_batch",
        &batch_id,
        &serde_json::json!({ "kind": KIND_BULK, "procedure": def.id, "filings": filing_ids }),
    )
    .await?;
    tx.commit().await?;
    Ok(batch_id)
}

/// New answers for one draft of a batch.
#[derive(Clone, Debug)]
pub struct DraftAnswers {
    pub filing_id: String,
    pub data: FilingData,
    /// The `lock_version` the answers were based on.
    pub lock_version: Option<i64>,
}

/// Saves the answers of several drafts of a batch at once: all of them or none.
pub async fn save_answers(
    app: &App,
    actor: &Actor,
    batch_id: &str,
    answers: Vec<DraftAnswers>,
) -> CoreResult<()> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    super::batch::load_own(&mut tx, actor, batch_id).await?;
    let members = batches::members(&mut tx, batch_id).await?;
    for a in answers {
        if !members.contains(&a.filing_id) {
            return Err(CoreError::NotFound);
        }
        super::update::update_in(
            app,
            &mut tx,
            actor,
            &a.filing_id,
            a.data,
            a.lock_version,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Field errors of the answers given are reported under `data.` (as the request names them).
fn in_data(e: CoreError) -> CoreError {
    match e {
        CoreError::Validation(errors) => CoreError::Validation(
            errors
                .into_iter()
                .map(|mut fe| {
                    fe.field = format!("data.{}", fe.field);
                    fe
                })
                .collect(),
        ),
        other => other,
    }
}
