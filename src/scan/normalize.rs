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
//! A line break where running text wraps (see [`soft_wrap`]) becomes a space: mail
//! clients and editors wrap lines at 60 to 80 columns, wherever the last space before
//! the margin falls, also between a context word and its value (`account` at the end
//! of one line, the number at the start of the next) and inside a value
//! (`943 476` / `5919`). Unwrapped, such text reads as it was written.
//!
//! HTML character references (`&#64;`, `&#x40;`, `&commat;`) are read as the character
//! they stand for, so `jane&#64;example&#46;com` is an address.
//!
//! Fast path: a text that is all ASCII and holds no character reference, no quote
//! marker and no wrapped line has nothing to normalise (no ASCII character is a format
//! character, a non-ASCII digit or a compatibility form), so [`normalize`] returns
//! `None` after one `is_ascii` check (SIMD in std), one `memchr2` for `&` and for a `>`
//! that starts a line, and one `memchr` for line breaks, and the detectors run on the
//! original text with no map at all.

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
    let wraps = has_soft_wraps(text.as_bytes(), quoted);
    let escapes = json_escapes(text.as_bytes());
    if (text.is_ascii() && !refs && !quoted && !wraps && escapes == Escapes::default())
        || u32::try_from(text.len()).is_err()
    {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut map: Vec<(u32, u32)> = Vec::with_capacity(text.len());
    let mut changed = false;
    // Where the current record starts, and how many breaks in it were joined.
    let (mut record, mut joined) = (0, 0);
    let mut i = 0;
    while let Some(rest) = text.get(i..).filter(|r| !r.is_empty()) {
        if quoted && (i == 0 || text.as_bytes().get(i - 1) == Some(&b'\n')) {
            let marks = quote_marks(rest.as_bytes());
            if marks > 0 {
                i += marks;
                changed = true;
                continue;
            }
        }
        if wraps {
            let line_break = if rest.starts_with("\r\n") {
                2
            } else {
                usize::from(rest.starts_with('\n'))
            };
            let wrapped = line_break > 0 && {
                let nl = i + line_break - 1;
                let wrapped = soft_wrap(text.as_bytes(), nl, quoted, record);
                joined = if wrapped { joined + 1 } else { 0 };
                if !wrapped || joined > RECORD_LINES {
                    (record, joined) = (nl + 1, 0);
                }
                wrapped
            };
            if wrapped {
                out.push(' ');
                // Fits in u32: the text length was checked above.
                map.push((i as u32, (i + line_break) as u32));
                i += line_break;
                changed = true;
                continue;
            }
            if line_break > 0 {
                // A line break that ends its line is copied whole (a CR LF is not
                // asked about twice).
                out.push_str(&rest[..line_break]);
                // Fits in u32: the text length was checked above.
                map.extend((i..i + line_break).map(|j| (j as u32, j as u32 + 1)));
                i += line_break;
                continue;
            }
        }
        // A run of ASCII bytes other than `&` (most of any text) is copied as it is,
        // each byte its own span, without the per-character work below; in a text with
        // quoted lines, a run also ends after a line break, and in a text with wrapped
        // lines, before one (a line break that does not wrap is a run of its own).
        let bytes = rest.as_bytes();
        let limit = if wraps {
            match memchr::memchr2(b'\r', b'\n', bytes) {
                Some(0) => 1,
                Some(at) => at,
                None => bytes.len(),
            }
        } else if quoted {
            memchr::memchr(b'\n', bytes).map_or(bytes.len(), |at| at + 1)
        } else {
            bytes.len()
        };
        let escaping = escapes != Escapes::default();
        let run = bytes[..limit]
            .iter()
            .take_while(|&&b| b.is_ascii() && b != b'&' && !(escaping && b == b'\\'))
            .count();
        if let Some(ascii) = rest.get(..run).filter(|a| !a.is_empty()) {
            out.push_str(ascii);
            // Both fit in u32: the text length was checked above.
            map.extend((i..i + run).map(|j| (j as u32, j as u32 + 1)));
            i += run;
            continue;
        }
        // An HTML character reference (`&#64;`) is read as the character it stands
        // for, spanning the whole reference.
        // A JSON string's escape (see [`json_escapes`]) likewise.
        let escape = char_ref(rest).or_else(|| json_escape(rest, escapes));
        if escape.is_none() && escaping && rest.starts_with('\\') {
            // Backslashes that escape nothing read are copied as one run: the last of
            // `\\n` is no escape of its own.
            let run = rest.bytes().take_while(|&b| b == b'\\').count();
            out.push_str(&rest[..run]);
            // Both fit in u32: the text length was checked above.
            map.extend((i..i + run).map(|j| (j as u32, j as u32 + 1)));
            i += run;
            continue;
        }
        let (c, len) = match escape {
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

/// Which escapes of JSON strings a text's normalised copy reads as the characters they
/// stand for.
///
/// A string inside a string is escaped once more per level: a quote three levels deep
/// is written with 7 backslashes (`\\\"`, 2^d − 1 at depth d), a `\n` or `\u` escape
/// with 4 (`\\\\n`, 2^(d−1)). Only those runs are read; any other run is literal
/// backslashes and left as it is (`"P@ss\\nW0rd"` is a password holding a backslash).
/// Where a run means either (two backslashes before `n` are a newline two levels deep,
/// or a backslash and an `n` one level deep), the newline is read only one level deep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Escapes {
    /// The text holds JSON escaped inside a JSON string (a log's `"body":
    /// "{\"firstName\":\"Peter\"}"`, an escaped key `\":` shows it): escaped quotes
    /// are read at any depth, and `\u` escapes too.
    nested: bool,
    /// The text holds `\uXXXX` escapes (JSON written with ASCII only: `"M\u00fcller"`).
    unicode: bool,
    /// The text holds `\/` (PHP's JSON writes every slash so: `"https:\/\/…"`).
    slashes: bool,
    /// The text holds escaped line breaks or tabs and a key of JSON or logfmt (`":`,
    /// `="`): a record's string pasted as it is stored (`"note": "First Name:
    /// John\nLast Name: Smith"`) is read line by line. One backslash only: `C:\\new` is
    /// a path.
    lines: bool,
}

/// Which escapes `bytes` holds that [`json_escape`] reads: one search for `\`, which
/// most prose never holds.
fn json_escapes(bytes: &[u8]) -> Escapes {
    let mut escapes = Escapes::default();
    let mut breaks = false;
    for at in memchr::memchr_iter(b'\\', bytes) {
        let after = bytes.get(at + 1..).unwrap_or_default();
        escapes.nested |= after.starts_with(b"\":") || after.starts_with(b"\" :");
        escapes.unicode |= unicode_escape(after).is_some();
        escapes.slashes |= after.first() == Some(&b'/');
        breaks |= matches!(after.first(), Some(b'n' | b'r' | b't'))
            && (at == 0 || bytes.get(at - 1) != Some(&b'\\'));
        if escapes.nested && escapes.unicode && escapes.slashes && breaks {
            break;
        }
    }
    escapes.lines = breaks
        && (memchr::memmem::find(bytes, b"\":").is_some()
            || memchr::memmem::find(bytes, b"=\"").is_some());
    escapes
}

/// The character a JSON escape at the start of `rest` stands for, and the escape's
/// length, for the kinds `escapes` reads (see [`Escapes`]).
fn json_escape(rest: &str, escapes: Escapes) -> Option<(char, usize)> {
    let bytes = rest.as_bytes();
    // Seven backslashes escape a quote three strings deep; a longer run is no escape
    // (and is not counted again at each of its backslashes).
    let slashes = bytes
        .iter()
        .take(MAX_ESCAPE_RUN + 1)
        .take_while(|&&b| b == b'\\')
        .count();
    if slashes == 0 || slashes > MAX_ESCAPE_RUN {
        return None;
    }
    let after = bytes.get(slashes..).unwrap_or_default();
    // Runs that escape a character d levels deep: 2^(d−1) backslashes before what is
    // not itself escaped (`n`, `u`), 2^d − 1 before a quote.
    let (escape_run, quote_run) = if escapes.nested {
        (matches!(slashes, 1 | 2 | 4), matches!(slashes, 1 | 3 | 7))
    } else {
        (slashes == 1, false)
    };
    if escapes.unicode
        && escape_run
        && let Some((c, len)) = unicode_escape(after)
    {
        return Some((c, slashes + len));
    }
    match after.first()? {
        b'/' if escapes.slashes && (escape_run || quote_run) => Some(('/', slashes + 1)),
        b'"' if quote_run => Some(('"', slashes + 1)),
        b'n' if escapes.lines && slashes == 1 => Some(('\n', 2)),
        b'r' if escapes.lines && slashes == 1 => Some(('\r', 2)),
        b't' if escapes.lines && slashes == 1 => Some(('\t', 2)),
        _ => None,
    }
}

/// The longest run of backslashes read as one escape.
const MAX_ESCAPE_RUN: usize = 7;

/// The character of a `\u` escape's `uXXXX` at the start of `after` (a surrogate pair
/// `uD83D\uDE00` as one character), and the length read; no control character but
/// whitespace, no NUL.
fn unicode_escape(after: &[u8]) -> Option<(char, usize)> {
    let unit = |b: &[u8]| -> Option<u32> {
        let hex = b.strip_prefix(b"u")?.get(..4)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let first = unit(after)?;
    let (value, len) = if (0xD800..0xDC00).contains(&first) {
        let low = unit(after.get(5..)?.strip_prefix(b"\\")?)?;
        if !(0xDC00..0xE000).contains(&low) {
            return None;
        }
        (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 11)
    } else {
        (first, 5)
    };
    let c =
        char::from_u32(value).filter(|c| value != 0 && (!c.is_control() || c.is_whitespace()))?;
    Some((c, len))
}

/// Whether a line of `text` wraps into the next (see [`soft_wrap`]).
fn has_soft_wraps(bytes: &[u8], quoted: bool) -> bool {
    // The first break that wraps a record wraps it without the lines before it.
    memchr::memchr_iter(b'\n', bytes).any(|nl| soft_wrap(bytes, nl, quoted, nl + 1))
}

/// The narrowest width [`soft_wrap`] takes text to be wrapped at: mail clients and
/// editors wrap at 72 to 80 columns, some at 64.
const WRAP_WIDTH: usize = 60;

/// How much room, in bytes, a line above a wrapped line may have left unused: the width
/// of a wrapped paragraph's lines is not exact when a word was changed after wrapping
/// or the text was wrapped by the width of its glyphs.
const WRAP_SLACK: usize = 8;

/// How many breaks of one record [`record_wrap`] reads back over: a record wrapped to
/// the width more than once (a CSV row of long tokens, an SQL insert with a value a
/// line) is read as one line of up to this many breaks.
const RECORD_LINES: u8 = 5;

/// Whether the line break at `nl` (an LF, maybe after a CR) wraps running text rather
/// than ending a line, as mail clients and editors wrap it (`quoted`: the text has
/// quoted lines). The line and the next one's first word are wider than
/// [`WRAP_WIDTH`], and the line is no wider than twice that unless it is one token; a
/// line that ends a PEM armor (`-----`) or inside a JWT is never wrapped, nor is a
/// line that starts with a label above another that does ([`label_line`]: a form's
/// fields). Then either
/// the break wraps a record ([`record_wrap`]), or all of these hold:
///
/// - the line before is words (a space or more, no tab) and ends with neither
///   punctuation that closes a sentence or a clause (`.` `!` `?` `:` `;`) nor a
///   separator of fields (`,` `|`) nor a bracket or quote that opens or closes a
///   record (`{` `}` `[` `]` `(` `"` `'` `>`); its last word is no `key=value` (a
///   log line's field), and it is no CSV row (a comma with no space after it that
///   groups no thousands);
/// - the first word of the next line would not have fit on it: the line, a space and
///   that word make [`WRAP_WIDTH`] bytes or more;
/// - the line above, if it ends in a letter or digit, had no room for this line's
///   first word, give or take [`WRAP_SLACK`] (a wrapped paragraph's lines are all
///   about as full as the width allows; a block of commands, one per line, is not);
/// - in a text with quoted lines, both lines are quoted as deep, and all of this is
///   read without their quote markers;
/// - that word starts the line (no indent), and is no bullet (`-` `*` `+` `#`), quote
///   marker or table bar, no key (`name:`, `name=`) that starts a field of its own
///   (unless it is the argument of a command's option, `-D` above `cn=admin`), no
///   start of a CSV row (two commas) and no bracket after one (`(1, 'a')` above
///   `(2, 'b')`).
///
/// `record` is where the record the line belongs to starts: the start of the line, or
/// of a line before it that wraps into it (see [`record_wrap`]).
pub(crate) fn soft_wrap(bytes: &[u8], nl: usize, quoted: bool, record: usize) -> bool {
    // A line that ends inside a JWT cut by a terminal's hard wrap, the token going on
    // at the next line's start, is left as it is: the JWT rule follows the token onto
    // the next lines, and a space would end it.
    let ends_with_jwt = |line: &[u8]| {
        let jwt_byte = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
        let from = line.iter().rposition(|b| !jwt_byte(b)).map_or(0, |p| p + 1);
        super::detectors::jwt_cut(line.get(from..).unwrap_or_default())
            && bytes
                .get(nl + 1)
                .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    let Some(before) = bytes.get(..nl) else {
        return false;
    };
    // A line without its quote markers, and how deep it is quoted.
    let unquoted = |line: &'_ [u8]| -> (usize, usize) {
        if !quoted {
            return (0, 0);
        }
        let marks = quote_marks(line);
        let depth = line[..marks].iter().filter(|&&b| b == b'>').count();
        (marks, depth)
    };
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
    let (marks, depth) = unquoted(&before[line_start..]);
    let line = before[line_start + marks..].trim_ascii_end();
    // A line wider than the width was not wrapped unless it is one unbroken token; a
    // PEM armor line (`-----BEGIN RSA PRIVATE KEY-----`) ends where its author ended it.
    if (line.len() + 2 > WRAP_WIDTH * 2 && memchr::memchr(b' ', line).is_some())
        || line.ends_with(b"-----")
        || ends_with_jwt(line)
    {
        return false;
    }
    let next = bytes.get(nl + 1..).unwrap_or_default();
    let (next_marks, next_depth) = unquoted(next);
    if next_depth != depth {
        return false;
    }
    let next = &next[next_marks..];
    let word = &next[..next
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(next.len())];
    if word.is_empty() || line.len() + 1 + word.len() < WRAP_WIDTH {
        return false;
    }
    // Two lines that each start with a label (`Dsn: postgres://…`, `Card cvv: 280`;
    // `Name - …`) are a form's fields, one a line, whatever their length.
    if label_line(line) && label_line(next) {
        return false;
    }
    // The record's line: this one and those it continues.
    let from = record.min(line_start);
    let record_line = &before[from + unquoted(&before[from..]).0..];
    // The `k`th line above the record's (0: the one right above it).
    let above = |k: usize| {
        let mut end = from.checked_sub(1)?;
        for _ in 0..k {
            end = memchr::memrchr(b'\n', &before[..end])?;
        }
        let above = &before[..end];
        let above = &above[memchr::memrchr(b'\n', above).map_or(0, |p| p + 1)..];
        Some(above[unquoted(above).0..].trim_ascii_end())
    };
    // A separator alone on its line (a key wrapped, then `=`, then a value too long
    // for the rest of the line) goes on with the line that wrapped into it.
    if wrapped_record(record_line.trim_ascii_end(), next, above)
        || (from < line_start && matches!(line, b"=" | b":"))
    {
        return true;
    }
    let closes = |b: u8| {
        matches!(
            b,
            b'.' | b'!'
                | b'?'
                | b':'
                | b';'
                | b','
                | b'|'
                | b'{'
                | b'}'
                | b'['
                | b']'
                | b'('
                | b'"'
                | b'\''
                | b'>'
        )
    };
    let Some(&last) = line.last() else {
        return false;
    };
    if closes(last) || line.len() + 2 > WRAP_WIDTH * 2 {
        return false;
    }
    let last_word = &line[line.iter().rposition(|&b| b == b' ').map_or(0, |p| p + 1)..];
    // A command's option (`-D`) takes the next word as its argument, `=` or not.
    let option = last_word.len() >= 2 && last_word.starts_with(b"-");
    let key = word.strip_prefix(b"=").unwrap_or(word);
    // A line that goes on with a record (a CSV row's cells) is no prose.
    let row_commas = csv_commas(line)
        + before[from..line_start]
            .split(|&b| b == b'\n')
            .map(|l| csv_commas(l.trim_ascii_end()))
            .sum::<usize>();
    if matches!(word, [b'-' | b'*' | b'+' | b'>' | b'|' | b'#'])
        || word.starts_with(b"|")
        || word.starts_with(b">")
        || (last == b')' && word.starts_with(b"("))
        || key.ends_with(b":")
        || (key.contains(&b'=') && !option)
        || csv_commas(&word[..word.len().min(WRAP_WIDTH * 2)]) >= 2
        || row_commas > 0
        || delimited_rows(record_line, next, above(0))
    {
        return false;
    }
    // In a wrapped paragraph every line is as full as the width allows: a line above
    // that ends in a word and had room for this line's first word was not wrapped, nor
    // is this one (a block of commands, one per line).
    let first_word = &line[..line.iter().position(|&b| b == b' ').unwrap_or(line.len())];
    // Two runs of one command, one a line (`rsync -avz …` above `rsync -e ssh …`): the
    // next line starts with this line's first word, then an option.
    let option_after = |w: &[u8]| {
        next.get(w.len()..)
            .and_then(|rest| rest.strip_prefix(b" "))
            .is_some_and(|rest| {
                let flag = rest.strip_prefix(b"--").or_else(|| rest.strip_prefix(b"-"));
                flag.and_then(|f| f.first())
                    .is_some_and(u8::is_ascii_alphanumeric)
            })
    };
    if word == first_word && option_after(word) {
        return false;
    }
    let roomy_line_above = line_start > 0 && {
        let above = &before[..line_start - 1];
        let above = above[memchr::memrchr(b'\n', above).map_or(0, |p| p + 1)..].trim_ascii_end();
        let above = &above[unquoted(above).0..];
        above.last().is_some_and(u8::is_ascii_alphanumeric)
            && above.len() + 1 + first_word.len() + WRAP_SLACK <= line.len()
    };
    // A `key=value` word ends a log line's field, unless it is a command option's
    // argument (`-D cn=admin,dc=corp`).
    let before_last = line[..line.len() - last_word.len()].trim_ascii_end();
    let option_before = before_last[before_last
        .iter()
        .rposition(|&b| b == b' ')
        .map_or(0, |p| p + 1)..]
        .starts_with(b"-");
    !roomy_line_above
        && !line.contains(&b'\t')
        && line.contains(&b' ')
        && (option_before
            || !last_word
                .split_last()
                .is_some_and(|(_, head)| head.contains(&b'=')))
}

/// Whether `line` starts with a field's label: up to four words (ASCII letters and
/// digits, `_`, `-`, `.`, `/`, `#`, the first starting with a letter) in at most 32
/// bytes, then `: ` or ` - `.
fn label_line(line: &[u8]) -> bool {
    let head = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len()).min(36)];
    let head = head.trim_ascii_end();
    // The first separator, `: ` or ` - ` (a label line may end with its colon).
    let colon =
        memchr::memmem::find(head, b": ").or_else(|| head.ends_with(b":").then(|| head.len() - 1));
    let end = match (colon, memchr::memmem::find(head, b" - ")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let Some(label) = end.map(|end| &head[..end]) else {
        return false;
    };
    label.len() <= 32
        && label.first().is_some_and(u8::is_ascii_alphabetic)
        && label.iter().filter(|&&b| b == b' ').count() < 4
        && label.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'-' | b'.' | b'/' | b'#')
        })
}

