//! The form set of one case: what the print view and the .xlsx of the standard form are made
//! of — the answers of the version the authority holds, the definition with that authority's
//! local rules (in the standard form's order), the filer (corporation and representative), the
//! addressee (「新宿区長」), the date, and the attached documents.
//!
//! Both parties of a case may read it: the filing corporation's provider staff and the
//! addressed authority's staff; for anyone else the case is `NotFound`, as in the case view.
//! It is assembled from the version and the registry only — never from the case's history —
//! so an internal note (内部メモ) cannot reach a provider through it.

use chrono::{DateTime, NaiveDate, Utc};
use madoguchi_db::{DbError, attachments, cases, filings, registry};
use madoguchi_domain::authority::AuthorityKind;
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition, ProcedureKind};

use crate::clock::jst;
use crate::filings::view::EstablishmentRef;
use crate::{Actor, App, CoreError, CoreResult, Role};

/// The standard form of one case, ready to lay out.
#[derive(Clone, Debug)]
pub struct FormSet {
    pub case_id: String,
    pub filing_id: String,
    /// 到達番号.
    pub reference: String,
    pub version_no: i64,
    pub procedure_title: String,
    /// This authority's form number (its own when its local rules set one).
    pub form_number: String,
    pub kind: ProcedureKind,
    pub authority_name: String,
    /// The addressee without 「殿」: 「新宿区長」, 「東京都知事」.
    pub addressee: String,
    /// The day this version was submitted (JST).
    pub submitted_on: NaiveDate,
    pub corporation_name: String,
    pub corporate_number: Option<String>,
    /// 主たる事務所の所在地, from the registry.
    pub corporation_address: String,
    /// 「理事長　山田　太郎」, from the registry.
    pub representative: String,
    /// The establishments the version's answers are about (per-establishment sections).
    pub establishments: Vec<EstablishmentRef>,
    /// The establishments this authority's case concerns, with the services it designated
    /// (for a 指定申請, the establishments applied for, without services yet).
    pub concerned: Vec<FormEstablishment>,
    /// The procedure's definition with this authority's local rules.
    pub definition: ProcedureDefinition,
    /// The answers of the version the authority holds.
    pub data: FilingData,
    pub attachments: Vec<FormAttachment>,
}

/// An establishment as the form's 「届出に係る事業所」 lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormEstablishment {
    /// 介護保険事業所番号.
    pub office_number: String,
    pub name: String,
    pub address: String,
    /// 「通所介護（15）」…, the services of this authority's designations.
    pub services: Vec<String>,
}

/// One attached document as the form lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormAttachment {
    pub requirement_id: String,
    /// The requirement's name (「勤務形態一覧表」).
    pub label: String,
    pub filename: String,
}

impl FormSet {
    /// The heading of the establishments concerned: 「届出に係る事業所（施設）」….
    pub fn concerned_title(&self) -> &'static str {
        match self.kind {
            ProcedureKind::Application => "申請に係る事業所（施設）",
            ProcedureKind::Notification => "届出に係る事業所（施設）",
            ProcedureKind::Report => "報告に係る事業所（施設）",
        }
    }

    /// The sentence before the answers: 届出 「…届け出ます。」, 申請 「…申請します。」.
    pub fn statement(&self) -> &'static str {
        match self.kind {
            ProcedureKind::Application => "次のとおり申請します。",
            ProcedureKind::Notification => "次のとおり届け出ます。",
            ProcedureKind::Report => "次のとおり報告します。",
        }
    }

    /// The date in 和暦 as forms write it: 「令和8年11月20日」.
    pub fn date_wareki(&self) -> String {
        madoguchi_domain::wareki::to_wareki(self.submitted_on)
            .map(|w| w.to_string())
            .unwrap_or_else(|| self.submitted_on.format("%Y年%-m月%-d日").to_string())
    }
}

