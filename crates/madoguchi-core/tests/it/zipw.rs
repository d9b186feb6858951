//! A minimal ZIP writer for building test archives in code, honest ones and hostile ones
//! (lying sizes, aliased local headers, ZIP64 records, odd names, encryption flags).

use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
};

/// CRC-32 (IEEE), as ZIP and PNG use it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Raw DEFLATE of `data`.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(data, 6)
}

/// Raw DEFLATE of `n` zero bytes, streamed (never holds the `n` bytes); with their CRC.
pub fn deflate_zeros(n: u64) -> (Vec<u8>, u32) {
    let flags = create_comp_flags_from_zip_params(9, -15, 0);
    let mut c = CompressorOxide::new(flags);
    let zeros = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = n;
    let mut crc = !0u32;
    let table: Vec<u32> = (0..256u32).map(|i| crc32_byte_table(i as u8)).collect();
    loop {
        let take = left.min(zeros.len() as u64) as usize;
        let input = &zeros[..take];
        for _ in 0..take {
            crc = table[(crc & 0xFF) as usize] ^ (crc >> 8);
        }
        let flush = if left == take as u64 {
            TDEFLFlush::Finish
        } else {
            TDEFLFlush::None
        };
        let mut input = input;
        loop {
            let (status, used, wrote) = compress(&mut c, input, &mut buf, flush);
            out.extend_from_slice(&buf[..wrote]);
            input = &input[used..];
            match status {
                TDEFLStatus::Done => return (out, !crc),
                TDEFLStatus::Okay if input.is_empty() && flush == TDEFLFlush::None => break,
                TDEFLStatus::Okay => {}
                s => panic!("deflate failed: {s:?}"),
            }
        }
        left -= take as u64;
    }
}

fn crc32_byte_table(i: u8) -> u32 {
    let mut c = u32::from(i);
    for _ in 0..8 {
        c = if c & 1 != 0 {
            (c >> 1) ^ 0xEDB8_8320
        } else {
            c >> 1
        };
    }
    c
}

/// One entry as written (payload already compressed when `method` is 8).
#[derive(Clone, Debug)]
pub struct Raw {
    pub name: Vec<u8>,
    /// Name in the local header when it should differ from the central directory's.
    pub local_name: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub method: u16,
    pub crc: u32,
    pub uncompressed: u64,
    pub flags: u16,
    pub made_by: u16,
    pub external: u32,
    pub zip64: bool,
    /// Sizes and CRC after the data (flag bit 3), as streaming writers such as macOS Finder do.
    pub descriptor: bool,
}

impl Raw {
    /// A deflated entry with honest sizes (UTF-8 flag set for non-ASCII names).
    pub fn deflated(name: &str, data: &[u8]) -> Raw {
        Raw {
            payload: deflate(data),
            method: 8,
            ..Raw::stored(name, data)
        }
    }

    /// A stored (uncompressed) entry.
    pub fn stored(name: &str, data: &[u8]) -> Raw {
        Raw {
            name: name.as_bytes().to_vec(),
            local_name: None,
            payload: data.to_vec(),
            method: 0,
            crc: crc32(data),
            uncompressed: data.len() as u64,
            flags: if name.is_ascii() { 0 } else { 0x0800 },
            made_by: 20,
            external: 0,
            zip64: false,
            descriptor: false,
        }
    }
}

/// Builds an archive entry by entry.
#[derive(Default)]
pub struct ZipWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    count: u64,
    zip64: bool,
    /// (local header offset, entry) of each written entry, for aliases.
    written: Vec<(u64, Raw)>,
}

impl ZipWriter {
    pub fn new() -> ZipWriter {
        ZipWriter::default()
    }

    pub fn file(mut self, name: &str, data: &[u8]) -> Self {
        self.add(Raw::deflated(name, data));
        self
    }

    pub fn stored(mut self, name: &str, data: &[u8]) -> Self {
        self.add(Raw::stored(name, data));
        self
    }

    pub fn raw(mut self, e: Raw) -> Self {
        self.add(e);
        self
    }

    /// Writes the ZIP64 end records even if nothing needs them.
    pub fn force_zip64(mut self) -> Self {
        self.zip64 = true;
        self
    }

