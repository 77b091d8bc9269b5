//! Validators for application/SaaS provider tokens (observability, comms, payments, SaaS
//! rule files). Each is a pure function of the candidate span (and the bounded context
//! around it, unused here), std only.
//!
//! | name | confirms |
//! |---|---|
//! | `hex_random` | the hex digits of the span look machine-generated: both digits and a-f, many distinct, not periodic or sequential (rejects `0123456789abcdef0123…`, `deadbeef…`, all-zero UUIDs) |
//! | `tail_random` | the last `-_./:$`-separated segment of a prefixed token is random-looking (rejects `sk_test_xxxxxxxx…`, `…/XXXXXXXXXXXXXXXXXXXXXXXX`, `…your_token_here`) |
//! | `grafana_crc32` | Grafana service account token `glsa_<32>_<8 hex>`: the tail is the CRC32 (IEEE, little-endian bytes, hex) of `glsa_<32>` |
//! | `grafana_b64_json` | Grafana Cloud `glc_…` / legacy `eyJrIjoi…` keys: base64 of a JSON object with a random `"k"` and an `"o"` or `"id"` member |
//! | `discord_token` | Discord bot/user token: first part is base64 of a plausible snowflake user id (17-20 digits, 2015-2040 timestamp) |
//! | `intercom_token` | Intercom access token: base64 of `tok:<id>:…` |

use super::devtools::crc32;

/// Hex digits of the span look machine-generated.
pub fn hex_random(span: &str, _before: &str, _after: &str) -> bool {
    let hex: Vec<u8> = span.bytes().filter(u8::is_ascii_hexdigit).map(|b| b.to_ascii_lowercase()).collect();
    let n = hex.len();
    if n < 16 {
        return false;
    }
    let has_digit = hex.iter().any(u8::is_ascii_digit);
    let has_letter = hex.iter().any(u8::is_ascii_alphabetic);
    let distinct = distinct_count(&hex);
    has_digit && has_letter && distinct * 3 >= n.min(24) && !periodic(&hex) && !sequential(&hex)
}

/// The last segment of a prefixed token is random-looking.
pub fn tail_random(span: &str, _before: &str, _after: &str) -> bool {
    let tail = span.rsplit(['-', '_', '.', '/', ':', '$']).find(|s| !s.is_empty()).unwrap_or("");
    let b = tail.as_bytes();
    let n = b.len();
    if n < 8 {
        return false;
    }
    // Placeholder words (any case) and runs of x (one case: `xxXX` occurs in random tokens).
    let lower = tail.to_ascii_lowercase();
    const PLACEHOLDERS: [&str; 6] = ["example", "redacted", "placeholder", "changeme", "dummy", "sample"];
    if tail.contains("xxxx") || tail.contains("XXXX") || PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return false;
    }
    let classes =
        [b.iter().any(u8::is_ascii_lowercase), b.iter().any(u8::is_ascii_uppercase), b.iter().any(u8::is_ascii_digit)]
            .iter()
            .filter(|x| **x)
            .count();
    let distinct = distinct_count(b);
    classes >= 2 && distinct * 4 >= n.min(40) && distinct >= 4 && !periodic(b) && !sequential(b)
}

/// Grafana service account token: `glsa_` + 32 alphanumerics + `_` + CRC32 of the rest.
pub fn grafana_crc32(span: &str, _before: &str, _after: &str) -> bool {
    let Some(idx) = span.rfind('_') else { return false };
    let (body, sum) = (&span[..idx], &span[idx + 1..]);
    if !body.starts_with("gl") || sum.len() != 8 {
        return false;
    }
    let c = crc32(body.as_bytes()).to_le_bytes();
    let expected: String = c.iter().map(|b| format!("{b:02x}")).collect();
    sum.eq_ignore_ascii_case(&expected)
}

