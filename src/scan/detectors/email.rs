//! EMAIL (`PII.EMAIL`): addresses found by expanding outwards from each `@`.
//!
//! Instead of running an email regex over the whole text, the detector jumps from one
//! `@` to the next (a memchr search) and grows the local part to the left and the
//! domain to the right over their character sets, then checks the RFC 5321 limits
//! that matter in practice: local part 1–64 characters without leading, trailing or
//! doubled dots; a domain of at least two labels of 1–63 characters that do not start
//! or end with `-`; an alphabetic top-level label of at least two letters.
//! Letters and digits of any script are accepted in both parts, so that an
//! internationalised address is redacted whole rather than cut at its first non-ASCII
//! letter.
//!
//! Addresses spelled out to slip past filters (`jane [at] example [dot] com`,
//! `jane(at)example.com`, `jane@example[dot]com`) are found too, from the `@` or from
//! the closing bracket of an at-marker, at a slightly lower confidence.

use super::{Candidate, Detector, Input, class_info};
use crate::scan::{ClassInfo, Severity};

/// Detects email addresses.
#[derive(Debug)]
pub(crate) struct EmailDetector {
    info: ClassInfo,
}

impl EmailDetector {
    pub(crate) fn new() -> Self {
        EmailDetector {
            info: class_info("PII.EMAIL", "EMAIL", Severity::Medium),
        }
    }
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-')
}

impl Detector for EmailDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.info.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        for at in memchr::memchr_iter(b'@', input.bytes) {
            if let Some((start, end)) = address_around(input.text, at)
                && input.word_boundary_before(start)
                && input.word_boundary_after(end)
                && !url_userinfo(input.bytes, start)
                && !remote_login(input.bytes, start)
                && let Some(f) = input.finding(&self.info, start, end, 0.95)
            {
                out.push(f);
            } else if let Some((start, end)) = spelled_out(input.text, at, at + 1)
                && let Some(f) = input.finding(&self.info, start, end, SPELLED_OUT)
            {
                out.push(f);
            }
            // `[@]`, `(@)`, `{@}`.
            self.bracketed_marker(input, at + 1, out);
        }
        // `[at]`, `(at)`, `{at}`: from the words `at` the trigger pass lists, which
        // prose holds a few hundred of per megabyte.
        for &word in input.at_words() {
            self.bracketed_marker(input, word + 2, out);
        }
    }
}

impl EmailDetector {
    /// The address spelled out around the at-marker whose closing bracket would be at
    /// `close`, if there is one.
    fn bracketed_marker<'s>(
        &'s self,
        input: &Input<'_>,
        close: usize,
        out: &mut Vec<Candidate<'s>>,
    ) {
        if matches!(input.byte(close), Some(b']' | b')' | b'}'))
            && let Some(open) = at_marker_start(input.bytes, close)
            && let Some((start, end)) = spelled_out(input.text, open, close + 1)
            && let Some(f) = input.finding(&self.info, start, end, SPELLED_OUT)
        {
            out.push(f);
        }
    }
}

/// Whether the address-like text starting at `start` is the password and host of a
/// URL (`scheme://user:password@host`): a `:` before it, and between that and the
/// `://` before it only the user name. `mailto:jane@example.com` and an address in a
/// query string (`?to=jane@example.com`) are addresses.
fn url_userinfo(bytes: &[u8], start: usize) -> bool {
    if start == 0 || bytes.get(start - 1) != Some(&b':') {
        return false;
    }
    let before = bytes
        .get(start.saturating_sub(256)..start - 1)
        .unwrap_or_default();
    let user = before
        .iter()
        .rposition(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b' ' | b'\n' | b'\t' | b'"'))
        .map_or(before, |i| before.get(i + 1..).unwrap_or_default());
    let head = before.get(..before.len() - user.len()).unwrap_or_default();
    !user.is_empty() && head.ends_with(b"://")
}

