//! 独自ルール: what the authority adds to each standard procedure, edited through forms (no
//! TOML typing): add a field, a document or a deadline override, remove them, say what the
//! rule is for; preview (`super::preview`); publish, or throw the draft away.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::admin::local_rules::{
    self, FIELD_KINDS, LocalRuleEdit, RuleBase, RuleEditor, RuleSummary,
};
use serde::Deserialize;

use super::{FormErrors, admin_layout, admin_nav, authority_of, unprocessable};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::pages::layout::{Flash, Layout, NavItem};
use crate::pages::{PageResult, render};
use crate::state::AppState;

/// Where a rule comes from, in words.
pub(crate) fn base_label(b: &RuleBase) -> &'static str {
    match b {
        RuleBase::Draft => "未公開の下書き",
        RuleBase::Published => "管理画面で公開したもの",
        RuleBase::File => "システムに組み込みの定義ファイル",
        RuleBase::None => "なし（標準様式のまま）",
    }
}

#[derive(Template)]
#[template(path = "pages/admin/local_rules.html")]
struct OverviewPage {
    layout: Layout,
    nav: Vec<NavItem>,
    authority_code: String,
    rules: Vec<RuleSummary>,
}

/// `GET /admin/local-rules`.
pub async fn overview(State(s): State<AppState>, SignedIn(session): SignedIn) -> PageResult {
    let code = authority_of(&session)?;
    let rules = local_rules::overview(&s.app, &session.actor, &code).await?;
    Ok(render(&OverviewPage {
        layout: admin_layout(&session, "独自ルール", "/admin/local-rules", vec![]),
        nav: admin_nav("/admin/local-rules"),
        authority_code: code,
        rules,
    }))
}

/// What a form of the editor sends; `op` says which (the fields of the others are absent).
#[derive(Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    op: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    required: String,
    #[serde(default)]
    help: String,
    /// Choices, one per line.
    #[serde(default)]
    options: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    deadline_label: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    form_number: String,
}

impl EditForm {
    fn to_edit(&self) -> Result<LocalRuleEdit, AppError> {
        let required = self.required == "1";
        Ok(match self.op.as_str() {
            "add_field" => LocalRuleEdit::AddField {
                label: self.label.clone(),
                kind: self.kind.clone(),
                required,
                help: self.help.clone(),
                options: vec![self.options.clone()],
            },
            "add_attachment" => LocalRuleEdit::AddAttachment {
                label: self.label.clone(),
                required,
                help: self.help.clone(),
            },
            "set_deadline" => LocalRuleEdit::SetDeadline {
                after: self.after.clone(),
                // Not a number: out of range, reported at the field.
                days: madoguchi_domain::kana::fold_full_width_ascii(self.days.trim())
                    .parse()
                    .unwrap_or(0),
                label: self.deadline_label.clone(),
            },
            "remove_deadline" => LocalRuleEdit::RemoveDeadline,
            "remove_item" => LocalRuleEdit::RemoveItem {
                id: self.id.clone(),
            },
            "set_summary" => LocalRuleEdit::SetSummary {
                summary: self.summary.clone(),
                form_number: self.form_number.clone(),
            },
            _ => {
                return Err(AppError::BadRequest {
                    code: "bad_request",
                    message: "どの変更かが分かりません。画面を開き直してください。".into(),
                });
            }
        })
    }
}

#[derive(Template)]
#[template(path = "pages/admin/local_rule_edit.html")]
struct EditorPage {
    layout: Layout,
    nav: Vec<NavItem>,
    e: RuleEditor,
    base_label: &'static str,
    kinds: Vec<(&'static str, &'static str)>,
    errors: FormErrors,
    /// The form sent back after an error (its values are kept).
    form: EditForm,
    has_draft: bool,
}

impl EditorPage {
    /// The value a control of the form `op` shows: what was sent, when that form came back
    /// with errors; else empty.
    fn v<'a>(&self, op: &str, sent: &'a str) -> &'a str {
        if self.form.op == op { sent } else { "" }
    }

    fn summary_value(&self) -> &str {
        if self.form.op == "set_summary" {
            &self.form.summary
        } else {
            &self.e.summary
        }
    }

    fn form_number_value(&self) -> &str {
        if self.form.op == "set_summary" {
            &self.form.form_number
        } else {
            self.e.form_number.as_deref().unwrap_or_default()
        }
    }
}

