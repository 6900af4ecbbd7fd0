//! PII.IP_ADDRESS and PII.MAC_ADDRESS: network addresses that identify a device or a
//! person's connection.
//!
//! - IP_ADDRESS: IPv4 dotted quads (each part 0–255, no leading zeros, not part of a
//!   longer dotted number and not a version string: `v1.2.3.4` and `version 10.0.0.1`
//!   are skipped), and IPv6 addresses (parsed by `std::net::Ipv6Addr`, at least three
//!   groups, so `a::b` in C++ is not one).
//! - MAC_ADDRESS: six hex pairs joined by one consistent `:` or `-`, or Cisco's
//!   `xxxx.xxxx.xxxx`. One with fewer than two decimal digits (`BD:EA:DD:AB:DB:AE`,
//!   about one MAC in six thousand) needs a MAC word before it: without digits, the
//!   shape is as likely a list of two-letter codes.
//!
//! IPv4 starts from the shared digit groups; IPv6 and MAC from one `memchr` pass over
//! the `:` and `-` bytes, which prose has few of.

use std::net::Ipv6Addr;

use super::{Candidate, Detector, DigitGroup, Input, class_info};
use crate::scan::{ClassInfo, Severity};

/// Context words for IP addresses.
pub(crate) static IP_WORDS: &[&str] = &[
    "ip",
    "ip address",
    "ipv4",
    "ipv6",
    "host",
    "server",
    "client",
];
/// Words before a MAC address with next to no digits, also as a name's last part
/// (`DeviceMac:`, `device_mac=`). Looked for directly in the bytes before it
/// ([`Input::context_before_or_name`]), not registered as keywords: asked about one
/// MAC in thousands, they would otherwise cost every text a busier keyword search
/// (`ether` and `mac` are common letter runs of prose), and a phrase such as `physical
/// address` would hide the street-address word `address`.
pub(crate) static MAC_WORDS: &[&str] = &[
    "mac",
    "hwaddr",
    "hw addr",
    "hw_addr",
    "hw-addr",
    "hardware addr",
    "bssid",
    "ether",
];

/// How far before a MAC address with next to no digits its word is looked for, in bytes.
const MAC_WORD_WINDOW: usize = 24;
/// Words that make a dotted quad a version, a section number or an object identifier
/// (`OID 2.5.29.15`, X.509's key usage), not an address.
pub(crate) static VERSION_WORDS: &[&str] = &[
    "version",
    "ver.",
    "release",
    "build",
    "section",
    "sections",
    "chapter",
    "clause",
    "oid",
    "oids",
    "object identifier",
];

/// What opens an object identifier in code (`ObjectIdentifier("2.5.29.32")`), looked for
/// directly in the bytes before a dotted quad: as a registered keyword, its common letter
/// pairs would cost every text a busier keyword search.
const OID_CALLS: &[&str] = &["objectidentifier(\"", "objectidentifier('"];

/// The bytes that may separate the dotted numbers of one list: spaces, commas,
/// semicolons, and the quotes and markup around each (`` `3.2.2.10`_, ``); a comma or
/// semicolon must be among them (`version 1.0.0.0 10.1.2.3` is no list).
const LIST_GAP: &[u8] = b" ,;`_'\"*";

/// Detects IP and MAC addresses.
#[derive(Debug)]
pub(crate) struct NetworkDetector {
    ip: ClassInfo,
    mac: ClassInfo,
}

impl NetworkDetector {
    pub(crate) fn new() -> Self {
        NetworkDetector {
            ip: class_info("PII.IP_ADDRESS", "IP_ADDRESS", Severity::Low),
            mac: class_info("PII.MAC_ADDRESS", "MAC_ADDRESS", Severity::Low),
        }
    }
}

