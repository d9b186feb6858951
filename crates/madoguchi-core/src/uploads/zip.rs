//! A bounded reader of ZIP central directories. It decides from the directory alone, before
//! a byte is inflated, whether an archive is acceptable: entry count, declared unpacked total,
//! per-entry compression ratio, entry names (absolute, `..`, backslash, NUL, drive letters,
//! symlinks), encryption, compression method, and that entries neither overlap (the
//! non-recursive zip bomb) nor point outside the file.
//!
//! Only then may [`stream`] inflate an entry, into a fixed buffer that is thrown away, to
//! prove the entry does not unpack to more than it declared. Nothing is ever written out;
//! memory stays bounded by the entry limit, never by declared sizes.

use std::ops::Range;

use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZFlush, MZStatus};

/// Limits an archive must respect (from the upload configuration).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: u64,
    pub max_unpacked: u64,
    /// Largest unpacked:packed ratio of one entry larger than [`RATIO_FLOOR`].
    pub max_ratio: u64,
}

/// Entries smaller than this unpacked are never refused for their ratio (harmless anyway).
pub const RATIO_FLOOR: u64 = 1024 * 1024;

/// Why an archive is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZipError {
    Invalid(&'static str),
    TooManyEntries,
    TooLarge,
    Ratio(String),
    /// The entry inflates past its declared size (a lying zip bomb).
    Lie(String),
    BadPath(String),
    Encrypted(String),
}

/// One entry of the central directory.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: Vec<u8>,
    pub method: u16,
    pub compressed: u64,
    pub uncompressed: u64,
    /// Offset of the entry's local header.
    pub header: usize,
    /// Where the (compressed) data lies in the archive.
    pub data: Range<usize>,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.name.ends_with(b"/")
    }

    /// The name for people: UTF-8, else Shift_JIS (Japanese Windows), controls replaced.
    pub fn display_name(&self) -> String {
        display(&self.name)
    }
}

fn display(raw: &[u8]) -> String {
    let s = match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::SHIFT_JIS
            .decode_without_bom_handling(raw)
            .0
            .into_owned(),
    };
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(120)
        .collect()
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

const BAD: ZipError = ZipError::Invalid("構造が壊れています");

/// Reads and checks the central directory. Stops at the first problem.
pub fn read_directory(bytes: &[u8], limits: &Limits) -> Result<Vec<Entry>, ZipError> {
    let (total, cd) = locate_directory(bytes)?;
    if total > limits.max_entries {
        return Err(ZipError::TooManyEntries);
    }
    let mut entries: Vec<Entry> = Vec::with_capacity(total as usize);
    let mut unpacked: u64 = 0;
    let mut pos = cd.start;
    while pos < cd.end {
        if entries.len() as u64 >= limits.max_entries {
            return Err(ZipError::TooManyEntries);
        }
        let (entry, next) = read_entry(bytes, pos, cd.clone())?;
        unpacked = unpacked.saturating_add(entry.uncompressed);
        if unpacked > limits.max_unpacked {
            return Err(ZipError::TooLarge);
        }
        if entry.uncompressed > RATIO_FLOOR
            && entry.uncompressed > entry.compressed.saturating_mul(limits.max_ratio)
        {
            return Err(ZipError::Ratio(entry.display_name()));
        }
        entries.push(entry);
        pos = next;
    }
    if entries.len() as u64 != total {
        return Err(ZipError::Invalid("ファイル数の記録が一致しません"));
    }
    let mut spans: Vec<(usize, usize)> = entries.iter().map(|e| (e.header, e.data.end)).collect();
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[0].1 > w[1].0) {
        return Err(ZipError::Invalid("ファイルの領域が重なっています"));
    }
    Ok(entries)
}