/// Whether the address-like text starting at `start` is the `user@host` of a remote
/// login command (`ssh deploy@build01.example.com`, `scp f admin@db1.corp:/tmp`,
/// `ssh -p 2222 git@host`): a user on a host, not a mailbox. The command opens the line
/// or follows a command that runs another (`sudo`, `timeout 5`, `sshpass -p …`, `env
/// A=b`) and its arguments. The line is read back at most 128 bytes.
fn remote_login(bytes: &[u8], start: usize) -> bool {
    const LOGINS: &[&[u8]] = &[b"ssh", b"scp", b"sftp", b"mosh", b"rsync", b"ssh-copy-id"];
    const WRAPPERS: &[&[u8]] = &[
        b"sudo",
        b"doas",
        b"timeout",
        b"sshpass",
        b"env",
        b"nohup",
        b"time",
        b"exec",
        b"nice",
        b"stdbuf",
        b"proxychains",
        b"proxychains4",
        b"torsocks",
        b"command",
    ];
    if start == 0 || bytes.get(start - 1) != Some(&b' ') {
        return false;
    }
    let before = bytes
        .get(start.saturating_sub(128)..start)
        .unwrap_or_default();
    let line = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(before, |i| before.get(i + 1..).unwrap_or_default());
    // The last command of the line: after `;`, `&&`, `||`, `|`, `(` or a backtick
    // (`ls; ssh a@b`, `cd /srv && rsync -a . backup@nas:/srv`).
    let command = line
        .iter()
        .rposition(|&b| matches!(b, b';' | b'&' | b'|' | b'(' | b'`'))
        .map_or(line, |i| line.get(i + 1..).unwrap_or_default());
    fn name(w: &[u8]) -> &[u8] {
        w.rsplit(|&b| b == b'/').next().unwrap_or_default()
    }
    // Prompts, and variables set for the command (`TERM=xterm ssh …`). A quoted
    // argument is one word (`-e "ssh -p 2222"`).
    let words: Vec<&[u8]> = shell_words(command)
        .skip_while(|w| {
            matches!(*w, b"$" | b"#")
                || w.iter().position(|&b| b == b'=').is_some_and(|eq| {
                    eq > 0
                        && w.get(..eq).is_some_and(|n| {
                            n.iter()
                                .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                        })
                })
        })
        .collect();
    // The login command: the last one on the line.
    let Some(at) = words.iter().rposition(|w| LOGINS.contains(&name(w))) else {
        return false;
    };
    // Before it, nothing, or wrapper commands and their options: flags and their values
    // (`-p hunter`, `-f ~/.pw`), durations (`5`, `30s`), variables (`TERM=xterm`).
    let head = words.get(..at).unwrap_or_default();
    // (`rsync -e ssh …`: the login runs another login.)
    let runner = |w: &[u8]| WRAPPERS.contains(&name(w)) || LOGINS.contains(&name(w));
    let wrapped = head.first().is_none_or(|w| runner(w))
        && head.iter().enumerate().all(|(i, w)| {
            let after_flag = i > 0
                && head
                    .get(i - 1)
                    .is_some_and(|f| f.starts_with(b"-") && !f.contains(&b'='));
            runner(w)
                || w.starts_with(b"-")
                || w.contains(&b'=')
                || after_flag
                || (w.first().is_some_and(u8::is_ascii_digit)
                    && w.iter()
                        .all(|&b| b.is_ascii_digit() || matches!(b, b's' | b'm' | b'h' | b'.')))
        });
    // Between the command and the address, only its arguments: flags, numbers, paths
    // and files (`-p 2222`, `-i ~/.ssh/id_ed25519`, `-o BatchMode=yes`, `file.txt`), not a
    // sentence's words.
    let rest = words.get(at + 1..).unwrap_or_default();
    let arguments = rest.len() <= 6
        && rest.iter().enumerate().all(|(i, w)| {
            let after_flag = i > 0
                && rest
                    .get(i - 1)
                    .is_some_and(|f| f.starts_with(b"-") && !f.contains(&b'='));
            w.first() == Some(&b'-')
                // A flag's quoted value (`-e "ssh -p 2222"`).
                || (after_flag && matches!(w.first(), Some(b'"' | b'\'')))
                || w.iter().all(u8::is_ascii_digit)
                // Not a label: `ssh keys: alice@example.com` names a mailbox.
                || (!w.ends_with(b":")
                    && w.iter().any(|b| matches!(b, b'/' | b'.' | b':' | b'~' | b'=')))
        });
    wrapped && arguments && line.ends_with(b" ")
}

