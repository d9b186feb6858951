//! Windows-31J (CP932) — what Japanese ledger systems mean by "Shift_JIS" — as text rules.
//!
//! `encoding_rs::SHIFT_JIS` *is* Windows-31J (the WHATWG definition), but its `encode()`
//! silently writes `&#NNNN;` for characters it cannot represent. Everything here goes through
//! `encode_from_utf8_without_replacement` instead, and every character is classified once:
//!
//! - **plain**: encodes, and decodes back to itself;
//! - **mapped**: has no CP932 code of its own but a standard CP932 equivalent (〜 U+301C →
//!   ～ U+FF5E, ‖ → ∥, — → ―, ¢ → ￠, £ → ￡, ¬ → ￢; also − U+2212 → －, ¥ → ￥ and ‾ → ￣,
//!   which the encoder would otherwise turn into bytes that read back as other characters);
//!   the equivalent is written and is what a decoder returns;
//! - **vendor-specific** (機種依存文字): NEC row 13 and the IBM extensions (① ㈱ № ≒ … 髙 﨑):
//!   valid CP932, but refused by some legacy systems, so callers warn;
//! - **unmappable**: everything else (𠮷, emoji, most non-Japanese scripts, private-use 外字):
//!   reported, never written.
//!
//! The API for callers (exports, imports, form validation):
//! [`representable`] (may this text be written at all?), [`check`] (what is wrong, and where),
//! [`encode`] / [`encode_into`] (bytes, or the list of unmappable characters), [`decode`]
//! (strict: malformed input is an error, never U+FFFD).

use encoding_rs::{EncoderResult, SHIFT_JIS};

/// Characters without a CP932 code of their own, and the CP932 character written instead.
/// The first six are the classic "Shift_JIS vs. Unicode" mismatches; the last three would
/// otherwise be encoded as 0x817C, 0x5C and 0x7E, which decode as －, `\` and `~`.
pub const STANDARD_MAPPINGS: [(char, char); 9] = [
    ('\u{301C}', '\u{FF5E}'), // 〜 WAVE DASH → ～ FULLWIDTH TILDE
    ('\u{2016}', '\u{2225}'), // ‖ DOUBLE VERTICAL LINE → ∥ PARALLEL TO
    ('\u{2014}', '\u{2015}'), // — EM DASH → ― HORIZONTAL BAR
    ('\u{00A2}', '\u{FFE0}'), // ¢ → ￠
    ('\u{00A3}', '\u{FFE1}'), // £ → ￡
    ('\u{00AC}', '\u{FFE2}'), // ¬ → ￢
    ('\u{2212}', '\u{FF0D}'), // − MINUS SIGN → － FULLWIDTH HYPHEN-MINUS
    ('\u{00A5}', '\u{FFE5}'), // ¥ → ￥
    ('\u{203E}', '\u{FFE3}'), // ‾ OVERLINE → ￣
];

/// How one character fares in CP932.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharClass {
    /// Encodes and decodes back to itself.
    Plain,
    /// Written as this CP932 character instead (see [`STANDARD_MAPPINGS`]).
    Mapped(char),
    /// Valid CP932 from the NEC or IBM extensions (機種依存文字): written, but worth a warning.
    VendorSpecific,
    /// No CP932 representation: reported, never written.
    Unmappable,
}

/// One character worth telling the user about, at `index` (counted in characters from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding {
    pub index: usize,
    pub ch: char,
    pub class: CharClass,
}

impl Finding {
    /// e.g. 「𠮷（U+20BB7）」: the character and its code point, for messages.
    pub fn describe(&self) -> String {
        describe_char(self.ch)
    }
}

/// 「𠮷（U+20BB7）」: a character with its code point (some are invisible or look alike).
pub fn describe_char(ch: char) -> String {
    format!("{ch}（U+{:04X}）", ch as u32)
}

/// What [`check`] found in a text: only non-plain characters are listed, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// The characters that cannot be written (the text must not be exported as is).
    pub fn unmappable(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.class == CharClass::Unmappable)
    }

    /// The 機種依存文字 (written, but some systems refuse them).
    pub fn vendor_specific(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.class == CharClass::VendorSpecific)
    }

    /// Whether the text can be written (possibly with standard mappings).
    pub fn is_representable(&self) -> bool {
        self.unmappable().next().is_none()
    }
}

/// Classifies one character.
pub fn classify(ch: char) -> CharClass {
    if ch.is_ascii() {
        return CharClass::Plain;
    }
    if let Some(&(_, to)) = STANDARD_MAPPINGS.iter().find(|(from, _)| *from == ch) {
        return CharClass::Mapped(to);
    }
    match encode_char(ch) {
        Some((bytes, len)) if round_trips(ch, &bytes[..len]) => {
            if len == 2 && matches!(bytes[0], 0x87 | 0xED | 0xEE | 0xFA..=0xFC) {
                CharClass::VendorSpecific
            } else {
                CharClass::Plain
            }
        }
        _ => CharClass::Unmappable,
    }
}

