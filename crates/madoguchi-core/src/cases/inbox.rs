//! The reviewer's inbox: the authority's cases filtered by procedure, service type, status,
//! assignee, due date and free text, sorted, in keyset pages of 50, with per-reviewer unread and
//! "changed since I last looked" markers. The same query drives the page, the API and the
//! saved filters (which store its canonical query string).

use madoguchi_db::inbox::{self, AssigneeFilter, CursorKey, InboxFilter, InboxRow, SortKey};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::{IntoParams, ToSchema};

use super::view::{DUE_SOON_DAYS, due_state};
use crate::clock::format_ms_jst;
use crate::{Actor, App, CoreError, CoreResult};

/// The default and largest page sizes.
pub const PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 200;
/// At most this many words of free text, each at most this many characters.
const MAX_TERMS: usize = 5;
const MAX_QUERY_CHARS: usize = 100;

/// An inbox query as it arrives (query string of `/inbox` and `GET /api/v1/cases`); every
/// value is checked by [`inbox`], which answers a field error naming what to fix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// `submitted`, `returned`, `accepted` or `withdrawn`.
    pub status: Option<String>,
    /// A procedure id (`change-notification`, …).
    pub procedure: Option<String>,
    /// A service type code (`15` 通所介護, …): cases concerning that service.
    pub service: Option<String>,
    /// `me`, `none` (unassigned) or a colleague's user id.
    pub assignee: Option<String>,
    /// `overdue` (open cases past their due date) or `due_soon` (due within 7 days).
    pub due: Option<String>,
    /// Free text: 事業所名・事業所番号, corporation name, 到達番号 (one or more words, all must
    /// match; one-character Japanese words work).
    pub q: Option<String>,
    /// `1`: only cases the caller has never opened.
    pub unread: Option<String>,
    /// `updated` (default), `received` or `due`.
    pub sort: Option<String>,
    /// `desc` or `asc` (default: `asc` for `due`, `desc` otherwise).
    pub order: Option<String>,
    /// Cursor: the page after this position (from the `next` link).
    pub after: Option<String>,
    /// Cursor: the page before this position (from the `prev` link).
    pub before: Option<String>,
    /// Page size (1–200, default 50).
    pub limit: Option<i64>,
}

/// The query's parameters that choose *which* cases and in which order (not the page), in a
/// fixed order, non-empty ones only.
fn filter_pairs(q: &InboxQuery) -> Vec<(&'static str, &str)> {
    [
        ("status", &q.status),
        ("procedure", &q.procedure),
        ("service", &q.service),
        ("assignee", &q.assignee),
        ("due", &q.due),
        ("q", &q.q),
        ("unread", &q.unread),
        ("sort", &q.sort),
        ("order", &q.order),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| (k, v))
    })
    .collect()
}

impl InboxQuery {
    /// The canonical query string of the filters and order (no paging): what a saved filter
    /// stores and what page links start from. Empty for the default inbox.
    pub fn canonical(&self) -> String {
        serde_html_form::to_string(filter_pairs(self)).unwrap_or_default()
    }

    /// Parses a canonical query string (a saved filter's) back.
    pub fn parse(query: &str) -> InboxQuery {
        let q: InboxQuery = serde_html_form::from_str(query).unwrap_or_default();
        InboxQuery {
            after: None,
            before: None,
            limit: None,
            ..q
        }
    }

    /// Whether any filter is set (the order alone does not count).
    pub fn is_filtered(&self) -> bool {
        filter_pairs(self)
            .iter()
            .any(|(k, _)| !matches!(*k, "sort" | "order"))
    }
}

/// One case in the inbox.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct InboxItem {
    pub id: String,
    pub reference: String,
    pub status: String,
    pub procedure_id: String,
    pub procedure_title: String,
    pub corporation_name: String,
    /// The filing's first establishment (by name) and how many it covers.
    pub establishment_name: Option<String>,
    pub establishment_count: i64,
    /// Service type codes the case concerns.
    pub service_codes: Vec<String>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub submitted_at: String,
    pub updated_at: String,
    /// Due date by this authority's deadline (`YYYY-MM-DD`).
    pub due_on: Option<String>,
    /// `overdue` or `due_soon` (within 7 days) for open cases; absent otherwise.
    pub due_state: Option<String>,
    /// The caller has never opened this case.
    pub unread: bool,
    /// Someone else changed it (a submission, decision, message, note or assignment) since
    /// the caller last opened it.
    pub changed_since_seen: bool,
}

