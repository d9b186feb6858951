//! Office documents without macros. OOXML (docx, xlsx, pptx) is a ZIP: it passes the same
//! directory limits as any archive, must hold the main part of the format its extension
//! names, and is refused when it carries a VBA project (`vbaProject.bin`), Excel 4.0 macro
//! sheets, an embedded macro-enabled file, or a macro-enabled content type in
//! `[Content_Types].xml`. OLE2 (doc, xls) must hold the format's main stream and is refused
//! when its directory has VBA storages (`_VBA_PROJECT_CUR`, `Macros`, `VBA`, …) or, for
//! Excel, a BOUNDSHEET record declaring an Excel 4.0 macro sheet or VBA module.

use super::archive::{encrypted, refusal};
use super::cfb::Compound;
use super::zip::{self, Limits};
use super::{FileType, Refusal, final_extension, is_macro_extension, macro_refusal};

/// `[Content_Types].xml` larger than this (unpacked) is not a real document.
const CONTENT_TYPES_CAP: usize = 1024 * 1024;

fn not_this_format(name: &str, why: &str) -> Refusal {
    let ext = final_extension(name).unwrap_or_default();
    Refusal::new(
        "type_mismatch",
        format!(
            "「{name}」の内容が拡張子 .{ext} と一致しません（{why}）。{}",
            super::ALLOWED
        ),
    )
}

/// Checks a docx, xlsx or pptx (its ZIP magic already matched).
pub(super) fn check_ooxml(
    name: &str,
    kind: FileType,
    bytes: &[u8],
    limits: &Limits,
) -> Result<(), Refusal> {
    let entries = zip::read_directory(bytes, limits).map_err(|e| refusal(name, e, limits))?;
    let mut content_types = None;
    let mut has_main = false;
    let (main_part, family) = match kind {
        FileType::Docx => ("word/document.xml", "wordprocessingml"),
        FileType::Xlsx => ("xl/workbook.xml", "spreadsheetml"),
        _ => ("ppt/presentation.xml", "presentationml"),
    };
    for e in &entries {
        let lower = e.display_name().to_ascii_lowercase();
        let base = lower.rsplit('/').next().unwrap_or_default();
        let ext = final_extension(base).unwrap_or_default();
        if base == "vbaproject.bin"
            || base == "vbadata.xml"
            || lower.contains("macrosheets/")
            || is_macro_extension(&ext)
        {
            return Err(macro_refusal(name));
        }
        if lower == "[content_types].xml" {
            content_types = Some(e);
        }
        has_main |= lower == main_part;
    }
    let Some(ct) = content_types else {
        return Err(not_this_format(name, "Office 文書の構成がありません"));
    };
    if !has_main {
        return Err(not_this_format(name, "この形式の本体がありません"));
    }
    if ct.uncompressed > CONTENT_TYPES_CAP as u64 {
        return Err(refusal(
            name,
            zip::ZipError::Invalid("構成情報が大きすぎます"),
            limits,
        ));
    }
    // Every part must unpack to what it declares (a lying part is a zip bomb).
    for e in &entries {
        let keep = if std::ptr::eq(e, ct) {
            CONTENT_TYPES_CAP
        } else {
            0
        };
        let data = zip::stream(bytes, e, keep).map_err(|err| refusal(name, err, limits))?;
        if keep > 0 {
            let types = String::from_utf8_lossy(&data).to_ascii_lowercase();
            if ["macroenabled", "vbaproject", "macrosheet"]
                .iter()
                .any(|m| types.contains(m))
            {
                return Err(macro_refusal(name));
            }
            if !types.contains(family) {
                return Err(not_this_format(name, "この形式の本体がありません"));
            }
        }
    }
    Ok(())
}

/// Storage and stream names that hold VBA code in Word, Excel and PowerPoint files.
const VBA_NAMES: &[&str] = &[
    "_VBA_PROJECT_CUR",
    "_VBA_PROJECT",
    "VBA",
    "Macros",
    "PROJECTwm",
];

/// Checks a doc or xls (its OLE2 magic already matched).
pub(super) fn check_ole2(name: &str, kind: FileType, bytes: &[u8]) -> Result<(), Refusal> {
    let cfb = Compound::parse(bytes).map_err(|why| not_this_format(name, why))?;
    if cfb.entries.iter().any(|e| {
        matches!(e.kind, 1 | 2) && VBA_NAMES.iter().any(|v| e.name.eq_ignore_ascii_case(v))
    }) {
        return Err(macro_refusal(name));
    }
    if cfb.stream_named("EncryptedPackage").is_some() {
        return Err(encrypted(name));
    }
    match kind {
        FileType::Doc => {
            if cfb.stream_named("WordDocument").is_none() {
                return Err(not_this_format(name, "Word 文書ではありません"));
            }
        }
        _ => {
            let book = cfb
                .stream_named("Workbook")
                .or_else(|| cfb.stream_named("Book"))
                .ok_or_else(|| not_this_format(name, "Excel ブックではありません"))?;
            let stream = cfb
                .read(book, bytes.len())
                .map_err(|why| not_this_format(name, why))?;
            if has_macro_sheet(&stream) {
                return Err(macro_refusal(name));
            }
        }
    }
    Ok(())
}

/// Walks the BIFF records of an Excel workbook's globals: a BOUNDSHEET (0x0085) whose sheet
/// type is 1 (Excel 4.0 macro sheet) or 6 (VBA module) means macros.
fn has_macro_sheet(stream: &[u8]) -> bool {
    let mut p = 0;
    while p + 4 <= stream.len() {
        let ty = u16::from_le_bytes([stream[p], stream[p + 1]]);
        let len = usize::from(u16::from_le_bytes([stream[p + 2], stream[p + 3]]));
        let data = &stream[p + 4..stream.len().min(p + 4 + len)];
        if ty == 0x0085 && data.len() >= 6 && matches!(data[5], 1 | 6) {
            return true;
        }
        if ty == 0x000A {
            break; // EOF of the globals substream
        }
        p += 4 + len;
    }
    false
}
