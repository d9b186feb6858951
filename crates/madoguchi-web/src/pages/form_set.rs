//! The form set of a case: the standard form laid out as the 様式 is (title, 届出者 block,
//! 「○○長 殿」, date in 和暦, the answers in the form's order as a bordered table, the attached
//! documents), as a print view (`GET /cases/{id}/form`; the browser's 「PDF に保存」 gives the
//! form, `app.css` has its print rules) and as an .xlsx (`GET /cases/{id}/form.xlsx`, written
//! by `form_sheet_xlsx`). Both read `madoguchi_core::cases::form_set`, which applies the case's
//! access rules for either party and never carries internal notes.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use madoguchi_core::cases::form_set::{self, FormSet};
use madoguchi_domain::registry::RegistrySnapshot;

use super::form::review;
use super::layout::{Layout, NavItem};
use super::{PageResult, layout_for, render};
use crate::auth::SignedIn;
use crate::state::AppState;

/// The standard form of one case, laid out (shared by the print view and the .xlsx).
pub struct FormSheet {
    pub title: String,
    pub form_number: String,
    /// 「令和8年11月20日」.
    pub date: String,
    /// 「新宿区長」 (the sheet adds 「殿」).
    pub addressee: String,
    /// 「次のとおり届け出ます。」.
    pub statement: String,
    /// The 届出者 block: (label, value).
    pub filer: Vec<(String, String)>,
    pub sections: Vec<SheetSection>,
    /// (document, file name).
    pub attachments: Vec<(String, String)>,
    pub reference: String,
    pub version_no: i64,
    pub authority_name: String,
}

pub struct SheetSection {
    pub title: String,
    pub rows: Vec<SheetRow>,
}

/// A row of the form's table: an answer, or the heading of one item of a repeating group.
pub struct SheetRow {
    pub label: String,
    pub value: String,
    /// The heading of an item (「協力医療機関 1」); its answers follow.
    pub item: bool,
}

impl FormSheet {
    pub fn of(set: &FormSet) -> FormSheet {
        // First the establishments concerned, as the standard forms open.
        let many = set.concerned.len() > 1;
        let mut concerned = Vec::new();
        for e in &set.concerned {
            if many {
                concerned.push(SheetRow {
                    label: e.name.clone(),
                    value: String::new(),
                    item: true,
                });
            }
            let mut rows = vec![
                ("介護保険事業所番号", e.office_number.clone()),
                ("事業所（施設）の名称", e.name.clone()),
                ("所在地", e.address.clone()),
            ];
            if !e.services.is_empty() {
                rows.push(("サービスの種類", e.services.join("、")));
            }
            concerned.extend(rows.into_iter().map(|(label, value)| SheetRow {
                label: label.to_string(),
                value,
                item: false,
            }));
        }
        let mut sections = vec![SheetSection {
            title: set.concerned_title().to_string(),
            rows: concerned,
        }];
        // Then the answers as filed: no registry comparison.
        let answers = review(
            &set.definition,
            &set.data,
            &set.establishments,
            &RegistrySnapshot::default(),
        )
        .into_iter()
        .map(|sec| {
            let mut rows: Vec<SheetRow> = sec
                .rows
                .into_iter()
                .map(|r| SheetRow {
                    label: r.label,
                    value: r.value,
                    item: false,
                })
                .collect();
            if let Some(rep) = sec.repeat {
                if rep.items.is_empty() {
                    rows.push(SheetRow {
                        label: rep.item_label.clone(),
                        value: "（なし）".into(),
                        item: false,
                    });
                }
                for item in rep.items {
                    rows.push(SheetRow {
                        label: item.title,
                        value: String::new(),
                        item: true,
                    });
                    rows.extend(item.cells.into_iter().map(|c| SheetRow {
                        label: c.label,
                        value: c.value,
                        item: false,
                    }));
                }
            }
            SheetSection {
                title: sec.title,
                rows,
            }
        });
        sections.extend(answers);
        let mut filer = vec![
            (
                "主たる事務所の所在地".to_string(),
                set.corporation_address.clone(),
            ),
            ("名称".to_string(), set.corporation_name.clone()),
            ("代表者の職・氏名".to_string(), set.representative.clone()),
        ];
        if let Some(n) = &set.corporate_number {
            filer.push(("法人番号".to_string(), n.clone()));
        }
        FormSheet {
            title: set.procedure_title.clone(),
            form_number: set.form_number.clone(),
            date: set.date_wareki(),
            addressee: set.addressee.clone(),
            statement: set.statement().to_string(),
            filer,
            sections,
            attachments: set
                .attachments
                .iter()
                .map(|a| (a.label.clone(), a.filename.clone()))
                .collect(),
            reference: set.reference.clone(),
            version_no: set.version_no,
            authority_name: set.authority_name.clone(),
        }
    }

    /// The download's file name: 「<到達番号>_<様式の名前>.xlsx」.
    pub fn xlsx_filename(&self) -> String {
        format!("{}_{}.xlsx", self.reference, self.title)
    }
}

#[derive(Template)]
#[template(path = "pages/form_sheet.html")]
struct FormSheetPage {
    layout: Layout,
    sheet: FormSheet,
    case_id: String,
    /// Where the page was reached from (the filing or the case).
    back_href: String,
    back_label: String,
}

/// `GET /cases/{id}/form`: the print view.
pub async fn show(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    let set = form_set::get(&s.app, &session.actor, &id).await?;
    let sheet = FormSheet::of(&set);
    let provider = session.actor.corporation_id().is_some();
    let (section, back_href, back_label) = if provider {
        (
            "/filings",
            format!("/filings/{}", set.filing_id),
            set.procedure_title.clone(),
        )
    } else {
        (
            "/inbox",
            format!("/cases/{}", set.case_id),
            set.reference.clone(),
        )
    };
    let title = format!(
        "{}の様式（{}あて）",
        set.procedure_title, set.authority_name
    );
    let mut layout = layout_for(&session, &title, section);
    layout.breadcrumbs = vec![
        if provider {
            NavItem::new("/filings", "届出・申請の一覧")
        } else {
            NavItem::new("/inbox", "受付箱")
        },
        NavItem::new(back_href.clone(), back_label.clone()),
        NavItem::new("", "様式（印刷・PDF）").current(true),
    ];
    Ok(render(&FormSheetPage {
        layout,
        sheet,
        case_id: set.case_id,
        back_href,
        back_label,
    }))
}

/// `GET /cases/{id}/form.xlsx`: the same form as a spreadsheet.
pub async fn xlsx(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    let set = form_set::get(&s.app, &session.actor, &id).await?;
    let sheet = FormSheet::of(&set);
    let bytes = super::form_sheet_xlsx::write(&sheet)?;
    let mut response = crate::api::file_response(&sheet.xlsx_filename(), bytes);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(super::form_sheet_xlsx::CONTENT_TYPE),
    );
    Ok(response)
}
