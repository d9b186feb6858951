//! Notifications to provider users: an in-app list (with the unread count in the page
//! header) and e-mail by each user's preference — at once, in one daily digest, or not at all.
//!
//! Notifications are written for every active user of the corporation concerned, in the
//! transaction of what caused them: a case returned or accepted (the deciding use cases call
//! [`notify_corporation`]) or the daily sweep ([`sweep`]: deadlines and designation expiry).
//! Each is unique per (user, `dedupe_key`), so writing it again does nothing. Their text is
//! composed only from provider-visible facts (status, reference, the return message, dates),
//! never from internal notes.

pub mod sweep;

use madoguchi_db::notifications::{self as store, NotificationRow};
use madoguchi_db::{Tx, new_id};
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::format_ms_jst;
use crate::mail::OutgoingMail;
use crate::{Actor, App, CoreError, CoreResult};

/// How a user wants notifications by e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailMode {
    /// One e-mail per notification, when it happens (the default).
    Immediate,
    /// One e-mail a day listing the notifications not yet mailed.
    Daily,
    /// No e-mail; the in-app list only.
    None,
}

impl EmailMode {
    pub const ALL: [EmailMode; 3] = [EmailMode::Immediate, EmailMode::Daily, EmailMode::None];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailMode::Immediate => "immediate",
            EmailMode::Daily => "daily",
            EmailMode::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<EmailMode> {
        EmailMode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// A stored preference; none stored means immediate.
    pub fn of(stored: Option<&str>) -> EmailMode {
        stored
            .and_then(EmailMode::parse)
            .unwrap_or(EmailMode::Immediate)
    }

    pub fn label(self) -> &'static str {
        match self {
            EmailMode::Immediate => "すぐに送る",
            EmailMode::Daily => "1日1回まとめて送る",
            EmailMode::None => "送らない",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            EmailMode::Immediate => "お知らせがあるたびに、1通ずつメールでお送りします。",
            EmailMode::Daily => "毎朝1回、前日からのお知らせを1通のメールにまとめてお送りします。",
            EmailMode::None => {
                "メールは送りません。お知らせはこのサイトの「お知らせ」でご確認ください。"
            }
        }
    }
}

/// What a notification says, before it is written for each user.
#[derive(Clone, Debug)]
pub struct Notice {
    /// `case_returned`, `case_accepted`, `deadline`, `designation_expiry`.
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    /// A path inside the site (`/filings/<id>`).
    pub href: String,
    /// One notification per user and key, e.g. `expiry:<designation>:<until>:3m`.
    pub dedupe_key: String,
}

/// Writes a notice for every active provider user of the corporation, in the caller's
/// transaction. Users who want e-mail at once get `mail` (or, when `None`, a mail composed
/// from the notice) in one message, together with `also_to` (the corporation's own contact
/// address); their notifications are marked mailed. A user who already had this notice gets
/// nothing new. Returns how many notifications were new.
pub(crate) async fn notify_corporation(
    app: &App,
    tx: &mut Tx,
    corporation_id: &str,
    notice: &Notice,
    mail: Option<OutgoingMail>,
    also_to: &[String],
    mail_dedup: Option<&str>,
) -> CoreResult<usize> {
    let now = app.now_ms();
    let mut created = 0;
    let mut to: Vec<String> = Vec::new();
    let mut mailed_ids = Vec::new();
    for user in store::corporation_users(tx, corporation_id).await? {
        let row = NotificationRow {
            id: new_id(),
            user_id: user.user_id.clone(),
            kind: notice.kind.into(),
            title: notice.title.clone(),
            body: notice.body.clone(),
            href: notice.href.clone(),
            dedupe_key: notice.dedupe_key.clone(),
            created_at: now,
            read_at: None,
            mailed_at: None,
        };
        if !store::insert(tx, &row).await? {
            continue;
        }
        created += 1;
        if EmailMode::of(user.email_mode.as_deref()) == EmailMode::Immediate
            && !user.email.trim().is_empty()
        {
            if !to.contains(&user.email) {
                to.push(user.email.clone());
            }
            mailed_ids.push(row.id);
        }
    }
    // The corporation's contact address hears of decisions as before (it is not a user).
    if created > 0 || mail.is_some() {
        for a in also_to {
            if !a.trim().is_empty() && !to.contains(a) {
                to.push(a.clone());
            }
        }
    }
    if !to.is_empty() {
        let mut m = mail.unwrap_or_else(|| {
            crate::jobs::notify::notification_mail(Vec::new(), notice, &app.config.base_url)
        });
        m.to = to;
        crate::jobs::enqueue_mail(app, tx, &m, mail_dedup).await?;
        for id in mailed_ids {
            store::set_mailed(tx, &id, now).await?;
        }
    }
    Ok(created)
}