/// [`record_wrap`], for the rows of files delimited by `;` or `|` too (see
/// [`delimiters`]): such a block is read as the CSV it would be, its separator made a
/// comma and its commas `;`.
fn wrapped_record<'a>(line: &[u8], rest: &[u8], above: impl Fn(usize) -> Option<&'a [u8]>) -> bool {
    let Some(sep) = delimited_by(line, above(0)) else {
        return record_wrap(line, rest, above);
    };
    // A quoted value's separators are its own (`"DefaultEndpointsProtocol=https;…"`).
    let swap = |l: &[u8]| -> Vec<u8> {
        let mut quoted = false;
        l.iter()
            .map(|&b| match b {
                b'"' => {
                    quoted = !quoted;
                    b
                }
                b'\n' => {
                    quoted = false;
                    b
                }
                b',' => b';',
                b if b == sep && !quoted => b',',
                b => b,
            })
            .collect()
    };
    // The lines `record_wrap` reads: this one, two above it, and those ahead it counts.
    let rest = &rest[..rest.len().min(RECORD_AHEAD_BYTES)];
    let ahead = memchr::memchr_iter(b'\n', rest)
        .nth(usize::from(RECORD_LINES) + 1)
        .map_or(rest, |end| &rest[..end]);
    let aboves: Vec<Option<Vec<u8>>> = (0..2).map(|k| above(k).map(swap)).collect();
    record_wrap(&swap(line), &swap(ahead), |k| {
        aboves.get(k).and_then(|a| a.as_deref())
    })
}

