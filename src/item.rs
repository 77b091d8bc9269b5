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
    pub path: String,
    pub reason: String,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "attribute `{}`: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ItemError {}

fn err(path: &str, reason: impl Into<String>) -> ItemError {
    ItemError { path: path.to_string(), reason: reason.into() }
}

pub(crate) fn child_path(parent: &str, name: &str) -> String {
    let name = path_segment(name);
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// An attribute name as it may appear in a path in messages and logs. Map keys can be data
/// (an email or an account number used as a key), so a name that does not look like an
/// identifier is shown as `<key>`.
pub fn path_segment(name: &str) -> &str {
    let identifier = name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'#' | b' '))
        && name.bytes().filter(u8::is_ascii_digit).count() < 6;
    if identifier {
        name
    } else {
        "<key>"
    }
}

/// Parses one item in DynamoDB JSON (`{"pk":{"S":"u1"},"n":{"N":"1"}}`).
pub fn parse_item(json: &Value) -> Result<Item, ItemError> {
    let Value::Object(map) = json else {
        return Err(err("", format!("expected a JSON object (an item), found {}", kind(json))));
    };
    let mut item = Item::with_capacity(map.len());
    for (name, v) in map {
        item.insert(name.clone(), parse_value(v, path_segment(name), 1)?);
    }
    Ok(item)
}

/// Parses one item from DynamoDB JSON text. The fast path deserializes straight into the
/// value tree; only when that fails is the text parsed again to say where it is wrong
/// (serde's own messages quote the input, ours do not). Numbers, depth and sets are checked
/// by the sanitizer and [`validate_item`] as on every other path.
pub fn parse_item_str(text: &str) -> Result<Item, ItemError> {
    if let Ok(item) = serde_json::from_str::<Item>(text) {
        return Ok(item);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => parse_item(&v).and_then(|_| Err(err("", "not a valid DynamoDB JSON item"))),
        Err(e) => Err(err("", format!("invalid JSON at column {}", e.column()))),
    }
}

