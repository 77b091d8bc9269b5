//! Crafted inputs an attacker would put in a support ticket to make matching slow: repeated
//! keywords, anchors and near misses. Shared by the complexity test (which counts work at
//! two sizes) and the bench (which times each at 400 KB).

use std::collections::HashMap;

use dynamo_shadow_core::{AttributeValue, Item};

/// One crafted shape: a name and a builder of an item of about `n` bytes.
pub struct Shape {
    pub name: &'static str,
    pub build: fn(usize) -> Item,
}

fn repeat_to(unit: &str, n: usize) -> String {
    let mut s = String::with_capacity(n + unit.len());
    while s.len() < n {
        s.push_str(unit);
    }
    s
}

fn body(text: String) -> Item {
    Item::from([("pk".to_string(), AttributeValue::S("T#1".into())), ("body".to_string(), AttributeValue::S(text))])
}

fn text(unit: &'static str) -> impl Fn(usize) -> Item {
    move |n| body(repeat_to(unit, n))
}

macro_rules! repeated {
    ($name:expr, $unit:expr) => {
        Shape { name: $name, build: |n| text($unit)(n) }
    };
}

/// A deterministic base64-looking string (no RNG dependency on the caller).
fn pseudo_base64(n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % 64) as usize] as char
        })
        .collect()
}

/// Every crafted shape (at least 25, as the engine issue asks).
pub fn shapes() -> Vec<Shape> {
    vec![
        repeated!("secret= repeated", "secret="),
        repeated!("secret repeated (no =)", "secret "),
        repeated!("password: repeated", "password: "),
        repeated!("token=\" repeated", "token=\""),
        Shape { name: "dots before an @", build: |n| body(format!("x ://{}@b.co", repeat_to("a.", n))) },
        repeated!("emails without spaces", "a@b.co"),
        repeated!("URL userinfo repeated", "https://u:p@"),
        repeated!("schemes repeated", "https://"),
        repeated!("Bearer repeated", "Bearer "),
        repeated!("digits with separators", "1234-5678-"),
        repeated!("+1 repeated", "+1 "),
        repeated!("IPv4-like runs", "1.2.3."),
        Shape {
            name: "PEM header, no footer",
            build: |n| body(format!("-----BEGIN RSA PRIVATE KEY-----\n{}", pseudo_base64(n))),
        },
        repeated!("PEM headers repeated", "-----BEGIN PRIVATE KEY-----\n"),
        Shape { name: "long base64", build: |n| body(pseudo_base64(n)) },
        repeated!("JWT prefixes", "eyJhbGciOiJIUzI1NiJ9."),
        repeated!("AKIA repeated", "AKIA"),
        repeated!("ghp_ repeated", "ghp_"),
        repeated!("sk- repeated", "sk-"),
        repeated!("IBAN-like runs", "DE89 3704 0044 0532 0130 00 "),
        repeated!("@ runs", "@"),
        repeated!("xoxb- repeated", "xoxb-"),
        repeated!("zeros", "0"),
        repeated!("Luhn near misses", "4111 1111 1111 1112 "),
        Shape { name: "key= then a long value", build: |n| body(format!("key={}", repeat_to("a", n))) },
        repeated!("Name: repeated", "Name: "),
        repeated!("Dear repeated", "Dear "),
        repeated!("street numbers", "123 Main St "),
        repeated!("postgres://u:p@ repeated", "postgres://u:p@"),
        repeated!("unicode before @", "é@"),
        repeated!("colons", ":"),
        repeated!("= runs", "="),
        Shape {
            name: "email map keys",
            build: |n| {
                let keys = n / 34;
                let m: HashMap<String, AttributeValue> =
                    (0..keys).map(|i| (format!("user{i:07}@example.com"), AttributeValue::N(i.to_string()))).collect();
                Item::from([
                    ("pk".to_string(), AttributeValue::S("T#1".into())),
                    ("by_email".to_string(), AttributeValue::M(m)),
                ])
            },
        },
        Shape {
            name: "email set elements",
            build: |n| {
                let set: Vec<String> = (0..n / 24).map(|i| format!("user{i:07}@example.com")).collect();
                Item::from([
                    ("pk".to_string(), AttributeValue::S("T#1".into())),
                    ("emails".to_string(), AttributeValue::Ss(set)),
                ])
            },
        },
        Shape {
            name: "30 levels of nesting",
            build: |n| {
                let mut v = AttributeValue::S(repeat_to("mail a@b.co ", n));
                for i in 0..30 {
                    v = if i % 2 == 0 {
                        AttributeValue::M(HashMap::from([("secret_santa".to_string(), v)]))
                    } else {
                        AttributeValue::L(vec![v])
                    };
                }
                Item::from([("pk".to_string(), AttributeValue::S("T#1".into())), ("deep".to_string(), v)])
            },
        },
    ]
}
