//! normalize: undoes the Unicode tricks that hide regulated data from a pattern, and
//! keeps an offset map so that findings point back at the original bytes.
//!
//! The scanner's detectors are written against plain ASCII shapes (`4111 1111 ...`,
//! `jane@example.com`). A prompt can carry the same value in a form no such shape
//! matches but every model reads the same way: a zero-width space between two digits,
//! fullwidth `４１１１`, Devanagari `४१११`, `jane＠example。com`, a soft hyphen in a
//! number, a Unicode tag character smuggling an instruction. [`normalize`] rewrites the
//! text once, before any detector runs:
//!
//! - dropped: zero-width and other default-ignorable format characters (U+200B–U+200F,
//!   U+2060–U+2064, U+FEFF, U+180E, U+034F, variation selectors), bidi controls
//!   (U+202A–U+202E, U+2066–U+2069, U+061C), Unicode tag characters (U+E0000–U+E007F)
//!   and the soft hyphen (U+00AD);
//! - every Unicode decimal digit (general category Nd, in any script) becomes its ASCII
//!   digit;
//! - confusable `@`, `.`, `-` and spaces become their ASCII form;
//! - any other non-ASCII character is replaced by its NFKC form (fullwidth letters,
//!   ligatures, circled and mathematical letters become plain letters);
//! - a non-ASCII capital inside a word or a run of capitals (`SÉCURITÉ`, `FÜHRERSCHEIN`,
//!   `NÉ LE`) becomes its lowercase letter. Context words and dictionary terms are
//!   matched ignoring ASCII case only, so without this an all-caps cue word with an
//!   accented letter would never be seen. A capital that starts a word followed by
//!   lowercase letters (`Élodie`) is left as it is: name detection reads it.
//!
//! Every byte of the normalised text remembers the span of the original character it
//! came from, so a finding `start..end` of the normalised text maps back to the
//! original span from the first byte's character start to the last byte's character
//! end: the redaction covers the original bytes, including any invisible characters
//! inside the value.
//!
//! The quote markers of a reply (`>`, `> >`, `>>` with the spaces after them, at the
//! start of a line) are dropped: a message quoted in a reply is the same text, and a
//! label on one quoted line reads the value on the next only if the marker between
//! them is layout, as the line break is.
//!
//! HTML character references (`&#64;`, `&#x40;`, `&commat;`) are read as the character
//! they stand for, so `jane&#64;example&#46;com` is an address.
//!
//! Fast path: a text that is all ASCII and holds no character reference and no quote
//! marker has nothing to normalise (no ASCII character is a format character, a
//! non-ASCII digit or a compatibility form), so [`normalize`] returns `None` after one
//! `is_ascii` check (SIMD in std) and one `memchr2` for `&` and for a `>` that
//! starts a line, and the detectors run on the original text with no map at all.

use unicode_normalization::UnicodeNormalization;

/// A normalised copy of a text and the map back to the original.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The normalised text that detectors scan.
    pub text: String,
    /// For each byte of `text`: the original span `(start, end)` of the character it
    /// came from.
    map: Vec<(u32, u32)>,
}

impl Normalized {
    /// Maps a span of the normalised text back to the original text, or `None` if it
    /// is empty or out of range.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end {
            return None;
        }
        let first = self.map.get(start)?;
        let last = self.map.get(end - 1)?;
        Some((first.0 as usize, last.1 as usize))
    }
}

