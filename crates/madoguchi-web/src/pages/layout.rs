//! The page frame every HTML page shares: header, navigation, breadcrumbs, flash message,
//! footer (`templates/base.html`), plus the generic error page.
//!
//! A page is an askama struct with a `layout: Layout` field whose template starts with
//! `{% extends "base.html" %}` and fills `{% block content %}` (and optionally
//! `{% block head %}`). The frame works without JavaScript and loads nothing from outside
//! the binary.

use std::fmt;

use askama::Template;
use askama_web::WebTemplate;

use crate::assets::asset_url;

/// What `base.html` needs to draw the frame around a page.
#[derive(Clone, Default)]
pub struct Layout {
    /// Page title, shown in the browser tab as "{title} | 窓口"; usually the page's `<h1>`.
    pub title: String,
    /// The signed-in user, or `None` on public pages (a 「ログイン」 link is shown instead).
    pub user: Option<UserBadge>,
    /// Primary navigation; mark the section the page belongs to with `current`.
    pub nav: Vec<NavItem>,
    /// The session's CSRF token, used by the header's sign-out form.
    pub csrf_token: String,
    /// A one-off message from the previous request (e.g. after a redirect).
    pub flash: Option<Flash>,
    /// Trail from the home page to this page; the last item is normally `current`.
    pub breadcrumbs: Vec<NavItem>,
    /// Unread notifications of a provider user: the header shows a link to the list with
    /// the count (`None`: no notifications for this user).
    pub notifications_unread: Option<i64>,
}

/// Who is signed in, as shown in the header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserBadge {
    pub display_name: String,
    /// Corporation or authority the user acts for.
    pub org_name: String,
    /// e.g. 「事業者」「審査担当」「管理者」.
    pub role_label: String,
}

/// A link in the navigation or the breadcrumbs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NavItem {
    pub href: String,
    pub label: String,
    /// Rendered with `aria-current="page"`.
    pub current: bool,
}

/// A message carried over to the next page, e.g. 「提出しました。」.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

/// How a [`Flash`] is presented: errors are announced assertively (`role="alert"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashKind {
    Info,
    Success,
    Error,
}

impl Layout {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Versioned URL of the stylesheet (cacheable for a year).
    pub fn css_href(&self) -> String {
        asset_url("app.css")
    }

    /// Versioned URL of the favicon.
    pub fn icon_href(&self) -> String {
        asset_url("favicon.svg")
    }

    pub fn with_user(mut self, user: UserBadge, csrf_token: impl Into<String>) -> Self {
        self.user = Some(user);
        self.csrf_token = csrf_token.into();
        self
    }

    pub fn with_nav(mut self, nav: Vec<NavItem>) -> Self {
        self.nav = nav;
        self
    }

    pub fn with_breadcrumbs(mut self, breadcrumbs: Vec<NavItem>) -> Self {
        self.breadcrumbs = breadcrumbs;
        self
    }

    pub fn with_flash(mut self, flash: Option<Flash>) -> Self {
        self.flash = flash;
        self
    }
}

/// The CSRF token is a secret: keep it out of logs.
impl fmt::Debug for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layout")
            .field("title", &self.title)
            .field("user", &self.user)
            .field("nav", &self.nav)
            .field("csrf_token", &"[redacted]")
            .field("flash", &self.flash)
            .field("breadcrumbs", &self.breadcrumbs)
            .field("notifications_unread", &self.notifications_unread)
            .finish()
    }
}

impl NavItem {
    pub fn new(href: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            label: label.into(),
            current: false,
        }
    }

    /// Marks the item as the current page or section.
    pub fn current(mut self, current: bool) -> Self {
        self.current = current;
        self
    }
}

impl Flash {
    pub fn info(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Info,
            message: message.into(),
        }
    }

    pub fn success(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Success,
            message: message.into(),
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Error,
            message: message.into(),
        }
    }
}

impl FlashKind {
    /// Modifier class in `app.css` (`flash flash--…`).
    pub fn css_class(&self) -> &'static str {
        match self {
            Self::Info => "flash--info",
            Self::Success => "flash--success",
            Self::Error => "flash--error",
        }
    }

    /// ARIA live-region role: errors interrupt, the rest are polite.
    pub fn role(&self) -> &'static str {
        match self {
            Self::Error => "alert",
            Self::Info | Self::Success => "status",
        }
    }

    /// Visible label, so the kind is never conveyed by colour alone.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Info => "お知らせ",
            Self::Success => "完了しました",
            Self::Error => "エラー",
        }
    }
}

/// A whole page for an error (404, 403, 500 …); the status code is set by the caller.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub heading: String,
    pub message: String,
}

impl ErrorPage {
    pub fn new(layout: Layout, heading: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            layout,
            heading: heading.into(),
            message: message.into(),
        }
    }
}