impl Detector for NetworkDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.ip.clone(), self.mac.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        self.ipv4(input, out);
        let bytes = input.bytes;
        let mut last_end = 0;
        let mut v6_read_until = 0;
        for &at in input.colons_and_dashes() {
            if at < last_end {
                continue;
            }
            // MAC: the separator is the third byte of the address.
            if let Some(start) = at.checked_sub(2)
                && let Some(end) = mac_at(input, start)
            {
                out.extend(input.finding(&self.mac, start, end, 0.9));
                last_end = end;
                continue;
            }
            // Every colon of one run of hex digits, colons and dots reads the same
            // run: it is read once (a megabyte of colons is one run, not a million).
            if bytes.get(at) == Some(&b':') && at >= v6_read_until {
                let (start, end) = ipv6_run(bytes, at);
                v6_read_until = end;
                if let Some((start, end)) = ipv6_in(input, start, end) {
                    let context = input.context(start, end, IP_WORDS);
                    out.extend(input.finding(&self.ip, start, end, context.boost(0.85)));
                    last_end = end;
                }
            }
        }
        // Cisco-style MAC: 0123.4567.89ab. It holds a digit, so only the dots within
        // reach of a digit group (first dot 4 bytes after the start) are looked at, in
        // order, as a search over every dot would.
        let mut next_dot = 0;
        let mut resume = 0;
        for g in input.digit_groups() {
            if !in_cisco_block(bytes, *g) {
                continue;
            }
            let lo = g.start.saturating_sub(9).max(next_dot);
            let hi = (g.end + 4).min(bytes.len());
            if lo >= hi {
                continue;
            }
            next_dot = hi;
            let window = bytes.get(lo..hi).unwrap_or_default();
            for_each_dot(window, |j| {
                let at = lo + j;
                if at >= resume
                    && let Some(end) = self.cisco_mac(input, at, out)
                {
                    resume = end;
                }
            });
        }
    }
}

impl NetworkDetector {
    /// A Cisco-style MAC whose first dot is at `at`: appends it and returns its end.
    fn cisco_mac<'s>(
        &'s self,
        input: &Input<'_>,
        at: usize,
        out: &mut Vec<Candidate<'s>>,
    ) -> Option<usize> {
        let bytes = input.bytes;
        let start = at.checked_sub(4)?;
        let end = start + 14;
        let c = bytes.get(start..end)?;
        let hex = |r: std::ops::Range<usize>| {
            c.get(r)
                .is_some_and(|s| s.iter().all(u8::is_ascii_hexdigit))
        };
        if hex(0..4)
            && c.get(4) == Some(&b'.')
            && hex(5..9)
            && c.get(9) == Some(&b'.')
            && hex(10..14)
            && c.iter().any(u8::is_ascii_digit)
            && input.word_boundary_before(start)
            && input.word_boundary_after(end)
            && input.byte(end) != Some(b'.')
        {
            out.extend(input.finding(&self.mac, start, end, 0.8));
            return Some(end);
        }
        None
    }

    fn ipv4<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let groups = input.digit_groups();
        // The end of the last dotted quad read as a version or section number: the next
        // one in the same list (`sections 3.1.3.6, 3.2.2.10, 3.3.2.11`) is one too.
        let mut version_end: Option<usize> = None;
        for (i, first) in groups.iter().enumerate() {
            let Some(quad) = groups.get(i..i + 4) else {
                break;
            };
            // From the offsets alone first: four groups of one to three digits, each
            // one byte after the previous (nearly no group of prose passes).
            if let [a, b, c, d] = quad
                && (b.start != a.end + 1
                    || c.start != b.end + 1
                    || d.start != c.end + 1
                    || quad.iter().any(|g| g.len() > 3))
            {
                continue;
            }
            let dotted = quad
                .windows(2)
                .all(|w| matches!(w, [a, b] if input.joiner(*a, *b, b".").is_some()));
            if !dotted {
                continue;
            }
            let parts_ok = quad.iter().all(|g| {
                let part = input.bytes.get(g.start..g.end).unwrap_or_default();
                let value = part.iter().fold(0u32, |a, &b| {
                    a.saturating_mul(10).saturating_add(u32::from(b - b'0'))
                });
                (1..=3).contains(&part.len())
                    && value <= 255
                    && !(part.len() > 1 && part.first() == Some(&b'0'))
            });
            let Some(last) = quad.last() else {
                continue;
            };
            // `10.20.30.40-beta`: a version with a pre-release suffix.
            let suffixed = input.byte(last.end) == Some(b'-')
                && input
                    .byte(last.end + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic());
            if !dotted || !parts_ok || suffixed || !input.standalone_number(first.start, last.end) {
                continue;
            }
            if input
                .bytes
                .get(first.start..last.end)
                .is_some_and(|a| !host_address(a))
            {
                continue;
            }
            let listed = version_end.is_some_and(|end| {
                input.bytes.get(end..first.start).is_some_and(|gap| {
                    gap.len() <= 8
                        && gap.iter().all(|b| LIST_GAP.contains(b))
                        && gap.iter().any(|b| matches!(b, b',' | b';'))
                })
            });
            if listed
                || input
                    .context_within(first.start, last.end, 16, 0, VERSION_WORDS)
                    .any()
                || input.context_before(first.start, 18, OID_CALLS)
            {
                version_end = Some(last.end);
                continue;
            }
            let context = input.context(first.start, last.end, IP_WORDS);
            // Four single digits (`1.5.4.1`) are a version far more often than an
            // address, and the addresses written so (`8.8.8.8`) are public services:
            // an address only next to an address word.
            if quad.iter().all(|g| g.len() == 1) && !context.any() {
                continue;
            }
            out.extend(input.finding(&self.ip, first.start, last.end, context.boost(0.85)));
        }
    }
}

