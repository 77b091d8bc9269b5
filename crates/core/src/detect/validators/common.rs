//! The engine's own validators: card numbers, SSNs, IBANs, IP addresses, phone digit counts,
//! and the shape checks (randomness, credential-likeness, code references) many rules share.
//!
//! Each is `fn(span, before, after) -> bool`; `before` and `after` are at most 64 bytes of
//! the text around the span, so a validator's work is bounded by the span it confirms.

use std::collections::HashSet;

use base64::Engine as _;

fn digits(s: &str) -> Vec<u8> {
    s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect()
}

fn all_same(d: &[u8]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

/// The Luhn checksum over digit values (0-9).
pub fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = x as u32;
            match (i % 2 == 1, x * 2) {
                (true, y) if y > 9 => y - 9,
                (true, y) => y,
                (false, _) => x,
            }
        })
        .sum();
    sum % 10 == 0
}

/// A payment card number: 13-19 digits, Luhn-valid, a known brand prefix for its length,
/// separators (if any) all the same and in a card's grouping. Also used on N values.
pub fn is_card_number(s: &str) -> bool {
    let d = digits(s);
    if !(13..=19).contains(&d.len()) || all_same(&d) || !luhn(&d) {
        return false;
    }
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    if let Some(&first) = seps.first() {
        if seps.iter().any(|&c| c != first) {
            return false;
        }
        let groups: Vec<usize> = s.split(first).map(str::len).collect();
        let ok = match groups.as_slice() {
            [4, 6, 5] | [4, 6, 4] => true,
            [init @ .., last] => init.iter().all(|&g| g == 4) && (1..=4).contains(last),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    let n = |k: usize| -> u32 { d[..k].iter().fold(0u32, |a, &x| a * 10 + x as u32) };
    let len = d.len();
    match d[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => (51..=55).contains(&n(2)) && len == 16,
        2 => (2221..=2720).contains(&n(4)) && len == 16,
        3 => {
            (matches!(n(2), 34 | 37) && len == 15)
                || ((3528..=3589).contains(&n(4)) && (16..=19).contains(&len))
                || ((matches!(n(2), 36 | 38 | 39) || (300..=305).contains(&n(3))) && (14..=19).contains(&len))
        }
        6 => (n(4) == 6011 || n(2) == 65 || (644..=649).contains(&n(3)) || n(2) == 62) && (16..=19).contains(&len),
        _ => false,
    }
}

/// A payment card number: Luhn, a brand prefix for the length, consistent grouping; not a
/// card brand's or payment provider's published test number (a test fixture, public, never
/// issued); not glued to letters (`DE51 4807 ...` is an IBAN's tail).
pub fn card(span: &str, before: &str, _after: &str) -> bool {
    is_card_number(span) && !is_test_card(span) && !before.ends_with(|c: char| c.is_ascii_alphabetic())
}

/// Test card numbers published by card brands and payment providers for integration tests
/// (Stripe, Braintree, Adyen, PayPal, Visa and Mastercard developer documentation).
pub fn is_test_card(s: &str) -> bool {
    const TEST: &[&str] = &[
        "4242424242424242",
        "4000056655665556",
        "4111111111111111",
        "4012888888881881",
        "4222222222222",
        "4000000000000002",
        "4000000000009995",
        "4000002500003155",
        "4000000000000077",
        "4000000000003220",
        "5555555555554444",
        "2223003122003222",
        "5200828282828210",
        "5105105105105100",
        "5454545454545454",
        "5500000000000004",
        "2221000000000009",
        "378282246310005",
        "371449635398431",
        "378734493671000",
        "6011111111111117",
        "6011000990139424",
        "6011000000000004",
        "3056930009020004",
        "36227206271667",
        "30569309025904",
        "38520000023237",
        "3566002020360505",
        "3530111333300000",
        "6200000000000005",
        "6250941006528599",
    ];
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    TEST.contains(&d.as_str())
}

pub fn is_ssn(s: &str) -> bool {
    let d = digits(s);
    if d.len() != 9 {
        return false;
    }
    let area = d[0] as u32 * 100 + d[1] as u32 * 10 + d[2] as u32;
    let group = d[3] * 10 + d[4];
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + x as u32);
    // 078-05-1120 (printed on a wallet insert in 1938) and 219-09-9999 (an SSA
    // advertisement) are the numbers documentation uses; the SSA voided both.
    // 123-45-6789 is the placeholder every form and tutorial shows.
    let example = matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999) | (123, 45, 6789));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !example
}

