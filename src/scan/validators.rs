//! Checksums and range rules that turn a pattern-shaped candidate into a finding.
//!
//! A regex or shape scanner only says "this looks like a card number"; the validators
//! here say "this *is* one": Luhn for payment cards, ISO 7064 mod-97 for IBANs, the SSA
//! allocation rules for US SSNs, issuer prefixes (IIN) for card brands. They are pure
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
    if !(13..=19).contains(&len) || !digits.iter().all(u8::is_ascii_digit) {
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
        5 | 6 if (p2 == 50 || (56..=69).contains(&p2)) && len >= 13 => "maestro",
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
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"PL" | b"SV" => 28,
        b"BR" | b"EG" | b"IQ" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" => 30,
        b"MT" | b"SC" => 31,
        _ => return None,
    };
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

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
