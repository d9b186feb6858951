//! The upload corpus: benign files a care provider really sends, and hostile files with the
//! refusal code each must get. Everything is generated here.

use crate::formats::{self, Ooxml, doc, gif, jpeg, ooxml, pdf, png, tiff, xls};
use crate::ole::{self, Node};
use crate::zipw::{Raw, ZipWriter, deflate_zeros};

pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!H+H*";

fn sjis(s: &str) -> Vec<u8> {
    let (b, _, unmappable) = encoding_rs::SHIFT_JIS.encode(s);
    assert!(!unmappable);
    b.into_owned()
}

/// Files that must be accepted: (name, bytes).
pub fn benign() -> Vec<(String, Vec<u8>)> {
    let csv = "事業所番号,事業所名,表示\r\n1312345678,ソレイユ訪問介護,○\r\n";
    let mut v: Vec<(&str, Vec<u8>)> = vec![
        ("minimal.pdf", pdf("minimal")),
        ("変更届出書.pdf", pdf("henko")),
        ("REPORT.PDF", pdf("upper")),
        ("invoice.exe.pdf", pdf("double extension ending in pdf")),
        ("xmp.pdf", formats::pdf_with_xmp()),
        ("平面図.png", png(4, 3)),
        ("写真.jpg", jpeg()),
        ("photo.jpeg", formats::jpeg_exif()),
        ("anim.gif", gif("89a")),
        ("old.gif", gif("87a")),
        ("scan.tif", tiff(true)),
        ("scan.tiff", tiff(false)),
        (
            "運営規程.docx",
            ooxml(Ooxml::Word, "運営規程", None, &[], false),
        ),
        ("勤務表.xlsx", ooxml(Ooxml::Excel, "4月", None, &[], false)),
        (
            "説明資料.pptx",
            ooxml(Ooxml::PowerPoint, "説明", None, &[], false),
        ),
        (
            "stored.xlsx",
            ooxml(Ooxml::Excel, "Sheet1", None, &[], true),
        ),
        (
            "chart.docx",
            ooxml(
                Ooxml::Word,
                "グラフ付き",
                None,
                &[(
                    "word/embeddings/Microsoft_Excel_Worksheet.xlsx",
                    &ooxml(Ooxml::Excel, "埋め込み", None, &[], false),
                )],
                false,
            ),
        ),
        ("旧様式.doc", doc(vec![])),
        ("旧様式.xls", xls(&[0, 0], 0, vec![])),
        ("大きいブック.xls", xls(&[0, 2], 9000, vec![])),
        ("利用者名簿.csv", csv.as_bytes().to_vec()),
        (
            "bom.csv",
            [b"\xEF\xBB\xBF".as_slice(), csv.as_bytes()].concat(),
        ),
        ("名簿_sjis.csv", sjis(csv)),
        (
            "memo.txt",
            b"Plain ASCII memo.\r\nSecond line.\r\n".to_vec(),
        ),
        ("ﾒﾓ.txt", sjis("ｶﾀｶﾅ ﾃｷｽﾄ 表示\r\n")),
        ("layout.txt", b"col1\tcol2\x0cpage two\r\n\x1a".to_vec()),
        ("eicar-free.txt", b"<not markup> 5 < 6 and a->b\n".to_vec()),
    ];
    let zips: Vec<(&str, Vec<u8>)> = vec![
        (
            "添付資料.zip",
            ZipWriter::new()
                .file("a.pdf", &pdf("a"))
                .file("b.pdf", &pdf("b"))
                .finish(),
        ),
        (
            "folders.zip",
            ZipWriter::new()
                .stored("資料/", b"")
                .file("資料/平面図.pdf", &pdf("plan"))
                .file("資料/写真/外観.jpg", &jpeg())
                .finish(),
        ),
        (
            "windows-sjis.zip",
            ZipWriter::new()
                .raw(Raw {
                    name: sjis("申請書類/"),
                    flags: 0,
                    ..Raw::stored("x/", b"")
                })
                .raw(Raw {
                    // 表 and ソ end in byte 0x5C, which is not a backslash here.
                    name: sjis("申請書類/表紙ソフト.pdf"),
                    flags: 0,
                    ..Raw::deflated("x", &pdf("sjis"))
                })
                .finish(),
        ),
        (
            "mixed.zip",
            ZipWriter::new()
                .stored("img.png", &png(2, 2))
                .stored("list.csv", b"a,b\r\n1,2\r\n")
                .file("scan.tif", &tiff(true))
                .file("anim.gif", &gif("89a"))
                .finish(),
        ),
        (
            "mac.zip",
            ZipWriter::new()
                .file("doc.pdf", &pdf("mac"))
                .file(
                    "__MACOSX/._doc.pdf",
                    b"\0\x05\x16\x07\0\x02\0\0Mac OS X        ",
                )
                .file(".DS_Store", b"\0\0\0\x01Bud1\0\0\x10\0")
                .finish(),
        ),
        (
            "finder.zip",
            ZipWriter::new()
                .raw(Raw {
                    made_by: 0x0315,
                    external: 0o100_644 << 16,
                    descriptor: true,
                    ..Raw::deflated("議事録.pdf", &pdf("finder"))
                })
                .raw(Raw {
                    descriptor: true,
                    ..Raw::deflated("一覧.csv", "氏名,電話\n".as_bytes())
                })
                .finish(),
        ),
        (
            "zip64.zip",
            ZipWriter::new()
                .raw(Raw {
                    zip64: true,
                    ..Raw::deflated("big-format.pdf", &pdf("zip64"))
                })
                .force_zip64()
                .finish(),
        ),
        ("empty-archive.zip", ZipWriter::new().finish()),
        (
            "sparse-at-floor.zip",
            ZipWriter::new()
                .file("zeros.txt", &vec![b' '; 1024 * 1024])
                .finish(),
        ),
    ];
    v.extend(zips);
    v.into_iter().map(|(n, b)| (n.to_string(), b)).collect()
}