/// How much of the text after a delimited row [`wrapped_record`] copies to read ahead.
const RECORD_AHEAD_BYTES: usize = 4096;

/// The separator of a delimited file's row (`;`, or `|` in a row that does not open
/// with one as a Markdown table's does) that `line` or the line above it holds, when
/// neither holds a CSV's comma.
fn delimited_by(line: &[u8], above: Option<&[u8]>) -> Option<u8> {
    let lines = [Some(line), above];
    let lines = lines.iter().flatten();
    if lines.clone().any(|l| csv_commas(l) > 0) {
        return None;
    }
    // The separator the line above (a header, or a row) holds most of, else this line.
    let count = |sep: u8, l: &[u8]| {
        if sep == b'|' && l.starts_with(b"|") {
            return 0;
        }
        delimiters(l, sep)
    };
    lines
        .clone()
        .rev()
        .map(|l| (count(b';', l), count(b'|', l)))
        .find(|&(semicolons, bars)| semicolons + bars > 0)
        .map(|(semicolons, bars)| if bars > semicolons { b'|' } else { b';' })
}

/// Whether a record (a table row, a CSV row, an SQL tuple, an XML element, a JSON
/// object, a log line) was broken at a space between `line` and `next` (both without
/// their quote markers; `above`, the line before `line`) by a wrap to the width, which
/// [`soft_wrap`] has checked. A record is no prose: its line may end with a separator
/// and its next line start with a key, but what it holds tells the break apart from one
/// its author made:
///
/// - a PEM armor line broken at a space (`-----BEGIN RSA` above `PRIVATE KEY-----`);
/// - a table row (`| a | b`) whose next line ends the row (`c | d |`) without starting
///   one of its own, or whose cells with those of the next six lines are as many as
///   the line above's;
/// - a table's header row wrapped above the rule under it (`| … | Version` above
///   `| Status |` above `|---|---|…`);
/// - a JSON key (`"ssn":`) whose value starts the next line;
/// - a quoted string left open (`iban="DE18`, `,"6088`) that one of the next three
///   lines closes;
/// - an SQL tuple or argument list left open after a comma (`VALUES ('1',`), or
///   inside a quoted value that one of the next three lines closes (`'928 Maple
///   Avenue,`);
/// - an XML element whose text was broken (`<address>9470` above `Elm Road</address>`);
/// - a CSV row whose cells, with those of the next lines (up to six; a line with no
///   cell on the way is the end of a cell, `,630` above `896` above `272,…`), are as
///   many as the header holds (the line above, or the one above a header's last name
///   wrapped onto a line of its own), or a whole row whose last cell ends alone on the
///   next line (`,030` above `18498589`, `,Carlos` above `Müller`, `,DE56` above
///   `4601 5339 0024 2376 15`);
/// - a CSV header, with no header above it, whose last name of several words wrapped
///   (`…,Created` above `at`): the name's end is letters, the row under it would have
///   fitted after them (so that line was not wrapped), and the rows under it are as
///   wide as the header;
/// - a value list of an SQL tuple that goes on after a quoted PEM key's last line
///   (`-----END RSA PRIVATE KEY-----', '993 396 4453',`).
fn record_wrap<'a>(line: &[u8], rest: &[u8], above: impl Fn(usize) -> Option<&'a [u8]>) -> bool {
    let (Some(&first), Some(&last)) = (line.first(), line.last()) else {
        return false;
    };
    let next = rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())].trim_ascii_end();
    // The next three lines (a record may be wrapped more than once), and for counting
    // a row's cells, one more: the record's breaks the copy loop joins.
    let lines_ahead = |n: usize| {
        memchr::memchr_iter(b'\n', rest)
            .nth(n - 1)
            .map_or(rest, |end| &rest[..end])
    };
    let ahead = lines_ahead(3);
    let row_ahead = lines_ahead(usize::from(RECORD_LINES) + 1);
    // A PEM armor line broken at a space continues.
    if let Some(dashes) = memchr::memmem::rfind(line, b"-----") {
        let after = &line[dashes + 5..];
        if after.starts_with(b"BEGIN") || after.starts_with(b"END") {
            return memchr::memmem::find(ahead, b"-----").is_some();
        }
    }
    let bars = |line: &[u8]| memchr::memchr_iter(b'|', line).count();
    // A table's header row wrapped before the rule under it (`| Name | Version` above
    // `| Status |`, then `|---|---|---|`): its cells and those of the lines down to the
    // rule are as many as the rule's.
    let rule = |line: &[u8]| {
        line.starts_with(b"|")
            && line.contains(&b'-')
            && line.iter().all(|&b| matches!(b, b'|' | b'-' | b':' | b' '))
    };
    if first == b'|' && last != b'|' && !rule(line) {
        // The rule right under the line rules a whole header: no line in between.
        let mut cells = bars(line);
        for (k, next) in row_ahead.split(|&b| b == b'\n').enumerate() {
            let next = next.trim_ascii();
            let next = &next[quote_marks(next)..];
            if rule(next) {
                if k > 0 && cells == bars(next) {
                    return true;
                }
                break;
            }
            cells += bars(next);
        }
    }
    if first == b'|' {
        // The row ends on the next line, or its cells and those of the next lines
        // are as many as the line above's (the header, the rule under it or a whole
        // row).
        return ((!next.starts_with(b"|") || next == b"|") && next.ends_with(b"|"))
            || above(0).is_some_and(|above| {
                let whole = bars(above);
                let mut cells = bars(line);
                above.starts_with(b"|")
                    && cells < whole
                    && row_ahead.split(|&b| b == b'\n').any(|next| {
                        cells += bars(next);
                        cells == whole
                    })
            });
    }
    let opens = |b: u8| b == b'"' || b == b'-' || b == b'[' || b == b'{' || b.is_ascii_digit();
    if line.ends_with(b"\":") {
        return next.first().is_some_and(|&b| opens(b));
    }
    // Double quotes (not escaped) and brackets outside quotes.
    let (mut quotes, mut depth, mut in_single) = (0usize, 0isize, false);
    let mut escaped = false;
    for &b in line {
        match b {
            b'\\' => {
                escaped = !escaped;
                continue;
            }
            b'"' if !escaped && !in_single => quotes += 1,
            b'\'' if quotes % 2 == 0 => in_single = !in_single,
            b'(' if quotes % 2 == 0 && !in_single => depth += 1,
            b')' if quotes % 2 == 0 && !in_single => depth -= 1,
            _ => {}
        }
        escaped = false;
    }
    if quotes % 2 == 1 {
        // Closed within the next three lines (a PEM key in a JSON string may be
        // wrapped at each of its spaces).
        return ahead.contains(&b'"');
    }
    if depth > 0 && last == b',' && !in_single {
        return true;
    }
    // A quoted value of an SQL tuple broken at one of its spaces (`'928 Maple Avenue,`
    // above `Springfield, OR 29490',`), closed within the next three lines.
    if depth > 0 && in_single {
        return ahead.contains(&b'\'');
    }
    // A quoted PEM key ends a value of an SQL tuple (`-----END RSA PRIVATE KEY-----',
    // '993 396 4453', 'system',`): the tuple opened lines above, before the key's
    // lines, which are never joined. What follows the key's closing quote is the
    // tuple's next values: the line continues when they end with a comma outside
    // quotes and close no bracket.
    if let Some(tail) = line
        .strip_prefix(b"-----END ")
        .and_then(|armor| memchr::memmem::find(armor, b"-----").map(|at| &armor[at + 5..]))
        .and_then(|after| {
            after
                .strip_prefix(b"'")
                .or_else(|| after.strip_prefix(b"\""))
        })
    {
        let (mut depth, mut in_single, mut in_double) = (0isize, false, false);
        for &b in tail {
            match b {
                b'\'' if !in_double => in_single = !in_single,
                b'"' if !in_single => in_double = !in_double,
                b'(' if !in_single && !in_double => depth += 1,
                b')' if !in_single && !in_double => depth -= 1,
                _ => {}
            }
        }
        return depth == 0
            && !in_double
            && if in_single {
                ahead.contains(&b'\'')
            } else {
                last == b','
            };
    }
    // The text of an XML element: the line's last tag opens one, and text follows it.
    if let (Some(lt), Some(gt)) = (memchr::memrchr(b'<', line), memchr::memrchr(b'>', line))
        && lt < gt
        && gt + 1 < line.len()
        && line.get(lt + 1).is_some_and(u8::is_ascii_alphabetic)
        && line[gt - 1] != b'/'
    {
        return memchr::memmem::find(ahead, b"</").is_some();
    }
    // A CSV row: its cells and the next line's are as many as the line above's. A
    // comma before a digit group counts here: in a row, a number is not grouped
    // (`7,547,829` are three cells under three headers).
    let cells = |line: &[u8]| {
        memchr::memchr_iter(b',', line)
            .filter(|&at| !matches!(line.get(at + 1), None | Some(b' ')))
            .count()
    };
    // A row's last cell may be what wraps: the next line is then that cell's end
    // alone, a short word or number (`3289`, `679 875`) or the digit groups of a long
    // number (`4601 5339 0024 2376 15`, an IBAN's rest after `DE56`), and no sentence.
    // A cell's end may hold letters of any script (`Müller`).
    // In a file delimited by `;` or `|` (read with its commas made `;`, see
    // [`wrapped_record`]), a cell may hold commas unquoted: an address's rest
    // (`Street, Madison, IL 72153`), no sentence.
    let listed_rest = |next: &[u8]| {
        next.len() <= 48
            && memchr::memmem::find(next, b"; ").is_some()
            && memchr::memmem::find(next, b". ").is_none()
            && !next.ends_with(b".")
            && next.iter().all(|&b| {
                b.is_ascii_alphanumeric()
                    || b >= 0x80
                    || matches!(b, b' ' | b'-' | b';' | b'#' | b'.')
            })
    };
    let cell_end = |next: &[u8]| {
        cells(next) == 0
            && ((next.len() <= 16
                && next.iter().all(|&b| {
                    b.is_ascii_alphanumeric() || b >= 0x80 || matches!(b, b' ' | b'-' | b'+' | b'/')
                }))
                || listed_rest(next)
                || (next.len() <= 40
                    && next.first().is_some_and(u8::is_ascii_digit)
                    && next.iter().all(|&b| b.is_ascii_digit() || b == b' ')))
    };
    let (here, next_cells) = (cells(line), cells(next));
    // A row wrapped more than once (at the spaces inside its cells: `batch` / `7,…,on`
    // / `hold,29765817431`; `,630` / `896` / `272,…`): the cells of the next lines,
    // added one line at a time, reach the header's count exactly. A line with no cell
    // on the way is the end of the cell it continues.
    let reaches = |lines: &mut dyn Iterator<Item = &[u8]>, mut count: usize, whole: usize| {
        lines
            .map(|next| next.trim_ascii_end())
            .map(|next| &next[quote_marks(next)..])
            // A sentence whose only commas group a number's thousands (`Invoice … totals
            // $5,919.10. Invoice …`) is no row's part; a row's part may hold a number
            // that looks grouped (`7,393 373 907`, `Unit 7,120,450`).
            .take_while(|next| {
                let sentence = csv_commas(next) == 0
                    && (memchr::memmem::find(next, b". ").is_some() || next.ends_with(b"."));
                (cells(next) > 0 && !sentence) || cell_end(next)
            })
            .any(|next| {
                count += cells(next);
                count == whole && cells(next) > 0
            })
    };
    let rows = || row_ahead.split(|&b| b == b'\n');
    // The header (the line above the record, or above a header's last cell wrapped
    // onto a line of its own: `…,Created` above `at`).
    let names = |l: &[u8]| !l.iter().any(u8::is_ascii_digit);
    let letters = |l: &[u8]| {
        l.iter()
            .all(|&b| b.is_ascii_alphabetic() || matches!(b, b' ' | b'_' | b'-' | b','))
    };
    // The header's cells: those of the line above, or of the one above a header's last
    // name wrapped onto a line of its own; and those of two lines of names that a
    // header wrapped before or inside one of its names was broken into (`…,Storage
    // connection` above `string,Created at`), which count when this record, alone or
    // with the next lines, is as wide as both together.
    let record = line;
    let header_cells = || {
        let Some(line) = above(0) else {
            return (None, None);
        };
        let cells = csv_commas(line);
        if cells == 0 && cell_end(line) {
            return (above(1).map(csv_commas), None);
        }
        // Both lines count for a record as wide as both together, or for one that the
        // next lines make that wide when the line above is narrower than the one above
        // it (a header's rest, not a row under it: a row of words under a header of
        // words is as wide as the header, an empty last cell's comma included) and
        // this record is not as wide as the line above (a row like it).
        // A record as wide as the line above counts too when the line above could be
        // no row under the one above it: with this record and the next lines, it
        // reaches no width of that line (`…,Request` above `id,Request id` above
        // `353728453,441 371` above `259,…`, both broken inside a cell).
        // And the line above must have been wrapped: its first word would not have
        // fitted after the line above it (rows of words that leave out their last
        // cells, `Alice Jones,Core Platform,Senior Engineer,Berlin` above `Robert
        // Smith,…`, stay rows).
        let wrapped_above = |first: &[u8]| {
            let word = line
                .iter()
                .position(|&b| matches!(b, b' ' | b'\t'))
                .unwrap_or(line.len());
            first.len() + 1 + word >= WRAP_WIDTH
        };
        let row_of_it =
            |first: usize| reaches(&mut std::iter::once(record).chain(rows()), cells, first);
        let both = above(1)
            .filter(|first| cells > 0 && letters(line) && names(first))
            .map(|first| (csv_commas(first), wrapped_above(first)))
            .filter(|&(first, wrapped)| {
                first > 0
                    && (here == first + cells
                        || (cells + usize::from(line.ends_with(b",")) < first
                            && (here != cells || (wrapped && !row_of_it(first)))))
            })
            .map(|(first, _)| first + cells);
        (Some(cells), both)
    };
    // Whether this line, with the next ones, is a row as wide as a header of `whole`
    // cells: whole already, with its last cell's end alone on the next line, or
    // reaching that count.
    let row_under = |whole: usize| {
        if here == whole {
            cell_end(next)
        } else {
            here < whole && (next_cells > 0 || cell_end(next)) && reaches(&mut rows(), here, whole)
        }
    };
    let (cells_above, both) = header_cells();
    if both.is_some_and(row_under) {
        return true;
    }
    match cells_above.filter(|&whole| whole >= 2) {
        Some(whole) => row_under(whole),
        // No header above: this line may be a header wrapped at the space of one of
        // its names, above rows as wide as its lines together. Names hold no digit.
        // Wrapped inside its last name (`…,Cpf do cliente,Created` above `at`): that
        // name's end is no row's first value wrapped (`Michael` above `Müller,2024-…`),
        // as the row's next word would have fitted after it, or the row's first cell is
        // one long token with digits (see `token_cell`). Wrapped before other names
        // (`…,Request` above `id,Identifikationsnummer,Status`): the rows under it are
        // wider than the line, which no row under it as its header could be.
        None => {
            if next_cells > 0 {
                return here >= 1
                    && names(line)
                    && letters(next)
                    && reaches(&mut rows().skip(1), 0, here + next_cells);
            }
            let after = rows().nth(1).unwrap_or_default();
            let after = &after[quote_marks(after)..];
            let after_word = after
                .iter()
                .position(|&b| matches!(b, b' ' | b'\t' | b'\r'))
                .unwrap_or(after.len());
            // A row's first cell that is one long token with digits (an id, a key) or a
            // number of five digits or more is no value's rest after a word: the word
            // ends the header (`…,Aws secret access` above `key` above
            // `8b048f5e-4a99-…,…`; `…,Updated` above `by` above `34335327,…`), though
            // a row with no space would not have fitted after it either.
            let first_cell = &after[..memchr::memchr(b',', after).unwrap_or(after.len())];
            // A word that, with the header's last name, makes a context keyword ends
            // that name (`…,Secret access` above `key`, `…,Drivers` above `license
            // number`).
            let last_name = line
                .rsplit(|&b| b == b',')
                .next()
                .unwrap_or_default()
                .trim_ascii();
            let keyword = || crate::scan::detectors::keyword_across(last_name, next);
            let token_cell = !first_cell.contains(&b' ')
                && first_cell.iter().any(u8::is_ascii_digit)
                && (first_cell.len() >= 16
                    || (first_cell.len() >= 5 && first_cell.iter().all(u8::is_ascii_digit)));
            here >= 2
                && names(line)
                && line
                    .split(|&b| b == b',')
                    .any(|name| name.trim_ascii().contains(&b' '))
                && next.len() <= 16
                && letters(next)
                && (next.len() + 1 + after_word < WRAP_WIDTH || token_cell || keyword())
                && reaches(&mut rows().skip(1), 0, here)
        }
    }
}