/// Whether every character of `s` can be written in CP932 (directly or by a standard
/// mapping). Form validation calls this to refuse what a Shift_JIS ledger could not take.
pub fn representable(s: &str) -> bool {
    s.chars().all(|c| classify(c) != CharClass::Unmappable)
}

/// Every mapped, vendor-specific or unmappable character of `s`, with its position.
pub fn check(s: &str) -> Report {
    let findings = s
        .chars()
        .enumerate()
        .filter_map(|(index, ch)| match classify(ch) {
            CharClass::Plain => None,
            class => Some(Finding { index, ch, class }),
        })
        .collect();
    Report { findings }
}

/// `s` with the standard mappings applied (what [`encode`] writes, as text).
pub fn apply_mappings(s: &str) -> String {
    s.chars()
        .map(
            |c| match STANDARD_MAPPINGS.iter().find(|(from, _)| *from == c) {
                Some(&(_, to)) => to,
                None => c,
            },
        )
        .collect()
}

/// Encodes `s` to CP932, applying the standard mappings. Fails with every unmappable
/// character (nothing is replaced or dropped silently).
pub fn encode(s: &str) -> Result<Vec<u8>, Vec<Finding>> {
    let mut out = Vec::with_capacity(s.len());
    encode_into(s, &mut out)?;
    Ok(out)
}

/// Like [`encode`], appending to `out`. On failure `out` is left as it was.
pub fn encode_into(s: &str, out: &mut Vec<u8>) -> Result<(), Vec<Finding>> {
    let start = out.len();
    let mut bad = Vec::new();
    for (index, ch) in s.chars().enumerate() {
        if ch.is_ascii() {
            out.push(ch as u8);
            continue;
        }
        match classify(ch) {
            CharClass::Unmappable => bad.push(Finding {
                index,
                ch,
                class: CharClass::Unmappable,
            }),
            CharClass::Mapped(to) => push_char(to, out),
            CharClass::Plain | CharClass::VendorSpecific => push_char(ch, out),
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        out.truncate(start);
        Err(bad)
    }
}

/// Malformed CP932 input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}行目に Shift_JIS（CP932）として読み取れないバイト列があります。")]
pub struct DecodeError {
    /// The first line (from 1) holding a malformed sequence.
    pub line: usize,
}

/// Decodes CP932 strictly: a malformed byte sequence is an error, never U+FFFD.
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(s) => Ok(s.into_owned()),
        None => Err(DecodeError {
            line: first_bad_line(bytes),
        }),
    }
}

/// The first line that does not decode (for a message a person can act on). CP932 trail
/// bytes are never 0x0A, so splitting at line feeds cannot cut a character in two.
fn first_bad_line(bytes: &[u8]) -> usize {
    bytes
        .split(|b| *b == b'\n')
        .position(|line| {
            SHIFT_JIS
                .decode_without_bom_handling_and_without_replacement(line)
                .is_none()
        })
        .map_or(1, |i| i + 1)
}

/// Whether a decoded character is a user-defined character (外字, CP932 0xF040–0xF9FC decode
/// to the private-use area): meaningless outside the system that defined it.
pub fn is_private_use(ch: char) -> bool {
    matches!(ch, '\u{E000}'..='\u{F8FF}')
}

fn push_char(ch: char, out: &mut Vec<u8>) {
    if let Some((bytes, len)) = encode_char(ch) {
        out.extend_from_slice(&bytes[..len]);
    }
}

/// The CP932 bytes of one character, or `None` when the encoder has no mapping.
fn encode_char(ch: char) -> Option<([u8; 4], usize)> {
    let mut src = [0u8; 4];
    let src = ch.encode_utf8(&mut src);
    let mut dst = [0u8; 4];
    let mut encoder = SHIFT_JIS.new_encoder();
    let (result, _, written) = encoder.encode_from_utf8_without_replacement(src, &mut dst, true);
    match result {
        EncoderResult::InputEmpty => Some((dst, written)),
        EncoderResult::Unmappable(_) | EncoderResult::OutputFull => None,
    }
}

