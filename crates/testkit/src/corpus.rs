//! A labeled evaluation corpus and the recall/precision measurement behind the README's
//! figures: realistic items (profiles, tickets, chats, logs, configs, orders) with planted
//! secrets and PII in every kind of position, and planted decoys that must survive.
//!
//! Generated deterministically from a seed, so `cargo test` enforces floors on the same
//! data every run, and `dynamo-shadow eval` prints the report.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;

use dynamo_shadow_core::item::{validate_item, AttributeValue, Item};
use dynamo_shadow_core::Sanitizer;

use crate::rng::Rng;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const HEX: &str = "0123456789abcdef";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One planted value: what must not survive (`secret`) or must (`decoy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plant {
    pub kind: String,
    /// `secret`, `pii`, `person` or `decoy`.
    pub category: String,
    /// The sensitive part (for a secret) or the whole harmless value (for a decoy).
    pub value: String,
    /// The text placed into the item (the value with its surrounding context).
    pub text: String,
}

fn luhn_complete(prefix: &str, len: usize, rng: &mut Rng) -> String {
    let mut d: Vec<u8> = prefix.bytes().map(|b| b - b'0').collect();
    while d.len() < len - 1 {
        d.push(rng.below(10) as u8);
    }
    let check = (0..10u8)
        .find(|&c| dynamo_shadow_core::detect::luhn(&[d.as_slice(), &[c]].concat()))
        .expect("one check digit fits");
    d.push(check);
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

/// CRC-32 (IEEE), written here independently of the engine's validator.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// GitHub's token body: 30 random base62 characters and their CRC-32 in 6 base62 digits
/// (digits, upper case, lower case), as GitHub documents the checksum.
fn github_body(rng: &mut Rng) -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let random = rng.chars(30, ALNUM);
    let mut n = crc32(random.as_bytes()) as u64;
    let mut tail = [b'0'; 6];
    for slot in tail.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    format!("{random}{}", std::str::from_utf8(&tail).expect("ascii"))
}

fn luhn_fail(len: usize, rng: &mut Rng) -> String {
    let prefix = *rng.pick(&["4", "51", "37", "6011"]);
    let good = luhn_complete(prefix, len, rng);
    let last = good.chars().last().unwrap().to_digit(10).unwrap();
    format!("{}{}", &good[..good.len() - 1], (last + 1 + rng.below(8) as u32) % 10)
}

fn iban(rng: &mut Rng) -> String {
    let (cc, len) =
        *rng.pick(&[("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("ES", 24), ("IT", 27), ("CH", 21), ("BE", 16)]);
    let bban: String = if cc == "GB" || cc == "NL" {
        format!("{}{}", rng.chars(4, UPPER), rng.digits(len - 8))
    } else {
        rng.digits(len - 4)
    };
    let rearranged = format!("{bban}{cc}00");
    let mut rem: u64 = 0;
    for c in rearranged.chars() {
        let v = c.to_digit(36).unwrap() as u64;
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    let check = 98 - rem;
    let compact = format!("{cc}{check:02}{bban}");
    if rng.below(2) == 0 {
        compact
    } else {
        compact.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
    }
}

fn secret(rng: &mut Rng) -> Plant {
    let p = |kind: &'static str, value: String, text: String| Plant {
        kind: kind.into(),
        category: "secret".into(),
        value,
        text,
    };
    match rng.below(36) {
        0 => {
            let v = format!("{}{}", rng.pick(&["AKIA", "ASIA"]), rng.chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
            p("aws_access_key_id", v.clone(), format!("aws_access_key_id = {v}"))
        }
        1 => {
            let v = rng.chars(40, B64);
            p("aws_secret_access_key", v.clone(), format!("AWS_SECRET_ACCESS_KEY={v}"))
        }
        2 => {
            let v = format!("AIza{}", rng.chars(35, URLSAFE));
            p("gcp_api_key", v.clone(), format!("maps key {v} in the client"))
        }
        3 => {
            let v = format!("{}==", rng.chars(86, B64));
            p(
                "azure_storage_key",
                v.clone(),
                format!(
                    "DefaultEndpointsProtocol=https;AccountName=acme{};AccountKey={v};EndpointSuffix=core.windows.net",
                    rng.digits(2)
                ),
            )
        }
        4 => {
            let v = format!("dapi{}", rng.chars(32, HEX));
            p("databricks", v.clone(), format!("databricks token {v}"))
        }
        5 => {
            let v = format!("dop_v1_{}", rng.chars(64, HEX));
            p("digitalocean", v.clone(), format!("DO_TOKEN={v}"))
        }
        6 => {
            let v = format!("{}_{}", rng.pick(&["ghp", "gho", "ghu", "ghs", "ghr"]), github_body(rng));
            p("github", v.clone(), format!("git push with {v} failed"))
        }
        7 => {
            let v = format!("github_pat_{}_{}", rng.chars(22, ALNUM), rng.chars(59, ALNUM));
            p("github_pat", v.clone(), format!("token: {v}"))
        }
        8 => {
            let v = format!("glpat-{}", rng.chars(20, URLSAFE));
            p("gitlab", v.clone(), format!("CI uses {v}"))
        }
        9 => {
            let v = format!("npm_{}", rng.chars(36, ALNUM));
            p("npm", v.clone(), format!("//registry.npmjs.org/:_authToken={v}"))
        }
        10 => {
            let v = format!("pypi-AgEIcHlwaS5vcmc{}", rng.chars(70, URLSAFE));
            p("pypi", v.clone(), format!("password = {v}"))
        }
        11 => {
            let v = format!("hvs.{}", rng.chars_var(24, 70, URLSAFE));
            p("vault", v.clone(), format!("export VAULT_TOKEN={v}"))
        }
        12 => {
            let v = format!("hf_{}", rng.chars(34, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"));
            p("huggingface", v.clone(), format!("use {v} to download"))
        }
        13 => {
            let v = format!("sk-proj-{}", rng.chars_var(20, 120, URLSAFE));
            p("openai", v.clone(), format!("OPENAI_API_KEY={v}"))
        }
        14 => {
            let v = format!("sk-{}T3BlbkFJ{}", rng.chars(20, ALNUM), rng.chars(20, ALNUM));
            p("openai_legacy", v.clone(), format!("key {v} leaked"))
        }
        15 => {
            let v = format!("sk-ant-api03-{}", rng.chars(93, URLSAFE));
            p("anthropic", v.clone(), format!("x-api-key: {v}"))
        }
        16 => {
            let v = format!("{}_live_{}", rng.pick(&["sk", "rk"]), rng.chars_var(24, 76, ALNUM));
            p("stripe", v.clone(), format!("stripe key {v} rotated"))
        }
        17 => {
            let v = format!("whsec_{}", rng.chars(32, ALNUM));
            p("stripe_webhook", v.clone(), format!("webhook secret {v}"))
        }
        18 => {
            let v = format!("xoxb-{}-{}-{}", rng.digits(12), rng.digits(13), rng.chars(24, ALNUM));
            p("slack", v.clone(), format!("slack bot {v}"))
        }
        19 => {
            let v = format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                rng.chars(8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                rng.chars(8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                rng.chars(24, ALNUM)
            );
            p("slack_webhook", v.clone(), format!("post to {v}"))
        }
        20 => {
            let v = format!("SK{}", rng.chars(32, HEX));
            p("twilio", v.clone(), format!("twilio api key {v}"))
        }
        21 => {
            let v = format!("SG.{}.{}", rng.chars(22, URLSAFE), rng.chars(43, URLSAFE));
            p("sendgrid", v.clone(), format!("SENDGRID_API_KEY={v}"))
        }
        22 => {
            let v = format!("shpat_{}", rng.chars(32, HEX));
            p("shopify", v.clone(), format!("shopify admin token {v}"))
        }
        23 => {
            let v = format!("key-{}", rng.chars(32, HEX));
            p("mailgun", v.clone(), format!("mailgun {v}"))
        }
        24 => {
            let body: Vec<String> = (0..4).map(|_| rng.chars(64, B64)).collect();
            let v = body.join("\n");
            let kind = rng
                .pick(&[
                    "RSA PRIVATE KEY",
                    "PRIVATE KEY",
                    "OPENSSH PRIVATE KEY",
                    "EC PRIVATE KEY",
                    "PGP PRIVATE KEY BLOCK",
                ])
                .to_string();
            p("private_key", v.clone(), format!("-----BEGIN {kind}-----\n{v}\n-----END {kind}-----"))
        }
        25 => {
            let v = format!("eyJ{}.eyJ{}.{}", rng.chars(20, URLSAFE), rng.chars(40, URLSAFE), rng.chars(43, URLSAFE));
            p("jwt", v.clone(), format!("id_token {v}"))
        }
        26 => {
            let v = rng.chars_var(32, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
            p("bearer", v.clone(), format!("Authorization: Bearer {v}"))
        }
        27 => {
            let creds = format!("{}:{}", rng.pick(&["admin", "deploy", "svc"]), rng.chars(12, ALNUM));
            let v = base64::engine::general_purpose::STANDARD.encode(creds);
            p("basic_auth", v.clone(), format!("Authorization: Basic {v}"))
        }
        28 => {
            let v = rng.chars(14, ALNUM);
            p(
                "url_password",
                v.clone(),
                format!(
                    "{}://app:{v}@db-{}.internal:5432/prod",
                    rng.pick(&["postgres", "mysql", "redis", "mongodb+srv", "amqp"]),
                    rng.digits(2)
                ),
            )
        }
        29 => {
            let v = rng.chars(12, ALNUM);
            p(
                "connstr_password",
                v.clone(),
                format!("Server=sql{};Database=app;User Id=sa;Password={v};", rng.digits(2)),
            )
        }
        30 => {
            let v = rng.chars(50, "abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*(-_=+)");
            p("django_secret", v.clone(), format!("SECRET_KEY = '{v}'"))
        }
        31 => {
            let v = format!("{}{}!", rng.chars(8, ALNUM), rng.digits(2));
            p("password_assignment", v.clone(), format!("login failed for bob, password={v}"))
        }
        32 => {
            let v = rng.chars(32, ALNUM);
            p("token_assignment", v.clone(), format!("refresh_token: {v}"))
        }
        33 => {
            let v = format!("sk-svcacct-{}", rng.chars(60, URLSAFE));
            p("openai_svcacct", v.clone(), format!("service account key {v}"))
        }
        34 => {
            let v = format!(
                "xapp-1-{}-{}-{}",
                rng.chars(11, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                rng.digits(13),
                rng.chars(64, HEX)
            );
            p("slack_app", v.clone(), format!("app token {v}"))
        }
        _ => {
            let v = format!("glpat-{}", rng.chars(26, URLSAFE));
            p("gitlab", v.clone(), format!("GITLAB_TOKEN={v}"))
        }
    }
}

fn pii(rng: &mut Rng) -> Plant {
    let p = |kind: &'static str, value: String, text: String| Plant {
        kind: kind.into(),
        category: "pii".into(),
        value,
        text,
    };
    let first = *rng.pick(&["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]);
    let last = *rng.pick(&["smith", "jones", "garcia", "miller", "davis", "martinez", "lopez", "wilson"]);
    match rng.below(14) {
        0 | 1 => {
            let v = format!(
                "{first}.{last}{}@{}",
                rng.digits(2),
                rng.pick(&["example.com", "mail.example.org", "corp.example.co.uk", "example.io"])
            );
            p("email", v.clone(), format!("please reply to {v} asap"))
        }
        2 => {
            let v = format!(
                "+{} {} {} {}",
                rng.pick(&["44", "49", "33", "61", "81"]),
                rng.digits(2),
                rng.digits(4),
                rng.digits(4)
            );
            p("phone_intl", v.clone(), format!("call me on {v}"))
        }
        3 => {
            let v = format!(
                "({}{}) {}{}-{}",
                2 + rng.below(8),
                rng.digits(2),
                2 + rng.below(8),
                rng.digits(2),
                rng.digits(4)
            );
            p("phone_nanp", v.clone(), format!("phone {v} after 5pm"))
        }
        4 => {
            let v = format!(
                "+1-{}{}-{}{}-{}",
                2 + rng.below(8),
                rng.digits(2),
                2 + rng.below(8),
                rng.digits(2),
                rng.digits(4)
            );
            p("phone_e164", v.clone(), format!("mobile: {v}"))
        }
        5 | 6 => {
            let prefix = *rng.pick(&["4", "51", "52", "55", "2221", "6011", "65"]);
            let d = luhn_complete(prefix, 16, rng);
            let v = match rng.below(3) {
                0 => d.clone(),
                1 => d.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" "),
                _ => d.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("-"),
            };
            p("card", v.clone(), format!("charged card {v} twice"))
        }
        7 => {
            let prefix = *rng.pick(&["34", "37"]);
            let d = luhn_complete(prefix, 15, rng);
            let v = format!("{} {} {}", &d[..4], &d[4..10], &d[10..]);
            p("card_amex", v.clone(), format!("amex {v}"))
        }
        8 => {
            let area = loop {
                let a = 1 + rng.below(899);
                if a != 666 {
                    break a;
                }
            };
            let v = format!("{area:03}-{:02}-{:04}", 1 + rng.below(99), 1 + rng.below(9999));
            p("ssn", v.clone(), format!("SSN {v} on file"))
        }
        9 => {
            let v = iban(rng);
            p("iban", v.clone(), format!("wire to IBAN {v} today"))
        }
        10 => {
            let v = format!("{}.{}.{}.{}", 11 + rng.below(200), rng.below(256), rng.below(256), 1 + rng.below(254));
            p("ipv4", v.clone(), format!("login from {v} blocked"))
        }
        11 => {
            // Global unicast outside the documentation prefix (2001:db8::/32 is not anyone's).
            let v = format!("2a02:{:x}:{:x}::{:x}", 1 + rng.below(65535), rng.below(65536), 1 + rng.below(65535));
            p("ipv6", v.clone(), format!("client {v} connected"))
        }
        12 => {
            let v = format!("19{}-{:02}-{:02}", 50 + rng.below(50), 1 + rng.below(12), 1 + rng.below(28));
            p("dob_text", v.clone(), format!("DOB: {v}"))
        }
        _ => {
            let v = format!("0{} {} {}", 20 + rng.below(79), rng.digits(4), rng.digits(4));
            p("phone_national", v.clone(), format!("landline {v}"))
        }
    }
}

fn decoy(rng: &mut Rng) -> Plant {
    let p = |kind: &'static str, value: String| Plant {
        kind: kind.into(),
        category: "decoy".into(),
        text: value.clone(),
        value,
    };
    match rng.below(22) {
        0 => p(
            "uuid",
            format!(
                "{}-{}-4{}-{}{}-{}",
                rng.chars(8, HEX),
                rng.chars(4, HEX),
                rng.chars(3, HEX),
                rng.pick(&["8", "9", "a", "b"]),
                rng.chars(3, HEX),
                rng.chars(12, HEX)
            ),
        ),
        1 => p("md5", rng.chars(32, HEX)),
        2 => p("sha1", rng.chars(40, HEX)),
        3 => p("sha256", rng.chars(64, HEX)),
        4 => p("git_sha", format!("commit {}", rng.chars(7, HEX))),
        5 => p("etag", format!("\"{}\"", rng.chars(32, HEX))),
        6 => p("isbn", format!("978-{}-{}-{}-{}", rng.digits(1), rng.digits(3), rng.digits(5), rng.digits(1))),
        7 => p("order_code", format!("ORD-{}-{}", 2020 + rng.below(7), rng.digits(6))),
        8 => p("sku", format!("SKU-{}-{}", rng.chars(3, UPPER), rng.digits(5))),
        9 => p("tracking_number", luhn_fail(16, rng)),
        10 => p(
            "timestamp",
            format!(
                "2026-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(24),
                rng.below(60),
                rng.below(60)
            ),
        ),
        11 => p("epoch", format!("17{}", rng.digits(8))),
        12 => p("version", format!("v{}.{}.{}", rng.below(20), rng.below(50), rng.below(200))),
        13 => p("price", format!("${}.{:02}", 1 + rng.below(5000), rng.below(100))),
        14 => p("quantity", format!("qty {} units", 1 + rng.below(500))),
        15 => p(
            "public_url",
            format!("https://docs.example.com/{}/{}?page={}", rng.chars(6, LOWER), rng.chars(8, LOWER), rng.below(40)),
        ),
        16 => {
            // Reduced user agents end in `.0.0.0`, which also parses as an IPv4 address.
            let (major, build, patch) = (100 + rng.below(40), rng.digits(4), rng.digits(3));
            let version =
                if rng.below(2) == 0 { format!("{major}.0.0.0") } else { format!("{major}.0.{build}.{patch}") };
            p("user_agent", format!("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version} Safari/537.36"))
        }
        17 => p("file_path", format!("/var/lib/app/{}/{}.json", rng.chars(6, LOWER), rng.chars(10, LOWER))),
        18 => p(
            "prose",
            rng.pick(&[
                "The quarterly report is ready for review.",
                "Please restart the worker after the deploy.",
                "Customer asked about the refund policy.",
                "Token limits were raised for the summarizer.",
            ])
            .to_string(),
        ),
        19 => p(
            "thing_name",
            rng.pick(&["Project Falcon", "Blue Widget Deluxe", "Berlin warehouse", "Tier-2 support queue"]).to_string(),
        ),
        20 => p("hex_color", format!("#{}", rng.chars(6, HEX))),
        _ => p("semver", format!("{}.{}.{}-rc.{}", rng.below(10), rng.below(30), rng.below(100), rng.below(9))),
    }
}

/// One labeled item.
#[derive(Debug, Clone)]
pub struct Labeled {
    pub item: Item,
    pub keys: Vec<String>,
    pub plants: Vec<Plant>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Places `text` somewhere in `item`: a top-level attribute, nested map, list of messages,
/// string set, binary, or as a map key (the last two only for single-line values).
fn place(item: &mut Item, rng: &mut Rng, slot: usize, text: &str) {
    let attr =
        format!("{}_{slot}", rng.pick(&["note", "details", "comment", "summary", "payload", "context", "description"]));
    let single_line = !text.contains('\n');
    match rng.below(7) {
        0 => {
            item.insert(attr, s(text));
        }
        1 => {
            item.insert(attr, AttributeValue::M(HashMap::from([("body".into(), s(text)), ("lang".into(), s("en"))])));
        }
        2 => {
            let msgs = vec![
                AttributeValue::M(HashMap::from([("role".into(), s("user")), ("content".into(), s(text))])),
                AttributeValue::M(HashMap::from([
                    ("role".into(), s("assistant")),
                    ("content".into(), s("Thanks, looking into it.")),
                ])),
            ];
            item.insert(attr, AttributeValue::L(msgs));
        }
        3 => {
            item.insert(attr, AttributeValue::Ss(vec![text.to_string(), format!("other-{slot}")]));
        }
        4 => {
            item.insert(attr, AttributeValue::B(text.as_bytes().to_vec()));
        }
        5 if single_line => {
            let mut m = HashMap::new();
            m.insert(text.to_string(), AttributeValue::N((1 + slot).to_string()));
            m.insert("total".into(), AttributeValue::N("3".into()));
            item.insert(attr, AttributeValue::M(m));
        }
        _ => {
            item.insert(attr, s(format!("[{}] {text}", rng.pick(&["INFO", "WARN", "ERROR"]))));
        }
    }
}

/// Attributes whose *names* make them sensitive, with harmless-looking values.
fn named_pii(rng: &mut Rng) -> (String, AttributeValue, Plant) {
    let (name, value) = match rng.below(6) {
        0 => (
            "date_of_birth".to_string(),
            format!("{}/{}/19{}", 1 + rng.below(12), 1 + rng.below(28), 50 + rng.below(50)),
        ),
        1 => ("passportNumber".to_string(), format!("{}{}", rng.chars(1, UPPER), rng.digits(8))),
        2 => ("drivers_license".to_string(), format!("{}{}", rng.chars(1, UPPER), rng.digits(7))),
        3 => ("tax_id".to_string(), format!("{}-{}", rng.digits(2), rng.digits(7))),
        4 => ("api_key".to_string(), rng.chars(24, "abcdefghijklmnopqrstuvwxyz")),
        _ => ("db_password".to_string(), format!("{}{}", rng.pick(&["summer", "winter", "autumn"]), rng.digits(4))),
    };
    let plant = Plant { kind: "named".into(), category: "pii".into(), value: value.clone(), text: value.clone() };
    (name, s(value), plant)
}

/// The corpus: `n` items from `seed`.
pub fn corpus(seed: u64, n: usize) -> Vec<Labeled> {
    let mut rng = Rng::new(seed);
    let shapes = ["USER", "TICKET", "CHAT", "LOG", "CONFIG", "ORDER"];
    (0..n)
        .map(|i| {
            let shape = *rng.pick(&shapes);
            let mut item = Item::new();
            item.insert("pk".into(), s(format!("{shape}#{i}")));
            item.insert("sk".into(), s(rng.pick(&["META", "PROFILE", "v1", "2026-11-25"]).to_string()));
            item.insert(
                "created_at".into(),
                s(format!("2026-11-{:02}T10:{:02}:00Z", 1 + rng.below(28), rng.below(60))),
            );
            item.insert("count".into(), AttributeValue::N(rng.below(10_000).to_string()));
            item.insert("active".into(), AttributeValue::Bool(rng.below(2) == 0));
            let mut plants = Vec::new();
            let n_plants = 1 + rng.below(4);
            for slot in 0..n_plants {
                let p = match rng.below(10) {
                    0..=3 => secret(&mut rng),
                    4..=6 => pii(&mut rng),
                    _ => decoy(&mut rng),
                };
                place(&mut item, &mut rng, slot, &p.text);
                plants.push(p);
            }
            // Always a decoy or two, so precision is measured on every shape.
            for slot in n_plants..n_plants + 1 + rng.below(2) {
                let p = decoy(&mut rng);
                place(&mut item, &mut rng, slot, &p.text);
                plants.push(p);
            }
            if rng.below(4) == 0 {
                let (name, v, p) = named_pii(&mut rng);
                item.insert(name, v);
                plants.push(p);
            }
            if rng.below(5) == 0 {
                let d = luhn_complete("4", 16, &mut rng);
                item.insert("billing_ref".to_string(), AttributeValue::N(d.clone()));
                plants.push(Plant { kind: "card_number_n".into(), category: "pii".into(), value: d.clone(), text: d });
            }
            Labeled { item, keys: vec!["pk".into(), "sk".into()], plants }
        })
        .collect()
}

/// All text an LLM could read from an item: strings, numbers, map keys, decoded binary.
pub fn readable_text(item: &Item) -> String {
    fn walk(v: &AttributeValue, out: &mut String) {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => out.push_str(s),
            AttributeValue::B(b) => out.push_str(&String::from_utf8_lossy(b)),
            AttributeValue::Ss(v) | AttributeValue::Ns(v) => v.iter().for_each(|s| {
                out.push_str(s);
                out.push('\n');
            }),
            AttributeValue::Bs(v) => v.iter().for_each(|b| {
                out.push_str(&String::from_utf8_lossy(b));
                out.push('\n');
            }),
            AttributeValue::M(m) => m.iter().for_each(|(k, v)| {
                out.push_str(k);
                out.push('\n');
                walk(v, out);
                out.push('\n');
            }),
            AttributeValue::L(l) => l.iter().for_each(|v| {
                walk(v, out);
                out.push('\n');
            }),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => {}
        }
    }
    let mut out = String::new();
    for (k, v) in item {
        out.push_str(k);
        out.push('\n');
        walk(v, &mut out);
        out.push('\n');
    }
    out
}

/// Is `value` (or a long piece of it) still readable in `text`?
pub fn leaked(value: &str, text: &str) -> bool {
    let chars: Vec<char> = value.chars().collect();
    let window = 12usize;
    if chars.len() <= window {
        return text.contains(value);
    }
    (0..=chars.len() - window).any(|i| {
        let piece: String = chars[i..i + window].iter().collect();
        // Pieces that are pure digits or pure letters of a long random value still count.
        text.contains(&piece)
    })
}

/// One corpus item as a JSON line (the independent corpus's format, `tests/corpus/blind`):
/// `{"item": ..., "keys": [...], "harmless": bool, "planted": [{"value", "kind", "class"}],
/// "decoys": [{"value", "kind"}]}`.
pub fn parse_labeled_line(line: &str) -> Result<Labeled, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({})", e.classify() as u8))?;
    let item = dynamo_shadow_core::item::parse_item(&v["item"]).map_err(|e| e.to_string())?;
    let keys = v["keys"]
        .as_array()
        .map(|a| a.iter().filter_map(|k| k.as_str().map(String::from)).collect())
        .unwrap_or_else(|| vec!["pk".to_string(), "sk".to_string()]);
    let mut plants = Vec::new();
    for (field, default_class) in [("planted", None), ("decoys", Some("decoy"))] {
        for p in v[field].as_array().into_iter().flatten() {
            let value = p["value"].as_str().ok_or("a plant without a value")?.to_string();
            let kind = p["kind"].as_str().unwrap_or("unknown").to_string();
            let category = default_class
                .map(String::from)
                .or_else(|| p["class"].as_str().map(String::from))
                .unwrap_or_else(|| "secret".into());
            plants.push(Plant { kind, category, text: value.clone(), value });
        }
    }
    Ok(Labeled { item, keys, plants })
}

/// Reads a JSON Lines corpus file.
pub fn read_corpus(path: &std::path::Path) -> Result<Vec<Labeled>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_labeled_line(l).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1)))
        .collect()
}

