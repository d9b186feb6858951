//! Public pages of local rules (独自ルール): the list of authorities and one authority's
//! additions to the standard procedures.

use askama::Template;
use axum::extract::{Path, State};
use madoguchi_core::local_rules::{self, PublishedLocalRules};

use super::{PageResult, layout_for, render};
use crate::auth::MaybeSignedIn;
use crate::pages::layout::Layout;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/local_rules_index.html")]
struct IndexPage {
    layout: Layout,
    authorities: Vec<(String, String, usize)>,
}

#[derive(Template)]
#[template(path = "pages/local_rules.html")]
struct AuthorityPage {
    layout: Layout,
    p: PublishedLocalRules,
}

fn layout(s: Option<&madoguchi_core::auth::Session>, title: &str) -> Layout {
    match s {
        Some(s) => layout_for(s, title, "/local-rules"),
        None => Layout::new(title),
    }
}

/// `/local-rules`.
pub async fn index(State(s): State<AppState>, MaybeSignedIn(session): MaybeSignedIn) -> PageResult {
    let authorities = local_rules::index(&s.app).await?;
    Ok(render(&IndexPage {
        layout: layout(session.as_ref(), "自治体の独自ルール"),
        authorities,
    }))
}

/// `/authorities/{code}/local-rules`.
pub async fn authority(
    State(s): State<AppState>,
    MaybeSignedIn(session): MaybeSignedIn,
    Path(code): Path<String>,
) -> PageResult {
    let p = local_rules::published(&s.app, &code).await?;
    let title = format!("{}の独自ルール", p.authority_name);
    Ok(render(&AuthorityPage {
        layout: layout(session.as_ref(), &title),
        p,
    }))
}
