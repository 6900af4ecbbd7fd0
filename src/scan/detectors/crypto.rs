//! PII.CRYPTO.*: cryptocurrency wallet addresses, which tie payments to a person.
//!
//! - BTC_ADDRESS (`PII.CRYPTO.BTC`): legacy and P2SH addresses (`1…`, `3…`, 25–35
//!   Base58 characters) confirmed by their Base58Check double-SHA-256 checksum, and
//!   segwit addresses (`bc1…`) confirmed by their Bech32/Bech32m checksum.
//! - ETH_ADDRESS (`PII.CRYPTO.ETH`): `0x` and 40 hex digits. A mixed-case address
//!   carries the EIP-55 checksum (the case of each hex letter is a bit of the
//!   Keccak-256 of the lowercase address, [`eip55_valid`]): 0.99 when it holds, 0.6
//!   when it does not (see [`ETH_BAD_CHECKSUM`]). An all-lowercase or all-uppercase
//!   address carries none, so the shape plus a word boundary is the rule: 0.85.
//!
//! All of them are tokens with at least one digit, so they come from the shared
//! alphanumeric tokens.

use super::{Candidate, Detector, Input, class_info};
use crate::scan::validators::{
    base58check_valid, bech32_valid, eip55_valid, eth_address_is_mixed_case,
};
use crate::scan::{ClassInfo, Severity};

/// Confidence of a mixed-case Ethereum address whose EIP-55 checksum fails.
///
/// Lowered, not dropped: hex is case-insensitive, so an address whose case was
/// changed by hand (or one digit mistyped) still names, or nearly names, one wallet,
/// and an unchecked all-lowercase address of the same digits is reported at 0.85; a
/// failed checksum only says the case was not written by wallet software, which makes
/// it less likely to be an address at all (a random mixed-case spelling passes about
/// once in 2¹⁵), hence well below both.
const ETH_BAD_CHECKSUM: f32 = 0.6;

/// Detects wallet addresses.
#[derive(Debug)]
pub(crate) struct CryptoDetector {
    btc: ClassInfo,
    eth: ClassInfo,
}

impl CryptoDetector {
    pub(crate) fn new() -> Self {
        CryptoDetector {
            btc: class_info("PII.CRYPTO.BTC", "BTC_ADDRESS", Severity::Medium),
            eth: class_info("PII.CRYPTO.ETH", "ETH_ADDRESS", Severity::Medium),
        }
    }
}

impl Detector for CryptoDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.btc.clone(), self.eth.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        for t in input.alnum_tokens() {
            // Every address is 14 bytes or more (bech32, the shortest): the offsets
            // rule out nearly every token of prose without reading the text.
            if t.len() < 14 {
                continue;
            }
            let Some(token) = input.bytes.get(t.start..t.end) else {
                continue;
            };
            if !input.word_boundary_before(t.start) || !input.word_boundary_after(t.end) {
                continue;
            }
            let found = match token.first() {
                Some(b'1' | b'3') if (25..=35).contains(&token.len()) => {
                    base58check_valid(token).then_some((&self.btc, 0.95))
                }
                Some(b'b' | b'B') if token.len() >= 14 => {
                    bech32_valid(token).then_some((&self.btc, 0.95))
                }
                Some(b'0')
                    if token.len() == 42
                        && matches!(token.get(1), Some(b'x' | b'X'))
                        && token
                            .get(2..)
                            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    let hex = token.get(2..).unwrap_or_default();
                    let confidence = if !eth_address_is_mixed_case(hex) {
                        0.85
                    } else if eip55_valid(hex) {
                        0.99
                    } else {
                        ETH_BAD_CHECKSUM
                    };
                    Some((&self.eth, confidence))
                }
                _ => None,
            };
            if let Some((info, confidence)) = found {
                out.extend(input.finding(info, t.start, t.end, confidence));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, &str, f32)> {
        let mut out = Vec::new();
        let detector = CryptoDetector::new();
        detector.detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| {
                Some((
                    f.info.entity.to_string(),
                    text.get(f.start..f.end)?,
                    f.confidence,
                ))
            })
            .collect()
    }

    #[test]
    fn eth_confidence_follows_the_eip55_checksum() {
        fn eth(value: &str, confidence: f32) -> Vec<(String, &str, f32)> {
            vec![("ETH_ADDRESS".to_owned(), value, confidence)]
        }
        // Valid EIP-55 (the spec's examples).
        for address in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(found(&format!("to {address}.")), eth(address, 0.99));
            // No checksum at all: the shape is the rule.
            let lower = address.to_ascii_lowercase();
            assert_eq!(found(&format!("to {lower}.")), eth(&lower, 0.85));
            let upper = format!("0x{}", &address[2..].to_ascii_uppercase());
            assert_eq!(found(&format!("to {upper}.")), eth(&upper, 0.85));
        }
        // One letter's case flipped: the checksum fails.
        let flipped = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert_eq!(
            found(&format!("to {flipped}.")),
            eth(flipped, ETH_BAD_CHECKSUM)
        );
        // Not 40 hex digits.
        assert!(found("to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe.").is_empty());
        assert!(found("to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd.").is_empty());
    }
}