pub fn ssn(span: &str, _before: &str, _after: &str) -> bool {
    is_ssn(span)
}

fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "AD" => 24,
        "AE" => 23,
        "AL" => 28,
        "AT" => 20,
        "AZ" => 28,
        "BA" => 20,
        "BE" => 16,
        "BG" => 22,
        "BH" => 22,
        "BR" => 29,
        "CH" => 21,
        "CR" => 22,
        "CY" => 28,
        "CZ" => 24,
        "DE" => 22,
        "DK" => 18,
        "DO" => 28,
        "EE" => 20,
        "EG" => 29,
        "ES" => 24,
        "FI" => 18,
        "FO" => 18,
        "FR" => 27,
        "GB" => 22,
        "GE" => 22,
        "GI" => 23,
        "GL" => 18,
        "GR" => 27,
        "GT" => 28,
        "HR" => 21,
        "HU" => 28,
        "IE" => 22,
        "IL" => 23,
        "IS" => 26,
        "IT" => 27,
        "JO" => 30,
        "KW" => 30,
        "KZ" => 20,
        "LB" => 28,
        "LI" => 21,
        "LT" => 20,
        "LU" => 20,
        "LV" => 21,
        "MC" => 27,
        "MD" => 24,
        "ME" => 22,
        "MK" => 19,
        "MR" => 27,
        "MT" => 31,
        "MU" => 30,
        "NL" => 18,
        "NO" => 15,
        "PK" => 24,
        "PL" => 28,
        "PS" => 29,
        "PT" => 25,
        "QA" => 29,
        "RO" => 24,
        "RS" => 22,
        "SA" => 24,
        "SE" => 24,
        "SI" => 19,
        "SK" => 24,
        "SM" => 27,
        "TN" => 24,
        "TR" => 26,
        "UA" => 29,
        "VG" => 24,
        "XK" => 20,
        _ => return None,
    })
}

pub fn is_iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.is_ascii() || compact.len() < 4 {
        return false;
    }
    let Some(len) = iban_length(&compact[..2]) else {
        return false;
    };
    if compact.len() != len {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let Some(v) = c.to_digit(36) else { return false };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

/// An IBAN (length for its country, mod 97), not one of the examples the standards and banks
/// publish (ECBS, the SEPA rulebooks, Wikipedia use the same few).
pub fn iban(span: &str, _before: &str, _after: &str) -> bool {
    const EXAMPLES: &[&str] = &[
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "GB29NWBK60161331926819",
        "GB33BUKB20201555555555",
        "FR1420041010050500013M02606",
        "FR7630006000011234567890189",
        "NL91ABNA0417164300",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "BE68539007547034",
        "CH9300762011623852957",
        "AT611904300234573201",
    ];
    let compact: String = span.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    is_iban(span) && !EXAMPLES.contains(&compact.as_str())
}

pub fn ipv4(span: &str, before: &str, after: &str) -> bool {
    let prev = before.chars().next_back();
    // `Chrome/120.0.0.0` is a product version, not an address (`http://10.0.0.1` is).
    let product_version = before.strip_suffix('/').is_some_and(|t| t.ends_with(|c: char| c.is_ascii_alphabetic()));
    // Part of a longer dotted number (`1.2.3.4.5`) is a version or OID, not an address.
    let dotted_tail = after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit());
    let dotted_head = matches!(prev, Some('.') | Some('0'..='9'));
    span.parse::<std::net::Ipv4Addr>().is_ok() && !(dotted_head || dotted_tail || product_version)
}

pub fn ipv6(span: &str, _before: &str, _after: &str) -> bool {
    let groups: Vec<&str> = span.split(':').filter(|g| !g.is_empty()).collect();
    span.parse::<std::net::Ipv6Addr>().is_ok()
        && span.bytes().any(|b| b.is_ascii_digit())
        && (groups.len() >= 3 || groups.iter().any(|g| g.len() >= 3))
}

pub fn phone(span: &str, _before: &str, _after: &str) -> bool {
    let d = digits(span);
    (8..=15).contains(&d.len()) && !all_same(&d)
}

pub fn phone_national(span: &str, _before: &str, _after: &str) -> bool {
    let d = digits(span);
    (9..=11).contains(&d.len()) && !all_same(&d)
}

fn class(c: char) -> u8 {
    if c.is_ascii_lowercase() {
        0
    } else if c.is_ascii_uppercase() {
        1
    } else if c.is_ascii_digit() {
        2
    } else {
        3
    }
}