/// One page of the inbox, with cursors for the pages around it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// Pass as `after` for the next page (absent on the last page).
    pub next: Option<String>,
    /// Pass as `before` for the previous page (absent on the first page).
    pub prev: Option<String>,
}

/// The checked form of an [`InboxQuery`].
struct Checked {
    filter: InboxFilter,
}

fn invalid(field: &str, message: &str) -> CoreError {
    CoreError::field(field, "invalid", message)
}

/// NFKC and lower case: full- and half-width forms, and Latin capitals, compare equal.
pub fn normalize_search(s: &str) -> String {
    s.nfkc().collect::<String>().to_lowercase()
}

/// A LIKE pattern matching `term` anywhere, its wildcards escaped with `\`.
fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for ch in term.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn sort_of(q: &InboxQuery) -> CoreResult<(SortKey, bool)> {
    let key = match q.sort.as_deref().map(str::trim) {
        None | Some("") | Some("updated") => SortKey::Updated,
        Some("received") => SortKey::Received,
        Some("due") => SortKey::Due,
        Some(_) => {
            return Err(invalid(
                "sort",
                "並べ替えは updated（更新日時）、received（受付日時）、due（提出期限）のいずれかを指定してください。",
            ));
        }
    };
    let descending = match q.order.as_deref().map(str::trim) {
        None | Some("") => key != SortKey::Due,
        Some("desc") => true,
        Some("asc") => false,
        Some(_) => {
            return Err(invalid(
                "order",
                "並び順は desc（新しい順・遅い順）又は asc（古い順・早い順）を指定してください。",
            ));
        }
    };
    Ok((key, descending))
}

/// A cursor is `<sort key value>.<case id>`: milliseconds, or a date for the due order.
fn parse_cursor(field: &str, s: &str, key: SortKey) -> CoreResult<(CursorKey, String)> {
    let bad = || {
        invalid(
            field,
            "ページの指定が正しくありません。一覧の最初のページから開き直してください。",
        )
    };
    let (value, id) = s.split_once('.').ok_or_else(bad)?;
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(bad());
    }
    let value = match key {
        SortKey::Received | SortKey::Updated => CursorKey::Time(value.parse().map_err(|_| bad())?),
        SortKey::Due => {
            chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad())?;
            CursorKey::Date(value.to_owned())
        }
    };
    Ok((value, id.to_owned()))
}

fn cursor_of(row: &InboxRow, key: SortKey) -> String {
    match key {
        SortKey::Received => format!("{}.{}", row.submitted_at, row.id),
        SortKey::Updated => format!("{}.{}", row.updated_at, row.id),
        SortKey::Due => format!("{}.{}", row.due_key, row.id),
    }
}

