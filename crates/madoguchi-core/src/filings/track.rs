//! Tracking (状況の確認): the provider's filings, a page at a time, filtered by status, each
//! with every authority's status and due date and what is expected next, from whom.

use madoguchi_db::filings::TrackCounts;
use madoguchi_db::{cases, filings, registry};
use madoguchi_domain::case::FilingStatus;
use serde::Serialize;
use utoipa::ToSchema;

use super::parse_data;
use crate::cases::view::due_state;
use crate::clock::format_ms_jst;
use crate::{Actor, App, CoreError, CoreResult};

/// Filings per page.
pub const PER_PAGE: i64 = 20;

/// The status filters of the list, with their Japanese names.
pub const FILTERS: [(&str, &str); 6] = [
    ("", "すべて"),
    ("returned", "差戻しあり"),
    ("draft", "作成中"),
    ("submitted", "審査中"),
    ("accepted", "受付完了"),
    ("withdrawn", "取下げ"),
];

/// One authority's case of a filing.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TrackCase {
    pub case_id: String,
    pub authority_name: String,
    /// `submitted`, `returned`, `accepted`, `withdrawn`.
    pub status: String,
    pub reference: String,
    pub due_on: Option<String>,
    /// `overdue` or `due_soon` for a case still open.
    pub due_state: Option<String>,
}

