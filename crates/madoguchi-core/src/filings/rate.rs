//! Satisfaction (満足度): after a submission, a provider user may rate the experience 1–5 with
//! an optional comment. Optional and never in the way: it is asked on the receipt and can be
//! skipped; one rating per filing and user (rating again replaces it).

use madoguchi_db::{new_id, satisfaction};
use madoguchi_domain::case::FilingStatus;

use super::load_own;
use crate::{Actor, App, CoreError, CoreResult};

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// Records the actor's rating of a submitted filing.
pub async fn rate(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    score: i64,
    comment: &str,
) -> CoreResult<()> {
    if !(1..=5).contains(&score) {
        return Err(CoreError::field(
            "score",
            "out_of_range",
            "満足度は1（不満）から5（満足）のいずれかを選んでください。",
        ));
    }
    let comment = comment.trim();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(CoreError::field(
            "comment",
            "too_long",
            format!("ご意見は{MAX_COMMENT_CHARS}文字以内で入力してください。"),
        ));
    }
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    if f.status == FilingStatus::Draft.as_str() || f.reference.is_none() {
        return Err(CoreError::Conflict(
            "満足度は、届出を提出したあとにお答えいただけます。".into(),
        ));
    }
    satisfaction::upsert(
        &mut tx,
        &satisfaction::RatingRow {
            id: new_id(),
            filing_id: filing_id.into(),
            user_id: actor.user_id.clone(),
            score,
            comment: comment.into(),
            created_at: now,
        },
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "filing.rated",
        "filing",
        filing_id,
        &serde_json::json!({ "score": score }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
