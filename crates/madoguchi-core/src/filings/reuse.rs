//! Copying a 付表 (annex) from another establishment's filing: the provider applying for the
//! same service at a second establishment starts from the answers it gave for the first
//! (営業日・営業時間, 従業者, 設備 …) instead of typing them again.

use madoguchi_db::batches::{self, PrefillSourceRow};
use madoguchi_db::{DbError, filings};
use madoguchi_domain::procedure::FilingData;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{definition_of, load_own, parse_data};
use crate::{Actor, App, CoreError, CoreResult};

/// A 付表 that can be copied: another filing of the corporation, one establishment it covers,
/// and the services whose 付表 it has answers for.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AnnexSource {
    pub filing_id: String,
    pub establishment_id: String,
    pub establishment_name: String,
    /// `draft`, `submitted`.
    pub status: String,
    pub reference: Option<String>,
    pub services: Vec<AnnexService>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AnnexService {
    pub code: String,
    pub name: String,
}

/// The 付表 of the corporation's other filings of the same procedure (for other
/// establishments) that this filing could copy. Empty when its procedure has no 付表.
pub async fn annex_sources(
    app: &App,
    actor: &Actor,
    filing_id: &str,
) -> CoreResult<Vec<AnnexSource>> {
    let mut tx = app.db.begin_read().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    let def = definition_of(app, &f)?;
    if def.annexes.is_none() {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    let mine = filings::filing_establishments(&mut tx, filing_id).await?;
    let rows = batches::filings_covering(&mut tx, &f.corporation_id, &f.procedure_id, 200).await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for r in rows {
        if r.filing_id == filing_id || mine.contains(&r.establishment_id) {
            continue;
        }
        let Ok(data) = serde_json::from_str::<FilingData>(&r.data) else {
            continue;
        };
        let services: Vec<AnnexService> = def
            .answered_annexes(&data, &r.establishment_id)
            .into_iter()
            .map(|code| AnnexService {
                name: madoguchi_domain::ids::find_service_type(&code)
                    .map(|s| s.name.to_string())
                    .unwrap_or_else(|| code.clone()),
                code,
            })
            .collect();
        if services.is_empty() {
            continue;
        }
        out.push(AnnexSource {
            filing_id: r.filing_id,
            establishment_id: r.establishment_id,
            establishment_name: r.establishment_name,
            status: r.status,
            reference: r.reference,
            services,
        });
    }
    Ok(out)
}

/// Which 付表 to copy, and from where.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct CopyAnnex {
    /// The filing to copy from (one of the corporation's, any status but withdrawn).
    pub source_filing_id: String,
    /// The establishment of that filing whose 付表 is copied.
    pub source_establishment_id: String,
    /// サービス種類コード of the 付表 (e.g. `15`).
    pub service_type: String,
    /// The `lock_version` of this filing as last read.
    #[serde(default)]
    pub lock_version: Option<i64>,
}

