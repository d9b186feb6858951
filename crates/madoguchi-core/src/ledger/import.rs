//! Importing an authority's existing ledger (`madoguchi import establishments`, and the
//! admin's upload page): one row per designation, the same columns as the export.
//!
//! All or nothing: the file is read and every row checked (`import_rows`), then the rows that
//! passed are applied in one transaction, which is rolled back if any row failed — the file's
//! own checks or those that need the registry (unknown municipality, designating authority,
//! an office number owned by another corporation). Every bad row is reported with its line
//! number, in one run.
//!
//! Idempotent: records are found by their natural keys — establishments by 事業所番号,
//! corporations by 法人番号 (or, without one, by exact name), designations by (事業所番号,
//! サービス種類) — and created only when missing. Values of existing records that the file
//! gives differently are *not* overwritten (the registry is shared with providers and other
//! authorities; a warning names each difference); values the registry lacks are filled in.
//! The importing authority's own designations take the file's dates. Running the same file
//! again changes nothing. What an import creates or fills enters the changes feed as
//! `registry.imported` entries.

use std::collections::BTreeMap;

use madoguchi_db::Tx;
use madoguchi_db::ledger::import as db;
use madoguchi_db::registry::{self, CorporationRow, DesignationRow, EstablishmentRow};
use madoguchi_domain::authority::{AuthorityKind, MunicipalityFacts};
use madoguchi_domain::ids::find_service_type;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::feed::FeedChange;
pub use super::import_rows::{InputEncoding, RowIssue};
use super::import_rows::{LedgerRow, Parsed};
use crate::{Actor, App, CoreError, CoreResult, Role};

/// Largest file accepted.
pub const MAX_IMPORT_BYTES: usize = 100 * 1024 * 1024;

/// Who imports: an authority admin (upload page), or the operator at the server (CLI).
#[derive(Clone, Copy, Debug)]
pub enum ImportBy<'a> {
    Staff(&'a Actor),
    Cli,
}

#[derive(Clone, Copy, Debug)]
pub struct ImportOptions {
    pub encoding: InputEncoding,
    /// Check and report only; write nothing.
    pub dry_run: bool,
}

/// What an import found and did.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub authority_code: String,
    /// The encoding the file was read as (`utf-8` or `shift_jis`).
    pub encoding: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Data rows in the file.
    pub rows: u64,
    /// Problems: when there is any, nothing was written.
    pub errors: Vec<RowIssue>,
    /// Worth a look, but imported (unknown columns, registry values kept, letters in office numbers).
    pub warnings: Vec<RowIssue>,
    /// The registry was changed (false for a dry run or when there were errors).
    pub applied: bool,
    pub dry_run: bool,
    pub corporations_created: u64,
    pub establishments_created: u64,
    pub designations_created: u64,
    pub designations_updated: u64,
    /// Values the registry lacked and the file supplied.
    pub values_filled: u64,
    /// Rows that changed nothing (already in the registry as given).
    pub unchanged_rows: u64,
}