/// Whether a dotted quad (checked well-formed) can be someone's address, which code
/// and configuration pasted into prompts are full of: not this host (`127.0.0.1`),
/// nothing in `0.0.0.0/8` ("this network": `0.0.0.0`, and hostmasks such as
/// `0.0.0.255`), no netmask (`255.255.255.0`, `255.255.240.0`: ones, then zeros; and
/// `255.255.255.255`, everyone).
fn host_address(quad: &[u8]) -> bool {
    let value = quad.split(|&b| b == b'.').fold(0u32, |acc, part| {
        let octet = part.iter().fold(0u32, |o, &d| {
            o.saturating_mul(10).saturating_add(u32::from(d - b'0'))
        });
        acc.wrapping_shl(8) | octet.min(255)
    });
    let netmask = value >> 24 == 255 && (!value).wrapping_add(1).is_power_of_two();
    value >> 24 != 0 && !netmask && value != 0x7F00_0001
}

/// Whether digit group `g` can lie in a Cisco-style MAC: the hex run around it is four
/// bytes long with a dot right before or after it. Every block of such a MAC is that
/// (the first ends at a dot, the last starts after one, a word boundary on the outer
/// sides), so any group inside one passes; the lone numbers of prose (`2023 `, `41,`,
/// `5.5`) fail after reading a few bytes.
fn in_cisco_block(bytes: &[u8], g: DigitGroup) -> bool {
    let hex = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_hexdigit);
    let (mut start, mut end) = (g.start, g.end);
    while end - start <= 4 && start > 0 && hex(start - 1) {
        start -= 1;
    }
    while end - start <= 4 && hex(end) {
        end += 1;
    }
    end - start == 4
        && (bytes.get(end) == Some(&b'.')
            || start.checked_sub(1).and_then(|i| bytes.get(i)) == Some(&b'.'))
}

/// A MAC address starting at `start`: its end.
fn mac_at(input: &Input<'_>, start: usize) -> Option<usize> {
    let c = input.bytes.get(start..start + 17)?;
    let sep = *c.get(2)?;
    let ok = c.chunks(3).all(|chunk| match chunk {
        [a, b, s] => a.is_ascii_hexdigit() && b.is_ascii_hexdigit() && *s == sep,
        [a, b] => a.is_ascii_hexdigit() && b.is_ascii_hexdigit(),
        _ => false,
    });
    let end = start + 17;
    let digits = c.iter().filter(|b| b.is_ascii_digit()).count();
    (ok && input.word_boundary_before(start)
        && input.word_boundary_after(end)
        && input.byte(end) != Some(sep)
        && input.byte_before(start) != Some(sep)
        && (digits >= 2
            || input.context_before_or_name(start, MAC_WORD_WINDOW, MAC_WORDS)
            || header_names_a_mac(input, start, end)))
    .then_some(end)
}

/// Whether `start..end` fills a table cell (CSV, Markdown, an SQL insert's tuple)
/// whose column's header holds a MAC word (`Device mac`, `mac-address`).
fn header_names_a_mac(input: &Input<'_>, start: usize, end: usize) -> bool {
    input.header_cell(start, end).is_some_and(|(lo, hi)| {
        let header = input.bytes.get(lo..hi).unwrap_or_default();
        MAC_WORDS.iter().any(|word| {
            header.windows(word.len()).enumerate().any(|(i, w)| {
                w.eq_ignore_ascii_case(word.as_bytes())
                    && !header
                        .get(i + word.len())
                        .is_some_and(u8::is_ascii_lowercase)
            })
        })
    })
}