/// Grafana Cloud access policy token (`glc_` + base64 JSON) or legacy API key
/// (`eyJrIjoi…`, base64 of `{"k":…}`): the JSON has a random `"k"` and an org or id member.
pub fn grafana_b64_json(span: &str, _before: &str, _after: &str) -> bool {
    let body = span.strip_prefix("glc_").unwrap_or(span);
    let Some(bytes) = base64_decode(body) else { return false };
    let Ok(json) = String::from_utf8(bytes) else { return false };
    let json = json.trim_end_matches('\0');
    if !(json.starts_with('{') && json.ends_with('}')) {
        return false;
    }
    let Some(k_at) = json.find("\"k\":\"") else { return false };
    let rest = &json[k_at + 5..];
    let Some(end) = rest.find('"') else { return false };
    let k = &rest[..end];
    k.len() >= 16
        && k.bytes().all(|b| b.is_ascii_alphanumeric())
        && distinct_count(k.as_bytes()) * 3 >= k.len().min(24)
        && (json.contains("\"o\":\"") || json.contains("\"id\":"))
}

/// Discord token: `<base64 user id>.<timestamp>.<hmac>`; the user id decodes to a snowflake.
pub fn discord_token(span: &str, _before: &str, _after: &str) -> bool {
    let mut parts = span.split('.');
    let (Some(id_part), Some(ts), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if ts.len() < 6 || mac.len() < 25 {
        return false;
    }
    let Some(id) = base64_decode(id_part) else { return false };
    if !(17..=20).contains(&id.len()) || !id.iter().all(u8::is_ascii_digit) || id[0] == b'0' {
        return false;
    }
    let Ok(text) = std::str::from_utf8(&id) else { return false };
    let Ok(snowflake) = text.parse::<u64>() else { return false };
    let ms = (snowflake >> 22) + 1_420_070_400_000;
    (1_420_070_400_000..2_208_988_800_000).contains(&ms) && (snowflake >> 22) > 0
}

/// Intercom access token: base64 of `tok:<id>:<n>:<n>`.
pub fn intercom_token(span: &str, _before: &str, _after: &str) -> bool {
    let Some(bytes) = base64_decode(span) else { return false };
    bytes.len() >= 20
        && bytes.starts_with(b"tok:")
        && bytes[4..].contains(&b':')
        && bytes.iter().all(|b| b.is_ascii_graphic())
}

fn distinct_count(b: &[u8]) -> usize {
    let mut seen = [false; 256];
    b.iter().filter(|&&c| !std::mem::replace(&mut seen[c as usize], true)).count()
}

/// The whole string repeats a block of at most half its length (`abcabcabc`, `0123…f0123…f`).
fn periodic(b: &[u8]) -> bool {
    let n = b.len();
    (1..=n / 2).any(|p| (p..n).all(|i| b[i] == b[i - p]))
}

/// Mostly runs of consecutive characters (`0123456789`, `abcdefgh`).
fn sequential(b: &[u8]) -> bool {
    let steps = b.windows(2).filter(|w| w[1] == w[0].wrapping_add(1) || w[0] == w[1].wrapping_add(1)).count();
    steps * 2 > b.len()
}

/// Base64 decoding of the standard or URL-safe alphabet, padding optional.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn v(f: fn(&str, &str, &str) -> bool, s: &str) -> bool {
        f(s, "", "")
    }

    #[test]
    fn hex_random_accepts_keys_and_rejects_digests_of_nothing() {
        assert!(v(hex_random, "9f3c2a71e5b04d8c6a1f7e2b3c9d0a84"));
        assert!(v(hex_random, "SK2c9e71b04f6d3a8e5c1b7f0a9d2e4c63"));
        assert!(v(hex_random, "6f1c3e2a-9b47-4d08-a5e3-7c2f1b9d0e46"));
        assert!(!v(hex_random, "0123456789abcdef0123456789abcdef"));
        assert!(!v(hex_random, "00000000-0000-0000-0000-000000000000"));
        assert!(!v(hex_random, "deadbeefdeadbeefdeadbeefdeadbeef"));
        assert!(!v(hex_random, "11111111111111111111111111111111"));
        assert!(!v(hex_random, "abcdef"));
    }

    #[test]
    fn tail_random_rejects_placeholders() {
        assert!(v(tail_random, "sk_live_51Nq8ZkLr4Tb2XwYv9PcA3mD"));
        assert!(v(tail_random, "https://hooks.slack.com/services/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"));
        assert!(!v(tail_random, "sk_test_xxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(!v(tail_random, "sk_live_XXXXXXXXXXXXXXXXXXXXXXXX"));
        assert!(!v(tail_random, "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"));
        assert!(!v(tail_random, "xoxb-your-bot-token-here"));
        assert!(!v(tail_random, "sk_test_abcdefghijklmnopqrstuvwx"));
        assert!(!v(tail_random, "sk_test_1234567890123456"));
        assert!(!v(tail_random, "sk_live_EXAMPLEKEY1234567890"));
        // A random tail may contain `xxXX`.
        assert!(v(tail_random, "https://hooks.slack.com/services/T5J0D77QH/BJ0TTS9QQ/2tXa4eSym0k50qGVbrxxXXQe"));
    }

    #[test]
    fn grafana_crc32_checks_the_tail() {
        let body = "glsa_Q7n2Xk9LmA4pR8sT1vW3yZ5bC6dE0fGh";
        let sum: String = crc32(body.as_bytes()).to_le_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let good = format!("{body}_{sum}");
        assert!(v(grafana_crc32, &good));
        let mut bad = good.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == '0' { '1' } else { '0' });
        assert!(!v(grafana_crc32, &bad));
        assert!(!v(grafana_crc32, "glsa_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_00000000"));
        // Known value: zlib.crc32(b"123456789") == 0xCBF43926.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn grafana_b64_json_needs_a_random_k() {
        // {"o":"1234567","n":"stack-123456-hm-write-app","k":"Zq8Lm2Xr5Tb9Nc4Vw7Ys1Ka3","m":{"r":"prod-us-east-0"}}
        let glc = "glc_eyJvIjoiMTIzNDU2NyIsIm4iOiJzdGFjay0xMjM0NTYtaG0td3JpdGUtYXBwIiwiayI6IlpxOExtMlhyNVRiOU5jNFZ3N1lzMUthMyIsIm0iOnsiciI6InByb2QtdXMtZWFzdC0wIn19";
        assert!(v(grafana_b64_json, glc));
        // {"k":"abcdefg"} style placeholders and Power BI links ({"k":"<uuid>",...}) are not keys.
        assert!(!v(grafana_b64_json, "glc_eyJvIjoiMTIzNDU2IiwibiI6ImFwaS1rZXkiLCJrIjoiYWJjZGVmZyJ9"));
        assert!(!v(
            grafana_b64_json,
            "eyJrIjoiYTZjMTk3YjEtMzQ4Yi00NTI5LWI2ZDItNmUyMGRlOTkwMGRlIiwidCI6IjcyZjk4OGJmIn0"
        ));
        assert!(!v(grafana_b64_json, "glc_not-base64!"));
    }

    #[test]
    fn discord_token_decodes_a_snowflake() {
        // base64("1092847561234567890") = MTA5Mjg0NzU2MTIzNDU2Nzg5MA
        assert!(v(discord_token, "MTA5Mjg0NzU2MTIzNDU2Nzg5MA.GhT4kq.Xw9Lm2Qr7Tb4Nc8Vz1Ys5Ka3Pd6Fe0Hj2Gi4Uo"));
        // base64("hello world, not an id") is not digits.
        assert!(!v(discord_token, "aGVsbG8gd29ybGQsIG5vdCBhbiBpZA.GhT4kq.Xw9Lm2Qr7Tb4Nc8Vz1Ys5Ka3Pd6Fe0Hj2Gi4Uo"));
        assert!(!v(discord_token, "MTA5Mjg0NzU2MTIzNDU2Nzg5MA.short"));
    }

    #[test]
    fn intercom_token_starts_with_tok() {
        // base64("tok:5e1c9a3f_7b2d_4c8e_a6f1_0d9b3e7c2a54:1:0")
        assert!(v(intercom_token, "dG9rOjVlMWM5YTNmXzdiMmRfNGM4ZV9hNmYxXzBkOWIzZTdjMmE1NDoxOjA="));
        assert!(!v(intercom_token, "dG9rOnNob3J0"));
        assert!(!v(intercom_token, "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ="));
    }

    #[test]
    fn base64_decode_works() {
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("ab!c").is_none());
    }
}