/// One numbered link of a list's page links.
pub struct PageLink {
    pub number: i64,
    pub href: String,
    pub current: bool,
}

/// The page links under a list (`macros/pager.html`): previous, every page, next.
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub links: Vec<PageLink>,
}

impl Pager {
    /// Links for page `page` of `pages` at `path`, keeping `params` (a filter) in every link;
    /// page 1 carries no `page=`. `None` when everything fits on one page.
    pub fn new(path: &str, params: &[(&str, &str)], page: i64, pages: i64) -> Option<Pager> {
        if pages <= 1 {
            return None;
        }
        let href = |n: i64| {
            let mut q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if n > 1 {
                q.push(format!("page={n}"));
            }
            if q.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{}", q.join("&"))
            }
        };
        Some(Pager {
            prev: (page > 1).then(|| href(page - 1)),
            next: (page < pages).then(|| href(page + 1)),
            links: (1..=pages)
                .map(|n| PageLink {
                    number: n,
                    href: href(n),
                    current: n == page,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn page_links_keep_the_filter_and_leave_page_one_bare() {
        assert!(
            Pager::new("/filings", &[], 1, 1).is_none(),
            "one page: no links"
        );
        let p = Pager::new("/filings", &[("status", "returned")], 2, 3).unwrap();
        assert_eq!(p.prev.as_deref(), Some("/filings?status=returned"));
        assert_eq!(p.next.as_deref(), Some("/filings?status=returned&page=3"));
        let hrefs: Vec<&str> = p.links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(
            hrefs,
            [
                "/filings?status=returned",
                "/filings?status=returned&page=2",
                "/filings?status=returned&page=3"
            ]
        );
        assert_eq!(
            p.links
                .iter()
                .filter(|l| l.current)
                .map(|l| l.number)
                .collect::<Vec<_>>(),
            [2]
        );
        let first = Pager::new("/notifications", &[], 1, 2).unwrap();
        assert_eq!(
            (first.prev, first.next.as_deref()),
            (None, Some("/notifications?page=2"))
        );
    }

    use super::*;

    fn signed_in() -> Layout {
        Layout::new("申請一覧")
            .with_user(
                UserBadge {
                    display_name: "山田 花子".into(),
                    org_name: "社会福祉法人 <あおぞら> 会".into(),
                    role_label: "事業者".into(),
                },
                "tok&en",
            )
            .with_nav(vec![
                NavItem::new("/filings", "申請・届出").current(true),
                NavItem::new("/my", "法人・事業所"),
            ])
            .with_breadcrumbs(vec![
                NavItem::new("/", "ホーム"),
                NavItem::new("/filings", "申請・届出").current(true),
            ])
            .with_flash(Some(Flash::error("保存できませんでした。")))
    }

    #[test]
    fn signed_in_frame_has_landmarks_nav_and_logout() {
        let page = ErrorPage::new(signed_in(), "見つかりません", "ページが見つかりません。");
        let html = page.render().unwrap();
        assert!(html.starts_with("<!doctype html>\n<html lang=\"ja\">"));
        assert!(html.contains("<title>申請一覧 | 窓口</title>"));
        assert!(html.contains(&format!("href=\"{}\"", asset_url("app.css"))));
        assert!(html.contains("<a class=\"skip-link\" href=\"#main\">"));
        assert!(html.contains("<main id=\"main\""));
        assert!(html.contains("<header") && html.contains("<footer"));
        assert!(html.contains("aria-label=\"メインメニュー\""));
        assert!(html.contains("href=\"/filings\" aria-current=\"page\">申請・届出</a>"));
        assert!(html.contains("aria-label=\"パンくずリスト\""));
        assert!(html.contains("<form method=\"post\" action=\"/logout\""));
        assert!(html.contains("name=\"csrf_token\" value=\"tok&#38;en\""));
        assert!(html.contains("&#60;あおぞら&#62;"), "user data is escaped");
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("保存できませんでした。"));
        assert!(html.contains("<h1 class=\"page-title\">見つかりません</h1>"));
        assert!(html.contains("href=\"/about\"") && html.contains("href=\"/accessibility\""));
        assert!(!html.contains("href=\"/login\""));
    }

    #[test]
    fn public_frame_offers_login_and_success_is_polite() {
        let layout =
            Layout::new("ログイン").with_flash(Some(Flash::success("ログアウトしました。")));
        let html = ErrorPage::new(layout, "h", "m").render().unwrap();
        assert!(html.contains("href=\"/login\""));
        assert!(!html.contains("action=\"/logout\""));
        assert!(!html.contains("メインメニュー"));
        assert!(html.contains("role=\"status\""));
        assert!(html.contains("flash--success"));
    }

    #[test]
    fn debug_redacts_the_csrf_token() {
        let debug = format!("{:?}", signed_in());
        assert!(!debug.contains("tok&en"));
        assert!(debug.contains("[redacted]"));
    }
}
