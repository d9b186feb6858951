//! The preview of a local rule before it is published: the provider's form for this authority
//! with the draft applied (the additions labelled 「（自治体）の独自項目」), the documents it
//! would ask for, the due date, and the validation of a sample filing. The admin can change
//! the sample's answers in the form and check them again (「入力チェックをする」); nothing is
//! saved.

use askama::Template;
use axum::extract::{Path, State};
use axum_extra::extract::Form;
use madoguchi_core::admin::preview::{
    self, PreviewAttachment, RulePreview, SAMPLE_ESTABLISHMENT_ID, SAMPLE_ESTABLISHMENT_NAME,
};
use madoguchi_core::filings::view::EstablishmentRef;
use madoguchi_domain::procedure::FilingData;
use madoguchi_domain::registry::RegistrySnapshot;

use super::{admin_layout, admin_nav, authority_of};
use crate::auth::SignedIn;
use crate::pages::form::{
    SectionView, apply_repeat_action, item_title_for, parse_pairs, repeat_action, sections,
};
use crate::pages::form_view::{ErrorSummaryItem, FieldView};
use crate::pages::layout::{Layout, NavItem};
use crate::pages::{PageResult, check_csrf, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin/local_rule_preview.html")]
struct PreviewPage {
    layout: Layout,
    nav: Vec<NavItem>,
    procedure_id: String,
    procedure_title: String,
    form_number: String,
    authority_name: String,
    sections: Vec<SectionView>,
    errors: Vec<ErrorSummaryItem>,
    attachments: Vec<PreviewAttachment>,
    due_on: Option<String>,
    deadline_label: Option<String>,
    generated: bool,
}

fn establishments() -> Vec<EstablishmentRef> {
    vec![EstablishmentRef {
        id: SAMPLE_ESTABLISHMENT_ID.into(),
        office_number: String::new(),
        name: SAMPLE_ESTABLISHMENT_NAME.into(),
    }]
}

fn page(session: &madoguchi_core::auth::Session, p: RulePreview, title: &str) -> PreviewPage {
    let secs = sections(
        &p.definition,
        &p.data,
        &establishments(),
        &p.problems,
        &RegistrySnapshot::default(),
    );
    let errors = p
        .problems
        .iter()
        .map(|e| ErrorSummaryItem {
            field_id: if e.field.starts_with("attachments.") {
                "preview-attachments".into()
            } else {
                FieldView::id_for(&e.field)
            },
            message: match item_title_for(&secs, &e.field) {
                Some(item) => format!("{item}：{}", e.message),
                None => e.message.clone(),
            },
        })
        .collect();
    PreviewPage {
        layout: admin_layout(
            session,
            &format!("プレビュー：{title}"),
            "/admin/local-rules",
            vec![
                NavItem::new(format!("/admin/local-rules/{}", p.procedure_id), title),
                NavItem::new(
                    format!("/admin/local-rules/{}/preview", p.procedure_id),
                    "プレビュー",
                )
                .current(true),
            ],
        ),
        nav: admin_nav("/admin/local-rules"),
        procedure_id: p.procedure_id,
        procedure_title: title.to_owned(),
        form_number: p.definition.form_number.clone(),
        authority_name: p.authority_name,
        sections: secs,
        errors,
        attachments: p.attachments,
        due_on: p.due_on,
        deadline_label: p.deadline_label,
        generated: p.generated,
    }
}

fn title_of(s: &AppState, procedure: &str) -> String {
    s.app
        .catalog
        .latest(procedure)
        .map(|d| d.title.clone())
        .unwrap_or_default()
}

/// `GET /admin/local-rules/{procedure}/preview`: the form with a generated sample.
pub async fn show(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(procedure): Path<String>,
) -> PageResult {
    let code = authority_of(&session)?;
    let p = preview::preview(&s.app, &session.actor, &code, &procedure, None).await?;
    let title = title_of(&s, &procedure);
    Ok(render(&page(&session, p, &title)))
}

/// `POST /admin/local-rules/{procedure}/preview`: checks the answers typed into the preview.
pub async fn check(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(procedure): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let token = pairs
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    check_csrf(&session, token)?;
    let code = authority_of(&session)?;
    // The form as the preview showed it (the draft applied), to read the answers with.
    let shown = preview::preview(&s.app, &session.actor, &code, &procedure, None).await?;
    let ids = vec![SAMPLE_ESTABLISHMENT_ID.to_owned()];
    let mut data = parse_pairs(&shown.definition, &pairs, &FilingData::default(), &ids);
    if let Some(action) = repeat_action(&pairs) {
        apply_repeat_action(&shown.definition, &mut data, &action, &pairs, &ids);
    }
    let p = preview::preview(&s.app, &session.actor, &code, &procedure, Some(data)).await?;
    let title = title_of(&s, &procedure);
    Ok(render(&page(&session, p, &title)))
}
