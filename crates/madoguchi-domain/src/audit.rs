//! The audit chain's hashing rule, kept pure so the writer (db crate) and the verifier
//! (`madoguchi audit verify`) cannot disagree about it.

use sha2::{Digest, Sha256};

/// The content of one audit event that the hash covers.
#[derive(Clone, Copy, Debug)]
pub struct AuditRecord<'a> {
    pub seq: i64,
    /// Milliseconds since the Unix epoch, UTC.
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    /// JSON text, hashed exactly as stored.
    pub details: &'a str,
}

/// The genesis "previous hash" of an empty chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 (hex) over the previous hash and each field, length-prefixed so no two different
/// events can serialise to the same bytes.
pub fn chain_hash(prev_hash: &str, r: &AuditRecord<'_>) -> String {
    let mut h = Sha256::new();
    let seq = r.seq.to_string();
    let at = r.at.to_string();
    for part in [
        prev_hash,
        &seq,
        &at,
        r.actor,
        r.action,
        r.object_type,
        r.object_id,
        r.details,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Why a chain failed verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("event {seq}: sequence gap (expected {expected})")]
    Gap { seq: i64, expected: i64 },
    #[error("event {seq}: previous-hash link broken")]
    BrokenLink { seq: i64 },
    #[error("event {seq}: content does not match its hash")]
    Tampered { seq: i64 },
    #[error("head says seq {head_seq} but the chain ends at {last_seq}, or its hash differs")]
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

/// Incremental verifier: feed events in order, then `finish` with the stored head.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainVerifier {
    /// Checks one event (its recorded `prev_hash` and `hash`) against the chain so far.
    pub fn push(
        &mut self,
        rec: &AuditRecord<'_>,
        prev_hash: &str,
        hash: &str,
    ) -> Result<(), ChainError> {
        if rec.seq != self.last_seq + 1 {
            return Err(ChainError::Gap {
                seq: rec.seq,
                expected: self.last_seq + 1,
            });
        }
        if prev_hash != self.last_hash {
            return Err(ChainError::BrokenLink { seq: rec.seq });
        }
        if chain_hash(prev_hash, rec) != hash {
            return Err(ChainError::Tampered { seq: rec.seq });
        }
        self.last_seq = rec.seq;
        self.last_hash = hash.to_string();
        Ok(())
    }

    /// Number of events verified so far.
    pub fn count(&self) -> i64 {
        self.last_seq
    }

    /// Checks that the stored head points at the last verified event.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainError> {
        if head_seq != self.last_seq || head_hash != self.last_hash {
            return Err(ChainError::HeadMismatch {
                head_seq,
                last_seq: self.last_seq,
            });
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: i64, details: &str) -> AuditRecord<'_> {
        AuditRecord {
            seq,
            at: 1,
            actor: "u",
            action: "a",
            object_type: "case",
            object_id: "c",
            details,
        }
    }

    #[test]
    fn a_valid_chain_verifies_and_any_change_is_caught() {
        let h1 = chain_hash(GENESIS_HASH, &rec(1, "{}"));
        let h2 = chain_hash(&h1, &rec(2, "{\"x\":1}"));
        let mut v = ChainVerifier::default();
        v.push(&rec(1, "{}"), GENESIS_HASH, &h1).unwrap();
        v.push(&rec(2, "{\"x\":1}"), &h1, &h2).unwrap();
        assert_eq!(v.finish(2, &h2), Ok(2));

        let mut v = ChainVerifier::default();
        v.push(&rec(1, "{}"), GENESIS_HASH, &h1).unwrap();
        assert_eq!(
            v.push(&rec(2, "{\"x\":2}"), &h1, &h2),
            Err(ChainError::Tampered { seq: 2 })
        );

        let mut v = ChainVerifier::default();
        assert_eq!(
            v.push(&rec(2, "{}"), GENESIS_HASH, &h2),
            Err(ChainError::Gap {
                seq: 2,
                expected: 1
            })
        );
    }

    #[test]
    fn field_boundaries_matter() {
        let a = AuditRecord {
            actor: "ab",
            action: "c",
            ..rec(1, "")
        };
        let b = AuditRecord {
            actor: "a",
            action: "bc",
            ..rec(1, "")
        };
        assert_ne!(chain_hash(GENESIS_HASH, &a), chain_hash(GENESIS_HASH, &b));
    }
}
