//! Character-width and kana normalisation for user input.
//!
//! フリガナ fields store full-width katakana only. People type hiragana, half-width katakana
//! (old systems, some IMEs), decomposed voiced marks (macOS file names, copy-paste) and
//! assorted spaces; [`normalize_kana`] turns all of that into one canonical form and rejects
//! anything else (kanji, latin letters, digits, symbols) with a Japanese message.
//! [`fold_full_width_ascii`] is the narrower fold used by identifier and date parsers.

/// The message returned by [`normalize_kana`] for input that is not kana.
pub const KANA_ERROR: &str = "フリガナはカタカナで入力してください。";

const IDEOGRAPHIC_SPACE: char = '\u{3000}';

/// Half-width katakana U+FF66..=U+FF9D in code-point order, as full-width katakana.
const HALF_WIDTH_KATAKANA: &str = "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

/// Folds full-width ASCII variants (U+FF01–U+FF5E: ０–９, Ａ–Ｚ, ａ–ｚ, ．, ／ …) to ASCII.
/// Other characters, including the full-width space, are left alone.
pub fn fold_full_width_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Normalises a フリガナ value.
///
/// - half-width katakana → full-width, combining a following ﾞ/ﾟ (ｶﾞ → ガ, ﾊﾟ → パ, ｳﾞ → ヴ);
/// - hiragana → katakana; decomposed or spacing voiced marks are combined too;
/// - any run of whitespace (ASCII or full-width) → one full-width space; leading and trailing
///   whitespace is removed;
/// - accepted: full-width katakana, ー, ・, ヽ, ヾ and the full-width space.
///
/// Returns `Err(KANA_ERROR)` for anything else, including a voiced mark that cannot be
/// combined. The output is a fixed point: normalising it again returns it unchanged.
/// An empty or all-space input gives `Ok("")`; requiredness is the caller's concern.
pub fn normalize_kana(s: &str) -> Result<String, String> {
    let error = || KANA_ERROR.to_owned();
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if let Some(mark) = VoicedMark::of(c) {
            let previous = if pending_space { None } else { out.pop() };
            let combined = previous.and_then(|p| mark.combine(p)).ok_or_else(error)?;
            out.push(combined);
            continue;
        }
        let kana = to_katakana(c).ok_or_else(error)?;
        if pending_space && !out.is_empty() {
            out.push(IDEOGRAPHIC_SPACE);
        }
        pending_space = false;
        out.push(kana);
    }
    Ok(out)
}

/// Maps one character to full-width katakana, or `None` if it is not kana.
fn to_katakana(c: char) -> Option<char> {
    match c {
        // ァ..ヺ, ・, ー, ヽ, ヾ
        '\u{30A1}'..='\u{30FE}' => Some(c),
        // ぁ..ゖ and ゝゞ sit exactly 0x60 below their katakana.
        '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => char::from_u32(c as u32 + 0x60),
        '\u{FF65}' => Some('・'),
        '\u{FF66}'..='\u{FF9D}' => HALF_WIDTH_KATAKANA.chars().nth(c as usize - 0xFF66),
        _ => None,
    }
}

/// 濁点 or 半濁点, in any of its encodings (half-width, combining, spacing).
#[derive(Clone, Copy)]
enum VoicedMark {
    Dakuten,
    Handakuten,
}

impl VoicedMark {
    fn of(c: char) -> Option<Self> {
        match c {
            '\u{FF9E}' | '\u{3099}' | '\u{309B}' => Some(Self::Dakuten),
            '\u{FF9F}' | '\u{309A}' | '\u{309C}' => Some(Self::Handakuten),
            _ => None,
        }
    }

    /// The precomposed katakana for `base` + this mark, if Unicode has one.
    fn combine(self, base: char) -> Option<char> {
        let offset = match (self, base) {
            (Self::Dakuten, 'ウ') => return Some('ヴ'),
            (Self::Dakuten, 'ヽ') => return Some('ヾ'),
            (
                Self::Dakuten,
                'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ' | 'タ' | 'チ'
                | 'ツ' | 'テ' | 'ト' | 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ',
            ) => 1,
            (Self::Dakuten, 'ワ' | 'ヰ' | 'ヱ' | 'ヲ') => 8,
            (Self::Handakuten, 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ') => 2,
            _ => return None,
        };
        char::from_u32(base as u32 + offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> String {
        normalize_kana(s).unwrap()
    }

    #[test]
    fn half_width_katakana_is_widened_and_combined() {
        assert_eq!(ok("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ　タロウ");
        assert_eq!(ok("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"), "パピプペポ");
        assert_eq!(
            ok("ｶﾞｷﾞｸﾞｹﾞｺﾞｻﾞｼﾞｽﾞｾﾞｿﾞﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ"),
            "ガギグゲゴザジズゼゾダヂヅデドバビブベボ"
        );
        assert_eq!(ok("ｳﾞｧｲｵﾘﾝ"), "ヴァイオリン");
        assert_eq!(ok("ｦｯｰｬ･ﾝ"), "ヲッーャ・ン");
    }

    #[test]
    fn hiragana_and_decomposed_marks() {
        assert_eq!(ok("やまだ たろう"), "ヤマダ　タロウ");
        assert_eq!(ok("ゔぁ"), "ヴァ");
        assert_eq!(ok("カ\u{3099}ハ\u{309A}"), "ガパ");
        assert_eq!(ok("ワ\u{309B}"), "ヷ");
    }

    #[test]
    fn spaces_are_collapsed_and_trimmed() {
        assert_eq!(ok("  ヤマダ 　  タロウ　"), "ヤマダ　タロウ");
        assert_eq!(ok(" 　"), "");
        assert_eq!(ok("サトウ・ジョン"), "サトウ・ジョン");
    }

    #[test]
    fn non_kana_is_rejected() {
        for bad in [
            "山田",
            "Yamada",
            "ヤマダ1",
            "ﾞｱ",
            "ア ﾞ",
            "アﾞ",
            "ナﾟ",
            "ー-",
            "ｶ｡",
        ] {
            assert_eq!(normalize_kana(bad), Err(KANA_ERROR.to_owned()), "{bad}");
        }
    }

    #[test]
    fn fold_full_width_ascii_only_touches_ascii_variants() {
        assert_eq!(
            fold_full_width_ascii("Ｒ８．１１／２２ ａ　ア"),
            "R8.11/22 a　ア"
        );
    }

    proptest! {
        #[test]
        fn ok_output_is_idempotent(input in "[ぁ-ゖァ-ヾｦ-ﾟ･ 　ﾞﾟ\u{3099}\u{309A}]{0,20}") {
            if let Ok(once) = normalize_kana(&input) {
                prop_assert_eq!(normalize_kana(&once), Ok(once.clone()));
            }
        }

        #[test]
        fn never_panics(input in "\\PC*") {
            if let Ok(once) = normalize_kana(&input) {
                prop_assert_eq!(normalize_kana(&once), Ok(once.clone()));
            }
        }
    }
}