/// Normalises `text` for matching, or returns `None` when it is unchanged by
/// normalisation (all ASCII, the common case), so callers can scan the original.
///
/// Texts longer than `u32::MAX` bytes are not normalised (the gateway's body limit is
/// far below that).
pub fn normalize(text: &str) -> Option<Normalized> {
    let (refs, quoted) = refs_and_quotes(text);
    if (text.is_ascii() && !refs && !quoted) || u32::try_from(text.len()).is_err() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut map: Vec<(u32, u32)> = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(rest) = text.get(i..).filter(|r| !r.is_empty()) {
        if quoted && (i == 0 || text.as_bytes().get(i - 1) == Some(&b'\n')) {
            let marks = quote_marks(rest);
            if marks > 0 {
                i += marks;
                changed = true;
                continue;
            }
        }
        // A run of ASCII bytes other than `&` (most of any text) is copied as it is,
        // each byte its own span, without the per-character work below; in a text with
        // quoted lines, a run also ends after a line break.
        let mut run = rest
            .bytes()
            .take_while(|&b| b.is_ascii() && b != b'&')
            .count();
        if quoted && let Some(lf) = memchr::memchr(b'\n', &rest.as_bytes()[..run]) {
            run = lf + 1;
        }
        if let Some(ascii) = rest.get(..run).filter(|a| !a.is_empty()) {
            out.push_str(ascii);
            // Both fit in u32: the text length was checked above.
            map.extend((i..i + run).map(|j| (j as u32, j as u32 + 1)));
            i += run;
            continue;
        }
        // An HTML character reference (`&#64;`) is read as the character it stands
        // for, spanning the whole reference.
        let (c, len) = match char_ref(rest) {
            Some(found) => {
                changed = true;
                found
            }
            None => match rest.chars().next() {
                Some(c) => (c, c.len_utf8()),
                None => break,
            },
        };
        // Both fit in u32: the text length was checked above.
        let span = (i as u32, (i + len) as u32);
        i += len;
        let before = out.len();
        if c.is_ascii() {
            out.push(c);
        } else if is_ignorable(c) {
            changed = true;
        } else if let Some(d) = decimal_digit_value(c) {
            out.push(char::from(b'0' + d));
            changed = true;
        } else if let Some(a) = confusable_ascii(c) {
            out.push(a);
            changed = true;
        } else if let Some(lower) = fold_capital(c, out.chars().next_back(), || {
            text.get(span.1 as usize..)
                .and_then(|rest| rest.chars().find(|&n| !is_ignorable(n)))
        }) {
            out.push(lower);
            changed = true;
        } else {
            let start = out.len();
            out.extend(std::iter::once(c).nfkc());
            let produced = out.get(start..).unwrap_or_default();
            if produced.chars().ne(std::iter::once(c)) {
                changed = true;
                // NFKC may produce characters that are themselves digits of another
                // script or confusables only in rare cases; ignorable output (e.g. from
                // a compatibility form of a format character) is dropped.
                let fixed: String = produced
                    .chars()
                    .filter(|&p| !is_ignorable(p))
                    .map(|p| {
                        decimal_digit_value(p)
                            .map(|d| char::from(b'0' + d))
                            .or_else(|| confusable_ascii(p))
                            .unwrap_or(p)
                    })
                    .collect();
                out.truncate(start);
                out.push_str(&fixed);
            }
        }
        map.resize(map.len() + (out.len() - before), span);
    }
    changed.then_some(Normalized { text: out, map })
}

/// Whether `text` holds an HTML character reference [`char_ref`] reads, and whether
/// a line of it starts with a quote marker: one search for both `&` and `>` (only
/// references count: an ASCII text with `&` in a URL's query string is not worth a
/// normalised copy).
fn refs_and_quotes(text: &str) -> (bool, bool) {
    let bytes = text.as_bytes();
    let (mut refs, mut quoted) = (false, false);
    for at in memchr::memchr2_iter(b'&', b'>', bytes) {
        if bytes.get(at) == Some(&b'&') {
            refs = refs || text.get(at..).and_then(char_ref).is_some();
        } else {
            quoted = quoted || at == 0 || bytes.get(at - 1) == Some(&b'\n');
        }
        if refs && quoted {
            break;
        }
    }
    (refs, quoted)
}

