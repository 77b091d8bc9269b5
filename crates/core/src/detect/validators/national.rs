//! Validators for national identification numbers (`rules/national_ids.toml`).
//!
//! Each validator is `fn(span, before, after) -> bool`: `span` is the candidate the rule's
//! pattern matched, `before`/`after` at most 64 bytes of the text around it. They check the
//! format's own structure and check digit, taken from each issuer's specification, and, where
//! the bare shape is too common (a 9- or 11-digit number is usually an order id, a phone
//! number or an epoch), ask for a context word near the span: a *formatted* number
//! (`123.456.789-09`, `1 84 12 76 451 089 46`) stands on its own, a bare run of digits only
//! next to its name (`CPF 12345678909`). Std only; no allocation beyond small vectors.

use super::text::{all_same, digits, has_word, number, valid_date};

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// Luhn (ISO/IEC 7812-1 annex B) over all digits, the last being the check digit.
fn luhn(d: &[u32]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                if x * 2 > 9 {
                    x * 2 - 9
                } else {
                    x * 2
                }
            } else {
                x
            }
        })
        .sum();
    sum % 10 == 0
}

/// Verhoeff (dihedral group D5), the last digit being the check digit.
fn verhoeff(d: &[u32]) -> bool {
    const MUL: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const PERM: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = MUL[c as usize][PERM[i % 8][x as usize] as usize];
    }
    c == 0
}

