//! What a file is, judged from its bytes: the magic numbers of the formats we accept and of
//! the dangerous ones we name in refusals, markup hidden at the start of a file (what old
//! browsers sniffed), script-comment polyglot headers, a ZIP glued to the end of another file,
//! and whether "text" really is UTF-8 or Shift_JIS text.

/// The format a file's first bytes announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Magic {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Tiff,
    /// A ZIP container (also every OOXML file: docx, xlsx, pptx).
    Zip,
    /// An OLE2 compound file (doc, xls, ppt, msg, encrypted OOXML).
    Ole2,
    /// Another archive or compressed format (never accepted, never nested).
    Archive,
    /// Windows (MZ), ELF or Mach-O executable.
    Executable,
    /// HTML, SVG or XML: markup a browser may render or run.
    Markup,
    /// None of the above (text, or an unknown binary format).
    Unknown,
}

impl Magic {
    /// Japanese name for refusal messages ("内容は…です").
    pub fn describe(self) -> &'static str {
        match self {
            Magic::Pdf => "PDF",
            Magic::Png => "PNG 画像",
            Magic::Jpeg => "JPEG 画像",
            Magic::Gif => "GIF 画像",
            Magic::Tiff => "TIFF 画像",
            Magic::Zip => "ZIP 形式（Office 文書を含む）",
            Magic::Ole2 => "旧形式の Office 文書（OLE2）",
            Magic::Archive => "圧縮ファイル",
            Magic::Executable => "実行ファイル",
            Magic::Markup => "HTML・SVG などのマークアップ",
            Magic::Unknown => "不明な形式またはテキスト",
        }
    }
}

const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Archive and compression signatures (offset 0), refused at the top level and inside ZIPs.
const ARCHIVES: &[&[u8]] = &[
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",     // gzip
    b"BZh",          // bzip2
    b"\xfd7zXZ\x00", // xz
    b"\x28\xb5\x2f\xfd",
    b"MSCF\0\0\0\0", // cabinet
    b"\x60\xea",     // arj
];

/// Classifies a file (or a ZIP entry) by its first bytes.
pub fn magic(head: &[u8]) -> Magic {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(b"%PDF-") {
        Magic::Pdf
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Magic::Png
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Magic::Jpeg
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Magic::Gif
    } else if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        Magic::Tiff
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        Magic::Zip
    } else if starts(OLE2) {
        Magic::Ole2
    } else if ARCHIVES.iter().any(|m| starts(m)) || is_lzh(head) || is_tar(head) {
        Magic::Archive
    } else if starts(b"MZ")
        || starts(b"\x7fELF")
        || starts(&[0xCF, 0xFA, 0xED, 0xFE])
        || starts(&[0xCE, 0xFA, 0xED, 0xFE])
        || starts(&[0xCA, 0xFE, 0xBA, 0xBE])
        || starts(b"#!")
    {
        Magic::Executable
    } else if starts_with_markup(head) {
        Magic::Markup
    } else {
        Magic::Unknown
    }
}

/// LHA/LZH (still common in Japan): "-lh?-" or "-lz?-" at offset 2.
fn is_lzh(head: &[u8]) -> bool {
    head.len() >= 7 && head[2] == b'-' && head[3] == b'l' && head[6] == b'-'
}

fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

/// Tags that make a browser (or an old one's sniffer) treat bytes as a page.
const MARKUP: &[&[u8]] = &[
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<svg",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<img",
    b"<a href",
    b"<style",
    b"<!--",
    b"<?xml",
];

/// Markup right at the start, after an optional BOM and white space.
fn starts_with_markup(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(first) = first else { return false };
    let rest = &head[first..head.len().min(first + 32)];
    MARKUP.iter().any(|m| starts_with_ignore_case(rest, m))
}

/// Markup anywhere in the first KiB (where Internet Explorer's sniffer looked; the classic
/// "image that is also a page" trick). XMP metadata (`<x:xmpmeta`, `<rdf:`) does not match.
pub fn has_markup(head: &[u8]) -> bool {
    let head = &head[..head.len().min(1024)];
    MARKUP
        .iter()
        .filter(|m| **m != b"<?xml" && **m != b"<!--")
        .any(|m| head.windows(m.len()).any(|w| w.eq_ignore_ascii_case(m)))
}