/// Recall per kind and category, decoys kept, harmless items left byte-identical, and
/// output validity.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    pub items: usize,
    pub invalid_outputs: usize,
    pub failed_items: usize,
    /// Items with nothing sensitive planted.
    pub harmless_items: usize,
    /// Of those, items whose output differs from the input at all.
    pub harmless_altered: usize,
    /// kind -> (caught, planted); kinds are `category:kind`.
    pub secrets: BTreeMap<String, (usize, usize)>,
    pub decoys: BTreeMap<String, (usize, usize)>,
    /// Kinds and positions of misses (never values), for debugging.
    pub misses: Vec<String>,
}

fn ratio<'a>(it: impl Iterator<Item = &'a (usize, usize)>) -> f64 {
    let (a, b) = it.fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

impl EvalReport {
    pub fn recall(&self) -> f64 {
        ratio(self.secrets.values())
    }
    pub fn decoys_kept(&self) -> f64 {
        ratio(self.decoys.values())
    }
    pub fn planted(&self) -> usize {
        self.secrets.values().map(|v| v.1).sum()
    }
    /// Share of harmless items that came out altered.
    pub fn harmless_altered_share(&self) -> f64 {
        if self.harmless_items == 0 {
            0.0
        } else {
            self.harmless_altered as f64 / self.harmless_items as f64
        }
    }
    /// (caught, planted) per family: the part of a kind before its first `/` (or `:`).
    pub fn by_family(&self) -> BTreeMap<String, (usize, usize)> {
        let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (kind, (c, p)) in &self.secrets {
            let rest = kind.split_once(':').map_or(kind.as_str(), |(_, r)| r);
            let family = rest.split('/').next().unwrap_or(rest);
            let e = out.entry(family.to_string()).or_default();
            e.0 += c;
            e.1 += p;
        }
        out
    }
}

/// Sanitizes every corpus item and scores it.
pub fn evaluate(sanitizer: &Sanitizer, corpus: &[Labeled]) -> EvalReport {
    let mut r = EvalReport { items: corpus.len(), ..Default::default() };
    for (i, l) in corpus.iter().enumerate() {
        let keys: Vec<&str> = l.keys.iter().map(String::as_str).collect();
        let harmless = l.plants.iter().all(|p| p.category == "decoy");
        let out = match sanitizer.sanitize(&l.item, &keys) {
            Ok((out, _)) => out,
            Err(_) => {
                r.failed_items += 1;
                continue;
            }
        };
        if validate_item(&out).is_err() {
            r.invalid_outputs += 1;
        }
        if harmless {
            r.harmless_items += 1;
            if out != l.item {
                r.harmless_altered += 1;
                r.misses.push(format!("item {i}: harmless item altered"));
            }
        }
        let text = readable_text(&out);
        for p in &l.plants {
            if p.category == "decoy" {
                let e = r.decoys.entry(p.kind.to_string()).or_default();
                e.1 += 1;
                if text.contains(&p.value) {
                    e.0 += 1;
                } else {
                    r.misses.push(format!("item {i}: decoy {} not kept", p.kind));
                }
            } else {
                let e = r.secrets.entry(format!("{}:{}", p.category, p.kind)).or_default();
                e.1 += 1;
                if leaked(&p.value, &text) {
                    r.misses.push(format!("item {i}: {} {} leaked", p.category, p.kind));
                } else {
                    e.0 += 1;
                }
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_is_deterministic_and_varied() {
        let a = corpus(7, 50);
        let b = corpus(7, 50);
        assert_eq!(a.len(), 50);
        assert!(a.iter().zip(&b).all(|(x, y)| x.item == y.item && x.plants == y.plants));
        let kinds: std::collections::HashSet<String> =
            corpus(1, 500).iter().flat_map(|l| l.plants.iter().map(|p| p.kind.clone())).collect();
        assert!(kinds.len() > 50, "{}", kinds.len());
    }

    #[test]
    fn leak_check_finds_pieces() {
        assert!(leaked("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "x abcdefghijklmnop y"));
        assert!(!leaked("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[REDACTED:GITHUB_TOKEN]"));
        assert!(leaked("a@b.io", "to a@b.io"));
    }
}