/// Copies another establishment's 付表 into this filing (its establishment), replacing what
/// that 付表 had, and selects the service. Returns the paths of the answers copied.
pub async fn copy_annex(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    req: CopyAnnex,
) -> CoreResult<Vec<String>> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    let def = definition_of(app, &f)?;
    if def.annex_groups(&req.service_type).is_empty() {
        return Err(CoreError::field(
            "service_type",
            "unknown_annex",
            "この手続には、選んだサービスの付表がありません。",
        ));
    }
    let not_found = || {
        CoreError::field(
            "source_filing_id",
            "unknown_source",
            "写しもとの届出が見つかりません。一覧から選んでください。",
        )
    };
    let source = match filings::get_filing(&mut tx, &req.source_filing_id).await {
        Ok(s) => s,
        Err(DbError::NotFound) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if crate::policy::may_access_filing(actor, &source.corporation_id).is_err()
        || source.status == "withdrawn"
    {
        return Err(not_found());
    }
    let source_ests = filings::filing_establishments(&mut tx, &source.id).await?;
    if !source_ests.contains(&req.source_establishment_id) {
        return Err(not_found());
    }
    let targets = filings::filing_establishments(&mut tx, filing_id).await?;
    let Some(target) = targets.first().cloned() else {
        return Err(CoreError::field(
            "establishment_ids",
            "too_few",
            "この届出には対象の事業所がありません。",
        ));
    };
    if targets.contains(&req.source_establishment_id) {
        return Err(CoreError::field(
            "source_establishment_id",
            "same_establishment",
            "同じ事業所の付表は写せません。ほかの事業所の付表を選んでください。",
        ));
    }
    let mut data = parse_data(&f.data)?;
    let from = parse_data(&source.data)?;
    let snapshot = crate::registry::snapshot(&mut tx, &f.corporation_id).await?;
    let written = def.copy_annex(
        &mut data,
        &target,
        &from,
        &req.source_establishment_id,
        &req.service_type,
        &snapshot,
    );
    if written.is_empty() {
        return Err(CoreError::field(
            "service_type",
            "nothing_to_copy",
            "写しもとの届出には、このサービスの付表の入力がありません。",
        ));
    }
    let source_name =
        madoguchi_db::registry::get_establishment(&mut tx, &req.source_establishment_id)
            .await?
            .name;
    let label = match &source.reference {
        Some(r) => format!("{source_name}の届出（到達番号 {r}）の付表から写し"),
        None => format!("{source_name}の下書きの付表から写し"),
    };
    let lock = req.lock_version.or(Some(f.lock_version));
    super::update::update_in(app, &mut tx, actor, filing_id, data, lock, now).await?;
    // Record the sources against the answers as stored (normalised).
    let stored = parse_data(&filings::get_filing(&mut tx, filing_id).await?.data)?;
    let rows: Vec<PrefillSourceRow> = written
        .iter()
        .filter_map(|path| {
            Some(PrefillSourceRow {
                path: path.clone(),
                source: "annex".into(),
                source_ref: source.id.clone(),
                label: label.clone(),
                value: super::answer_at(&stored, path)?.to_string(),
            })
        })
        .collect();
    batches::put_prefill_sources(&mut tx, filing_id, &rows).await?;
    tx.commit().await?;
    Ok(written)
}

/// A file the corporation uploaded before, offered again, with where it was used.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReusableFile {
    pub attachment_id: String,
    pub filename: String,
    pub size_bytes: i64,
    pub uploaded_at: String,
    /// 「変更届出書：登記事項証明書」 for each filing and document it was attached as, newest
    /// first.
    pub used_for: Vec<String>,
}

impl ReusableFile {
    /// How a choice list shows it: the name and, when it was used, the first use.
    pub fn label(&self) -> String {
        match self.used_for.as_slice() {
            [] => self.filename.clone(),
            [one] => format!("{}（{one}で使用）", self.filename),
            [first, rest @ ..] => {
                format!("{}（{first}ほか{}件で使用）", self.filename, rest.len())
            }
        }
    }
}

/// The corporation's uploads, newest first (at most `limit`), each with the filings and
/// documents it already serves — one file may serve many filings.
pub async fn reusable_files(
    app: &App,
    actor: &Actor,
    limit: usize,
) -> CoreResult<Vec<ReusableFile>> {
    let corp = actor.require_provider()?;
    let mut tx = app.db.begin_read().await?;
    let files = madoguchi_db::attachments::list_of_corporation(&mut tx, corp).await?;
    let uses = batches::upload_uses(&mut tx, corp).await?;
    let mut procedures: std::collections::HashMap<String, (String, String)> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    for a in files.into_iter().take(limit) {
        let mut used_for: Vec<String> = Vec::new();
        for (_, filing_id, requirement) in uses.iter().filter(|(id, _, _)| *id == a.id) {
            if !procedures.contains_key(filing_id) {
                let f = filings::get_filing(&mut tx, filing_id).await?;
                procedures.insert(filing_id.clone(), (f.procedure_id, f.procedure_version));
            }
            let (pid, version) = &procedures[filing_id];
            let Some(def) = app.catalog.get(pid, version) else {
                continue;
            };
            let label = def
                .attachment(requirement)
                .map(|r| r.label.clone())
                .unwrap_or_else(|| requirement.clone());
            let text = format!("{}：{label}", def.title);
            if !used_for.contains(&text) {
                used_for.push(text);
            }
        }
        out.push(ReusableFile {
            attachment_id: a.id,
            filename: a.filename,
            size_bytes: a.size_bytes,
            uploaded_at: crate::clock::format_ms_jst(a.created_at),
            used_for,
        });
    }
    tx.commit().await?;
    Ok(out)
}
