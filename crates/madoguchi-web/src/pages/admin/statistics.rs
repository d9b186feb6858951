//! 統計: per procedure, for a period (default: the current fiscal year), the authority's cases
//! received, pending, decided and withdrawn, the median days to decide, the return rate and the
//! providers' satisfaction; and the same table as CSV.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use madoguchi_core::CoreError;
use madoguchi_core::admin::statistics::{self, Statistics};
use serde::Deserialize;

use super::{FormErrors, admin_layout, admin_nav, authority_of, unprocessable};
use crate::auth::SignedIn;
use crate::pages::layout::{Layout, NavItem};
use crate::pages::{PageResult, render};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/admin/statistics.html")]
struct StatisticsPage {
    layout: Layout,
    nav: Vec<NavItem>,
    s: Option<Statistics>,
    errors: FormErrors,
    from: String,
    to: String,
    csv_href: String,
}

impl StatisticsPage {
    fn days(&self, v: &Option<f64>) -> String {
        statistics::days_text(*v)
    }

    fn percent(&self, v: &Option<f64>) -> String {
        statistics::percent_text(*v)
    }

    fn score(&self, v: &Option<f64>) -> String {
        statistics::score_text(*v)
    }
}

/// `GET /admin/statistics?from=YYYY-MM-DD&to=YYYY-MM-DD`.
pub async fn show(
    State(st): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    let code = authority_of(&session)?;
    let layout = admin_layout(&session, "統計", "/admin/statistics", vec![]);
    let nav = admin_nav("/admin/statistics");
    match statistics::compute(
        &st.app,
        &session.actor,
        &code,
        q.from.as_deref(),
        q.to.as_deref(),
    )
    .await
    {
        Ok(s) => Ok(render(&StatisticsPage {
            layout,
            nav,
            csv_href: format!("/admin/statistics/download?from={}&to={}", s.from, s.to),
            from: s.from.clone(),
            to: s.to.clone(),
            s: Some(s),
            errors: FormErrors::default(),
        })),
        Err(CoreError::Validation(e)) => Ok(unprocessable(render(&StatisticsPage {
            layout,
            nav,
            s: None,
            errors: FormErrors::from_fields("period", e),
            from: q.from.unwrap_or_default(),
            to: q.to.unwrap_or_default(),
            csv_href: String::new(),
        }))),
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/statistics/download?from=…&to=…`: the table as CSV (UTF-8 with BOM).
pub async fn download(
    State(st): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    let code = authority_of(&session)?;
    let s = statistics::compute(
        &st.app,
        &session.actor,
        &code,
        q.from.as_deref(),
        q.to.as_deref(),
    )
    .await?;
    Ok(csv_response(&s))
}

/// The statistics as a CSV download (pages and API).
pub(crate) fn csv_response(s: &Statistics) -> axum::response::Response {
    let filename = format!("statistics-{}-{}-{}.csv", s.authority_code, s.from, s.to);
    let mut r = statistics::to_csv(s).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
