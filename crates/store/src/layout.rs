//! The shadow item: the sanitized image plus metadata attributes, and the sequence number
//! that orders every write.

use std::fmt;

use dynamo_shadow_core::item::{item_size, key_attributes, AttributeValue, Item, MAX_ITEM_BYTES};

/// The write's position: `<stream label>/<sequence padded to 40 digits>` (or the padded
/// sequence alone for records that name no stream), so one string comparison orders writes
/// by stream, then by sequence within the stream.
pub const SEQ_ATTR: &str = "_shadow_seq";
/// `true` on tombstones.
pub const DELETED_ATTR: &str = "_shadow_deleted";
/// Epoch seconds when a tombstone may be removed (the table's TTL attribute).
pub const EXPIRES_ATTR: &str = "_shadow_expires_at";
/// Fingerprint of the policy and rules the item was sanitized with.
pub const POLICY_ATTR: &str = "_shadow_policy";
/// On quarantine markers: the reason code of the permanent failure (never a value).
pub const QUARANTINE_ATTR: &str = "_shadow_quarantined";

/// Stream sequence numbers are 21 to 40 decimal digits.
pub const SEQ_WIDTH: usize = 40;
/// Longest stream label accepted (DynamoDB's are 23-character ISO timestamps).
pub const LABEL_MAX: usize = 64;

/// A write's position in the source table's history, as the shadow table stores it.
///
/// Within a stream, positions are sequence numbers padded to [`SEQ_WIDTH`] digits (they do
/// not fit DynamoDB's 38-digit numbers, so they are strings that sort like the numbers).
/// Across streams of one table (a stream disabled and enabled again, a table restored or
/// re-created), the stream label decides: it is the stream's creation time, an ISO-8601
/// timestamp at the end of the stream ARN, and a new stream's sequence numbers can restart
/// below the old one's. So the stored form is `<label>/<padded sequence>`: a newer stream
/// always wins, and an old stream's redrive never overwrites a newer stream's write.
/// Records that name no stream (hand-made events) and items written before labels were
/// stored carry the padded sequence alone, which sorts below every labelled position.
/// `Ord` on `Seq` is that order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(String);

/// A SequenceNumber or stream label that cannot be ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SeqError {
    #[error("SequenceNumber must be 1 to {SEQ_WIDTH} decimal digits")]
    Number,
    #[error(
        "the stream label at the end of eventSourceARN must be 1 to {LABEL_MAX} characters of 0-9 A-Z a-z : . - _"
    )]
    Label,
}

fn valid_label(label: &str) -> bool {
    (1..=LABEL_MAX).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'-' | b'_'))
}

fn padded(stream_seq: &str) -> Result<String, SeqError> {
    if stream_seq.is_empty() || stream_seq.len() > SEQ_WIDTH || !stream_seq.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SeqError::Number);
    }
    Ok(format!("{stream_seq:0>width$}", width = SEQ_WIDTH))
}

/// The stream label of a stream ARN (`arn:...:table/T/stream/2026-01-01T00:00:00.000`),
/// `None` if the ARN names no stream.
pub fn stream_label(arn: &str) -> Option<&str> {
    arn.rsplit_once("/stream/").map(|(_, label)| label)
}

impl Seq {
    /// Pads a stream SequenceNumber of a record that names no stream.
    pub fn parse(stream_seq: &str) -> Result<Seq, SeqError> {
        padded(stream_seq).map(Seq)
    }

    /// The position of a record of the stream with this label (`None`: no stream named).
    pub fn in_stream(label: Option<&str>, stream_seq: &str) -> Result<Seq, SeqError> {
        let p = padded(stream_seq)?;
        match label {
            None => Ok(Seq(p)),
            Some(l) if valid_label(l) => Ok(Seq(format!("{l}/{p}"))),
            Some(_) => Err(SeqError::Label),
        }
    }

    /// The position of a record from its `eventSourceARN` (if any) and SequenceNumber.
    pub fn of_record(source_arn: Option<&str>, stream_seq: &str) -> Result<Seq, SeqError> {
        Seq::in_stream(source_arn.and_then(stream_label), stream_seq)
    }

    /// A position as stored in the shadow table.
    pub fn from_stored(s: &str) -> Option<Seq> {
        let digits = |d: &str| d.len() == SEQ_WIDTH && d.bytes().all(|b| b.is_ascii_digit());
        let ok = match s.rsplit_once('/') {
            None => digits(s),
            Some((label, d)) => valid_label(label) && digits(d),
        };
        ok.then(|| Seq(s.to_string()))
    }

    /// The position a backfilled item carries: below every stream position.
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

    /// A quarantine marker: the key of a record that can never be sanitized or written as
    /// it is, with its position, a reason code and the policy fingerprint, and no other data
    /// from the item. It replaces whatever the shadow item held, so nothing stale stays
    /// readable, and later records of the key proceed in order.
    pub fn quarantine(keys: Item, seq: Seq, reason: &str, fingerprint: &str) -> Self {
        let key_names = keys.keys().cloned().collect();
        let mut item = keys;
        item.insert(SEQ_ATTR.into(), AttributeValue::S(seq.as_str().to_string()));
        item.insert(QUARANTINE_ATTR.into(), AttributeValue::S(reason.into()));
        item.insert(POLICY_ATTR.into(), AttributeValue::S(fingerprint.into()));
        ShadowWrite { item, seq, key_names }
    }

