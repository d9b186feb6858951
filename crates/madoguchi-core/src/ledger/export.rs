//! Ledger exports: the authority's designations (one row per designation, with its
//! establishment and corporation) and its accepted cases, as CSV in UTF-8, UTF-8 with BOM or
//! Shift_JIS (CP932), or as .xlsx.
//!
//! Rows stream from the database (one snapshot) through the writer into a bounded channel that
//! the HTTP response drains, so memory stays constant whatever the size; .xlsx rows are spooled
//! to temporary files by rust_xlsxwriter's constant-memory mode. Every cell is neutralised
//! against formula injection. A Shift_JIS export first checks every cell: characters with a
//! standard CP932 mapping (〜 — ‖ ¢ £ ¬ …) are mapped, 機種依存文字 are counted, and rows with
//! characters CP932 cannot hold (𠮷, emoji) are reported per row — the export is refused with
//! the list, or, when asked, written without those rows. Nothing is replaced silently.
//!
//! The audit event (who, what, rows, SHA-256 of the bytes, complete or not) is written when
//! the stream ends and *before* its last chunk is sent: a client never receives a complete
//! file whose export was not audited.

use std::io::Read;

use bytes::Bytes;
use futures::StreamExt;
use madoguchi_db::Tx;
use madoguchi_db::ledger::export::{self as db, CaseExportRow, DesignationExportRow};
use madoguchi_domain::cp932;
use madoguchi_domain::ids::find_service_type;
use madoguchi_domain::ledger::{CASE_COLUMNS, ESTABLISHMENT_COLUMNS, Source, neutralize_formula};
use madoguchi_domain::procedure::FieldError;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::{Actor, App, CoreError, CoreResult};

/// Bytes handed to the response at a time.
const CHUNK: usize = 64 * 1024;
/// Rows with unmappable characters listed in a refusal (all are counted).
const MAX_LISTED_PROBLEMS: usize = 1000;

/// Which file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// 事業所・指定: one row per designation of the authority.
    Establishments,
    /// 受付完了した案件: one row per accepted case of the authority.
    Cases,
}

impl ExportKind {
    fn as_str(self) -> &'static str {
        match self {
            ExportKind::Establishments => "establishments",
            ExportKind::Cases => "cases",
        }
    }
}

/// File format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// Text encoding of a CSV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// UTF-8 with a byte-order mark (Excel then opens it as UTF-8).
    Utf8Bom,
    /// Windows-31J (CP932), what Japanese ledger systems call Shift_JIS.
    ShiftJis,
}

impl Encoding {
    /// `utf-8`, `utf-8-bom`, `shift_jis` (also `sjis`, `cp932`, `windows-31j`).
    pub fn parse(s: &str) -> CoreResult<Encoding> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "utf-8-bom" | "utf8-bom" => Ok(Encoding::Utf8Bom),
            "shift-jis" | "sjis" | "cp932" | "windows-31j" => Ok(Encoding::ShiftJis),
            _ => Err(CoreError::field(
                "encoding",
                "invalid_encoding",
                "encoding は utf-8、utf-8-bom、shift_jis のいずれかを指定してください。",
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::ShiftJis => "shift_jis",
        }
    }
}

/// What to do with rows holding characters Shift_JIS cannot represent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnUnmappable {
    /// Refuse the export, listing every such row (the default).
    Refuse,
    /// Write the file without those rows (their count is in `skipped_rows`).
    Skip,
}

#[derive(Clone, Copy, Debug)]
pub struct ExportOptions {
    pub format: Format,
    pub encoding: Encoding,
    pub on_unmappable: OnUnmappable,
}

impl ExportOptions {
    /// Reads `format` (`csv`, default, or `xlsx`), `encoding` (CSV only; default `utf-8`) and
    /// `unmappable` (`refuse`, default, or `skip`) as given in a query string.
    pub fn parse(
        format: Option<&str>,
        encoding: Option<&str>,
        unmappable: Option<&str>,
    ) -> CoreResult<ExportOptions> {
        let format = match format.map(str::trim) {
            None | Some("") | Some("csv") => Format::Csv,
            Some("xlsx") => Format::Xlsx,
            Some(_) => {
                return Err(CoreError::field(
                    "format",
                    "invalid_format",
                    "format は csv または xlsx を指定してください。",
                ));
            }
        };
        let encoding = match encoding.map(str::trim) {
            None | Some("") => Encoding::Utf8,
            Some(e) => Encoding::parse(e)?,
        };
        let on_unmappable = match unmappable.map(str::trim) {
            None | Some("") | Some("refuse") => OnUnmappable::Refuse,
            Some("skip") => OnUnmappable::Skip,
            Some(_) => {
                return Err(CoreError::field(
                    "unmappable",
                    "invalid_option",
                    "unmappable は refuse または skip を指定してください。",
                ));
            }
        };
        Ok(ExportOptions {
            format,
            encoding,
            on_unmappable,
        })
    }
}