/// ISO 7064 MOD 11,10 (hybrid system), the last digit being the check digit.
fn iso7064_mod11_10(d: &[u32]) -> bool {
    let Some((&check, body)) = d.split_last() else { return false };
    let mut product = 10;
    for &x in body {
        let mut sum = (x + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    (11 - product) % 10 == check
}

/// Lengths of the alphanumeric groups of `span` and the one separator between them
/// (`None` when there is none; `Err` when separators are mixed or doubled).
fn grouping(span: &str) -> Result<(Vec<usize>, Option<u8>), ()> {
    let mut groups = vec![0usize];
    let mut sep = None;
    for b in span.bytes() {
        if b.is_ascii_alphanumeric() {
            *groups.last_mut().unwrap() += 1;
        } else {
            if *groups.last().unwrap() == 0 || sep.is_some_and(|s| s != b) {
                return Err(());
            }
            sep = Some(b);
            groups.push(0);
        }
    }
    if *groups.last().unwrap() == 0 {
        return Err(());
    }
    Ok((groups, sep))
}

/// `span` is written in exactly these groups with one separator from `seps`.
fn formatted(span: &str, groups: &[usize], seps: &[u8]) -> bool {
    matches!(grouping(span), Ok((g, Some(s))) if g == groups && seps.contains(&s))
}

/// `span` has no separators at all.
fn compact(span: &str) -> bool {
    span.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A context word before or after the span.
fn context(before: &str, after: &str, words: &[&str]) -> bool {
    has_word(before, words) || has_word(after, words)
}

/// The span is the whole value (a list or set element that is exactly the number): for the
/// formats with letters or strong check digits, that is context enough.
fn alone(before: &str, after: &str) -> bool {
    before.trim().is_empty() && after.trim().is_empty()
}

/// Words that make the number next to them a reference into some business system, not a
/// person's identifier.
#[rustfmt::skip]
const REFERENCE_WORDS: &[&str] = &[
    "order", "orders", "invoice", "inv", "ticket", "tracking", "track", "ref", "reference", "sku", "item",
    "product", "part", "po", "case", "incident", "txn", "transaction", "receipt", "confirmation", "booking",
    "reservation", "shipment", "parcel", "awb", "isbn", "ean", "upc", "gtin", "barcode", "serial", "build", "fedex", "usps", "ups", "dhl", "consignment",
    "version", "ver", "release", "timestamp", "epoch", "batch", "lot", "job", "request", "trace", "commit",
    "page", "port", "pid",
    // The same in the other languages the rules read (de, fr, es, pt, it, nl).
    "bestellung", "bestellnummer", "rechnung", "auftrag", "sendung", "lieferung", "commande", "facture", "colis",
    "pedido", "factura", "fatura", "encomenda", "ordine", "fattura", "spedizione", "bestelling", "factuur",
];

/// The last words before the span (up to two, skipping `no`, `nr`, `number`, `#`, `:`)
/// name a business reference (`order #`, `invoice no.`), or the span follows a `#`.
fn reference_before(before: &str) -> bool {
    let t = before.trim_end_matches([' ', '\t', ':', '=', '"', '\'', '(', '[']);
    if t.ends_with('#') {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).filter(|w| !w.is_empty()).collect();
    let mut seen = 0;
    for w in words.iter().rev() {
        if matches!(*w, "no" | "nr" | "num" | "number" | "id" | "code") {
            continue;
        }
        // `order_id`, `ticket-no`: the parts of a snake/kebab identifier.
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

/// The span is not glued to more digits in the same grouping (`4111 1111 1111 1111` holds
/// no 12-digit Aadhaar): the text before does not end in a digit (after at most one space
/// or dash), nor the text after start with one.
fn standalone(before: &str, after: &str) -> bool {
    let b = before.as_bytes();
    let a = after.as_bytes();
    let glued_before = match b {
        [.., x, s] if (*s == b' ' || *s == b'-' || *s == b'.') && x.is_ascii_digit() => true,
        [.., x] => x.is_ascii_digit(),
        _ => false,
    };
    let glued_after = match a {
        [s, x, ..] if (*s == b' ' || *s == b'-' || *s == b'.') && x.is_ascii_digit() => true,
        [x, ..] => x.is_ascii_digit(),
        _ => false,
    };
    !(glued_before || glued_after)
}

// ---------------------------------------------------------------------------------------------
// United States
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const ITIN_WORDS: &[&str] = &["itin", "individual taxpayer", "taxpayer identification", "tax id", "tin", "taxpayer id"];

/// US ITIN (IRS): nine digits, first 9, fourth and fifth 50-65, 70-88, 90-92 or 94-99.
/// Formatted `9XX-XX-XXXX` on its own; nine bare digits only next to `ITIN`/`tax id`.
pub fn us_itin(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 9 || d[0] != 9 || number(&d[5..]) == 0 {
        return false;
    }
    let g = d[3] * 10 + d[4];
    if !matches!(g, 50..=65 | 70..=88 | 90..=92 | 94..=99) {
        return false;
    }
    if formatted(span, &[3, 2, 4], b"- ") {
        standalone(before, after) && !reference_before(before)
    } else {
        compact(span) && context(before, after, ITIN_WORDS)
    }
}

#[rustfmt::skip]
const EIN_WORDS: &[&str] = &[
    "ein", "fein", "employer identification", "employer id", "tax id", "taxpayer id", "federal tax", "tin", "irs",
];

/// US EIN (IRS "How EINs are assigned and valid EIN prefixes"): `XX-XXXXXXX` with a
/// campus prefix the IRS assigns; always next to `EIN`/`tax id` (the shape alone is common).
pub fn us_ein(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 9 || all_same(&d) {
        return false;
    }
    let p = d[0] * 10 + d[1];
    let prefix_ok = matches!(p, 1..=6 | 10..=16 | 20..=27 | 30..=48 | 50..=68 | 71..=77 | 80..=88 | 90..=95 | 98 | 99);
    prefix_ok && (formatted(span, &[2, 7], b"-") || compact(span)) && context(before, after, EIN_WORDS)
}

// ---------------------------------------------------------------------------------------------
// United Kingdom
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const NINO_WORDS: &[&str] = &["national insurance", "nino", "ni number", "ni no", "nin", "insurance no"];

/// UK National Insurance number (HMRC NIM39110): two prefix letters (first not D F I Q U V,
/// second not D F I O Q U V, not BG GB KN NK NT TN ZZ), six digits, suffix A-D.
/// Spaced `AB 12 34 56 C` on its own; compact `AB123456C` only next to `NI`/`NINO`.
pub fn uk_nino(span: &str, before: &str, after: &str) -> bool {
    let c: Vec<u8> = span.bytes().filter(|b| !b.is_ascii_whitespace()).map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 9 || !span.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ') {
        return false;
    }
    let (p1, p2) = (c[0], c[1]);
    let letters_ok = p1.is_ascii_uppercase()
        && p2.is_ascii_uppercase()
        && !b"DFIQUV".contains(&p1)
        && !b"DFIOQUV".contains(&p2)
        && !matches!(&c[..2], b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ")
        && c[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&c[8]);
    if !letters_ok || all_same(&c[2..8]) {
        return false;
    }
    if formatted(span, &[2, 2, 2, 2, 1], b" ") {
        !reference_before(before)
    } else {
        compact(span) && (context(before, after, NINO_WORDS) || alone(before, after))
    }
}

#[rustfmt::skip]
const NHS_WORDS: &[&str] = &["nhs", "health service", "chi number", "patient"];

/// NHS number (NHS Data Dictionary): ten digits, the last a modulus-11 check digit over
/// weights 10..2 (a remainder giving 10 is never issued). Always next to `NHS`.
pub fn uk_nhs(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 10 || all_same(&d) || !(compact(span) || formatted(span, &[3, 3, 4], b" -")) {
        return false;
    }
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(&x, w)| x * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == d[9] && context(before, after, NHS_WORDS)
}

// ---------------------------------------------------------------------------------------------
// Canada
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const SIN_WORDS: &[&str] = &["sin", "social insurance", "nas", "assurance sociale", "assurance-sociale"];
#[rustfmt::skip]
const PHONE_WORDS: &[&str] = &["tel", "phone", "call", "mobile", "cell", "fax", "whatsapp", "sms", "contact"];

/// Canadian Social Insurance Number (ESDC): nine digits, Luhn, first digit not 0 or 8.
/// Dashed `123-456-782` on its own (not after a phone or order word); spaced or bare only
/// next to `SIN`/`social insurance` (spaced 3-3-3 is also a French SIREN or a phone).
pub fn ca_sin(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 9 || d[0] == 0 || d[0] == 8 || all_same(&d) || !luhn(&d) {
        return false;
    }
    if !(compact(span) || formatted(span, &[3, 3, 3], b"- ")) {
        return false;
    }
    if context(before, after, SIN_WORDS) {
        return true;
    }
    formatted(span, &[3, 3, 3], b"-")
        && !reference_before(before)
        && !has_word(before, PHONE_WORDS)
        && !before.trim_end().ends_with('+')
}

// ---------------------------------------------------------------------------------------------
// India
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const AADHAAR_WORDS: &[&str] = &["aadhaar", "aadhar", "adhaar", "uidai", "uid", "\u{906}\u{927}\u{93e}\u{930}"];

/// Aadhaar (UIDAI): twelve digits, first 2-9, Verhoeff check digit. Grouped `2345 6789 0123`
/// on its own (not inside a longer run of groups such as a card number); bare only next to
/// `Aadhaar`/`UID`.
pub fn in_aadhaar(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 12 || d[0] < 2 || all_same(&d) || !verhoeff(&d) {
        return false;
    }
    if formatted(span, &[4, 4, 4], b" -") {
        standalone(before, after) && !reference_before(before)
    } else {
        compact(span) && context(before, after, AADHAAR_WORDS)
    }
}

/// PAN (Income Tax Department): five letters, four digits (not 0000), one letter; the fourth
/// letter is the holder type (A B C F G H J L P T, K for trust "Krish").
pub fn in_pan(span: &str, before: &str, _after: &str) -> bool {
    let b = span.as_bytes();
    b.len() == 10
        && b[..5].iter().all(u8::is_ascii_uppercase)
        && b[5..9].iter().all(u8::is_ascii_digit)
        && b[9].is_ascii_uppercase()
        && b"ABCFGHJLPTK".contains(&b[3])
        && &b[5..9] != b"0000"
        && !all_same(&b[..5])
        && !reference_before(before)
}

// ---------------------------------------------------------------------------------------------
// Germany
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const STEUER_WORDS: &[&str] = &[
    "steuer", "idnr", "id-nr", "identifikationsnummer", "identifikationsnr", "tax id", "tax-id", "taxid", "tin",
    "tax identification",
];

/// Steuerliche Identifikationsnummer (BZSt, § 139b AO): eleven digits, first not 0; in the
/// first ten one digit occurs twice or three times (three times never all adjacent) and
/// every other digit at most once; ISO 7064 MOD 11,10 check digit. Always next to its name.
pub fn de_steuer_id(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 11 || d[0] == 0 || !(compact(span) || formatted(span, &[2, 3, 3, 3], b" ")) {
        return false;
    }
    let mut count = [0u8; 10];
    for &x in &d[..10] {
        count[x as usize] += 1;
    }
    let repeated: Vec<usize> = (0..10).filter(|&i| count[i] > 1).collect();
    let rule_ok = match repeated.as_slice() {
        [r] if count[*r] == 2 => true,
        [r] if count[*r] == 3 => !d[..10].windows(3).any(|w| w.iter().all(|&x| x as usize == *r)),
        _ => false,
    };
    // Alone as a value, only in its printed grouping (`39 452 863 018`): eleven bare
    // digits are as often a phone number or an account.
    rule_ok
        && iso7064_mod11_10(&d)
        && (context(before, after, STEUER_WORDS) || (alone(before, after) && !compact(span)))
}

/// Krankenversichertennummer (§ 290 SGB V): a letter and nine digits, the last a check
/// digit: the letter as 01-26, then the first eight digits, weights 1,2,1,2..., digit sums,
/// mod 10. Only next to its name: a letter and nine digits is also an invoice number.
pub fn de_kvnr(span: &str, before: &str, after: &str) -> bool {
    let b = span.as_bytes();
    if b.len() != 10 || !b[0].is_ascii_uppercase() || !b[1..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let letter = b[0] - b'A' + 1;
    let mut digits = vec![letter / 10, letter % 10];
    digits.extend(b[1..9].iter().map(|c| c - b'0'));
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let p = u32::from(d) * if i % 2 == 0 { 1 } else { 2 };
            p / 10 + p % 10
        })
        .sum();
    sum % 10 == u32::from(b[9] - b'0') && context(before, after, KVNR_WORDS)
}

#[rustfmt::skip]
const KVNR_WORDS: &[&str] = &["kvnr", "versichertennummer", "versicherten", "krankenversicher", "krankenkasse", "gesundheitskarte", "egk"];

// ---------------------------------------------------------------------------------------------
// France
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const NIR_WORDS: &[&str] = &[
    "s\u{e9}curit\u{e9} sociale", "securite sociale", "s\u{e9}cu", "secu", "nir", "insee", "social security",
    "ssn", "carte vitale", "n\u{b0} ss", "no ss", "num\u{e9}ro ss",
];

/// NIR / numéro de sécurité sociale (INSEE): sex 1-4/7/8, year, month (01-12, 20-99 for
/// unknown or special), department (digits, 2A, 2B), commune, order, and the key
/// `97 - (first 13 digits mod 97)` (Corsica: 2A counts as 19, 2B as 18).
/// Spaced `1 84 12 76 451 089 46` on its own; fifteen bare characters only next to its name.
pub fn fr_nir(span: &str, before: &str, after: &str) -> bool {
    let c: Vec<u8> = span.bytes().filter(|b| *b != b' ').map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 15 {
        return false;
    }
    let dept = &c[5..7];
    let corsica = matches!(dept, b"2A" | b"2B");
    if !(c[..5].iter().chain(&c[7..]).all(u8::is_ascii_digit) && (corsica || dept.iter().all(u8::is_ascii_digit))) {
        return false;
    }
    let v = |s: &[u8]| s.iter().fold(0u64, |a, &x| a * 10 + (x - b'0') as u64);
    if !matches!(c[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return false;
    }
    let month = v(&c[3..5]);
    if !(matches!(month, 1..=12) || month >= 20) {
        return false;
    }
    let body: Vec<u8> = match dept {
        b"2A" => [&c[..5], b"19", &c[7..13]].concat(),
        b"2B" => [&c[..5], b"18", &c[7..13]].concat(),
        _ => c[..13].to_vec(),
    };
    if 97 - v(&body) % 97 != v(&c[13..]) {
        return false;
    }
    if formatted(span, &[1, 2, 2, 2, 3, 3, 2], b" ") {
        !reference_before(before)
    } else {
        compact(span) && context(before, after, NIR_WORDS)
    }
}

// ---------------------------------------------------------------------------------------------
// Spain
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn dni_letter_ok(n: u64, letter: u8) -> bool {
    DNI_LETTERS[(n % 23) as usize] == letter.to_ascii_uppercase()
}

/// Spanish DNI (Ministerio del Interior): eight digits and the letter `TRWAGMYFPDXBNJZSQVHLCKE`
/// indexed by the number mod 23 (`12345678Z`, also `12345678-Z`).
pub fn es_dni(span: &str, before: &str, _after: &str) -> bool {
    let d = digits(span);
    let Some(&letter) = span.as_bytes().last() else { return false };
    d.len() == 8 && !all_same(&d) && dni_letter_ok(number(&d), letter) && !reference_before(before)
}

/// Spanish NIE: X, Y or Z (standing for 0, 1, 2), seven digits and the DNI check letter.
pub fn es_nie(span: &str, before: &str, _after: &str) -> bool {
    let b = span.as_bytes();
    let lead = match b.first().map(u8::to_ascii_uppercase) {
        Some(b'X') => 0,
        Some(b'Y') => 1,
        Some(b'Z') => 2,
        _ => return false,
    };
    let d = digits(span);
    let Some(&letter) = b.last() else { return false };
    d.len() == 7 && !all_same(&d) && dni_letter_ok(lead * 10_000_000 + number(&d), letter) && !reference_before(before)
}

// ---------------------------------------------------------------------------------------------
// Italy
// ---------------------------------------------------------------------------------------------

/// Codice fiscale (DM 23/12/1976, Agenzia delle Entrate): 6 letters, year, month letter,
/// day (41-71 for women), Belfiore code, check letter; digits may be replaced by
/// `LMNPQRSTUV` (omocodia).
pub fn it_codice_fiscale(span: &str, before: &str, _after: &str) -> bool {
    let upper = span.bytes().all(|b| !b.is_ascii_lowercase());
    let lower = span.bytes().all(|b| !b.is_ascii_uppercase());
    if !(upper || lower) {
        return false;
    }
    let c: Vec<u8> = span.bytes().map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 16 || !c.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    #[rustfmt::skip]
    const OMO: &[u8] = b"LMNPQRSTUV";
    let digit_at = |i: usize| -> Option<u32> {
        let x = c[i];
        if x.is_ascii_digit() {
            Some((x - b'0') as u32)
        } else {
            OMO.iter().position(|&o| o == x).map(|p| p as u32)
        }
    };
    if !c[..6].iter().all(u8::is_ascii_uppercase) || !c[11].is_ascii_uppercase() || !c[15].is_ascii_uppercase() {
        return false;
    }
    let nums: Option<Vec<u32>> = [6, 7, 9, 10, 12, 13, 14].iter().map(|&i| digit_at(i)).collect();
    let Some(n) = nums else { return false };
    let Some(month) = b"ABCDEHLMPRST".iter().position(|&m| m == c[8]) else { return false };
    let day = n[2] * 10 + n[3];
    let day = if day > 40 { day - 40 } else { day };
    // Two-digit year: 20YY has the same leap years as 19YY except 1900, which is rare enough.
    if !valid_date(2000 + n[0] * 10 + n[1], month as u32 + 1, day) {
        return false;
    }
    const ODD: [u32; 36] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23, // A-Z
    ];
    let value = |x: u8| -> usize {
        if x.is_ascii_digit() {
            (x - b'0') as usize
        } else {
            (x - b'A') as usize + 10
        }
    };
    let sum: u32 = c[..15]
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let v = value(x);
            // Positions are counted from 1: odd positions use the conversion table.
            if i % 2 == 0 {
                ODD[v]
            } else if v >= 10 {
                (v - 10) as u32
            } else {
                v as u32
            }
        })
        .sum();
    (b'A' + (sum % 26) as u8) == c[15] && !reference_before(before)
}

// ---------------------------------------------------------------------------------------------
// Brazil
// ---------------------------------------------------------------------------------------------

fn mod11_dv(d: &[u32], weights: &[u32]) -> u32 {
    let r = d.iter().zip(weights).map(|(&x, &w)| x * w).sum::<u32>() % 11;
    if r < 2 {
        0
    } else {
        11 - r
    }
}

/// CPF (Receita Federal): eleven digits, two mod-11 check digits, not all the same digit.
/// Formatted `123.456.789-09` on its own; bare only next to `CPF`.
pub fn br_cpf(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 11 || all_same(&d) {
        return false;
    }
    let w1: Vec<u32> = (2..=10).rev().collect();
    let w2: Vec<u32> = (2..=11).rev().collect();
    if mod11_dv(&d[..9], &w1) != d[9] || mod11_dv(&d[..10], &w2) != d[10] {
        return false;
    }
    let b = span.as_bytes();
    let dotted = b.len() == 14 && b[3] == b'.' && b[7] == b'.' && b[11] == b'-';
    if dotted {
        !reference_before(before)
    } else {
        compact(span) && context(before, after, &["cpf"])
    }
}

/// CNPJ (Receita Federal): fourteen digits, two mod-11 check digits (weights 5..2,9..2 and
/// 6..2,9..2). Formatted `12.345.678/0001-95` on its own; bare only next to `CNPJ`.
pub fn br_cnpj(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 14 || all_same(&d[..12]) {
        return false;
    }
    const W1: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    const W2: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    if mod11_dv(&d[..12], &W1) != d[12] || mod11_dv(&d[..13], &W2) != d[13] {
        return false;
    }
    let b = span.as_bytes();
    let dotted = b.len() == 18 && b[2] == b'.' && b[6] == b'.' && b[10] == b'/' && b[15] == b'-';
    if dotted {
        !reference_before(before)
    } else {
        compact(span) && context(before, after, &["cnpj"])
    }
}

// ---------------------------------------------------------------------------------------------
// Australia
// ---------------------------------------------------------------------------------------------

/// Tax File Number (ATO): nine digits with weights 1 4 3 7 5 8 6 9 10 (or eight with
/// 10 7 8 4 6 3 5 1) summing to a multiple of 11. Always next to `TFN`/`tax file number`.
pub fn au_tfn(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    let weights: &[u32] = match d.len() {
        9 => &[1, 4, 3, 7, 5, 8, 6, 9, 10],
        8 => &[10, 7, 8, 4, 6, 3, 5, 1],
        _ => return false,
    };
    let layout_ok = compact(span) || formatted(span, &[3, 3, 3], b" -") || formatted(span, &[3, 3, 2], b" -");
    let sum: u32 = d.iter().zip(weights).map(|(&x, &w)| x * w).sum();
    layout_ok && !all_same(&d) && sum % 11 == 0 && context(before, after, &["tfn", "tax file"])
}

/// Medicare card number (Services Australia): ten digits, first 2-6, the ninth a check
/// digit (weights 1 3 7 9 1 3 7 9, mod 10), the tenth the issue number; an individual
/// reference number may follow. Always next to `Medicare`.
pub fn au_medicare(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if !(d.len() == 10 || d.len() == 11) || !(2..=6).contains(&d[0]) {
        return false;
    }
    const W: [u32; 8] = [1, 3, 7, 9, 1, 3, 7, 9];
    let sum: u32 = d[..8].iter().zip(W).map(|(&x, w)| x * w).sum();
    sum % 10 == d[8] && context(before, after, &["medicare"])
}

// ---------------------------------------------------------------------------------------------
// Netherlands, Belgium, Poland, Sweden
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const BSN_WORDS: &[&str] = &["bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "sofi", "citizen service number"];

/// Burgerservicenummer (Wet algemene bepalingen BSN): nine digits passing the "11-proof"
/// (weights 9..2 and -1). Always next to `BSN`.
pub fn nl_bsn(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 9 || all_same(&d) {
        return false;
    }
    let layout_ok = compact(span) || formatted(span, &[4, 2, 3], b".") || formatted(span, &[3, 3, 3], b" .-");
    let sum: i64 = d[..8].iter().zip((2..=9).rev()).map(|(&x, w)| (x * w) as i64).sum::<i64>() - d[8] as i64;
    layout_ok && sum % 11 == 0 && context(before, after, BSN_WORDS)
}

#[rustfmt::skip]
const BE_WORDS: &[&str] = &[
    "rijksregister", "national number", "national register", "num\u{e9}ro national", "numero national",
    "registre national", "insz", "niss", "rrn", "identificatienummer", "nn",
];

/// Belgian national register number (Rijksregister): `YY.MM.DD-SSS.CC`, the check
/// `97 - (YYMMDDSSS mod 97)`, with a 2 prefixed for people born from 2000; the month may
/// carry +20/+40 (bis numbers). Formatted on its own; bare only next to its name.
pub fn be_national_number(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 11 {
        return false;
    }
    let month = (d[2] * 10 + d[3]) % 20;
    let day = d[4] * 10 + d[5];
    if month > 12 || day > 31 {
        return false;
    }
    let body = number(&d[..9]);
    let check = number(&d[9..]);
    // Born from 2000: the check is computed over 2YYMMDDSSS (years up to 2035 are taken so).
    let born_2000s = d[0] * 10 + d[1] <= 35 && 97 - (2_000_000_000 + body) % 97 == check;
    if 97 - body % 97 != check && !born_2000s {
        return false;
    }
    let b = span.as_bytes();
    let dotted = b.len() == 15 && b[2] == b'.' && b[5] == b'.' && b[8] == b'-' && b[12] == b'.';
    if dotted {
        !reference_before(before)
    } else {
        compact(span) && context(before, after, BE_WORDS)
    }
}

/// PESEL (Polish civil registry): YYMMDD with the century in the month (+80 1800s, +0,
/// +20, +40, +60), serial, and a check digit over weights 1 3 7 9 1 3 7 9 1 3.
/// Always next to `PESEL`.
pub fn pl_pesel(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 11 || !compact(span) || all_same(&d) {
        return false;
    }
    const W: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let sum: u32 = d[..10].iter().zip(W).map(|(&x, w)| x * w).sum();
    if (10 - sum % 10) % 10 != d[10] {
        return false;
    }
    let mm = d[2] * 10 + d[3];
    let (century, month) = match mm {
        81..=92 => (1800, mm - 80),
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        41..=52 => (2100, mm - 40),
        61..=72 => (2200, mm - 60),
        _ => return false,
    };
    valid_date(century + d[0] * 10 + d[1], month, d[4] * 10 + d[5]) && context(before, after, &["pesel"])
}

#[rustfmt::skip]
const SE_WORDS: &[&str] = &[
    "personnummer", "personnr", "pnr", "samordningsnummer", "person number", "personal identity number",
    "personal number", "swedish id",
];

/// Swedish personnummer (Skatteverket SKV 704): `YYMMDD-NNNC` (`+` from age 100), or with
/// the century; Luhn over the ten digits YYMMDDNNNC; day + 60 for samordningsnummer.
/// Always next to its name (`YYMMDD-NNNN` is also a build stamp).
pub fn se_personnummer(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    let (ten, year) = match d.len() {
        10 => (&d[..], 2000 + d[0] * 10 + d[1]),
        12 => (&d[2..], d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]),
        _ => return false,
    };
    if d.len() == 12 && !(18..=20).contains(&(d[0] * 10 + d[1])) {
        return false;
    }
    let layout_ok = compact(span) || formatted(span, &[6, 4], b"-+") || formatted(span, &[8, 4], b"-+");
    let day = ten[4] * 10 + ten[5];
    let day = if day > 60 { day - 60 } else { day };
    layout_ok && valid_date(year, ten[2] * 10 + ten[3], day) && luhn(ten) && context(before, after, SE_WORDS)
}

// ---------------------------------------------------------------------------------------------
// Mexico, South Africa, China
// ---------------------------------------------------------------------------------------------

/// CURP (RENAPO): 4 letters, birth date YYMMDD, sex H/M/X, state code, 3 consonants, a
/// homoclave (digit before 2000, letter after) and a check digit over
/// `0-9 A-N & O-Z` with weights 18..2.
pub fn mx_curp(span: &str, before: &str, _after: &str) -> bool {
    let c = span.as_bytes();
    if c.len() != 18 || !c.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return false;
    }
    if !c[..4].iter().all(u8::is_ascii_uppercase) || !b"AEIOUX".contains(&c[1]) {
        return false;
    }
    #[rustfmt::skip]
    const STATES: &[&[u8]] = &[
        b"AS", b"BC", b"BS", b"CC", b"CH", b"CL", b"CM", b"CS", b"DF", b"DG", b"GR", b"GT", b"HG", b"JC", b"MC",
        b"MN", b"MS", b"NE", b"NL", b"NT", b"OC", b"PL", b"QR", b"QT", b"SL", b"SP", b"SR", b"TC", b"TL", b"TS",
        b"VZ", b"YN", b"ZS",
    ];
    let dd = |i: usize| -> Option<u32> {
        (c[i].is_ascii_digit() && c[i + 1].is_ascii_digit()).then(|| ((c[i] - b'0') * 10 + (c[i + 1] - b'0')) as u32)
    };
    let (Some(yy), Some(mm), Some(day)) = (dd(4), dd(6), dd(8)) else { return false };
    let century = if c[16].is_ascii_digit() { 1900 } else { 2000 };
    if !valid_date(century + yy, mm, day) || !b"HMX".contains(&c[10]) || !STATES.contains(&&c[11..13]) {
        return false;
    }
    if !c[13..16].iter().all(|b| b.is_ascii_uppercase() && !b"AEIOU".contains(b)) || !c[17].is_ascii_digit() {
        return false;
    }
    #[rustfmt::skip]
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ";
    let sum: usize =
        c[..17].iter().enumerate().map(|(i, x)| ALPHABET.iter().position(|a| a == x).unwrap_or(0) * (18 - i)).sum();
    ((10 - sum % 10) % 10) as u8 == c[17] - b'0' && !reference_before(before)
}

#[rustfmt::skip]
const ZA_WORDS: &[&str] = &[
    "identity number", "id number", "id no", "identity no", "south africa", "rsa", "sa id", "identity document",
];

/// South African identity number (Department of Home Affairs): YYMMDD, four serial
/// digits (gender), citizenship 0/1/2, one digit, Luhn check digit. Always next to
/// `ID number`/`identity number` (thirteen digits are also barcodes and epochs).
pub fn za_id(span: &str, before: &str, after: &str) -> bool {
    let d = digits(span);
    if d.len() != 13 || !(compact(span) || formatted(span, &[6, 4, 3], b" -")) || d[10] > 2 {
        return false;
    }
    valid_date(2000 + d[0] * 10 + d[1], d[2] * 10 + d[3], d[4] * 10 + d[5])
        && luhn(&d)
        && context(before, after, ZA_WORDS)
}

/// Resident identity card number (GB 11643-1999): a six-digit region code (a province
/// code first), birth date YYYYMMDD, a three-digit sequence and an ISO 7064 MOD 11-2 check
/// character (0-9 or X).
pub fn cn_resident_id(span: &str, before: &str, _after: &str) -> bool {
    let c = span.as_bytes();
    if c.len() != 18 || !c[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: Vec<u32> = c[..17].iter().map(|b| (b - b'0') as u32).collect();
    #[rustfmt::skip]
    const PROVINCES: &[u32] = &[
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61,
        62, 63, 64, 65, 71, 81, 82, 83,
    ];
    if !PROVINCES.contains(&(d[0] * 10 + d[1])) {
        return false;
    }
    let year = number(&d[6..10]) as u32;
    if !(1900..=2099).contains(&year) || !valid_date(year, d[10] * 10 + d[11], d[12] * 10 + d[13]) {
        return false;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = d.iter().zip(W).map(|(&x, w)| x * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    check == c[17].to_ascii_uppercase() && !reference_before(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(f: fn(&str, &str, &str) -> bool, span: &str, before: &str) -> bool {
        f(span, before, "")
    }

    #[test]
    fn checksums() {
        assert!(luhn(&digits("130692544")));
        assert!(!luhn(&digits("130692545")));
        assert!(verhoeff(&digits("2363")));
        assert!(!verhoeff(&digits("2364")));
        // python-stdnum verhoeff: 748485069506 valid, 778847287639 not.
        assert!(verhoeff(&digits("748485069506")));
        assert!(!verhoeff(&digits("778847287639")));
        assert!(iso7064_mod11_10(&digits("36574261809")));
        assert!(!iso7064_mod11_10(&digits("36574261808")));
    }

    #[test]
    fn context_words_are_words() {
        assert!(has_word("my SIN: ", SIN_WORDS));
        assert!(!has_word("using the business ", SIN_WORDS));
        assert!(has_word("Steuer-IdNr. ", STEUER_WORDS));
        assert!(has_word("order #", &["order"]));
        assert!(reference_before("order #"));
        assert!(reference_before("Invoice no. "));
        assert!(reference_before("\"order_id\": \""));
        assert!(!reference_before("SSN "));
        assert!(!reference_before("customer Alice, number "));
    }

    #[test]
    fn itin_and_ein() {
        assert!(ok(us_itin, "912-78-1234", "ITIN "));
        assert!(ok(us_itin, "900-70-0000".replace("0000", "0001").as_str(), ""));
        assert!(!ok(us_itin, "912-89-1234", "ITIN ")); // group 89 not issued
        assert!(!ok(us_itin, "912-45-1234", "")); // group 45 not an ITIN
        assert!(!ok(us_itin, "912781234", "ref ")); // bare needs its name
        assert!(ok(us_itin, "912781234", "ITIN: "));
        assert!(ok(us_ein, "12-3456789", "EIN: "));
        assert!(!ok(us_ein, "07-3456789", "EIN: ")); // prefix 07 never assigned
        assert!(!ok(us_ein, "12-3456789", "ticket "));
    }

    #[test]
    fn nino_and_nhs() {
        assert!(ok(uk_nino, "AB 12 34 56 C", ""));
        assert!(ok(uk_nino, "AB123456C", "NI number: "));
        assert!(!ok(uk_nino, "AB123456C", "part "));
        assert!(!ok(uk_nino, "QQ 12 34 56 C", "")); // HMRC's example prefix is never issued
        assert!(!ok(uk_nino, "GB 12 34 56 A", ""));
        assert!(!ok(uk_nino, "AO 12 34 56 A", ""));
        assert!(!ok(uk_nino, "AB 12 34 56 E", ""));
        // python-stdnum gb.nhs: 9434765919 valid, 9434765918 not.
        assert!(ok(uk_nhs, "943 476 5919", "NHS number "));
        assert!(ok(uk_nhs, "9434765919", "nhs_no="));
        assert!(!ok(uk_nhs, "943 476 5918", "NHS number "));
        assert!(!ok(uk_nhs, "943 476 5919", "call ")); // 3-3-4 is a phone number too
    }

    #[test]
    fn sin() {
        // python-stdnum ca.sin: 130692544 and 546763459 valid.
        assert!(ok(ca_sin, "130-692-544", ""));
        assert!(ok(ca_sin, "546 763 459", "SIN "));
        assert!(ok(ca_sin, "130692544", "social insurance number "));
        assert!(!ok(ca_sin, "546 763 459", "")); // spaced: also a SIREN or a phone
        assert!(!ok(ca_sin, "130-692-545", "SIN "));
        assert!(!ok(ca_sin, "046-454-286", "SIN ")); // 0 never starts a SIN
        assert!(!ok(ca_sin, "130-692-544", "phone "));
        assert!(!ok(ca_sin, "130-692-544", "order #"));
    }

    #[test]
    fn aadhaar_and_pan() {
        // Verhoeff-valid numbers generated with python-stdnum (in_.aadhaar).
        assert!(in_aadhaar("2345 6789 0124", "", " on file"));
        assert!(!in_aadhaar("2345 6789 0123", "", ""));
        assert!(!in_aadhaar("1234 5678 9012", "", "")); // first digit 2-9
        assert!(!in_aadhaar("2345 6789 0124", "4111 ", "")); // inside a longer run
        assert!(!in_aadhaar("234567890124", "", "")); // bare needs context
        assert!(in_aadhaar("234567890124", "aadhaar_no: ", ""));
        assert!(ok(in_pan, "ABCPE1234F", ""));
        assert!(!ok(in_pan, "ABCDE1234F", "")); // D is no holder type
        assert!(!ok(in_pan, "ABCPE0000F", ""));
    }

    #[test]
    fn steuer_id() {
        assert!(de_steuer_id("36574261809", "Steuer-IdNr. ", ""));
        assert!(de_steuer_id("36 574 261 809", "Steueridentifikationsnummer: ", ""));
        assert!(!de_steuer_id("36574261808", "Steuer-IdNr. ", "")); // check digit
        assert!(!de_steuer_id("36574261809", "call ", "")); // needs its name
        assert!(!de_steuer_id("12345678903", "IdNr ", "")); // no digit repeated
    }

    #[test]
    fn nir() {
        assert!(fr_nir("2 95 10 99 126 111 93", "", ""));
        assert!(fr_nir("295109912611193", "num\u{e9}ro de s\u{e9}curit\u{e9} sociale ", ""));
        assert!(fr_nir("2 53 07 2B 073 004 70", "", "")); // Corsica
        assert!(fr_nir("253072A07300443", "NIR ", ""));
        assert!(!fr_nir("2 95 10 99 126 111 94", "", ""));
        assert!(!fr_nir("295109912611193", "ref ", ""));
        assert!(!fr_nir("5 95 10 99 126 111 93", "", ""));
    }

    #[test]
    fn dni_nie_cf() {
        assert!(ok(es_dni, "12345678Z", ""));
        assert!(ok(es_dni, "12345678-z", ""));
        assert!(!ok(es_dni, "12345678A", ""));
        assert!(!ok(es_dni, "12345678Z", "order "));
        assert!(ok(es_nie, "X1234567L", ""));
        assert!(ok(es_nie, "Y1234567X", ""));
        assert!(!ok(es_nie, "X1234567A", ""));
        assert!(ok(it_codice_fiscale, "RSSMRA85T10A562S", ""));
        assert!(ok(it_codice_fiscale, "RSSMRA85T10A56NH", "")); // omocodia
        assert!(!ok(it_codice_fiscale, "RSSMRA85T10A562T", ""));
        assert!(!ok(it_codice_fiscale, "RSSMRA85T32A562S", "")); // day 32
        assert!(!ok(it_codice_fiscale, "RssMRA85T10A562S", ""));
    }

    #[test]
    fn cpf_cnpj() {
        assert!(br_cpf("123.456.789-09", "", ""));
        assert!(!br_cpf("123.456.789-08", "", ""));
        assert!(!br_cpf("111.111.111-11", "", ""));
        assert!(!br_cpf("12345678909", "", ""));
        assert!(br_cpf("12345678909", "CPF: ", ""));
        assert!(br_cnpj("11.222.333/0001-81", "", ""));
        assert!(!br_cnpj("11.222.333/0001-82", "", ""));
        assert!(br_cnpj("11222333000181", "cnpj=", ""));
        assert!(!br_cnpj("11222333000181", "", ""));
    }

    #[test]
    fn australia() {
        assert!(au_tfn("123 456 782", "TFN ", ""));
        assert!(!au_tfn("123 456 783", "TFN ", ""));
        assert!(!au_tfn("123 456 782", "", ""));
        assert!(au_medicare("2123 45670 1", "Medicare card ", ""));
        assert!(!au_medicare("2123 45671 1", "Medicare card ", ""));
        assert!(!au_medicare("7123 45670 1", "Medicare card ", ""));
    }

    #[test]
    fn more_countries() {
        assert!(nl_bsn("111222333", "BSN ", ""));
        assert!(!nl_bsn("111222334", "BSN ", ""));
        assert!(!nl_bsn("111222333", "", ""));
        assert!(be_national_number("85.07.30-033.28", "", ""));
        assert!(!be_national_number("85.07.30-033.29", "", ""));
        assert!(be_national_number("17.07.30-033.84", "", "")); // born 2017
        assert!(pl_pesel("44051401359", "PESEL ", ""));
        assert!(!pl_pesel("44051401358", "PESEL ", ""));
        assert!(se_personnummer("811218-9876", "personnummer ", ""));
        assert!(!se_personnummer("811218-9877", "personnummer ", ""));
        assert!(!se_personnummer("811218-9876", "build ", ""));
        assert!(mx_curp("HEGG560427MVZRRL04", "", ""));
        assert!(!mx_curp("HEGG560427MVZRRL05", "", ""));
        assert!(za_id("8001015009087", "ID number ", ""));
        assert!(!za_id("8001015009088", "ID number ", ""));
        assert!(cn_resident_id("11010519491231002X", "", ""));
        assert!(!cn_resident_id("110105194912310021", "", ""));
    }
}