/// Imports a ledger file into the registry for `authority_code`. `progress(done, total)` is
/// called as rows are applied.
pub async fn import_establishments(
    app: &App,
    by: ImportBy<'_>,
    authority_code: &str,
    bytes: &[u8],
    options: ImportOptions,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> CoreResult<ImportReport> {
    let audit_actor = match by {
        ImportBy::Staff(actor) => {
            super::own_authority(actor, authority_code)?;
            if !matches!(actor.role, Role::AuthorityAdmin { .. }) {
                return Err(CoreError::Forbidden(
                    "台帳の取り込みは自治体の管理者のみが行えます。".into(),
                ));
            }
            actor.user_id.clone()
        }
        ImportBy::Cli => "cli".to_string(),
    };
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(CoreError::field(
            "file",
            "too_large",
            format!(
                "ファイルが大きすぎます（{}MBまで）。分けて取り込んでください。",
                MAX_IMPORT_BYTES / 1024 / 1024
            ),
        ));
    }
    let sha256 = hex::encode(Sha256::digest(bytes));
    let (text, encoding) = super::import_rows::decode(bytes, options.encoding)?;
    let parsed = super::import_rows::parse(&text)?;
    let mut report = ImportReport {
        authority_code: authority_code.to_string(),
        encoding: encoding.to_string(),
        sha256,
        rows: parsed.records,
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let Parsed {
        rows,
        errors,
        warnings,
        ..
    } = parsed;
    report.errors = errors;
    report.warnings = warnings;
    // The rows that passed are applied (and rolled back below) even when others failed, so
    // the checks that need the registry report on them too: one run lists every problem.
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let authority = match registry::get_authority(&mut tx, authority_code).await {
        Ok(a) => a,
        Err(madoguchi_db::DbError::NotFound) => {
            return Err(CoreError::field(
                "authority",
                "unknown_authority",
                format!("自治体コード {authority_code} の自治体は窓口に登録されていません。"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let mut applier = Applier {
        app,
        authority: authority.code.clone(),
        now,
        report: &mut report,
        changes: Vec::new(),
        corporations: BTreeMap::new(),
    };
    let total = rows.len() as u64;
    let mut done = 0;
    let mut groups: BTreeMap<&str, Vec<&LedgerRow>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for r in &rows {
        if !groups.contains_key(r.office_number.as_str()) {
            order.push(&r.office_number);
        }
        groups.entry(&r.office_number).or_default().push(r);
    }
    for office in order {
        let group = &groups[office];
        applier.establishment(&mut tx, group).await?;
        done += group.len() as u64;
        progress(done, total);
    }
    let changes = std::mem::take(&mut applier.changes);
    if !report.errors.is_empty() || options.dry_run {
        report.errors.sort_by_key(|e| e.line);
        tx.rollback().await?;
        return Ok(report);
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &audit_actor,
        "ledger.imported",
        "authority",
        authority_code,
        &serde_json::json!({
            "sha256": report.sha256,
            "encoding": report.encoding,
            "rows": report.rows,
            "corporations_created": report.corporations_created,
            "establishments_created": report.establishments_created,
            "designations_created": report.designations_created,
            "designations_updated": report.designations_updated,
            "values_filled": report.values_filled,
            "warnings": report.warnings.len(),
        }),
    )
    .await?;
    // One feed entry per establishment touched (its changes and its corporation's).
    for group in group_changes(changes) {
        super::feed::record_import(app, &mut tx, authority_code, group, now).await?;
    }
    tx.commit().await?;
    app.jobs_waker.notify_one();
    report.applied = true;
    Ok(report)
}

/// Splits the import's changes into one batch per establishment (designation and corporation
/// changes travel with the establishment they were made for), keeping their order.
fn group_changes(changes: Vec<(String, FeedChange)>) -> Vec<Vec<FeedChange>> {
    let mut out: Vec<(String, Vec<FeedChange>)> = Vec::new();
    for (office, c) in changes {
        match out.last_mut() {
            Some((o, batch)) if *o == office => batch.push(c),
            _ => out.push((office, vec![c])),
        }
    }
    out.into_iter().map(|(_, b)| b).collect()
}

/// Applies checked rows, one establishment at a time, in the import's transaction.
struct Applier<'a> {
    app: &'a App,
    authority: String,
    now: i64,
    report: &'a mut ImportReport,
    /// (office number it was made for, change).
    changes: Vec<(String, FeedChange)>,
    /// Corporations resolved so far, by 法人番号 or by name.
    corporations: BTreeMap<String, String>,
}

impl Applier<'_> {
    fn error(&mut self, line: u64, column: Option<&str>, message: String) {
        self.report.errors.push(RowIssue {
            line,
            column: column.map(Into::into),
            message: format!("{line}行目: {message}"),
        });
    }

    fn warn(&mut self, line: u64, column: Option<&str>, message: String) {
        self.report.warnings.push(RowIssue {
            line,
            column: column.map(Into::into),
            message: format!("{line}行目: {message}"),
        });
    }

    async fn establishment(&mut self, tx: &mut Tx, rows: &[&LedgerRow]) -> CoreResult<()> {
        let first = rows[0];
        let errors_before = self.report.errors.len();
        let Some(muni) = self.municipality(tx, first).await? else {
            return Ok(());
        };
        for r in rows {
            self.check_designating_authority(r, &muni);
        }
        if self.report.errors.len() > errors_before {
            return Ok(());
        }
        let changes_before = self.changes.len();
        let corporation_id = self.corporation(tx, first).await?;
        let Some(est_id) = self
            .establishment_record(tx, first, &corporation_id)
            .await?
        else {
            return Ok(());
        };
        for r in rows {
            self.designation(tx, r, &est_id).await?;
        }
        if self.changes.len() == changes_before {
            self.report.unchanged_rows += rows.len() as u64;
        }
        Ok(())
    }

    /// The establishment's municipality, as an authority row (it must be on record).
    async fn municipality(
        &mut self,
        tx: &mut Tx,
        r: &LedgerRow,
    ) -> CoreResult<Option<registry::AuthorityRow>> {
        match registry::get_authority(tx, &r.municipality_code).await {
            Ok(a) => Ok(Some(a)),
            Err(madoguchi_db::DbError::NotFound) => {
                self.error(
                    r.line,
                    Some("所在市区町村コード"),
                    format!(
                        "所在市区町村コード {} の自治体は窓口に登録されていません。",
                        r.municipality_code
                    ),
                );
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The designation rules must name the importing authority for this service here.
    fn check_designating_authority(&mut self, r: &LedgerRow, muni: &registry::AuthorityRow) {
        let Some(service) = find_service_type(&r.service_code) else {
            return;
        };
        let facts = MunicipalityFacts {
            code: &muni.code,
            kind: AuthorityKind::parse(&muni.kind).unwrap_or(AuthorityKind::Municipality),
            prefecture_code: &muni.prefecture_code,
            delegate_code: muni.delegate_code.as_deref(),
        };
        match self.app.rules.designating_authority(service.category, &facts) {
            Ok(code) if code == self.authority => {}
            Ok(code) => self.error(
                r.line,
                Some("サービス種類コード"),
                format!(
                    "{}（{}）の{}は自治体コード {} が指定する事業所です（この台帳の自治体 {} ではありません）。",
                    muni.name, muni.code, service.name, code, self.authority
                ),
            ),
            Err(e) => self.error(r.line, Some("サービス種類コード"), e.to_string()),
        }
    }

    /// Finds or creates the row's corporation; fills values it lacks.
    async fn corporation(&mut self, tx: &mut Tx, r: &LedgerRow) -> CoreResult<String> {
        let name = r
            .corporation
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let key = match &r.corporate_number {
            Some(n) => format!("number:{n}"),
            None => format!("name:{name}"),
        };
        let existing = match &r.corporate_number {
            Some(n) => db::corporation_by_number(tx, n).await?,
            None => db::corporation_without_number_by_name(tx, &name).await?,
        };
        let office = r.office_number.clone();
        match existing {
            Some(c) => {
                let mut profile = registry::parse_profile(&c.profile)?;
                let seen = self.corporations.contains_key(&key);
                let filled = self.merge(&mut profile, &r.corporation, r.line, "法人", !seen);
                if !filled.is_empty() {
                    registry::update_corporation_profile(tx, &c.id, &profile, self.now).await?;
                    for (k, v) in filled {
                        self.changes
                            .push((office.clone(), change_of_corporation(&c, k, v)));
                    }
                }
                self.corporations.insert(key, c.id.clone());
                Ok(c.id)
            }
            None => {
                let mut profile = r.corporation.clone();
                if let Some(n) = &r.corporate_number {
                    profile.insert("corporate_number".into(), n.clone().into());
                }
                let row = CorporationRow {
                    id: madoguchi_db::new_id(),
                    corporate_number: r.corporate_number.clone(),
                    name,
                    profile: serde_json::to_string(&profile)?,
                    created_at: self.now,
                    updated_at: self.now,
                };
                registry::insert_corporation(tx, &row).await?;
                self.report.corporations_created += 1;
                for (k, v) in profile {
                    self.changes
                        .push((office.clone(), change_of_corporation(&row, k, v)));
                }
                self.corporations.insert(key, row.id.clone());
                Ok(row.id)
            }
        }
    }

    /// Finds or creates the establishment; `None` (with an error) when the office number
    /// belongs to another corporation or municipality.
    async fn establishment_record(
        &mut self,
        tx: &mut Tx,
        r: &LedgerRow,
        corporation_id: &str,
    ) -> CoreResult<Option<String>> {
        let mut values = r.establishment.clone();
        values.insert("office_number".into(), r.office_number.clone().into());
        match db::establishment_by_office_number(tx, &r.office_number).await? {
            Some(e) if e.corporation_id != corporation_id => {
                let owner = registry::get_corporation(tx, &e.corporation_id).await?;
                self.error(
                    r.line,
                    Some("事業所番号"),
                    format!(
                        "事業所番号 {} は別の法人（{}）の事業所として登録されています。",
                        r.office_number, owner.name
                    ),
                );
                Ok(None)
            }
            Some(e) if e.municipality_code != r.municipality_code => {
                self.error(
                    r.line,
                    Some("所在市区町村コード"),
                    format!(
                        "事業所番号 {} の所在市区町村コードは登録情報では {} です。",
                        r.office_number, e.municipality_code
                    ),
                );
                Ok(None)
            }
            Some(e) => {
                let mut profile = registry::parse_profile(&e.profile)?;
                let filled = self.merge(&mut profile, &values, r.line, "事業所", true);
                if !filled.is_empty() {
                    registry::update_establishment_profile(tx, &e.id, &profile, self.now).await?;
                    for (k, v) in filled {
                        self.changes.push((
                            r.office_number.clone(),
                            change_of_establishment(&e.id, &r.office_number, k, v),
                        ));
                    }
                }
                Ok(Some(e.id))
            }
            None => {
                let row = EstablishmentRow {
                    id: madoguchi_db::new_id(),
                    corporation_id: corporation_id.into(),
                    office_number: r.office_number.clone(),
                    municipality_code: r.municipality_code.clone(),
                    name: values
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .into(),
                    profile: serde_json::to_string(&values)?,
                    created_at: self.now,
                    updated_at: self.now,
                };
                registry::insert_establishment(tx, &row).await?;
                self.report.establishments_created += 1;
                for (k, v) in values {
                    self.changes.push((
                        r.office_number.clone(),
                        change_of_establishment(&row.id, &r.office_number, k, v),
                    ));
                }
                Ok(Some(row.id))
            }
        }
    }

    /// Creates the designation or brings its dates to the file's.
    async fn designation(&mut self, tx: &mut Tx, r: &LedgerRow, est_id: &str) -> CoreResult<()> {
        let change = |id: &str, key: &str, old: Value, new: Value| FeedChange {
            target: "designation".into(),
            target_id: id.into(),
            corporate_number: None,
            office_number: Some(r.office_number.clone()),
            service_code: Some(r.service_code.clone()),
            key: key.into(),
            old,
            new,
        };
        match db::designation_of(tx, est_id, &r.service_code).await? {
            None => {
                let row = DesignationRow {
                    id: madoguchi_db::new_id(),
                    establishment_id: est_id.into(),
                    service_code: r.service_code.clone(),
                    authority_code: self.authority.clone(),
                    valid_from: r.valid_from.clone(),
                    valid_until: r.valid_until.clone(),
                };
                registry::insert_designation(tx, &row).await?;
                self.report.designations_created += 1;
                for (key, v) in [
                    ("service_code", &row.service_code),
                    ("valid_from", &row.valid_from),
                    ("valid_until", &row.valid_until),
                ] {
                    self.changes.push((
                        r.office_number.clone(),
                        change(&row.id, key, Value::Null, v.clone().into()),
                    ));
                }
                Ok(())
            }
            Some(d) if d.authority_code != self.authority => {
                self.error(
                    r.line,
                    Some("サービス種類コード"),
                    format!(
                        "事業所番号 {}・サービス種類 {} は自治体コード {} の指定として登録されています。",
                        r.office_number, r.service_code, d.authority_code
                    ),
                );
                Ok(())
            }
            Some(d) if d.valid_from != r.valid_from || d.valid_until != r.valid_until => {
                db::set_designation_dates(tx, &d.id, &r.valid_from, &r.valid_until).await?;
                self.report.designations_updated += 1;
                for (key, old, new) in [
                    ("valid_from", &d.valid_from, &r.valid_from),
                    ("valid_until", &d.valid_until, &r.valid_until),
                ] {
                    if old != new {
                        self.changes.push((
                            r.office_number.clone(),
                            change(&d.id, key, old.clone().into(), new.clone().into()),
                        ));
                    }
                }
                Ok(())
            }
            Some(_) => Ok(()),
        }
    }

    /// Fills `profile` with the values it lacks; warns (when `warn`) about values that differ.
    /// Returns what was filled.
    fn merge(
        &mut self,
        profile: &mut Map<String, Value>,
        given: &Map<String, Value>,
        line: u64,
        what: &str,
        warn: bool,
    ) -> Vec<(String, Value)> {
        let mut filled = Vec::new();
        for (k, v) in given {
            match profile.get(k) {
                None | Some(Value::Null) => {
                    profile.insert(k.clone(), v.clone());
                    filled.push((k.clone(), v.clone()));
                }
                Some(current) if current != v && warn => {
                    let label = madoguchi_domain::registry::ESTABLISHMENT_KEYS
                        .iter()
                        .chain(madoguchi_domain::registry::CORPORATION_KEYS)
                        .find(|(key, _)| key == k)
                        .map_or(k.as_str(), |(_, l)| *l);
                    self.warn(
                        line,
                        None,
                        format!(
                            "{what}の「{label}」は登録情報（{}）と異なります（ファイル: {}）。登録情報を残しました。",
                            super::cell_text(Some(current)),
                            super::cell_text(Some(v))
                        ),
                    );
                }
                Some(_) => {}
            }
        }
        self.report.values_filled += filled.len() as u64;
        filled
    }
}

fn change_of_corporation(c: &CorporationRow, key: String, new: Value) -> FeedChange {
    FeedChange {
        target: "corporation".into(),
        target_id: c.id.clone(),
        corporate_number: c.corporate_number.clone(),
        office_number: None,
        service_code: None,
        key,
        old: Value::Null,
        new,
    }
}

fn change_of_establishment(id: &str, office_number: &str, key: String, new: Value) -> FeedChange {
    FeedChange {
        target: "establishment".into(),
        target_id: id.into(),
        corporate_number: None,
        office_number: Some(office_number.into()),
        service_code: None,
        key,
        old: Value::Null,
        new,
    }
}
