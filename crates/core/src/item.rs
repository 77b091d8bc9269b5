//! DynamoDB items: the value tree the engine works on, DynamoDB JSON in and out, and the
//! service limits (number syntax, nesting depth, item size) that every written item must meet.
//!
//! Parsing is our own rather than serde's so that an error names *where* the input is wrong
//! without quoting the input: serde's messages embed the offending value, which may be a secret.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use base64::Engine as _;
pub use serde_dynamo::AttributeValue;
use serde_json::Value;

use crate::path::Path;

/// One DynamoDB item: attribute name to value.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's maximum nesting depth for documents (maps and lists).
pub const MAX_DEPTH: usize = 32;
/// DynamoDB's maximum item size, in bytes.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB numbers carry at most 38 significant digits.
pub const MAX_NUMBER_DIGITS: usize = 38;

/// A problem with an item, located by attribute path. Never carries a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    pub path: Path,
    pub kind: ItemErrorKind,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "attribute `{}`: {}", self.path, self.kind)
        }
    }
}

impl std::error::Error for ItemError {}

/// The JSON kind found where something else was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    pub fn of(v: &Value) -> Self {
        match v {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Bool,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "a boolean",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        })
    }
}

/// Why a DynamoDB number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("not a valid number")]
    Syntax,
    #[error("not a valid number (bad exponent)")]
    Exponent,
    #[error("more than {MAX_NUMBER_DIGITS} significant digits")]
    Precision,
    #[error("outside DynamoDB's number range (1E-130 to 9.9E+125)")]
    Range,
}

