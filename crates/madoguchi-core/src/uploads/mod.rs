//! The upload gate: what may be stored as an attachment. A file is accepted only when its
//! final extension is one we allow *and* its bytes are that format (magic numbers, then a
//! format check: text really is UTF-8/Shift_JIS, Office files carry no macros, archives pass
//! the central-directory limits before any byte is inflated); then, if configured, ClamAV
//! must answer "clean". Everything else is refused as a `file` validation error with a
//! machine code and a Japanese message naming the file and what is allowed.
//!
//! Codes: `empty`, `too_large`, `name_not_allowed`, `type_not_allowed`, `type_mismatch`,
//! `macro_enabled`, `encrypted`, `archive_invalid`, `archive_too_large`,
//! `archive_too_many_entries`, `archive_nested`, `archive_path`, `scanner_unavailable`,
//! `infected` (and `filing_too_large`, checked when a file is linked to a filing).
//!
//! The server never extracts an archive and never renders a file: downloads go out as
//! `application/octet-stream` attachments with `nosniff` and a sandbox CSP (web crate).

mod archive;
mod cfb;
pub mod clamd;
mod office;
pub mod preview;
pub mod sniff;
mod zip;

use std::time::Duration;

use crate::config::CoreConfig;
use crate::{CoreError, CoreResult};
use sniff::Magic;

/// The limits and scanner an upload is checked against (built from [`CoreConfig`]).
#[derive(Clone, Debug)]
pub struct UploadPolicy {
    /// Largest single file, bytes.
    pub max_file_bytes: u64,
    /// Largest declared unpacked total of a ZIP (or OOXML) file, bytes.
    pub max_archive_unpacked_bytes: u64,
    /// Most entries (files and folders) in a ZIP (or OOXML) file.
    pub max_archive_entries: u64,
    /// Largest unpacked:packed ratio of an entry over 1 MiB unpacked.
    pub max_archive_ratio: u64,
    /// clamd address (`host:port` or `unix:/path`); `None`: no virus scan.
    pub clamd: Option<String>,
    /// Whole clamd exchange (connect, send, answer) must finish within this.
    pub clamd_timeout: Duration,
}

impl UploadPolicy {
    pub fn from_config(c: &CoreConfig) -> UploadPolicy {
        UploadPolicy {
            max_file_bytes: c.max_upload_bytes,
            max_archive_unpacked_bytes: c.max_archive_unpacked_bytes,
            max_archive_entries: c.max_archive_entries,
            max_archive_ratio: c.max_archive_ratio,
            clamd: c.clamd.clone().filter(|a| !a.trim().is_empty()),
            clamd_timeout: Duration::from_millis(c.clamd_timeout_ms),
        }
    }

    fn zip_limits(&self) -> zip::Limits {
        zip::Limits {
            max_entries: self.max_archive_entries,
            max_unpacked: self.max_archive_unpacked_bytes,
            max_ratio: self.max_archive_ratio,
        }
    }
}

impl Default for UploadPolicy {
    fn default() -> Self {
        UploadPolicy::from_config(&CoreConfig::default())
    }
}

/// Why a file was refused: a machine code and a message for the person who uploaded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl From<Refusal> for CoreError {
    fn from(r: Refusal) -> CoreError {
        CoreError::field("file", r.code, r.message)
    }
}

/// What the policy tells uploaders they may send.
pub const ALLOWED: &str = "添付できるのは PDF、画像（PNG・JPEG・GIF・TIFF）、Office 文書（docx・xlsx・pptx・doc・xls、マクロなし）、CSV・テキスト（UTF-8 または Shift_JIS）、ZIP（中身は PDF・画像・CSV・テキスト）です。";

/// The formats we accept, keyed by final extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Tiff,
    Docx,
    Xlsx,
    Pptx,
    Doc,
    Xls,
    Text,
    Zip,
}

impl FileType {
    /// The accepted type for a lower-case extension.
    pub fn from_extension(ext: &str) -> Option<FileType> {
        Some(match ext {
            "pdf" => FileType::Pdf,
            "png" => FileType::Png,
            "jpg" | "jpeg" => FileType::Jpeg,
            "gif" => FileType::Gif,
            "tif" | "tiff" => FileType::Tiff,
            "docx" => FileType::Docx,
            "xlsx" => FileType::Xlsx,
            "pptx" => FileType::Pptx,
            "doc" => FileType::Doc,
            "xls" => FileType::Xls,
            "csv" | "txt" => FileType::Text,
            "zip" => FileType::Zip,
            _ => return None,
        })
    }

    /// The magic number the content must carry (`Unknown` for text: checked as text).
    fn magic(self) -> Magic {
        match self {
            FileType::Pdf => Magic::Pdf,
            FileType::Png => Magic::Png,
            FileType::Jpeg => Magic::Jpeg,
            FileType::Gif => Magic::Gif,
            FileType::Tiff => Magic::Tiff,
            FileType::Docx | FileType::Xlsx | FileType::Pptx | FileType::Zip => Magic::Zip,
            FileType::Doc | FileType::Xls => Magic::Ole2,
            FileType::Text => Magic::Unknown,
        }
    }
}

/// Office formats that can carry macros (refused by name alone).
const MACRO_EXTENSIONS: &[&str] = &[
    "docm", "dotm", "xlsm", "xltm", "xlam", "xla", "xlm", "xlsb", "pptm", "potm", "ppsm", "ppam",
    "sldm",
];

/// The final extension, lower-case ASCII (`invoice.pdf.exe` → `exe`).
pub fn final_extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

