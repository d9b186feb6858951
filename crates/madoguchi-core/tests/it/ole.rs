//! A minimal OLE2 compound-file writer (version 3, 512-byte sectors) for .doc/.xls test
//! files: a flat directory under the root, small streams in the mini stream, large ones in
//! regular sectors.

const END: u32 = 0xFFFF_FFFE;
const FREE: u32 = 0xFFFF_FFFF;
const FATSECT: u32 = 0xFFFF_FFFD;

/// A storage (no data) or a stream.
pub enum Node {
    Storage(&'static str),
    Stream(&'static str, Vec<u8>),
}

/// Builds a compound file holding `nodes` as children of the root.
pub fn compound(nodes: Vec<Node>) -> Vec<u8> {
    // Lay out the mini stream (streams < 4096 bytes) and the regular streams.
    let mut mini = Vec::new();
    let mut minifat: Vec<u32> = Vec::new();
    let mut regular: Vec<(usize, Vec<u8>)> = Vec::new(); // (node index, data)
    let mut starts = vec![(END, 0u64); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        if let Node::Stream(_, data) = n {
            if data.len() < 4096 {
                let first = (mini.len() / 64) as u32;
                let count = data.len().div_ceil(64).max(1);
                for k in 0..count {
                    minifat.push(if k + 1 == count {
                        END
                    } else {
                        first + k as u32 + 1
                    });
                }
                mini.extend_from_slice(data);
                mini.resize((first as usize + count) * 64, 0);
                starts[i] = (first, data.len() as u64);
            } else {
                regular.push((i, data.clone()));
            }
        }
    }
    let sectors = |len: usize| len.div_ceil(512);
    let dir_entries = nodes.len() + 1;
    let dir_sectors = sectors(dir_entries * 128);
    let minifat_sectors = sectors(minifat.len() * 4);
    let mini_sectors = sectors(mini.len());
    let data_sectors: usize = regular.iter().map(|(_, d)| sectors(d.len())).sum();
    let others = dir_sectors + minifat_sectors + mini_sectors + data_sectors;
    let mut fat_sectors = 1;
    while fat_sectors * 128 < others + fat_sectors {
        fat_sectors += 1;
    }
    assert!(fat_sectors <= 109, "test files stay small");
    // Sector numbers: FAT, directory, mini FAT, mini stream, regular streams.
    let mut fat: Vec<u32> = vec![FATSECT; fat_sectors];
    let chain = |fat: &mut Vec<u32>, n: usize| -> u32 {
        if n == 0 {
            return END;
        }
        let first = fat.len() as u32;
        for k in 0..n {
            fat.push(if k + 1 == n {
                END
            } else {
                first + k as u32 + 1
            });
        }
        first
    };
    let dir_start = chain(&mut fat, dir_sectors);
    let minifat_start = chain(&mut fat, minifat_sectors);
    let mini_start = chain(&mut fat, mini_sectors);
    for (i, d) in &regular {
        starts[*i] = (chain(&mut fat, sectors(d.len())), d.len() as u64);
    }
    fat.resize(fat_sectors * 128, FREE);

    let mut out = vec![0u8; 512];
    out[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    set16(&mut out, 0x18, 0x3E);
    set16(&mut out, 0x1A, 3);
    set16(&mut out, 0x1C, 0xFFFE);
    set16(&mut out, 0x1E, 9);
    set16(&mut out, 0x20, 6);
    set32(&mut out, 0x2C, fat_sectors as u32);
    set32(&mut out, 0x30, dir_start);
    set32(&mut out, 0x38, 4096);
    set32(&mut out, 0x3C, minifat_start);
    set32(&mut out, 0x40, minifat_sectors as u32);
    set32(&mut out, 0x44, END);
    for i in 0..109 {
        set32(
            &mut out,
            0x4C + 4 * i,
            if i < fat_sectors { i as u32 } else { FREE },
        );
    }
    for v in &fat {
        out.extend_from_slice(&v.to_le_bytes());
    }
    // Directory: root, then the nodes as a chain of right siblings.
    let mut dir = Vec::new();
    dir.extend(entry(
        "Root Entry",
        5,
        if nodes.is_empty() { FREE } else { 1 },
        FREE,
        mini_start,
        mini.len() as u64,
    ));
    for (i, n) in nodes.iter().enumerate() {
        let right = if i + 2 <= nodes.len() {
            i as u32 + 2
        } else {
            FREE
        };
        let (name, kind) = match n {
            Node::Storage(name) => (*name, 1),
            Node::Stream(name, _) => (*name, 2),
        };
        let (start, size) = if kind == 1 { (0, 0) } else { starts[i] };
        dir.extend(entry(name, kind, FREE, right, start, size));
    }
    pad_extend(&mut out, &dir);
    let mf: Vec<u8> = minifat.iter().flat_map(|v| v.to_le_bytes()).collect();
    pad_extend(&mut out, &mf);
    pad_extend(&mut out, &mini);
    for (_, d) in &regular {
        pad_extend(&mut out, d);
    }
    out
}

fn entry(name: &str, kind: u8, child: u32, right: u32, start: u32, size: u64) -> Vec<u8> {
    let mut e = vec![0u8; 128];
    let units: Vec<u16> = name.encode_utf16().collect();
    for (k, u) in units.iter().enumerate() {
        set16(&mut e, 2 * k, *u);
    }
    set16(&mut e, 0x40, ((units.len() + 1) * 2) as u16);
    e[0x42] = kind;
    e[0x43] = 1; // black
    set32(&mut e, 0x44, FREE);
    set32(&mut e, 0x48, right);
    set32(&mut e, 0x4C, child);
    set32(&mut e, 0x74, start);
    set32(&mut e, 0x78, size as u32);
    e
}

fn pad_extend(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    let rem = out.len() % 512;
    if rem != 0 {
        out.resize(out.len() + 512 - rem, 0);
    }
}

fn set16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn set32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A BIFF8 workbook globals substream: BOF, one BOUNDSHEET per sheet type given, EOF;
/// padded with filler records (type 0x00E1, INTERFACEHDR) up to `min_len` bytes.
pub fn workbook(sheet_types: &[u8], min_len: usize) -> Vec<u8> {
    let mut w = Vec::new();
    record(
        &mut w,
        0x0809,
        &[0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    while w.len() + 4 + 200 < min_len {
        record(&mut w, 0x00E1, &[0x20; 200]);
    }
    for (i, t) in sheet_types.iter().enumerate() {
        let name = format!("Sheet{}", i + 1);
        let mut data = vec![0, 0, 0, 0, 0, *t, name.len() as u8, 0];
        data.extend_from_slice(name.as_bytes());
        record(&mut w, 0x0085, &data);
    }
    record(&mut w, 0x000A, &[]);
    w
}

fn record(w: &mut Vec<u8>, ty: u16, data: &[u8]) {
    w.extend_from_slice(&ty.to_le_bytes());
    w.extend_from_slice(&(data.len() as u16).to_le_bytes());
    w.extend_from_slice(data);
}