/// What is wrong with an item. The messages name types and limits, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemErrorKind {
    #[error("expected a JSON object (an item), found {0}")]
    NotAnItem(JsonKind),
    #[error("expected a typed value like {{\"S\": ...}}, found {0}")]
    NotTyped(JsonKind),
    #[error("a typed value has exactly one type key, found {0}")]
    TypeKeys(usize),
    #[error("`{tag}` must be {expected}, found {found}")]
    WrongJson { tag: &'static str, expected: &'static str, found: JsonKind },
    #[error("`{tag}` element {index} must be a string, found {found}")]
    WrongElement { tag: &'static str, index: usize, found: JsonKind },
    #[error("{0} is not valid base64")]
    Base64(&'static str),
    #[error("`NULL` must be true")]
    NullNotTrue,
    /// The type tag is part of the format, not user data; it is cut to 8 characters anyway.
    #[error("unknown DynamoDB type `{0}` (expected S, N, B, BOOL, NULL, SS, NS, BS, M or L)")]
    UnknownType(String),
    #[error("{0}")]
    Number(NumberError),
    #[error("`NS` element: {0}")]
    NumberInSet(NumberError),
    #[error("nested deeper than DynamoDB's {MAX_DEPTH} levels")]
    TooDeep,
    #[error("empty set (DynamoDB rejects empty sets)")]
    EmptySet,
    #[error("set with duplicate elements")]
    DuplicateInSet,
    #[error("item is {0} bytes, over DynamoDB's 400 KB item limit")]
    TooLarge(usize),
    #[error("invalid JSON at column {0}")]
    Json(usize),
    #[error("not a valid DynamoDB JSON item")]
    NotDynamoJson,
}

fn err(path: &Path, kind: ItemErrorKind) -> ItemError {
    ItemError { path: path.clone(), kind }
}

/// Re-exported for messages: see [`crate::path::shown_name`].
pub use crate::path::shown_name as path_segment;

/// Parses one item in DynamoDB JSON (`{"pk":{"S":"u1"},"n":{"N":"1"}}`).
pub fn parse_item(json: &Value) -> Result<Item, ItemError> {
    let Value::Object(map) = json else {
        return Err(err(&Path::root(), ItemErrorKind::NotAnItem(JsonKind::of(json))));
    };
    let mut item = Item::with_capacity(map.len());
    for (name, v) in map {
        item.insert(name.clone(), parse_value(v, &Path::attr(name), 1)?);
    }
    Ok(item)
}

/// Parses and checks one item from DynamoDB JSON text (see [`decode_item`]).
pub fn parse_item_str(text: &str) -> Result<Item, ItemError> {
    decode_item(text).map(Checked::into_inner)
}

/// Parses one attribute value in DynamoDB JSON, e.g. `{"S":"x"}`.
pub fn parse_value(json: &Value, path: &Path, depth: usize) -> Result<AttributeValue, ItemError> {
    if depth > MAX_DEPTH + 1 {
        return Err(err(path, ItemErrorKind::TooDeep));
    }
    let Value::Object(obj) = json else {
        return Err(err(path, ItemErrorKind::NotTyped(JsonKind::of(json))));
    };
    if obj.len() != 1 {
        return Err(err(path, ItemErrorKind::TypeKeys(obj.len())));
    }
    let (ty, v) = obj.iter().next().expect("len checked");
    let tag: &'static str = match ty.as_str() {
        "S" => "S",
        "N" => "N",
        "B" => "B",
        "BOOL" => "BOOL",
        "NULL" => "NULL",
        "SS" => "SS",
        "NS" => "NS",
        "BS" => "BS",
        "M" => "M",
        "L" => "L",
        other => {
            // The type tag is part of the format, not user data, but keep it short anyway.
            return Err(err(path, ItemErrorKind::UnknownType(other.chars().take(8).collect())));
        }
    };
    let wrong = |expected: &'static str, v: &Value| {
        err(path, ItemErrorKind::WrongJson { tag, expected, found: JsonKind::of(v) })
    };
    let want_str =
        |v: &Value| -> Result<String, ItemError> { v.as_str().map(str::to_string).ok_or_else(|| wrong("a string", v)) };
    let want_list = |v: &Value| -> Result<Vec<String>, ItemError> {
        let Value::Array(a) = v else {
            return Err(wrong("an array", v));
        };
        a.iter()
            .enumerate()
            .map(|(index, e)| {
                e.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err(path, ItemErrorKind::WrongElement { tag, index, found: JsonKind::of(e) }))
            })
            .collect()
    };
    let b64 = |s: &str, what: &'static str| -> Result<Vec<u8>, ItemError> {
        base64::engine::general_purpose::STANDARD.decode(s).map_err(|_| err(path, ItemErrorKind::Base64(what)))
    };
    Ok(match tag {
        "S" => AttributeValue::S(want_str(v)?),
        "N" => {
            let n = want_str(v)?;
            validate_number(&n).map_err(|r| err(path, ItemErrorKind::Number(r)))?;
            AttributeValue::N(n)
        }
        "B" => AttributeValue::B(b64(&want_str(v)?, "`B`")?),
        "BOOL" => AttributeValue::Bool(v.as_bool().ok_or_else(|| wrong("true or false", v))?),
        "NULL" => match v {
            Value::Bool(true) => AttributeValue::Null(true),
            _ => return Err(err(path, ItemErrorKind::NullNotTrue)),
        },
        "SS" => AttributeValue::Ss(want_list(v)?),
        "NS" => {
            let ns = want_list(v)?;
            for n in &ns {
                validate_number(n).map_err(|r| err(path, ItemErrorKind::NumberInSet(r)))?;
            }
            AttributeValue::Ns(ns)
        }
        "BS" => AttributeValue::Bs(want_list(v)?.iter().map(|s| b64(s, "a `BS` element")).collect::<Result<_, _>>()?),
        "M" => {
            let Value::Object(m) = v else {
                return Err(wrong("an object", v));
            };
            let mut out = HashMap::with_capacity(m.len());
            for (k, e) in m {
                out.insert(k.clone(), parse_value(e, &path.child(k), depth + 1)?);
            }
            AttributeValue::M(out)
        }
        _ => {
            let Value::Array(a) = v else {
                return Err(wrong("an array", v));
            };
            let mut out = Vec::with_capacity(a.len());
            for (i, e) in a.iter().enumerate() {
                out.push(parse_value(e, &path.index(i), depth + 1)?);
            }
            AttributeValue::L(out)
        }
    })
}