fn starts_with_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// GIF and JPEG headers shaped to open a JavaScript comment (`/*`), the trick that makes an
/// image also parse as a script. No real GIF is 10,799 pixels wide by accident, and no real
/// JFIF segment is 12,074 bytes long.
pub fn is_script_polyglot(head: &[u8]) -> bool {
    let gif = (head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"))
        && head.get(6..8) == Some(b"/*");
    let jpeg = head.starts_with(&[0xFF, 0xD8, 0xFF]) && head.get(4..6) == Some(b"/*");
    gif || jpeg
}

/// A ZIP archive appended to another file (GIFAR-style): an end-of-central-directory record
/// whose comment length reaches exactly the end of the file.
pub fn has_trailing_zip(bytes: &[u8]) -> bool {
    if bytes.len() < 22 {
        return false;
    }
    let from = bytes.len().saturating_sub(22 + 65535);
    (from..=bytes.len() - 22).rev().any(|i| {
        bytes[i..].starts_with(b"PK\x05\x06")
            && u16::from_le_bytes([bytes[i + 20], bytes[i + 21]]) as usize == bytes.len() - i - 22
    })
}

/// Control characters a text file must not contain: all C0 controls except TAB, LF, FF, CR
/// and the DOS end-of-file mark, and DEL. Safe to test on raw bytes for both UTF-8 and
/// Shift_JIS, whose multi-byte sequences never use bytes below 0x40 or 0x7F.
pub fn has_bad_controls(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | 0x1a)) || b == 0x7f)
}

/// Why a "text" file is not acceptable text, if it is not.
pub fn text_problem(bytes: &[u8]) -> Option<&'static str> {
    if bytes.contains(&0) {
        return Some("NUL 文字を含むバイナリです");
    }
    if has_bad_controls(bytes) {
        return Some("制御文字を含みます");
    }
    let utf8 = std::str::from_utf8(bytes).is_ok();
    let sjis = || {
        encoding_rs::SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(bytes)
            .is_some()
    };
    if !utf8 && !sjis() {
        return Some("UTF-8 でも Shift_JIS でもありません");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(magic(b"%PDF-1.7\n"), Magic::Pdf);
        assert_eq!(magic(b"GIF89a\x01\x00"), Magic::Gif);
        assert_eq!(magic(b"MM\0*\0\0\0\x08"), Magic::Tiff);
        assert_eq!(magic(b"MZ\x90\0"), Magic::Executable);
        assert_eq!(magic(b"\xEF\xBB\xBF  <svg xmlns="), Magic::Markup);
        assert_eq!(magic(b"\0\0-lh5-"), Magic::Archive);
        assert_eq!(magic("氏名,年齢\n".as_bytes()), Magic::Unknown);
    }

    #[test]
    fn markup_and_polyglots() {
        assert!(has_markup(b"GIF89a\x01\0\x01\0<ScRiPt>alert(1)</script>"));
        assert!(!has_markup(b"%PDF-1.7 <x:xmpmeta><rdf:RDF>"));
        assert!(is_script_polyglot(b"GIF89a/*\x01\0"));
        assert!(!is_script_polyglot(b"GIF89a\x10\0\x10\0"));
        let mut glued = b"\xFF\xD8\xFF\xE0 jpeg".to_vec();
        glued.extend_from_slice(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert!(has_trailing_zip(&glued));
        assert!(!has_trailing_zip(b"\xFF\xD8\xFF\xE0 PK\x05\x06 only"));
    }

    #[test]
    fn text_in_utf8_or_shift_jis() {
        assert_eq!(text_problem("名前,住所\r\n".as_bytes()), None);
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("事業所番号,表示\r\n");
        assert!(std::str::from_utf8(&sjis).is_err());
        assert_eq!(text_problem(&sjis), None);
        assert!(text_problem(b"a,b\0c").is_some());
        assert!(text_problem(b"a\x1b[2J").is_some());
        assert!(text_problem(b"\x80\xff\xfe").is_some());
    }
}