/// Checks every value of the query and turns it into the database filter.
fn check(app: &App, actor: &Actor, authority: &str, q: &InboxQuery) -> CoreResult<Checked> {
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let status = trimmed(&q.status);
    if let Some(s) = &status
        && madoguchi_domain::case::CaseStatus::parse(s).is_none()
    {
        return Err(invalid(
            "status",
            "状態は submitted, returned, accepted, withdrawn のいずれかを指定してください。",
        ));
    }
    let procedure_id = trimmed(&q.procedure);
    if let Some(p) = &procedure_id
        && app.catalog.latest(p).is_none()
    {
        return Err(invalid(
            "procedure",
            "指定した手続が見つかりません。一覧から選んでください。",
        ));
    }
    let service_code = trimmed(&q.service);
    if let Some(s) = &service_code
        && madoguchi_domain::ids::find_service_type(s).is_none()
    {
        return Err(invalid(
            "service",
            "サービスの種類が見つかりません。一覧から選んでください。",
        ));
    }
    let assignee = match trimmed(&q.assignee).as_deref() {
        None => None,
        Some("me") => Some(AssigneeFilter::User(actor.user_id.clone())),
        Some("none") => Some(AssigneeFilter::Unassigned),
        Some(id) if id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') => {
            Some(AssigneeFilter::User(id.to_owned()))
        }
        Some(_) => {
            return Err(invalid(
                "assignee",
                "担当者は me（自分）、none（未割当）又は職員の ID を指定してください。",
            ));
        }
    };
    let today = crate::clock::today_jst(app.clock.as_ref());
    let fmt = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let (due_from, due_to) = match trimmed(&q.due).as_deref() {
        None => (None, None),
        Some("overdue") => (None, Some(today.pred_opt().map(fmt).unwrap_or_default())),
        Some("due_soon") => (
            Some(fmt(today)),
            Some(fmt(today + chrono::Days::new(DUE_SOON_DAYS))),
        ),
        Some(_) => {
            return Err(invalid(
                "due",
                "期限は overdue（期限切れ）又は due_soon（7日以内）を指定してください。",
            ));
        }
    };
    let unread_only = match trimmed(&q.unread).as_deref() {
        None | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(_) => {
            return Err(invalid(
                "unread",
                "未読のみは 1 又は 0 で指定してください。",
            ));
        }
    };
    let text = trimmed(&q.q).unwrap_or_default();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(CoreError::field(
            "q",
            "too_long",
            format!("検索する言葉は{MAX_QUERY_CHARS}文字以内で入力してください。"),
        ));
    }
    let normalized = normalize_search(&text);
    let terms: Vec<&str> = normalized.split_whitespace().collect();
    if terms.len() > MAX_TERMS {
        return Err(CoreError::field(
            "q",
            "too_many_terms",
            format!("検索する言葉は{MAX_TERMS}語までにしてください。"),
        ));
    }
    let (sort, descending) = sort_of(q)?;
    let (cursor, backwards) = match (trimmed(&q.after), trimmed(&q.before)) {
        (Some(_), Some(_)) => {
            return Err(invalid("after", "after と before は同時に指定できません。"));
        }
        (Some(a), None) => (Some(parse_cursor("after", &a, sort)?), false),
        (None, Some(b)) => (Some(parse_cursor("before", &b, sort)?), true),
        (None, None) => (None, false),
    };
    let limit = q.limit.unwrap_or(PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(CoreError::field(
            "limit",
            "out_of_range",
            format!("1ページの件数は1から{MAX_PAGE_SIZE}までで指定してください。"),
        ));
    }
    Ok(Checked {
        filter: InboxFilter {
            authority_code: authority.to_owned(),
            viewer_id: actor.user_id.clone(),
            status,
            procedure_id,
            service_code,
            assignee,
            due_from,
            due_to,
            unread_only,
            text_patterns: terms.into_iter().map(like_pattern).collect(),
            sort,
            descending,
            cursor,
            backwards,
            // One more than the page tells whether another page follows.
            limit: limit + 1,
        },
    })
}

/// Checks an inbox query without running it (saved filters are checked before they are kept).
pub fn validate(app: &App, actor: &Actor, q: &InboxQuery) -> CoreResult<()> {
    let authority = actor.require_authority_staff()?;
    check(app, actor, authority, q).map(|_| ())
}

