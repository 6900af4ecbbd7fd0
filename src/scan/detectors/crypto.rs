//! PII.CRYPTO.*: cryptocurrency wallet addresses, which tie payments to a person.
//!
//! - BTC_ADDRESS (`PII.CRYPTO.BTC`): legacy and P2SH addresses (`1…`, `3…`, 25–35
//!   Base58 characters) confirmed by their Base58Check double-SHA-256 checksum, and
//!   segwit addresses (`bc1…`) confirmed by their Bech32/Bech32m checksum.
//! - ETH_ADDRESS (`PII.CRYPTO.ETH`): `0x` and 40 hex digits. The EIP-55 mixed-case
//!   checksum needs Keccak-256, which this crate does not carry; an all-lowercase or
//!   all-uppercase address has no checksum anyway, so the shape plus a word boundary
//!   is the rule and the confidence is lower.
//!
//! All of them are tokens with at least one digit, so they come from the shared
//! alphanumeric tokens.

use super::{Candidate, Detector, Input, class_info};
use crate::scan::validators::{base58check_valid, bech32_valid};
use crate::scan::{ClassInfo, Severity};

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
                    Some((&self.eth, 0.85))
                }
                _ => None,
            };
            if let Some((info, confidence)) = found {
                out.extend(input.finding(info, t.start, t.end, confidence));
            }
        }
    }
}
