//! The tokenization key, read from Secrets Manager at cold start so it never sits in the
//! function's configuration (`lambda:GetFunctionConfiguration` is part of ReadOnlyAccess).
//!
//! The secret holds the key itself as its `SecretString`, or a JSON object
//! `{"current": "...", "previous": "..."}` during a rotation (the stream function then
//! tombstones a REMOVE under both keys' tokens: see the runbook).

use crate::api::StoreErrorKind;
use crate::sdk::error_kind;

/// The key (and, during a rotation, the previous one).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKeys {
    pub current: Vec<u8>,
    pub previous: Option<Vec<u8>>,
}

// Never print key material.
impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").field("previous", &self.previous.is_some()).finish_non_exhaustive()
    }
}

/// Why the key could not be read. Names the variable and the error code, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{var}: GetSecretValue failed: {kind}")]
    Fetch { var: &'static str, kind: StoreErrorKind },
    #[error("{var}: the secret has no SecretString (binary secrets are not supported)")]
    NotAString { var: &'static str },
    #[error("{var}: the secret is a JSON object without a string `current` member")]
    NoCurrent { var: &'static str },
}

/// The environment variable naming the secret (an ARN, scoped in the function's role).
pub const SECRET_ARN_VAR: &str = "SHADOW_TOKEN_KEY_SECRET_ARN";

/// Reads the key with one `GetSecretValue` call.
pub async fn read_token_keys(conf: &aws_config::SdkConfig, secret_id: &str) -> Result<TokenKeys, SecretError> {
    let var = SECRET_ARN_VAR;
    let client = aws_sdk_secretsmanager::Client::new(conf);
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| SecretError::Fetch { var, kind: error_kind(&e) })?;
    let text = out.secret_string().ok_or(SecretError::NotAString { var })?;
    parse_secret(text)
}

/// The key from a secret's text: the text itself, or `current`/`previous` of a JSON object.
pub fn parse_secret(text: &str) -> Result<TokenKeys, SecretError> {
    let var = SECRET_ARN_VAR;
    if !text.trim_start().starts_with('{') {
        return Ok(TokenKeys { current: text.as_bytes().to_vec(), previous: None });
    }
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| SecretError::NoCurrent { var })?;
    let get = |k: &str| v.get(k).and_then(|s| s.as_str()).map(|s| s.as_bytes().to_vec());
    Ok(TokenKeys { current: get("current").ok_or(SecretError::NoCurrent { var })?, previous: get("previous") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_the_key_or_a_rotation_object_and_never_printed() {
        let k = parse_secret("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(k.current, b"0123456789abcdef0123456789abcdef");
        let r = parse_secret(r#"{"current": "new-key-material", "previous": "old-key-material"}"#).unwrap();
        assert_eq!(r.current, b"new-key-material");
        assert_eq!(r.previous.as_deref(), Some(&b"old-key-material"[..]));
        assert!(!format!("{r:?}").contains("key-material"));
        // A JSON secret without `current`, or one that is not JSON at all: an error that
        // names the variable and never the secret's text.
        for bad in [
            r#"{"next": "PLANTED-key-material"}"#,
            r#"{"current": 7, "x": "PLANTED-key-material"}"#,
            "{PLANTED-key-material",
        ] {
            let e = parse_secret(bad).unwrap_err().to_string();
            assert!(e.contains(SECRET_ARN_VAR), "{e}");
            assert!(!e.contains("PLANTED"), "{e}");
        }
    }
}