/// One page of the actor's authority inbox.
pub async fn inbox(app: &App, actor: &Actor, q: &InboxQuery) -> CoreResult<InboxPage> {
    let authority = actor.require_authority_staff()?;
    let Checked { filter } = check(app, actor, authority, q)?;
    let page_size = (filter.limit - 1) as usize;
    let mut tx = app.db.begin_read().await?;
    let mut rows = inbox::page(&mut tx, &filter).await?;
    tx.commit().await?;
    let more = rows.len() > page_size;
    if more {
        if filter.backwards {
            // Fetched walking backwards: the extra row is the earliest, now first.
            rows.remove(0);
        } else {
            rows.truncate(page_size);
        }
    }
    let key = filter.sort;
    let (next, prev) = match (&filter.cursor, filter.backwards) {
        (None, _) => (
            more.then(|| rows.last().map(|r| cursor_of(r, key)))
                .flatten(),
            None,
        ),
        (Some(_), false) => (
            more.then(|| rows.last().map(|r| cursor_of(r, key)))
                .flatten(),
            rows.first().map(|r| cursor_of(r, key)),
        ),
        (Some(_), true) => (
            rows.last().map(|r| cursor_of(r, key)),
            more.then(|| rows.first().map(|r| cursor_of(r, key)))
                .flatten(),
        ),
    };
    let today = crate::clock::today_jst(app.clock.as_ref());
    let items = rows
        .into_iter()
        .map(|r| InboxItem {
            procedure_title: app
                .catalog
                .latest(&r.procedure_id)
                .map(|d| d.title.clone())
                .unwrap_or(r.procedure_id.clone()),
            due_state: due_state(&r.status, r.due_on.as_deref(), today),
            unread: r.seen_at.is_none(),
            changed_since_seen: matches!((r.seen_at, r.activity_at), (Some(s), Some(a)) if a > s),
            service_codes: r
                .service_codes
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            due_on: r.due_on,
            id: r.id,
            reference: r.reference,
            status: r.status,
            procedure_id: r.procedure_id,
            corporation_name: r.corporation_name,
            establishment_name: r.establishment_name,
            establishment_count: r.establishment_count,
            assignee_id: r.assignee_id,
            assignee_name: r.assignee_name,
            submitted_at: format_ms_jst(r.submitted_at),
            updated_at: format_ms_jst(r.updated_at),
        })
        .collect();
    Ok(InboxPage { items, next, prev })
}

/// Records that the actor opened a case now (for the unread markers). Authority staff only,
/// for their own authority's cases. Not an audited change: a reader's own bookmark, like a
/// session's last-seen time.
pub async fn mark_seen(app: &App, actor: &Actor, case_id: &str) -> CoreResult<()> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    super::load_for_staff(&mut tx, actor, case_id).await?;
    inbox::mark_seen(&mut tx, case_id, &actor.user_id, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_width_and_case_insensitive() {
        assert_eq!(normalize_search("ＳＡＫＵＲＡ　ｻｸﾗ"), "sakura サクラ");
        assert_eq!(normalize_search("１３７０４"), "13704");
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_pattern("新"), "%新%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn canonical_query_keeps_filters_and_order_only() {
        let q = InboxQuery {
            status: Some("submitted".into()),
            q: Some(" 新宿 ".into()),
            assignee: Some(String::new()),
            after: Some("1.abc".into()),
            limit: Some(10),
            sort: Some("due".into()),
            ..Default::default()
        };
        assert_eq!(
            q.canonical(),
            "status=submitted&q=%E6%96%B0%E5%AE%BF&sort=due"
        );
        let back = InboxQuery::parse(&q.canonical());
        assert_eq!(back.status.as_deref(), Some("submitted"));
        assert_eq!(back.q.as_deref(), Some("新宿"));
        assert_eq!(back.after, None);
        assert!(back.is_filtered());
        assert!(!InboxQuery::parse("sort=due").is_filtered());
    }

    #[test]
    fn cursors_follow_the_sort_key() {
        assert_eq!(
            parse_cursor("after", "1700000000000.0190-ab", SortKey::Updated).unwrap(),
            (CursorKey::Time(1_700_000_000_000), "0190-ab".into())
        );
        assert_eq!(
            parse_cursor("after", "2026-01-15.0190", SortKey::Due).unwrap(),
            (CursorKey::Date("2026-01-15".into()), "0190".into())
        );
        for bad in ["", "123", "x.0190", "2026-01-15.0190", "1.zz", "1.0190'--"] {
            assert!(
                parse_cursor("after", bad, SortKey::Updated).is_err(),
                "{bad:?} must be refused"
            );
        }
    }
}