/// Checks DynamoDB number syntax and precision without converting: numbers stay exact strings.
pub fn validate_number(n: &str) -> Result<(), NumberError> {
    let b = n.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &n[int_start..i];
    let mut frac_digits = "";
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &n[s..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(NumberError::Syntax);
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let neg = i < b.len() && b[i] == b'-';
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if s == i || i - s > 6 {
            return Err(NumberError::Exponent);
        }
        exp = n[s..i].parse::<i64>().map_err(|_| NumberError::Exponent)?;
        if neg {
            exp = -exp;
        }
    }
    if i != b.len() {
        return Err(NumberError::Syntax);
    }
    let all: String = format!("{int_digits}{frac_digits}");
    let trimmed = all.trim_start_matches('0');
    if trimmed.is_empty() {
        return Ok(()); // zero
    }
    let significant = trimmed.trim_end_matches('0');
    if significant.len() > MAX_NUMBER_DIGITS {
        return Err(NumberError::Precision);
    }
    // Decimal exponent of the leading significant digit.
    let leading_zeros_in_all = all.len() - trimmed.len();
    let magnitude = int_digits.len() as i64 - leading_zeros_in_all as i64 - 1 + exp;
    if !(-130..=125).contains(&magnitude) {
        return Err(NumberError::Range);
    }
    Ok(())
}

/// DynamoDB JSON for one item, with attributes in sorted order so output is stable.
pub fn item_to_json(item: &Item) -> Value {
    let sorted: BTreeMap<&String, &AttributeValue> = item.iter().collect();
    serde_json::to_value(sorted).expect("attribute values always serialize")
}

/// One item as a single line of DynamoDB JSON, attributes sorted (nested maps too).
pub fn item_to_line(item: &Item) -> String {
    let mut s = String::new();
    write_item(&mut s, item);
    s
}

fn write_item(out: &mut String, item: &Item) {
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    out.push('{');
    for (i, k) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        write_value(out, &item[k]);
    }
    out.push('}');
}

fn write_str(out: &mut String, s: &str) {
    // JSON string escaping without an intermediate allocation for the common clean case.
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).expect("string"));
    }
}

fn write_value(out: &mut String, v: &AttributeValue) {
    match v {
        AttributeValue::M(m) => {
            out.push_str("{\"M\":");
            write_item(out, m);
            out.push('}');
        }
        AttributeValue::L(l) => {
            out.push_str("{\"L\":[");
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, e);
            }
            out.push_str("]}");
        }
        AttributeValue::S(s) => {
            out.push_str("{\"S\":");
            write_str(out, s);
            out.push('}');
        }
        AttributeValue::N(n) => {
            out.push_str("{\"N\":");
            write_str(out, n);
            out.push('}');
        }
        other => out.push_str(&serde_json::to_string(other).expect("scalar serializes")),
    }
}

/// Approximate DynamoDB item size by the documented rules (names plus values).
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn number_size(n: &str) -> usize {
    let digits = n.bytes().filter(u8::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

/// Approximate size of one value by DynamoDB's documented rules.
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(Vec::len).sum(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| k.len() + value_size(v) + 1).sum::<usize>(),
        AttributeValue::L(l) => 3 + l.iter().map(|v| value_size(v) + 1).sum::<usize>(),
    }
}

