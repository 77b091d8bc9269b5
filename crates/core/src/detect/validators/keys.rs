//! Validators for private key material (`rules/keys.toml`): checksums and structure checks
//! that separate a key from text that merely has its shape. Signature of every validator:
//! `fn(span, before, after) -> bool`; std only.

/// An age X25519 identity (`AGE-SECRET-KEY-1...`): Bech32 (BIP 173) with the HRP
/// `age-secret-key-` (or `age-secret-key-pq-`), one case, a valid checksum and 32 bytes of key.
pub fn age_secret_key(span: &str, _before: &str, _after: &str) -> bool {
    let upper = span.bytes().all(|b| !b.is_ascii_lowercase());
    let lower = span.bytes().all(|b| !b.is_ascii_uppercase());
    if !(upper || lower) {
        return false;
    }
    let s = span.to_ascii_lowercase();
    let Some(pos) = s.rfind('1') else { return false };
    let (hrp, data) = (&s[..pos], &s[pos + 1..]);
    if hrp != "age-secret-key-" && hrp != "age-secret-key-pq-" {
        return false;
    }
    let Some(values) =
        data.bytes().map(|c| BECH32.iter().position(|&x| x == c).map(|p| p as u8)).collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    // 32 bytes are 52 five-bit groups, plus the 6-group checksum.
    if values.len() != 58 {
        return false;
    }
    let mut all: Vec<u8> = hrp.bytes().map(|b| b >> 5).collect();
    all.push(0);
    all.extend(hrp.bytes().map(|b| b & 31));
    all.extend(&values);
    bech32_polymod(&all) == 1
}

