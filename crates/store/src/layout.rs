//! The shadow item: the sanitized image plus metadata attributes, and the sequence number
//! that orders every write.

use std::fmt;

use dynamo_shadow_core::item::{key_attributes, AttributeValue, Item};

/// Source stream sequence number, zero-padded to 40 digits so strings compare like numbers.
pub const SEQ_ATTR: &str = "_shadow_seq";
/// `true` on tombstones.
pub const DELETED_ATTR: &str = "_shadow_deleted";
/// Epoch seconds when a tombstone may be removed (the table's TTL attribute).
pub const EXPIRES_ATTR: &str = "_shadow_expires_at";
/// Fingerprint of the policy and rules the item was sanitized with.
pub const POLICY_ATTR: &str = "_shadow_policy";

/// Stream sequence numbers are 21 to 40 decimal digits.
pub const SEQ_WIDTH: usize = 40;

/// A stream SequenceNumber as the shadow table stores it: padded to [`SEQ_WIDTH`] digits.
/// It does not fit DynamoDB's 38-digit numbers, so it is a string that sorts like the
/// number; `Ord` on `Seq` is that order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(String);

/// A SequenceNumber that is not 1 to 40 decimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("SequenceNumber must be 1 to {SEQ_WIDTH} decimal digits")]
pub struct SeqError;

impl Seq {
    /// Pads a stream SequenceNumber.
    pub fn parse(stream_seq: &str) -> Result<Seq, SeqError> {
        if stream_seq.is_empty() || stream_seq.len() > SEQ_WIDTH || !stream_seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SeqError);
        }
        Ok(Seq(format!("{stream_seq:0>width$}", width = SEQ_WIDTH)))
    }

    /// A sequence as stored in the shadow table (exactly [`SEQ_WIDTH`] digits).
    pub fn from_stored(s: &str) -> Option<Seq> {
        (s.len() == SEQ_WIDTH && s.bytes().all(|b| b.is_ascii_digit())).then(|| Seq(s.to_string()))
    }

    /// The sequence a backfilled item carries: below every stream sequence number.
    pub fn backfill() -> Seq {
        Seq("0".repeat(SEQ_WIDTH))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One write to the shadow table.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowWrite {
    /// The full item to put, metadata included.
    pub item: Item,
    /// The write's sequence (also in `item`).
    pub seq: Seq,
    /// Names of the key attributes (for stores that need to find the item).
    pub key_names: Vec<String>,
}

impl ShadowWrite {
    /// The sanitized image of an INSERT or MODIFY (or a backfilled item).
    pub fn upsert(mut sanitized: Item, key_names: Vec<String>, seq: Seq, fingerprint: &str) -> Self {
        sanitized.insert(SEQ_ATTR.into(), AttributeValue::S(seq.as_str().to_string()));
        sanitized.insert(POLICY_ATTR.into(), AttributeValue::S(fingerprint.into()));
        ShadowWrite { item: sanitized, seq, key_names }
    }

    /// A tombstone for a REMOVE: the key and metadata only.
    pub fn tombstone(keys: Item, seq: Seq, expires_at: u64, fingerprint: &str) -> Self {
        let key_names = keys.keys().cloned().collect();
        let mut item = keys;
        item.insert(SEQ_ATTR.into(), AttributeValue::S(seq.as_str().to_string()));
        item.insert(DELETED_ATTR.into(), AttributeValue::Bool(true));
        item.insert(EXPIRES_ATTR.into(), AttributeValue::N(expires_at.to_string()));
        item.insert(POLICY_ATTR.into(), AttributeValue::S(fingerprint.into()));
        ShadowWrite { item, seq, key_names }
    }

    pub fn is_tombstone(&self) -> bool {
        self.item.contains_key(DELETED_ATTR)
    }

    /// The key attributes of the item written.
    pub fn keys(&self) -> Item {
        key_attributes(&self.item, &self.key_names)
    }
}

/// The shadow metadata of one item.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShadowMeta {
    /// The stored sequence, as stored (it may be malformed: `verify` reports that).
    pub seq: Option<String>,
    pub policy: Option<String>,
    pub deleted: bool,
}

impl ShadowMeta {
    pub fn of(item: &Item) -> Self {
        let s = |k: &str| match item.get(k) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        };
        ShadowMeta {
            seq: s(SEQ_ATTR),
            policy: s(POLICY_ATTR),
            deleted: matches!(item.get(DELETED_ATTR), Some(AttributeValue::Bool(true))),
        }
    }

    /// The stored sequence if it is well formed.
    pub fn valid_seq(&self) -> Option<Seq> {
        self.seq.as_deref().and_then(Seq::from_stored)
    }

    /// The names of the metadata attributes (for projections).
    pub const ATTRS: [&'static str; 3] = [SEQ_ATTR, POLICY_ATTR, DELETED_ATTR];
}

/// The condition a write carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// The stream's: the item is absent or holds an older sequence than the write's
    /// (`attribute_not_exists(#seq) OR #seq < :seq`). A replay or an older redrive is stale.
    Newer,
    /// A backfill fill: only where the shadow item has no sequence at all.
    Absent,
    /// Repairs and re-sanitizing: only if the item still holds this stored sequence (any
    /// stream write in between wins).
    Holds(String),
}

/// Result of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The item now holds this write.
    Applied,
    /// The condition failed: the shadow table holds this or a newer write.
    Stale,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_sequences_compare_like_numbers() {
        let a = Seq::parse("999999999999999999999").unwrap();
        let b = Seq::parse("1000000000000000000000").unwrap();
        assert_eq!(a.as_str().len(), 40);
        assert!(a < b);
        assert!(Seq::backfill() < Seq::parse("1").unwrap());
        assert!(Seq::parse("12a").is_err());
        assert!(Seq::parse(&"1".repeat(41)).is_err());
        assert!(Seq::parse("").is_err());
        assert_eq!(Seq::from_stored(a.as_str()), Some(a));
        assert_eq!(Seq::from_stored("7"), None);
    }
}