/// Parses one attribute value in DynamoDB JSON, e.g. `{"S":"x"}`.
pub fn parse_value(json: &Value, path: &str, depth: usize) -> Result<AttributeValue, ItemError> {
    if depth > MAX_DEPTH + 1 {
        return Err(err(path, format!("nested deeper than DynamoDB's {MAX_DEPTH} levels")));
    }
    let Value::Object(obj) = json else {
        return Err(err(path, format!("expected a typed value like {{\"S\": ...}}, found {}", kind(json))));
    };
    if obj.len() != 1 {
        return Err(err(path, format!("a typed value has exactly one type key, found {}", obj.len())));
    }
    let (ty, v) = obj.iter().next().expect("len checked");
    let want_str = |v: &Value| -> Result<String, ItemError> {
        v.as_str().map(str::to_string).ok_or_else(|| err(path, format!("`{ty}` must be a string, found {}", kind(v))))
    };
    let want_list = |v: &Value| -> Result<Vec<String>, ItemError> {
        let Value::Array(a) = v else {
            return Err(err(path, format!("`{ty}` must be an array, found {}", kind(v))));
        };
        a.iter()
            .enumerate()
            .map(|(i, e)| {
                e.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err(path, format!("`{ty}` element {i} must be a string, found {}", kind(e))))
            })
            .collect()
    };
    let b64 = |s: &str, what: &str| -> Result<Vec<u8>, ItemError> {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| err(path, format!("{what} is not valid base64")))
    };
    Ok(match ty.as_str() {
        "S" => AttributeValue::S(want_str(v)?),
        "N" => {
            let n = want_str(v)?;
            validate_number(&n).map_err(|r| err(path, r))?;
            AttributeValue::N(n)
        }
        "B" => AttributeValue::B(b64(&want_str(v)?, "`B`")?),
        "BOOL" => AttributeValue::Bool(
            v.as_bool().ok_or_else(|| err(path, format!("`BOOL` must be true or false, found {}", kind(v))))?,
        ),
        "NULL" => match v {
            Value::Bool(true) => AttributeValue::Null(true),
            _ => return Err(err(path, "`NULL` must be true")),
        },
        "SS" => AttributeValue::Ss(want_list(v)?),
        "NS" => {
            let ns = want_list(v)?;
            for n in &ns {
                validate_number(n).map_err(|r| err(path, format!("`NS` element: {r}")))?;
            }
            AttributeValue::Ns(ns)
        }
        "BS" => AttributeValue::Bs(want_list(v)?.iter().map(|s| b64(s, "a `BS` element")).collect::<Result<_, _>>()?),
        "M" => {
            let Value::Object(m) = v else {
                return Err(err(path, format!("`M` must be an object, found {}", kind(v))));
            };
            let mut out = HashMap::with_capacity(m.len());
            for (k, e) in m {
                out.insert(k.clone(), parse_value(e, &child_path(path, k), depth + 1)?);
            }
            AttributeValue::M(out)
        }
        "L" => {
            let Value::Array(a) = v else {
                return Err(err(path, format!("`L` must be an array, found {}", kind(v))));
            };
            let mut out = Vec::with_capacity(a.len());
            for (i, e) in a.iter().enumerate() {
                out.push(parse_value(e, &format!("{path}[{i}]"), depth + 1)?);
            }
            AttributeValue::L(out)
        }
        other => {
            // The type tag is part of the format, not user data, but keep it short anyway.
            let shown: String = other.chars().take(8).collect();
            return Err(err(
                path,
                format!("unknown DynamoDB type `{shown}` (expected S, N, B, BOOL, NULL, SS, NS, BS, M or L)"),
            ));
        }
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks DynamoDB number syntax and precision without converting: numbers stay exact strings.
pub fn validate_number(n: &str) -> Result<(), String> {
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
        return Err("not a valid number".into());
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
            return Err("not a valid number (bad exponent)".into());
        }
        exp = n[s..i].parse::<i64>().map_err(|_| "not a valid number (bad exponent)".to_string())?;
        if neg {
            exp = -exp;
        }
    }
    if i != b.len() {
        return Err("not a valid number".into());
    }
    let all: String = format!("{int_digits}{frac_digits}");
    let trimmed = all.trim_start_matches('0');
    if trimmed.is_empty() {
        return Ok(()); // zero
    }
    let significant = trimmed.trim_end_matches('0');
    if significant.len() > MAX_NUMBER_DIGITS {
        return Err(format!("more than {MAX_NUMBER_DIGITS} significant digits"));
    }
    // Decimal exponent of the leading significant digit.
    let leading_zeros_in_all = all.len() - trimmed.len();
    let magnitude = int_digits.len() as i64 - leading_zeros_in_all as i64 - 1 + exp;
    if !(-130..=125).contains(&magnitude) {
        return Err("outside DynamoDB's number range (1E-130 to 9.9E+125)".into());
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

/// Checks everything DynamoDB would reject in a PutItem: empty or duplicate set elements,
/// bad numbers, nesting depth and item size. Used on every item before it is written.
pub fn validate_item(item: &Item) -> Result<(), ItemError> {
    for (k, v) in item {
        validate_value(v, path_segment(k), 1)?;
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(err("", format!("item is {size} bytes, over DynamoDB's 400 KB item limit")));
    }
    Ok(())
}

fn validate_value(v: &AttributeValue, path: &str, d: usize) -> Result<(), ItemError> {
    fn unique<T: Ord>(v: &[T]) -> bool {
        let mut s: Vec<&T> = v.iter().collect();
        s.sort();
        s.windows(2).all(|w| w[0] != w[1])
    }
    match v {
        AttributeValue::N(n) => validate_number(n).map_err(|r| err(path, r)),
        AttributeValue::Ss(s) => set_ok(s.is_empty(), unique(s), path),
        AttributeValue::Bs(s) => set_ok(s.is_empty(), unique(s), path),
        AttributeValue::Ns(s) => {
            for n in s {
                validate_number(n).map_err(|r| err(path, r))?;
            }
            set_ok(s.is_empty(), unique(s), path)
        }
        AttributeValue::M(m) => {
            if d > MAX_DEPTH {
                return Err(err(path, format!("nested deeper than DynamoDB's {MAX_DEPTH} levels")));
            }
            for (k, e) in m {
                validate_value(e, &child_path(path, k), d + 1)?;
            }
            Ok(())
        }
        AttributeValue::L(l) => {
            if d > MAX_DEPTH {
                return Err(err(path, format!("nested deeper than DynamoDB's {MAX_DEPTH} levels")));
            }
            for (i, e) in l.iter().enumerate() {
                validate_value(e, &format!("{path}[{i}]"), d + 1)?;
            }
            Ok(())
        }
        AttributeValue::Null(false) => Err(err(path, "`NULL` must be true")),
        _ => Ok(()),
    }
}

fn set_ok(empty: bool, unique: bool, path: &str) -> Result<(), ItemError> {
    if empty {
        Err(err(path, "empty set (DynamoDB rejects empty sets)"))
    } else if !unique {
        Err(err(path, "set with duplicate elements"))
    } else {
        Ok(())
    }
}

/// A canonical, collision-free string for a key (the key attributes of an item): used to
/// group stream records by item. It contains key values, so it is never logged.
pub fn key_fingerprint(keys: &Item) -> String {
    item_to_line(keys)
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
        assert_eq!(e.path, "by_email.<key>");
        let e = parse_item(&json!({"accounts": {"M": {"DE89370400440532013000": {"N": "x"}}}})).unwrap_err();
        assert_eq!(e.path, "accounts.<key>");
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
        assert_eq!(e.path, "profile.age");
        assert!(!e.to_string().contains("secret-value-1"));
        let e = parse_item(&json!({"x": {"L": [{"S": "ok"}, {"BOOL": "hunter2"}]}})).unwrap_err();
        assert_eq!(e.path, "x[1]");
        assert!(!e.to_string().contains("hunter2"));
        let e = parse_item(&json!({"x": {"Q": "zzz"}})).unwrap_err();
        assert!(e.reason.contains("unknown DynamoDB type"));
        let e = parse_item(&json!({"b": {"B": "!!!not base64"}})).unwrap_err();
        assert!(e.reason.contains("base64"));
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
        assert!(validate_item(&item).unwrap_err().reason.contains("empty set"));
        item.insert("s".into(), AttributeValue::Ss(vec!["a".into(), "a".into()]));
        assert!(validate_item(&item).unwrap_err().reason.contains("duplicate"));
        item.insert("s".into(), AttributeValue::S("x".repeat(MAX_ITEM_BYTES)));
        assert!(validate_item(&item).unwrap_err().reason.contains("400"));
        let mut deep = AttributeValue::S("x".into());
        for _ in 0..40 {
            deep = AttributeValue::L(vec![deep]);
        }
        let mut item = Item::new();
        item.insert("d".into(), deep);
        assert!(validate_item(&item).unwrap_err().reason.contains("deeper"));
    }
}