/// What is expected next, and from whom.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NextStep {
    /// `provider` (you), `authority` (waiting for the authority) or `none` (finished).
    pub who: String,
    pub text: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TrackItem {
    pub id: String,
    pub procedure_id: String,
    pub procedure_version: String,
    pub procedure_title: String,
    /// `draft`, `submitted`, `withdrawn`.
    pub status: String,
    pub reference: Option<String>,
    pub updated_at: String,
    pub establishments: Vec<String>,
    /// The answer to the form's first question (tells filings of one procedure apart).
    pub first_answer: Option<serde_json::Value>,
    pub cases: Vec<TrackCase>,
    /// A draft's due date (the earliest of the authorities it goes to), once computable.
    pub draft_due_on: Option<String>,
    pub next: Vec<NextStep>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TrackPage {
    pub items: Vec<TrackItem>,
    /// The filter applied (`""`: all).
    pub status: String,
    /// Filings under the filter.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// How many filings each filter holds: (filter, count).
    pub counts: Vec<(String, i64)>,
}

fn count_of(c: &TrackCounts, filter: &str) -> i64 {
    match filter {
        "draft" => c.draft,
        "submitted" => c.submitted,
        "returned" => c.returned,
        "accepted" => c.accepted,
        "withdrawn" => c.withdrawn,
        _ => c.all,
    }
}

/// 「2026-12-01（あと3日）」 style due note for a next step.
fn due_note(due: Option<&str>, state: Option<&str>) -> String {
    match (due, state) {
        (Some(d), Some("overdue")) => format!("（期限 {d}・期限を過ぎています）"),
        (Some(d), Some("due_soon")) => format!("（期限 {d}・まもなく期限です）"),
        (Some(d), _) => format!("（期限 {d}）"),
        _ => String::new(),
    }
}

/// What comes next for a filing, from its status and its cases.
pub fn next_steps(status: &str, cases: &[TrackCase], draft_due: Option<&str>) -> Vec<NextStep> {
    let step = |who: &str, text: String| NextStep {
        who: who.into(),
        text,
    };
    if status == FilingStatus::Draft.as_str() {
        return vec![step(
            "provider",
            format!(
                "入力を終えて提出してください{}。",
                due_note(draft_due, None)
            ),
        )];
    }
    let mut out = Vec::new();
    for c in cases.iter().filter(|c| c.status == "returned") {
        out.push(step(
            "provider",
            format!(
                "{}から修正の依頼があります。内容を修正して再提出してください{}。",
                c.authority_name,
                due_note(c.due_on.as_deref(), c.due_state.as_deref())
            ),
        ));
    }
    let reviewing: Vec<&str> = cases
        .iter()
        .filter(|c| c.status == "submitted")
        .map(|c| c.authority_name.as_str())
        .collect();
    if !reviewing.is_empty() {
        out.push(step(
            "authority",
            format!(
                "{}で審査中です。結果が出るまでお待ちください。",
                reviewing.join("・")
            ),
        ));
    }
    if out.is_empty() {
        let text = if status == FilingStatus::Withdrawn.as_str()
            || (!cases.is_empty() && cases.iter().all(|c| c.status == "withdrawn"))
        {
            "取り下げました。この届出の手続は終わっています。"
        } else {
            "すべての提出先で手続が終わりました。"
        };
        out.push(step("none", text.into()));
    }
    out
}

/// One page (1-based) of the actor's filings under a status filter (see [`FILTERS`]).
pub async fn track(
    app: &App,
    actor: &Actor,
    status: Option<&str>,
    page: i64,
) -> CoreResult<TrackPage> {
    let corp = actor.require_provider()?;
    let status = status.unwrap_or("");
    if !FILTERS.iter().any(|(k, _)| *k == status) {
        return Err(CoreError::field(
            "status",
            "invalid",
            "状況は draft, submitted, returned, accepted, withdrawn のいずれかを指定してください。",
        ));
    }
    let page = page.max(1);
    let today = crate::clock::today_jst(app.clock.as_ref());
    let mut tx = app.db.begin_read().await?;
    let counts = filings::track_counts(&mut tx, corp).await?;
    let rows = filings::track_filings(
        &mut tx,
        corp,
        status,
        PER_PAGE,
        (page - 1).saturating_mul(PER_PAGE),
    )
    .await?;
    let authorities = registry::list_authorities(&mut tx).await?;
    let name_of = |code: &str| {
        authorities
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let mut items = Vec::with_capacity(rows.len());
    for f in rows {
        let def = app.catalog.get(&f.procedure_id, &f.procedure_version);
        let data = parse_data(&f.data).unwrap_or_default();
        let est_ids = filings::filing_establishments(&mut tx, &f.id).await?;
        let mut establishments = Vec::new();
        for id in &est_ids {
            establishments.push(registry::get_establishment(&mut tx, id).await?.name);
        }
        let case_rows = cases::cases_of_filing(&mut tx, &f.id).await?;
        let track_cases: Vec<TrackCase> = case_rows
            .into_iter()
            .map(|c| TrackCase {
                due_state: due_state(&c.status, c.due_on.as_deref(), today),
                authority_name: name_of(&c.authority_code),
                case_id: c.id,
                status: c.status,
                reference: c.reference,
                due_on: c.due_on,
            })
            .collect();
        let draft_due_on = match def {
            Some(def) if f.status == FilingStatus::Draft.as_str() => {
                let to = super::addressees(app, &mut tx, &f, def, &data, &est_ids).await?;
                to.codes()
                    .iter()
                    .filter_map(|code| to.due_on(app, def, &data, code))
                    .min()
            }
            _ => None,
        };
        let first_answer = def
            .and_then(|d| d.groups.first())
            .and_then(|g| g.fields.first())
            .and_then(|field| data.fields.get(&field.id).cloned());
        items.push(TrackItem {
            next: next_steps(&f.status, &track_cases, draft_due_on.as_deref()),
            procedure_title: def
                .map(|d| d.title.clone())
                .unwrap_or_else(|| f.procedure_id.clone()),
            id: f.id,
            procedure_id: f.procedure_id,
            procedure_version: f.procedure_version,
            status: f.status,
            reference: f.reference,
            updated_at: format_ms_jst(f.updated_at),
            establishments,
            first_answer,
            cases: track_cases,
            draft_due_on,
        });
    }
    tx.commit().await?;
    Ok(TrackPage {
        items,
        status: status.to_string(),
        total: count_of(&counts, status),
        page,
        per_page: PER_PAGE,
        counts: FILTERS
            .iter()
            .map(|(k, _)| (k.to_string(), count_of(&counts, k)))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, status: &str, due: Option<&str>, state: Option<&str>) -> TrackCase {
        TrackCase {
            case_id: name.into(),
            authority_name: name.into(),
            status: status.into(),
            reference: "r".into(),
            due_on: due.map(Into::into),
            due_state: state.map(Into::into),
        }
    }

    #[test]
    fn next_steps_say_who_acts() {
        let draft = next_steps("draft", &[], Some("2026-12-01"));
        assert_eq!(draft[0].who, "provider");
        assert!(draft[0].text.contains("2026-12-01"));

        let cases = [
            case("東京都", "accepted", None, None),
            case("新宿区", "returned", Some("2026-11-20"), Some("overdue")),
            case("渋谷区", "submitted", None, None),
            case("横浜市", "submitted", None, None),
        ];
        let steps = next_steps("submitted", &cases, None);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].who, "provider");
        assert!(steps[0].text.contains("新宿区") && steps[0].text.contains("期限を過ぎています"));
        assert_eq!(steps[1].who, "authority");
        assert!(steps[1].text.contains("渋谷区・横浜市"));

        let done = next_steps("submitted", &[case("東京都", "accepted", None, None)], None);
        assert_eq!(done[0].who, "none");
        let gone = next_steps(
            "withdrawn",
            &[case("東京都", "withdrawn", None, None)],
            None,
        );
        assert!(gone[0].text.contains("取り下げました"));
    }
}