    pub fn add(&mut self, e: Raw) {
        let offset = self.out.len() as u64;
        let local_name = e.local_name.clone().unwrap_or_else(|| e.name.clone());
        let extra = if e.zip64 {
            zip64_field(&[e.uncompressed, e.payload.len() as u64])
        } else {
            Vec::new()
        };
        let (c32, u32_) = if e.zip64 {
            (0xFFFF_FFFF, 0xFFFF_FFFF)
        } else {
            (e.payload.len() as u32, e.uncompressed as u32)
        };
        let (crc, c32, u32_) = if e.descriptor {
            (0, 0, 0)
        } else {
            (e.crc, c32, u32_)
        };
        let o = &mut self.out;
        o.extend_from_slice(b"PK\x03\x04");
        put16(o, if e.zip64 { 45 } else { 20 });
        put16(o, e.flags | if e.descriptor { 0x0008 } else { 0 });
        put16(o, e.method);
        put16(o, 0);
        put16(o, 0x5A21);
        put32(o, crc);
        put32(o, c32);
        put32(o, u32_);
        put16(o, local_name.len() as u16);
        put16(o, extra.len() as u16);
        o.extend_from_slice(&local_name);
        o.extend_from_slice(&extra);
        o.extend_from_slice(&e.payload);
        if e.descriptor {
            o.extend_from_slice(b"PK\x07\x08");
            put32(o, e.crc);
            put32(o, e.payload.len() as u32);
            put32(o, e.uncompressed as u32);
        }
        self.central_record(&e, offset);
        self.written.push((offset, e));
    }

    /// A second central-directory record pointing at entry `index`'s local header (the
    /// overlapping-entries zip bomb).
    pub fn alias(mut self, index: usize) -> Self {
        let (offset, e) = self.written[index].clone();
        self.central_record(&e, offset);
        self
    }

    fn central_record(&mut self, e: &Raw, offset: u64) {
        if e.zip64 {
            self.zip64 = true;
        }
        let extra = if e.zip64 {
            zip64_field(&[e.uncompressed, e.payload.len() as u64, offset])
        } else {
            Vec::new()
        };
        let c = &mut self.central;
        c.extend_from_slice(b"PK\x01\x02");
        put16(c, e.made_by);
        put16(c, if e.zip64 { 45 } else { 20 });
        put16(c, e.flags | if e.descriptor { 0x0008 } else { 0 });
        put16(c, e.method);
        put16(c, 0);
        put16(c, 0x5A21);
        put32(c, e.crc);
        if e.zip64 {
            put32(c, 0xFFFF_FFFF);
            put32(c, 0xFFFF_FFFF);
        } else {
            put32(c, e.payload.len() as u32);
            put32(c, e.uncompressed as u32);
        }
        put16(c, e.name.len() as u16);
        put16(c, extra.len() as u16);
        put16(c, 0);
        put16(c, 0);
        put16(c, 0);
        put32(c, e.external);
        put32(c, if e.zip64 { 0xFFFF_FFFF } else { offset as u32 });
        c.extend_from_slice(&e.name);
        c.extend_from_slice(&extra);
        self.count += 1;
    }

    pub fn finish(self) -> Vec<u8> {
        let n = self.count;
        self.finish_declaring(n)
    }

    /// Ends the archive claiming `declared` entries (a lie when it differs).
    pub fn finish_declaring(mut self, declared: u64) -> Vec<u8> {
        let cd_offset = self.out.len() as u64;
        let cd_size = self.central.len() as u64;
        self.out.extend_from_slice(&self.central);
        let o = &mut self.out;
        if self.zip64 {
            let rec = o.len() as u64;
            o.extend_from_slice(b"PK\x06\x06");
            o.extend_from_slice(&44u64.to_le_bytes());
            put16(o, 45);
            put16(o, 45);
            put32(o, 0);
            put32(o, 0);
            o.extend_from_slice(&declared.to_le_bytes());
            o.extend_from_slice(&declared.to_le_bytes());
            o.extend_from_slice(&cd_size.to_le_bytes());
            o.extend_from_slice(&cd_offset.to_le_bytes());
            o.extend_from_slice(b"PK\x06\x07");
            put32(o, 0);
            o.extend_from_slice(&rec.to_le_bytes());
            put32(o, 1);
        }
        o.extend_from_slice(b"PK\x05\x06");
        put16(o, 0);
        put16(o, 0);
        let short = if self.zip64 {
            0xFFFF
        } else {
            declared.min(0xFFFF) as u16
        };
        put16(o, short);
        put16(o, short);
        put32(
            o,
            if self.zip64 {
                0xFFFF_FFFF
            } else {
                cd_size as u32
            },
        );
        put32(
            o,
            if self.zip64 {
                0xFFFF_FFFF
            } else {
                cd_offset as u32
            },
        );
        put16(o, 0);
        self.out
    }
}

fn zip64_field(values: &[u64]) -> Vec<u8> {
    let mut f = Vec::new();
    put16(&mut f, 1);
    put16(&mut f, (values.len() * 8) as u16);
    for v in values {
        f.extend_from_slice(&v.to_le_bytes());
    }
    f
}

pub fn put16(o: &mut Vec<u8>, v: u16) {
    o.extend_from_slice(&v.to_le_bytes());
}

pub fn put32(o: &mut Vec<u8>, v: u32) {
    o.extend_from_slice(&v.to_le_bytes());
}
