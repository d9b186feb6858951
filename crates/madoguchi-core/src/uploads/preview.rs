//! Which stored files may be shown inline (プレビュー): PDF, PNG and JPEG only, judged by their
//! bytes. Everything else is only ever downloaded. The web crate serves previews with the
//! type chosen here, `nosniff`, and a sandbox CSP; downloads stay `application/octet-stream`.

use super::sniff::{Magic, magic};

/// How a file can be previewed in a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewKind {
    /// In a frame (the browser's PDF viewer).
    Pdf,
    /// As an `<img>`.
    Image,
}

/// The `Content-Type` to preview these bytes with, or `None` when they are not a PDF, PNG or
/// JPEG (whatever the file's name or the type its uploader claimed).
pub fn preview_content_type(bytes: &[u8]) -> Option<&'static str> {
    match magic(bytes) {
        Magic::Pdf => Some("application/pdf"),
        Magic::Png => Some("image/png"),
        Magic::Jpeg => Some("image/jpeg"),
        _ => None,
    }
}

/// How a stored file can be previewed, from its name: the upload gate only keeps a file whose
/// final extension matches its bytes, so the name tells without reading the file (the preview
/// itself checks the bytes again).
pub fn preview_kind(filename: &str) -> Option<PreviewKind> {
    match super::final_extension(filename)?.as_str() {
        "pdf" => Some(PreviewKind::Pdf),
        "png" | "jpg" | "jpeg" => Some(PreviewKind::Image),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pdf_png_and_jpeg_are_previewed_by_content() {
        assert_eq!(preview_content_type(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(
            preview_content_type(b"\x89PNG\r\n\x1a\n...."),
            Some("image/png")
        );
        assert_eq!(
            preview_content_type(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(preview_content_type(b"<html><script>"), None);
        assert_eq!(preview_content_type(b"GIF89a"), None);
        assert_eq!(preview_content_type(b"<svg xmlns="), None);
        assert_eq!(preview_content_type(b""), None);
    }

    #[test]
    fn names_say_what_can_be_previewed() {
        assert_eq!(preview_kind("登記事項証明書.PDF"), Some(PreviewKind::Pdf));
        assert_eq!(preview_kind("photo.jpeg"), Some(PreviewKind::Image));
        assert_eq!(preview_kind("平面図.png"), Some(PreviewKind::Image));
        assert_eq!(preview_kind("roster.xlsx"), None);
        assert_eq!(preview_kind("noext"), None);
    }
}