/// Finds the end-of-central-directory record (ZIP64-aware); returns the declared entry
/// count and the byte range of the central directory.
fn locate_directory(bytes: &[u8]) -> Result<(u64, Range<usize>), ZipError> {
    if bytes.len() < 22 {
        return Err(BAD);
    }
    let from = bytes.len().saturating_sub(22 + 65535);
    let eocd = (from..=bytes.len() - 22)
        .rev()
        .find(|&i| {
            bytes[i..].starts_with(b"PK\x05\x06")
                && u16_at(bytes, i + 20).map(usize::from) == Some(bytes.len() - i - 22)
        })
        .ok_or(ZipError::Invalid("終端レコードがありません"))?;
    let r16 = |o| u16_at(bytes, eocd + o).ok_or(BAD);
    let r32 = |o| u32_at(bytes, eocd + o).ok_or(BAD);
    let (disk, cd_disk) = (r16(4)?, r16(6)?);
    let mut total = u64::from(r16(10)?);
    let mut size = u64::from(r32(12)?);
    let mut offset = u64::from(r32(16)?);
    let mut end_of_cd = eocd;
    if disk == 0xFFFF || total == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        let loc = eocd.checked_sub(20).ok_or(BAD)?;
        if !bytes[loc..].starts_with(b"PK\x06\x07") {
            return Err(BAD);
        }
        let rec = usize::try_from(u64_at(bytes, loc + 8).ok_or(BAD)?).map_err(|_| BAD)?;
        if rec > loc || !bytes[rec..].starts_with(b"PK\x06\x06") {
            return Err(BAD);
        }
        let r = |o| u64_at(bytes, rec + o).ok_or(BAD);
        if u32_at(bytes, rec + 16) != Some(0) || u32_at(bytes, rec + 20) != Some(0) {
            return Err(ZipError::Invalid("分割 ZIP には対応していません"));
        }
        total = r(32)?;
        size = r(40)?;
        offset = r(48)?;
        end_of_cd = rec;
    } else if disk != 0 || cd_disk != 0 {
        return Err(ZipError::Invalid("分割 ZIP には対応していません"));
    }
    let start = usize::try_from(offset).map_err(|_| BAD)?;
    let end = start
        .checked_add(usize::try_from(size).map_err(|_| BAD)?)
        .ok_or(BAD)?;
    if end > end_of_cd {
        return Err(BAD);
    }
    Ok((total, start..end))
}

/// Parses the central-directory record at `pos` and checks it and its local header.
fn read_entry(bytes: &[u8], pos: usize, cd: Range<usize>) -> Result<(Entry, usize), ZipError> {
    let rec = &bytes[pos..cd.end];
    if !rec.starts_with(b"PK\x01\x02") || rec.len() < 46 {
        return Err(BAD);
    }
    let r16 = |o| u16_at(rec, o).ok_or(BAD);
    let r32 = |o| u32_at(rec, o).ok_or(BAD);
    let made_by = r16(4)?;
    let flags = r16(8)?;
    let method = r16(10)?;
    let mut compressed = u64::from(r32(20)?);
    let mut uncompressed = u64::from(r32(24)?);
    let (name_len, extra_len, comment_len) =
        (r16(28)? as usize, r16(30)? as usize, r16(32)? as usize);
    let external = r32(38)?;
    let mut local = u64::from(r32(42)?);
    let next = 46 + name_len + extra_len + comment_len;
    if rec.len() < next {
        return Err(BAD);
    }
    let name = rec[46..46 + name_len].to_vec();
    check_name(&name, flags & 0x0800 != 0)?;
    // Unix symlink entries can point outside the extraction directory.
    if made_by >> 8 == 3 && (external >> 16) & 0o170000 == 0o120000 {
        return Err(ZipError::BadPath(display(&name)));
    }
    if flags & 0x0001 != 0 || flags & 0x0040 != 0 || method == 99 {
        return Err(ZipError::Encrypted(display(&name)));
    }
    if method != 0 && method != 8 {
        return Err(ZipError::Invalid("対応していない圧縮方式です"));
    }
    zip64_extra(
        &rec[46 + name_len..46 + name_len + extra_len],
        &mut uncompressed,
        &mut compressed,
        &mut local,
    )?;
    if method == 0 && compressed != uncompressed {
        return Err(BAD);
    }
    let local = usize::try_from(local).map_err(|_| BAD)?;
    let lh = bytes.get(local..cd.start).ok_or(BAD)?;
    if !lh.starts_with(b"PK\x03\x04") || lh.len() < 30 {
        return Err(BAD);
    }
    let (l_name, l_extra) = (u16_at(lh, 26).ok_or(BAD)?, u16_at(lh, 28).ok_or(BAD)?);
    let start = 30 + usize::from(l_name) + usize::from(l_extra);
    if lh.get(30..30 + usize::from(l_name)) != Some(name.as_slice()) {
        return Err(ZipError::Invalid("ファイル名の記録が一致しません"));
    }
    let len = usize::try_from(compressed).map_err(|_| BAD)?;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= lh.len())
        .ok_or(BAD)?;
    let entry = Entry {
        name,
        method,
        compressed,
        uncompressed,
        header: local,
        data: local + start..local + end,
    };
    Ok((entry, pos + next))
}

