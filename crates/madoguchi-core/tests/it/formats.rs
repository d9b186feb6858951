//! Small but well-formed files of every accepted format, built in code (no downloads).

use crate::ole::{self, Node};
use crate::zipw::{ZipWriter, crc32};

/// A one-page PDF with a correct cross-reference table.
pub fn pdf(title: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_string(),
        format!("<< /Title ({}) >>", title.replace(['(', ')', '\\'], "")),
    ];
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A PDF whose first KiB carries an XMP packet (legitimate XML, not markup we refuse).
pub fn pdf_with_xmp() -> Vec<u8> {
    let mut p = b"%PDF-1.6\n1 0 obj\n<< /Type /Metadata /Subtype /XML >>\nstream\n".to_vec();
    p.extend_from_slice(b"<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF></rdf:RDF></x:xmpmeta><?xpacket end='w'?>\nendstream\nendobj\n");
    p.extend_from_slice(&pdf("xmp")[9..]);
    p
}

fn png_chunk(out: &mut Vec<u8>, ty: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut c = ty.to_vec();
    c.extend_from_slice(data);
    out.extend_from_slice(&c);
    out.extend_from_slice(&crc32(&c).to_be_bytes());
}

/// A `w`×`h` RGB PNG.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            raw.extend_from_slice(&[(x * 7) as u8, (y * 5) as u8, 0x80]);
        }
    }
    png_chunk(
        &mut out,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6),
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A 1×1 baseline JPEG (made once with ImageMagick, kept as bytes).
pub fn jpeg() -> Vec<u8> {
    hex(
        "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c656763ffc0000b080001000101011100ffc40014000100000000000000000000000000000007ffc40014100100000000000000000000000000000000ffda0008010100003f00407fffd9",
    )
}

/// A JPEG with an Exif APP1 segment before the JFIF data.
pub fn jpeg_exif() -> Vec<u8> {
    let j = jpeg();
    let mut out = j[..2].to_vec();
    let exif = b"Exif\0\0II*\0\x08\0\0\0\0\0";
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(exif);
    out.extend_from_slice(&j[2..]);
    out
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A 1×1 GIF (version "87a" or "89a").
pub fn gif(version: &str) -> Vec<u8> {
    let mut g = format!("GIF{version}").into_bytes();
    g.extend_from_slice(b"\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00");
    g.extend_from_slice(b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;");
    g
}

/// A 1×1 bilevel TIFF, little- or big-endian.
pub fn tiff(little: bool) -> Vec<u8> {
    let p16 = |v: u16| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let p32 = |v: u32| {
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let mut t = if little {
        b"II*\0".to_vec()
    } else {
        b"MM\0*".to_vec()
    };
    t.extend_from_slice(&p32(8));
    let tags: [(u16, u16, u32); 6] = [
        (256, 3, 1),  // width
        (257, 3, 1),  // height
        (259, 3, 1),  // no compression
        (262, 3, 0),  // white is zero
        (273, 4, 86), // strip offset
        (279, 4, 1),  // strip byte count
    ];
    t.extend_from_slice(&p16(tags.len() as u16));
    for (tag, ty, v) in tags {
        t.extend_from_slice(&p16(tag));
        t.extend_from_slice(&p16(ty));
        t.extend_from_slice(&p32(1));
        if ty == 3 {
            t.extend_from_slice(&p16(v as u16));
            t.extend_from_slice(&[0, 0]);
        } else {
            t.extend_from_slice(&p32(v));
        }
    }
    t.extend_from_slice(&p32(0));
    t.push(0);
    t
}

/// Which OOXML document to build.
#[derive(Clone, Copy)]
pub enum Ooxml {
    Word,
    Excel,
    PowerPoint,
}

const CT_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#;

/// Main part name and its (macro-free) content type.
pub fn main_part(kind: Ooxml) -> (&'static str, &'static str) {
    match kind {
        Ooxml::Word => (
            "word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        ),
        Ooxml::Excel => (
            "xl/workbook.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        ),
        Ooxml::PowerPoint => (
            "ppt/presentation.xml",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        ),
    }
}

/// An OOXML package: `[Content_Types].xml`, `_rels/.rels`, the main part (with `text`),
/// plus `extra` parts; `main_type` overrides the main content type; `stored` skips deflate.
pub fn ooxml(
    kind: Ooxml,
    text: &str,
    main_type: Option<&str>,
    extra: &[(&str, &[u8])],
    stored: bool,
) -> Vec<u8> {
    let (part, default_type) = main_part(kind);
    let mut ct = format!(
        r#"{CT_HEAD}<Override PartName="/{part}" ContentType="{}"/>"#,
        main_type.unwrap_or(default_type)
    );
    if extra.iter().any(|(n, _)| n.ends_with("vbaProject.bin")) {
        ct.push_str(
            r#"<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>"#,
        );
    }
    ct.push_str("</Types>");
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{part}"/></Relationships>"#
    );
    let body = match kind {
        Ooxml::Word => format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"#
        ),
        Ooxml::Excel => format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="{text}" sheetId="1"/></sheets></workbook>"#
        ),
        Ooxml::PowerPoint => format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><!-- {text} --></p:presentation>"#
        ),
    };
    let mut z = ZipWriter::new();
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", ct.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        (part, body.as_bytes()),
    ];
    parts.extend_from_slice(extra);
    for (name, data) in parts {
        z = if stored {
            z.stored(name, data)
        } else {
            z.file(name, data)
        };
    }
    z.finish()
}

/// A Word 97 document: WordDocument (regular sectors), 1Table and summary (mini stream).
pub fn doc(extra: Vec<Node>) -> Vec<u8> {
    let mut word = vec![0u8; 6000];
    word[..2].copy_from_slice(&[0xEC, 0xA5]);
    let mut nodes = vec![
        Node::Stream("WordDocument", word),
        Node::Stream("1Table", vec![0; 700]),
        Node::Stream("\u{5}SummaryInformation", vec![0xFE, 0xFF, 0, 0]),
    ];
    nodes.extend(extra);
    ole::compound(nodes)
}

/// An Excel 97 workbook with the given sheet types, padded to `min_len` bytes of BIFF.
pub fn xls(sheet_types: &[u8], min_len: usize, extra: Vec<Node>) -> Vec<u8> {
    let mut nodes = vec![Node::Stream(
        "Workbook",
        ole::workbook(sheet_types, min_len),
    )];
    nodes.extend(extra);
    ole::compound(nodes)
}
