//! Checksums and range rules that turn a pattern-shaped candidate into a finding.
//!
//! A regex or shape scanner only says "this looks like a card number"; the validators
//! here say "this *is* one": Luhn for payment cards, IMEIs, CA SINs and US NPIs, ISO
//! 7064 mod-97 for IBANs and FR NIRs, mod 11,10 for DE Steuer-IDs, Verhoeff for
//! Aadhaar, mod-11 for UK NHS numbers, CPFs, TFNs and UTRs, mod-23 for ES NIF/NIE,
//! mod-89 for ABNs, the ABA 3-7-1 weights, VIN and DEA check digits, the codice
//! fiscale, CURP and GSTIN check characters, Base58Check and Bech32 for Bitcoin
//! addresses, EIP-55 (Keccak-256) for mixed-case Ethereum addresses, the CRC32 of
//! GitHub tokens, the SSA allocation rules for US SSNs, issuer prefixes (IIN) for card
//! brands. They are pure
//! functions over ASCII digits/letters so that every detector family can share them,
//! and so that they are easy to test exhaustively. None of them allocates or panics:
//! non-digit input simply fails validation.

/// Luhn (mod 10) check over ASCII digits. Non-digits and empty input fail.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let mut sum: u32 = 0;
    for (i, &b) in digits.iter().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// The payment-card brand implied by the issuer prefix (IIN) and length, if any.
///
/// `digits` are the card's ASCII digits without separators. Returns `None` when no
/// known scheme issues numbers of that prefix and length (which also rejects all-zero
/// numbers, since no scheme starts with 0).
pub fn card_brand(digits: &[u8]) -> Option<&'static str> {
    let len = digits.len();
    if !(12..=19).contains(&len) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let prefix = |n: usize| -> u32 {
        digits
            .iter()
            .take(n)
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'))
    };
    let p1 = prefix(1);
    let p2 = prefix(2);
    let p3 = prefix(3);
    let p4 = prefix(4);
    let brand = match p1 {
        4 if matches!(len, 13 | 16 | 19) => "visa",
        5 if (51..=55).contains(&p2) && len == 16 => "mastercard",
        2 if (2221..=2720).contains(&p4) && len == 16 => "mastercard",
        3 if (p2 == 34 || p2 == 37) && len == 15 => "amex",
        3 if (3528..=3589).contains(&p4) && len >= 16 => "jcb",
        3 if ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && len >= 14 => {
            "diners"
        }
        6 if (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && len >= 16 => "discover",
        6 if p2 == 62 && len >= 16 => "unionpay",
        5 | 6 if (p2 == 50 || (56..=69).contains(&p2)) && len >= 12 => "maestro",
        2 if (2200..=2204).contains(&p4) && len >= 16 => "mir",
        9 if p4 == 9792 && len == 16 => "troy",
        8 if (p2 == 81 || p2 == 82) && len == 16 => "rupay",
        1 if len == 15 => "uatp",
        _ => return None,
    };
    Some(brand)
}

/// SSA rules for a US Social Security number given as its three parts of ASCII digits
/// (area `AAA`, group `GG`, serial `SSSS`): area 000, 666 and 900–999 were never
/// issued, group 00 and serial 0000 are invalid.
pub fn ssn_valid(area: &[u8], group: &[u8], serial: &[u8]) -> bool {
    let (Some(a), Some(g), Some(s)) = (
        parse_digits(area, 3),
        parse_digits(group, 2),
        parse_digits(serial, 4),
    ) else {
        return false;
    };
    a != 0 && a != 666 && a < 900 && g != 0 && s != 0
}

fn parse_digits(digits: &[u8], len: usize) -> Option<u32> {
    if digits.len() != len || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0')),
    )
}