/// Calls `each(i)` for every `i` with `window[i] == b'.'`, in order: eight bytes at a
/// time (an exact word-at-a-time test for a byte equal to `.`), so that the windows
/// around digits, which mostly hold no dot or one, cost a few instructions each.
fn for_each_dot(window: &[u8], mut each: impl FnMut(usize)) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = ONES * 0x7F;
    let (words, tail) = window.as_chunks::<8>();
    for (k, word) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*word) ^ (ONES * u64::from(b'.'));
        // The high bit of each byte of `x` that is zero, and of no other (no carry
        // crosses a byte: each sum is at most 0xFE).
        let mut dots = !(((x & LOW7) + LOW7) | x) & !LOW7;
        while dots != 0 {
            each(k * 8 + dots.trailing_zeros() as usize / 8);
            dots &= dots - 1;
        }
    }
    let base = words.len() * 8;
    for (j, &b) in tail.iter().enumerate() {
        if b == b'.' {
            each(base + j);
        }
    }
}

/// The IPv6 address containing the `:` at `at`, if there is one.
/// The run of hex digits, colons and dots around `at`.
fn ipv6_run(bytes: &[u8], at: usize) -> (usize, usize) {
    let is_v6 = |b: &u8| b.is_ascii_hexdigit() || *b == b':' || *b == b'.';
    let mut start = at;
    while start > 0 && bytes.get(start - 1).is_some_and(is_v6) {
        start -= 1;
    }
    let mut end = at;
    while bytes.get(end).is_some_and(is_v6) {
        end += 1;
    }
    (start, end)
}

/// The longest text form of an IPv6 address (eight groups, the last two as a dotted
/// IPv4 address).
const MAX_IPV6_LEN: usize = 45;

/// The IPv6 address that the run `start..end` (see [`ipv6_run`]) is, if it is one.
fn ipv6_in(input: &Input<'_>, start: usize, mut end: usize) -> Option<(usize, usize)> {
    let bytes = input.bytes;
    // Trailing sentence punctuation is not part of the address.
    while end > start && bytes.get(end - 1) == Some(&b'.') {
        end -= 1;
    }
    let candidate = input.text.get(start..end)?;
    if candidate.len() < 6
        || candidate.len() > MAX_IPV6_LEN
        || candidate.split(':').filter(|g| !g.is_empty()).count() < 3
    {
        return None;
    }
    let address = u128::from(candidate.parse::<Ipv6Addr>().ok()?);
    // A netmask (`ffff:ffff:ffff:ffff::`, ones then zeros) is no one's address.
    if address >> 112 == 0xffff && (!address).wrapping_add(1).is_power_of_two() {
        return None;
    }
    (input.word_boundary_before(start) && input.word_boundary_after(end)).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn every_cisco_mac_is_found(
            blocks in proptest::collection::vec("[0-9a-fA-F]{4}", 3),
            digit in 0usize..12,
            before in "[ (,:]{0,2}",
            after in "[ ),;]{0,2}",
        ) {
            // At least one digit, anywhere in the address.
            let mut mac = blocks.join(".").into_bytes();
            let at = digit + digit / 4;
            mac[at] = b'0' + (digit % 10) as u8;
            let mac = String::from_utf8(mac).unwrap_or_default();
            let text = format!("{before}{mac}{after}");
            let detector = NetworkDetector::new();
            let input = Input::new(&text);
            let mut out = Vec::new();
            detector.detect(&input, &mut out);
            proptest::prop_assert!(
                out.iter().any(|c| c.start == before.len() && c.end == before.len() + 14),
                "{text:?}"
            );
        }

        #[test]
        fn dots_are_found_word_at_a_time(window in proptest::collection::vec(
            proptest::sample::select(b"..-/ 09aZ\x00\xae\xff".to_vec()), 0..40)) {
            let mut found = Vec::new();
            for_each_dot(&window, |i| found.push(i));
            let naive: Vec<usize> = (0..window.len()).filter(|&i| window[i] == b'.').collect();
            proptest::prop_assert_eq!(found, naive);
        }
    }
}
