//! A bounded reader of OLE2 compound files ([MS-CFB]), the container of .doc and .xls: enough
//! to list the directory (storage and stream names) and read one stream. Every sector chain
//! is followed at most as many steps as the file has sectors, so a looping or lying chain
//! ends in an error, and nothing is allocated beyond the size of the file itself.

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FREESECT: u32 = 0xFFFF_FFFF;

/// A directory entry: storage (1), stream (2) or root (5).
#[derive(Clone, Debug)]
pub struct DirEntry {
    pub name: String,
    pub kind: u8,
    start: u32,
    size: u64,
}

/// A parsed compound file over the upload's bytes.
pub struct Compound<'a> {
    bytes: &'a [u8],
    shift: u32,
    fat_sectors: Vec<u32>,
    first_minifat: u32,
    mini_cutoff: u64,
    pub entries: Vec<DirEntry>,
}

type R<T> = Result<T, &'static str>;
const BAD: &str = "OLE2 構造が壊れています";

fn u16_at(b: &[u8], at: usize) -> R<u16> {
    Ok(u16::from_le_bytes(
        b.get(at..at + 2).ok_or(BAD)?.try_into().map_err(|_| BAD)?,
    ))
}
fn u32_at(b: &[u8], at: usize) -> R<u32> {
    Ok(u32::from_le_bytes(
        b.get(at..at + 4).ok_or(BAD)?.try_into().map_err(|_| BAD)?,
    ))
}
fn u64_at(b: &[u8], at: usize) -> R<u64> {
    Ok(u64::from_le_bytes(
        b.get(at..at + 8).ok_or(BAD)?.try_into().map_err(|_| BAD)?,
    ))
}

impl<'a> Compound<'a> {
    pub fn parse(bytes: &'a [u8]) -> R<Compound<'a>> {
        if bytes.len() < 512 || u16_at(bytes, 0x1C)? != 0xFFFE {
            return Err(BAD);
        }
        let shift = u32::from(u16_at(bytes, 0x1E)?);
        if shift != 9 && shift != 12 {
            return Err(BAD);
        }
        let mut c = Compound {
            bytes,
            shift,
            fat_sectors: Vec::new(),
            first_minifat: u32_at(bytes, 0x3C)?,
            mini_cutoff: u64::from(u32_at(bytes, 0x38)?),
            entries: Vec::new(),
        };
        let per_sector = (1usize << shift) / 4;
        let fat_count = u32_at(bytes, 0x2C)? as usize;
        if fat_count > c.sector_count() {
            return Err(BAD);
        }
        // The first 109 FAT sector numbers are in the header, the rest in the DIFAT chain.
        for i in 0..fat_count.min(109) {
            c.fat_sectors.push(u32_at(bytes, 0x4C + 4 * i)?);
        }
        let mut difat = u32_at(bytes, 0x44)?;
        let mut steps = 0;
        while c.fat_sectors.len() < fat_count && difat != ENDOFCHAIN && difat != FREESECT {
            steps += 1;
            if steps > c.sector_count() {
                return Err(BAD);
            }
            let sector = c.sector(difat)?;
            for i in 0..per_sector - 1 {
                if c.fat_sectors.len() < fat_count {
                    c.fat_sectors.push(u32_at(sector, 4 * i)?);
                }
            }
            difat = u32_at(sector, 4 * (per_sector - 1))?;
        }
        let dir = c.chain(u32_at(bytes, 0x30)?)?;
        for s in dir {
            let sector = c.sector(s)?;
            for raw in sector.chunks_exact(128) {
                c.entries.push(dir_entry(raw, shift)?);
            }
        }
        Ok(c)
    }

    fn sector_count(&self) -> usize {
        (self.bytes.len() >> self.shift) + 1
    }

    /// The bytes of sector `n` (the last one may be short in truncated-but-valid files).
    fn sector(&self, n: u32) -> R<&'a [u8]> {
        let size = 1usize << self.shift;
        let start = (n as usize + 1).checked_mul(size).ok_or(BAD)?;
        if n >= 0xFFFF_FFFA || start >= self.bytes.len() {
            return Err(BAD);
        }
        Ok(&self.bytes[start..self.bytes.len().min(start + size)])
    }

    fn fat_next(&self, n: u32) -> R<u32> {
        let per_sector = (1usize << self.shift) / 4;
        let fat = *self.fat_sectors.get(n as usize / per_sector).ok_or(BAD)?;
        u32_at(self.sector(fat)?, 4 * (n as usize % per_sector))
    }

    /// Sector numbers of a chain, refusing loops and chains longer than the file.
    fn chain(&self, mut n: u32) -> R<Vec<u32>> {
        let mut out = Vec::new();
        while n != ENDOFCHAIN {
            if out.len() >= self.sector_count() {
                return Err(BAD);
            }
            out.push(n);
            n = self.fat_next(n)?;
        }
        Ok(out)
    }

    /// Finds a stream by name (ASCII, case-insensitive).
    pub fn stream_named(&self, name: &str) -> Option<&DirEntry> {
        self.entries
            .iter()
            .find(|e| e.kind == 2 && e.name.eq_ignore_ascii_case(name))
    }

    /// Reads a stream, at most `cap` bytes (never more than the file holds).
    pub fn read(&self, e: &DirEntry, cap: usize) -> R<Vec<u8>> {
        let want = (e.size.min(cap as u64) as usize).min(self.bytes.len());
        let mut out = Vec::with_capacity(want);
        if e.size < self.mini_cutoff {
            let root = self.entries.first().filter(|r| r.kind == 5).ok_or(BAD)?;
            let mini_stream = self.chain(root.start)?;
            let minifat = self.chain(self.first_minifat)?;
            let mut n = e.start;
            while out.len() < want {
                if n == ENDOFCHAIN {
                    return Err(BAD);
                }
                let at = n as usize * 64;
                let sector = mini_stream.get(at >> self.shift).ok_or(BAD)?;
                let off = at & ((1 << self.shift) - 1);
                let chunk = self.sector(*sector)?.get(off..off + 64).ok_or(BAD)?;
                out.extend_from_slice(&chunk[..64.min(want - out.len())]);
                let per_sector = (1usize << self.shift) / 4;
                let fat = minifat.get(n as usize / per_sector).ok_or(BAD)?;
                n = u32_at(self.sector(*fat)?, 4 * (n as usize % per_sector))?;
            }
        } else {
            for s in self.chain(e.start)? {
                if out.len() >= want {
                    break;
                }
                let sector = self.sector(s)?;
                out.extend_from_slice(&sector[..sector.len().min(want - out.len())]);
            }
        }
        Ok(out)
    }
}

fn dir_entry(raw: &[u8], shift: u32) -> R<DirEntry> {
    let len = usize::from(u16_at(raw, 0x40)?).min(64);
    let units: Vec<u16> = raw[..len.saturating_sub(2)]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let size = if shift == 9 {
        u64::from(u32_at(raw, 0x78)?)
    } else {
        u64_at(raw, 0x78)?
    };
    Ok(DirEntry {
        name: String::from_utf16_lossy(&units),
        kind: raw[0x42],
        start: u32_at(raw, 0x74)?,
        size,
    })
}
