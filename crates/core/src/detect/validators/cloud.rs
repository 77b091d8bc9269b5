//! Validators for cloud-provider credentials (rules/cloud.toml), std only.
//!
//! Each validator is `fn(span, before, after) -> bool`: `span` is the candidate (the rule's `s`
//! group or its whole match), `before`/`after` at most 64 bytes of the text around it.
//!
//! | name | confirms |
//! |---|---|
//! | `aws_access_key_id` | the 16 characters after the 4-letter prefix are not a placeholder (`AKIAXXXX...`, `AKIA0000...`) |
//! | `aws_secret_access_key` | 40 base64 characters that look random: both cases, a digit or `+`/`/`, not hex, not a placeholder |
//! | `cloudflare_crc32` | `cfk_`/`cfut_`/`cfat_` tokens: the 8 hex characters after the 40 random ones are their CRC32 |
//! | `azure_key_bytes` | standard base64 of exactly 32 or 64 bytes (Azure account and shared access keys), not a placeholder |
//! | `azure_sas_sig` | a SAS `sig=` value: (percent-encoded) base64 of a 32-byte HMAC-SHA256 |
//!
//! The module is self-contained (its own CRC32, base64 and placeholder check) so that it can be
//! compiled and tested on its own.

use super::devtools::{crc32, is_placeholder};

/// Standard base64 with its padding rules (length a multiple of 4, at most two `=` at the end).
fn base64_std_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 4 != 0 {
        return None;
    }
    let body = s.trim_end_matches('=');
    if s.len() - body.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for b in body.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// AWS access key ids (`AKIA`, `ASIA`, `ABIA`, `ACCA` and 16 characters): the 16 characters are
/// not a placeholder (`AKIAXXXXXXXXXXXXXXXX`, `AKIA0000000000000000`) nor AWS's documentation
/// example (`AKIAIOSFODNN7EXAMPLE`).
pub fn aws_access_key_id(span: &str, _before: &str, _after: &str) -> bool {
    span.len() == 20 && span.is_char_boundary(4) && !is_placeholder(&span[4..]) && !aws_documentation_key(span)
}

/// AWS's documentation examples (`AKIAIOSFODNN7EXAMPLE`, `...bPxRfiCYEXAMPLEKEY`) are
/// documentation values, not credentials: AWS never issues a key ending that way.
fn aws_documentation_key(span: &str) -> bool {
    span.ends_with("EXAMPLE") || span.ends_with("EXAMPLEKEY")
}

/// AWS secret access keys: 40 characters of the base64 alphabet that look random. Rejects
/// hex digests (a SHA-1 is 40 hex), words and paths (too few case/digit changes), and
/// placeholders. AWS's documentation key `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` is a documentation value.
pub fn aws_secret_access_key(span: &str, _before: &str, _after: &str) -> bool {
    let b = span.as_bytes();
    if b.len() != 40 || !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/') {
        return false;
    }
    if b.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    let upper = b.iter().any(u8::is_ascii_uppercase);
    let lower = b.iter().any(u8::is_ascii_lowercase);
    let digit_or_symbol = b.iter().any(|c| c.is_ascii_digit() || *c == b'+' || *c == b'/');
    let symbols = b.iter().filter(|c| **c == b'+' || **c == b'/').count();
    // Changes between lower case, upper case and digits, not counting `+` and `/`: a random key
    // has about 25 of them, AWS's documentation key 12, a path of words (`data/Users/Reports`)
    // only a handful.
    let class = |c: u8| match c {
        b'a'..=b'z' => 0,
        b'A'..=b'Z' => 1,
        _ => 2,
    };
    let changes = b
        .windows(2)
        .filter(|w| w[0].is_ascii_alphanumeric() && w[1].is_ascii_alphanumeric() && class(w[0]) != class(w[1]))
        .count();
    upper
        && lower
        && digit_or_symbol
        && symbols <= 6
        && changes >= 10
        && !is_placeholder(span)
        && !aws_documentation_key(span)
}

/// Cloudflare's scannable API credentials: `cfk_`, `cfut_` or `cfat_`, 40 random base62
/// characters, then the CRC32 of those 40 characters as 8 hex digits.
pub fn cloudflare_crc32(span: &str, _before: &str, _after: &str) -> bool {
    let Some(i) = span.find('_') else { return false };
    let body = &span[i + 1..];
    if body.len() != 48 || !body.is_char_boundary(40) {
        return false;
    }
    let (random, check) = body.split_at(40);
    random.bytes().all(|b| b.is_ascii_alphanumeric())
        && check.bytes().all(|b| b.is_ascii_hexdigit())
        && u32::from_str_radix(check, 16).ok() == Some(crc32(random.as_bytes()))
}