/// The form set of a case the actor is a party to.
pub async fn get(app: &App, actor: &Actor, case_id: &str) -> CoreResult<FormSet> {
    let mut tx = app.db.begin_read().await?;
    let c = match cases::get_case(&mut tx, case_id).await {
        Ok(c) => c,
        Err(DbError::NotFound) => return Err(CoreError::NotFound),
        Err(e) => return Err(e.into()),
    };
    match actor.role {
        Role::Provider { .. } | Role::Reviewer { .. } | Role::AuthorityAdmin { .. } => {
            crate::policy::may_read_case_form(actor, &c.authority_code, &c.corporation_id)?
        }
        Role::Operator => return Err(CoreError::NotFound),
    }
    let f = filings::get_filing(&mut tx, &c.filing_id).await?;
    let def = crate::filings::definition_of(app, &f)?;
    let version = filings::get_version(&mut tx, &c.current_version_id).await?;
    let corp = registry::get_corporation(&mut tx, &c.corporation_id).await?;
    let authority = registry::get_authority(&mut tx, &c.authority_code).await?;
    let est_ids: Vec<String> = serde_json::from_str(&version.establishments)?;
    let mut establishments = Vec::with_capacity(est_ids.len());
    for id in &est_ids {
        let e = registry::get_establishment(&mut tx, id).await?;
        establishments.push(EstablishmentRef {
            id: e.id,
            office_number: e.office_number,
            name: e.name,
        });
    }
    let mut concerned: Vec<FormEstablishment> = Vec::new();
    let mut concerned_ids: Vec<String> = Vec::new();
    for d in cases::case_designations(&mut tx, case_id).await? {
        let service = madoguchi_domain::ids::find_service_type(&d.service_code)
            .map(|t| format!("{}（{}）", t.name, d.service_code))
            .unwrap_or_else(|| d.service_code.clone());
        match concerned_ids.iter().position(|e| *e == d.establishment_id) {
            Some(i) => concerned[i].services.push(service),
            None => {
                let e = registry::get_establishment(&mut tx, &d.establishment_id).await?;
                concerned_ids.push(d.establishment_id.clone());
                concerned.push(FormEstablishment {
                    office_number: e.office_number,
                    name: e.name,
                    address: profile_text(&e.profile, "address"),
                    services: vec![service],
                });
            }
        }
    }
    if concerned.is_empty() {
        for id in &est_ids {
            let e = registry::get_establishment(&mut tx, id).await?;
            concerned.push(FormEstablishment {
                office_number: e.office_number,
                name: e.name,
                address: profile_text(&e.profile, "address"),
                services: Vec::new(),
            });
        }
    }
    let rules = app
        .catalog
        .local_rules_for(&def.id, std::slice::from_ref(&c.authority_code));
    let own = def.with_local_rules(&rules, &|_| Some(authority.name.clone()));
    let refs: Vec<serde_json::Value> = serde_json::from_str(&version.attachments)?;
    let mut files = Vec::new();
    for r in refs {
        let (Some(aid), Some(req)) = (r["attachment_id"].as_str(), r["requirement_id"].as_str())
        else {
            continue;
        };
        let a = attachments::get_attachment(&mut tx, aid).await?;
        files.push(FormAttachment {
            requirement_id: req.to_string(),
            label: own
                .attachments
                .iter()
                .find(|x| x.id == req)
                .map(|x| x.label.clone())
                .unwrap_or_else(|| req.to_string()),
            filename: a.filename,
        });
    }
    tx.commit().await?;
    // Keep the form's order of documents.
    files.sort_by_key(|a| {
        own.attachments
            .iter()
            .position(|x| x.id == a.requirement_id)
            .unwrap_or(usize::MAX)
    });
    let text = |key: &str| profile_text(&corp.profile, key);
    let representative = [text("representative_title"), text("representative_name")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("　");
    let addressee = AuthorityKind::parse(&authority.kind)
        .unwrap_or(AuthorityKind::Municipality)
        .head_title(&authority.name);
    let submitted_on = DateTime::<Utc>::from_timestamp_millis(version.created_at)
        .map(|t| t.with_timezone(&jst()).date_naive())
        .ok_or_else(|| CoreError::Internal("version time out of range".into()))?;
    Ok(FormSet {
        case_id: c.id,
        filing_id: c.filing_id,
        reference: c.reference,
        version_no: version.version_no,
        procedure_title: own.title.clone(),
        form_number: own.form_number.clone(),
        kind: own.kind,
        authority_name: authority.name,
        addressee,
        submitted_on,
        corporation_name: corp.name,
        corporate_number: corp.corporate_number,
        corporation_address: text("address"),
        representative,
        establishments,
        concerned,
        data: serde_json::from_str(&version.data)?,
        definition: own,
        attachments: files,
    })
}

/// A text value of a stored registry profile (empty when absent or unreadable).
fn profile_text(profile: &str, key: &str) -> String {
    registry::parse_profile(profile)
        .ok()
        .and_then(|p| p.get(key).and_then(|v| v.as_str()).map(str::to_string))
        .unwrap_or_default()
}