/// The words of a command line split at spaces, a quoted string (`"ssh -p 2222"`)
/// one word with its quotes; empty words left out.
fn shell_words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        while line.get(at) == Some(&b' ') {
            at += 1;
        }
        let start = at;
        let mut quote = None;
        while let Some(&b) = line.get(at) {
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'"' || b == b'\'' => quote = Some(b),
                None if b == b' ' => break,
                None => {}
            }
            at += 1;
        }
        (at > start).then(|| line.get(start..at).unwrap_or_default())
    })
}

/// Confidence of an address written with `[at]` / `[dot]` markers.
const SPELLED_OUT: f32 = 0.9;

/// The opening bracket of an at-marker (`[at]`, `(AT)`, `{@}`, ...) that ends with the
/// closing bracket at `close`.
fn at_marker_start(bytes: &[u8], close: usize) -> Option<usize> {
    let opener = match bytes.get(close)? {
        b']' => b'[',
        b')' => b'(',
        _ => b'{',
    };
    let before = bytes.get(..close)?;
    let open = match before {
        [.., o, b'@'] if *o == opener => close - 2,
        [.., o, a, t]
            if *o == opener && a.eq_ignore_ascii_case(&b'a') && t.eq_ignore_ascii_case(&b't') =>
        {
            close - 3
        }
        _ => return None,
    };
    Some(open)
}

/// The length of a dot-marker at the start of `rest` (`.`, `[dot]`, ` (dot) `, `[.]`,
/// `{dot}`; a bracketed one may have one space on each side), or 0.
fn dot_marker(rest: &[u8]) -> (usize, bool) {
    if rest.first() == Some(&b'.') {
        return (1, false);
    }
    let spaced = usize::from(rest.first() == Some(&b' '));
    let Some(body) = rest.get(spaced..) else {
        return (0, false);
    };
    let len = match body {
        [o, b'.', c, ..] if matches!((o, c), (b'[', b']') | (b'(', b')') | (b'{', b'}')) => 3,
        [o, d, t2, t3, c, ..]
            if matches!((o, c), (b'[', b']') | (b'(', b')') | (b'{', b'}'))
                && d.eq_ignore_ascii_case(&b'd')
                && t2.eq_ignore_ascii_case(&b'o')
                && t3.eq_ignore_ascii_case(&b't') =>
        {
            5
        }
        _ => return (0, false),
    };
    let trailing = usize::from(spaced == 1 && body.get(len) == Some(&b' '));
    (spaced + len + trailing, true)
}

/// An address spelled out around an at-marker at `marker..marker_end` (`jane [at]
/// example [dot] com`, `jane.doe(at)example.com`, `jane@example[dot]com`): local part
/// to the left (one space allowed before the marker), domain labels joined by dots or
/// dot-markers to the right. At least one marker must be spelled out (a plain address
/// is [`address_around`]'s), the domain needs two labels and an alphabetic top label
/// of two letters or more, and the span covers everything from the local part to the
/// top label.
fn spelled_out(text: &str, marker: usize, marker_end: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spelled = marker_end - marker > 1;
    // Local part, left of the marker (and of one space).
    let local_end = if marker > 0 && bytes.get(marker - 1) == Some(&b' ') && spelled {
        marker - 1
    } else {
        marker
    };
    let before = text.get(..local_end)?;
    let mut start = local_end;
    for (i, c) in before.char_indices().rev() {
        if !is_local_char(c) {
            break;
        }
        start = i;
    }
    let local = text.get(start..local_end)?.trim_start_matches(['.', '\'']);
    let start = local_end - local.len();
    if local.is_empty() || local.len() > 64 || local.ends_with('.') || local.contains("..") {
        return None;
    }
    if !super::word_boundary_before(text, start) {
        return None;
    }
    // Domain, right of the marker (and of one space).
    let mut at = marker_end;
    if spelled && bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let mut labels = 0;
    let mut end = at;
    let mut last: &str = "";
    loop {
        let rest = text.get(at..)?;
        let len = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '-'))
            .map_or(rest.len(), |(i, _)| i);
        let label = rest.get(..len)?;
        if label.is_empty()
            || label.chars().count() > 63
            || label.starts_with('-')
            || label.ends_with('-')
        {
            break;
        }
        labels += 1;
        end = at + len;
        last = label;
        let (dot, spelled_dot) = dot_marker(bytes.get(end..).unwrap_or_default());
        if dot == 0 || labels == 127 {
            break;
        }
        spelled |= spelled_dot;
        at = end + dot;
    }
    let top_ok = last.chars().count() >= 2 && last.chars().all(char::is_alphabetic);
    (spelled && labels >= 2 && top_ok && super::word_boundary_after(text, end))
        .then_some((start, end))
}