/// How many `sep` (`;` or `|`) of `bytes` separate cells, as in a row of a file
/// delimited by them (`Request id;Dob`, `name|dob`, as spreadsheets and `psql -A`
/// export): outside quotes, with no space after (a sentence's `;` has one), and none of
/// `||`, an HTML entity's end (`&amp;`, `&#39;`) or a wink (`;)`).
fn delimiters(bytes: &[u8], sep: u8) -> usize {
    let mut quote = None;
    let mut n = 0;
    for (at, &b) in bytes.iter().enumerate() {
        match (b, quote) {
            (b'"' | b'\'', None) => quote = Some(b),
            (b, Some(q)) if b == q => quote = None,
            (b, None) if b == sep => {
                let next = bytes.get(at + 1).copied();
                let previous = at.checked_sub(1).and_then(|p| bytes.get(p)).copied();
                let entity = sep == b';' && {
                    let head = &bytes[at.saturating_sub(10)..at];
                    head.iter().rposition(|&c| c == b'&').is_some_and(|amp| {
                        let name = &head[amp + 1..];
                        !name.is_empty()
                            && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'#')
                    })
                };
                if next.is_some_and(|c| c != b' ' && c != sep && c != b')')
                    && previous != Some(sep)
                    && !entity
                {
                    n += 1;
                }
            }
            _ => {}
        }
    }
    n
}