/// Who exports: authority staff (pages, API), or the operator at the server (CLI).
#[derive(Clone, Copy, Debug)]
pub enum ExportBy<'a> {
    Staff(&'a Actor),
    Cli,
}

/// A started export: what to tell the client, and the body.
pub struct ExportStream {
    pub filename: String,
    pub content_type: &'static str,
    /// Rows left out because Shift_JIS cannot hold them (`OnUnmappable::Skip`).
    pub skipped_rows: usize,
    /// Cells holding 機種依存文字 (written; some legacy systems refuse them).
    pub vendor_specific_cells: usize,
    /// The file, chunk by chunk; an `Err` means the export broke off (the body is incomplete).
    pub body: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

/// Starts an export of an authority's ledger (staff: only their own). Fails before any byte is sent when the
/// options are refused or (Shift_JIS, `Refuse`) when some rows cannot be encoded; the
/// validation errors then name each row (`rows.<line>.<column>`).
pub async fn start(
    app: &App,
    by: ExportBy<'_>,
    authority_code: &str,
    kind: ExportKind,
    options: ExportOptions,
) -> CoreResult<ExportStream> {
    let (code, actor_id) = match by {
        ExportBy::Staff(actor) => (
            super::own_authority(actor, authority_code)?.to_string(),
            actor.user_id.clone(),
        ),
        ExportBy::Cli => {
            let mut tx = app.db.begin_read().await?;
            let found = madoguchi_db::registry::get_authority(&mut tx, authority_code).await;
            tx.commit().await?;
            match found {
                Ok(a) => (a.code, "cli".to_string()),
                Err(madoguchi_db::DbError::NotFound) => {
                    return Err(CoreError::field(
                        "authority",
                        "unknown_authority",
                        format!(
                            "自治体コード {authority_code} の自治体は窓口に登録されていません。"
                        ),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let mut tx = madoguchi_db::ledger::begin_snapshot(&app.db).await?;
    let check = if options.format == Format::Csv && options.encoding == Encoding::ShiftJis {
        check_pass(app, &mut tx, kind, &code).await?
    } else {
        Check::default()
    };
    if !check.problems.is_empty() && options.on_unmappable == OnUnmappable::Refuse {
        tx.rollback().await?;
        return Err(CoreError::Validation(check.into_errors()));
    }
    let (sender, body) = mpsc::channel(4);
    let stamp = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(app.now_ms())
        .map(|t| {
            t.with_timezone(&crate::clock::jst())
                .format("%Y%m%d-%H%M")
                .to_string()
        })
        .unwrap_or_default();
    let (ext, content_type) = match (options.format, options.encoding) {
        (Format::Xlsx, _) => (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (Format::Csv, Encoding::ShiftJis) => ("csv", "text/csv; charset=Shift_JIS"),
        (Format::Csv, _) => ("csv", "text/csv; charset=utf-8"),
    };
    let export = ExportStream {
        filename: format!("{}-{code}-{stamp}.{ext}", kind.as_str()),
        content_type,
        skipped_rows: check.rows_with_problems,
        vendor_specific_cells: check.vendor_specific_cells,
        body,
    };
    let job = Producer {
        app: app.clone(),
        actor_id,
        code,
        kind,
        options,
    };
    tokio::spawn(job.run(tx, sender));
    Ok(export)
}

/// What the Shift_JIS check found.
#[derive(Default)]
struct Check {
    problems: Vec<FieldError>,
    rows_with_problems: usize,
    vendor_specific_cells: usize,
}

impl Check {
    fn into_errors(self) -> Vec<FieldError> {
        let mut errors = self.problems;
        if self.rows_with_problems > errors.len() {
            errors.push(FieldError {
                field: "rows".into(),
                code: "unmappable_character".into(),
                message: format!(
                    "ほかにも Shift_JIS で表せない文字を含む行があります（全{}行）。",
                    self.rows_with_problems
                ),
            });
        }
        errors
    }
}

/// The headers and the identifying cells (for messages) of a kind's rows.
fn headers(kind: ExportKind) -> Vec<&'static str> {
    match kind {
        ExportKind::Establishments => ESTABLISHMENT_COLUMNS.iter().map(|c| c.header).collect(),
        ExportKind::Cases => CASE_COLUMNS.to_vec(),
    }
}

/// Reads every row once and lists the cells Shift_JIS cannot hold.
async fn check_pass(app: &App, tx: &mut Tx, kind: ExportKind, code: &str) -> CoreResult<Check> {
    let headers = headers(kind);
    let mut check = Check::default();
    let mut line = 1usize;
    let mut look = |cells: Vec<String>, check: &mut Check| {
        line += 1;
        let mut bad_row = false;
        for (i, cell) in cells.iter().enumerate() {
            let report = cp932::check(cell);
            if report.vendor_specific().next().is_some() {
                check.vendor_specific_cells += 1;
            }
            let bad: Vec<String> = report.unmappable().map(|f| f.describe()).collect();
            if bad.is_empty() {
                continue;
            }
            bad_row = true;
            if check.problems.len() < MAX_LISTED_PROBLEMS {
                check.problems.push(FieldError {
                    field: format!("rows.{line}.{}", headers[i]),
                    code: "unmappable_character".into(),
                    message: format!(
                        "{line}行目（{}）の「{}」に Shift_JIS で表せない文字 {} があります。",
                        row_label(kind, &cells),
                        headers[i],
                        bad.join("、")
                    ),
                });
            }
        }
        if bad_row {
            check.rows_with_problems += 1;
        }
    };
    match kind {
        ExportKind::Establishments => {
            let mut rows = db::designations(tx, code);
            while let Some(r) = rows.next().await {
                look(establishment_cells(&r?)?, &mut check);
            }
        }
        ExportKind::Cases => {
            let mut rows = db::accepted_cases(tx, code);
            while let Some(r) = rows.next().await {
                look(case_cells(app, &r?), &mut check);
            }
        }
    }
    Ok(check)
}

/// How a row is named in messages: 「事業所番号 1370400010・サービス 15」 or the 到達番号.
fn row_label(kind: ExportKind, cells: &[String]) -> String {
    match kind {
        ExportKind::Establishments => format!(
            "事業所番号 {}・サービス種類 {}",
            cells.first().map(String::as_str).unwrap_or(""),
            cells.get(1).map(String::as_str).unwrap_or("")
        ),
        ExportKind::Cases => format!(
            "到達番号 {}",
            cells.first().map(String::as_str).unwrap_or("")
        ),
    }
}

/// The cells of one designation row, in [`ESTABLISHMENT_COLUMNS`] order (not yet neutralised).
pub fn establishment_cells(r: &DesignationExportRow) -> CoreResult<Vec<String>> {
    let est: Map<String, Value> = madoguchi_db::registry::parse_profile(&r.establishment_profile)?;
    let corp: Map<String, Value> = madoguchi_db::registry::parse_profile(&r.corporation_profile)?;
    Ok(ESTABLISHMENT_COLUMNS
        .iter()
        .map(|c| match c.source {
            Source::OfficeNumber => r.office_number.clone(),
            Source::ServiceCode => r.service_code.clone(),
            Source::ServiceName => find_service_type(&r.service_code)
                .map(|t| t.name.to_string())
                .unwrap_or_default(),
            Source::ValidFrom => r.valid_from.clone(),
            Source::ValidUntil => r.valid_until.clone(),
            Source::MunicipalityCode => r.municipality_code.clone(),
            Source::Establishment(key) => super::cell_text(est.get(key)),
            Source::CorporateNumber => r.corporate_number.clone().unwrap_or_default(),
            Source::Corporation(key) => super::cell_text(corp.get(key)),
        })
        .collect())
}

/// The cells of one accepted case, in [`CASE_COLUMNS`] order.
fn case_cells(app: &App, r: &CaseExportRow) -> Vec<String> {
    vec![
        r.reference.clone(),
        app.catalog
            .latest(&r.procedure_id)
            .map(|d| d.title.clone())
            .unwrap_or_else(|| r.procedure_id.clone()),
        madoguchi_domain::case::CaseStatus::parse(&r.status)
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| r.status.clone()),
        r.corporate_number.clone().unwrap_or_default(),
        r.corporation_name.clone(),
        r.office_numbers.clone().unwrap_or_default(),
        super::jst_seconds(r.submitted_at),
        r.decided_at.map(super::jst_seconds).unwrap_or_default(),
        r.registry_changes.to_string(),
    ]
}

/// The task that writes the file into the channel.
struct Producer {
    app: App,
    actor_id: String,
    code: String,
    kind: ExportKind,
    options: ExportOptions,
}

/// Why writing stopped.
enum Stop {
    /// The client went away.
    Gone,
    Failed(CoreError),
}

impl From<CoreError> for Stop {
    fn from(e: CoreError) -> Self {
        Stop::Failed(e)
    }
}

impl From<madoguchi_db::DbError> for Stop {
    fn from(e: madoguchi_db::DbError) -> Self {
        Stop::Failed(e.into())
    }
}

impl Producer {
    async fn run(self, mut tx: Tx, sender: mpsc::Sender<Result<Bytes, std::io::Error>>) {
        let mut out = Output::new(sender);
        let mut writer = match Writer::new(&self.app, self.options) {
            Ok(w) => w,
            Err(e) => {
                out.fail(e).await;
                return;
            }
        };
        let written = self.write(&mut tx, &mut writer, &mut out).await;
        let _ = tx.rollback().await;
        let finished = match written {
            Ok(()) => writer.finish(&mut out).await,
            Err(e) => Err(e),
        };
        let complete = finished.is_ok();
        if let Err(Stop::Failed(e)) = &finished {
            tracing::error!(error = %e, "ledger export failed");
        }
        let audited = self.audit(&out, complete).await;
        match (finished, audited) {
            (Ok(()), Ok(())) => out.close().await,
            (Ok(()), Err(e)) => out.fail(e).await,
            (Err(Stop::Failed(e)), _) => out.fail(e).await,
            (Err(Stop::Gone), _) => {}
        }
    }

    async fn write(&self, tx: &mut Tx, writer: &mut Writer, out: &mut Output) -> Result<(), Stop> {
        writer.row(&headers(self.kind), true, out).await?;
        match self.kind {
            ExportKind::Establishments => {
                let mut rows = db::designations(tx, &self.code);
                while let Some(r) = rows.next().await {
                    let cells = establishment_cells(&r?)?;
                    writer.data_row(&cells, out).await?;
                }
            }
            ExportKind::Cases => {
                let mut rows = db::accepted_cases(tx, &self.code);
                while let Some(r) = rows.next().await {
                    let cells = case_cells(&self.app, &r?);
                    writer.data_row(&cells, out).await?;
                }
            }
        }
        Ok(())
    }

    async fn audit(&self, out: &Output, complete: bool) -> CoreResult<()> {
        let now = self.app.now_ms();
        let mut tx = self.app.db.begin().await?;
        madoguchi_db::audit::append(
            &mut tx,
            now,
            &self.actor_id,
            "ledger.exported",
            "authority",
            &self.code,
            &serde_json::json!({
                "export": self.kind.as_str(),
                "format": match self.options.format { Format::Csv => "csv", Format::Xlsx => "xlsx" },
                "encoding": self.options.encoding.as_str(),
                "rows": out.rows,
                "skipped_rows": out.skipped,
                "bytes": out.bytes,
                "sha256": hex::encode(out.hasher.clone().finalize()),
                "complete": complete,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The byte side: hashing, counting, chunking; the last chunk is held back until the audit
/// event is written.
struct Output {
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
    pending: Vec<u8>,
    hasher: Sha256,
    bytes: u64,
    rows: u64,
    skipped: u64,
}

impl Output {
    fn new(sender: mpsc::Sender<Result<Bytes, std::io::Error>>) -> Output {
        Output {
            sender,
            pending: Vec::with_capacity(CHUNK),
            hasher: Sha256::new(),
            bytes: 0,
            rows: 0,
            skipped: 0,
        }
    }

    async fn push(&mut self, data: &[u8]) -> Result<(), Stop> {
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.pending.extend_from_slice(data);
        if self.pending.len() >= CHUNK {
            let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK));
            self.sender
                .send(Ok(Bytes::from(chunk)))
                .await
                .map_err(|_| Stop::Gone)?;
        }
        Ok(())
    }

    async fn close(mut self) {
        let last = std::mem::take(&mut self.pending);
        if !last.is_empty() {
            let _ = self.sender.send(Ok(Bytes::from(last))).await;
        }
    }

    async fn fail(self, e: CoreError) {
        let _ = self
            .sender
            .send(Err(std::io::Error::other(e.to_string())))
            .await;
    }
}

/// The format side.
enum Writer {
    Csv {
        /// Quoting as needed, CRLF line ends (what Excel and ledger systems expect).
        csv: csv::WriterBuilder,
        encoding: Encoding,
    },
    Xlsx {
        workbook: Box<rust_xlsxwriter::Workbook>,
        next_row: u32,
        bold: rust_xlsxwriter::Format,
        /// Where the spooled rows and the assembled file live (`<data_dir>/tmp`).
        tmp: std::path::PathBuf,
    },
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> CoreError {
    CoreError::Internal(format!("xlsx: {e}"))
}

impl Writer {
    fn new(app: &App, options: ExportOptions) -> CoreResult<Writer> {
        Ok(match options.format {
            Format::Csv => {
                let mut csv = csv::WriterBuilder::new();
                csv.terminator(csv::Terminator::CRLF).buffer_capacity(1024);
                Writer::Csv {
                    csv,
                    encoding: options.encoding,
                }
            }
            Format::Xlsx => {
                let mut workbook = rust_xlsxwriter::Workbook::new();
                let tmp = app.config.data_dir.join("tmp");
                std::fs::create_dir_all(&tmp)
                    .map_err(|e| CoreError::Internal(format!("temp dir: {e}")))?;
                workbook.set_tempdir(&tmp).map_err(xlsx_error)?;
                workbook
                    .add_worksheet_with_constant_memory()
                    .map_err(xlsx_error)?
                    .set_name("台帳")
                    .map_err(xlsx_error)?;
                Writer::Xlsx {
                    workbook: Box::new(workbook),
                    next_row: 0,
                    bold: rust_xlsxwriter::Format::new().set_bold(),
                    tmp,
                }
            }
        })
    }

    /// A data row: neutralised, and (Shift_JIS) left out when a cell cannot be encoded.
    async fn data_row(&mut self, cells: &[String], out: &mut Output) -> Result<(), Stop> {
        let cells: Vec<String> = cells
            .iter()
            .map(|c| neutralize_formula(c).into_owned())
            .collect();
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        if self.row(&cells, false, out).await? {
            out.rows += 1;
        } else {
            out.skipped += 1;
        }
        Ok(())
    }

    /// Writes a row; `false` when it was left out (a cell Shift_JIS cannot hold).
    async fn row(&mut self, cells: &[&str], header: bool, out: &mut Output) -> Result<bool, Stop> {
        match self {
            Writer::Csv { csv, encoding } => {
                let first = out.bytes == 0 && header;
                let fields: Vec<Vec<u8>> = match encoding {
                    Encoding::ShiftJis => {
                        let mut fields = Vec::with_capacity(cells.len());
                        for c in cells {
                            match cp932::encode(c) {
                                Ok(b) => fields.push(b),
                                Err(_) => return Ok(false),
                            }
                        }
                        fields
                    }
                    _ => cells.iter().map(|c| c.as_bytes().to_vec()).collect(),
                };
                if first && *encoding == Encoding::Utf8Bom {
                    out.push(b"\xEF\xBB\xBF").await?;
                }
                let mut bytes = Vec::with_capacity(256);
                let mut w = csv.from_writer(&mut bytes);
                w.write_record(&fields)
                    .and_then(|()| w.flush().map_err(csv::Error::from))
                    .map_err(|e| CoreError::Internal(format!("csv: {e}")))?;
                drop(w);
                out.push(&bytes).await?;
                Ok(true)
            }
            Writer::Xlsx {
                workbook,
                next_row,
                bold,
                ..
            } => {
                let sheet = workbook.worksheet_from_index(0).map_err(xlsx_error)?;
                for (col, cell) in cells.iter().enumerate() {
                    let col = col as u16;
                    if header {
                        sheet
                            .write_string_with_format(*next_row, col, *cell, bold)
                            .map_err(xlsx_error)?;
                    } else {
                        // Codes keep their leading zeros: everything is a text cell.
                        sheet
                            .write_string(*next_row, col, *cell)
                            .map_err(xlsx_error)?;
                    }
                }
                *next_row += 1;
                Ok(true)
            }
        }
    }

    /// Ends the file: CSV is already out; .xlsx is assembled on a blocking thread into a
    /// temporary file, which is then streamed.
    async fn finish(self, out: &mut Output) -> Result<(), Stop> {
        let Writer::Xlsx {
            mut workbook, tmp, ..
        } = self
        else {
            return Ok(());
        };
        let file = tempfile::NamedTempFile::new_in(&tmp)
            .map_err(|e| CoreError::Internal(format!("temp file: {e}")))?;
        let path = file.path().to_path_buf();
        tokio::task::spawn_blocking(move || workbook.save(&path).map_err(xlsx_error))
            .await
            .map_err(|e| CoreError::Internal(format!("xlsx task: {e}")))??;
        let mut reader = file
            .reopen()
            .map_err(|e| CoreError::Internal(format!("xlsx: {e}")))?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| CoreError::Internal(format!("xlsx: {e}")))?;
            if n == 0 {
                break;
            }
            out.push(&buf[..n]).await?;
        }
        Ok(())
    }
}