/// The span of the address whose `@` is at byte `at` of `text`, if it is one.
fn address_around(text: &str, at: usize) -> Option<(usize, usize)> {
    let before = text.get(..at)?;
    let after = text.get(at + 1..)?;

    // Local part: grow left, then drop leading dots and quotes.
    let mut start = at;
    for (i, c) in before.char_indices().rev() {
        if !is_local_char(c) {
            break;
        }
        start = i;
    }
    let local = before.get(start..)?.trim_start_matches(['.', '\'']);
    let start = at - local.len();
    if local.is_empty() || local.len() > 64 || local.ends_with('.') || local.contains("..") {
        return None;
    }

    // Domain: grow right, then drop trailing dots and hyphens (sentence punctuation).
    let domain_len = after
        .char_indices()
        .find(|&(_, c)| !is_domain_char(c))
        .map_or(after.len(), |(i, _)| i);
    let domain = after.get(..domain_len)?.trim_end_matches(['.', '-']);
    if domain.len() > 253 {
        return None;
    }
    let mut labels = 0;
    let mut last = "";
    for label in domain.split('.') {
        if label.is_empty()
            || label.chars().count() > 63
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return None;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 || last.chars().count() < 2 || !last.chars().all(char::is_alphabetic) {
        return None;
    }
    // `logo@2x.png` (an image at twice the size), `git@github.com:org/repo.git` (the
    // SSH user of a repository host): names in code, no one's address.
    let file = is_file_extension(last);
    let ssh_remote = local == "git"
        && after
            .get(domain.len()..)
            .is_some_and(|r| r.starts_with(':'));
    // `getty@tty1.service`, `postgresql@15-main.service`: an instance of a systemd unit.
    let unit = is_systemd_unit_type(last);
    // `chacha20-poly1305@openssh.com`, `umac-64@openssh.com`: the name of an SSH
    // algorithm (a vendor extension, named after the domain that defines it), a
    // hyphenated name with a digit, unlike its developers' addresses.
    let ssh_algorithm = domain.eq_ignore_ascii_case("openssh.com")
        && local.contains('-')
        && local.bytes().any(|b| b.is_ascii_digit());
    if file || ssh_remote || unit || ssh_algorithm {
        return None;
    }
    Some((start, at + 1 + domain.len()))
}

/// Whether `label` is the type of a systemd unit that is no top-level domain in use
/// for mail (`.target` is a brand's domain, not an addressable one).
fn is_systemd_unit_type(label: &str) -> bool {
    [
        "service",
        "socket",
        "target",
        "timer",
        "mount",
        "automount",
        "path",
        "slice",
        "scope",
        "device",
        "swap",
    ]
    .iter()
    .any(|unit| label.eq_ignore_ascii_case(unit))
}

/// Whether `label` is a file extension that is no top-level domain: after `@` in
/// `icon@2x.png` or `bundle@1.0.tar`, it ends a file's name, not an address.
/// (Extensions that are also a domain, `.md`, `.py`, `.rs`, `.zip`, are left out.)
fn is_file_extension(label: &str) -> bool {
    let mut lower = [0u8; 5];
    let Some(place) = lower.get_mut(..label.len()) else {
        return false;
    };
    place.copy_from_slice(label.as_bytes());
    place.make_ascii_lowercase();
    matches!(
        &*place,
        b"png"
            | b"jpg"
            | b"jpeg"
            | b"gif"
            | b"svg"
            | b"webp"
            | b"avif"
            | b"ico"
            | b"bmp"
            | b"tif"
            | b"tiff"
            | b"js"
            | b"mjs"
            | b"cjs"
            | b"jsx"
            | b"tsx"
            | b"css"
            | b"scss"
            | b"sass"
            | b"less"
            | b"json"
            | b"html"
            | b"htm"
            | b"xml"
            | b"yml"
            | b"yaml"
            | b"toml"
            | b"txt"
            | b"tar"
            | b"gz"
            | b"tgz"
            | b"bz"
            | b"xz"
            | b"csv"
            | b"lock"
            | b"woff"
            | b"woff2"
            | b"ttf"
            | b"otf"
            | b"eot"
            | b"wav"
            | b"mp3"
            | b"ogg"
            | b"pdf"
            | b"exe"
            | b"dll"
            | b"jar"
            | b"wasm"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let detector = EmailDetector::new();
        detector.detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect()
    }

    #[test]
    fn file_extensions_are_told_from_domains_in_any_case() {
        for ext in ["png", "PNG", "Jpeg", "woff2", "gz", "wasm"] {
            assert!(is_file_extension(ext), "{ext}");
        }
        for label in ["com", "io", "md", "zip", "pngx", "woff22", "", "p", "ÄÖÜ"] {
            assert!(!is_file_extension(label), "{label}");
        }
        assert_eq!(spans("icon@2x.PNG, a@b.Com"), ["a@b.Com"]);
    }

    #[test]
    fn systemd_units_and_ssh_algorithm_names_are_no_addresses() {
        for text in [
            "systemctl start postgresql@15-main.service",
            "getty@tty1.service and user@1000.slice, wg-quick@wg0.Timer",
            "MACs umac-64@openssh.com,hmac-sha2-256-etm@openssh.com",
            "Ciphers chacha20-poly1305@openssh.com",
        ] {
            assert!(spans(text).is_empty(), "{text}: {:?}", spans(text));
        }
        // People at those domains are still found.
        assert_eq!(
            spans("mail djm@openssh.com or ops@service.io"),
            ["djm@openssh.com", "ops@service.io"]
        );
    }

    #[test]
    fn finds_addresses_and_trims_punctuation() {
        assert_eq!(
            spans("mail jane.doe+x@example.co.uk."),
            ["jane.doe+x@example.co.uk"]
        );
        assert_eq!(spans("<a@b.io>, c_d@e-f.com"), ["a@b.io", "c_d@e-f.com"]);
        assert_eq!(spans("mailto:ops@corp.example"), ["ops@corp.example"]);
    }

    #[test]
    fn finds_addresses_spelled_out_with_markers() {
        for address in [
            "jane [at] example [dot] com",
            "jane(at)example(dot)com",
            "jane.doe (AT) mail.example.co (DOT) uk",
            "jane{@}example{.}com",
            "jane@example[dot]com",
            "jane[at]example.com",
            "j.doe [at] example [.] org",
        ] {
            assert_eq!(
                spans(&format!("write to {address}, thanks")),
                [address],
                "{address:?}"
            );
        }
    }

    #[test]
    fn markers_without_an_address_are_not_one() {
        for text in [
            "look [at] this",
            "meet (at) noon, then lunch",
            "jane [at] example",
            "jane [at] example [dot] c0m",
            "array[at] = x; f(at) + g(at)",
            "[at] example [dot] com",
        ] {
            assert!(spans(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn rejects_non_addresses() {
        assert!(spans("@handle and a@b and x@localhost and @").is_empty());
        assert!(spans("a..b@example.com").is_empty());
        assert!(spans("user@-bad.com user@bad-.com user@exa..mple.com").is_empty());
        assert!(spans("user@example.c0m").is_empty());
        assert_eq!(spans("josé@example.com"), ["josé@example.com"]);
    }
}
