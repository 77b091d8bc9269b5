//! Validators for personal data other than national ids (`rules/pii.toml`): emails, phone
//! numbers by numbering plan, cards next to barcodes, IP and MAC addresses, VINs, dates of
//! birth, passports and their machine-readable zone, driving licences, bank routing and
//! account numbers, medical and insurance record numbers, the US Medicare MBI.
//!
//! Each validator is `fn(span, before, after) -> bool`: `span` is the candidate the rule's
//! pattern matched, `before`/`after` at most 64 bytes of the text around it. Std only.

use super::text::{all_same, digits, find, has_word, number, valid_date};

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// `0123456789`, `987654321`: a run of consecutive digits is a placeholder.
fn sequential(d: &[u32]) -> bool {
    d.len() >= 6 && (d.windows(2).all(|w| w[1] == (w[0] + 1) % 10) || d.windows(2).all(|w| w[0] == (w[1] + 1) % 10))
}

/// The words before the span, last first (ASCII letters, digits, `_`, `-`), lowercased.
fn last_words(before: &str, n: usize) -> Vec<String> {
    before
        .to_ascii_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
        .rev()
        .take(n)
        .map(str::to_string)
        .collect()
}

/// The parts of a compound name: `agent_version`, `agentVersion`, `agent-version`.
fn name_parts(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in word.chars() {
        if (c == '_' || c == '-' || (c.is_ascii_uppercase() && prev_lower)) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if c != '_' && c != '-' {
            cur.push(c.to_ascii_lowercase());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words that make the number next to them a reference into a business system (an order,
/// a ticket, a barcode, a timestamp), not a person's number.
#[rustfmt::skip]
const REFERENCE_WORDS: &[&str] = &[
    "order", "orders", "invoice", "inv", "ticket", "tracking", "track", "ref", "reference", "sku", "item",
    "product", "part", "po", "case", "incident", "txn", "transaction", "receipt", "confirmation", "booking",
    "reservation", "shipment", "parcel", "awb", "isbn", "ean", "upc", "gtin", "barcode", "serial", "build",
    "fedex", "usps", "ups", "dhl", "consignment", "version", "ver", "release", "timestamp", "ts", "epoch",
    "created", "updated", "modified",
    "expires", "exp", "iat", "nbf", "batch", "lot", "job", "request", "trace", "span", "commit", "page",
    "port", "pid", "uid", "id", "uuid", "imei", "iccid", "imsi", "msisdn_id", "row", "offset", "count",
    "amount", "total", "price", "qty", "quantity", "balance", "account", "acct", "aws", "arn", "iam",
    // The same in the other languages the rules read (de, fr, es, pt, it, nl).
    "bestellung", "bestellnummer", "rechnung", "auftrag", "sendung", "lieferung", "commande", "facture", "colis",
    "pedido", "factura", "fatura", "encomenda", "ordine", "fattura", "spedizione", "bestelling", "factuur",
];

/// Name parts that say a number is a phone number (`wa_id`, `caller_id`, `msisdn`).
#[rustfmt::skip]
const PHONE_PARTS: &[&str] = &[
    "phone", "tel", "telephone", "mobile", "cell", "wa", "whatsapp", "msisdn", "sms", "caller", "callee", "fax",
    "contact", "handy", "telefon", "telefonnummer", "rufnummer", "handynummer", "mobilnummer", "telefono",
    "telefone", "portable", "cellulare", "movil", "celular",
];

/// The same, in scripts `last_words` does not split (zh, ja, ru, and accented forms).
#[rustfmt::skip]
const PHONE_WORDS_UNICODE: &[&str] = &[
    "\u{7535}\u{8bdd}", "\u{624b}\u{673a}", "\u{96fb}\u{8a71}", "\u{643a}\u{5e2f}", "\u{8054}\u{7cfb}",
    "t\u{e9}l\u{e9}phone", "t\u{e9}l", "tel\u{e9}fono", "m\u{f3}vil", "\u{442}\u{435}\u{43b}\u{435}\u{444}\u{43e}\u{43d}",
];

/// The last two words before the span (skipping `no`, `nr`, `number`, `num`, `code`) name a
/// business reference (`order #`, `invoice no.`, `"order_id":`), or a `#` is right before it.
fn reference_before(before: &str) -> bool {
    let t = before.trim_end_matches([' ', '\t', ':', '=', '"', '\'', '(', '[']);
    if t.ends_with('#') {
        return true;
    }
    let mut seen = 0;
    for w in last_words(t, 6) {
        if matches!(w.as_str(), "no" | "nr" | "num" | "number" | "code") {
            continue;
        }
        // `wa_id`, `caller_id`, `phone_id`: the name says what the number is.
        if w.split(['_', '-']).any(|p| PHONE_PARTS.contains(&p)) {
            return false;
        }
        if w.split(['_', '-']).any(|p| REFERENCE_WORDS.contains(&p)) {
            return true;
        }
        seen += 1;
        if seen == 2 {
            break;
        }
    }
    false
}

/// A candidate that is not a business reference (see `reference_before`). A bare `#` only
/// marks a reference for an unformatted number: `# 536-22-8714` is written as an SSN is.
pub fn not_reference(span: &str, before: &str, _after: &str) -> bool {
    let formatted = span.bytes().any(|b| matches!(b, b'-' | b' ' | b'.'));
    let t = before.trim_end_matches([' ', '\t', ':', '=', '"', '\'', '(', '[']);
    if formatted && t.ends_with('#') {
        return !reference_before(&t[..t.len() - 1]);
    }
    !reference_before(before)
}

/// A number on its own, not one group of a longer grouped number: the text before does not
/// end in a digit (directly or after one of the separators the number itself uses), nor the
/// text after start with one (`955-94-9347-12` holds no SSN; `955-94-9347 0` does: a space
/// does not continue a dashed number). An unseparated number continues with `-` or `.`.
pub fn standalone(span: &str, before: &str, after: &str) -> bool {
    let mut seps: Vec<u8> = span.bytes().filter(|b| matches!(b, b' ' | b'-' | b'.')).collect();
    if seps.is_empty() {
        seps = vec![b'-', b'.'];
    }
    // A space joins groups of a longer number (`4111 955 94 9347`) only when the group on the
    // other side has three or more digits; `... 0` is a separate number.
    // A span grouped by dashes or dots is its own token after a space (`010 536-22-8714`).
    let spaced = seps.contains(&b' ') || !span.bytes().any(|b| matches!(b, b'-' | b'.'));
    let glued = |s: &[u8]| match s {
        [sep, x, ..] if seps.contains(sep) => x.is_ascii_digit(),
        [b' ', rest @ ..] if spaced => rest.iter().take_while(|b| b.is_ascii_digit()).count() >= 3,
        [x, ..] => x.is_ascii_digit(),
        _ => false,
    };
    let rev: Vec<u8> = before.bytes().rev().take(8).collect();
    !(glued(&rev) || glued(after.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------------------------

/// File extensions that are not top-level domains: `icon@2x.png` is an image, not a mailbox.
#[rustfmt::skip]
const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "tif", "tiff", "heic", "avif", "ico", "css", "scss", "sass",
    "less", "js", "mjs", "cjs", "jsx", "ts", "tsx", "vue", "json", "yaml", "yml", "toml", "lock", "html", "htm",
    "txt", "csv", "log", "pdf", "zip", "gz", "tgz", "tar", "wasm", "woff", "woff2", "ttf", "otf", "eot", "mp3",
    "mp4", "wav", "mov", "webm", "exe", "dll", "bin", "dat", "xml", "map", "rb", "java", "kt", "swift", "cpp",
    "hpp", "cc", "cs", "go", "py", "rs", "php", "jar", "md", "ini", "cfg", "conf", "bak", "tmp", "sql",
];

fn email_parts_ok(span: &str, before: &str, after: &str) -> bool {
    let Some(at) = span.rfind('@') else { return false };
    let (local, domain) = (&span[..at], &span[at + 1..]);
    if local.is_empty() || local.len() > 64 || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-')) {
        return false;
    }
    let tld = labels.last().unwrap().to_ascii_lowercase();
    if FILE_EXTENSIONS.contains(&tld.as_str()) || tld.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    // `https://deploy@git.example.com/...`: the user part of a URL, not a mailbox.
    let token = before.rsplit(|c: char| c.is_whitespace()).next().unwrap_or("");
    if token.contains("://") {
        return false;
    }
    // `git@github.com:org/repo.git`: an scp-style remote.
    let scp = after.strip_prefix(':').is_some_and(|r| r.starts_with(|c: char| !c.is_whitespace() && c != '"'));
    // `<f13c84f2-d5fc-437c-9d12-cda36bad6537@mail.example.com>`: a Message-ID (or the
    // In-Reply-To/References naming one), a message's id, not a mailbox.
    let header = {
        let l = before.to_ascii_lowercase();
        ["message-id", "message_id", "messageid", "in-reply-to", "in_reply_to", "inreplyto", "references"]
            .iter()
            .any(|h| l.contains(h))
    };
    let angled = before.ends_with('<') && after.starts_with('>');
    let digits = local.bytes().filter(u8::is_ascii_digit).count();
    let machine = local.len() >= 20
        && digits * 5 >= local.len()
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'=' | b'$'));
    let message_id = machine && (angled || header);
    !scp && !message_id && !role_or_placeholder(local)
}

/// Local parts that name a function or a placeholder, not a person: `noreply@`, `support@`,
/// `billing@`, `you@`, `user@`. An organisation's role address identifies no one.
fn role_or_placeholder(local: &str) -> bool {
    let l = local.to_ascii_lowercase();
    let base = l.split('+').next().unwrap_or(&l);
    #[rustfmt::skip]
    const ROLES: &[&str] = &[
        "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply", "support", "help", "helpdesk",
        "info", "sales", "admin", "administrator", "billing", "contact", "hello", "team", "webmaster", "postmaster",
        "hostmaster", "abuse", "security", "privacy", "notifications", "notification", "notify", "alerts", "alert",
        "mailer-daemon", "bounce", "bounces", "newsletter", "news", "marketing", "careers", "jobs", "press", "media",
        "legal", "compliance", "accounts", "accounting", "finance", "orders", "service", "customerservice",
        "customer-service", "feedback", "devops", "ops", "root", "system", "daemon", "you", "user", "username",
        "test", "testing", "example", "someone", "somebody", "name", "yourname", "your.name", "your-name",
        "your_email", "youremail", "your.email", "email", "mail", "me", "foo", "bar", "nobody", "invalid",
    ];
    ROLES.contains(&base)
}

/// An email address: local part and domain well formed, the top-level domain not a file
/// extension (`logo@2x.png`), not the userinfo of a URL, not an scp-style git remote.
pub fn email(span: &str, before: &str, after: &str) -> bool {
    span.is_ascii() && email_parts_ok(span, before, after) && !message_id(span, before, after)
}

/// `<01HZSJCYEDHMB4BBNBTCANS4ZF@support.example.com>`: a Message-ID (RFC 5322), a machine
/// token in angle brackets, not a mailbox.
fn message_id(span: &str, before: &str, after: &str) -> bool {
    let local = span.split('@').next().unwrap_or("");
    let digits = local.bytes().filter(u8::is_ascii_digit).count();
    before.ends_with('<') && after.starts_with('>') && local.len() >= 16 && digits * 4 >= local.len()
}

fn letter_like(c: char) -> bool {
    let u = c as u32;
    c.is_alphanumeric()
        // Combining marks of Latin, Hebrew, Arabic and the Indic and Southeast Asian scripts.
        || (0x0300..=0x036F).contains(&u)
        || (0x0591..=0x05C7).contains(&u)
        || (0x0610..=0x065F).contains(&u)
        || ((0x0900..=0x0DFF).contains(&u) && !matches!(u, 0x0964 | 0x0965))
        || (0x0E31..=0x0E4E).contains(&u)
        || (0x3099..=0x309A).contains(&u)
}

/// An internationalized email address (RFC 6531/6532): as `email`, with at least one
/// non-ASCII letter in the local part or the domain, and no non-ASCII punctuation or space
/// (a `«` or a no-break space is not part of an address).
pub fn email_unicode(span: &str, before: &str, after: &str) -> bool {
    !span.is_ascii() && span.chars().all(|c| c.is_ascii() || letter_like(c)) && email_parts_ok(span, before, after)
}

// ---------------------------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------------------------

/// (leading digits, shortest, longest, mobile).
type Range = (&'static str, u8, u8, bool);

/// National significant number ranges: (leading digits, shortest, longest, mobile) per
/// country code, from each regulator's numbering plan as notified to the ITU (ITU-T E.164
/// national plans; cross-checked with libphonenumber's metadata). A bare run of digits is
/// accepted for mobile ranges only; after the `00` international prefix, geographic ranges
/// too.
#[rustfmt::skip]
const PLANS: &[(&str, &[Range])] = &[
    ("7", &[("9", 10, 10, true), ("3", 10, 10, false), ("4", 10, 10, false), ("8", 10, 10, false)]),
    ("20", &[("1", 10, 10, true)]),
    ("27", &[("6", 9, 9, true), ("7", 9, 9, true), ("8", 9, 9, true), ("1", 9, 9, false), ("2", 9, 9, false),
             ("3", 9, 9, false), ("4", 9, 9, false), ("5", 9, 9, false)]),
    ("30", &[("69", 10, 10, true), ("2", 10, 10, false)]),
    ("31", &[("6", 9, 9, true), ("1", 9, 9, false), ("2", 9, 9, false), ("3", 9, 9, false), ("4", 9, 9, false),
             ("5", 9, 9, false), ("7", 9, 9, false)]),
    ("32", &[("4", 9, 9, true), ("1", 8, 8, false), ("2", 8, 8, false), ("3", 8, 8, false), ("5", 8, 8, false),
             ("6", 8, 8, false), ("7", 8, 8, false), ("8", 8, 8, false), ("9", 8, 8, false)]),
    ("33", &[("6", 9, 9, true), ("7", 9, 9, true), ("1", 9, 9, false), ("2", 9, 9, false), ("3", 9, 9, false),
             ("4", 9, 9, false), ("5", 9, 9, false), ("9", 9, 9, false)]),
    ("34", &[("6", 9, 9, true), ("7", 9, 9, true), ("8", 9, 9, false), ("9", 9, 9, false)]),
    ("36", &[("20", 9, 9, true), ("30", 9, 9, true), ("31", 9, 9, true), ("50", 9, 9, true), ("70", 9, 9, true),
             ("1", 8, 8, false)]),
    ("39", &[("3", 9, 10, true), ("0", 6, 11, false)]),
    ("40", &[("7", 9, 9, true), ("2", 9, 9, false), ("3", 9, 9, false)]),
    ("41", &[("7", 9, 9, true), ("2", 9, 9, false), ("3", 9, 9, false), ("4", 9, 9, false), ("5", 9, 9, false),
             ("6", 9, 9, false), ("8", 9, 9, false), ("9", 9, 9, false)]),
    ("43", &[("6", 10, 13, true)]),
    ("44", &[("7", 10, 10, true), ("1", 9, 10, false), ("2", 10, 10, false), ("3", 10, 10, false)]),
    // Denmark: mobile and fixed ranges interleave within eight digits.
    ("45", &[("2", 8, 8, true), ("3", 8, 8, true), ("4", 8, 8, true), ("5", 8, 8, true), ("6", 8, 8, true),
             ("7", 8, 8, true), ("8", 8, 8, true), ("9", 8, 8, true)]),
    ("46", &[("7", 9, 9, true), ("8", 7, 9, false)]),
    ("47", &[("4", 8, 8, true), ("9", 8, 8, true), ("2", 8, 8, false), ("3", 8, 8, false), ("5", 8, 8, false),
             ("6", 8, 8, false), ("7", 8, 8, false)]),
    ("48", &[("5", 9, 9, true), ("6", 9, 9, true), ("7", 9, 9, true), ("88", 9, 9, true), ("1", 9, 9, false),
             ("2", 9, 9, false), ("3", 9, 9, false), ("4", 9, 9, false), ("8", 9, 9, false)]),
    ("49", &[("15", 10, 11, true), ("16", 10, 11, true), ("17", 10, 11, true), ("2", 10, 11, false),
             ("3", 10, 11, false), ("4", 10, 11, false), ("5", 10, 11, false), ("6", 10, 11, false),
             ("7", 10, 11, false), ("8", 10, 11, false), ("9", 10, 11, false)]),
    ("51", &[("9", 9, 9, true)]),
    // Mexico dropped the mobile/fixed distinction in 2019: ten digits everywhere.
    ("52", &[("1", 10, 10, true), ("2", 10, 10, true), ("3", 10, 10, true), ("4", 10, 10, true), ("5", 10, 10, true),
             ("6", 10, 10, true), ("7", 10, 10, true), ("8", 10, 10, true), ("9", 10, 10, true)]),
    ("54", &[("9", 11, 11, true), ("1", 10, 10, false), ("2", 10, 10, false), ("3", 10, 10, false)]),
    ("56", &[("9", 9, 9, true), ("2", 9, 9, false)]),
    ("57", &[("3", 10, 10, true), ("60", 10, 10, false)]),
    ("58", &[("4", 10, 10, true), ("2", 10, 10, false)]),
    ("60", &[("1", 9, 10, true), ("3", 9, 9, false)]),
    ("61", &[("4", 9, 9, true), ("2", 9, 9, false), ("3", 9, 9, false), ("7", 9, 9, false), ("8", 9, 9, false)]),
    ("62", &[("8", 9, 12, true)]),
    ("63", &[("9", 10, 10, true), ("2", 9, 9, false)]),
    ("64", &[("2", 8, 10, true), ("3", 8, 8, false), ("4", 8, 8, false), ("6", 8, 8, false), ("7", 8, 8, false),
             ("9", 8, 8, false)]),
    ("65", &[("8", 8, 8, true), ("9", 8, 8, true), ("6", 8, 8, false), ("3", 8, 8, false)]),
    ("66", &[("6", 9, 9, true), ("8", 9, 9, true), ("9", 9, 9, true), ("2", 8, 8, false)]),
    ("81", &[("70", 10, 10, true), ("80", 10, 10, true), ("90", 10, 10, true), ("1", 9, 9, false), ("2", 9, 9, false),
             ("3", 9, 9, false), ("4", 9, 9, false), ("5", 9, 9, false), ("6", 9, 9, false), ("7", 9, 9, false),
             ("8", 9, 9, false), ("9", 9, 9, false)]),
    ("82", &[("10", 10, 10, true), ("2", 8, 9, false), ("3", 9, 10, false), ("4", 9, 10, false), ("5", 9, 10, false),
             ("6", 9, 10, false)]),
    ("84", &[("3", 9, 9, true), ("5", 9, 9, true), ("7", 9, 9, true), ("8", 9, 9, true), ("9", 9, 9, true)]),
    ("86", &[("13", 11, 11, true), ("14", 11, 11, true), ("15", 11, 11, true), ("16", 11, 11, true),
             ("17", 11, 11, true), ("18", 11, 11, true), ("19", 11, 11, true), ("10", 10, 10, false),
             ("2", 10, 10, false), ("3", 10, 11, false), ("4", 10, 11, false), ("5", 10, 11, false),
             ("7", 10, 11, false), ("8", 10, 11, false), ("9", 10, 11, false)]),
    ("90", &[("5", 10, 10, true), ("2", 10, 10, false), ("3", 10, 10, false), ("4", 10, 10, false)]),
    ("91", &[("6", 10, 10, true), ("7", 10, 10, true), ("8", 10, 10, true), ("9", 10, 10, true), ("1", 10, 10, false),
             ("2", 10, 10, false), ("3", 10, 10, false), ("4", 10, 10, false), ("5", 10, 10, false)]),
    ("92", &[("3", 10, 10, true)]),
    ("234", &[("70", 10, 10, true), ("80", 10, 10, true), ("81", 10, 10, true), ("90", 10, 10, true),
              ("91", 10, 10, true)]),
    ("254", &[("7", 9, 9, true), ("1", 9, 9, true)]),
    ("351", &[("9", 9, 9, true), ("2", 9, 9, false)]),
    ("353", &[("8", 9, 9, true), ("1", 8, 8, false)]),
    ("358", &[("4", 8, 10, true), ("50", 8, 10, true)]),
    ("380", &[("50", 9, 9, true), ("63", 9, 9, true), ("66", 9, 9, true), ("67", 9, 9, true), ("68", 9, 9, true),
              ("73", 9, 9, true), ("9", 9, 9, true), ("3", 9, 9, false), ("4", 9, 9, false)]),
    ("420", &[("6", 9, 9, true), ("7", 9, 9, true), ("2", 9, 9, false), ("3", 9, 9, false), ("4", 9, 9, false),
              ("5", 9, 9, false)]),
    ("852", &[("5", 8, 8, true), ("6", 8, 8, true), ("9", 8, 8, true), ("2", 8, 8, false), ("3", 8, 8, false)]),
    ("886", &[("9", 9, 9, true), ("2", 8, 9, false)]),
    ("966", &[("5", 9, 9, true), ("1", 8, 8, false)]),
    ("971", &[("5", 9, 9, true), ("2", 8, 8, false), ("3", 8, 8, false), ("4", 8, 8, false), ("6", 8, 8, false),
              ("7", 8, 8, false), ("9", 8, 8, false)]),
    ("972", &[("5", 9, 9, true), ("2", 8, 8, false), ("3", 8, 8, false), ("4", 8, 8, false), ("8", 8, 8, false),
              ("9", 8, 8, false), ("7", 9, 9, false)]),
];

/// Mobile numbers dialled in the country with the trunk prefix 0 (8 in Russia), written
/// without separators: (leading digits including the prefix, shortest, longest total).
#[rustfmt::skip]
const NATIONAL: &[(&str, u8, u8)] = &[
    ("071", 11, 11), ("072", 11, 11), ("073", 11, 11), ("074", 11, 11), ("075", 10, 11), // UK 07, CH 075-079
    ("076", 10, 10), ("077", 10, 11), ("078", 10, 11), ("079", 10, 11),
    ("06", 10, 10), ("07", 10, 10), // FR 06/07, NL 06
    ("04", 10, 10), // AU 04, BE 04
    ("015", 11, 12), ("016", 11, 12), ("017", 11, 12), // DE
    ("083", 10, 10), ("085", 10, 10), ("086", 10, 10), ("087", 10, 10), ("089", 10, 10), // IE
    ("070", 11, 11), ("080", 11, 11), ("090", 11, 11), // JP
    ("010", 11, 11), // KR
    ("066", 11, 13), ("067", 11, 13), ("068", 11, 13), ("069", 11, 13), // AT
    ("89", 11, 11), // RU: trunk 8 and 9xx
];

/// A number inside a timestamp range: ten digits of seconds or thirteen of milliseconds
/// between 2001 and 2036.
fn epoch_like(d: &[u32]) -> bool {
    let n = number(d);
    match d.len() {
        10 => (1_000_000_000..=2_100_000_000).contains(&n),
        13 => (1_000_000_000_000..=2_100_000_000_000).contains(&n),
        _ => false,
    }
}

fn starts(d: &[u32], prefix: &str) -> bool {
    prefix.len() <= d.len() && prefix.bytes().zip(d).all(|(p, &x)| (p - b'0') as u32 == x)
}

fn nsn_ok(cc: &str, nsn: &[u32], mobile_only: bool) -> bool {
    if cc == "1" {
        // NANP: NPA NXX XXXX, area and exchange start 2-9 and are not N11 service codes.
        return nsn.len() == 10
            && nsn[0] >= 2
            && nsn[3] >= 2
            && !(nsn[1] == 1 && nsn[2] == 1)
            && !(nsn[4] == 1 && nsn[5] == 1);
    }
    if cc == "55" {
        // Brazil: two-digit area 11-99, then 9 and eight digits (mobile) or 2-5 and seven.
        return nsn.len() >= 10
            && nsn[0] >= 1
            && nsn[1] >= 1
            && ((nsn.len() == 11 && nsn[2] == 9) || (!mobile_only && nsn.len() == 10 && (2..=5).contains(&nsn[2])));
    }
    let Some((_, ranges)) = PLANS.iter().find(|(c, _)| *c == cc) else { return false };
    ranges.iter().any(|&(p, lo, hi, mobile)| {
        (mobile || !mobile_only) && starts(nsn, p) && (lo as usize..=hi as usize).contains(&nsn.len())
    })
}

/// Words before a bare number that say it is a phone number (`from`, `call`, `wa_id`, `tel:`).
fn phone_context(before: &str) -> bool {
    let t = before.trim_end_matches([' ', '\t', ':', '=', '"', '\'']);
    t.to_ascii_lowercase().ends_with("tel")
        || PHONE_WORDS_UNICODE.iter().any(|w| t.to_lowercase().contains(w))
        || last_words(t, 3).iter().any(|w| {
            w.split(['_', '-']).any(|p| {
                PHONE_PARTS.contains(&p)
                    || matches!(
                        p,
                        "call" | "from" | "to" | "text" | "dial" | "reach" | "recipient" | "sender" | "number"
                    )
            })
        })
}

/// A phone number written as one run of digits (`4915112345678`, `447911123456`,
/// `07911123456`, `004915112345678`): a country code and a national significant number of
/// the right length and leading digits for that country's plan (mobile ranges for a bare
/// run, any range after `00`), or a mobile number with its trunk prefix. An eleven-digit
/// run starting with 1 (North America, Chinese mobiles: most such runs) needs a phone word
/// before it or nothing around it. Never a timestamp (ten or thirteen digits in the epoch
/// range), a business reference (`order 4915112345678`), an id, or a decimal.
pub fn phone_plan(span: &str, before: &str, after: &str) -> bool {
    if !span.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let d = digits(span);
    if !(10..=15).contains(&d.len()) || all_same(&d[1..]) || sequential(&d) || epoch_like(&d) || fictional_nanp(&d) {
        return false;
    }
    let decimal = after.starts_with(['.', ',']) && after[1..].starts_with(|c: char| c.is_ascii_digit());
    if decimal || reference_before(before) || before.ends_with("::") || inside_resource_name(before) {
        return false;
    }
    let cc_split = |d: &[u32], mobile_only: bool| {
        (1..=3).any(|n| {
            d.len() > n && d[0] != 0 && {
                let cc: String = d[..n].iter().map(|x| char::from(b'0' + *x as u8)).collect();
                nsn_ok(&cc, &d[n..], mobile_only)
            }
        })
    };
    if d[0] == 0 && d[1] == 0 {
        return d.len() >= 11 && cc_split(&d[2..], false);
    }
    if d[0] == 0 || (d[0] == 8 && d[1] == 9) {
        return NATIONAL.iter().any(|&(p, lo, hi)| starts(&d, p) && (lo as usize..=hi as usize).contains(&d.len()));
    }
    if d.len() == 11 && d[0] == 1 {
        let alone = before.trim().is_empty() && after.trim().is_empty();
        let plan = nsn_ok("1", &d[1..], true) || (d[1] >= 3 && nsn_ok("86", &d, true));
        return plan && (alone || phone_context(before));
    }
    cc_split(&d, true)
}

/// The span sits inside an ARN or URN (`arn:aws:kms:eu-west-1:123456789012:key/...`): an
/// account id, not a phone number.
fn inside_resource_name(before: &str) -> bool {
    let token = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | '[' | '=' | ','))
        .next()
        .unwrap_or("");
    let l = token.to_ascii_lowercase();
    l.starts_with("arn:") || l.starts_with("urn:")
}

/// The groups before the span open an IBAN (`NL40 TRIO `, `DE89 `): the digits are its tail.
fn iban_head(before: &str) -> bool {
    let country = |t: &str| {
        let b = t.as_bytes();
        b.len() == 4 && b[..2].iter().all(u8::is_ascii_uppercase) && b[2..].iter().all(u8::is_ascii_digit)
    };
    let mut tokens = before.split_whitespace().rev();
    match (tokens.next(), tokens.next()) {
        (Some(t), _) if country(t) => true,
        (Some(t), Some(c)) => {
            country(c) && t.len() == 4 && t.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
        _ => false,
    }
}

/// A North American number reserved for fiction (555-0100 to 555-0199, with or without an
/// area code): films and documentation use them, no one answers.
fn fictional_nanp(d: &[u32]) -> bool {
    let tail = if d.len() >= 10 {
        &d[d.len() - 10 + 3..]
    } else if d.len() == 7 {
        d
    } else {
        return false;
    };
    tail[..3] == [5, 5, 5] && tail[3] == 0 && tail[4] == 1
}

/// Digit groups that read as a date (`01 02 2024`, `2024 01 15`) or run into a time.
fn date_like(span: &str, after: &str) -> bool {
    let groups: Vec<&str> = span.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    let n = |g: &str| g.parse::<u32>().unwrap_or(99999);
    let year = |g: &str| g.len() == 4 && (1900..=2099).contains(&n(g));
    let dm = |a: &str, b: &str| a.len() <= 2 && b.len() <= 2 && n(a) >= 1 && n(b) >= 1 && n(a) <= 31 && n(b) <= 31;
    let date = match groups.as_slice() {
        [a, b, c, ..] if year(c) && dm(a, b) => true,
        [a, b, c, ..] if year(a) && dm(b, c) => true,
        _ => false,
    };
    date || (after.starts_with(':') && after[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// A formatted phone number: not a date with a time (`01 02 2024 12`), not a business
/// reference (`order 020 7946 0958`), not one digit repeated, not the tail of a longer
/// grouped number (`DE89 3704 0044 0532 0130 01` holds no phone number).
pub fn phone_shape(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    // `078-05-1120`: grouped 3-2-4 with dashes is how SSNs are written, not phones.
    let ssn_shape = span.len() == 11 && span.as_bytes()[3] == b'-' && span.as_bytes()[6] == b'-';
    !(d.len() < 7
        || all_same(&d)
        || fictional_nanp(&d)
        || ssn_shape
        || iban_head(before)
        || date_like(span, after)
        || reference_before(before)
        || !standalone(span, before, after))
}

// ---------------------------------------------------------------------------------------------
// Payment cards next to barcodes
// ---------------------------------------------------------------------------------------------

fn gs1_check(d: &[u32]) -> bool {
    // GS1 mod 10: weights 3 and 1 alternating from the digit left of the check digit.
    let Some((&check, body)) = d.split_last() else { return false };
    let sum: u32 = body.iter().rev().enumerate().map(|(i, &x)| if i % 2 == 0 { x * 3 } else { x }).sum();
    (10 - sum % 10) % 10 == check
}

/// Words after which a long number is a barcode, a tracking number or an amount, not a card.
#[rustfmt::skip]
const NOT_CARD_WORDS: &[&str] = &[
    "isbn", "ean", "upc", "gtin", "barcode", "tracking", "imei", "iccid", "sim", "serial", "order", "invoice",
    "sku", "usps", "ups", "fedex", "dhl", "shipment", "parcel", "amount", "total", "balance", "price", "qty",
];

/// A card candidate that is not a barcode: thirteen digits that are a valid EAN-13 (or
/// twelve a valid UPC-A, fourteen a GTIN-14) are a product, even when they also pass Luhn;
/// no barcode, tracking, order or amount word right before it; not a decimal number.
pub fn not_barcode(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    let barcode = matches!(d.len(), 12..=14) && gs1_check(&d);
    let words = last_words(before, 3);
    let labelled = words.iter().any(|w| w.split(['_', '-']).any(|p| NOT_CARD_WORDS.contains(&p)));
    let decimal = after.starts_with(['.', ',']) && after[1..].starts_with(|c: char| c.is_ascii_digit());
    // A bare `#` is not a label: `card # 4111 ...` is a card; `order #4111...` is caught by
    // its word.
    !(barcode || labelled || decimal)
}

// ---------------------------------------------------------------------------------------------
// IP and MAC addresses
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const VERSION_WORDS: &[&str] = &[
    "version", "ver", "v", "build", "release", "firmware", "fw", "rev", "revision", "os", "ios", "android",
    "windows", "kernel", "bios", "sdk", "driver", "patch", "update", "upgrade", "chrome", "firefox", "safari",
    "edge", "opera", "agent",
];

/// The `/len` right after an address, if any.
fn cidr_prefix(after: &str) -> Option<u32> {
    let rest = after.strip_prefix('/')?;
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    if end == 0 || end > 3 {
        return None;
    }
    rest[..end].parse().ok()
}

/// An IPv4 address that could identify someone on the internet: not `0.0.0.0`, loopback,
/// private (10/8, 172.16/12, 192.168/16: configs and pod addresses, no one's identity),
/// shared (100.64/10), link-local, multicast, broadcast or a netmask; not a network block in CIDR notation (`10.0.0.0/8`, `192.168.0.0/16`: network
/// configuration; `10.1.2.3/8` is an interface address and stays a finding); not a product
/// version (`version 10.2.0.1`, `Chrome/120.0.0.0`); not a documentation address
/// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, RFC 5737: reserved for examples).
pub fn ipv4_host(span: &str, before: &str, after: &str) -> bool {
    let Ok(ip) = span.parse::<std::net::Ipv4Addr>() else { return false };
    let o = ip.octets();
    let v = u32::from(ip);
    let private = o[0] == 10
        || (o[0] == 172 && (16..=31).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 100 && (64..=127).contains(&o[1]))
        || (o[0] == 169 && o[1] == 254);
    let documentation = matches!((o[0], o[1], o[2]), (192, 0, 2) | (198, 51, 100) | (203, 0, 113));
    if o[0] == 0 || o[0] == 127 || o[0] >= 224 || private || documentation {
        return false;
    }
    if let Some(p) = cidr_prefix(after) {
        if p > 32 {
            return false;
        }
        let host = if p == 32 { 0 } else { v & (u32::MAX >> p) };
        if host == 0 && p < 32 {
            return false;
        }
    }
    if let Some(t) = before.strip_suffix('/') {
        if t.ends_with(|c: char| c.is_ascii_alphabetic()) {
            return false;
        }
    }
    let dotted_head = before.ends_with(|c: char| c == '.' || c.is_ascii_digit());
    let dotted_tail = after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit());
    // The word before, or the last part of the name the value is stored under
    // (`agent_version: 10.28.170.222`).
    let last = before
        .trim_end()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .rfind(|w| !w.is_empty());
    let version = last.is_some_and(|w| name_parts(w).last().is_some_and(|p| VERSION_WORDS.contains(&p.as_str())))
        || before.ends_with(['v', 'V']);
    !(dotted_head || dotted_tail || version)
}

/// An IPv6 address that could be a host's: parses (with an embedded IPv4 tail or a `%zone`),
/// not unspecified, loopback or multicast, not a network block in CIDR notation
/// (`2001:db8::/32`), not a slice or a path (`x[10::100]`, `std::`), not a documentation
/// address (2001:db8::/32, RFC 3849).
pub fn ipv6_host(span: &str, _before: &str, after: &str) -> bool {
    let addr = span.split('%').next().unwrap_or(span);
    let Ok(ip) = addr.parse::<std::net::Ipv6Addr>() else { return false };
    // Unique-local (fc00::/7) and link-local (fe80::/10) addresses are private, like IPv4's.
    let first = ip.segments()[0];
    let documentation = first == 0x2001 && ip.segments()[1] == 0x0db8;
    if ip.is_unspecified()
        || ip.is_loopback()
        || first >> 8 == 0xff
        || first & 0xfe00 == 0xfc00
        || first & 0xffc0 == 0xfe80
        || documentation
    {
        return false;
    }
    if !addr.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let groups: Vec<&str> = addr.split(':').filter(|g| !g.is_empty()).collect();
    let decimal = groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if groups.len() <= 2 && decimal && groups[0].len() < 4 {
        return false;
    }
    if groups.len() < 3 && groups.iter().all(|g| g.len() < 3) {
        return false;
    }
    if let Some(p) = cidr_prefix(after) {
        if p > 128 {
            return false;
        }
        let v = u128::from(ip);
        let host = if p == 0 {
            v
        } else if p >= 128 {
            0
        } else {
            v & (u128::MAX >> p)
        };
        if host == 0 && p < 128 {
            return false;
        }
    }
    !after.starts_with(['(', '<'])
}

/// A MAC address (IEEE EUI-48) as `00:1a:2b:3c:4d:5e`, `00-1A-2B-3C-4D-5E` or
/// `001a.2b3c.4d5e`: one separator throughout; not all zeros, broadcast or one byte
/// repeated; the dash and dot forms need a hex letter (all-decimal dashed groups are ids),
/// and an all-decimal colon form with every group under 60 is a time, not an address.
pub fn mac_address(span: &str, _before: &str, _after: &str) -> bool {
    let sep = match span.bytes().find(|b| !b.is_ascii_hexdigit()) {
        Some(s @ (b':' | b'-' | b'.')) => s,
        _ => return false,
    };
    let groups: Vec<&str> = span.split(sep as char).collect();
    let shape_ok = match sep {
        b'.' => groups.len() == 3 && groups.iter().all(|g| g.len() == 4),
        _ => groups.len() == 6 && groups.iter().all(|g| g.len() == 2),
    };
    if !shape_ok || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit())) {
        return false;
    }
    let hex: String = groups.concat().to_ascii_lowercase();
    let bytes: Vec<&str> = (0..6).map(|i| &hex[i * 2..i * 2 + 2]).collect();
    if all_same(&bytes) {
        return false;
    }
    let has_letter = hex.bytes().any(|b| b.is_ascii_alphabetic());
    match sep {
        b':' => has_letter || !groups.iter().all(|g| g.parse::<u32>().is_ok_and(|n| n < 60)),
        _ => has_letter,
    }
}

// ---------------------------------------------------------------------------------------------
// Vehicles
// ---------------------------------------------------------------------------------------------

fn vin_value(c: u8) -> Option<u32> {
    Some(match c {
        b'0'..=b'9' => (c - b'0') as u32,
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => return None,
    })
}

/// ISO 3779 structure: 17 characters without I, O, Q; a model-year code in position 10
/// (not U, Z or 0); letters and digits mixed.
fn vin_structure(v: &[u8]) -> bool {
    v.len() == 17
        && v.iter().all(|&c| vin_value(c).is_some())
        && !matches!(v[9], b'U' | b'Z' | b'0')
        && v.iter().any(u8::is_ascii_digit)
        && v.iter().any(u8::is_ascii_uppercase)
        && !all_same(v)
}

/// The North American check digit (49 CFR 565.15): position 9, weights 8 7 6 5 4 3 2 10 0
/// 9 8 7 6 5 4 3 2 over transliterated values, remainder mod 11 (10 as `X`).
fn vin_check_digit_ok(v: &[u8]) -> bool {
    const W: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let sum: u32 = v.iter().zip(W).map(|(&c, w)| vin_value(c).unwrap_or(0) * w).sum();
    let r = sum % 11;
    v[8] == if r == 10 { b'X' } else { b'0' + r as u8 }
}

/// A VIN written on its own: its check digit valid and the last four characters digits,
/// not after a business-reference word.
pub fn vin_checked(span: &str, before: &str, _after: &str) -> bool {
    let v = span.as_bytes();
    vin_structure(v) && v[13..].iter().all(u8::is_ascii_digit) && vin_check_digit_ok(v) && !reference_before(before)
}

/// A VIN next to its name (`VIN`, `chassis no.`, `Fahrgestellnummer`): ISO 3779 structure;
/// North American VINs must also carry a valid check digit.
pub fn vin(span: &str, _before: &str, _after: &str) -> bool {
    let v: Vec<u8> = span.bytes().map(|b| b.to_ascii_uppercase()).collect();
    vin_structure(&v) && (!(b'1'..=b'5').contains(&v[0]) || vin_check_digit_ok(&v))
}

// ---------------------------------------------------------------------------------------------
// Dates of birth
// ---------------------------------------------------------------------------------------------

/// Month names and abbreviations (English, German, French, Spanish, Italian, Portuguese,
/// Dutch), lowercase, accents as written.
#[rustfmt::skip]
const MONTHS: &[(&str, u32)] = &[
    ("january", 1), ("jan", 1), ("januar", 1), ("janvier", 1), ("janv", 1), ("enero", 1), ("ene", 1),
    ("gennaio", 1), ("gen", 1), ("janeiro", 1), ("januari", 1), ("j\u{e4}nner", 1),
    ("february", 2), ("feb", 2), ("februar", 2), ("f\u{e9}vrier", 2), ("fevrier", 2), ("f\u{e9}vr", 2), ("fevr", 2),
    ("febrero", 2), ("febbraio", 2), ("fevereiro", 2), ("fev", 2), ("februari", 2),
    ("march", 3), ("mar", 3), ("m\u{e4}rz", 3), ("maerz", 3), ("mars", 3), ("marzo", 3), ("mar\u{e7}o", 3),
    ("marco", 3), ("maart", 3), ("mrt", 3),
    ("april", 4), ("apr", 4), ("avril", 4), ("avr", 4), ("abril", 4), ("abr", 4), ("aprile", 4),
    ("may", 5), ("mai", 5), ("mayo", 5), ("maggio", 5), ("mag", 5), ("maio", 5), ("mei", 5),
    ("june", 6), ("jun", 6), ("juni", 6), ("juin", 6), ("junio", 6), ("giugno", 6), ("giu", 6), ("junho", 6),
    ("july", 7), ("jul", 7), ("juli", 7), ("juillet", 7), ("juil", 7), ("julio", 7), ("luglio", 7), ("lug", 7),
    ("julho", 7),
    ("august", 8), ("aug", 8), ("ao\u{fb}t", 8), ("aout", 8), ("agosto", 8), ("ago", 8), ("augustus", 8),
    ("september", 9), ("sep", 9), ("sept", 9), ("septembre", 9), ("septiembre", 9), ("settembre", 9), ("set", 9),
    ("setembro", 9),
    ("october", 10), ("oct", 10), ("oktober", 10), ("okt", 10), ("octobre", 10), ("octubre", 10),
    ("ottobre", 10), ("ott", 10), ("outubro", 10), ("out", 10),
    ("november", 11), ("nov", 11), ("novembre", 11), ("noviembre", 11), ("novembro", 11),
    ("december", 12), ("dec", 12), ("dezember", 12), ("dez", 12), ("d\u{e9}cembre", 12), ("decembre", 12),
    ("d\u{e9}c", 12), ("diciembre", 12), ("dic", 12), ("dicembre", 12), ("dezembro", 12),
];

fn month_number(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    MONTHS.iter().find(|(m, _)| *m == w).map(|&(_, n)| n)
}

fn plausible_year(y: u32, two_digit: bool) -> bool {
    two_digit || (1900..=2035).contains(&y)
}

/// A calendar date that can be a birth date: numeric (`1987-03-14`, `14/03/1987`,
/// `03/14/1987`, `14.03.87`) with either day-month order, or with a month name in one of
/// the languages above (`14 March 1987`, `March 14th, 1987`, `14. März 1987`), the year
/// 1900-2035 (or two digits).
pub fn birth_date(span: &str, _before: &str, _after: &str) -> bool {
    let parts: Vec<&str> = span
        .split([' ', ',', '/', '-', '.', '\u{a0}'])
        .filter(|p| !p.is_empty() && !matches!(*p, "de" | "del" | "of" | "the" | "di" | "le"))
        .collect();
    if parts.len() != 3 {
        return false;
    }
    let num = |p: &str| -> Option<(u32, usize)> {
        let p = p.trim_end_matches(|c: char| c.is_ascii_alphabetic()); // 3rd, 1st, 14th, 1er
        (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit())).then(|| (p.parse().unwrap(), p.len()))
    };
    let full_year = |y: u32, len: usize| if len == 2 { 1900 + y } else { y };
    let named = parts.iter().position(|p| month_number(p).is_some());
    match named {
        Some(i) => {
            let month = month_number(parts[i]).unwrap();
            let rest: Vec<(u32, usize)> =
                parts.iter().enumerate().filter(|&(j, _)| j != i).filter_map(|(_, p)| num(p)).collect();
            let [(a, la), (b, lb)] = rest.as_slice() else { return false };
            // The year is the four-digit part (or the last one).
            let ((day, _), (y, ly)) = if *la == 4 { ((*b, *lb), (*a, *la)) } else { ((*a, *la), (*b, *lb)) };
            ly != 1 && ly != 3 && plausible_year(y, ly == 2) && valid_date(full_year(y, ly), month, day)
        }
        None => {
            let nums: Option<Vec<(u32, usize)>> =
                parts.iter().map(|p| p.bytes().all(|b| b.is_ascii_digit()).then(|| num(p)).flatten()).collect();
            let Some(n) = nums else { return false };
            let [(a, la), (b, lb), (c, lc)] = n.as_slice() else { return false };
            if *la == 4 {
                // ISO order: year, month, day.
                return plausible_year(*a, false) && *lb <= 2 && *lc <= 2 && valid_date(*a, *b, *c);
            }
            if (*lc != 4 && *lc != 2) || *la > 2 || *lb > 2 {
                return false;
            }
            let y = full_year(*c, *lc);
            plausible_year(*c, *lc == 2) && (valid_date(y, *b, *a) || valid_date(y, *a, *b))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Passports, MRZ, driving licences
// ---------------------------------------------------------------------------------------------

/// ICAO 9303 check digit: weights 7 3 1 over 0-9, A-Z = 10-35, `<` = 0.
fn icao_check(field: &[u8], check: u8) -> bool {
    let sum: u32 = field
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let v = match c {
                b'0'..=b'9' => (c - b'0') as u32,
                b'A'..=b'Z' => (c - b'A') as u32 + 10,
                _ => 0,
            };
            v * [7, 3, 1][i % 3]
        })
        .sum();
    check.is_ascii_digit() && sum % 10 == (check - b'0') as u32
}

/// A passport number next to its name: 6-10 letters and digits with at least four digits,
/// not one character repeated, not a date or a year; covers the US and UK (nine digits, or a
/// letter and eight), Germany (`C01X00T47`: nine of `CFGHJKLMNPRTVWXYZ0-9`), France
/// (`12AB34567`) and letter-plus-digits formats elsewhere.
pub fn passport_number(span: &str, _before: &str, _after: &str) -> bool {
    let b: Vec<u8> = span.bytes().map(|c| c.to_ascii_uppercase()).collect();
    let n_digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    (6..=10).contains(&b.len())
        && b.iter().all(u8::is_ascii_alphanumeric)
        // German and other passports mix letters and digits freely (`H9GGV8JGR`).
        && n_digits >= 2
        && !all_same(&b)
        && !(n_digits == b.len() && sequential(&digits(span)))
        && !(n_digits == b.len() && b.len() <= 8 && (b.starts_with(b"19") || b.starts_with(b"20")))
}

/// Line 2 of a passport's machine-readable zone (ICAO 9303 TD3, 44 characters): document
/// number, birth date and expiry date with their check digits, and the composite check.
pub fn icao_mrz(span: &str, _before: &str, _after: &str) -> bool {
    let l = span.as_bytes();
    if l.len() != 44 || !l[13..20].iter().chain(&l[21..28]).all(u8::is_ascii_digit) {
        return false;
    }
    let doc_ok = icao_check(&l[0..9], l[9]) && l[0] != b'<';
    let dob_ok = icao_check(&l[13..19], l[19]);
    let exp_ok = icao_check(&l[21..27], l[27]);
    let composite: Vec<u8> = [&l[0..10], &l[13..20], &l[21..43]].concat();
    let dd = |i: usize| ((l[i] - b'0') * 10 + (l[i + 1] - b'0')) as u32;
    let dates_ok = valid_date(2000, dd(15), dd(17)) && valid_date(2000, dd(23), dd(25));
    doc_ok && dob_ok && exp_ok && dates_ok && icao_check(&composite, l[43])
}

/// Line 1 of a passport's machine-readable zone: `P`, a type letter or `<`, the issuing
/// state, then surname `<<` given names padded with `<` (44 characters).
pub fn icao_mrz_names(span: &str, _before: &str, _after: &str) -> bool {
    let l = span.as_bytes();
    if l.len() != 44 || l[0] != b'P' {
        return false;
    }
    let names = &l[5..];
    let Some(split) = find(names, b"<<") else { return false };
    split > 0
        && names.iter().all(|&c| c.is_ascii_uppercase() || c == b'<')
        && names[..split].iter().any(u8::is_ascii_uppercase)
}

/// A driving licence number next to its name: 5-20 letters, digits and dashes with at least
/// three digits, not a date, not one character repeated, not a placeholder.
pub fn driver_licence(span: &str, _before: &str, after: &str) -> bool {
    let b = span.as_bytes();
    let n_digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let alnum: Vec<u8> = b.iter().filter(|c| c.is_ascii_alphanumeric()).map(u8::to_ascii_uppercase).collect();
    let counting = n_digits == alnum.len() && sequential(&digits(span));
    let shape = (5..=20).contains(&b.len()) && n_digits >= 3;
    shape && !all_same(&alnum) && !counting && !birth_date(span, "", "") && !date_like(span, after)
}

/// A US driver's licence number in one of the states' formats: 1-3 letters and 4-14 digits
/// (CA `D1234567`, FL `S123-456-78-901-0`, IL, MI, MN, NJ, OH, WI, ...), 7-13 digits (NY,
/// PA, TX, ...), or Washington's `WDL` and nine letters or digits.
pub fn us_driver_license(span: &str, before: &str, after: &str) -> bool {
    let c: Vec<u8> = span.bytes().filter(|b| *b != b'-' && *b != b' ').map(|b| b.to_ascii_uppercase()).collect();
    let letters = c.iter().take_while(|b| b.is_ascii_uppercase()).count();
    let rest = &c[letters..];
    let shape = (letters == 0 && (7..=13).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit))
        || ((1..=3).contains(&letters) && (4..=14).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit))
        || (c.starts_with(b"WDL") && c.len() == 12 && c.iter().all(u8::is_ascii_alphanumeric));
    shape && driver_licence(span, before, after)
}

/// A UK (DVLA) driving licence number: five characters of the surname padded with 9, the
/// decade digit, birth month (+50 for women), day, year digit, two initials padded with 9,
/// a digit and two check characters (`MORGA753116SM9IJ`).
pub fn uk_driving_licence(span: &str, _before: &str, _after: &str) -> bool {
    let b = span.as_bytes();
    if b.len() != 16 || !b[0].is_ascii_uppercase() {
        return false;
    }
    let surname_ok = b[..5].iter().all(|c| c.is_ascii_uppercase() || *c == b'9')
        && !b[..5].windows(2).any(|w| w[0] == b'9' && w[1] != b'9');
    let d: Option<Vec<u32>> = b[5..11].iter().map(|c| c.is_ascii_digit().then(|| (c - b'0') as u32)).collect();
    let Some(d) = d else { return false };
    let month = d[1] * 10 + d[2];
    let month = if month > 50 { month - 50 } else { month };
    let year = 1900 + d[0] * 10 + d[5];
    surname_ok
        && valid_date(year, month, d[3] * 10 + d[4])
        && b[11..13].iter().all(|c| c.is_ascii_uppercase() || *c == b'9')
        && b[13].is_ascii_digit()
        && b[14..].iter().all(u8::is_ascii_alphanumeric)
}

// ---------------------------------------------------------------------------------------------
// Banking
// ---------------------------------------------------------------------------------------------

/// An ABA routing transit number (ABA / Federal Reserve): nine digits, the first two 00-12,
/// 21-32, 61-72 or 80, and `3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9)` a multiple of 10.
pub fn aba_routing(span: &str, _before: &str, _after: &str) -> bool {
    let d = digits(span);
    if d.len() != 9 || all_same(&d) {
        return false;
    }
    let p = d[0] * 10 + d[1];
    let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
    matches!(p, 0..=12 | 21..=32 | 61..=72 | 80) && sum % 10 == 0
}

/// A bank account number next to its name: 6-17 digits (spaces or dashes between groups),
/// not one digit repeated, not a counting run, not a date; not a cloud account id
/// (`AWS account 123456789012`).
pub fn bank_account(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    let cloud = has_word(before, &["aws", "gcp", "azure", "project", "tenant", "subscription", "cloud"]);
    (6..=17).contains(&d.len()) && !all_same(&d) && !sequential(&d) && !date_like(span, after) && !cloud
}

/// A UK sort code: six digits as `12-34-56`, `12 34 56` or `123456`, not `00-00-00`.
pub fn uk_sort_code(span: &str, _before: &str, _after: &str) -> bool {
    let d = digits(span);
    let b = span.as_bytes();
    let layout = b.len() == 6 || (b.len() == 8 && b[2] == b[5] && (b[2] == b'-' || b[2] == b' '));
    d.len() == 6 && layout && !all_same(&d)
}

// ---------------------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------------------

/// An id next to its label (record, member, policy, tax id): 4-20 letters, digits and dashes with
/// at least three digits; not a date, not one character repeated, not a placeholder
/// (`XXXX-1234` masks keep their digits, `000000` is a default).
pub fn labelled_id(span: &str, _before: &str, after: &str) -> bool {
    let b = span.as_bytes();
    let alnum: Vec<u8> = b.iter().filter(|c| c.is_ascii_alphanumeric()).map(u8::to_ascii_uppercase).collect();
    let n_digits = alnum.iter().filter(|c| c.is_ascii_digit()).count();
    let masked = alnum.iter().filter(|&&c| c == b'X' || c == b'*').count() >= 4;
    (4..=20).contains(&alnum.len())
        && n_digits >= 3
        && !all_same(&alnum)
        && !all_same(&digits(span))
        && !masked
        && !date_like(span, after)
        && !birth_date(span, "", "")
}

/// A Medicare Beneficiary Identifier (CMS): 11 characters `C A AN N A AN N A A N N`, C 1-9,
/// letters without S L O I B Z; dashed `1EG4-TE5-MK73` on its own, undashed only next to
/// `Medicare`, `MBI` or `beneficiary`.
pub fn us_mbi(span: &str, before: &str, after: &str) -> bool {
    let c: Vec<u8> = span.bytes().filter(|b| *b != b'-').collect();
    if c.len() != 11 {
        return false;
    }
    let letter = |x: u8| x.is_ascii_uppercase() && !b"SLOIBZ".contains(&x);
    let digit = |x: u8| x.is_ascii_digit();
    let shape = (b'1'..=b'9').contains(&c[0])
        && letter(c[1])
        && (letter(c[2]) || digit(c[2]))
        && digit(c[3])
        && letter(c[4])
        && (letter(c[5]) || digit(c[5]))
        && digit(c[6])
        && letter(c[7])
        && letter(c[8])
        && digit(c[9])
        && digit(c[10]);
    let b = span.as_bytes();
    let dashed = b.len() == 13 && b[4] == b'-' && b[8] == b'-';
    shape && (dashed || (b.len() == 11 && has_word(&format!("{before} {after}"), &["medicare", "mbi", "beneficiary"])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_numbers() {
        assert!(standalone("955-94-9347", "ITIN ", " on file"));
        assert!(!standalone("955-94-9347", "", "-12"));
        // Dash grouping is the number's own: a space before it starts a new token.
        assert!(standalone("955-94-9347", "4111 ", ""));
        assert!(!standalone("955 94 9347", "4111 ", ""), "space groups after a space join one number");
        assert!(standalone("955-94-9347", "", ". Next"));
    }

    #[test]
    fn emails() {
        assert!(email("alice@example.com", "mail ", " now"));
        assert!(email("bob+tickets@mail.example.co.uk", "", "."));
        assert!(!email("icon@2x.png", "", ""));
        assert!(!email("deploy@git.example.com", "https://", "/repo.git"));
        assert!(!email("git@github.com", "", ":org/repo.git"));
        assert!(email("alice@example.com", "", ": thanks"));
        assert!(!email("a..b@example.com", "", ""));
        assert!(email_unicode("jos\u{e9}@example.com", "", ""));
        assert!(email_unicode("anna@b\u{fc}cher.de", "", ""));
        assert!(email_unicode("\u{7528}\u{6237}@\u{4f8b}\u{5b50}.\u{4e2d}\u{56fd}", "", ""));
        assert!(!email_unicode("alice@example.com", "", ""));
        assert!(!email_unicode("\u{ab}alice@example.com", "", ""));
    }

    #[test]
    fn phones_by_plan() {
        // Checked against Google's libphonenumber (python `phonenumbers`, is_valid_number).
        assert!(phone_plan("14155552671", "wa_id ", ""));
        assert!(phone_plan("14155552671", "", ""));
        assert!(!phone_plan("14155552671", "user ", " logged in")); // eleven digits from 1: needs a phone word
        assert!(phone_plan("4915112345678", "from ", ""));
        assert!(phone_plan("447911123456", "", ""));
        assert!(phone_plan("33612345678", "", ""));
        assert!(phone_plan("07911123456", "mobile ", ""));
        assert!(phone_plan("819012345678", "", ""));
        assert!(!phone_plan("442079460958", "", "")); // London landline: only after 00
        assert!(phone_plan("00442079460958", "", ""));
        assert!(phone_plan("5511987654321", "", ""));
        assert!(phone_plan("004915112345678", "", ""));
        assert!(phone_plan("919876543210", "", ""));
        assert!(phone_plan("13812345678", "\u{7535}\u{8bdd}: ", ""));
        assert!(!phone_plan("1733011200", "", "")); // epoch seconds
        assert!(!phone_plan("1733011200123", "", "")); // epoch milliseconds
        assert!(!phone_plan("4915112345678", "order ", ""));
        assert!(!phone_plan("4915112345678", "#", ""));
        assert!(!phone_plan("4915112345678", "\"order_id\": ", ""));
        assert!(!phone_plan("4155552671", "", "")); // ten bare NANP digits: too common
        assert!(!phone_plan("12345678901", "", ""));
        assert!(!phone_plan("99912345678", "", ""));
        assert!(!phone_plan("3312345678", "", "")); // France needs nine digits
    }

    #[test]
    fn formatted_phones() {
        assert!(phone_shape("020 7946 0958", "call ", ""));
        assert!(!phone_shape("01 02 2024 12", "", ":30"));
        assert!(!phone_shape("2024 01 15", "", ""));
        assert!(!phone_shape("020 7946 0958", "invoice no. ", ""));
        assert!(!phone_shape("000 0000 0000", "", ""));
    }

    #[test]
    fn cards_and_barcodes() {
        assert!(not_barcode("4111 1111 1111 1111", "card ", ""));
        assert!(!not_barcode("4006381333931", "", "")); // EAN-13 (also Luhn-valid 13-digit Visa shape)
        assert!(!not_barcode("4111111111111111", "tracking ", ""));
        assert!(not_barcode("4111111111111111", "card # ", ""));
        assert!(!not_barcode("4111111111111111", "order #", ""));
    }

    #[test]
    fn ips_and_macs() {
        assert!(!ipv4_host("203.0.113.42", "client ", " connected"));
        assert!(ipv4_host("81.2.69.160", "client ", " connected"));
        assert!(ipv4_host("52.14.3.9", "inet ", "/24 brd"));
        assert!(!ipv4_host("10.1.2.3", "inet ", "/8 brd"), "private");
        assert!(!ipv4_host("10.28.170.222", "agent_version: ", ""), "a version");
        assert!(!ipv4_host("10.0.0.0", "cidr: ", "/8"));
        assert!(!ipv4_host("192.168.0.0", "", "/16"));
        assert!(!ipv4_host("127.0.0.1", "", ""));
        assert!(!ipv4_host("255.255.255.0", "netmask ", ""));
        assert!(!ipv4_host("0.0.0.0", "bind ", ""));
        assert!(!ipv4_host("10.2.0.1", "version ", ""));
        assert!(!ipv4_host("120.0.0.0", "Chrome/", " Safari"));
        assert!(!ipv6_host("2001:db8::1", "", ""));
        assert!(ipv6_host("2a02:c7f:8a3e:2d00::1b", "", ""));
        assert!(!ipv6_host("fe80::1ff:fe23:4567:890a", "", "%eth0"), "link-local");
        assert!(ipv6_host("::ffff:198.51.100.7", "", ""));
        assert!(!ipv6_host("::1", "", ""));
        assert!(!ipv6_host("ff02::1", "", ""));
        assert!(!ipv6_host("2001:db8::", "", "/32"));
        assert!(!ipv6_host("10::100", "x[", "]"));
        assert!(mac_address("00:1a:2b:3c:4d:5e", "", ""));
        assert!(mac_address("00-1A-2B-3C-4D-5E", "", ""));
        assert!(mac_address("001a.2b3c.4d5e", "", ""));
        assert!(!mac_address("00:00:00:00:00:00", "", ""));
        assert!(!mac_address("ff:ff:ff:ff:ff:ff", "", ""));
        assert!(!mac_address("12:30:45:12:30:45", "", ""));
        assert!(!mac_address("12-34-56-78-90-12", "", ""));
        assert!(!mac_address("00:1a-2b:3c:4d:5e", "", ""));
    }

    #[test]
    fn vins() {
        // Check digits computed per 49 CFR 565.15 and cross-checked with python-stdnum.
        assert!(vin_checked("1M8GDM9AXKP042788", "VIN ", ""));
        assert!(!vin_checked("1M8GDM9A1KP042788", "", ""));
        assert!(!vin_checked("WVWZZZ1JZXW000001", "", "")); // European: by context only
        assert!(vin("WVWZZZ1JZ3W386752", "", ""));
        assert!(!vin("1M8GDM9A1KP042788", "", ""));
        assert!(!vin("1M8GDM9AXKP04278O", "", ""));
    }

    #[test]
    fn birth_dates() {
        for d in [
            "14 March 1987",
            "03/14/1987",
            "1987-03-14",
            "14.03.1987",
            "14/03/1987",
            "March 3rd, 1985",
            "14. M\u{e4}rz 1987",
            "14 mars 1987",
            "3 de mayo de 1990",
        ] {
            assert!(birth_date(d, "", ""), "{d}");
        }
        assert!(!birth_date("1987-14-03", "", ""));
        assert!(!birth_date("31/02/1987", "", ""));
        assert!(!birth_date("14 Smarch 1987", "", ""));
        assert!(!birth_date("1.2.3", "", ""));
    }

    #[test]
    fn documents() {
        assert!(passport_number("531928374", "", ""));
        assert!(!passport_number("123456789", "", "")); // a placeholder
        assert!(passport_number("C01X00T47", "", ""));
        assert!(passport_number("12AB34567", "", ""));
        assert!(!passport_number("EXPIRED", "", ""));
        assert!(!passport_number("000000000", "", ""));
        assert!(!passport_number("20240101", "", ""));
        assert!(uk_driving_licence("MORGA753116SM9IJ", "", ""));
        assert!(!uk_driving_licence("MORGA753716SM9IJ", "", "")); // month 73
        assert!(us_driver_license("D1234568", "", ""));
        assert!(us_driver_license("S123-456-78-901-0", "", ""));
        assert!(!us_driver_license("ABCDEFG", "", ""));
        assert!(!driver_licence("2024-03-14", "", ""));
    }

    #[test]
    fn mrz() {
        // A synthetic TD3 line 2 (document number, birth date, expiry, composite check).
        assert!(icao_mrz("X4R8T2Q915UTO8503149F3001019<<<<<<<<<<<<<<<0", "", ""));
        assert!(icao_mrz("C01X00T478D<<8703145M3105179<<<<<<<<<<<<<<<0", "", ""));
        assert!(!icao_mrz("X4R8T2Q916UTO8503149F3001019<<<<<<<<<<<<<<<0", "", ""));
        assert!(!icao_mrz("X4R8T2Q915UTO8503149F3001019<<<<<<<<<<<<<<<1", "", ""));
        assert!(icao_mrz_names("P<UTOHOLMES<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<<<", "", ""));
        assert!(!icao_mrz_names("P<UTO<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<", "", ""));
    }

    #[test]
    fn banking_and_health() {
        assert!(aba_routing("021000021", "", ""));
        assert!(aba_routing("011000015", "", ""));
        assert!(!aba_routing("021000022", "", ""));
        assert!(!aba_routing("000000000", "", ""));
        assert!(!aba_routing("991000018", "", "")); // prefix 99 unused
        assert!(!bank_account("12345678", "", "")); // counting run
        assert!(bank_account("31926819", "account number ", ""));
        assert!(!bank_account("123456789012", "AWS account ", ""));
        assert!(uk_sort_code("20-00-00", "", ""));
        assert!(!uk_sort_code("00-00-00", "", ""));
        assert!(labelled_id("00482913", "MRN ", ""));
        assert!(!labelled_id("XXXX-XXXX-1234", "", ""));
        assert!(!labelled_id("2024-03-14", "", ""));
        assert!(us_mbi("1EG4-TE5-MK73", "", ""));
        assert!(us_mbi("5TJ7AC2KR41", "Medicare ", ""));
        assert!(!us_mbi("5TJ7AC2KR41", "", ""));
        assert!(!us_mbi("1SG4-TE5-MK73", "", "")); // S is never used
    }
}
