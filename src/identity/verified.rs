//! Memo of tokens already verified, so a caller's every request does not pay for a
//! signature check (an RS256 verification is most of the authenticate phase).
//!
//! The key is the SHA-256 of the whole token, so only the very same token hits. An entry
//! holds until the token's `exp` (plus leeway) and at most [`MAX_ENTRY_AGE`] after it
//! was verified, so a key withdrawn from the JWKS stops being honoured within that
//! time. The map is bounded; when full, one arbitrary entry makes room.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::Principal;

/// Longest an entry is honoured after its verification.
pub const MAX_ENTRY_AGE: Duration = Duration::from_secs(300);
const CAPACITY: usize = 16_384;

#[derive(Debug)]
struct Entry {
    principal: Principal,
    /// Unix seconds after which the token is expired (leeway included).
    expires_at: u64,
    /// Unix seconds before which the token is not yet valid (leeway included).
    not_before: u64,
    verified_at: Instant,
}

/// Tokens verified recently, by digest.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

/// The digest a token is remembered by.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl VerifiedTokens {
    /// The principal of a token verified earlier and still valid now.
    pub fn get(&self, digest: &[u8; 32]) -> Option<Principal> {
        let now = unix_now();
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get(digest)?;
        if now > entry.expires_at
            || now < entry.not_before
            || entry.verified_at.elapsed() > MAX_ENTRY_AGE
        {
            entries.remove(digest);
            return None;
        }
        Some(entry.principal.clone())
    }

    /// Remembers a token that was just verified, with its `exp` and `nbf` claims.
    pub fn insert(
        &self,
        digest: [u8; 32],
        principal: Principal,
        exp: u64,
        nbf: Option<u64>,
        leeway: u64,
    ) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY
            && let Some(key) = entries.keys().next().copied()
        {
            entries.remove(&key);
        }
        entries.insert(
            digest,
            Entry {
                principal,
                expires_at: exp.saturating_add(leeway),
                not_before: nbf.map_or(0, |nbf| nbf.saturating_sub(leeway)),
                verified_at: Instant::now(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::identity::PrincipalKind;

    fn principal() -> Principal {
        Principal {
            kind: PrincipalKind::User,
            id: "a".into(),
            groups: Vec::new(),
            attributes: BTreeMap::new(),
        }
    }

    #[test]
    fn a_remembered_token_is_honoured_until_it_expires() {
        let memo = VerifiedTokens::default();
        let now = unix_now();
        memo.insert(digest("t1"), principal(), now + 60, None, 0);
        assert_eq!(memo.get(&digest("t1")), Some(principal()));
        assert_eq!(memo.get(&digest("t2")), None);
        memo.insert(digest("old"), principal(), now - 10, None, 5);
        assert_eq!(memo.get(&digest("old")), None, "expired beyond the leeway");
        memo.insert(digest("early"), principal(), now + 60, Some(now + 60), 5);
        assert_eq!(memo.get(&digest("early")), None, "not yet valid");
    }
}