/// Files that must be refused: (name, bytes, expected code).
pub fn hostile() -> Vec<(String, Vec<u8>, &'static str)> {
    let exe =
        b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0This program cannot be run in DOS mode.".to_vec();
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
        .to_vec();
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let mut gif_html = gif("89a");
    gif_html.splice(13..13, b"<script>alert(1)</script>".iter().copied());
    let gif_js = b"GIF89a/*\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00*/=alert(1);".to_vec();
    let mut jpeg_js = jpeg();
    jpeg_js.splice(4..6, *b"/*");
    let mut jpeg_zip = jpeg();
    jpeg_zip.extend(ZipWriter::new().file("evil.js", b"alert(1)").finish());
    let mut pdf_html = b"%PDF-1.4\n%<html><script>alert(1)</script>\n".to_vec();
    pdf_html.extend_from_slice(&pdf("x")[9..]);
    let utf16: Vec<u8> = "名前\tメモ\r\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let plain_pdf = pdf("inner");
    let (zeros, zeros_crc) = deflate_zeros(20 * 1024 * 1024);
    let honest_zeros = Raw {
        name: b"zeros.txt".to_vec(),
        payload: zeros.clone(),
        method: 8,
        crc: zeros_crc,
        uncompressed: 20 * 1024 * 1024,
        ..Raw::stored("zeros.txt", b"")
    };
    let docx = ooxml(Ooxml::Word, "本文", None, &[], false);
    let xlsx_macro_type = ooxml(
        Ooxml::Excel,
        "Sheet1",
        Some("application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
        &[],
        false,
    );
    let mut truncated = ZipWriter::new().file("a.pdf", &plain_pdf).finish();
    truncated.truncate(truncated.len() / 2);
    let mut ole_garbage = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole_garbage.extend(std::iter::repeat_n(0x41, 1200));

    let z = ZipWriter::new;
    let v: Vec<(&str, Vec<u8>, &str)> = vec![
        // Names and extensions.
        ("empty.pdf", vec![], "empty"),
        ("invoice.pdf.exe", exe.clone(), "type_not_allowed"),
        ("report.pdf.js", b"alert(1)".to_vec(), "type_not_allowed"),
        (
            "README",
            b"text without extension".to_vec(),
            "type_not_allowed",
        ),
        ("trailing.pdf.", pdf("x"), "type_not_allowed"),
        ("index.html", html.clone(), "type_not_allowed"),
        ("logo.svg", svg.clone(), "type_not_allowed"),
        (
            "archive.rar",
            b"Rar!\x1a\x07\x01\0".to_vec(),
            "type_not_allowed",
        ),
        ("slides.ppt", ole::compound(vec![]), "type_not_allowed"),
        ("請求書\u{202E}fdp.exe", exe.clone(), "name_not_allowed"),
        (
            "budget.xlsm",
            ooxml(Ooxml::Excel, "x", None, &[], false),
            "macro_enabled",
        ),
        ("letter.docm", docx.clone(), "macro_enabled"),
        (
            "slides.pptm",
            ooxml(Ooxml::PowerPoint, "x", None, &[], false),
            "macro_enabled",
        ),
        ("addin.xlam", vec![1, 2, 3], "macro_enabled"),
        ("binary.xlsb", vec![1, 2, 3], "macro_enabled"),
        (
            "huge.pdf",
            [b"%PDF-1.4\n".as_slice(), &vec![b' '; 25 * 1024 * 1024]].concat(),
            "too_large",
        ),
        // Content that is not what the extension says (polyglots included).
        ("setup.pdf", exe.clone(), "type_mismatch"),
        ("linux.png", elf, "type_mismatch"),
        ("photo.png", pdf("pdf as png"), "type_mismatch"),
        ("photo.jpg", pdf("pdf as jpg"), "type_mismatch"),
        ("page.pdf", html.clone(), "type_mismatch"),
        ("logo.png", svg, "type_mismatch"),
        ("notes.txt", html, "type_mismatch"),
        ("image-page.gif", gif_html, "type_mismatch"),
        ("gif-js.gif", gif_js, "type_mismatch"),
        ("jpeg-js.jpg", jpeg_js, "type_mismatch"),
        ("gifar.jpg", jpeg_zip, "type_mismatch"),
        ("pdf-html.pdf", pdf_html, "type_mismatch"),
        (
            "old-archive.pdf",
            b"\x21\x15-lh5-\0\x10\0\0".to_vec(),
            "type_mismatch",
        ),
        ("data.csv", b"a,b\r\n1,\0\0\0\r\n".to_vec(), "type_mismatch"),
        ("utf16.txt", utf16, "type_mismatch"),
        (
            "escape.csv",
            b"a,b\r\n\x1b[31mred\x1b[0m\r\n".to_vec(),
            "type_mismatch",
        ),
        (
            "random.txt",
            vec![0x80, 0xFF, 0xFE, 0xA0, 0x85, 0xFD],
            "type_mismatch",
        ),
        (
            "run.txt",
            b"#!/bin/sh\nrm -rf /\n".to_vec(),
            "type_mismatch",
        ),
        (
            "rar.zip",
            b"Rar!\x1a\x07\x00\xcf\x90\x73\0\0".to_vec(),
            "type_mismatch",
        ),
        (
            "seven.zip",
            b"7z\xbc\xaf\x27\x1c\0\x04".to_vec(),
            "type_mismatch",
        ),
        // Office files with macros, or not the format they claim.
        (
            "vba.docx",
            ooxml(
                Ooxml::Word,
                "x",
                None,
                &[("word/vbaProject.bin", &ole::compound(vec![]))],
                false,
            ),
            "macro_enabled",
        ),
        ("macro-type.xlsx", xlsx_macro_type, "macro_enabled"),
        (
            "xlm.xlsx",
            ooxml(
                Ooxml::Excel,
                "x",
                None,
                &[("xl/macrosheets/sheet1.xml", b"<xm:macrosheet/>")],
                false,
            ),
            "macro_enabled",
        ),
        (
            "embedded.docx",
            ooxml(
                Ooxml::Word,
                "x",
                None,
                &[(
                    "word/embeddings/Microsoft_Excel_Macro-Enabled_Worksheet.xlsm",
                    b"PK",
                )],
                false,
            ),
            "macro_enabled",
        ),
        (
            "vba.xls",
            xls(
                &[0],
                0,
                vec![
                    Node::Storage("_VBA_PROJECT_CUR"),
                    Node::Storage("VBA"),
                    Node::Stream("_VBA_PROJECT", vec![0xCC, 0x61]),
                ],
            ),
            "macro_enabled",
        ),
        (
            "macros.doc",
            doc(vec![
                Node::Storage("Macros"),
                Node::Stream("PROJECT", b"ID=\"{0}\"".to_vec()),
            ]),
            "macro_enabled",
        ),
        ("xlm-macro.xls", xls(&[0, 1], 0, vec![]), "macro_enabled"),
        (
            "xlm-macro-big.xls",
            xls(&[0, 1], 9000, vec![]),
            "macro_enabled",
        ),
        (
            "xlsx-as.docx",
            ooxml(Ooxml::Excel, "x", None, &[], false),
            "type_mismatch",
        ),
        (
            "pdfs-as.docx",
            z().file("a.pdf", &plain_pdf).finish(),
            "type_mismatch",
        ),
        ("book-as.doc", xls(&[0], 0, vec![]), "type_mismatch"),
        ("broken.xls", ole_garbage, "type_mismatch"),
        (
            "encrypted.docx",
            ole::compound(vec![Node::Stream("EncryptedPackage", vec![0; 600])]),
            "type_mismatch",
        ),
        (
            "encrypted.doc",
            ole::compound(vec![
                Node::Stream("EncryptedInfo", vec![4, 0]),
                Node::Stream("EncryptedPackage", vec![0; 600]),
            ]),
            "encrypted",
        ),
        (
            "traversal.docx",
            ooxml(
                Ooxml::Word,
                "x",
                None,
                &[("../../evil.pdf", &plain_pdf)],
                false,
            ),
            "archive_path",
        ),
        (
            "bomb.docx",
            docx_with(Raw {
                uncompressed: 0xFFFF_FFF0,
                ..Raw::deflated("word/media/big.xml", b"<x/>")
            }),
            "archive_too_large",
        ),
        // Archives: bombs, counts, paths, nesting, types inside.
        ("bomb-declared.zip", many_declared(20), "archive_too_large"),
        (
            "bomb-accumulated.zip",
            many_small_declared(120),
            "archive_too_large",
        ),
        (
            "bomb-zip64.zip",
            z().raw(Raw {
                zip64: true,
                uncompressed: 1 << 40,
                ..Raw::deflated("big.txt", b"x")
            })
            .finish(),
            "archive_too_large",
        ),
        (
            "bomb-ratio.zip",
            z().raw(honest_zeros.clone()).finish(),
            "archive_too_large",
        ),
        (
            "bomb-lie.zip",
            z().raw(Raw {
                uncompressed: 1000,
                ..honest_zeros
            })
            .finish(),
            "archive_too_large",
        ),
        (
            "bomb-overlap.zip",
            z().file("a.txt", &vec![b'a'; 5000])
                .alias(0)
                .alias(0)
                .finish(),
            "archive_invalid",
        ),
        (
            "entries-10001.zip",
            many_entries(10_001, None),
            "archive_too_many_entries",
        ),
        (
            "entries-lying-count.zip",
            many_entries(1_001, Some(1)),
            "archive_too_many_entries",
        ),
        (
            "dotdot.zip",
            z().file("../evil.pdf", &plain_pdf).finish(),
            "archive_path",
        ),
        (
            "dotdot-deep.zip",
            z().file("docs/../../evil.pdf", &plain_pdf).finish(),
            "archive_path",
        ),
        (
            "absolute.zip",
            z().file("/etc/cron.d/evil.txt", b"* * * * * root sh")
                .finish(),
            "archive_path",
        ),
        (
            "drive.zip",
            z().file("C:/Windows/evil.txt", b"x").finish(),
            "archive_path",
        ),
        (
            "backslash.zip",
            z().file("dir\\..\\evil.txt", b"x").finish(),
            "archive_path",
        ),
        (
            "nul-name.zip",
            z().file("a.pdf\0.exe", &plain_pdf).finish(),
            "archive_path",
        ),
        (
            "stream-name.zip",
            z().file("report.pdf:evil.exe", &plain_pdf).finish(),
            "archive_path",
        ),
        (
            "symlink.zip",
            z().raw(Raw {
                made_by: 0x031E,
                external: 0o120_777 << 16,
                ..Raw::stored("link.txt", b"/etc/passwd")
            })
            .finish(),
            "archive_path",
        ),
        (
            "nested.zip",
            z().file("inner.zip", &z().file("a.pdf", &plain_pdf).finish())
                .finish(),
            "archive_nested",
        ),
        (
            "nested-disguised.zip",
            z().file("inner.pdf", &z().file("a.pdf", &plain_pdf).finish())
                .finish(),
            "archive_nested",
        ),
        (
            "office-inside.zip",
            z().file("申請書.docx", &docx).finish(),
            "archive_nested",
        ),
        (
            "seven-inside.zip",
            z().stored("x.7z", b"7z\xbc\xaf\x27\x1c\0\x04").finish(),
            "archive_nested",
        ),
        (
            "exe-inside.zip",
            z().file("setup.exe", &exe).finish(),
            "type_not_allowed",
        ),
        (
            "svg-inside.zip",
            z().file("logo.svg", b"<svg/>").finish(),
            "type_not_allowed",
        ),
        (
            "mz-as-pdf-inside.zip",
            z().file("readme.pdf", &exe).finish(),
            "type_mismatch",
        ),
        (
            "html-as-txt-inside.zip",
            z().file("readme.txt", b"<html><script>x</script>").finish(),
            "type_mismatch",
        ),
        (
            "xlsm-inside.zip",
            z().file("calc.xlsm", b"PK").finish(),
            "macro_enabled",
        ),
        (
            "encrypted.zip",
            z().raw(Raw {
                flags: 1,
                ..Raw::stored("secret.pdf", &plain_pdf)
            })
            .finish(),
            "encrypted",
        ),
        (
            "bzip2.zip",
            z().raw(Raw {
                method: 12,
                ..Raw::stored("a.pdf", &plain_pdf)
            })
            .finish(),
            "archive_invalid",
        ),
        (
            "local-name.zip",
            z().raw(Raw {
                local_name: Some(b"evil.exe".to_vec()),
                ..Raw::deflated("fine.pdf", &plain_pdf)
            })
            .finish(),
            "archive_invalid",
        ),
        ("truncated.zip", truncated, "archive_invalid"),
        (
            "corrupt-deflate.zip",
            z().raw(Raw {
                payload: vec![0xFF; 64],
                ..Raw::deflated("a.pdf", &plain_pdf)
            })
            .finish(),
            "archive_invalid",
        ),
    ];
    v.into_iter()
        .map(|(n, b, c)| (n.to_string(), b, c))
        .collect()
}

/// A minimal docx with one more (hostile) part.
fn docx_with(extra: Raw) -> Vec<u8> {
    let (part, ty) = formats::main_part(Ooxml::Word);
    let ct = format!(
        r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/{part}" ContentType="{ty}"/></Types>"#
    );
    ZipWriter::new()
        .file("[Content_Types].xml", ct.as_bytes())
        .file(part, b"<w:document/>")
        .raw(extra)
        .finish()
}

/// `n` entries each declaring ~4 GB unpacked from a few bytes.
pub fn many_declared(n: usize) -> Vec<u8> {
    let mut w = ZipWriter::new();
    for i in 0..n {
        w.add(Raw {
            uncompressed: 0xFFFF_FFFE,
            ..Raw::deflated(&format!("part{i:02}.txt"), b"tiny")
        });
    }
    w.finish()
}

/// `n` entries each declaring just under 1 MiB (below the ratio floor): only the total
/// refuses them, from the directory alone.
pub fn many_small_declared(n: usize) -> Vec<u8> {
    let mut w = ZipWriter::new();
    for i in 0..n {
        w.add(Raw {
            uncompressed: 1000 * 1000,
            ..Raw::deflated(&format!("part{i:03}.txt"), b"tiny")
        });
    }
    w.finish()
}

/// `n` empty stored entries; the end record may lie about the count.
pub fn many_entries(n: usize, declared: Option<u64>) -> Vec<u8> {
    let mut w = ZipWriter::new();
    for i in 0..n {
        w.add(Raw::stored(&format!("f{i:05}.txt"), b""));
    }
    w.finish_declaring(declared.unwrap_or(n as u64))
}