/// ISO 7064 mod-97-10 check of an IBAN given as its characters without spaces
/// (`DE89370400440532013000`, case-insensitive): move the first four characters to the
/// end, map letters to 10..=35, and the number modulo 97 must be 1.
pub fn iban_mod97_valid(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut rem: u32 = 0;
    for &b in tail.iter().chain(head) {
        let b = b.to_ascii_uppercase();
        match b {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// The IBAN length (in characters, without spaces) registered for a country code, for
/// the SWIFT IBAN registry countries; `None` for codes that do not issue IBANs.
pub fn iban_length(country: [u8; 2]) -> Option<usize> {
    let cc = [
        country[0].to_ascii_uppercase(),
        country[1].to_ascii_uppercase(),
    ];
    let len = match &cc {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FK" | b"FO" | b"GL" | b"NL" | b"SD" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"MN" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"OM" | b"SO" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"LY" | b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"BI" | b"DJ" | b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HN" | b"HU" | b"LB" | b"NI" | b"PL"
        | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        _ => return None,
    };
    Some(len)
}

/// Numeric value of ASCII digits, `None` for anything else or more than 18 digits.
fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0')),
    )
}

/// Digit values of ASCII digits, `None` if any byte is not a digit or the length differs.
fn digit_values<const N: usize>(digits: &[u8]) -> Option<[u32; N]> {
    if digits.len() != N {
        return None;
    }
    let mut out = [0u32; N];
    for (o, &b) in out.iter_mut().zip(digits) {
        if !b.is_ascii_digit() {
            return None;
        }
        *o = u32::from(b - b'0');
    }
    Some(out)
}

/// Weighted digit sum.
fn weighted(values: &[u32], weights: &[u32]) -> u32 {
    values.iter().zip(weights).map(|(v, w)| v * w).sum()
}

/// Verhoeff check (Aadhaar) over ASCII digits.
pub fn verhoeff_valid(digits: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut c = 0u8;
    for (i, &b) in digits.iter().rev().enumerate() {
        let p = P
            .get(i % 8)
            .and_then(|row| row.get(usize::from(b - b'0')))
            .copied()
            .unwrap_or(0);
        c = D
            .get(usize::from(c))
            .and_then(|row| row.get(usize::from(p)))
            .copied()
            .unwrap_or(1);
    }
    c == 0
}

/// IN Aadhaar: 12 digits, the first 2–9, Verhoeff.
pub fn aadhaar_valid(digits: &[u8]) -> bool {
    digits.len() == 12
        && digits.first().is_some_and(|&b| (b'2'..=b'9').contains(&b))
        && verhoeff_valid(digits)
}

/// US ABA routing number: 9 digits, weights 3-7-1, sum divisible by 10; the first two
/// digits in the Federal Reserve ranges (00–12, 21–32, 61–72, 80).
pub fn aba_valid(digits: &[u8]) -> bool {
    let Some(d) = digit_values::<9>(digits) else {
        return false;
    };
    let prefix = d[0] * 10 + d[1];
    let prefix_ok = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
    prefix_ok && weighted(&d, &[3, 7, 1, 3, 7, 1, 3, 7, 1]).is_multiple_of(10) && d != [0; 9]
}

/// US NPI: 10 digits starting with 1 or 2, Luhn over `80840` + the number.
pub fn npi_valid(digits: &[u8]) -> bool {
    if digits.len() != 10 || !matches!(digits.first(), Some(b'1' | b'2')) {
        return false;
    }
    let mut full = b"80840".to_vec();
    full.extend_from_slice(digits);
    luhn_valid(&full)
}

/// US DEA registration number: two letters and seven digits, where
/// `(d1 + d3 + d5) + 2 (d2 + d4 + d6)` ends in `d7`.
pub fn dea_valid(s: &[u8]) -> bool {
    let (Some(&l0), Some(&l1)) = (s.first(), s.get(1)) else {
        return false;
    };
    if s.len() != 9
        || !b"ABCDEFGHJKLMPRSTUX".contains(&l0)
        || !(l1.is_ascii_uppercase() || l1 == b'9')
    {
        return false;
    }
    let Some(d) = s.get(2..).and_then(digit_values::<7>) else {
        return false;
    };
    (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
}

/// US Medicare Beneficiary Identifier (11 characters, dashes removed): the positional
/// character classes of CMS (letters exclude S, L, O, I, B, Z).
pub fn mbi_valid(s: &[u8]) -> bool {
    let letter = |b: u8| b.is_ascii_uppercase() && !b"SLOIBZ".contains(&b);
    let alnum = |b: u8| letter(b) || b.is_ascii_digit();
    let digit = |b: u8| b.is_ascii_digit();
    let classes: [&dyn Fn(u8) -> bool; 11] = [
        &|b: u8| (b'1'..=b'9').contains(&b),
        &letter,
        &alnum,
        &digit,
        &letter,
        &alnum,
        &digit,
        &letter,
        &letter,
        &digit,
        &digit,
    ];
    s.len() == 11 && s.iter().zip(classes).all(|(&b, f)| f(b))
}

/// ORCID iD: 15 digits and an ISO 7064 11,2 check character (`0`–`9`, or `X` for 10).
pub fn orcid_valid(s: &[u8]) -> bool {
    let (Some((&check, body)), 16) = (s.split_last(), s.len()) else {
        return false;
    };
    if !body.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let total = body
        .iter()
        .fold(0u32, |t, &d| (t + u32::from(d - b'0')) * 2);
    let result = (12 - total % 11) % 11;
    match check {
        b'X' => result == 10,
        b'0'..=b'9' => u32::from(check - b'0') == result,
        _ => false,
    }
}

/// UK NHS number: 10 digits, mod-11 with weights 10..2 (a check of 10 is never issued).
pub fn nhs_valid(digits: &[u8]) -> bool {
    let Some(d) = digit_values::<10>(digits) else {
        return false;
    };
    let r = 11 - weighted(&d, &[10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    let check = if r == 11 { 0 } else { r };
    check != 10 && check == d[9] && d.iter().any(|&x| x != d[0])
}

/// Vehicle identification number (17 characters, no I, O, Q): the North American
/// check digit in position 9 (`X` for 10).
pub fn vin_valid(s: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    if s.len() != 17 {
        return false;
    }
    let value = |b: u8| -> Option<u32> {
        Some(match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A' | b'J' => 1,
            b'B' | b'K' | b'S' => 2,
            b'C' | b'L' | b'T' => 3,
            b'D' | b'M' | b'U' => 4,
            b'E' | b'N' | b'V' => 5,
            b'F' | b'W' => 6,
            b'G' | b'P' | b'X' => 7,
            b'H' | b'Y' => 8,
            b'R' | b'Z' => 9,
            _ => return None,
        })
    };
    let mut sum = 0;
    for (&b, w) in s.iter().zip(WEIGHTS) {
        let Some(v) = value(b) else {
            return false;
        };
        sum += v * w;
    }
    let check = match sum % 11 {
        10 => b'X',
        r => b'0' + r as u8,
    };
    s.get(8) == Some(&check)
        && s.iter().any(u8::is_ascii_digit)
        && s.iter().any(u8::is_ascii_uppercase)
}

/// The ES DNI/NIF control letter for a number.
fn es_letter(n: u64) -> Option<u8> {
    b"TRWAGMYFPDXBNJZSQVHLCKE".get((n % 23) as usize).copied()
}

/// ES NIF (DNI): eight digits and the mod-23 control letter.
pub fn es_nif_valid(s: &[u8]) -> bool {
    s.len() == 9
        && s.get(..8)
            .and_then(number)
            .and_then(es_letter)
            .is_some_and(|l| s.get(8) == Some(&l))
}

/// ES NIE: X, Y or Z (for 0, 1, 2), seven digits and the mod-23 control letter.
pub fn es_nie_valid(s: &[u8]) -> bool {
    let lead = match s.first() {
        Some(b'X') => 0,
        Some(b'Y') => 1,
        Some(b'Z') => 2,
        _ => return false,
    };
    s.len() == 9
        && s.get(1..8)
            .and_then(number)
            .and_then(|n| es_letter(lead * 10_000_000 + n))
            .is_some_and(|l| s.get(8) == Some(&l))
}

/// IT codice fiscale (16 characters, uppercase): shape (with omocodia letters in digit
/// positions) and the check character.
pub fn it_fiscal_code_valid(s: &[u8]) -> bool {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    if s.len() != 16 {
        return false;
    }
    let omocodia = |b: u8| b.is_ascii_digit() || b"LMNPQRSTUV".contains(&b);
    for (i, &b) in s.iter().enumerate() {
        let ok = match i {
            0..=5 | 8 | 11 | 15 => b.is_ascii_uppercase(),
            6 | 7 | 9 | 10 | 12..=14 => omocodia(b),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    if !b"ABCDEHLMPRST".contains(&s[8]) {
        return false;
    }
    let mut sum = 0;
    for (i, &b) in s.iter().take(15).enumerate() {
        let v = if b.is_ascii_digit() {
            b - b'0'
        } else {
            b - b'A'
        };
        sum += if i % 2 == 0 {
            ODD.get(usize::from(v)).copied().unwrap_or(0)
        } else {
            u32::from(v)
        };
    }
    s.get(15) == Some(&(b'A' + (sum % 26) as u8))
}

/// PL PESEL: 11 digits, weights 1-3-7-9, and a birth month in one of the century bands.
pub fn pesel_valid(digits: &[u8]) -> bool {
    let Some(d) = digit_values::<11>(digits) else {
        return false;
    };
    let month = d[2] * 10 + d[3];
    let day = d[4] * 10 + d[5];
    let month_ok = matches!(month % 20, 1..=12);
    let check = (10 - weighted(&d, &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10) % 10;
    month_ok && (1..=31).contains(&day) && check == d[10]
}

/// DE Steuer-ID (steuerliche Identifikationsnummer): 11 digits, no leading zero, in
/// the first ten exactly one digit repeated (twice or three times), and the ISO 7064
/// mod 11,10 check digit.
pub fn steuer_id_valid(digits: &[u8]) -> bool {
    let Some(d) = digit_values::<11>(digits) else {
        return false;
    };
    if d[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        if let Some(c) = counts.get_mut(x as usize) {
            *c += 1;
        }
    }
    let repeated: Vec<u8> = counts.iter().copied().filter(|&c| c > 1).collect();
    if repeated.len() != 1 || !matches!(repeated.first(), Some(2 | 3)) {
        return false;
    }
    let mut product = 10;
    for &x in &d[..10] {
        let mut sum = (x + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = match 11 - product {
        10 => 0,
        c => c,
    };
    check == d[10]
}

/// FR NIR (numéro de sécurité sociale): 15 characters (13 + 2-digit key), Corsican
/// departments `2A`/`2B` allowed, key = 97 − (number mod 97).
pub fn fr_nir_valid(s: &[u8]) -> bool {
    if s.len() != 15 || !matches!(s.first(), Some(b'1' | b'2' | b'3' | b'4' | b'7' | b'8')) {
        return false;
    }
    let mut body: Vec<u8> = s.get(..13).map(<[u8]>::to_vec).unwrap_or_default();
    let adjust = match (body.get(5), body.get(6)) {
        (Some(b'2'), Some(b'A')) => 1_000_000,
        (Some(b'2'), Some(b'B')) => 2_000_000,
        _ => 0,
    };
    if adjust != 0 {
        body[6] = b'0';
    }
    let (Some(n), Some(key)) = (number(&body), s.get(13..).and_then(number)) else {
        return false;
    };
    let month = n / 100_000_000 % 100;
    let month_ok = matches!(month, 1..=12 | 20..=42 | 50..=99);
    let n = n.saturating_sub(adjust);
    month_ok && key == 97 - n % 97
}

/// UK National Insurance number (`AB123456C`): prefix letters and suffix A–D per HMRC.
pub fn uk_nino_valid(s: &[u8]) -> bool {
    let (Some(&a), Some(&b), Some(&suffix)) = (s.first(), s.get(1), s.get(8)) else {
        return false;
    };
    s.len() == 9
        && a.is_ascii_uppercase()
        && b.is_ascii_uppercase()
        && !b"DFIQUV".contains(&a)
        && !b"DFIOQUV".contains(&b)
        && !matches!(
            &[a, b],
            b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ"
        )
        && s.get(2..8)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && (b'A'..=b'D').contains(&suffix)
}

/// UK Unique Taxpayer Reference: 10 digits, the first a mod-11 check of the other nine.
pub fn uk_utr_valid(digits: &[u8]) -> bool {
    let Some(d) = digit_values::<10>(digits) else {
        return false;
    };
    let r = weighted(&d[1..], &[6, 7, 8, 9, 10, 5, 4, 3, 2]) % 11;
    b"21987654321".get(r as usize).map(|c| u32::from(c - b'0')) == Some(d[0])
}

/// SG NRIC/FIN (`S1234567D`): prefix S, T, F or G, seven digits, check letter.
pub fn sg_nric_valid(s: &[u8]) -> bool {
    let (table, offset): (&[u8], u32) = match s.first() {
        Some(b'S') => (b"JZIHGFEDCBA", 0),
        Some(b'T') => (b"JZIHGFEDCBA", 4),
        Some(b'F') => (b"XWUTRQPNMLK", 0),
        Some(b'G') => (b"XWUTRQPNMLK", 4),
        _ => return false,
    };
    let Some(d) = s.get(1..8).and_then(digit_values::<7>) else {
        return false;
    };
    let r = (weighted(&d, &[2, 7, 6, 5, 4, 3, 2]) + offset) % 11;
    s.len() == 9 && table.get(r as usize) == s.get(8)
}

/// AU tax file number: 9 digits (or 8 for old ones), weighted sum divisible by 11.
pub fn au_tfn_valid(digits: &[u8]) -> bool {
    if let Some(d) = digit_values::<9>(digits) {
        return d != [0; 9] && weighted(&d, &[1, 4, 3, 7, 5, 8, 6, 9, 10]).is_multiple_of(11);
    }
    digit_values::<8>(digits)
        .is_some_and(|d| d != [0; 8] && weighted(&d, &[10, 7, 8, 4, 6, 3, 5, 1]).is_multiple_of(11))
}

/// AU business number: 11 digits; subtract 1 from the first, weighted sum mod 89 = 0.
pub fn au_abn_valid(digits: &[u8]) -> bool {
    let Some(mut d) = digit_values::<11>(digits) else {
        return false;
    };
    if d[0] == 0 {
        return false;
    }
    d[0] -= 1;
    weighted(&d, &[10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]).is_multiple_of(89)
}

/// AU Medicare card number: 10 digits (11 with the IRN), first 2–6, check digit 9.
pub fn au_medicare_valid(digits: &[u8]) -> bool {
    if !(10..=11).contains(&digits.len()) {
        return false;
    }
    let Some(d) = digits.get(..9).and_then(digit_values::<9>) else {
        return false;
    };
    (2..=6).contains(&d[0])
        && weighted(&d, &[1, 3, 7, 9, 1, 3, 7, 9]) % 10 == d[8]
        && digits.iter().all(u8::is_ascii_digit)
}

/// BR CPF: 11 digits, two mod-11 check digits, not all the same digit.
pub fn br_cpf_valid(digits: &[u8]) -> bool {
    let Some(d) = digit_values::<11>(digits) else {
        return false;
    };
    if d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = |n: usize| {
        let sum: u32 = d
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, &x)| x * (n as u32 + 1 - i as u32))
            .sum();
        (sum * 10) % 11 % 10
    };
    check(9) == d[9] && check(10) == d[10]
}

/// MX CURP: 18 characters (`AAAA YYMMDD H|M SS CCC X 9`), with the check digit.
pub fn mx_curp_valid(s: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ";
    if s.len() != 18
        || !s
            .get(..4)
            .is_some_and(|p| p.iter().all(u8::is_ascii_uppercase))
        || !s
            .get(4..10)
            .is_some_and(|p| p.iter().all(u8::is_ascii_digit))
        || !matches!(s.get(10), Some(b'H' | b'M' | b'X'))
        || !s
            .get(11..16)
            .is_some_and(|p| p.iter().all(u8::is_ascii_uppercase))
        || !s.get(16).is_some_and(u8::is_ascii_alphanumeric)
        || !s.get(17).is_some_and(u8::is_ascii_digit)
    {
        return false;
    }
    let mut sum = 0u32;
    for (i, &b) in s.iter().take(17).enumerate() {
        let Some(v) = ALPHABET.iter().position(|&a| a == b) else {
            return false;
        };
        sum += v as u32 * (18 - i as u32);
    }
    s.get(17).map(|c| u32::from(c - b'0')) == Some((10 - sum % 10) % 10)
}

/// IN PAN (`ABCPE1234F`): five letters (the fourth a holder type), four digits, a letter.
pub fn in_pan_valid(s: &[u8]) -> bool {
    s.len() == 10
        && s.get(..5)
            .is_some_and(|p| p.iter().all(u8::is_ascii_uppercase))
        && s.get(3).is_some_and(|b| b"ABCFGHJLPTK".contains(b))
        && s.get(5..9)
            .is_some_and(|p| p.iter().all(u8::is_ascii_digit))
        && s.get(9).is_some_and(u8::is_ascii_uppercase)
}

/// IN GSTIN: state code 01–38, a PAN, an entity digit, `Z`, and the mod-36 check.
pub fn in_gstin_valid(s: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if s.len() != 15
        || !s
            .get(..2)
            .and_then(number)
            .is_some_and(|n| (1..=38).contains(&n))
        || !s.get(2..12).is_some_and(in_pan_valid)
        || s.get(13) != Some(&b'Z')
    {
        return false;
    }
    let mut sum = 0u32;
    for (i, &b) in s.iter().take(14).enumerate() {
        let Some(v) = ALPHABET.iter().position(|&a| a == b) else {
            return false;
        };
        let p = v as u32 * if i % 2 == 0 { 1 } else { 2 };
        sum += p / 36 + p % 36;
    }
    ALPHABET.get(((36 - sum % 36) % 36) as usize) == s.get(14)
}

/// US ITIN: `9AA-GG-SSSS` digits with group 50–65, 70–88, 90–92 or 94–99.
pub fn itin_valid(digits: &[u8]) -> bool {
    let Some(d) = digit_values::<9>(digits) else {
        return false;
    };
    let group = d[3] * 10 + d[4];
    d[0] == 9 && matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// CA Social Insurance Number: 9 digits, Luhn, not starting with 8 (business numbers).
pub fn ca_sin_valid(digits: &[u8]) -> bool {
    digits.len() == 9 && digits.first() != Some(&b'8') && luhn_valid(digits)
}

/// IMEI: 15 digits with a Luhn check digit.
pub fn imei_valid(digits: &[u8]) -> bool {
    digits.len() == 15 && luhn_valid(digits) && digits.iter().any(|&b| b != b'0')
}

/// Base58Check (Bitcoin P2PKH `1…` / P2SH `3…` addresses): decodes to 25 bytes whose
/// last four are the double-SHA-256 of the first 21.
pub fn base58check_valid(s: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if !(25..=35).contains(&s.len()) {
        return false;
    }
    let mut bytes: Vec<u8> = Vec::with_capacity(25);
    for &c in s {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            return false;
        };
        let mut carry = v as u32;
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.iter().take_while(|&&c| c == b'1').count();
    let mut full = vec![0u8; zeros];
    full.extend_from_slice(&bytes);
    if full.len() != 25 || !matches!(full.first(), Some(0x00 | 0x05)) {
        return false;
    }
    let (payload, check) = full.split_at(21);
    let digest = Sha256::digest(Sha256::digest(payload));
    digest.get(..4) == Some(check)
}

/// Bech32 / Bech32m segwit address with human-readable part `bc` (lowercase or upper).
pub fn bech32_valid(s: &[u8]) -> bool {
    if !(14..=90).contains(&s.len()) {
        return false;
    }
    matches!(bech32_checksum(s, b"bc"), Some(1 | 0x2bc8_30a3))
}

/// The residue of the Bech32 checksum over `s`, a whole Bech32 string of one case
/// whose human-readable part (before its last `1`) is `hrp` (lowercase) and whose data
/// part is at least the six checksum characters: 1 for Bech32, `0x2bc830a3` for
/// Bech32m, anything else when a character is wrong. `None` when `s` is not of that
/// shape.
pub fn bech32_checksum(s: &[u8], hrp: &[u8]) -> Option<u32> {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let lower = s.to_ascii_lowercase();
    if lower != s && s.to_ascii_uppercase() != s {
        return None;
    }
    let sep = lower.iter().rposition(|&b| b == b'1')?;
    let (head, data) = lower.split_at(sep);
    let data = data.get(1..).unwrap_or_default();
    if head != hrp || data.len() < 6 {
        return None;
    }
    let mut chk: u32 = 1;
    let mut step = |v: u32| {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ v;
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    };
    hrp.iter().for_each(|&b| step(u32::from(b >> 5)));
    step(0);
    hrp.iter().for_each(|&b| step(u32::from(b & 31)));
    for &c in data {
        step(CHARSET.iter().position(|&a| a == c)? as u32);
    }
    Some(chk)
}

/// The base62 alphabet of GitHub's token checksums: digits, uppercase, lowercase.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of the random part of a GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`).
pub const GITHUB_TOKEN_RANDOM_LEN: usize = 30;

/// The checksum GitHub appends to a token's random part: the CRC32 (IEEE, as in zlib)
/// of those characters, in base62 with the alphabet `0-9A-Z a-z`, left-padded with `0`
/// to six characters (`u32::MAX` needs exactly six).
pub fn github_token_checksum(random: &[u8]) -> [u8; 6] {
    base62_padded(crc32fast::hash(random))
}

/// `n` in six base62 digits (most significant first, left-padded with `0`).
fn base62_padded(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        if let Some(&c) = BASE62.get((n % 62) as usize) {
            *slot = c;
        }
        n /= 62;
    }
    out
}

/// Whether the 36 characters after a classic GitHub token prefix (`ghp_`, `gho_`,
/// `ghu_`, `ghs_`, `ghr_`) end in the checksum of the 30 before them (see
/// [`github_token_checksum`]). One random body in 62⁶ passes.
pub fn github_token_valid(body: &[u8]) -> bool {
    body.len() == GITHUB_TOKEN_RANDOM_LEN + 6
        && body.iter().all(u8::is_ascii_alphanumeric)
        && body
            .split_at_checked(GITHUB_TOKEN_RANDOM_LEN)
            .is_some_and(|(random, check)| check == github_token_checksum(random).as_slice())
}

/// The EIP-55 spelling of an Ethereum address given as 40 hex digits (without `0x`, any
/// case): hex letter `i` is uppercase iff nibble `i` of Keccak-256 (the original
/// Keccak padding, not NIST SHA3-256) of the lowercase hex digits, as ASCII, is 8 or
/// more. `None` when the input is not 40 hex digits.
pub fn eip55_encode(hex: &[u8]) -> Option<[u8; 40]> {
    use sha3::{Digest, Keccak256};
    let lower: [u8; 40] = hex.to_ascii_lowercase().try_into().ok()?;
    if !lower.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let hash = Keccak256::digest(lower);
    let mut out = lower;
    for (i, c) in out.iter_mut().enumerate() {
        let byte = hash.get(i / 2).copied().unwrap_or(0);
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        if nibble >= 8 {
            c.make_ascii_uppercase();
        }
    }
    Some(out)
}

/// Whether the 40 hex digits of an Ethereum address (without `0x`) mix cases, i.e.
/// carry an EIP-55 checksum. All-lowercase and all-uppercase addresses carry none.
pub fn eth_address_is_mixed_case(hex: &[u8]) -> bool {
    hex.iter().any(u8::is_ascii_lowercase) && hex.iter().any(u8::is_ascii_uppercase)
}

/// Whether 40 hex digits (without `0x`) are exactly their EIP-55 spelling. A random
/// mixed-case spelling passes about once in 2¹⁵ (one in two per hex letter, about 15
/// letters in an address).
pub fn eip55_valid(hex: &[u8]) -> bool {
    eip55_encode(hex).is_some_and(|spelled| spelled.as_slice() == hex)
}

/// Shannon entropy of a byte string, in bits per byte.
pub fn shannon_entropy(s: &[u8]) -> f32 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        if let Some(c) = counts.get_mut(usize::from(b)) {
            *c += 1;
        }
    }
    let n = s.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// Shannon entropy of the source that `s` was drawn from, in bits per byte, estimated
/// from `s` with the Miller–Madow correction: the entropy of its byte frequencies
/// ([`shannon_entropy`]) plus (k − 1) / 2n nats for k distinct bytes in n. The
/// uncorrected figure falls short by about that much on short strings (16 random
/// base62 characters cannot score above 4 bits, and one time in a few thousand score
/// under 3.5); the corrected one does not penalise a random string for being short.
pub fn entropy_estimate(s: &[u8]) -> f32 {
    if s.is_empty() {
        return 0.0;
    }
    let mut seen = [false; 256];
    let mut distinct = 0u32;
    for &b in s {
        if let Some(slot) = seen.get_mut(usize::from(b))
            && !*slot
        {
            *slot = true;
            distinct += 1;
        }
    }
    let correction_nats = (distinct - 1) as f32 / (2.0 * s.len() as f32);
    shannon_entropy(s) + correction_nats / std::f32::consts::LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_estimate_corrects_for_short_strings() {
        // 24 random base62 characters with repeats: under 3.5 bits uncorrected.
        let random = b"lmL23v3L3mPRk3mNqKAl3A93";
        assert!(shannon_entropy(random) < 3.5);
        assert!(entropy_estimate(random) >= 3.5);
        // Sixteen distinct bytes: 4 bits of frequencies, plus 15/32 nats.
        let distinct = b"abcdefgh12345678";
        let expected = 4.0 + 15.0 / 32.0 / std::f32::consts::LN_2;
        assert!((entropy_estimate(distinct) - expected).abs() < 1e-4);
        // A repeated placeholder stays low.
        assert!(entropy_estimate(b"test1234test1234") < 3.5);
        assert!(entropy_estimate(b"aaaaaaaaaaaaaaaa") == 0.0);
        assert!(entropy_estimate(b"") == 0.0);
    }

    #[test]
    fn national_checksums_accept_known_examples() {
        assert!(aadhaar_valid(b"234123412346"));
        assert!(!aadhaar_valid(b"234123412347"));
        assert!(aba_valid(b"011000015"));
        assert!(aba_valid(b"021000021"));
        assert!(!aba_valid(b"021000022"));
        assert!(npi_valid(b"1234567893"));
        assert!(!npi_valid(b"1234567894"));
        assert!(dea_valid(b"AB1234563"));
        assert!(!dea_valid(b"AB1234564"));
        assert!(mbi_valid(b"1EG4TE5MK73"));
        assert!(!mbi_valid(b"1SG4TE5MK73"));
        assert!(nhs_valid(b"9434765919"));
        assert!(!nhs_valid(b"9434765918"));
        // ORCID's published examples, one of them with the check character X.
        assert!(orcid_valid(b"0000000218250097"));
        assert!(orcid_valid(b"000000021694233X"));
        assert!(!orcid_valid(b"0000000218250098"));
        assert!(!orcid_valid(b"0000000216942330"));
        assert!(!orcid_valid(b"000000021825009"));
        assert!(vin_valid(b"1M8GDM9AXKP042788"));
        assert!(!vin_valid(b"11111111111111111"));
        assert!(es_nif_valid(b"12345678Z"));
        assert!(!es_nif_valid(b"12345678A"));
        assert!(es_nie_valid(b"X1234567L"));
        assert!(it_fiscal_code_valid(b"RSSMRA85T10A562S"));
        assert!(!it_fiscal_code_valid(b"RSSMRA85T10A562T"));
        assert!(pesel_valid(b"44051401359"));
        assert!(!pesel_valid(b"44051401358"));
        assert!(steuer_id_valid(b"86095742719"));
        assert!(!steuer_id_valid(b"86095742718"));
        assert!(fr_nir_valid(b"255081416802538"));
        assert!(!fr_nir_valid(b"255081416802539"));
        assert!(uk_nino_valid(b"AB123456C"));
        assert!(!uk_nino_valid(b"GB123456C"));
        assert!(sg_nric_valid(b"S1234567D"));
        assert!(!sg_nric_valid(b"S1234567E"));
        assert!(au_tfn_valid(b"123456782"));
        assert!(!au_tfn_valid(b"123456789"));
        assert!(au_abn_valid(b"51824753556"));
        assert!(!au_abn_valid(b"51824753557"));
        assert!(au_medicare_valid(b"2123456701"));
        assert!(br_cpf_valid(b"52998224725"));
        assert!(!br_cpf_valid(b"52998224726"));
        assert!(!br_cpf_valid(b"11111111111"));
        assert!(in_pan_valid(b"ABCPE1234F"));
        assert!(!in_pan_valid(b"ABCDE1234F"));
        assert!(itin_valid(b"912701234"));
        assert!(!itin_valid(b"912401234"));
        assert!(ca_sin_valid(b"046454286"));
        assert!(imei_valid(b"490154203237518"));
        assert!(!imei_valid(b"490154203237519"));
    }

    #[test]
    fn wallet_checksums() {
        assert!(base58check_valid(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
        assert!(base58check_valid(b"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!base58check_valid(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"));
        assert!(bech32_valid(b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(!bech32_valid(b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"));
        assert!(bech32_valid(
            b"bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
        ));
    }

    /// A token body of 30 random characters from a seed, plus its checksum.
    fn github_body(seed: u64) -> Vec<u8> {
        let mut x = seed;
        let mut body: Vec<u8> = (0..GITHUB_TOKEN_RANDOM_LEN)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                BASE62.get((x >> 33) as usize % 62).copied().unwrap_or(b'0')
            })
            .collect();
        let check = github_token_checksum(&body);
        body.extend_from_slice(&check);
        body
    }

    #[test]
    fn github_checksum_is_crc32_in_padded_base62() {
        // CRC32 itself: the catalogue's check value of "123456789".
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        // Base62 digits in the order 0-9, A-Z, a-z, most significant first, padded.
        assert_eq!(&base62_padded(0), b"000000");
        assert_eq!(&base62_padded(9), b"000009");
        assert_eq!(&base62_padded(10), b"00000A");
        assert_eq!(&base62_padded(36), b"00000a");
        assert_eq!(&base62_padded(61), b"00000z");
        assert_eq!(&base62_padded(62), b"000010");
        assert_eq!(&base62_padded(62 * 62 * 62 * 62 * 62), b"100000");
        assert_eq!(&base62_padded(u32::MAX), b"4gfFC3");
        // The checksum of a body is that encoding of its CRC32.
        let random = &github_body(7)[..GITHUB_TOKEN_RANDOM_LEN];
        assert_eq!(
            github_token_checksum(random),
            base62_padded(crc32fast::hash(random))
        );
    }

    #[test]
    fn github_tokens_with_their_checksum_pass_and_one_changed_character_fails() {
        for seed in 0..200 {
            let body = github_body(seed);
            assert!(github_token_valid(&body), "{body:?}");
            // Any one character changed, in the random part or in the checksum.
            for at in [
                0,
                17,
                GITHUB_TOKEN_RANDOM_LEN - 1,
                GITHUB_TOKEN_RANDOM_LEN,
                35,
            ] {
                let mut typo = body.clone();
                if let Some(c) = typo.get_mut(at) {
                    *c = if *c == b'x' { b'y' } else { b'x' };
                }
                assert!(!github_token_valid(&typo), "{typo:?}");
            }
            // Case matters: base62 tells `a` from `A`.
            let mut swapped = body.clone();
            if let Some(c) = swapped.iter_mut().find(|c| c.is_ascii_alphabetic()) {
                *c ^= 0x20;
            }
            assert!(!github_token_valid(&swapped), "{swapped:?}");
        }
        assert!(!github_token_valid(b""));
        assert!(!github_token_valid(&github_body(1)[..35]));
        let mut punctuated = github_body(2);
        punctuated.push(b'-');
        assert!(!github_token_valid(&punctuated));
    }

    #[test]
    fn eip55_accepts_the_spec_examples() {
        // The examples of EIP-55: addresses whose checksummed spelling happens to be
        // all caps, all lowercase, or mixed, as the spec lists them.
        for address in [
            "52908400098527886E0F7030069857D2E4169EE7",
            "8617E340B3D01FA5F11F306F4090FD50E238070D",
            "de709f2102306220921060314715629080e2fb77",
            "27b1fdb04752bbc536007a920d24acb045561c26",
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "dbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let bytes = address.as_bytes();
            assert!(eip55_valid(bytes), "{address}");
            // Any spelling of the same address has that checksummed spelling.
            for spelling in [address.to_ascii_lowercase(), address.to_ascii_uppercase()] {
                let spelled = eip55_encode(spelling.as_bytes());
                assert_eq!(
                    spelled.as_ref().map(<[u8; 40]>::as_slice),
                    Some(bytes),
                    "{address}"
                );
            }
        }
        assert!(eth_address_is_mixed_case(
            b"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        ));
        assert!(!eth_address_is_mixed_case(
            b"de709f2102306220921060314715629080e2fb77"
        ));
        assert!(!eth_address_is_mixed_case(
            b"52908400098527886E0F7030069857D2E4169EE7"
        ));
    }

    #[test]
    fn eip55_rejects_one_letter_with_its_case_flipped() {
        for address in [
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "dbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            for i in 0..40 {
                let mut flipped = address.as_bytes().to_vec();
                let Some(c) = flipped.get_mut(i) else {
                    continue;
                };
                if !c.is_ascii_alphabetic() {
                    continue;
                }
                *c ^= 0x20;
                assert!(!eip55_valid(&flipped), "{address} with letter {i} flipped");
            }
        }
        assert!(eip55_encode(b"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe").is_none());
        assert!(eip55_encode(b"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg").is_none());
        assert!(!eip55_valid(b""));
    }

    #[test]
    fn luhn_accepts_known_test_cards() {
        for card in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
            "4012888888881881",
            "3530111333300000",
            "79927398713",
        ] {
            assert!(luhn_valid(card.as_bytes()), "{card}");
        }
    }

    #[test]
    fn luhn_rejects_off_by_one_and_junk() {
        for bad in ["4111111111111112", "79927398710", "", "4111-1111", "abc"] {
            assert!(!luhn_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn card_brand_by_prefix_and_length() {
        assert_eq!(card_brand(b"4111111111111111"), Some("visa"));
        assert_eq!(card_brand(b"5555555555554444"), Some("mastercard"));
        assert_eq!(card_brand(b"2221000000000009"), Some("mastercard"));
        assert_eq!(card_brand(b"378282246310005"), Some("amex"));
        assert_eq!(card_brand(b"30569309025904"), Some("diners"));
        assert_eq!(card_brand(b"6011111111111117"), Some("discover"));
        assert_eq!(card_brand(b"3530111333300000"), Some("jcb"));
        assert_eq!(card_brand(b"0000000000000000"), None);
        assert_eq!(card_brand(b"9111111111111111"), None);
        assert_eq!(card_brand(b"37828224631000"), None, "amex is 15 digits");
        assert_eq!(card_brand(b"411111111111"), None, "too short");
    }

    #[test]
    fn ssn_range_rules() {
        let ok = |s: &str| {
            let parts: Vec<&str> = s.split('-').collect();
            match parts.as_slice() {
                [a, g, s] => ssn_valid(a.as_bytes(), g.as_bytes(), s.as_bytes()),
                _ => false,
            }
        };
        assert!(ok("123-45-6789"));
        assert!(ok("899-99-9999"));
        assert!(ok("001-01-0001"));
        assert!(!ok("000-12-3456"));
        assert!(!ok("666-12-3456"));
        assert!(!ok("900-12-3456"));
        assert!(!ok("999-12-3456"));
        assert!(!ok("123-00-4567"));
        assert!(!ok("123-45-0000"));
        assert!(!ok("12a-45-6789"));
        assert!(!ok("1234-5-6789"));
    }

    #[test]
    fn iban_mod97() {
        for iban in [
            "DE89370400440532013000",
            "GB82WEST12345698765432",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
            "BE68539007547034",
            "gb82west12345698765432",
        ] {
            assert!(iban_mod97_valid(iban.as_bytes()), "{iban}");
        }
        for bad in [
            "DE88370400440532013000",
            "GB82WEST12345698765433",
            "DE89",
            "DE89-3704",
        ] {
            assert!(!iban_mod97_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn iban_lengths() {
        assert_eq!(iban_length(*b"DE"), Some(22));
        assert_eq!(iban_length(*b"gb"), Some(22));
        assert_eq!(iban_length(*b"FR"), Some(27));
        assert_eq!(iban_length(*b"NO"), Some(15));
        assert_eq!(iban_length(*b"US"), None);
    }
}
