//! Policy for uploaded ZIP archives. The central directory decides first (limits, names,
//! types by name); only an archive that passes is streamed through the inflater, which
//! proves each entry's declared size and shows its first bytes so the content can be held
//! against the entry's extension. ZIP contents are limited to formats whose safety shows in
//! their first bytes (PDF, images, CSV/text): archives and Office files (themselves
//! containers that may hide macros) are refused as nested.

use super::sniff::{self, Magic};
use super::zip::{self, Entry, Limits, ZipError};
use super::{FileType, Refusal, final_extension, is_macro_extension};

/// Extensions of archives and compressed files, refused inside a ZIP by name.
const ARCHIVE_EXTENSIONS: &[&str] = &[
    "zip", "7z", "rar", "lzh", "lha", "cab", "gz", "tgz", "bz2", "xz", "zst", "tar", "jar", "war",
    "apk", "iso", "img", "arj", "z", "docx", "xlsx", "pptx", "doc", "xls", "ppt", "odt", "ods",
    "odp",
];

/// How many leading bytes of each entry are kept for the content check.
const HEAD: usize = 4096;

/// Maps an archive problem to the refusal shown for upload `name`.
pub(super) fn refusal(name: &str, e: ZipError, limits: &Limits) -> Refusal {
    match e {
        ZipError::Invalid(why) => Refusal::new(
            "archive_invalid",
            format!("「{name}」は ZIP 形式として正しく読み取れません（{why}）。"),
        ),
        ZipError::TooManyEntries => Refusal::new(
            "archive_too_many_entries",
            format!(
                "「{name}」に含まれるファイルが多すぎます（上限 {} 件）。",
                limits.max_entries
            ),
        ),
        ZipError::TooLarge => Refusal::new(
            "archive_too_large",
            format!(
                "「{name}」は展開後の合計サイズが上限 {} MB を超えます。",
                limits.max_unpacked / 1024 / 1024
            ),
        ),
        ZipError::Ratio(entry) => Refusal::new(
            "archive_too_large",
            format!(
                "「{name}」の「{entry}」は圧縮率が異常に高いため受け付けられません（上限 {}:1、圧縮爆弾の疑い）。",
                limits.max_ratio
            ),
        ),
        ZipError::Lie(entry) => Refusal::new(
            "archive_too_large",
            format!(
                "「{name}」の「{entry}」は記録されたサイズを超えて展開されるため受け付けられません（圧縮爆弾の疑い）。"
            ),
        ),
        ZipError::BadPath(entry) => Refusal::new(
            "archive_path",
            format!(
                "「{name}」に不正なファイル名（「{entry}」：絶対パス、「..」、「\\」、制御文字、シンボリックリンクなど）が含まれています。"
            ),
        ),
        ZipError::Encrypted(_) => encrypted(name),
    }
}

pub(super) fn encrypted(name: &str) -> Refusal {
    Refusal::new(
        "encrypted",
        format!(
            "「{name}」はパスワードで保護されているため内容を検査できません。パスワードを外してから添付してください。"
        ),
    )
}

fn nested(name: &str, entry: &str) -> Refusal {
    Refusal::new(
        "archive_nested",
        format!(
            "「{name}」の中に圧縮ファイルまたは Office ファイル（「{entry}」）があります。ZIP の中身は PDF・画像・CSV・テキストに限ります。Office ファイルは ZIP に入れずに直接添付してください。"
        ),
    )
}

/// macOS clutter tolerated in archives made by Finder, recognised by name *and* content.
fn is_mac_clutter(e: &Entry, head: &[u8]) -> bool {
    let name = e.name.as_slice();
    let base = name.rsplit(|&b| b == b'/').next().unwrap_or_default();
    (name.starts_with(b"__MACOSX/")
        && base.starts_with(b"._")
        && head.starts_with(b"\0\x05\x16\x07"))
        || (base == b".DS_Store" && head.get(4..8) == Some(b"Bud1"))
}

/// Checks an uploaded `.zip` (its magic already matched).
pub(super) fn check_zip(name: &str, bytes: &[u8], limits: &Limits) -> Result<(), Refusal> {
    let entries = zip::read_directory(bytes, limits).map_err(|e| refusal(name, e, limits))?;
    // Names first: nothing is inflated for an archive refused by its directory.
    for e in entries.iter().filter(|e| !e.is_dir()) {
        let shown = e.display_name();
        let ext = final_extension(&shown).unwrap_or_default();
        if is_macro_extension(&ext) {
            return Err(Refusal::new(
                "macro_enabled",
                format!(
                    "「{name}」の中の「{shown}」はマクロを含められる Office ファイルのため受け付けられません。"
                ),
            ));
        }
        if ARCHIVE_EXTENSIONS.contains(&ext.as_str()) {
            return Err(nested(name, &shown));
        }
    }
    for e in &entries {
        let head = zip::stream(bytes, e, HEAD).map_err(|err| refusal(name, err, limits))?;
        if e.is_dir() || is_mac_clutter(e, &head) {
            continue;
        }
        check_entry(name, e, &head)?;
    }
    Ok(())
}

/// One file inside a ZIP: an allowed inner type whose first bytes match its extension.
fn check_entry(name: &str, e: &Entry, head: &[u8]) -> Result<(), Refusal> {
    let shown = e.display_name();
    let ext = final_extension(&shown).unwrap_or_default();
    let found = sniff::magic(head);
    if matches!(found, Magic::Zip | Magic::Ole2 | Magic::Archive) {
        return Err(nested(name, &shown));
    }
    let inner = FileType::from_extension(&ext).filter(|t| {
        matches!(
            t,
            FileType::Pdf
                | FileType::Png
                | FileType::Jpeg
                | FileType::Gif
                | FileType::Tiff
                | FileType::Text
        )
    });
    let Some(kind) = inner else {
        return Err(Refusal::new(
            "type_not_allowed",
            format!(
                "「{name}」の中に添付できない形式のファイル（「{shown}」）があります。ZIP の中身は PDF・画像（PNG・JPEG・GIF・TIFF）・CSV・テキストに限ります。"
            ),
        ));
    };
    let mismatch = |what: &str| {
        Refusal::new(
            "type_mismatch",
            format!("「{name}」の中の「{shown}」の内容が拡張子 .{ext} と一致しません（{what}）。"),
        )
    };
    if found != kind.magic() {
        return Err(mismatch(&format!("内容は{}です", found.describe())));
    }
    if kind == FileType::Text && (head.contains(&0) || sniff::has_bad_controls(head)) {
        return Err(mismatch("テキストではありません"));
    }
    if sniff::has_markup(head) || sniff::is_script_polyglot(head) {
        return Err(mismatch("HTML やスクリプトが埋め込まれています"));
    }
    Ok(())
}
