//! Saved inbox filters: a reviewer keeps the current inbox query under a name and finds it
//! again as a link. Each reviewer sees only their own.

use madoguchi_db::inbox::{self, SavedFilterRow};
use madoguchi_db::{DbError, new_id};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::inbox::InboxQuery;
use crate::{Actor, App, CoreError, CoreResult};

/// At most this many saved filters per reviewer, names up to this many characters.
pub const MAX_SAVED: usize = 30;
const MAX_NAME_CHARS: usize = 40;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SavedFilter {
    pub id: String,
    pub name: String,
    /// The inbox query string (`status=submitted&assignee=me`): open `/inbox?<query>` or
    /// `GET /api/v1/cases?<query>`.
    pub query: String,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct SaveFilterRequest {
    /// A name of 1–40 characters, unique among the caller's saved filters.
    pub name: String,
    /// The inbox query string to keep (paging parameters are dropped).
    #[serde(default)]
    pub query: String,
}

fn view(r: SavedFilterRow) -> SavedFilter {
    SavedFilter {
        id: r.id,
        name: r.name,
        query: r.query,
    }
}

/// The actor's saved filters, by name.
pub async fn saved_filters(app: &App, actor: &Actor) -> CoreResult<Vec<SavedFilter>> {
    actor.require_authority_staff()?;
    let mut tx = app.db.begin_read().await?;
    let rows = inbox::saved_filters_of(&mut tx, &actor.user_id).await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(view).collect())
}

/// Saves an inbox query under a name. The query is checked like the inbox checks it and
/// kept in its canonical form.
pub async fn save_filter(
    app: &App,
    actor: &Actor,
    req: &SaveFilterRequest,
) -> CoreResult<SavedFilter> {
    let name = req.name.trim();
    if name.is_empty() {
        return Err(CoreError::field(
            "name",
            "required",
            "保存する条件の名前を入力してください。",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(CoreError::field(
            "name",
            "too_long",
            format!("名前は{MAX_NAME_CHARS}文字以内で入力してください。"),
        ));
    }
    let query = InboxQuery::parse(req.query.trim_start_matches('?'));
    super::inbox::validate(app, actor, &query)?;
    if !query.is_filtered() {
        return Err(CoreError::field(
            "query",
            "no_filter",
            "絞り込みの条件がありません。条件を指定して表示してから保存してください。",
        ));
    }
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    if inbox::saved_filters_of(&mut tx, &actor.user_id)
        .await?
        .len()
        >= MAX_SAVED
    {
        return Err(CoreError::field(
            "name",
            "too_many",
            format!(
                "保存できる条件は{MAX_SAVED}件までです。使わない条件を削除してから保存してください。"
            ),
        ));
    }
    let row = SavedFilterRow {
        id: new_id(),
        user_id: actor.user_id.clone(),
        name: name.to_owned(),
        query: query.canonical(),
        created_at: now,
    };
    match inbox::insert_saved_filter(&mut tx, &row).await {
        Ok(()) => {}
        Err(DbError::Conflict { .. }) => {
            return Err(CoreError::field(
                "name",
                "duplicate",
                format!("「{name}」という名前の条件がすでにあります。別の名前にしてください。"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "saved_filter.created",
        "saved_filter",
        &row.id,
        &serde_json::json!({ "query": row.query }),
    )
    .await?;
    tx.commit().await?;
    Ok(view(row))
}

/// Deletes one of the actor's saved filters (another user's is `NotFound`).
pub async fn delete_filter(app: &App, actor: &Actor, id: &str) -> CoreResult<()> {
    actor.require_authority_staff()?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    if !inbox::delete_saved_filter(&mut tx, &actor.user_id, id).await? {
        return Err(CoreError::NotFound);
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "saved_filter.deleted",
        "saved_filter",
        id,
        &serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