/// Whether `record` (a line, or the lines a wrap joined) is a row of a file delimited by
/// `;` or `|`, which no wrap joins to the next line ([`wrapped_record`] reads a row
/// wrapped inside a cell): its separator, once or more, and on the line above, the
/// line `next` starts or the one after it too (once each, or twice or more between
/// cells of fewer than five words). A line of prose with a pipeline or settings in it
/// (`ran cut -f1|sort|uniq and his …`, `config was foo=1;bar=2 and …`) is no row: its
/// neighbours hold no separator.
fn delimited_rows(record: &[u8], next: &[u8], above: Option<&[u8]>) -> bool {
    let mut lines = next.split(|&b| b == b'\n');
    let (next, after) = (lines.next().unwrap_or_default(), lines.next());
    [b';', b'|'].into_iter().any(|sep| {
        let a = delimiters(record, sep);
        let words = |cell: &[u8]| {
            cell.split(|b| b.is_ascii_whitespace())
                .filter(|w| w.len() >= 2 && w.iter().all(u8::is_ascii_alphabetic))
                .count()
        };
        let neighbours = [above, Some(next), after].map(|l| l.map_or(0, |l| delimiters(l, sep)));
        if a == 1 {
            return neighbours[0] == 1 || neighbours[1] == 1;
        }
        a >= 2
            && record.split(|&b| b == sep).all(|cell| words(cell) < 5)
            && neighbours.iter().any(|&n| n > 0)
    })
}

