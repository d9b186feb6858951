//! The reviewer's inbox page: a filter form (GET, so every view is a link), the cases with
//! unread / changed markers and checkboxes for bulk acceptance, keyset page links, and the
//! reviewer's saved filters. Bulk acceptance itself is in `decisions`.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::cases::assign::Colleague;
use madoguchi_core::cases::inbox::{InboxItem, InboxQuery};
use madoguchi_core::cases::saved_filters::{SaveFilterRequest, SavedFilter};
use madoguchi_core::cases::{self};
use serde::Deserialize;

use super::form_view::ErrorSummaryItem;
use super::layout::Layout;
use super::{PageResult, check_csrf, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::state::AppState;

/// One row of the list, with what the table shows beside the case's facts.
struct Row {
    item: InboxItem,
    /// 「さくらデイサービス新宿 ほか1件」.
    establishments: String,
    /// Service names (通所介護・地域密着型通所介護).
    services: String,
}

/// A column header that sorts: its link and its current `aria-sort`.
struct SortHeader {
    label: &'static str,
    href: String,
    /// `ascending` / `descending` when the list is sorted by it, else empty.
    aria_sort: &'static str,
    /// ▲ / ▼ beside the sorted column.
    arrow: &'static str,
}

/// One option of a select, chosen or not.
struct Opt {
    value: String,
    label: String,
    selected: bool,
}

fn opts(current: &Option<String>, items: Vec<(String, String)>) -> Vec<Opt> {
    let current = current.as_deref().map(str::trim).unwrap_or_default();
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

#[derive(Template)]
#[template(path = "pages/inbox.html")]
struct InboxPage {
    layout: Layout,
    rows: Vec<Row>,
    /// The free text as typed (the form shows it back).
    text: String,
    status_opts: Vec<Opt>,
    procedure_opts: Vec<Opt>,
    service_opts: Vec<Opt>,
    assignee_opts: Vec<Opt>,
    due_opts: Vec<Opt>,
    sort_opts: Vec<Opt>,
    order_opts: Vec<Opt>,
    unread: bool,
    filtered: bool,
    /// The canonical query string of the filters and order.
    canonical: String,
    saved: Vec<SavedFilter>,
    next_href: Option<String>,
    prev_href: Option<String>,
    /// Not on the first page: offer the way back to it.
    paged: bool,
    headers: Vec<SortHeader>,
    errors: Vec<ErrorSummaryItem>,
    /// The problem with a filter name being saved.
    save_error: Option<String>,
    save_name: String,
}

impl InboxPage {
    fn error_for(&self, id: &str) -> Option<&str> {
        super::form_view::message_for(&self.errors, id)
    }
}

/// `/inbox?<canonical>&<extra>`.
fn inbox_href(canonical: &str, extra: &str) -> String {
    match (canonical.is_empty(), extra.is_empty()) {
        (true, true) => "/inbox".into(),
        (true, false) => format!("/inbox?{extra}"),
        (false, true) => format!("/inbox?{canonical}"),
        (false, false) => format!("/inbox?{canonical}&{extra}"),
    }
}

fn encode(s: &str) -> String {
    serde_html_form::to_string([("v", s)])
        .map(|p| p.trim_start_matches("v=").to_owned())
        .unwrap_or_default()
}

fn establishments_label(item: &InboxItem) -> String {
    match (&item.establishment_name, item.establishment_count) {
        (Some(n), c) if c > 1 => format!("{n} ほか{}件", c - 1),
        (Some(n), _) => n.clone(),
        (None, _) => String::new(),
    }
}

fn service_names(codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| {
            madoguchi_domain::ids::find_service_type(c)
                .map(|s| s.name.to_string())
                .unwrap_or_else(|| c.clone())
        })
        .collect::<Vec<_>>()
        .join("・")
}

/// The headers that sort, each linking to the list sorted by it (the other direction when
/// it already is).
fn sort_headers(q: &InboxQuery) -> Vec<SortHeader> {
    let current = q.sort.as_deref().unwrap_or("updated");
    let current = if current.is_empty() {
        "updated"
    } else {
        current
    };
    let descending = match q.order.as_deref() {
        Some("asc") => false,
        Some("desc") => true,
        _ => current != "due",
    };
    [
        ("due", "提出期限"),
        ("received", "受付日時"),
        ("updated", "更新日時"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let active = key == current;
        let order = match (active, descending) {
            (true, true) => "asc",
            (true, false) => "desc",
            (false, _) if key == "due" => "asc",
            (false, _) => "desc",
        };
        let mut next = q.clone();
        next.sort = Some(key.into());
        next.order = Some(order.into());
        SortHeader {
            label,
            href: inbox_href(&next.canonical(), ""),
            aria_sort: match (active, descending) {
                (false, _) => "",
                (true, true) => "descending",
                (true, false) => "ascending",
            },
            arrow: match (active, descending) {
                (false, _) => "",
                (true, true) => " ▼",
                (true, false) => " ▲",
            },
        }
    })
    .collect()
}

/// The page for a query; validation problems are shown with the form (422).
async fn inbox_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    q: InboxQuery,
    done: Option<&str>,
    save_error: Option<(String, String)>,
) -> PageResult {
    let actor = &session.actor;
    let (page, errors) = match cases::inbox(&s.app, actor, &q).await {
        Ok(p) => (Some(p), Vec::new()),
        Err(CoreError::Validation(errs)) => (
            None,
            errs.into_iter()
                .map(|e| ErrorSummaryItem {
                    // Paging parameters have no control of their own: point at the list.
                    field_id: match e.field.as_str() {
                        "after" | "before" | "limit" => "list-title".to_owned(),
                        f => format!("f-{f}"),
                    },
                    message: e.message,
                })
                .collect(),
        ),
        Err(e) => return Err(e.into()),
    };
    let canonical = q.canonical();
    let mut layout = layout_for(session, "受付箱", "/inbox");
    layout.flash = flash_for(done);
    let mut procedures = vec![(String::new(), "すべて".to_owned())];
    procedures.extend(
        s.app
            .catalog
            .list_latest()
            .into_iter()
            .map(|d| (d.id.clone(), d.title.clone())),
    );
    let mut services = vec![(String::new(), "すべて".to_owned())];
    services.extend(
        madoguchi_domain::ids::service_types()
            .iter()
            .map(|t| (t.code.to_string(), format!("{}（{}）", t.name, t.code))),
    );
    let mut assignees = pairs(&[("", "すべて"), ("me", "自分が担当"), ("none", "未割当")]);
    let colleagues: Vec<Colleague> = cases::colleagues(&s.app, actor).await?;
    assignees.extend(
        colleagues
            .into_iter()
            .filter(|c| c.id != actor.user_id)
            .map(|c| (c.id, c.display_name)),
    );
    // "me" and the reviewer's own id are the same choice.
    let assignee_current = match q.assignee.as_deref() {
        Some(id) if id == actor.user_id => Some("me".to_owned()),
        other => other.map(str::to_owned),
    };
    let (next, prev) = page
        .as_ref()
        .map(|p| (p.next.clone(), p.prev.clone()))
        .unwrap_or_default();
    let paged = q.after.as_deref().is_some_and(|a| !a.is_empty())
        || q.before.as_deref().is_some_and(|b| !b.is_empty());
    let rows = page
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|item| Row {
            establishments: establishments_label(&item),
            services: service_names(&item.service_codes),
            item,
        })
        .collect();
    let (save_name, save_error) = match save_error {
        Some((name, e)) => (name, Some(e)),
        None => (String::new(), None),
    };
    let invalid = !errors.is_empty() || save_error.is_some();
    let page = InboxPage {
        layout,
        rows,
        filtered: q.is_filtered(),
        headers: sort_headers(&q),
        next_href: next.map(|c| inbox_href(&canonical, &format!("after={}", encode(&c)))),
        prev_href: prev.map(|c| inbox_href(&canonical, &format!("before={}", encode(&c)))),
        paged,
        canonical,
        text: q.q.clone().unwrap_or_default(),
        status_opts: opts(
            &q.status,
            pairs(&[
                ("", "すべて"),
                ("submitted", "審査待ち（提出済）"),
                ("returned", "差戻し中"),
                ("accepted", "受付完了"),
                ("withdrawn", "取下げ"),
            ]),
        ),
        procedure_opts: opts(&q.procedure, procedures),
        service_opts: opts(&q.service, services),
        assignee_opts: opts(&assignee_current, assignees),
        due_opts: opts(
            &q.due,
            pairs(&[
                ("", "指定しない"),
                ("overdue", "期限切れ"),
                ("due_soon", "期限まで7日以内"),
            ]),
        ),
        sort_opts: opts(
            &q.sort,
            pairs(&[
                ("updated", "更新日時"),
                ("received", "受付日時"),
                ("due", "提出期限"),
            ]),
        ),
        order_opts: opts(
            &q.order,
            pairs(&[
                ("", "標準の順"),
                ("desc", "新しい順・遅い順"),
                ("asc", "古い順・早い順"),
            ]),
        ),
        unread: matches!(q.unread.as_deref(), Some("1") | Some("true")),
        saved: cases::saved_filters(&s.app, actor).await?,
        errors,
        save_error,
        save_name,
    };
    let mut r = render(&page);
    if invalid {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// `GET /inbox`: the authority's cases, filtered and sorted.
pub async fn inbox(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (q, done) = read_query(raw.as_deref().unwrap_or_default());
    inbox_page(&s, &session, q, done.as_deref(), None).await
}

/// The page's query string: the inbox query (pages are always 50 cases) and the flash key.
fn read_query(raw: &str) -> (InboxQuery, Option<String>) {
    let pairs: Vec<(String, String)> = serde_html_form::from_str(raw).unwrap_or_default();
    let mut q = InboxQuery::default();
    let mut done = None;
    for (k, v) in pairs {
        let v = Some(v);
        match k.as_str() {
            "status" => q.status = v,
            "procedure" => q.procedure = v,
            "service" => q.service = v,
            "assignee" => q.assignee = v,
            "due" => q.due = v,
            "q" => q.q = v,
            "unread" => q.unread = v,
            "sort" => q.sort = v,
            "order" => q.order = v,
            "after" => q.after = v,
            "before" => q.before = v,
            "done" => done = v,
            _ => {}
        }
    }
    (q, done)
}

#[derive(Deserialize)]
pub struct SaveForm {
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
}

/// `POST /inbox/filters`: keeps the current query under a name.
pub async fn save_filter(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<SaveForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let req = SaveFilterRequest {
        name: f.name.clone(),
        query: f.query.clone(),
    };
    match cases::save_filter(&s.app, &session.actor, &req).await {
        Ok(saved) => {
            Ok(Redirect::to(&inbox_href(&saved.query, "done=filter_saved")).into_response())
        }
        Err(CoreError::Validation(errs)) => {
            let message = errs
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" ");
            inbox_page(
                &s,
                &session,
                InboxQuery::parse(&f.query),
                None,
                Some((f.name, message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/confirm.html")]
pub(crate) struct ConfirmPage {
    pub layout: Layout,
    pub heading: String,
    pub lead: String,
    /// Facts of what is about to happen (term, value).
    pub details: Vec<(String, String)>,
    /// A heading and a list shown under the facts (e.g. the pinned fields).
    pub list_title: String,
    pub list: Vec<String>,
    /// A message quoted as the provider will read it.
    pub message: Option<String>,
    pub action: String,
    /// Fields posted again with `confirm=yes`.
    pub hidden: Vec<(String, String)>,
    pub confirm_label: String,
    pub cancel_href: String,
    pub cancel_label: String,
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf_token: String,
    confirm: Option<String>,
}

/// `POST /inbox/filters/{id}/delete`: asks first, then deletes one of the user's filters.
pub async fn delete_filter(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<DeleteForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    if f.confirm.as_deref() != Some("yes") {
        let saved = cases::saved_filters(&s.app, &session.actor).await?;
        let filter = saved
            .into_iter()
            .find(|x| x.id == id)
            .ok_or(CoreError::NotFound)?;
        let layout = layout_for(&session, "保存した条件の削除", "/inbox");
        return Ok(render(&ConfirmPage {
            layout,
            heading: "保存した条件を削除しますか".into(),
            lead: format!(
                "「{}」を削除します。削除すると元に戻せません（同じ条件はもう一度保存できます）。",
                filter.name
            ),
            details: vec![("名前".into(), filter.name)],
            list_title: String::new(),
            list: Vec::new(),
            message: None,
            action: format!("/inbox/filters/{id}/delete"),
            hidden: Vec::new(),
            confirm_label: "削除する".into(),
            cancel_href: "/inbox".into(),
            cancel_label: "削除せずに受付箱へ戻る".into(),
        }));
    }
    cases::delete_filter(&s.app, &session.actor, &id).await?;
    Ok(Redirect::to("/inbox?done=filter_deleted").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_toggle_the_order_of_the_current_sort() {
        let h = sort_headers(&InboxQuery::default());
        let updated = h.iter().find(|h| h.label == "更新日時").unwrap();
        assert_eq!(updated.aria_sort, "descending");
        assert_eq!(updated.href, "/inbox?sort=updated&order=asc");
        let due = h.iter().find(|h| h.label == "提出期限").unwrap();
        assert_eq!(due.aria_sort, "");
        assert_eq!(due.href, "/inbox?sort=due&order=asc");
        let q = InboxQuery {
            status: Some("submitted".into()),
            sort: Some("due".into()),
            ..Default::default()
        };
        let due = sort_headers(&q)
            .into_iter()
            .find(|h| h.label == "提出期限")
            .unwrap();
        assert_eq!(due.aria_sort, "ascending");
        assert_eq!(due.href, "/inbox?status=submitted&sort=due&order=desc");
    }

    #[test]
    fn the_page_reads_its_query_leniently() {
        let (q, done) =
            read_query("status=submitted&q=%E6%96%B0&limit=abc&after=1.ab&done=assigned&x=1");
        assert_eq!(q.status.as_deref(), Some("submitted"));
        assert_eq!(q.q.as_deref(), Some("新"));
        assert_eq!(q.after.as_deref(), Some("1.ab"));
        assert_eq!(q.limit, None);
        assert_eq!(done.as_deref(), Some("assigned"));
    }

    #[test]
    fn cursors_are_encoded_into_links() {
        assert_eq!(inbox_href("", ""), "/inbox");
        assert_eq!(
            inbox_href(
                "status=submitted",
                &format!("after={}", encode("2026-01-15.01ab"))
            ),
            "/inbox?status=submitted&after=2026-01-15.01ab"
        );
    }
}