    pub fn is_quarantine(&self) -> bool {
        self.item.contains_key(QUARANTINE_ATTR)
    }

    pub fn is_tombstone(&self) -> bool {
        self.item.contains_key(DELETED_ATTR)
    }

    /// DynamoDB's item limits, checked on the item as written (metadata included): at most
    /// 400 KB, attribute names of 1 to 65,535 bytes, key attribute names of at most 255.
    /// A write that breaks them is rejected by DynamoDB every time: a permanent failure.
    pub fn check_limits(&self) -> Result<(), LimitError> {
        let size = item_size(&self.item);
        if size > MAX_ITEM_BYTES {
            return Err(LimitError::TooLarge(size));
        }
        if self.item.keys().any(|k| k.is_empty() || k.len() > MAX_NAME_BYTES) {
            return Err(LimitError::NameLength);
        }
        if self.key_names.iter().any(|k| k.len() > MAX_KEY_NAME_BYTES) {
            return Err(LimitError::KeyNameLength);
        }
        Ok(())
    }

    /// The key attributes of the item written.
    pub fn keys(&self) -> Item {
        key_attributes(&self.item, &self.key_names)
    }
}

/// DynamoDB's limit on attribute names.
pub const MAX_NAME_BYTES: usize = 65_535;
/// DynamoDB's limit on key attribute names.
pub const MAX_KEY_NAME_BYTES: usize = 255;

/// A write DynamoDB would reject whatever the retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("the shadow item with its metadata is {0} bytes, over DynamoDB's 400 KB item limit")]
    TooLarge(usize),
    #[error("an attribute name is empty or longer than DynamoDB's 65,535 bytes")]
    NameLength,
    #[error("a key attribute name is longer than DynamoDB's 255 bytes")]
    KeyNameLength,
}

/// The shadow metadata of one item.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShadowMeta {
    /// The stored sequence, as stored (it may be malformed: `verify` reports that).
    pub seq: Option<String>,
    pub policy: Option<String>,
    pub deleted: bool,
    /// The reason code on a quarantine marker.
    pub quarantined: Option<String>,
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
            quarantined: s(QUARANTINE_ATTR),
        }
    }

    /// The stored sequence if it is well formed.
    pub fn valid_seq(&self) -> Option<Seq> {
        self.seq.as_deref().and_then(Seq::from_stored)
    }

    /// The names of the metadata attributes (for projections).
    pub const ATTRS: [&'static str; 4] = [SEQ_ATTR, POLICY_ATTR, DELETED_ATTR, QUARANTINE_ATTR];
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

    #[test]
    fn limits_count_the_metadata() {
        let body = "x".repeat(MAX_ITEM_BYTES - 2 - 1 - 50);
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S("k".into()));
        item.insert("b".into(), AttributeValue::S(body));
        assert!(item_size(&item) <= MAX_ITEM_BYTES, "the image alone fits");
        let w = ShadowWrite::upsert(item, vec!["pk".into()], Seq::parse("1").unwrap(), "fp");
        assert!(matches!(w.check_limits(), Err(LimitError::TooLarge(n)) if n > MAX_ITEM_BYTES));
        let mut small = Item::new();
        small.insert("pk".into(), AttributeValue::S("k".into()));
        let w = ShadowWrite::upsert(small, vec!["pk".into()], Seq::parse("1").unwrap(), "fp");
        assert_eq!(w.check_limits(), Ok(()));
    }

    #[test]
    fn a_newer_stream_wins_whatever_its_sequence_numbers() {
        let arn = |label: &str| format!("arn:aws:dynamodb:us-east-1:1:table/t/stream/{label}");
        let old = Seq::of_record(Some(&arn("2026-01-01T00:00:00.000")), "900000000000000000000").unwrap();
        // A re-created table's stream restarts its sequence numbers lower.
        let new = Seq::of_record(Some(&arn("2026-03-01T00:00:00.000")), "100000000000000000000").unwrap();
        assert!(old < new);
        let later_in_old = Seq::of_record(Some(&arn("2026-01-01T00:00:00.000")), "900000000000000000001").unwrap();
        assert!(old < later_in_old && later_in_old < new);
        // Unlabelled positions (hand-made events, items stored before labels) sort below.
        assert!(Seq::parse("999999999999999999999").unwrap() < old);
        assert!(Seq::backfill() < Seq::parse("1").unwrap());
        assert_eq!(Seq::from_stored(new.as_str()), Some(new.clone()));
        assert_eq!(
            Seq::of_record(Some("arn:aws:dynamodb:us-east-1:1:table/t"), "5").unwrap(),
            Seq::parse("5").unwrap()
        );
        assert_eq!(Seq::of_record(Some(&arn("a b")), "5"), Err(SeqError::Label));
        assert_eq!(Seq::of_record(Some(&arn("")), "5"), Err(SeqError::Label));
        assert_eq!(Seq::from_stored("x y/0000000000000000000000000000000000000005"), None);
        assert_eq!(Seq::from_stored("2026/5"), None);
    }
}