/// Machine-generated rather than written by a person: long enough, letters and digits
/// mixed, frequent character-class changes, and many distinct characters.
pub fn is_random(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n < 12 {
        return false;
    }
    let has_letter = chars.iter().any(char::is_ascii_alphabetic);
    let has_digit = chars.iter().any(char::is_ascii_digit);
    let changes = chars.windows(2).filter(|w| class(w[0]) != class(w[1])).count();
    let distinct = chars.iter().collect::<HashSet<_>>().len();
    let mixed_case = chars.iter().any(char::is_ascii_uppercase) && chars.iter().any(char::is_ascii_lowercase);
    has_letter && (has_digit || mixed_case) && changes * 5 >= n && distinct * 2 >= n.min(20)
}

pub fn looks_random(span: &str, _before: &str, _after: &str) -> bool {
    is_random(span)
}

pub fn looks_credential(span: &str, _before: &str, _after: &str) -> bool {
    let s = span;
    let l = s.to_ascii_lowercase();
    let placeholder = s.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '-' | '•'))
        || l.starts_with('[')
        || l.starts_with('<')
        || l.starts_with("{{")
        || l.starts_with("${")
        || l.starts_with("%(")
        || matches!(l.as_str(), "null" | "none" | "nil" | "true" | "false" | "undefined" | "redacted");
    if placeholder {
        return false;
    }
    // A word in prose ("required", "click") is not a credential; a credential has a digit,
    // a symbol or mixed case.
    s.chars().any(|c| c.is_ascii_digit())
        || s.chars().any(|c| !c.is_alphanumeric())
        || (s.chars().any(|c| c.is_uppercase())
            && s.chars().skip(1).any(|c| c.is_uppercase())
            && s.chars().any(|c| c.is_lowercase()))
}

pub fn basic_auth(span: &str, _before: &str, _after: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(span)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|s| s.contains(':') && s.len() >= 3 && !s.chars().any(char::is_control))
}

pub fn mixed_case_and_digit(span: &str, _before: &str, _after: &str) -> bool {
    span.bytes().any(|b| b.is_ascii_uppercase())
        && span.bytes().any(|b| b.is_ascii_lowercase())
        && span.bytes().any(|b| b.is_ascii_digit())
}

/// Not a reference to where the secret lives (`os.environ[...]`, `${VAR}`, `settings.X`).
pub fn not_code_reference(span: &str, _before: &str, _after: &str) -> bool {
    // The span stops at quotes and spaces, so a reference ends at its bracket.
    let ident = span.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(span.len());
    let rest = &span[ident..];
    let reference = (ident > 0 && (matches!(rest, "(" | "[" | "()") || (rest.is_empty() && span.contains('.'))))
        || ["${", "{{", "<", "%("].iter().any(|p| span.starts_with(p));
    !reference
}

pub fn has_digit(span: &str, _before: &str, _after: &str) -> bool {
    span.bytes().any(|b| b.is_ascii_digit())
}

/// An email, not the user part of a URL (`https://user@host`: a login, not a mailbox) or an
/// scp-style remote (`git@github.com:org/repo.git`). Looks back at most `before` (64 bytes).
pub fn not_url_userinfo(_span: &str, before: &str, after: &str) -> bool {
    let token_start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let scp_remote = after.starts_with(':') && after[1..].starts_with(|c: char| !c.is_whitespace());
    !before[token_start..].contains("://") && !scp_remote
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators() {
        assert!(is_card_number("4111111111111111"));
        assert!(is_card_number("4111-1111-1111-1111"));
        assert!(!is_card_number("4111-1111 1111-1111"));
        assert!(!is_card_number("4111111111111112"));
        assert!(!is_card_number("1234567812345670")); // Luhn-valid, no brand
        assert!(is_iban("GB82WEST12345698765432"));
        assert!(!is_iban("GB82WEST12345698765433"));
        assert!(is_ssn("536-22-8714") && !is_ssn("666-45-6789") && !is_ssn("900-45-6789") && !is_ssn("123-45-6789"));
        assert!(card("4929 1308 7752 6389", "card ", "") && !card("4242 4242 4242 4242", "card ", ""));
        assert!(!card("51 4807 2748 0233 6543 2", "Note: DE", " failed"));
        assert!(is_random("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(!is_random("engineering-2024"));
        assert!(!is_random("123456789012"));
        assert!(!not_url_userinfo("deploy@git.example.com", "see https://", "/repo.git"));
        assert!(not_url_userinfo("alice@example.com", "mail ", "."));
        assert!(!ipv4("120.0.0.0", "Chrome/", " Safari"));
        assert!(ipv4("10.0.0.1", "http://", "/"));
    }
}