const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let mut chk: u32 = 1;
    for &v in values {
        let b = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ v as u32;
        for (i, g) in GEN.iter().enumerate() {
            if (b >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// A JSON Web Key object (the span, possibly with escaped quotes) that carries private
/// members: `d` for RSA/EC/OKP keys (or RSA's `p`, `q`, `dp`, `dq`, `qi`), `k` for `oct`
/// (symmetric) keys, each a base64url value of real length.
pub fn jwk_private(span: &str, _before: &str, _after: &str) -> bool {
    let t: String = span.chars().filter(|&c| c != '\\').collect();
    let Some(kty) = json_str(&t, "kty") else { return false };
    let members: &[&str] = match kty.as_str() {
        "RSA" => &["d", "p", "q", "dp", "dq", "qi"],
        "EC" | "OKP" => &["d"],
        "oct" => &["k"],
        _ => return false,
    };
    members.iter().any(|m| {
        json_str(&t, m).is_some_and(|v| {
            v.len() >= 16
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
                && distinct(v.as_bytes()) >= 8
        })
    })
}

fn json_str(t: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\"");
    let mut from = 0;
    while let Some(i) = t[from..].find(&pat) {
        let rest = t[from + i + pat.len()..].trim_start();
        if let Some(rest) = rest.strip_prefix(':') {
            let rest = rest.trim_start();
            if let Some(rest) = rest.strip_prefix('"') {
                let end = rest.find('"')?;
                return Some(rest[..end].to_string());
            }
        }
        from += i + pat.len();
    }
    None
}

fn distinct(b: &[u8]) -> usize {
    let mut seen = [false; 256];
    b.iter().filter(|&&c| !std::mem::replace(&mut seen[c as usize], true)).count()
}

/// The body of an armored private key (the span: header, body, footer if present) is key
/// material, not a placeholder: at least 24 base64 characters once the header and footer
/// lines, armor headers (`Proc-Type:`, `Version:`) and `\n` escapes are removed, varied, and
/// no `...`, `xxxx`, `<...>` or `REDACTED`.
pub fn private_key_body(span: &str, _before: &str, _after: &str) -> bool {
    let start = ["KEY-----", "KEY ----", "BLOCK-----"]
        .iter()
        .filter_map(|m| span.find(m).map(|i| i + m.len()))
        .min()
        .unwrap_or(0);
    let mut body = &span[start..];
    if let Some(end) = body.find("-----END").or_else(|| body.find("---- END")) {
        body = &body[..end];
    }
    let body = body.replace("\\r", "\n").replace("\\n", "\n").replace("\\t", " ");
    let l = body.to_ascii_lowercase();
    if ["...", "xxxx", "<", "your", "redacted", "[", "***", "…"].iter().any(|m| l.contains(m)) {
        return false;
    }
    let key: Vec<u8> = body
        .lines()
        .filter(|line| !line.contains(": ") && !line.starts_with('='))
        .flat_map(|line| line.bytes())
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    key.len() >= 24 && distinct(&key) >= 12
}

/// Base64 of a PEM private key (a Kubernetes `tls.key`, a key in an environment variable):
/// decodes to `-----BEGIN ... PRIVATE KEY-----`.
pub fn pem_base64_private(span: &str, _before: &str, _after: &str) -> bool {
    let head: String = span.chars().filter(|c| !c.is_whitespace()).take(96).collect();
    let head = &head[..head.len() - head.len() % 4];
    let Some(bytes) = b64_decode(head) else { return false };
    let text = String::from_utf8_lossy(&bytes);
    text.starts_with("-----BEGIN ") && text.contains("PRIVATE KEY") && !text.contains("PUBLIC KEY")
}

/// A .NET `<RSAKeyValue>` document with private parameters (`<D>`, `<P>`, `<Q>`, `<DP>`,
/// `<DQ>`, `<InverseQ>`), not just the public `<Modulus>` and `<Exponent>`.
pub fn rsa_xml_private(span: &str, _before: &str, _after: &str) -> bool {
    ["D", "P", "Q", "DP", "DQ", "InverseQ"].iter().any(|tag| {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        span.find(&open).is_some_and(|i| {
            let rest = &span[i + open.len()..];
            rest.find(&close).is_some_and(|j| {
                let v: String = rest[..j].chars().filter(|c| !c.is_whitespace()).collect();
                v.len() >= 16 && b64_decode(&v).is_some()
            })
        })
    })
}

/// A WireGuard private or preshared key: base64 of exactly 32 bytes, not all zero.
pub fn wireguard_key(span: &str, _before: &str, _after: &str) -> bool {
    span.len() == 44
        && span.ends_with('=')
        && b64_decode(span).is_some_and(|b| b.len() == 32 && b.iter().any(|&x| x != 0) && distinct(&b) >= 12)
}

/// Standard or URL-safe base64, padding optional.
fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.is_empty() {
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
    if bits >= 6 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age() {
        assert!(age_secret_key("AGE-SECRET-KEY-1K48G980LX7FUPXLNH9GN600RCFDWMMCAF0KDN63JWDREUJPW5L3SFUKKAA", "", ""));
        assert!(age_secret_key("AGE-SECRET-KEY-1LE0FC556FLFA69TYHDFDMF3M2SDRCDTLE0FJJ246PWVQYH3EUSESELAHEZ", "", ""));
        // one character changed: the checksum fails
        assert!(!age_secret_key("AGE-SECRET-KEY-1TF8UFEQ3F0MWDAK70GVGYS8SW3KLH5LF9M76FV7KCKXNJ6US0JASC5M7PQ", "", ""));
        assert!(!age_secret_key("AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "", ""));
        assert!(!age_secret_key("AGE-SECRET-KEY-1k48g980LX7FUPXLNH9GN600RCFDWMMCAF0KDN63JWDREUJPW5L3SFUKKAA", "", ""));
    }

    #[test]
    fn jwk() {
        let private = r#"{"kty":"EC","crv":"P-256","x":"gt64IewgfbR-FAQK4rfiFLza8JFmN5Dq3OW1F3z9QLU","y":"5X7TtwWBbKV3ynDRpt4454EWu151i1nt8Qvv1kw-OpQ","d":"8RMltLB_XvgNE0xE7KG4dv-urmlpeAlVFyVBT1dOU3o","kid":"signing-2024-05"}"#;
        assert!(jwk_private(private, "", ""));
        let public = r#"{"kty":"EC","crv":"P-256","x":"gt64IewgfbR-FAQK4rfiFLza8JFmN5Dq3OW1F3z9QLU","y":"5X7TtwWBbKV3ynDRpt4454EWu151i1nt8Qvv1kw-OpQ","use":"sig","kid":"signing-2024-05"}"#;
        assert!(!jwk_private(public, "", ""));
        let escaped = r#"{\"kty\":\"oct\",\"k\":\"GawgguFyGrWKav7AX4VKUg3k9JqWa2sEbC7rsk3e0r8\"}"#;
        assert!(jwk_private(escaped, "", ""));
        assert!(!jwk_private(r#"{"kty":"RSA","n":"0vx7agoebGc","e":"AQAB","d":"..."}"#, "", ""));
    }

    #[test]
    fn pem_base64() {
        assert!(pem_base64_private("LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktjd2dnU2pBZ0VBQW9JQkFRQw==", "", ""));
        assert!(pem_base64_private("LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVB", "", ""));
        assert!(!pem_base64_private("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURkekNDQWwrZ0F3SUJBZ0lK", "", ""));
        assert!(!pem_base64_private("LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUlJQklqQU5CZ2txaGtpRzl3MEJB", "", ""));
    }

    #[test]
    fn rsa_xml() {
        assert!(rsa_xml_private("<RSAKeyValue><Modulus>MSD9ngTqxpl61z/6S+3tPxxMiJbmDy97DUms69enC4Mp5f9S1UQSKmMVCQdsJdMilZeHwgW/XTltGbl+cSdLdphdwP+0GCXJQw27tINEopkypqid5/Ac6W9lFuqH21YeQ+H37OH3FagkgZDFAqZw48jMHSrdIcQB5BlEmDt4pK4=</Modulus><Exponent>AQAB</Exponent><D>bsRXo9tKsrnNaB0Cm0Hvzguz9p4H0MA+UCKFl5CqH1r4ZEEgcyu23njgEqfNKd2oFlZx/LEZ7/5su6OPxJQ/+FkyycCGAIosAkJYT01qEUQdtyIo9jJIH2yPW1L6BIx9eX65NKC35T/2hDSlca+8Fu4AMipYU6quEKsGoxRBl3M=</D></RSAKeyValue>", "", ""));
        assert!(!rsa_xml_private("<RSAKeyValue><Modulus>MSD9ngTqxpl61z/6S+3tPxxMiJbmDy97DUms69enC4Mp5f9S1UQSKmMVCQdsJdMilZeHwgW/XTltGbl+cSdLdphdwP+0GCXJQw27tINEopkypqid5/Ac6W9lFuqH21YeQ+H37OH3FagkgZDFAqZw48jMHSrdIcQB5BlEmDt4pK4=</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>", "", ""));
    }

    #[test]
    fn pem_bodies() {
        assert!(private_key_body("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAhuNh1ZSy23m/QLVCn5eRg3Uf1sawTqP3exfUQBva48IEhwTOI6c7\n-----END RSA PRIVATE KEY-----", "", ""));
        assert!(private_key_body("-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC\\n-----END PRIVATE KEY-----\\n", "", ""));
        assert!(private_key_body("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "", ""));
        assert!(!private_key_body("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----", "", ""));
        assert!(!private_key_body("-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----", "", ""));
        assert!(!private_key_body("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "", ""));
        assert!(!private_key_body(
            "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----",
            "",
            ""
        ));
    }

    #[test]
    fn wireguard() {
        assert!(wireguard_key("8uOrL3FTyzBgnSmqahW/jZwFNVkS8qA1UOxHVU65d5o=", "", ""));
        assert!(!wireguard_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "", ""));
        assert!(!wireguard_key("8uOrL3FTyzBgnSmqahW/jZwFNVkS8qA1UOxHVU65d5=", "", ""));
    }
}