/// Checks what no DynamoDB item can hold: bad numbers, `NULL` other than true, nesting
/// deeper than 32 levels. (Sets DynamoDB never emits, empty or with duplicates, are not
/// refused here: the sanitizer drops and deduplicates them.)
pub fn validate_input(item: &Item) -> Result<(), ItemError> {
    fn walk(v: &AttributeValue, path: &mut Path, d: usize) -> Result<(), ItemError> {
        match v {
            AttributeValue::N(n) => validate_number(n).map_err(|r| err(path, ItemErrorKind::Number(r))),
            AttributeValue::Ns(s) => {
                s.iter().try_for_each(|n| validate_number(n).map_err(|r| err(path, ItemErrorKind::NumberInSet(r))))
            }
            AttributeValue::Null(false) => Err(err(path, ItemErrorKind::NullNotTrue)),
            AttributeValue::M(m) => {
                if d >= MAX_DEPTH {
                    return Err(err(path, ItemErrorKind::TooDeep));
                }
                for (k, e) in m {
                    path.push_name(k);
                    walk(e, path, d + 1)?;
                    path.pop();
                }
                Ok(())
            }
            AttributeValue::L(l) => {
                if d >= MAX_DEPTH {
                    return Err(err(path, ItemErrorKind::TooDeep));
                }
                for (i, e) in l.iter().enumerate() {
                    path.push_index(i);
                    walk(e, path, d + 1)?;
                    path.pop();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    let mut path = Path::root();
    for (k, v) in item {
        path.push_name(k);
        walk(v, &mut path, 1)?;
        path.pop();
    }
    Ok(())
}

/// An item that passed [`validate_input`]: what the sanitizer's walk takes, so the walk
/// cannot fail. Made by the one decoder ([`decode_item`]) or from an item built in memory
/// (the SDK's, a test's) by [`Checked::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct Checked(Item);

impl Checked {
    pub fn new(item: Item) -> Result<Self, ItemError> {
        validate_input(&item)?;
        Ok(Checked(item))
    }

    pub fn get(&self) -> &Item {
        &self.0
    }

    pub fn into_inner(self) -> Item {
        self.0
    }
}

/// The one decoder of DynamoDB JSON text (events, the CLI's input): straight into the value
/// tree, then checked. Only when that fails is the text parsed again to say where it is wrong
/// (serde's messages quote the input, ours never do).
pub fn decode_item(text: &str) -> Result<Checked, ItemError> {
    match serde_json::from_str::<Item>(text) {
        Ok(item) => Checked::new(item),
        Err(_) => match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                let item = parse_item(&v)?;
                // The typed parse accepted what serde refused: say so without a value.
                Checked::new(item).and_then(|_| Err(err(&Path::root(), ItemErrorKind::NotDynamoJson)))
            }
            Err(e) => Err(err(&Path::root(), ItemErrorKind::Json(e.column()))),
        },
    }
}

/// Checks everything DynamoDB would reject in a PutItem: empty or duplicate set elements,
/// bad numbers, nesting depth and item size. Used on every item before it is written.
pub fn validate_item(item: &Item) -> Result<(), ItemError> {
    for (k, v) in item {
        validate_value(v, &Path::attr(k), 1)?;
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(err(&Path::root(), ItemErrorKind::TooLarge(size)));
    }
    Ok(())
}

fn validate_value(v: &AttributeValue, path: &Path, d: usize) -> Result<(), ItemError> {
    fn unique<T: Ord>(v: &[T]) -> bool {
        let mut s: Vec<&T> = v.iter().collect();
        s.sort();
        s.windows(2).all(|w| w[0] != w[1])
    }
    match v {
        AttributeValue::N(n) => validate_number(n).map_err(|r| err(path, ItemErrorKind::Number(r))),
        AttributeValue::Ss(s) => set_ok(s.is_empty(), unique(s), path),
        AttributeValue::Bs(s) => set_ok(s.is_empty(), unique(s), path),
        AttributeValue::Ns(s) => {
            for n in s {
                validate_number(n).map_err(|r| err(path, ItemErrorKind::NumberInSet(r)))?;
            }
            set_ok(s.is_empty(), unique(s), path)
        }
        AttributeValue::M(m) => {
            if d >= MAX_DEPTH {
                return Err(err(path, ItemErrorKind::TooDeep));
            }
            for (k, e) in m {
                validate_value(e, &path.child(k), d + 1)?;
            }
            Ok(())
        }
        AttributeValue::L(l) => {
            if d >= MAX_DEPTH {
                return Err(err(path, ItemErrorKind::TooDeep));
            }
            for (i, e) in l.iter().enumerate() {
                validate_value(e, &path.index(i), d + 1)?;
            }
            Ok(())
        }
        AttributeValue::Null(false) => Err(err(path, ItemErrorKind::NullNotTrue)),
        _ => Ok(()),
    }
}

fn set_ok(empty: bool, unique: bool, path: &Path) -> Result<(), ItemError> {
    if empty {
        Err(err(path, ItemErrorKind::EmptySet))
    } else if !unique {
        Err(err(path, ItemErrorKind::DuplicateInSet))
    } else {
        Ok(())
    }
}

/// A canonical, collision-free string for a key (the key attributes of an item): used to
/// group stream records by item. It contains key values, so it is never logged.
pub fn key_fingerprint(keys: &Item) -> String {
    item_to_line(keys)
}

/// A short hash of a key for log lines (16 hex digits of SHA-256 over its fingerprint): it
/// lets an operator find the item in the source table without the log holding the key.
pub fn key_hash(keys: &Item) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(key_fingerprint(keys).as_bytes());
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The key attributes of an item (those of `names` it has).
pub fn key_attributes<S: AsRef<str>>(item: &Item, names: &[S]) -> Item {
    names.iter().filter_map(|k| item.get_key_value(k.as_ref()).map(|(k, v)| (k.clone(), v.clone()))).collect()
}

/// The short type tag of a value, for messages that must not show the value.
pub fn type_tag(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::M(_) => "M",
        AttributeValue::L(_) => "L",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_never_show_keys_that_look_like_data() {
        let e = parse_item(&json!({"by_email": {"M": {"alice@example.com": {"N": "x"}}}})).unwrap_err();
        assert_eq!(e.path.to_string(), "by_email.<key>");
        let e = parse_item(&json!({"accounts": {"M": {"DE89370400440532013000": {"N": "x"}}}})).unwrap_err();
        assert_eq!(e.path.to_string(), "accounts.<key>");
        assert_eq!(path_segment("last_seen_at"), "last_seen_at");
        assert_eq!(path_segment("X-Api-Key"), "X-Api-Key");
    }

    #[test]
    fn numbers_stay_exact_and_are_validated() {
        for ok in [
            "0",
            "-1",
            "1.5",
            "12345678901234567890123456789012345678",
            "1e125",
            "1E-130",
            "0.000",
            "-0.5e-3",
            "9.9999999999999999999999999999999999999E+125",
        ] {
            assert_eq!(validate_number(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "-",
            "1.2.3",
            "abc",
            "1e",
            "123456789012345678901234567890123456789",
            "1e126",
            "1e-131",
            "NaN",
            "Infinity",
            "0x10",
            " 1",
        ] {
            assert!(validate_number(bad).is_err(), "{bad}");
        }
        let item = parse_item(&json!({"n": {"N": "12345678901234567890123456789012345678"}})).unwrap();
        assert_eq!(item["n"], AttributeValue::N("12345678901234567890123456789012345678".into()));
    }

    #[test]
    fn parse_errors_name_the_path_and_never_the_value() {
        let e = parse_item(&json!({"profile": {"M": {"age": {"N": "secret-value-1"}}}})).unwrap_err();
        assert_eq!(e.path.to_string(), "profile.age");
        assert!(!e.to_string().contains("secret-value-1"));
        let e = parse_item(&json!({"x": {"L": [{"S": "ok"}, {"BOOL": "hunter2"}]}})).unwrap_err();
        assert_eq!(e.path.to_string(), "x[1]");
        assert!(!e.to_string().contains("hunter2"));
        let e = parse_item(&json!({"x": {"Q": "zzz"}})).unwrap_err();
        assert!(matches!(e.kind, ItemErrorKind::UnknownType(_)));
        let e = parse_item(&json!({"b": {"B": "!!!not base64"}})).unwrap_err();
        assert!(matches!(e.kind, ItemErrorKind::Base64(_)));
        assert!(parse_item(&json!([1])).is_err());
    }

    #[test]
    fn all_ten_types_round_trip() {
        let j = json!({
            "s": {"S": "x"}, "n": {"N": "1.50"}, "b": {"B": "AAEC"}, "t": {"BOOL": true},
            "z": {"NULL": true}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]},
            "bs": {"BS": ["AA==", "AQ=="]}, "m": {"M": {"k": {"S": "v"}}}, "l": {"L": [{"N": "3"}]}
        });
        let item = parse_item(&j).unwrap();
        assert_eq!(item.len(), 10);
        assert_eq!(item_to_json(&item), j);
        assert_eq!(parse_item(&serde_json::from_str(&item_to_line(&item)).unwrap()).unwrap(), item);
        validate_item(&item).unwrap();
    }

    #[test]
    fn validate_rejects_what_dynamodb_rejects() {
        let mut item = Item::new();
        item.insert("s".into(), AttributeValue::Ss(vec![]));
        assert_eq!(validate_item(&item).unwrap_err().kind, ItemErrorKind::EmptySet);
        item.insert("s".into(), AttributeValue::Ss(vec!["a".into(), "a".into()]));
        assert_eq!(validate_item(&item).unwrap_err().kind, ItemErrorKind::DuplicateInSet);
        item.insert("s".into(), AttributeValue::S("x".repeat(MAX_ITEM_BYTES)));
        assert!(validate_item(&item).unwrap_err().to_string().contains("400"));
        let mut deep = AttributeValue::S("x".into());
        for _ in 0..40 {
            deep = AttributeValue::L(vec![deep]);
        }
        let mut item = Item::new();
        item.insert("d".into(), deep);
        assert_eq!(validate_item(&item).unwrap_err().kind, ItemErrorKind::TooDeep);
    }
}
