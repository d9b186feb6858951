//! マイページ (「法人・事業所」): the corporation and its establishments as the registry holds
//! them, with each designation's validity; and the change form — enter a new 管理者, 代表者,
//! 主たる事務所 … once, and get every 変更届 it calls for as drafts (`filings::change_once`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::filings::batch::{self, BatchSummary};
use madoguchi_core::filings::change_once::{self, ChangeRequest};
use madoguchi_core::filings::view::{EstablishmentRef, Problem};
use madoguchi_core::registry::organisation::{self, DesignationCard, RegistryValueView};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};
use madoguchi_domain::registry::RegistryScope;
use serde::Deserialize;
use serde_json::Value;

use super::form::{SectionView, parse_pairs, sections};
use super::form_view::ErrorSummaryItem;
use super::layout::{Flash, Layout, NavItem};
use super::{PageError, PageResult, check_csrf, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

/// Values shown together: those one 変更届 item changes, or the rest.
struct ValueGroup {
    /// Id of its heading.
    anchor: String,
    title: String,
    values: Vec<RegistryValueView>,
    /// Where to change them (`None`: no 変更届 carries them).
    change_href: Option<String>,
}

struct EstablishmentBlock {
    id: String,
    name: String,
    office_number: String,
    municipality_name: String,
    designations: Vec<DesignationCard>,
    groups: Vec<ValueGroup>,
}

#[derive(Template)]
#[template(path = "pages/my.html")]
struct MyPage {
    layout: Layout,
    corporate_number: Option<String>,
    corporation_name: String,
    corporation_groups: Vec<ValueGroup>,
    establishments: Vec<EstablishmentBlock>,
    /// Designations ending within 3 months (or ended): (establishment, service, until).
    expiring: Vec<(String, String, String, String)>,
    batches: Vec<BatchSummary>,
}

fn groups(
    prefix: &str,
    values: &[RegistryValueView],
    items: &[madoguchi_core::registry::organisation::ChangeItemView],
    href: &dyn Fn(&str) -> String,
) -> Vec<ValueGroup> {
    let mut out: Vec<ValueGroup> = items
        .iter()
        .map(|i| ValueGroup {
            anchor: format!("{prefix}-{}", i.value),
            title: i.label.clone(),
            values: values
                .iter()
                .filter(|v| v.change_item.as_deref() == Some(i.value.as_str()))
                .cloned()
                .collect(),
            change_href: Some(href(&i.value)),
        })
        .filter(|g| !g.values.is_empty())
        .collect();
    let rest: Vec<RegistryValueView> = values
        .iter()
        .filter(|v| v.change_item.is_none())
        .cloned()
        .collect();
    if !rest.is_empty() {
        out.insert(
            0,
            ValueGroup {
                anchor: format!("{prefix}-basic"),
                title: "基本情報".into(),
                values: rest,
                change_href: None,
            },
        );
    }
    out
}

/// `GET /my`.
pub async fn show(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let org = organisation::organisation(&s.app, &session.actor).await?;
    let batches = batch::list(&s.app, &session.actor, batch::KIND_CHANGE).await?;
    let corporation_groups = groups(
        "corp",
        &org.corporation.values,
        &org.corporation.change_items,
        &|item| format!("/my/changes/new?item={item}"),
    );
    let mut expiring = Vec::new();
    let establishments = org
        .establishments
        .into_iter()
        .map(|e| {
            for d in e.designations.iter().filter(|d| d.status != "valid") {
                expiring.push((
                    e.name.clone(),
                    d.service_name.clone(),
                    d.valid_until_ja.clone(),
                    d.status.clone(),
                ));
            }
            let id = e.id.clone();
            EstablishmentBlock {
                groups: groups(&format!("est-{id}"), &e.values, &e.change_items, &|item| {
                    format!("/my/changes/new?item={item}&establishment={id}")
                }),
                id: e.id,
                name: e.name,
                office_number: e.office_number,
                municipality_name: e.municipality_name,
                designations: e.designations,
            }
        })
        .collect();
    let mut layout = layout_for(&session, "法人・事業所の情報", "/my");
    layout.flash = flash(q.done.as_deref());
    Ok(render(&MyPage {
        layout,
        corporate_number: org.corporation.corporate_number,
        corporation_name: org.corporation.name,
        corporation_groups,
        establishments,
        expiring,
        batches,
    }))
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

#[derive(Deserialize)]
pub struct ChangeQuery {
    #[serde(default)]
    item: String,
    #[serde(default)]
    establishment: Option<String>,
}

/// Another establishment the same change can be applied to.
struct OtherEstablishment {
    id: String,
    name: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "pages/my_change.html")]
struct ChangePage {
    layout: Layout,
    item: String,
    item_label: String,
    /// The establishment changed (`None`: the corporation).
    establishment: Option<EstablishmentRef>,
    sections: Vec<SectionView>,
    others: Vec<OtherEstablishment>,
    /// Authorities the 変更届 will go to, as the designations stand.
    authorities: Vec<String>,
    errors: Vec<ErrorSummaryItem>,
    corporation_wide: bool,
}

/// What the change form needs: the item, its groups as a form, who it concerns.
struct ChangeContext {
    def: ProcedureDefinition,
    item: change_once::ChangeItem,
    establishment: Option<EstablishmentRef>,
    /// The form: the item's groups (always shown), then 変更年月日 and 変更の理由.
    form: ProcedureDefinition,
    org: madoguchi_core::registry::organisation::OrganisationView,
}

async fn context(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    item: &str,
    establishment: Option<&str>,
) -> Result<ChangeContext, PageError> {
    let def = change_once::definition(&s.app)?.clone();
    let org = organisation::organisation(&s.app, &session.actor).await?;
    let Some(item) = change_once::change_items(&def)
        .into_iter()
        .find(|i| i.value == item)
    else {
        return Err(PageError(AppError::NotFound));
    };
    let establishment = match (item.scope, establishment) {
        (RegistryScope::Corporation, _) => None,
        (RegistryScope::Establishment, Some(id)) => {
            let e = org
                .establishments
                .iter()
                .find(|e| e.id == id)
                .ok_or(PageError(AppError::NotFound))?;
            Some(EstablishmentRef {
                id: e.id.clone(),
                office_number: e.office_number.clone(),
                name: e.name.clone(),
            })
        }
        (RegistryScope::Establishment, None) => return Err(PageError(AppError::NotFound)),
    };
    let mut form = def.clone();
    let revealed = def
        .revealed_by(change_once::ITEMS_FIELD)
        .into_iter()
        .find(|r| r.choice.value == item.value)
        .map(|r| r.groups.into_iter().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let mut groups: Vec<_> = revealed
        .into_iter()
        .map(|mut g| {
            g.visible_when = None;
            g
        })
        .collect();
    if let Some((common, _)) = def.field(change_once::DATE_FIELD) {
        let mut common = common.clone();
        common.title = "変更の日付と理由".into();
        common.description = String::new();
        common
            .fields
            .retain(|f| f.id == change_once::DATE_FIELD || f.id == change_once::REASON_FIELD);
        common.rules.clear();
        groups.push(common);
    }
    form.groups = groups;
    form.attachments.clear();
    form.rules.clear();
    Ok(ChangeContext {
        def,
        item,
        establishment,
        form,
        org,
    })
}

impl ChangeContext {
    fn ids(&self) -> Vec<String> {
        self.establishment.iter().map(|e| e.id.clone()).collect()
    }

    /// The form's starting answers: the registry's current values.
    fn current(&self, registry: &madoguchi_domain::registry::RegistrySnapshot) -> FilingData {
        let mut data = FilingData::default();
        self.form.prefill(&mut data, registry, &self.ids());
        data
    }

    fn authorities(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for e in &self.org.establishments {
            let concerned = match &self.establishment {
                Some(x) => x.id == e.id,
                None => true,
            };
            if !concerned {
                continue;
            }
            for d in &e.designations {
                if !names.contains(&d.authority_name) {
                    names.push(d.authority_name.clone());
                }
            }
        }
        names
    }

    async fn page(
        &self,
        s: &AppState,
        session: &madoguchi_core::auth::Session,
        data: &FilingData,
        problems: &[Problem],
        also: &[String],
    ) -> Result<ChangePage, PageError> {
        let corp = session.actor.require_provider()?;
        let registry = madoguchi_core::registry::view::snapshot_for(&s.app, corp).await?;
        let ests: Vec<EstablishmentRef> = self.establishment.iter().cloned().collect();
        let secs = sections(&self.form, data, &ests, problems, &registry);
        let errors = problems
            .iter()
            .map(|p| ErrorSummaryItem {
                field_id: if p.field.starts_with("fields.")
                    || p.field.starts_with("establishments.")
                {
                    super::form_view::FieldView::id_for(&p.field)
                } else if p.field.starts_with("also") {
                    "also".into()
                } else {
                    "section-1".into()
                },
                message: p.message.clone(),
            })
            .collect();
        let others = match &self.establishment {
            Some(mine) => self
                .org
                .establishments
                .iter()
                .filter(|e| e.id != mine.id && !e.designations.is_empty())
                .map(|e| OtherEstablishment {
                    checked: also.contains(&e.id),
                    id: e.id.clone(),
                    name: e.name.clone(),
                })
                .collect(),
            None => Vec::new(),
        };
        let title = match &self.establishment {
            Some(e) => format!("{}の変更（{}）", short(&self.item.label), e.name),
            None => format!("{}の変更", short(&self.item.label)),
        };
        let mut layout = layout_for(session, &title, "/my");
        layout.breadcrumbs = vec![
            NavItem::new("/my", "法人・事業所の情報"),
            NavItem::new("", title.clone()).current(true),
        ];
        Ok(ChangePage {
            layout,
            item: self.item.value.clone(),
            item_label: self.item.label.clone(),
            establishment: self.establishment.clone(),
            sections: secs,
            others,
            authorities: self.authorities(),
            errors,
            corporation_wide: self
                .def
                .fanout
                .corporation_wide_when
                .as_ref()
                .is_some_and(|c| {
                    let mut d = FilingData::default();
                    d.fields.insert(
                        change_once::ITEMS_FIELD.into(),
                        Value::Array(vec![self.item.value.clone().into()]),
                    );
                    self.def.condition_holds(c, &d)
                }),
        })
    }
}

/// 「代表者の氏名、生年月日、住所及び職名」 → 「代表者」: the subject of an item, for titles.
fn short(label: &str) -> String {
    label
        .split(['の', '（', '、'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(label)
        .to_string()
}

/// One thing that can be changed, as a link of the chooser.
struct ChoiceLink {
    href: String,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/my_change_choose.html")]
struct ChoosePage {
    layout: Layout,
    corporation: Vec<ChoiceLink>,
    establishments: Vec<(String, Vec<ChoiceLink>)>,
}

/// The chooser shown when the change form is opened without a (known) item: every item of
/// the corporation and of each establishment, as links.
async fn choose_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
) -> Result<ChoosePage, PageError> {
    let org = organisation::organisation(&s.app, &session.actor).await?;
    let corporation = org
        .corporation
        .change_items
        .iter()
        .map(|i| ChoiceLink {
            href: format!("/my/changes/new?item={}", i.value),
            label: i.label.clone(),
        })
        .collect();
    let establishments = org
        .establishments
        .iter()
        .map(|e| {
            let links = e
                .change_items
                .iter()
                .map(|i| ChoiceLink {
                    href: format!("/my/changes/new?item={}&establishment={}", i.value, e.id),
                    label: i.label.clone(),
                })
                .collect();
            (e.name.clone(), links)
        })
        .collect();
    let mut layout = layout_for(session, "変更する事項を選ぶ", "/my");
    layout.breadcrumbs = vec![
        NavItem::new("/my", "法人・事業所の情報"),
        NavItem::new("", "変更する事項を選ぶ").current(true),
    ];
    Ok(ChoosePage {
        layout,
        corporation,
        establishments,
    })
}

/// `GET /my/changes/new?item=…&establishment=…`: the new values of one 変更届 item (without
/// a known item, the list of what can be changed).
pub async fn change_form(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<ChangeQuery>,
) -> PageResult {
    let def = change_once::definition(&s.app)?;
    let known = change_once::change_items(def)
        .into_iter()
        .find(|i| i.value == q.item);
    let complete = match known.map(|i| i.scope) {
        Some(RegistryScope::Corporation) => true,
        Some(RegistryScope::Establishment) => q.establishment.is_some(),
        None => false,
    };
    if !complete {
        session.actor.require_provider()?;
        return Ok(render(&choose_page(&s, &session).await?));
    }
    let ctx = context(&s, &session, &q.item, q.establishment.as_deref()).await?;
    let corp = session.actor.require_provider()?;
    let registry = madoguchi_core::registry::view::snapshot_for(&s.app, corp).await?;
    let data = ctx.current(&registry);
    Ok(render(&ctx.page(&s, &session, &data, &[], &[]).await?))
}

/// `POST /my/changes`: prepares the 変更届 drafts and opens their review page.
pub async fn prepare_change(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    check_csrf(&session, get("csrf_token"))?;
    let establishment = Some(get("establishment")).filter(|e| !e.is_empty());
    let ctx = context(&s, &session, get("item"), establishment).await?;
    let also: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "also")
        .map(|(_, v)| v.clone())
        .collect();
    let corp = session.actor.require_provider()?;
    let registry = madoguchi_core::registry::view::snapshot_for(&s.app, corp).await?;
    let current = ctx.current(&registry);
    let ids = ctx.ids();
    let data = parse_pairs(&ctx.form, &pairs, &current, &ids);
    let req = request_from(&ctx, &data, &registry, &also);
    match change_once::prepare(&s.app, &session.actor, req).await {
        Ok(batch_id) => {
            Ok(Redirect::to(&format!("/batches/{batch_id}?done=prepared")).into_response())
        }
        Err(CoreError::Validation(errs)) => {
            let problems: Vec<Problem> = errs
                .into_iter()
                .map(|e| Problem {
                    field: change_once::form_path(&ctx.def, &e.field),
                    code: e.code,
                    message: e.message,
                })
                .collect();
            let mut r = render(&ctx.page(&s, &session, &data, &problems, &also).await?);
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// The change as the use case takes it: each value the form writes to the registry (blank
/// ones included, so they are reported), the other answers as details; for the other
/// establishments chosen, the values that differ from this establishment's registry record.
fn request_from(
    ctx: &ChangeContext,
    data: &FilingData,
    registry: &madoguchi_domain::registry::RegistrySnapshot,
    also: &[String],
) -> ChangeRequest {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let mut req = ChangeRequest {
        change_date: text(data.fields.get(change_once::DATE_FIELD)),
        reason: text(data.fields.get(change_once::REASON_FIELD)),
        ..Default::default()
    };
    let est = ctx.establishment.as_ref().map(|e| e.id.as_str());
    for group in ctx.form.groups.iter().filter(|g| {
        !g.fields
            .iter()
            .any(|f| f.id == change_once::DATE_FIELD || f.id == change_once::REASON_FIELD)
    }) {
        for f in group.fields.iter().filter(|f| f.compute.is_none()) {
            let value = match est {
                Some(e) => data.establishments.get(e).and_then(|r| r.get(&f.id)),
                None => data.fields.get(&f.id),
            }
            .cloned()
            .unwrap_or(Value::String(String::new()));
            match (&f.effect, est) {
                (Some(key), None) => {
                    req.corporation.insert(key.key.clone(), value);
                }
                (Some(key), Some(e)) => {
                    let before = registry.get(key, Some(e));
                    let changed = before != Some(&value);
                    req.establishments
                        .entry(e.to_string())
                        .or_default()
                        .insert(key.key.clone(), value.clone());
                    if changed {
                        for other in also.iter().filter(|o| o.as_str() != e) {
                            req.establishments
                                .entry(other.clone())
                                .or_default()
                                .insert(key.key.clone(), value.clone());
                        }
                    }
                }
                (None, None) => {
                    req.details.fields.insert(f.id.clone(), value);
                }
                (None, Some(e)) => {
                    for target in std::iter::once(e).chain(also.iter().map(String::as_str)) {
                        req.details
                            .establishments
                            .entry(target.to_string())
                            .or_default()
                            .insert(f.id.clone(), value.clone());
                    }
                }
            }
        }
    }
    req
}

/// Flash messages of the provider portal pages (part A), then the shared ones.
pub(crate) fn flash(key: Option<&str>) -> Option<Flash> {
    match key? {
        "prepared" => Some(Flash::success(
            "変更届の下書きを作成しました。届出先ごとの提出期限と必要な書類を確認し、書類を添付してから「すべて提出する」を押してください。登録情報は、自治体が受け付けたときに更新されます。",
        )),
        "bulk_created" => Some(Flash::success(
            "事業所ごとの下書きを作成しました。共通の回答と事業所ごとの回答を入力してください。",
        )),
        "answers_saved" => Some(Flash::success("回答を保存しました。")),
        "annex_copied" => Some(Flash::success(
            "付表を写しました。写した項目には「…から写し」と表示しています。内容をご確認ください。",
        )),
        "file_removed" => Some(Flash::info(
            "ファイルを外しました（登録済みのファイルは、ほかの届出で引き続き選べます）。",
        )),
        other => super::flash_for(Some(other)),
    }
}