fn round_trips(ch: char, bytes: &[u8]) -> bool {
    SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .is_some_and(|s| {
            let mut it = s.chars();
            it.next() == Some(ch) && it.next().is_none()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_standard_mappings_become_their_cp932_equivalents() {
        for (from, to) in STANDARD_MAPPINGS {
            assert_eq!(classify(from), CharClass::Mapped(to), "{from}");
            assert_eq!(classify(to), CharClass::Plain, "{to} must be plain CP932");
            let bytes = encode(&from.to_string()).unwrap();
            assert_eq!(decode(&bytes).unwrap(), to.to_string());
        }
        assert_eq!(encode("〜").unwrap(), vec![0x81, 0x60]);
        assert_eq!(encode("—").unwrap(), vec![0x81, 0x5C]);
    }

    #[test]
    fn unmappable_characters_are_reported_with_their_position() {
        let err = encode("𠮷野家😀").unwrap_err();
        assert_eq!(
            err.iter().map(|f| (f.index, f.ch)).collect::<Vec<_>>(),
            vec![(0, '𠮷'), (3, '😀')]
        );
        assert!(!representable("𠮷"));
        assert!(representable("吉野家 ～ ① ㈱ 髙"));
        assert_eq!(
            Finding {
                index: 0,
                ch: '𠮷',
                class: CharClass::Unmappable
            }
            .describe(),
            "𠮷（U+20BB7）"
        );
    }

    #[test]
    fn vendor_specific_characters_are_flagged_but_written() {
        for c in ['①', '㈱', '髙', '﨑', 'Ⅰ', '№', '㍉'] {
            assert_eq!(classify(c), CharClass::VendorSpecific, "{c}");
        }
        // JIS X 0208 characters that also exist in NEC row 13 are encoded at their JIS code.
        for c in ['≒', '∵', '∩', '高', '崎', 'ア', '～', '∥'] {
            assert_eq!(classify(c), CharClass::Plain, "{c}");
        }
        let r = check("株式会社髙橋①");
        assert_eq!(
            r.vendor_specific().map(|f| f.index).collect::<Vec<_>>(),
            vec![4, 6]
        );
        assert!(r.is_representable());
        assert_eq!(
            decode(&encode("㈱髙").unwrap()).unwrap(),
            "㈱髙",
            "written, not dropped"
        );
    }

    #[test]
    fn decoding_is_strict_and_names_the_line() {
        assert_eq!(decode(&[0x82, 0xA0]).unwrap(), "あ");
        let err = decode(b"ok\r\nbad \x82\r\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            decode(&[0x82]).is_err(),
            "a truncated character is an error"
        );
        assert!(is_private_use(
            decode(&[0xF0, 0x40]).unwrap().chars().next().unwrap()
        ));
    }

    /// Characters that are representable, drawn from the ranges a ledger sees.
    fn representable_char() -> impl Strategy<Value = char> {
        prop_oneof![
            proptest::char::range(' ', '~'),
            proptest::char::range('\u{3041}', '\u{3096}'),
            proptest::char::range('\u{30A1}', '\u{30F6}'),
            proptest::char::range('\u{4E00}', '\u{9FFF}'),
            proptest::char::range('\u{FF01}', '\u{FF9F}'),
            proptest::char::range('\u{2460}', '\u{2473}'),
            proptest::sample::select(STANDARD_MAPPINGS.iter().map(|m| m.0).collect::<Vec<_>>()),
        ]
        .prop_filter("representable", |c| representable(&c.to_string()))
    }

    proptest! {
        #[test]
        fn representable_text_round_trips(s in proptest::collection::vec(representable_char(), 0..40)) {
            let s: String = s.into_iter().collect();
            let bytes = encode(&s).expect("representable");
            prop_assert_eq!(decode(&bytes).unwrap(), apply_mappings(&s));
        }

        #[test]
        fn unmappable_characters_are_always_reported_and_never_written(
            prefix in "[a-zあ-ん]{0,5}",
            odd in prop_oneof![
                proptest::char::range('\u{20000}', '\u{2A6DF}'),
                proptest::char::range('\u{1F300}', '\u{1F5FF}'),
                proptest::char::range('\u{0400}', '\u{04FF}').prop_filter("not in JIS", |c| !representable(&c.to_string())),
                proptest::char::range('\u{E000}', '\u{F8FF}'),
            ],
            suffix in "[a-zア-ン]{0,5}",
        ) {
            let s = format!("{prefix}{odd}{suffix}");
            let mut out = b"keep".to_vec();
            let err = encode_into(&s, &mut out).unwrap_err();
            prop_assert_eq!(&out, b"keep", "nothing written on failure");
            prop_assert_eq!(err.len(), 1);
            prop_assert_eq!(err[0].ch, odd);
            prop_assert_eq!(err[0].index, prefix.chars().count());
            prop_assert!(!representable(&s));
            prop_assert_eq!(check(&s).unmappable().count(), 1);
        }

        #[test]
        fn any_text_either_encodes_to_what_decodes_back_or_is_reported(s in "\\PC{0,30}") {
            match encode(&s) {
                Ok(bytes) => prop_assert_eq!(decode(&bytes).unwrap(), apply_mappings(&s)),
                Err(bad) => {
                    prop_assert!(!bad.is_empty());
                    for f in bad {
                        prop_assert_eq!(classify(f.ch), CharClass::Unmappable);
                    }
                }
            }
        }
    }
}