/// How many commas of `bytes` separate cells, as in a CSV row: a comma with no space
/// after it, other than one that groups a number's thousands (`$6,873.28`,
/// `1,000,000`: from the word's start, one to three digits, then groups of three, the
/// last ending the number: `51,934dd26…` is two cells) or
/// one that separates the parts of an LDAP name (`cn=admin,dc=corp`).
fn csv_commas(bytes: &[u8]) -> usize {
    let digit = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
    memchr::memchr_iter(b',', bytes)
        .filter(|&at| {
            // A number's word is short: one with no space in the 24 bytes before the
            // comma is none (and a long token costs no read back to its start).
            let reach = at.saturating_sub(24);
            let word = match bytes[reach..at].iter().rposition(|&b| b == b' ') {
                Some(space) => Some(&bytes[reach + space + 1..at]),
                None => (reach == 0).then(|| &bytes[..at]),
            };
            // One to three digits (after a currency sign or a bracket), then groups of
            // three before this comma.
            let number = word.is_some_and(|word| {
                let word = word.strip_prefix(b"(").unwrap_or(word);
                let word = word.strip_prefix(b"$").unwrap_or(word);
                let mut groups = word.split(|&b| b == b',');
                let first = groups.next().unwrap_or_default();
                (1..=3).contains(&first.len())
                    && first.iter().all(u8::is_ascii_digit)
                    && groups.all(|g| g.len() == 3 && g.iter().all(u8::is_ascii_digit))
            });
            let thousands = number
                && at > 0
                && digit(at - 1)
                && digit(at + 1)
                && digit(at + 2)
                && digit(at + 3)
                && !bytes.get(at + 4).is_some_and(u8::is_ascii_alphanumeric);
            // An LDAP name's parts (`cn=admin,dc=corp`) are no cells either.
            let attribute = bytes[at + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
            let ldap = attribute > 0
                && bytes.get(at + 1 + attribute) == Some(&b'=')
                && word.is_some_and(|word| word.contains(&b'='));
            !thousands && !ldap && !matches!(bytes.get(at + 1), None | Some(b' '))
        })
        .count()
}

/// The length of the quote markers that start `line`: `>` characters, each with the
/// spaces and tabs after it (`> `, `>> `, `> > `); 0 when the line does not start with
/// `>`.
fn quote_marks(bytes: &[u8]) -> usize {
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
    fn json_escapes_are_read_where_the_text_is_json() -> Result<(), String> {
        // JSON inside a JSON string, at any depth: quotes, slashes and line breaks.
        assert_eq!(
            norm(r#"{"body":"{\"a\":\"x\/y\",\"b\":\"{\\\"c\\\":1}\nz\"}"}"#),
            "{\"body\":\"{\"a\":\"x/y\",\"b\":\"{\"c\":1}\nz\"}\"}"
        );
        // `\u` escapes anywhere, a surrogate pair as one character.
        assert_eq!(
            norm(r"M\u00fcller \ud83d\ude00 \u0034\u0031"),
            "Müller 😀 41"
        );
        // Not escapes: a lone surrogate, NUL, a control character, too few digits.
        assert!(normalize(r"\ud83d x \u0000 \u0007 \u12").is_none());
        // A single record's line breaks, next to a key; one backslash only.
        assert_eq!(
            norm(r#"{"note": "a\nb\tc\r\nd", "path": "C:\\new"}"#),
            "{\"note\": \"a\nb\tc\r\nd\", \"path\": \"C:\\\\new\"}"
        );
        // Without a key of JSON or logfmt, `\n` and `\"` are a program's text.
        assert!(normalize(r#"printf("total\n"); s = \"x\""#).is_none());
        // The span of a decoded character is the whole escape.
        let text = r"x M\u00fcller y";
        let n = normalize(text).ok_or("not normalised")?;
        let at = n.text.find("Müller").ok_or("no name")?;
        assert_eq!(n.original_span(at, at + "Müller".len()), Some((2, 13)));
        let text = r#"{\"k\":\"Ann\"}"#;
        let n = normalize(text).ok_or("not normalised")?;
        assert_eq!(n.text, r#"{"k":"Ann"}"#);
        assert_eq!(n.original_span(6, 9), Some((9, 12)));
        assert_eq!(n.original_span(5, 6), Some((7, 9)));
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
    fn wrapped_lines_are_joined_and_ended_lines_are_not() -> Result<(), String> {
        let wrapped = "We are preparing the quarterly review. Deposit into account\r\nnumber 463963214163 please, and the patient's NHS number is 592 835\n3782 registered.";
        let n = normalize(wrapped).ok_or("not normalised")?;
        assert_eq!(
            n.text,
            "We are preparing the quarterly review. Deposit into account number 463963214163 please, and the patient's NHS number is 592 835 3782 registered."
        );
        // The space that stands for CR LF maps back to both bytes.
        let at = wrapped.find('\r').ok_or("no CR")?;
        assert_eq!(n.original_span(at, at + 1), Some((at, at + 2)));
        // Lines that end where their author ended them stay as they are: a sentence, a
        // label, a short line, an indented or bulleted next line, a log field, rows of
        // CSV, a key on the next line.
        for text in [
            "We are preparing the quarterly review for the operations team.\nAccount 463963214163",
            "Please send the details for the quarterly review to this account:\n463963214163",
            "Deposit into account\n463963214163 please.",
            "We are preparing the quarterly review for the operations team and\n  463963214163",
            "We are preparing the quarterly review for the operations team and\n- 463963214163",
            "2024-03-15T14:05:07Z level=info msg=updated account-no=630696282558\nTicket 555-0196 is open",
            "Updated by,Request id,Tax file number and a few more words here\nimport-job,aa1358bc,693",
            "We are preparing the quarterly review for the operations team and\naccount_number: 4639632",
            "946834e7-b0d3-4846-a9c4-485289f39981,37 261 757 604\nDeployed version 14.9.50 at 2024",
        ] {
            assert!(normalize(text).is_none(), "{text:?}");
        }
        // A wrapped message quoted in a reply is unwrapped too, within one depth.
        let n = normalize("> > Please deposit the refund for the quarterly review into account\n> > number 463963214163.\n> Thanks, and the one above is the old account for the review of\n> > 463963214163")
            .ok_or("not normalised")?;
        assert_eq!(
            n.text,
            "Please deposit the refund for the quarterly review into account number 463963214163.\nThanks, and the one above is the old account for the review of\n463963214163"
        );
        // Thousands in prose and the parts of an LDAP name are no CSV cells.
        assert!(
            normalize(
                "The bind uses ldapsearch -x -D cn=admin,dc=corp -w\nkJpDjpBgC58# -b dc=corp."
            )
            .is_some()
        );
        assert!(normalize("Invoice INV-2025-261619 totals $1,868.97 and $3,262.30. Medicare number\n3000572672 for the claim.").is_some());
        Ok(())
    }

    #[test]
    fn wrapped_records_are_joined_and_whole_ones_are_not() -> Result<(), String> {
        // Each record as a wrap to 72 columns broke it, and as it was written.
        let joined = [
            (
                "| 9d99e56c-fd6e-4e6a-adfc-2addb157ef13 | 2024-05-13T11:44:07Z |\n16d9ac4b | 874536685 |",
                "| 9d99e56c-fd6e-4e6a-adfc-2addb157ef13 | 2024-05-13T11:44:07Z | 16d9ac4b | 874536685 |",
            ),
            (
                "{\"request-id\": \"885403aa-299c-449b-ae2f-5904a5e9f6e9\", \"aba-routing\":\n\"046467539\"}",
                "{\"request-id\": \"885403aa-299c-449b-ae2f-5904a5e9f6e9\", \"aba-routing\": \"046467539\"}",
            ),
            (
                "2024-03-15T14:05:07.114Z level=info msg=\"record updated\" iban=\"DE18\r\n3632 6568 3008 1856 30\"",
                "2024-03-15T14:05:07.114Z level=info msg=\"record updated\" iban=\"DE18 3632 6568 3008 1856 30\"",
            ),
            (
                "INSERT INTO records (request_id, status, version, secret_key,\naws_secret_key) VALUES ('a3052dd3-21b9-46dd-ae96-b5df653f4791',\n'active');",
                "INSERT INTO records (request_id, status, version, secret_key, aws_secret_key) VALUES ('a3052dd3-21b9-46dd-ae96-b5df653f4791', 'active');",
            ),
            (
                "<record><cardNumber>372330283938539</cardNumber><socialInsuranceNumber>554\n514\n844</socialInsuranceNumber><id>695755</id><orderId>414101013</orderId></record>",
                "<record><cardNumber>372330283938539</cardNumber><socialInsuranceNumber>554 514 844</socialInsuranceNumber><id>695755</id><orderId>414101013</orderId></record>",
            ),
            (
                "secret_key,updated_by,updated_by,cvv,order_id\nsk-proj-nS3nCfOwsnC9plUIGbaEEsWdAVa8OvdfD7fsoGOgI7HpcgfR,batch 7,batch\n7,547,829498743",
                "secret_key,updated_by,updated_by,cvv,order_id\nsk-proj-nS3nCfOwsnC9plUIGbaEEsWdAVa8OvdfD7fsoGOgI7HpcgfR,batch 7,batch 7,547,829498743",
            ),
            (
                "> <record><id>442137</id><request-id>c0d975cd-dae7-4b53-afb9-3179c8c6f2e1</request-id><abn>30\n> 939 531 111</abn></record>",
                "<record><id>442137</id><request-id>c0d975cd-dae7-4b53-afb9-3179c8c6f2e1</request-id><abn>30 939 531 111</abn></record>",
            ),
            (
                "created-at,request-id,version,phone\r\n2024-09-13T23:28:07Z,600dfe7f-2c07-49c5-a66f-b6c3fae53f54,6.7.77,030\r\n18498589\r\nTicket 555-0119 is about 89559 rows in the report.",
                "created-at,request-id,version,phone\r\n2024-09-13T23:28:07Z,600dfe7f-2c07-49c5-a66f-b6c3fae53f54,6.7.77,030 18498589\r\nTicket 555-0119 is about 89559 rows in the report.",
            ),
            (
                "Please keep the tone neutral. The bind uses ldapsearch -x -D cn=admin,dc=corp\n-w zO1d1cy4k00* -b dc=corp.",
                "Please keep the tone neutral. The bind uses ldapsearch -x -D cn=admin,dc=corp -w zO1d1cy4k00* -b dc=corp.",
            ),
            (
                "Tracking number 1Z10SNG29625901799 is in transit. aws_secret_access_key\n=\nvt\u{200b}gO0h\u{200b}lCKT582\u{200b}ftOA3N\u{200b}xDzq\u{200b}ZQjgaTFaX\u{200b}RLglZ06T\nInvoice INV-2025-909502 totals $1,444.45.",
                "Tracking number 1Z10SNG29625901799 is in transit. aws_secret_access_key = vtgO0hlCKT582ftOA3NxDzqZQjgaTFaXRLglZ06T\nInvoice INV-2025-909502 totals $1,444.45.",
            ),
            // An SQL tuple that goes on after a quoted PEM key's last line (the key's
            // own lines stay as they are).
            (
                "VALUES ('-----BEGIN RSA PRIVATE KEY-----\nUtNgYB0WWu7zUNNILOsQWgHlVVoXLd0//QtvkV+M/MomzhxMzF2wYr9zw2b3uFaL\n-----END RSA PRIVATE KEY-----', '355105262', '993 396 4453', 'system',\n'batch 7');",
                "VALUES ('-----BEGIN RSA PRIVATE KEY-----\nUtNgYB0WWu7zUNNILOsQWgHlVVoXLd0//QtvkV+M/MomzhxMzF2wYr9zw2b3uFaL\n-----END RSA PRIVATE KEY-----', '355105262', '993 396 4453', 'system', 'batch 7');",
            ),
            // A quoted SQL value broken at one of its spaces.
            (
                "INSERT INTO records (RequestId, Address, AcctNo) VALUES ('4c8c0642-028d-4fd2-a222-e3f1c5902db8', '928 Maple Avenue,\nSpringfield, OR 29490', '7254645281');",
                "INSERT INTO records (RequestId, Address, AcctNo) VALUES ('4c8c0642-028d-4fd2-a222-e3f1c5902db8', '928 Maple Avenue, Springfield, OR 29490', '7254645281');",
            ),
            // A CSV row broken twice inside its cells, and one whose last cell ends in
            // letters of another script.
            (
                "Request id,Updated by,Token,Status,Steuerid\ne71acc44-fce6-4054-a11c-635134014644,batch\n7,hvs.OLEvDL7pUKPUd8KC7NV2pkH4BEknptcu0cUDSKRCevZ9zJwujmDurpMlNR3hepyuxfSgnhxfsEVV,on\nhold,29765817431",
                "Request id,Updated by,Token,Status,Steuerid\ne71acc44-fce6-4054-a11c-635134014644,batch 7,hvs.OLEvDL7pUKPUd8KC7NV2pkH4BEknptcu0cUDSKRCevZ9zJwujmDurpMlNR3hepyuxfSgnhxfsEVV,on hold,29765817431",
            ),
            (
                "auth-token,request-id,contact-name\nglpat-GLH3vUptJjytgdFEPYWd,9085486b-656e-435c-ad3b-2950d7cf1809,Carlos\nMüller",
                "auth-token,request-id,contact-name\nglpat-GLH3vUptJjytgdFEPYWd,9085486b-656e-435c-ad3b-2950d7cf1809,Carlos Müller",
            ),
            // A table's header wrapped above its rule, and a row broken four times.
            (
                "| Identifikationsnummer | UpdatedBy | UniqueTaxpayerReference | Version\n| Status |\n|---|---|---|---|---|",
                "| Identifikationsnummer | UpdatedBy | UniqueTaxpayerReference | Version | Status |\n|---|---|---|---|---|",
            ),
            (
                "| RequestId | RequestId | CreatedAt | RoutingNumber | Token |\n|---|---|---|---|---|\n| c66c857b-0cbf-4624-a5a5-f606b6f72a8b |\nb784ba2a-6043-4e70-a1f0-2073713caf30 | 2024-09-10T12:31:07Z | 066755629\n|\ndop_v1_e3189593978dbade27cc1e162f47da4b033ad0a097147588d178c049901bc9bf\n|",
                "| RequestId | RequestId | CreatedAt | RoutingNumber | Token |\n|---|---|---|---|---|\n| c66c857b-0cbf-4624-a5a5-f606b6f72a8b | b784ba2a-6043-4e70-a1f0-2073713caf30 | 2024-09-10T12:31:07Z | 066755629 | dop_v1_e3189593978dbade27cc1e162f47da4b033ad0a097147588d178c049901bc9bf |",
            ),
            // A CSV header's last name wrapped at its space above a row broken once
            // more; a row's first value wrapped under a whole header; a number over
            // three lines; an IBAN's digit groups alone on the next line.
            (
                "Unique taxpayer reference,Request id,Updated by,Cpf do cliente,Created\nat\n4243875060,18e96fd9-0f34-42e5-a3ba-c8e635798cb2,batch\n7,897.113.781-91,2024-01-15T11:09:07Z",
                "Unique taxpayer reference,Request id,Updated by,Cpf do cliente,Created at\n4243875060,18e96fd9-0f34-42e5-a3ba-c8e635798cb2,batch 7,897.113.781-91,2024-01-15T11:09:07Z",
            ),
            (
                "Primary diagnosis,Amount,Request id,Social security number,Request id\nbreast\ncancer,8571.39,fb64de3e-7b0a-4ff3-aba0-afc7f0b73b49,342-09-7745,bcff3a0d-89a7-4447-aaab-437f1f4ce9ad",
                "Primary diagnosis,Amount,Request id,Social security number,Request id\nbreast cancer,8571.39,fb64de3e-7b0a-4ff3-aba0-afc7f0b73b49,342-09-7745,bcff3a0d-89a7-4447-aaab-437f1f4ce9ad",
            ),
            (
                "request-id,request-id,social-insurance-number,secret-key\n4f24e9e7-01fd-40b4-a689-0915ca86f643,066e7943-65b4-4f0c-a527-0211b9b2d085,630\n896\n272,dop_v1_6f0abfadeca2a55fd4182b614cb60d50905f4dd6cbda9580171205aeb1c5bfad",
                "request-id,request-id,social-insurance-number,secret-key\n4f24e9e7-01fd-40b4-a689-0915ca86f643,066e7943-65b4-4f0c-a527-0211b9b2d085,630 896 272,dop_v1_6f0abfadeca2a55fd4182b614cb60d50905f4dd6cbda9580171205aeb1c5bfad",
            ),
            (
                "id,request_id,ip_address,version,bank_iban\n5955241,18705aa1-f2b2-40fd-a13b-77b5495d2742,204.237.220.42,1.10.30,DE56\n4601 5339 0024 2376 15",
                "id,request_id,ip_address,version,bank_iban\n5955241,18705aa1-f2b2-40fd-a13b-77b5495d2742,204.237.220.42,1.10.30,DE56 4601 5339 0024 2376 15",
            ),
            (
                "primary_diagnosis,connection_url,order_id,updated_by\nhepatitis\nC,postgres://admin29:i9a1o822XnRO@db.internal:5432/app,885511441,system",
                "primary_diagnosis,connection_url,order_id,updated_by\nhepatitis C,postgres://admin29:i9a1o822XnRO@db.internal:5432/app,885511441,system",
            ),
            // A header wrapped before one of its names, above a row whose last cell
            // wrapped.
            (
                "Request id,Medicare beneficiary id,Request\nid,Identifikationsnummer,Status\n0196cde7-0aef-4fc9-a0a3-455789c0a4e0,8YW0PG9JR80,c9608ebd-e903-4f6d-a96b-4047e6862721,96001420372,on\nhold\nThe median response time dropped to 0.3 hours.",
                "Request id,Medicare beneficiary id,Request id,Identifikationsnummer,Status\n0196cde7-0aef-4fc9-a0a3-455789c0a4e0,8YW0PG9JR80,c9608ebd-e903-4f6d-a96b-4047e6862721,96001420372,on hold\nThe median response time dropped to 0.3 hours.",
            ),
            // A header wrapped inside one of its names, above a row broken inside a
            // cell, and above a row whose first value wrapped.
            (
                "Drivers license number,Request id,Updated by,Storage connection\nstring,Created at\nQ7049131,59c84317-7579-4515-a9a5-05701ccbed27,batch\n7,DefaultEndpointsProtocol=https;AccountName=acme,2024-09-10T11:23:07Z",
                "Drivers license number,Request id,Updated by,Storage connection string,Created at\nQ7049131,59c84317-7579-4515-a9a5-05701ccbed27,batch 7,DefaultEndpointsProtocol=https;AccountName=acme,2024-09-10T11:23:07Z",
            ),
            (
                "Request id,Version,National insurance number,Status,Aws secret access\nkey\n8b048f5e-4a99-4d38-a8bd-1ec54fbbb70c,0.1.73,KW827799D,closed,5WUSiS/dt31ZbQhre0iWs8A3joi+t/yEnuxcvz37",
                "Request id,Version,National insurance number,Status,Aws secret access key\n8b048f5e-4a99-4d38-a8bd-1ec54fbbb70c,0.1.73,KW827799D,closed,5WUSiS/dt31ZbQhre0iWs8A3joi+t/yEnuxcvz37",
            ),
            (
                "Social insurance number,Identifikationsnummer,Created at,Order\nid,Created at\n101 564\n045,29703654897,2024-03-16T07:58:07Z,558501954,2024-02-13T00:38:07Z",
                "Social insurance number,Identifikationsnummer,Created at,Order id,Created at\n101 564 045,29703654897,2024-03-16T07:58:07Z,558501954,2024-02-13T00:38:07Z",
            ),
            // A header wrapped before a name above a row broken inside a cell, as wide
            // as the header's second line: that line can be no row (with the lines
            // under it, it reaches no width of the line above).
            (
                "Order id,Social insurance number,Numero securite sociale,Request\nid,Request id\n353728453,441 371\n259,116057475768840,617ce52c-fe4b-477c-a970-ed521a49f91f,63c53fdd-abea-4856-a201-68ae2c0ef26a\nInvoice INV-2021-321169 totals $8,380.50.",
                "Order id,Social insurance number,Numero securite sociale,Request id,Request id\n353728453,441 371 259,116057475768840,617ce52c-fe4b-477c-a970-ed521a49f91f,63c53fdd-abea-4856-a201-68ae2c0ef26a\nInvoice INV-2021-321169 totals $8,380.50.",
            ),
            // A header above a row broken inside a cell, above prose whose commas group
            // thousands: those commas are no cells, and the header is whole.
            (
                "Status,UpdatedBy,NieNumber,RequestId,CpfDoCliente\npending,batch\n7,Y2714903C,7a9f5410-7714-4d50-a547-7f3d09c5ad68,649.430.304-83\nInvoice INV-2024-280297 totals $5,919.10. Invoice INV-2023-150715\ntotals $8,385.03. Please keep the tone neutral.",
                "Status,UpdatedBy,NieNumber,RequestId,CpfDoCliente\npending,batch 7,Y2714903C,7a9f5410-7714-4d50-a547-7f3d09c5ad68,649.430.304-83\nInvoice INV-2024-280297 totals $5,919.10. Invoice INV-2023-150715 totals $8,385.03. Please keep the tone neutral.",
            ),
            // A header's last name wrapped before the word that completes a context
            // keyword, above a row whose first cell is a word.
            (
                "Status,Request id,Updated by,Request id,Created at,Order id,Drivers\nlicense number\nimport-job,0b5e6c2a-3f7e-4f0e-9a4d-1c2b3d4e5f60,batch 7,4c3f20a4-41c3-4cac-abf1-2858eedfee6f,2024-01-15T11:09:07Z,558501954,D1234567",
                "Status,Request id,Updated by,Request id,Created at,Order id,Drivers license number\nimport-job,0b5e6c2a-3f7e-4f0e-9a4d-1c2b3d4e5f60,batch 7,4c3f20a4-41c3-4cac-abf1-2858eedfee6f,2024-01-15T11:09:07Z,558501954,D1234567",
            ),
            // A row's part whose commas look like a number's thousands is still a part.
            (
                "Customer,Address,Units,Amount\nJane Doe,Warehouse 12 North Industrial Estate Building B\nUnit 7,120,450",
                "Customer,Address,Units,Amount\nJane Doe,Warehouse 12 North Industrial Estate Building B Unit 7,120,450",
            ),
            // The header's lines over a whole first row, then a row broken inside a cell.
            (
                "Order id,Social insurance number,Numero securite sociale,Request\nid,Request id\n353728453,441 371 259,116057475768840,617ce52c-fe4b-477c-a970-ed521a49f91f,x\n353728454,441 371\n259,116057475768840,617ce52c-fe4b-477c-a970-ed521a49f91f,y",
                "Order id,Social insurance number,Numero securite sociale,Request id,Request id\n353728453,441 371 259,116057475768840,617ce52c-fe4b-477c-a970-ed521a49f91f,x\n353728454,441 371 259,116057475768840,617ce52c-fe4b-477c-a970-ed521a49f91f,y",
            ),
            // `51,934dd…` is two cells, not a number's thousands: the row ends there.
            (
                "amount,client_secret,request_id,payee_iban,request_id\n41.63,LNZaF6VNwas5vJ88j30DMZ67,1a42a25c-69f7-4191-aad0-71212d338a9b,DE20\n4688 7906 8748 4727 51,934dd265-b6ec-4423-a0fc-ca1a346fa355\nTicket 555-0178 is about 85114 rows in the report.",
                "amount,client_secret,request_id,payee_iban,request_id\n41.63,LNZaF6VNwas5vJ88j30DMZ67,1a42a25c-69f7-4191-aad0-71212d338a9b,DE20 4688 7906 8748 4727 51,934dd265-b6ec-4423-a0fc-ca1a346fa355\nTicket 555-0178 is about 85114 rows in the report.",
            ),
            // An SQL insert broken five times, a value a line after a long token.
            (
                "INSERT INTO records (auth-token, request-id, request-id, created-at,\naba-routing) VALUES\n('pypi-AgEIcHlwaS5vcmc5B0iupRXfNKetlaQxwAqkEgt4fnXk2DkVMLJUrrNy1XraZVYFaeaol5td77XDZPgsXTLEZ35TrXuTx',\n'7304e6fd-cf6e-4ddf-a6f4-0b06a16d8a7f',\n'3bfcc9a3-79a5-4351-ab7c-208457f1987a', '2024-02-17T14:05:07Z',\n'071011264');",
                "INSERT INTO records (auth-token, request-id, request-id, created-at, aba-routing) VALUES ('pypi-AgEIcHlwaS5vcmc5B0iupRXfNKetlaQxwAqkEgt4fnXk2DkVMLJUrrNy1XraZVYFaeaol5td77XDZPgsXTLEZ35TrXuTx', '7304e6fd-cf6e-4ddf-a6f4-0b06a16d8a7f', '3bfcc9a3-79a5-4351-ab7c-208457f1987a', '2024-02-17T14:05:07Z', '071011264');",
            ),
        ];
        for (wrapped, written) in joined {
            let n = normalize(wrapped).ok_or(format!("not normalised: {wrapped:?}"))?;
            assert_eq!(n.text, written);
        }
        // Whole records, one a line, and a PEM key's lines stay as they are.
        for text in [
            "| Order | Ticket | Amount | Reference number for the quarterly review |\n|---|---|---|---|\n| 538056640 | 294526 | 12.00 | 4639632141 |\n4639632141 rows were read in the quarterly review of the operations team",
            "order_id,ticket,amount,reference number of the review\n538056640,294526,12.00,4639632141\n4639632141 rows were read in the quarterly review of the operations team",
            "order_id,ticket,amount,reference number of the review\n538056640,294526,12.00,4639632141\nTotal: 1 row.",
            "('933238807', '2a73921d-4608-45b3-aaa8-caf55109b249', '8.28.50', 'x'),\n('933238808', '2a73921d-4608-45b3-aaa8-caf55109b249', '8.28.50', 'y'),\n('933238809', '2a73921d-4608-45b3-aaa8-caf55109b249', '8.28.50', 'z');",
            "<private_key>-----BEGIN RSA PRIVATE KEY-----\nEtGR0ys8CCTsryR+QVLjFJ83Kp15ocUUi0FS/Ea3dlg9wnWTlT7kvdJWDiXssAwE\n-----END RSA PRIVATE KEY-----</private_key>",
            // A whole header above its rule, and whole rows of a table without outer
            // pipes.
            "| Identifikationsnummer | UpdatedBy | UniqueTaxpayerReference | Version |\n|---|---|---|---|\n| 69856716239 | batch 7 | 7249326922 | 9.16.81 |",
            "| Identifikationsnummer | UpdatedBy | UniqueTaxpayerReference | Version\n|---|---|---|---\n| 69856716239 | batch 7 | 7249326922 | 9.16.81",
            // Rows of words that leave out their last cell under a header of one more:
            // no line of them was wrapped.
            "Name,Team,Role,City,SSN\nAlice Jones,Core Platform,Senior Engineer,Berlin\nRobert Smith,Platform Engineering,Staff Designer,Paris\nDana Lee,Core,Lead,Oslo,123-45-6789",
            // A row of words above rows whose last cell is empty.
            "full name,employer,ssn,notes\nAnna Maria Lopez,Northwind Traders,none,prefers email contact with the team\nRobert James Stonebridge,Contoso Pharmaceuticals and Sons,078051120,\nCarla Diaz,Fabrikam,219099999,\nDana Fox,Tailspin Toys,536228726,",
            // Rows of words under a header of words, each as wide as a wrapped line.
            "first name,last name,street,city,country,notes,status\nJohn Edward,Smith Jones,Maple Avenue,Paris,France,called twice,open\nMaria Luisa,Garcia Lopez,Elm Road,Madrid,Spain,wants a refund now,closed\nWei Ming,Chen Wang,Oak Street,Beijing,China,no answer on the phone,open\nOlga Petra,Ivanova Smirnova,Pine Lane,Moscow,Russia,sent the invoice,open",
            // A form's fields, one a line, as wide as a wrapped line.
            "Dsn: postgres://admin4:iokbgVnhhtFT@db.internal:5432/app\nCard cvv: 280\n\nrecord:\n  DeviceMac: x",
            "Dsn - postgres://admin53:sgqAMUshAr2A@db.internal:5432/app\nCvv2 - 910",
            // A header of one-word names cannot have wrapped inside one: the short
            // line under it is a line of its own.
            "primary_diagnosis,connection_url,order_id,updated_by,amount_in_dollars\nnotes\n885511441,system,12.00,x,y",
            // A tuple whose PEM key ends the statement.
            "VALUES ('-----BEGIN RSA PRIVATE KEY-----\nUtNgYB0WWu7zUNNILOsQWgHlVVoXLd0//QtvkV+M/MomzhxMzF2wYr9zw2b3uFaL\n-----END RSA PRIVATE KEY-----', '993 396 4453', 'system and the operations team');\nWe are preparing the quarterly review for the operations team today.",
        ] {
            assert!(normalize(text).is_none(), "{text:?}");
        }
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