fn is_macro_extension(ext: &str) -> bool {
    MACRO_EXTENSIONS.contains(&ext)
}

/// Bidirectional-text controls that make `report\u{202E}fdp.exe` display as `reportexe.pdf`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Decides whether `bytes`, uploaded as `name` (already sanitized), may be stored. Pure and
/// CPU-bound (run it off the async threads); memory stays bounded by the upload itself and
/// the archive entry limit, never by sizes an archive declares.
pub fn inspect(name: &str, bytes: &[u8], policy: &UploadPolicy) -> Result<FileType, Refusal> {
    if name.chars().any(is_bidi_control) {
        let shown: String = name.chars().filter(|c| !is_bidi_control(*c)).collect();
        return Err(Refusal::new(
            "name_not_allowed",
            format!(
                "「{shown}」のファイル名に表示を偽装する制御文字が含まれています。ファイル名を変更してから添付してください。"
            ),
        ));
    }
    if bytes.is_empty() {
        return Err(Refusal::new(
            "empty",
            format!("「{name}」は空のファイルです。内容のあるファイルを選んでください。"),
        ));
    }
    if bytes.len() as u64 > policy.max_file_bytes {
        return Err(Refusal::new(
            "too_large",
            format!(
                "「{name}」は大きすぎます（上限 {} MB）。",
                policy.max_file_bytes / 1024 / 1024
            ),
        ));
    }
    let ext = final_extension(name).unwrap_or_default();
    if is_macro_extension(&ext) {
        return Err(macro_refusal(name));
    }
    let Some(kind) = FileType::from_extension(&ext) else {
        let what = if ext.is_empty() {
            "拡張子がありません".to_string()
        } else {
            format!("拡張子 .{ext} は添付できません")
        };
        return Err(Refusal::new(
            "type_not_allowed",
            format!("「{name}」は添付できない形式です（{what}）。{ALLOWED}"),
        ));
    };
    let found = sniff::magic(&bytes[..bytes.len().min(512)]);
    let mismatch = |what: &str| {
        Refusal::new(
            "type_mismatch",
            format!("「{name}」の内容が拡張子 .{ext} と一致しません（{what}）。{ALLOWED}"),
        )
    };
    if found != kind.magic() {
        return Err(mismatch(&format!("内容は{}です", found.describe())));
    }
    match kind {
        FileType::Pdf | FileType::Png | FileType::Jpeg | FileType::Gif | FileType::Tiff => {
            check_plain(bytes).map_err(&mismatch)?
        }
        FileType::Text => {
            if let Some(problem) = sniff::text_problem(bytes) {
                return Err(mismatch(problem));
            }
            check_plain(bytes).map_err(&mismatch)?
        }
        FileType::Docx | FileType::Xlsx | FileType::Pptx => {
            office::check_ooxml(name, kind, bytes, &policy.zip_limits())?
        }
        FileType::Doc | FileType::Xls => office::check_ole2(name, kind, bytes)?,
        FileType::Zip => archive::check_zip(name, bytes, &policy.zip_limits())?,
    }
    Ok(kind)
}

/// Single-format files must not hide a page, a script header or an appended archive.
fn check_plain(bytes: &[u8]) -> Result<(), &'static str> {
    if sniff::has_markup(bytes) {
        return Err("HTML やスクリプトが埋め込まれています");
    }
    if sniff::is_script_polyglot(bytes) {
        return Err("画像とスクリプトを兼ねた細工ファイルです");
    }
    if sniff::has_trailing_zip(bytes) {
        return Err("末尾に ZIP が連結されています");
    }
    Ok(())
}

fn macro_refusal(name: &str) -> Refusal {
    Refusal::new(
        "macro_enabled",
        format!(
            "「{name}」はマクロを含む（または含められる）Office ファイルのため受け付けられません。マクロなしの形式（docx・xlsx・pptx）で保存し直してください。"
        ),
    )
}

/// The full gate for one upload: [`inspect`] on a blocking thread, then the virus scan when
/// a scanner is configured. Returns the bytes unchanged when they may be stored. A scanner
/// that cannot give a clear answer refuses the file (`scanner_unavailable`): never clean by
/// default.
pub async fn check(policy: &UploadPolicy, name: &str, bytes: Vec<u8>) -> CoreResult<Vec<u8>> {
    let (p, n) = (policy.clone(), name.to_string());
    let (bytes, verdict) = tokio::task::spawn_blocking(move || {
        let v = inspect(&n, &bytes, &p);
        (bytes, v)
    })
    .await
    .map_err(|e| CoreError::Internal(format!("upload check panicked: {e}")))?;
    let kind = verdict.inspect_err(|r| {
        tracing::info!(code = r.code, size = bytes.len(), "upload refused");
    })?;
    let Some(addr) = &policy.clamd else {
        return Ok(bytes);
    };
    match clamd::scan(addr, &bytes, policy.clamd_timeout).await {
        Ok(clamd::Verdict::Clean) => Ok(bytes),
        Ok(clamd::Verdict::Infected(signature)) => {
            tracing::warn!(%signature, ?kind, size = bytes.len(), "upload infected");
            Err(Refusal::new(
                "infected",
                format!(
                    "「{name}」からウイルス（{signature}）が検出されたため受け付けられません。"
                ),
            )
            .into())
        }
        Err(e) => {
            tracing::error!(error = %e, "virus scanner unavailable; upload refused");
            Err(Refusal::new(
                "scanner_unavailable",
                format!("ウイルス検査を完了できなかったため「{name}」を受け付けられませんでした。しばらくしてからもう一度お試しください。"),
            )
            .into())
        }
    }
}
