//! Signed checkpoints: every so often the writer appends a record that signs, with
//! Ed25519, the sequence number and hash of the record before it. The hash chain makes a
//! change anywhere before that point visible; the signature makes it impossible to
//! rewrite the whole chain from the change onwards without the private key.
//!
//! A checkpoint body carries the public key, so `customs audit verify` can check every
//! signature on its own; `--public-key` pins the key the operator expects (otherwise
//! whoever rewrote the log could also have signed it with a key of their own).

use std::path::Path;

use anyhow::Context as _;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::record::{from_hex, to_hex};

/// Environment variable holding a 64-hex-digit Ed25519 seed.
pub const SIGNING_KEY_ENV: &str = "CUSTOMS_AUDIT_SIGNING_KEY";

/// The body of a checkpoint record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Sequence number of the record signed over (the one before the checkpoint).
    pub covers_seq: u64,
    /// Its hash (hex).
    pub covers_hash: String,
    /// When it was signed (RFC 3339).
    pub time: String,
    /// The Ed25519 public key (hex).
    pub key: String,
    /// The signature over [`Checkpoint::message`] (hex).
    pub signature: String,
}

impl Checkpoint {
    /// The signed bytes.
    pub fn message(covers_seq: u64, covers_hash: &str, time: &str) -> Vec<u8> {
        format!("customs-audit-checkpoint-v1\n{covers_seq}\n{covers_hash}\n{time}").into_bytes()
    }

    /// Whether the signature is valid for the key the checkpoint names.
    pub fn signature_valid(&self) -> bool {
        let (Some(key), Some(signature)) =
            (from_hex::<32>(&self.key), from_hex::<64>(&self.signature))
        else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, key)
            .verify(
                &Checkpoint::message(self.covers_seq, &self.covers_hash, &self.time),
                &signature,
            )
            .is_ok()
    }
}

/// The checkpoint signing key.
pub struct Signer {
    key: Ed25519KeyPair,
    public_hex: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer {{ public: {} }}", self.public_hex)
    }
}

impl Signer {
    /// The key from `file`, else from [`SIGNING_KEY_ENV`]; `None` when neither is set.
    pub fn configured(file: Option<&Path>) -> anyhow::Result<Option<Signer>> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading audit signing key {}", path.display()))?;
            return Signer::parse(&text)
                .map(Some)
                .with_context(|| format!("audit signing key {}", path.display()));
        }
        match std::env::var(SIGNING_KEY_ENV) {
            Ok(seed) if !seed.trim().is_empty() => Signer::parse(&seed)
                .map(Some)
                .with_context(|| SIGNING_KEY_ENV.to_owned()),
            _ => Ok(None),
        }
    }

    /// Parses a PKCS#8 PEM private key or a 64-hex-digit seed.
    pub fn parse(text: &str) -> anyhow::Result<Signer> {
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN") {
            let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .context("PEM is not base64")?;
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                .map_err(|e| anyhow::anyhow!("not an Ed25519 PKCS#8 key: {e}"))?
        } else {
            let seed = from_hex::<32>(text)
                .ok_or_else(|| anyhow::anyhow!("expected a PEM key or 64 hex digits"))?;
            Ed25519KeyPair::from_seed_unchecked(&seed)
                .map_err(|e| anyhow::anyhow!("not an Ed25519 seed: {e}"))?
        };
        Ok(Signer::from_pair(key))
    }

    /// A fresh random key.
    pub fn generate() -> anyhow::Result<Signer> {
        let key = Ed25519KeyPair::generate()
            .map_err(|_| anyhow::anyhow!("could not generate an Ed25519 key"))?;
        Ok(Signer::from_pair(key))
    }

    fn from_pair(key: Ed25519KeyPair) -> Signer {
        let public_hex = to_hex(key.public_key().as_ref());
        Signer { key, public_hex }
    }

    /// The seed as 64 hex digits (for `customs audit keygen`).
    pub fn seed_hex(&self) -> anyhow::Result<String> {
        use aws_lc_rs::encoding::AsBigEndian as _;
        let seed = self
            .key
            .seed()
            .map_err(|_| anyhow::anyhow!("the key has no seed"))?;
        let bytes = seed
            .as_be_bytes()
            .map_err(|_| anyhow::anyhow!("the seed cannot be encoded"))?;
        Ok(to_hex(bytes.as_ref()))
    }

    /// The public key (hex).
    pub fn public_hex(&self) -> &str {
        &self.public_hex
    }

    /// Signs the chain head `(covers_seq, covers_hash)` at `time`.
    pub fn checkpoint(&self, covers_seq: u64, covers_hash: &[u8; 32], time: String) -> Checkpoint {
        let covers_hash = to_hex(covers_hash);
        let signature = self
            .key
            .sign(&Checkpoint::message(covers_seq, &covers_hash, &time));
        Checkpoint {
            covers_seq,
            covers_hash,
            time,
            key: self.public_hex.clone(),
            signature: to_hex(signature.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_and_a_changed_one_does_not() {
        let signer = Signer::generate().unwrap();
        let checkpoint = signer.checkpoint(41, &[7; 32], "2026-01-01T00:00:00Z".into());
        assert!(checkpoint.signature_valid());
        let mut moved = checkpoint.clone();
        moved.covers_seq = 40;
        assert!(!moved.signature_valid());
        let other = Signer::generate().unwrap();
        let mut rekeyed = checkpoint;
        rekeyed.key = other.public_hex().to_owned();
        assert!(!rekeyed.signature_valid());
    }

    #[test]
    fn a_seed_round_trips() {
        let signer = Signer::generate().unwrap();
        let again = Signer::parse(&signer.seed_hex().unwrap()).unwrap();
        assert_eq!(signer.public_hex(), again.public_hex());
        assert!(Signer::parse("not a key").is_err());
    }
}