async fn editor_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    procedure: &str,
) -> Result<EditorPage, AppError> {
    let code = authority_of(session)?;
    let e = local_rules::editor(&s.app, &session.actor, &code, procedure).await?;
    let title = format!("独自ルール：{}", e.procedure_title);
    Ok(EditorPage {
        layout: admin_layout(
            session,
            &title,
            "/admin/local-rules",
            vec![
                NavItem::new(
                    format!("/admin/local-rules/{procedure}"),
                    &e.procedure_title,
                )
                .current(true),
            ],
        ),
        nav: admin_nav("/admin/local-rules"),
        base_label: base_label(&e.base),
        has_draft: e.base == RuleBase::Draft,
        e,
        kinds: FIELD_KINDS.iter().map(|(k, l)| (k.as_str(), *l)).collect(),
        errors: FormErrors::default(),
        form: EditForm {
            kind: "text".into(),
            ..EditForm::default()
        },
    })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn flash(done: Option<&str>) -> Option<Flash> {
    Some(match done? {
        "edited" => Flash::success(
            "下書きに反映しました。プレビューで確かめてから公開してください（公開するまで事業者には表示されません）。",
        ),
        "published" => Flash::success(
            "公開しました。これから作成・提出される届出に適用され、公開ページにも表示されます。",
        ),
        "discarded" => Flash::info("下書きを取り消しました。公開中の内容は変わりません。"),
        _ => return None,
    })
}

/// `GET /admin/local-rules/{procedure}`.
pub async fn editor(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(procedure): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let mut p = editor_page(&s, &session, &procedure).await?;
    p.layout.flash = flash(q.done.as_deref());
    Ok(render(&p))
}

/// `POST /admin/local-rules/{procedure}/edit`: one change to the draft.
pub async fn edit(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(procedure): Path<String>,
    Form(f): Form<EditForm>,
) -> PageResult {
    let code = authority_of(&session)?;
    let change = f.to_edit()?;
    match local_rules::edit(&s.app, &session.actor, &code, &procedure, &change).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/local-rules/{procedure}?done=edited")).into_response(),
        ),
        Err(e) => {
            let errors = FormErrors::from_core(&f.op, e)?;
            let mut p = editor_page(&s, &session, &procedure).await?;
            p.errors = errors;
            p.form = f;
            Ok(unprocessable(render(&p)))
        }
    }
}

/// The editor with a refusal (nothing to publish or discard) at the top.
async fn conflict(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    procedure: &str,
    e: CoreError,
) -> PageResult {
    match e {
        CoreError::Conflict(m) | CoreError::Forbidden(m) => {
            let mut p = editor_page(s, session, procedure).await?;
            p.layout.flash = Some(Flash::error(m));
            let mut r = render(&p);
            *r.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(r)
        }
        CoreError::Validation(v) => {
            let mut p = editor_page(s, session, procedure).await?;
            p.errors = FormErrors::from_fields("publish", v);
            Ok(unprocessable(render(&p)))
        }
        other => Err(other.into()),
    }
}

/// `POST /admin/local-rules/{procedure}/publish`.
pub async fn publish(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(procedure): Path<String>,
) -> PageResult {
    let code = authority_of(&session)?;
    match local_rules::publish(&s.app, &session.actor, &code, &procedure).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/admin/local-rules/{procedure}?done=published")).into_response(),
        ),
        Err(e) => conflict(&s, &session, &procedure, e).await,
    }
}

/// `POST /admin/local-rules/{procedure}/discard`.
pub async fn discard(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(procedure): Path<String>,
) -> PageResult {
    let code = authority_of(&session)?;
    match local_rules::discard(&s.app, &session.actor, &code, &procedure).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/admin/local-rules/{procedure}?done=discarded")).into_response(),
        ),
        Err(e) => conflict(&s, &session, &procedure, e).await,
    }
}