/// Azure storage account keys (64 bytes, 88 base64 characters) and shared access keys of
/// Service Bus, Event Hubs, IoT Hub and Relay (32 bytes, 44 characters).
pub fn azure_key_bytes(span: &str, _before: &str, _after: &str) -> bool {
    matches!(base64_std_decode(span), Some(d) if d.len() == 32 || d.len() == 64) && !is_placeholder(span)
}

/// The `sig=` of an Azure SAS token: base64 of a 32-byte HMAC-SHA256, usually percent-encoded
/// (`%2B`, `%2F`, `%3D`).
pub fn azure_sas_sig(span: &str, _before: &str, _after: &str) -> bool {
    let mut decoded = String::with_capacity(span.len());
    let b = span.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let code = span.get(i + 1..i + 3).map(|h| h.to_ascii_uppercase());
            match code.as_deref() {
                Some("2B") => decoded.push('+'),
                Some("2F") => decoded.push('/'),
                Some("3D") => decoded.push('='),
                _ => return false,
            }
            i += 3;
        } else {
            decoded.push(b[i] as char);
            i += 1;
        }
    }
    matches!(base64_std_decode(&decoded), Some(d) if d.len() == 32) && !is_placeholder(&decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn aws_key_ids() {
        assert!(!aws_access_key_id("AKIAIOSFODNN7EXAMPLE", "", ""), "AWS documentation value");
        assert!(aws_access_key_id("ASIAY34FZKBOKMUTVV7A", "", ""));
        assert!(!aws_access_key_id("AKIAXXXXXXXXXXXXXXXX", "", ""));
        assert!(!aws_access_key_id("AKIA0000000000000000", "", ""));
        assert!(!aws_access_key_id("AKIA1234567890ABCDEF", "", ""));
    }

    #[test]
    fn aws_secret_keys() {
        assert!(!aws_secret_access_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", ""), "AWS documentation value");
        assert!(aws_secret_access_key("3Ul4ffqkOkgWrdioyq/KvCiSGuPJ6sG9AHEOVezx", "", ""));
        assert!(!aws_secret_access_key("da39a3ee5e6b4b0d3255bfef95601890afd80709", "", ""));
        assert!(!aws_secret_access_key("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "", ""));
        assert!(!aws_secret_access_key("data/Users/JohnSmith/Documents/Reports/A", "", ""));
        assert!(!aws_secret_access_key("short", "", ""));
    }

    #[test]
    fn cloudflare_checksum() {
        let random = "Q7vLk2Rt9Wx3Yc5Nb8Hd4Fg6Js1Mp0Zq7Av2Bn5C";
        let token = format!("cfut_{random}{:08x}", crc32(random.as_bytes()));
        assert!(cloudflare_crc32(&token, "", ""));
        assert!(!cloudflare_crc32(&format!("cfut_{random}00000000"), "", ""));
        assert!(!cloudflare_crc32("cfut_", "", ""));
    }

    #[test]
    fn azure_keys() {
        let k64 = "zYZAa3u2olZU6uqbgsYlVvsSKuvinX+zMqf9OgXluCZz8xBfZuXTptFyfePpX6N1NF2XV54wca+7E56w8ZniqQ==";
        assert!(azure_key_bytes(k64, "", ""));
        assert!(azure_key_bytes("Xc2h3l0vQm8bZ1yQ0aR5tN4kS7uW9eP2dF6gH8jK1lM=", "", ""));
        assert!(!azure_key_bytes("short", "", ""));
        assert!(!azure_key_bytes("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "", ""));
    }

    #[test]
    fn sas_signatures() {
        assert!(azure_sas_sig("Xc2h3l0vQm8bZ1yQ0aR5tN4kS7uW9eP2dF6gH8jK1lM%3D", "", ""));
        assert!(azure_sas_sig("Xc2h3l0vQm8bZ1yQ0aR5tN4kS7uW9eP2dF6gH8jK1lM=", "", ""));
        assert!(!azure_sas_sig("Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA%3D", "", ""));
        assert!(!azure_sas_sig("abc", "", ""));
        assert!(!azure_sas_sig("Xc2h3l0vQm8bZ1yQ0aR5tN4kS7uW9eP2dF6gH8jK1lM%3", "", ""));
    }

    /// Spans taken from the examples and negative examples of rules/cloud.toml, with what the
    /// validator must answer (generated by the rule author's cross-check script).
    #[test]
    fn rule_file_vectors() {
        for &(name, span, expected) in VECTORS {
            let got = match name {
                "aws_access_key_id" => aws_access_key_id(span, "", ""),
                "aws_secret_access_key" => aws_secret_access_key(span, "", ""),
                "cloudflare_crc32" => cloudflare_crc32(span, "", ""),
                "azure_key_bytes" => azure_key_bytes(span, "", ""),
                "azure_sas_sig" => azure_sas_sig(span, "", ""),
                _ => continue,
            };
            assert_eq!(got, expected, "{name}({span:?})");
        }
    }

    // BEGIN GENERATED VECTORS
    const VECTORS: &[(&str, &str, bool)] = &[
        ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE", false),
        ("aws_access_key_id", "ASIAY34FZKBOKMUTVV7A", true),
        ("aws_access_key_id", "AKIA5F2MOD4FAFLPNLC2", true),
        ("aws_access_key_id", "ASIA7EF6Y6MKO3P4RASC", true),
        ("aws_access_key_id", "AKIAXXXXXXXXXXXXXXXX", false),
        ("aws_access_key_id", "AKIA0000000000000000", false),
        ("aws_secret_access_key", "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", true),
        ("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", false),
        ("aws_secret_access_key", "Zko14ic/3zmgWXluM8XW0gxtzWOM4XB5HsT4WjZ0", true),
        ("aws_secret_access_key", "Tx8q/tLOPDbENS8/q/Wfzu4ShX1vb7SrwDXTQc6G", true),
        ("aws_secret_access_key", "mFHzgU+fK/kTe9Ee/xqxw5cPIdPgCd7h+hiJinnH", true),
        ("aws_secret_access_key", "da39a3ee5e6b4b0d3255bfef95601890afd80709", false),
        ("aws_secret_access_key", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", false),
        ("aws_secret_access_key", "DZkuGn26/GPAY3wIN8v124MGxGQinB25aLm9PzMw", true),
        ("aws_secret_access_key", "WBChCQ/RCvw7K0r83qzG1Qd9Vtz2QD2ppMWcy6fE", true),
        ("aws_secret_access_key", "56EpRv74Zq1f5+qf+QY8GukDlv9ZAer7jRRnLAK1", true),
        (
            "azure_key_bytes",
            "afcswDQkGz2yQjJfWHBbds8MpWUIidflpDiWOuGTQkTKmxJKCrqKOIRG6BrMyKdZwJSFTMsekvpJGTnxGKFWWQ==",
            true,
        ),
        (
            "azure_key_bytes",
            "aGZ+DOA/gwXsgt/PkLRUzpLqd5KqT5Pb9G807AzSsdvaVJscc0+r7cKO8oxc1g1BBs669Lvy1ZD418i0Eg5KVQ==",
            true,
        ),
        (
            "azure_key_bytes",
            "rOUKESO4ZHjoH/tedST91VigT5JTWArl20r1HRd6RZdsawlnTCY9mRZNlwPrv8fvz+hW6xgD1gQK6WGBd54uPQ==",
            true,
        ),
        (
            "azure_key_bytes",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            false,
        ),
        ("azure_key_bytes", "+9GRhvzKtgrC0upKaAMbjOsWMvE+iyPDTVz4eY0eADc=", true),
        ("azure_key_bytes", "SEGmhAr3GFAiK2IIZCsy5yzCWQkBmtF9RTebOeurz0U=", true),
        ("azure_key_bytes", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false),
        ("azure_sas_sig", "zVWlO8%2B%2BBlSfPF0tAo%2BU1qbqpChMwj8y7R6u7YV%2FX%2B0%3D", true),
        ("azure_sas_sig", "psUMkHqOD%2Fr9qlzNJHtyRzh0iqGrnN0WTE0rAmFOgdw%3D", true),
        ("cloudflare_crc32", "cfut_gbAXpM4IEj1sNu7NYizE0MNPCtZM36QtqDzGTp9Cab898c09", true),
        ("cloudflare_crc32", "cfat_2fqEu6f0p8QP3bBngqYMTok6BedZbnaxppjPfxDSc986e7b0", true),
        ("cloudflare_crc32", "cfk_mXfi9XwMxDj7juVonJwXTgBZFifQQZr8HVHGvzLkb9145c95", true),
        ("cloudflare_crc32", "cfut_gbAXpM4IEj1sNu7NYizE0MNPCtZM36QtqDzGTp9Cab898c00", false),
        ("cloudflare_crc32", "cfut_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX00000000", false),
    ];
    // END GENERATED VECTORS
}
