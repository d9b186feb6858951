//! マスタ: the authority's details (name shown to providers, contact e-mail, address and
//! telephone), editable; and the built-in code tables, read-only with their sources.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::admin::authority::{self, AuthorityDetails, CodeTable, DetailsInput};
use serde::Deserialize;

use super::{FormErrors, admin_layout, admin_nav, authority_of, unprocessable};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::pages::layout::{Flash, Layout, NavItem};
use crate::pages::{PageResult, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin/master.html")]
struct MasterPage {
    layout: Layout,
    nav: Vec<NavItem>,
    d: AuthorityDetails,
    tables: Vec<CodeTable>,
    errors: FormErrors,
    name: String,
    email: String,
    address: String,
    phone: String,
}

async fn page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
) -> Result<MasterPage, AppError> {
    let code = authority_of(session)?;
    let d = authority::details(&s.app, &session.actor, &code).await?;
    Ok(MasterPage {
        layout: admin_layout(session, "マスタ", "/admin/master", vec![]),
        nav: admin_nav("/admin/master"),
        name: d.contact.name.clone(),
        email: d.contact.email.clone(),
        address: d.contact.address.clone(),
        phone: d.contact.phone.clone(),
        d,
        tables: authority::code_tables(),
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /admin/master`.
pub async fn show(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let mut p = page(&s, &session).await?;
    if q.done.as_deref() == Some("saved") {
        p.layout.flash = Some(Flash::success(
            "自治体の情報を保存しました。公開ページと事業者の画面に反映しました。",
        ));
    }
    Ok(render(&p))
}

/// `POST /admin/master/authority`.
pub async fn save(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<DetailsInput>,
) -> PageResult {
    let code = authority_of(&session)?;
    match authority::update_details(&s.app, &session.actor, &code, &f).await {
        Ok(_) => Ok(Redirect::to("/admin/master?done=saved").into_response()),
        Err(e) => {
            let errors = FormErrors::from_core("authority", e)?;
            let mut p = page(&s, &session).await?;
            p.errors = errors;
            p.name = f.name;
            p.email = f.email;
            p.address = f.address;
            p.phone = f.phone;
            Ok(unprocessable(render(&p)))
        }
    }
}
