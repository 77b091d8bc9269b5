//! Attribute-name rules: one normalisation for every naming style, and a dictionary of
//! sensitive name phrases.
//!
//! A name is sensitive when it *ends* with a sensitive phrase (optionally followed by a
//! "carrier" word such as `value` or `hash`): `stripeSecretKey`, `db_password`, `X-Api-Key`,
//! `refresh_token`. What a name ends with says what it holds, so benign neighbours that only
//! mention a phrase (`token_count`, `password_updated_at`, `api_key_last_rotated`) are not
//! dropped for their name alone; their values are still scanned by the detectors.

use std::collections::HashMap;

use crate::Category;

/// Splits a name into lowercase word tokens: `stripeSecretKey`, `STRIPE_SECRET_KEY`,
/// `stripe-secret-key`, `X-Api-Key` and `APIKey` all tokenize by the same rules.
pub fn tokenize(name: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if !cur.is_empty() {
            let prev = chars[i - 1];
            let next = chars.get(i + 1).copied();
            // camelCase boundary, or the last capital of an acronym before a word: "APIKey" -> API|Key.
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase))
                || (prev.is_ascii_digit() != c.is_ascii_digit() && c.is_alphabetic() && prev.is_ascii_digit());
            if boundary {
                tokens.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// The normalised form of a name: its tokens joined by `_` (`X-Api-Key` -> `x_api_key`).
pub fn normalize(name: &str) -> String {
    tokenize(name).join("_")
}

/// Sensitive phrases, each with the category its placeholder and counters use.
const PHRASES: &[(&str, Category)] = &[
    // credentials
    ("password", Category::Secret),
    ("passwd", Category::Secret),
    ("pwd", Category::Secret),
    ("passphrase", Category::Secret),
    ("passcode", Category::Secret),
    ("secret", Category::Secret),
    ("secrets", Category::Secret),
    ("token", Category::Secret),
    ("access tokens", Category::Secret),
    ("refresh tokens", Category::Secret),
    ("auth tokens", Category::Secret),
    ("api tokens", Category::Secret),
    ("api key", Category::Secret),
    ("api keys", Category::Secret),
    ("access key", Category::Secret),
    ("secret key", Category::Secret),
    ("private key", Category::Secret),
    ("signing key", Category::Secret),
    ("encryption key", Category::Secret),
    ("master key", Category::Secret),
    ("auth key", Category::Secret),
    ("account key", Category::Secret),
    ("credential", Category::Secret),
    ("credentials", Category::Secret),
    ("creds", Category::Secret),
    ("authorization", Category::Secret),
    ("auth", Category::Secret),
    ("cookie", Category::Secret),
    ("cookies", Category::Secret),
    ("set cookie", Category::Secret),
    ("session id", Category::Secret),
    ("session key", Category::Secret),
    ("sessionid", Category::Secret),
    ("connection string", Category::Secret),
    ("conn str", Category::Secret),
    ("dsn", Category::Secret),
    ("otp", Category::Secret),
    ("totp", Category::Secret),
    ("mfa code", Category::Secret),
    ("recovery codes", Category::Secret),
    ("backup codes", Category::Secret),
    ("recovery code", Category::Secret),
    ("backup code", Category::Secret),
    ("pin", Category::Secret),
    ("debug log", Category::Secret),
    ("debug logs", Category::Secret),
    ("debug info", Category::Secret),
    ("stack trace", Category::Secret),
    ("stacktrace", Category::Secret),
    ("traceback", Category::Secret),
    // PII by name
    ("ssn", Category::Pii),
    ("social security number", Category::Pii),
    ("social security", Category::Pii),
    ("card number", Category::Pii),
    ("credit card", Category::Pii),
    ("cc number", Category::Pii),
    ("ccn", Category::Pii),
    ("pan", Category::Pii),
    ("cvv", Category::Pii),
    ("cvv2", Category::Pii),
    ("cvc", Category::Pii),
    ("card cvc", Category::Pii),
    ("security code", Category::Pii),
    ("dob", Category::Pii),
    ("date of birth", Category::Pii),
    ("birth date", Category::Pii),
    ("birthdate", Category::Pii),
    ("birthday", Category::Pii),
    ("passport", Category::Pii),
    ("passport number", Category::Pii),
    ("driver license", Category::Pii),
    ("drivers license", Category::Pii),
    ("driver licence", Category::Pii),
    ("drivers licence", Category::Pii),
    ("driving licence", Category::Pii),
    ("driving license", Category::Pii),
    ("license number", Category::Pii),
    ("licence number", Category::Pii),
    ("tax id", Category::Pii),
    ("taxid", Category::Pii),
    ("tin", Category::Pii),
    ("national id", Category::Pii),
    ("nin", Category::Pii),
    ("nino", Category::Pii),
    ("bank account", Category::Pii),
    ("account number", Category::Pii),
    ("routing number", Category::Pii),
];

/// Words that, after a sensitive phrase, still name the sensitive thing itself.
const CARRIERS: &[&str] = &[
    "value",
    "values",
    "raw",
    "plain",
    "plaintext",
    "str",
    "string",
    "b64",
    "base64",
    "enc",
    "encoded",
    "encrypted",
    "hash",
    "hashed",
    "number",
    "num",
    "no",
    "nr",
    "digits",
    "data",
    "text",
    "full",
    "header",
    "old",
    "new",
    "tmp",
    "temp",
    "live",
    "test",
    "prod",
    "v1",
    "v2",
];

/// Endings that make a single-word name sensitive: (ending, phrase reported).
const COMPACT_SUFFIXES: &[(&str, &str)] = &[
    ("token", "token"),
    ("password", "password"),
    ("passwd", "passwd"),
    ("secret", "secret"),
    ("apikey", "api key"),
    ("secretkey", "secret key"),
    ("privatekey", "private key"),
    ("accesskey", "access key"),
];

/// The compiled name dictionary.
#[derive(Debug, Clone)]
pub struct NameRules {
    /// phrase (tokens joined by " ", and also the compact form joined by "") -> (phrase, category)
    phrases: HashMap<String, (&'static str, Category)>,
}

/// Why a name was judged sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameMatch {
    pub phrase: &'static str,
    pub category: Category,
}

impl Default for NameRules {
    fn default() -> Self {
        Self::new()
    }
}

impl NameRules {
    pub fn new() -> Self {
        let mut phrases = HashMap::new();
        for &(p, c) in PHRASES {
            phrases.insert(p.to_string(), (p, c));
            phrases.insert(p.replace(' ', ""), (p, c));
        }
        NameRules { phrases }
    }

    /// All built-in phrases (for `dynamo-shadow rules`).
    pub fn phrases() -> impl Iterator<Item = (&'static str, Category)> {
        PHRASES.iter().copied()
    }

    /// Is this attribute name sensitive on its own?
    pub fn check(&self, name: &str) -> Option<NameMatch> {
        let tokens = tokenize(name);
        self.check_tokens(&tokens)
    }

    pub fn check_tokens(&self, tokens: &[String]) -> Option<NameMatch> {
        let mut end = tokens.len();
        loop {
            if let Some(m) = self.suffix_match(&tokens[..end]) {
                return Some(m);
            }
            // Strip one trailing carrier word ("password_hash" -> "password") and try again.
            if end > 1 && CARRIERS.contains(&tokens[end - 1].as_str()) {
                end -= 1;
            } else {
                return None;
            }
        }
    }

    fn suffix_match(&self, tokens: &[String]) -> Option<NameMatch> {
        // Single-word compounds: "csrftoken", "githubtoken", "dbpassword".
        let last = tokens.last()?;
        for &(suffix, phrase) in COMPACT_SUFFIXES {
            if last.len() > suffix.len() && last.ends_with(suffix) {
                return Some(NameMatch { phrase, category: Category::Secret });
            }
        }
        for k in (1..=tokens.len().min(4)).rev() {
            let tail = &tokens[tokens.len() - k..];
            for joined in [tail.join(" "), tail.concat()] {
                if let Some(&(phrase, category)) = self.phrases.get(&joined) {
                    return Some(NameMatch { phrase, category });
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_every_naming_style_the_same() {
        for n in ["stripeSecretKey", "STRIPE_SECRET_KEY", "stripe-secret-key", "Stripe Secret Key", "stripe.secret.key"]
        {
            assert_eq!(tokenize(n), ["stripe", "secret", "key"], "{n}");
        }
        assert_eq!(tokenize("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(tokenize("APIKey"), ["api", "key"]);
        assert_eq!(tokenize("userID2FA"), ["user", "id2", "fa"]);
        assert_eq!(normalize("AWS_SECRET_ACCESS_KEY"), "aws_secret_access_key");
    }

    #[test]
    fn sensitive_names_are_caught() {
        let r = NameRules::new();
        for n in [
            "api_key",
            "apiKey",
            "ApiKey",
            "API-KEY",
            "apikey",
            "session_token",
            "sessionToken",
            "password",
            "db_password",
            "secret",
            "token",
            "debug_log",
            "debugLog",
            "ssn",
            "card_number",
            "cardNumber",
            "cvv",
            "authorization",
            "Authorization",
            "cookie",
            "private_key",
            "privateKey",
            "stripeSecretKey",
            "X-Api-Key",
            "refresh_token",
            "client_secret",
            "sessionid",
            "AWS_SECRET_ACCESS_KEY",
            "password_hash",
            "date_of_birth",
            "dob",
            "passport_number",
            "drivers_license",
            "tax_id",
            "accessToken",
            "csrftoken",
            "set-cookie",
            "github_token",
            "DATABASE_PASSWORD",
            "session_id",
        ] {
            assert!(r.check(n).is_some(), "{n} should be sensitive");
        }
    }

    #[test]
    fn benign_neighbours_are_not_dropped_for_their_name() {
        let r = NameRules::new();
        for n in [
            "token_count",
            "max_tokens",
            "prompt_tokens",
            "password_updated_at",
            "secret_santa_group",
            "api_key_last_rotated",
            "api_key_id",
            "tokenizer",
            "sort_key",
            "partition_key",
            "cache_key",
            "pinned",
            "is_pinned",
            "spinner",
            "authored_by",
            "author",
            "passenger_count",
            "keyboard",
            "title",
            "description",
            "secretary",
            "password_reset_required",
            "created_at",
            "token_url",
            "session_count",
        ] {
            assert!(r.check(n).is_none(), "{n} should not be sensitive by name");
        }
    }
}