/// The length of the quote markers that start `line`: `>` characters, each with the
/// spaces and tabs after it (`> `, `>> `, `> > `); 0 when the line does not start with
/// `>`.
fn quote_marks(line: &str) -> usize {
    let bytes = line.as_bytes();
    let mut len = 0;
    while bytes.get(len) == Some(&b'>') {
        len += 1;
        len += bytes[len..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
    }
    len
}

/// Named references of the characters values are written with.
const NAMED_REFS: &[(&str, char)] = &[
    ("&commat;", '@'),
    ("&period;", '.'),
    ("&hyphen;", '-'),
    ("&dash;", '-'),
    ("&nbsp;", ' '),
    ("&sol;", '/'),
    ("&colon;", ':'),
    ("&lowbar;", '_'),
    ("&plus;", '+'),
];

/// The character an HTML character reference at the start of `rest` stands for, and
/// the reference's length: `&#64;`, `&#x40;` (the `;` may be left out before a byte that
/// is not a digit), or one of [`NAMED_REFS`]. `None` for anything else, including
/// references to control characters, surrogates and NUL.
fn char_ref(rest: &str) -> Option<(char, usize)> {
    let bytes = rest.as_bytes();
    if bytes.first() != Some(&b'&') {
        return None;
    }
    if bytes.get(1) != Some(&b'#') {
        return NAMED_REFS
            .iter()
            .find(|(name, _)| rest.starts_with(name))
            .map(|&(name, c)| (c, name.len()));
    }
    let hex = matches!(bytes.get(2), Some(b'x' | b'X'));
    let digits_from = if hex { 3 } else { 2 };
    let radix = if hex { 16 } else { 10 };
    let digits = bytes
        .get(digits_from..)?
        .iter()
        .take_while(|b| b.is_ascii_digit() || (hex && b.is_ascii_hexdigit()))
        .count();
    if digits == 0 || digits > 7 {
        return None;
    }
    let end = digits_from + digits;
    let value = u32::from_str_radix(rest.get(digits_from..end)?, radix).ok()?;
    let c = char::from_u32(value).filter(|c| !c.is_control() || c.is_whitespace())?;
    if value == 0 {
        return None;
    }
    let len = if bytes.get(end) == Some(&b';') {
        end + 1
    } else {
        end
    };
    Some((c, len))
}

/// The lowercase of a non-ASCII capital `c` that follows a letter (`previous`, already
/// normalised) or precedes a capital (`next`, the next visible character), when that
/// lowercase is a single character and `c` is its own NFKC form; `None` otherwise.
fn fold_capital(
    c: char,
    previous: Option<char>,
    next: impl FnOnce() -> Option<char>,
) -> Option<char> {
    // Compatibility forms (fullwidth `Ａ`, mathematical `𝐀`) go through NFKC instead.
    if !c.is_uppercase() || std::iter::once(c).nfkc().ne(std::iter::once(c)) {
        return None;
    }
    let mut lower = c.to_lowercase();
    let (Some(l), None) = (lower.next(), lower.next()) else {
        return None;
    };
    let inside =
        previous.is_some_and(char::is_alphabetic) || next().is_some_and(char::is_uppercase);
    (l != c && inside).then_some(l)
}

/// Characters that render as nothing (or only steer rendering) and are dropped.
pub fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Look-alikes of `@`, `.`, `-` and space that NFKC leaves alone (or maps elsewhere).
fn confusable_ascii(c: char) -> Option<char> {
    Some(match c {
        '\u{FF20}' | '\u{FE6B}' => '@',
        '\u{3002}' | '\u{FF61}' | '\u{FE52}' | '\u{2024}' | '\u{06D4}' | '\u{0701}'
        | '\u{0702}' | '\u{2E33}' | '\u{FF0E}' => '.',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
        '\u{00A0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200A}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => ' ',
        '\u{2044}' | '\u{2215}' | '\u{FF0F}' => '/',
        _ => return None,
    })
}

/// The zero of every run of ten decimal digits (Unicode general category Nd, Unicode
/// 16.0). Each run holds the digits 0–9 in order, so a digit's value is its distance
/// from the zero of its run. Checked against the regex crate's `\p{Nd}` in the tests.
const DIGIT_ZEROS: &[u32] = &[
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x10D40, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450,
    0x114D0, 0x11650, 0x116C0, 0x116D0, 0x116DA, 0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50,
    0x11D50, 0x11DA0, 0x11F50, 0x16130, 0x16A60, 0x16AC0, 0x16B50, 0x16D70, 0x1CCF0, 0x1D7CE,
    0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E5F1, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit of any script (`'٣'` → 3), `None` for other characters.
pub fn decimal_digit_value(c: char) -> Option<u8> {
    let cp = u32::from(c);
    let at = DIGIT_ZEROS.partition_point(|&z| z <= cp);
    let zero = *DIGIT_ZEROS.get(at.checked_sub(1)?)?;
    let value = cp - zero;
    (value < 10).then_some(value as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> String {
        normalize(text).map_or_else(|| text.to_owned(), |n| n.text)
    }

    #[test]
    fn ascii_is_the_fast_path() {
        assert!(normalize("plain ascii 4111 1111 1111 1111").is_none());
    }

    #[test]
    fn digits_of_every_script_match_unicode_nd() -> Result<(), regex::Error> {
        let nd = regex::Regex::new(r"^\p{Nd}$")?;
        let mut buf = [0u8; 4];
        let mut wrong = Vec::new();
        for cp in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let is_nd = nd.is_match(c.encode_utf8(&mut buf));
            if decimal_digit_value(c).is_some() != is_nd {
                wrong.push(format!("U+{cp:04X}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:?}");
        assert_eq!(decimal_digit_value('٣'), Some(3));
        assert_eq!(decimal_digit_value('९'), Some(9));
        assert_eq!(decimal_digit_value('𝟘'), Some(0));
        Ok(())
    }

    #[test]
    fn evasions_are_undone() {
        assert_eq!(norm("4\u{200B}111 1\u{2060}111"), "4111 1111");
        assert_eq!(norm("４１１１"), "4111");
        assert_eq!(norm("jane＠example。com"), "jane@example.com");
        assert_eq!(norm("１２３\u{00AD}45"), "12345");
        assert_eq!(norm("a\u{E0041}\u{E0042}b"), "ab");
        assert_eq!(norm("\u{202E}123\u{202C}"), "123");
        assert_eq!(norm("ｊａｎｅ"), "jane");
        assert_eq!(norm("٤١١١"), "4111");
        assert_eq!(norm("café"), "café");
    }

    #[test]
    fn html_character_references_are_read_as_their_characters() -> Result<(), String> {
        assert_eq!(norm("jane&#64;example&#46;com"), "jane@example.com");
        assert_eq!(norm("jane&#x40;example&period;com"), "jane@example.com");
        assert_eq!(norm("&#52;&#49;&#49;&#49; 1111"), "4111 1111");
        assert_eq!(norm("jane&commat;example.com"), "jane@example.com");
        // Without the `;`, a reference ends at its last digit.
        assert_eq!(norm("jane&#64example.com"), "jane@example.com");
        // A fullwidth digit by reference is a digit like any other.
        assert_eq!(norm("&#65297;&#65298;"), "12");
        // Not references: left as they are.
        assert_eq!(
            norm("AT&T & co &#; &#x; &#0; &#1;"),
            "AT&T & co &#; &#x; &#0; &#1;"
        );
        assert!(normalize("R&D and Q&A").is_none());
        assert_eq!(
            refs_and_quotes("https://example.com/?a=1&b=2&amp=3 &#; &#x;"),
            (false, false)
        );
        assert_eq!(refs_and_quotes("a &#64; b"), (true, false));
        assert_eq!(refs_and_quotes("a &#64; b\n> c"), (true, true));
        // The span of a decoded character is the whole reference.
        let text = "x &#64; y";
        let n = normalize(text).ok_or("not normalised")?;
        assert_eq!(n.text, "x @ y");
        assert_eq!(n.original_span(2, 3), Some((2, 7)));
        Ok(())
    }

    #[test]
    fn quote_markers_at_line_starts_are_dropped() -> Result<(), String> {
        let text = "> Card cvv:\r\n> 734\n>> > nested\n>\nx > y\n >not a marker";
        let n = normalize(text).ok_or("not normalised")?;
        assert_eq!(n.text, "Card cvv:\r\n734\nnested\n\nx > y\n >not a marker");
        // `734` maps back to its own bytes, after the marker.
        let at = n.text.find("734").ok_or("no value")?;
        assert_eq!(n.original_span(at, at + 3), Some((15, 18)));
        // A `>` inside a line, or one not at a line start, is text.
        assert!(normalize("a > b\n >c").is_none());
        assert!(normalize("x\n> y").is_some());
        Ok(())
    }

    #[test]
    fn capitals_inside_words_fold_and_word_initial_capitals_stay() {
        assert_eq!(norm("SÉCURITÉ SOCIALE"), "SéCURITé SOCIALE");
        assert_eq!(norm("FÜHRERSCHEIN"), "FüHRERSCHEIN");
        assert_eq!(norm("NÉ LE"), "Né LE");
        assert_eq!(norm("ÉCOLE"), "éCOLE");
        // Invisible characters between the letters do not hide the word.
        assert_eq!(norm("S\u{200B}ÉCU"), "SéCU");
        assert_eq!(norm("É\u{200B}COLE"), "éCOLE");
        // A word-initial capital before lowercase letters is a name's, and stays.
        assert_eq!(norm("Élodie Ørsted"), "Élodie Ørsted");
        assert_eq!(norm("É. Dupont"), "É. Dupont");
        // A capital whose lowercase is not one character is left alone.
        assert_eq!(norm("Xİ"), "Xİ");
        // Compatibility capitals become their ASCII letters, case kept.
        assert_eq!(norm("ＡＫＩＡ"), "AKIA");
        // Offsets still map to the original bytes.
        let n = normalize("NUMÉRO 7").map(|n| n.original_span(3, 5));
        assert_eq!(n, Some(Some((3, 5))));
    }

    #[test]
    fn spans_map_back_to_original_characters() -> Result<(), String> {
        let text = "x ４\u{200B}１ y";
        let n = normalize(text).ok_or("not normalised")?;
        assert_eq!(n.text, "x 41 y");
        let (s, e) = n.original_span(2, 4).ok_or("no span")?;
        assert_eq!(text.get(s..e), Some("４\u{200B}１"));
        Ok(())
    }
}