/// Applies the ZIP64 extended-information field (id 1) to saturated sizes and offset.
fn zip64_extra(
    mut extra: &[u8],
    uncompressed: &mut u64,
    compressed: &mut u64,
    local: &mut u64,
) -> Result<(), ZipError> {
    while extra.len() >= 4 {
        let id = u16_at(extra, 0).ok_or(BAD)?;
        let len = usize::from(u16_at(extra, 2).ok_or(BAD)?);
        let body = extra.get(4..4 + len).ok_or(BAD)?;
        if id == 1 {
            let mut at = 0;
            for field in [uncompressed, compressed, local] {
                if *field == 0xFFFF_FFFF {
                    *field = u64_at(body, at).ok_or(BAD)?;
                    at += 8;
                }
            }
            return Ok(());
        }
        extra = &extra[4 + len..];
    }
    Ok(())
}

/// Entry names that could escape the extraction directory or mislead a tool: empty, control
/// characters (NUL included), absolute paths, drive letters or alternate streams (`:`),
/// backslashes (outside Shift_JIS double-byte characters of legacy names), `..` components
/// however the separators are read.
fn check_name(raw: &[u8], utf8_flag: bool) -> Result<(), ZipError> {
    let bad = || Err(ZipError::BadPath(display(raw)));
    if raw.is_empty() || raw.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return bad();
    }
    if raw[0] == b'/' || raw[0] == b'\\' || raw.contains(&b':') {
        return bad();
    }
    let legacy = !utf8_flag && std::str::from_utf8(raw).is_err();
    if if legacy {
        has_single_byte_backslash(raw)
    } else {
        raw.contains(&b'\\')
    } {
        return bad();
    }
    if raw.split(|&b| b == b'/' || b == b'\\').any(|c| c == b"..") {
        return bad();
    }
    Ok(())
}

/// A 0x5C byte that is a backslash in Shift_JIS (not the trail byte of a kanji such as 表).
fn has_single_byte_backslash(raw: &[u8]) -> bool {
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\\' {
            return true;
        }
        i += if matches!(b, 0x81..=0x9F | 0xE0..=0xFC) {
            2
        } else {
            1
        };
    }
    false
}

/// Size of the scratch buffer inflated data passes through (then discarded).
const SCRATCH: usize = 32 * 1024;

/// Inflates (or reads, if stored) one entry already accepted by [`read_directory`], checking
/// that it unpacks to exactly its declared size; keeps at most `keep` leading bytes. Output
/// beyond the declared size stops the work at once. Memory: the inflater (~45 KiB), a 32 KiB
/// scratch buffer and `keep`.
pub fn stream(bytes: &[u8], e: &Entry, keep: usize) -> Result<Vec<u8>, ZipError> {
    let data = &bytes[e.data.clone()];
    if e.method == 0 {
        return Ok(data[..data.len().min(keep)].to_vec());
    }
    let lie = || ZipError::Lie(e.display_name());
    let corrupt = ZipError::Invalid("圧縮データが壊れています");
    let mut kept = Vec::with_capacity(keep.min(e.uncompressed as usize).min(SCRATCH));
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    let mut out = vec![0u8; SCRATCH];
    let (mut read, mut written) = (0usize, 0u64);
    loop {
        let r = inflate(&mut state, &data[read..], &mut out, MZFlush::None);
        read += r.bytes_consumed;
        written += r.bytes_written as u64;
        if written > e.uncompressed {
            return Err(lie());
        }
        let room = keep - kept.len();
        kept.extend_from_slice(&out[..r.bytes_written.min(room)]);
        match r.status {
            Ok(MZStatus::StreamEnd) => break,
            Ok(_) if r.bytes_consumed > 0 || r.bytes_written > 0 => {}
            _ => return Err(corrupt),
        }
    }
    if written != e.uncompressed {
        return Err(ZipError::Invalid("展開後のサイズが記録と一致しません"));
    }
    Ok(kept)
}