/// One notification as its user sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub href: String,
    /// When it was written (JST, `YYYY-MM-DD HH:MM`).
    pub created_at: String,
    pub read: bool,
}

impl From<NotificationRow> for NotificationView {
    fn from(n: NotificationRow) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            href: n.href,
            created_at: format_ms_jst(n.created_at),
            read: n.read_at.is_some(),
        }
    }
}

/// One page of a user's notifications.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    /// Notifications under the filter.
    pub total: i64,
    pub unread: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Notifications per page of the list.
pub const PER_PAGE: i64 = 20;

/// The actor's notifications, newest first (`unread_only`: not yet read), page 1-based.
pub async fn list(
    app: &App,
    actor: &Actor,
    unread_only: bool,
    page: i64,
) -> CoreResult<NotificationPage> {
    actor.require_provider()?;
    let page = page.max(1);
    let mut tx = app.db.begin_read().await?;
    let total = store::count_of_user(&mut tx, &actor.user_id, unread_only).await?;
    let unread = store::count_of_user(&mut tx, &actor.user_id, true).await?;
    let rows = store::list_of_user(
        &mut tx,
        &actor.user_id,
        unread_only,
        PER_PAGE,
        (page - 1).saturating_mul(PER_PAGE),
    )
    .await?;
    tx.commit().await?;
    Ok(NotificationPage {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        unread,
        page,
        per_page: PER_PAGE,
    })
}

/// How many notifications the user has not read (the header badge).
pub async fn unread_count(app: &App, user_id: &str) -> CoreResult<i64> {
    let mut tx = app.db.begin_read().await?;
    let n = store::count_of_user(&mut tx, user_id, true).await?;
    tx.commit().await?;
    Ok(n)
}

/// A path inside this site (never another origin): `/x…`, not `//host`.
fn is_local_path(href: &str) -> bool {
    href.starts_with('/') && !href.starts_with("//") && !href.contains('\\')
}

/// Opens one of the actor's notifications: marks it read and returns where it leads.
pub async fn open(app: &App, actor: &Actor, id: &str) -> CoreResult<String> {
    actor.require_provider()?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let n = store::get_of_user(&mut tx, &actor.user_id, id).await?;
    if store::mark_read(&mut tx, &actor.user_id, id, now).await? > 0 {
        madoguchi_db::audit::append(
            &mut tx,
            now,
            &actor.user_id,
            "notification.read",
            "notification",
            id,
            &serde_json::json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(if is_local_path(&n.href) {
        n.href
    } else {
        "/notifications".into()
    })
}

/// Marks one notification (`Some(id)`) or all of the actor's (`None`) read; returns how many
/// changed.
pub async fn mark_read(app: &App, actor: &Actor, id: Option<&str>) -> CoreResult<u64> {
    actor.require_provider()?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let n = match id {
        Some(id) => {
            store::get_of_user(&mut tx, &actor.user_id, id).await?;
            store::mark_read(&mut tx, &actor.user_id, id, now).await?
        }
        None => store::mark_all_read(&mut tx, &actor.user_id, now).await?,
    };
    if n > 0 {
        madoguchi_db::audit::append(
            &mut tx,
            now,
            &actor.user_id,
            "notification.read",
            "user",
            &actor.user_id,
            &serde_json::json!({ "notification": id, "count": n }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// The actor's e-mail preference.
pub async fn preference(app: &App, actor: &Actor) -> CoreResult<EmailMode> {
    actor.require_provider()?;
    let mut tx = app.db.begin_read().await?;
    let m = store::get_preference(&mut tx, &actor.user_id).await?;
    tx.commit().await?;
    Ok(EmailMode::of(m.as_deref()))
}

/// Sets the actor's e-mail preference (`immediate`, `daily` or `none`).
pub async fn set_preference(app: &App, actor: &Actor, mode: &str) -> CoreResult<EmailMode> {
    actor.require_provider()?;
    let Some(mode) = EmailMode::parse(mode) else {
        return Err(CoreError::field(
            "email_mode",
            "invalid",
            "メールでのお知らせの受け取り方を選んでください。",
        ));
    };
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    store::set_preference(&mut tx, &actor.user_id, mode.as_str(), now).await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "notification.preference_set",
        "user",
        &actor.user_id,
        &serde_json::json!({ "email_mode": mode.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_modes_round_trip_and_default_to_immediate() {
        for m in EmailMode::ALL {
            assert_eq!(EmailMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(EmailMode::of(None), EmailMode::Immediate);
        assert_eq!(EmailMode::of(Some("weekly")), EmailMode::Immediate);
        assert_eq!(EmailMode::of(Some("none")), EmailMode::None);
        assert_eq!(EmailMode::parse("Daily"), None);
    }

    #[test]
    fn only_paths_of_this_site_are_followed() {
        assert!(is_local_path("/filings/1"));
        assert!(!is_local_path("//evil.example/x"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
    }
}
