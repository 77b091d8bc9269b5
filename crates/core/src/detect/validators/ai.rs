//! Validators for AI provider keys (`rules/ai.toml`). Signature of every validator:
//! `fn(span, before, after) -> bool`; std only.

/// A provider key (`sk-proj-...`, `gsk_...`, `hf_...`) that is not a documentation value:
/// no `xxxx`, `your_key_here`, `example`, runs of one character, counting sequences
/// (`abcdef`, `123456`), or too few distinct characters for its length. Provider keys are
/// machine-generated, so a key with mixed case or digits in its random part is expected.
pub fn ai_key(span: &str, _before: &str, _after: &str) -> bool {
    let l = span.to_ascii_lowercase();
    const MARKERS: &[&str] = &[
        "xxxx",
        "****",
        "...",
        "…",
        "<",
        ">",
        "${",
        "{{",
        "your_",
        "your-",
        "yourkey",
        "yourapi",
        "yourtoken",
        "_here",
        "-here",
        "here_",
        "example",
        "placeholder",
        "dummy",
        "redacted",
        "replace",
        "insert",
        "changeme",
        "sample",
        "fake_",
        "_fake",
        "notreal",
        "not_real",
        "test_key",
        "testkey",
        "0000000",
    ];
    if MARKERS.iter().any(|m| l.contains(m)) {
        return false;
    }
    // The random part: after the provider prefix.
    let cut = PREFIXES.iter().filter(|p| span.starts_with(*p)).map(|p| p.len()).max().unwrap_or(0);
    let tail = &span.as_bytes()[cut..];
    if tail.len() < 12 {
        return false;
    }
    let mut seen = [false; 256];
    let distinct = tail.iter().filter(|&&c| !std::mem::replace(&mut seen[c as usize], true)).count();
    if distinct < 10.min(tail.len() / 3) {
        return false;
    }
    let (mut run, mut up, mut down) = (1, 1, 1);
    for w in tail.windows(2) {
        run = if w[0] == w[1] { run + 1 } else { 1 };
        up = if w[1] == w[0].wrapping_add(1) { up + 1 } else { 1 };
        down = if w[0] == w[1].wrapping_add(1) { down + 1 } else { 1 };
        if run >= 6 || up >= 6 || down >= 6 {
            return false;
        }
    }
    let lower = tail.iter().any(u8::is_ascii_lowercase);
    let upper = tail.iter().any(u8::is_ascii_uppercase);
    let digit = tail.iter().any(u8::is_ascii_digit);
    // Random alphanumerics mix classes; a hex key has digits and letters.
    (lower && upper) || (digit && (lower || upper))
}

/// Provider prefixes, longest first where they share a start.
const PREFIXES: &[&str] = &[
    "sk-proj-",
    "sk-svcacct-",
    "sk-None-",
    "sk-admin-",
    "sk-ant-api03-",
    "sk-ant-admin01-",
    "sk-ant-oat01-",
    "sk-ant-ort01-",
    "sk-or-v1-",
    "sk-",
    "sk_",
    "gsk_",
    "hf_",
    "api_org_",
    "r8_",
    "pplx-",
    "xai-",
    "lsv2_pt_",
    "lsv2_sk_",
    "pcsk_",
    "wandb_v1_",
    "tgp_v1_",
    "csk-",
    "fw_",
    "local-",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_shapes() {
        assert!(ai_key("sk-proj-Qm7vR2xK9pL4tN8wZ3cF6hJ1sD5gB0yE2uA7iO4kM9nV3bX8qT6rW1eY5zU0oP", "", ""));
        assert!(ai_key("gsk_W4pQz8Lr2Vn6Ty1Kc9Hs3Jd7Fb5Xm0GaUeRiOoPqLkZjNhBtMcVxCyDwEsAfGg", "", ""));
        assert!(ai_key("hf_JrTqWbXyZkLmNpQsVdFgHcKtRwYzXbNmPqLk", "", ""));
        assert!(ai_key("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", "", ""));
    }

    #[test]
    fn placeholders() {
        assert!(!ai_key("sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "", ""));
        assert!(!ai_key("sk-proj-your-api-key-here-1234567890", "", ""));
        assert!(!ai_key("hf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", ""));
        assert!(!ai_key("gsk_abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", "", ""));
        assert!(!ai_key("sk-1234567890abcdef1234567890abcdef12345678", "", ""));
        assert!(!ai_key("hf_exampleTokenForTheDocumentationPage", "", ""));
        assert!(!ai_key("r8_short", "", ""));
        assert!(!ai_key("hf_hubdownloadconfigurationhelperxy", "", ""));
    }
}
