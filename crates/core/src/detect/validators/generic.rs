//! Validators for secrets that carry no provider prefix (`rules/generic.toml`).
//!
//! Keyword rules find "a credential-looking name, an assignment, a value" in any syntax; these
//! gates decide whether the value is a credential or one of the harmless shapes that sit in
//! the same place in real data: code references (`os.environ["X"]`, `${VAR}`, `self.password`),
//! placeholders and documentation values (`<your-password>`, `changeme`, `your_api_key_here`),
//! values that are already masked (`[FILTERED]`, `***`, `(sensitive value)`), identifiers, and
//! machine ids that are not secrets (UUIDs, digests, ULIDs, ObjectIds, timestamps, versions,
//! base64 of images and archives).
//!
//! Every validator has the engine's signature `fn(span, before, after) -> bool`, where `before`
//! and `after` are at most 64 bytes of the text around the span. std only.
//!
//! Decisions worth knowing:
//! - `changeme`, `changeit`, `password`, `secret`, `admin`, `root`, `guest`, `postgres` ... are
//!   treated as documentation defaults, not secrets: they are public knowledge, redacting them
//!   protects nothing, and an LLM reading "the password is still `changeme`" is useful.
//! - UUIDs and hex strings of digest length (32/40/64/128) are rejected when the name is weak
//!   (bare `key`, prose, query `key=`), but accepted after an explicit credential name
//!   (`api_key`, `client_secret`, `access_token`, `password`, `token`): many providers issue
//!   hex or UUID keys, and a digest never sits after `client_secret=`. Names that say what the
//!   value is (`*_hash`, `*_digest`, `checksum`, `fingerprint`, `public_key`, `next_token`,
//!   `cache_key`, ...) are rejected outright.
//! - A password may be a plain word (`"password": "sunshine"`) when it is quoted or alone on
//!   its line; an unquoted word followed by more prose (`password: reset via the link`) is
//!   prose.

// ------------------------------------------------------------------------------------------
// Exported validators
// ------------------------------------------------------------------------------------------

/// Gate for a token, key or secret assigned to a name (`api_key=...`, `"client_secret": "..."`,
/// `X-Api-Key: ...`, `?access_token=...`). Reads the name from `before`.
pub fn generic_secret(span: &str, before: &str, after: &str) -> bool {
    if truncated_quoted(span, before, after) || inside_identifier(before) {
        return false;
    }
    let v = strip_quotes(span);
    let words = name_words(key_name(before));
    if words.is_empty() {
        return random_token(span, before, after);
    }
    if words.iter().any(|w| DENY_NAME_WORDS.contains(&w.as_str())) {
        return false;
    }
    let strong = strong_name(&words);
    secret_value(v, after, if strong { Policy::Strong } else { Policy::Weak })
}

/// A credential named in prose and its value (`the Cloudflare API token is set to ...`, `Is
/// ... a valid Twilio auth token?`): the prose names it, so UUIDs and hex keys count, but not
/// words, versions, dates, paths or links.
pub fn prose_credential(span: &str, _before: &str, after: &str) -> bool {
    let v = strip_quotes(span).trim_end_matches(['.', ',', ';', '!', '?', ')', ':']);
    !is_url(v) && !is_email(v) && !is_path(v) && !is_file_name(v) && secret_value(v, after, Policy::Strong)
}

/// Gate for an environment variable whose name ends in `_KEY` (`STRIPE_KEY=`, `APP_KEY=`,
/// `ENCRYPTION_KEY:`): in `.env` files and container environments such names hold keys, so
/// the name counts as explicit unless it says otherwise (`PUBLIC_KEY`, `CACHE_KEY`, `S3_KEY`).
pub fn env_secret(span: &str, before: &str, after: &str) -> bool {
    if truncated_quoted(span, before, after) || inside_identifier(before) {
        return false;
    }
    let words = name_words(key_name(before));
    if words.iter().any(|w| DENY_NAME_WORDS.contains(&w.as_str())) {
        return false;
    }
    secret_value(strip_quotes(span), after, Policy::Strong)
}

/// Gate for a value assigned to any `*_key` / `*Key` name (`stripe_key`, `routingKey`): the
/// name must end in the word `key` and not say what kind of key it is (`sort_key`,
/// `cache_key`, `public_key`, `s3_key`, ...); credential prefixes (`api_key`, `secret_key`)
/// make it explicit, anything else is judged strictly (16+ random characters, no ids).
pub fn key_value(span: &str, before: &str, after: &str) -> bool {
    if truncated_quoted(span, before, after) {
        return false;
    }
    let words = name_words(key_name(before));
    if !words.last().is_some_and(|w| w == "key" || w == "keys")
        || words.iter().any(|w| DENY_NAME_WORDS.contains(&w.as_str()))
    {
        return false;
    }
    secret_value(strip_quotes(span), after, if strong_name(&words) { Policy::Strong } else { Policy::Weak })
}

/// Strict gate for a value with no credential name next to it (prose such as "the key is
/// ...", a bare `key=` parameter, a cookie): machine-generated, at least 16 characters, and
/// none of the id shapes (UUID, digest, ULID, ObjectId).
pub fn random_token(span: &str, _before: &str, after: &str) -> bool {
    secret_value(strip_quotes(span), after, Policy::Weak)
}

/// An opaque value after a bare name that only means a credential when its value is one
/// (`access=...`, `private=...`): 16+ characters, machine-generated, hex and UUIDs included;
/// not a word, placeholder, masked value or template.
pub fn opaque_token(span: &str, _before: &str, after: &str) -> bool {
    let v = strip_quotes(span);
    v.len() >= 16 && secret_value(v, after, Policy::Strong)
}

/// The value after `Bearer` (or another token scheme): any opaque token, a JWT, a UUID or hex
/// token; not a word, placeholder, masked value or template.
pub fn bearer_token(span: &str, _before: &str, after: &str) -> bool {
    let v = strip_quotes(span);
    v.len() >= 16 && secret_value(v, after, Policy::Strong)
}

/// A session id (cookie or URL parameter): any opaque token of 16+ characters, hex included,
/// but not a UUID (logs print `session_id=<uuid>` as a correlation id).
pub fn session_token(span: &str, before: &str, after: &str) -> bool {
    // The name must say session (`sessionid`, `_gh_sess`, `PHPSESSID`, `connect.sid`) or
    // signature, not merely contain the letters (`assessment_id`, `ssid`).
    let name = key_name(before).to_ascii_lowercase();
    let session_name = name_words(&name).iter().any(|w| {
        w.starts_with("sess")
            || w == "sid"
            || w.ends_with("sessid")
            || w.ends_with("sessionid")
            || w.starts_with("aspsessionid")
            || matches!(
                w.as_str(),
                "sig"
                    | "signature"
                    | "remember"
                    | "logged"
                    | "aspxauth"
                    | "aspnetcore"
                    | "identity"
                    | "auth"
                    | "token"
                    | "security"
                    | "session"
            )
    });
    session_name && !is_uuid(strip_quotes(span)) && bearer_token(span, before, after)
}

/// An `Authorization:` header value (the part after the scheme, which `before` ends with).
pub fn authorization_value(span: &str, before: &str, after: &str) -> bool {
    let v = strip_quotes(span);
    let scheme = before
        .trim_end()
        .rsplit(|c: char| c.is_whitespace() || c == ':' || c == '=' || c == '\x22' || c == '\'')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    // A scheme word we do not know, followed by its credentials (`AWS4-HMAC-SHA256 Credential=`,
    // `Digest username=`): the span is the scheme, not a secret.
    let scheme_like = v.len() <= 24
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && after.starts_with(' ')
        && after[1..].starts_with(|c: char| c.is_ascii_alphabetic());
    if scheme_like || scheme == "digest" {
        return false;
    }
    if scheme == "basic" {
        return basic_credentials(v, before, after);
    }
    v.len() >= 8 && secret_value(v, after, Policy::Strong)
}

/// A password value: human-chosen passwords are allowed (`hunter2`, `Summer2024!`, a quoted
/// word), but not placeholders, masks, references, code identifiers, booleans or prose.
pub fn password_value(span: &str, before: &str, after: &str) -> bool {
    if truncated_quoted(span, before, after) {
        return false;
    }
    let mut quoted = ends_with_quote(before) || span.starts_with(['"', '\'']);
    let mut v = strip_quotes(span);
    // ODBC braces: `Pwd={a;b}`.
    if v.len() > 2 && v.starts_with('{') && v.ends_with('}') && !v.starts_with("{{") && before.trim_end().ends_with('=')
    {
        v = &v[1..v.len() - 1];
        quoted = true;
    }
    let words = name_words(key_name(before));
    if let Some((last, rest)) = words.split_last() {
        if rest.iter().any(|w| DENY_NAME_WORDS.contains(&w.as_str())) {
            return false;
        }
        // `boarding_pass`, `render_pw`: a short noun is a password only alone or after a
        // credential-ish word, and then not a bare number (`"pass": 1523` is a test count).
        if matches!(last.as_str(), "pass" | "pw") {
            if rest.last().is_some_and(|p| !STRONG_PREFIXES.contains(&p.as_str())) {
                return false;
            }
            if v.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
        }
    }
    let n = v.chars().count();
    if !(3..=256).contains(&n) {
        return false;
    }
    if is_masked(v)
        || is_placeholder(v)
        || is_reference(v, after)
        || is_literal_keyword(v)
        || is_type_annotation(v, after)
    {
        return false;
    }
    let l = v.to_ascii_lowercase();
    if HARMLESS_WORDS.contains(&l.as_str()) {
        return false;
    }
    if is_url(v) || is_email(v) || is_file_name(v) || is_path(v) {
        return false;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return n >= 4 && !is_digit_sequence(v) && !is_year(v);
    }
    if v.contains(' ') {
        // A quoted phrase: a passphrase, unless it reads like an instruction or a schema
        // description ("must be at least 8 characters", "Please enter a password").
        let phrase: Vec<String> =
            v.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect();
        return quoted && !phrase.iter().any(|w| PHRASE_STOP_WORDS.contains(&w.as_str()));
    }
    let wordy = v.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'');
    if wordy {
        // `"password": "sunshine"` or `password=sunshine` at the end of a line is a password;
        // `password: please use the reset link` is prose.
        let ends_here = after.is_empty()
            || after.starts_with(['\n', '\r', '"', '\'', ',', ';', '}', ')', ']', '&', '\\', '`', '<'])
            || after.trim_start_matches([' ', '\t']).is_empty()
            || after.trim_start_matches([' ', '\t']).starts_with(['\n', '\r', '#']);
        return quoted || ends_here;
    }
    // `harbor-dragon-nebula16`: a passphrase of joined words. Kebab case is not a variable
    // in code; a kebab name that says what it points at (`db-password-secret`) is a reference.
    let parts: Vec<&str> = v.split('-').collect();
    let passphrase = parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && !name_words(v).iter().any(|w| REFERENCE_WORDS.contains(&w.as_str()));
    if !quoted && !passphrase && is_code_identifier(v) {
        return false;
    }
    true
}

/// `password: Optional[str] = None`, `token: string;`, `password: SecretStr`: a declared type.
fn is_type_annotation(v: &str, after: &str) -> bool {
    const TYPES: &[&str] = &[
        "str",
        "string",
        "String",
        "bytes",
        "int",
        "bool",
        "boolean",
        "Optional",
        "Union",
        "SecretStr",
        "SecretBytes",
        "Secret",
        "Option",
        "&str",
        "char",
        "number",
        "unknown",
        "any",
        "Text",
        "CharField",
        "List",
        "list",
        "Dict",
    ];
    let head = v.split(['[', '<', '(', '|', ' ']).next().unwrap_or(v);
    TYPES.contains(&head)
        && (v.len() > head.len() || after.trim_start().starts_with(['=', ';', ',', ')']) || after.trim().is_empty())
}

/// Words that make a kebab-case value the name of where a password lives, not the password.
const REFERENCE_WORDS: &[&str] =
    &["password", "passwd", "pass", "secret", "secrets", "key", "token", "cred", "creds", "credentials", "ref", "name"];

/// A password in prose ("my password is ...", "Passwort ist ..."): as `password_value`, and
/// not a plain word, since "the password is correct" and "mot de passe oublié" are prose.
pub fn password_prose(span: &str, before: &str, after: &str) -> bool {
    let v = strip_quotes(span).trim_end_matches(['.', ',', '?', '!', ':', ';', ')']);
    if v.chars().count() < 4 || v.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'') {
        return false;
    }
    password_value(span, before, after)
}

/// A password written without a name that says so (`pass M0ns00n999!`, `login ops / ...`):
/// as `password_prose`, and mixing letters with digits or symbols, never a date or a version.
pub fn password_mixed(span: &str, before: &str, after: &str) -> bool {
    let v = strip_quotes(span).trim_end_matches(['.', ',', ';', ')']);
    let letter = v.bytes().any(|b| b.is_ascii_alphabetic());
    let other = v.bytes().any(|b| !b.is_ascii_alphabetic());
    letter
        && other
        && !is_datetime(v)
        && !is_version(v)
        && !is_url(v)
        && !is_path(v)
        && password_prose(span, before, after)
}

/// The password part of URL userinfo (`scheme://user:PASSWORD@host`). `before` ends with
/// `user:`, `after` starts with `@host`.
pub fn url_password(span: &str, before: &str, after: &str) -> bool {
    let v = span;
    if v.is_empty() || is_masked(v) || v.starts_with('[') || v.starts_with('<') || v.starts_with('{') {
        return false;
    }
    if v.starts_with('$') || v.starts_with("%s") || v.starts_with("%(") || v.starts_with("%{") || v.contains("{{") {
        return false;
    }
    let decoded = percent_decode(v);
    let l = decoded.to_ascii_lowercase();
    if URL_PLACEHOLDERS.contains(&l.as_str()) || is_placeholder(&decoded) {
        return false;
    }
    // `http://host.example.com:8080@...` is a host and port, not userinfo.
    let user = before.rsplit("://").next().unwrap_or("").trim_end_matches(':');
    if v.bytes().all(|b| b.is_ascii_digit()) && v.len() <= 5 && (user.contains('.') || user == "localhost") {
        return false;
    }
    // `https://host:8080?next=a@b`: a port and a query, not a password with a `?` in it.
    let head = v.split(['?', '#']).next().unwrap_or(v);
    if head.len() < v.len() && !head.is_empty() && head.len() <= 5 && head.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    !after.is_empty() || before.contains("://")
}

/// Base64 of `user:password` (HTTP Basic, Docker `auth`, npm `_auth`): decodes to printable
/// text with a colon, and is not a documentation pair (`user:pass`, `admin:password`,
/// `Aladdin:open sesame`).
pub fn basic_credentials(span: &str, _before: &str, _after: &str) -> bool {
    let Some(bytes) = b64_decode(strip_quotes(span)) else { return false };
    let Ok(text) = String::from_utf8(bytes) else { return false };
    if text.len() < 3 || text.chars().any(|c| c.is_control()) {
        return false;
    }
    let Some((user, pass)) = text.split_once(':') else { return false };
    if pass.is_empty() {
        // An API key sent as the user name with an empty password (`sk_live_...:`).
        return user.len() >= 16 && looks_random(user, 16);
    }
    let lp = pass.to_ascii_lowercase();
    let lu = user.to_ascii_lowercase();
    if URL_PLACEHOLDERS.contains(&lp.as_str()) || is_placeholder(pass) || is_masked(pass) {
        return false;
    }
    if lu == "aladdin" && lp == "open sesame" {
        return false;
    }
    if pass.starts_with('$') || pass.starts_with("{{") || pass.starts_with('<') {
        return false;
    }
    true
}

/// SMTP `AUTH PLAIN` credentials: base64 of `authzid NUL user NUL password`.
pub fn smtp_auth_plain(span: &str, _before: &str, _after: &str) -> bool {
    let Some(b) = b64_decode(strip_quotes(span)) else { return false };
    let parts: Vec<&[u8]> = b.split(|&x| x == 0).collect();
    parts.len() == 3
        && !parts[1].is_empty()
        && parts[2].len() >= 3
        && !parts.iter().any(|p| p.iter().any(|c| c.is_ascii_control()))
        && std::str::from_utf8(parts[2])
            .is_ok_and(|p| !is_placeholder(p) && !URL_PLACEHOLDERS.contains(&p.to_ascii_lowercase().as_str()))
}

/// The entries of a Kubernetes Secret `data:` / `stringData:` block (the span): at least one
/// value is neither empty, a placeholder nor a reference.
pub fn k8s_secret_values(span: &str, _before: &str, _after: &str) -> bool {
    let mut any = false;
    for entry in span.split(['\n', ',']) {
        let entry = entry.trim().trim_matches(['{', '}']).trim();
        if is_masked(entry) || entry.contains("[REDACTED") {
            continue;
        }
        let Some((k, v)) = entry.split_once(':') else { continue };
        let k = strip_quotes(k.trim());
        let v = strip_quotes(v.trim());
        if v.is_empty() || v == "{" || v == "|" || v == ">" || PUBLIC_SECRET_KEYS.contains(&k) {
            continue;
        }
        let plain = match b64_decode(v) {
            Some(b) if v.len() >= 4 && v.len() % 4 == 0 => String::from_utf8(b).unwrap_or_else(|_| "binary".repeat(3)),
            _ => v.to_string(),
        };
        let plain = plain.trim();
        if plain.is_empty()
            || is_placeholder(plain)
            || is_masked(plain)
            || plain.starts_with("${")
            || plain.starts_with("{{")
        {
            continue;
        }
        any = true;
    }
    any
}

// ------------------------------------------------------------------------------------------
// Value gate
// ------------------------------------------------------------------------------------------

/// The keyword is a field of a colon-separated identifier, not a name being assigned:
/// `arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/db-x2cfgA` names a secret.
pub(super) fn inside_identifier(before: &str) -> bool {
    let token = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '=' | ',' | '(' | '['))
        .next()
        .unwrap_or("");
    let l = token.to_ascii_lowercase();
    // `${SECRET_KEY:?missing}`: a shell default or error, naming the variable, not setting it.
    let expansion = before.ends_with("${") || before.ends_with("$(") || token.contains("${") || token.contains("$(");
    expansion || l.starts_with("arn:") || l.starts_with("urn:") || l.starts_with("crn:") || l.starts_with("ocid1.")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Policy {
    /// After an explicit credential name: UUIDs and hex strings are accepted, 8+ characters.
    Strong,
    /// No or a vague name: 16+ characters and none of the id shapes.
    Weak,
}

fn secret_value(v: &str, after: &str, policy: Policy) -> bool {
    let n = v.chars().count();
    let min = if policy == Policy::Strong { 8 } else { 16 };
    if n < min || n > 2048 {
        return false;
    }
    if is_masked(v) || is_placeholder(v) || is_reference(v, after) || is_literal_keyword(v) {
        return false;
    }
    if is_always_harmless(v) {
        return false;
    }
    if policy == Policy::Weak && is_id_shape(v) {
        return false;
    }
    if is_code_identifier(v) || is_word_like(v) || is_human_code(v) {
        return false;
    }
    looks_random(v, min)
}

/// Machine-generated: letters, enough character classes, entropy and distinct characters,
/// no long runs of one character.
fn looks_random(v: &str, min: usize) -> bool {
    let b = v.as_bytes();
    let n = b.len();
    if n < min {
        return false;
    }
    let lower = b.iter().any(|c| c.is_ascii_lowercase());
    let upper = b.iter().any(|c| c.is_ascii_uppercase());
    let digit = b.iter().any(|c| c.is_ascii_digit());
    let symbol = b.iter().any(|c| !c.is_ascii_alphanumeric());
    if !(lower || upper) {
        return false;
    }
    let classes = [lower, upper, digit, symbol].iter().filter(|&&x| x).count();
    let h = entropy(b);
    let distinct = {
        let mut seen = [false; 256];
        b.iter().filter(|&&c| !std::mem::replace(&mut seen[c as usize], true)).count()
    };
    if longest_run(b) >= 5 || distinct * 3 < n.min(30) {
        return false;
    }
    let want = (0.75 * (n.min(64) as f64).log2()).min(3.0);
    if classes >= 2 {
        // One letter among digits (`2024-05-01T10`) is not a token: letters and digits mixed.
        let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
        return h >= want && letters >= 2 && (digit || (lower && upper) || letters * 2 >= n);
    }
    // Letters of one case only: random only when long and without word structure.
    n >= 20 && h >= 3.6 && vowel_ratio(v) < 0.3
}

fn entropy(b: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &c in b {
        counts[c as usize] += 1;
    }
    let n = b.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn longest_run(b: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for (i, &c) in b.iter().enumerate() {
        cur = if i > 0 && b[i - 1] == c { cur + 1 } else { 1 };
        best = best.max(cur);
    }
    best
}

fn vowel_ratio(s: &str) -> f64 {
    let letters: Vec<u8> = s.bytes().filter(u8::is_ascii_alphabetic).map(|c| c.to_ascii_lowercase()).collect();
    if letters.is_empty() {
        return 0.0;
    }
    letters.iter().filter(|c| b"aeiouy".contains(c)).count() as f64 / letters.len() as f64
}

// ------------------------------------------------------------------------------------------
// Names
// ------------------------------------------------------------------------------------------

/// The name a value is assigned to, from the text before it: `{"api_key": "` gives
/// `api_key`, `X-Api-Key: ` gives `X-Api-Key`, `--password=` gives `password`.
fn key_name(before: &str) -> &str {
    let t = before.trim_end_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\'' | '`' | '\\' | ':' | '=' | '>' | '[' | ']' | '(' | ',' | '!' | '<' | '?' | '&' | ';'
            )
    });
    let start = t
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    t[start..].trim_start_matches(['-', '.'])
}

/// `DB_PASSWORD`, `db.password`, `x-api-key`, `clientSecret` as lowercase words.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.') {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev = None;
            continue;
        }
        if c.is_ascii_uppercase()
            && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
            && !cur.is_empty()
        {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
        prev = Some(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Words that say the value is not a credential (or not a usable one).
const DENY_NAME_WORDS: &[&str] = &[
    "public",
    "publishable",
    "pub",
    "next",
    "prev",
    "previous",
    "page",
    "pagination",
    "continuation",
    "cursor",
    "resume",
    "sync",
    "cancellation",
    "sort",
    "partition",
    "primary",
    "foreign",
    "cache",
    "idempotency",
    "dedup",
    "dedupe",
    "lookup",
    "translation",
    "i18n",
    "hash",
    "hashed",
    "digest",
    "checksum",
    "fingerprint",
    "md5",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "etag",
    "max",
    "min",
    "num",
    "count",
    "total",
    "limit",
    "length",
    "len",
    "size",
    "type",
    "kind",
    "name",
    "placeholder",
    "example",
    "sample",
    "dummy",
    "fake",
    "mock",
    "prefix",
    "suffix",
    "hint",
    "label",
    "format",
    "policy",
    "expires",
    "expiry",
    "expiration",
    "ttl",
    "rotation",
    "rotated",
    "last",
    "masked",
    "redacted",
    "encrypted",
    "range",
    "row",
    "object",
    "bucket",
    "file",
    "path",
    "url",
    "uri",
    "endpoint",
    "field",
    "column",
    "param",
    "header",
    "version",
    "id",
    "ids",
    "enabled",
    "required",
    "lexer",
    "parser",
    "tokenizer",
    "csv",
    "sheet",
    "map",
    "lock",
    "group",
    "event",
    "item",
    "unique",
    "natural",
    "composite",
    "shard",
    "s3",
    "translation",
    "message",
    "boarding",
    "season",
    "day",
    "week",
    "month",
    "annual",
    "parking",
    "bus",
    "transit",
    "metro",
    "ski",
    "vip",
    "press",
    "backstage",
    "hall",
    "wallet",
    "render",
    "first",
    "second",
    "single",
    "multi",
    "double",
    "two",
    "one",
    "final",
    "dry",
];

/// Prefixes that make a `*_key`, `*_pass` or `*_pw` name a credential.
const STRONG_PREFIXES: &[&str] = &[
    "api",
    "default",
    "initial",
    "temp",
    "access",
    "secret",
    "private",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "decryption",
    "master",
    "app",
    "application",
    "license",
    "licence",
    "session",
    "auth",
    "client",
    "service",
    "svc",
    "account",
    "admin",
    "webhook",
    "integration",
    "subscription",
    "developer",
    "dev",
    "consumer",
    "server",
    "shared",
    "root",
    "deploy",
    "write",
    "ingest",
    "ingestion",
    "management",
    "mgmt",
    "rest",
    "sdk",
    "live",
    "prod",
    "production",
    "hmac",
    "jwt",
    "crypto",
    "cipher",
    "aes",
    "storage",
    "user",
    "db",
    "database",
    "smtp",
    "mail",
    "email",
    "ftp",
    "sftp",
    "ssh",
    "mysql",
    "pg",
    "postgres",
    "postgresql",
    "redis",
    "ldap",
    "bind",
    "proxy",
    "http",
    "basic",
    "login",
    "vpn",
    "wifi",
    "router",
    "sql",
    "mongo",
    "mongodb",
    "rabbit",
    "rabbitmq",
    "amqp",
    "sa",
    "super",
    "sys",
    "system",
    "jenkins",
    "nexus",
    "registry",
    "docker",
    "git",
    "svn",
    "web",
    "site",
    "keystore",
    "truststore",
    "key",
    "cert",
    "pfx",
    "p12",
    "wallet_",
    "token",
    "bot",
    "oauth",
    "backup",
    "recovery",
    "unlock",
    "x",
];

/// Credential nouns that are strong on their own.
const STRONG_NOUNS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "pwd",
    "pswd",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "credential",
    "credentials",
    "creds",
    "auth",
    "authorization",
    "bearer",
    "passwort",
    "kennwort",
    "contrasena",
    "senha",
    "parola",
    "wachtwoord",
    "haslo",
    "losenord",
    "salasana",
    "heslo",
    "jelszo",
    "sifre",
];

fn strong_name(words: &[String]) -> bool {
    // `secret_key_base` (Rails) is a key.
    let words = match words.split_last() {
        Some((last, rest)) if last == "base" && !rest.is_empty() => rest,
        _ => words,
    };
    let Some(last) = words.last() else { return false };
    let prev = if words.len() >= 2 { words[words.len() - 2].as_str() } else { "" };
    if STRONG_NOUNS.contains(&last.as_str()) {
        return true;
    }
    if last.ends_with("password") || last.ends_with("secret") || last.ends_with("token") || last.ends_with("apikey") {
        return true;
    }
    match last.as_str() {
        "key" | "keys" | "pass" | "pw" => STRONG_PREFIXES.contains(&prev),
        _ => false,
    }
}

// ------------------------------------------------------------------------------------------
// Harmless shapes
// ------------------------------------------------------------------------------------------

pub(super) fn strip_quotes(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_suffix("\\").unwrap_or(s);
    s.trim_matches(|c| matches!(c, '"' | '\'' | '`'))
}

/// The span is a prefix of a quoted value: the text before ends with a quote but the text
/// after does not start with one (`"api_key": "API-Schlüssel"` cut at the `ü`, `"password":
/// "Mot de passe"` cut at the space). The whole quoted value is judged by the rule for quoted
/// values, if any; a prefix is never a finding of its own.
pub(super) fn truncated_quoted(span: &str, before: &str, after: &str) -> bool {
    let opened = span.starts_with(['"', '\'', '`']) || before.ends_with(['"', '\'', '`']);
    let closed = span.len() > 1 && span.ends_with(['"', '\'', '`'])
        || after.is_empty()
        || after.starts_with(['"', '\'', '`', '\\']);
    opened && !closed
}

fn ends_with_quote(before: &str) -> bool {
    before.trim_end_matches([' ', '\t']).ends_with(['"', '\'', '`'])
}

/// Already masked or redacted: `***`, `xxxx`, `••••`, `[FILTERED]`, `(sensitive value)`,
/// `<hidden>`, `REDACTED`, a partly masked key (`sk-...abcd`, `****1234`).
pub(super) fn is_masked(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    if v.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '•' | '●' | '#' | '.' | '-' | '_' | '?' | '~' | '█' | ' '))
    {
        return true;
    }
    if v.contains("***")
        || v.contains("•••")
        || v.contains("●●")
        || v.contains("...")
        || v.contains('…')
        || v.contains("████")
    {
        return true;
    }
    // A bracketed word or phrase: `[FILTERED]`, `[REDACTED:PASSWORD]`, `(sensitive value)`,
    // `<hidden>`, `{redacted}`.
    if let Some(close) = match v.as_bytes()[0] {
        b'[' => Some(']'),
        b'(' => Some(')'),
        b'<' => Some('>'),
        b'{' => Some('}'),
        _ => None,
    } {
        if let Some(end) = v[1..].find(close) {
            let inner = &v[1..1 + end];
            if !inner.is_empty()
                && inner.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | ':' | '.' | '/'))
            {
                return true;
            }
        }
    }
    let l = v.to_ascii_lowercase();
    let bare = l.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    MASK_WORDS.contains(&bare) || l.contains("redacted") || l.contains("filtered") || l.starts_with("masked")
}

const MASK_WORDS: &[&str] = &[
    "redacted",
    "masked",
    "hidden",
    "filtered",
    "sensitive",
    "omitted",
    "removed",
    "censored",
    "protected",
    "scrubbed",
    "sanitized",
    "elided",
    "not_shown",
    "notshown",
    "secret",
    "sensitive_value",
    "sensitive value",
    "hidden_value",
    "obfuscated",
    "concealed",
    "withheld",
    "suppressed",
    "not set",
    "not_set",
    "notset",
    "unset",
    "none",
    "null",
];

/// Documentation values and placeholders.
pub(super) fn is_placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    let bare: String = l.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if PLACEHOLDERS.contains(&bare.as_str()) || PLACEHOLDERS.contains(&l.as_str()) {
        return true;
    }
    // The word "password" in other languages: a translated label, not a password.
    let word: String = v.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
    if PASSWORD_WORDS.contains(&word.as_str()) {
        return true;
    }
    if bare.len() <= 40
        && (bare.starts_with("your")
            || bare.starts_with("my")
            || bare.starts_with("insert")
            || bare.starts_with("enter")
            || bare.starts_with("replace")
            || bare.starts_with("put")
            || bare.starts_with("add")
            || bare.starts_with("paste")
            || bare.starts_with("some")
            || bare.starts_with("the"))
        && ["password", "pass", "pwd", "key", "token", "secret", "here", "api", "value", "credential", "string", "code"]
            .iter()
            .any(|w| bare.contains(w))
    {
        return true;
    }
    const MARKERS: &[&str] = &[
        "xxxx",
        "_here",
        "-here",
        "here_",
        "placeholder",
        "changeme",
        "change_me",
        "change-me",
        "replace_me",
        "replaceme",
        "replace-me",
        "example",
        "dummy",
        "redacted",
        "notreal",
        "not_real",
        "not-a-real",
        "fake_",
        "_fake",
        "fakekey",
        "faketoken",
        "sample_",
        "_sample",
        "fixme",
        "0000000",
        "1234567890",
        "abcdefgh",
        "qwertyui",
        "lorem",
        "ipsum",
        "foobar",
        "<your",
        "<insert",
        "<token",
        "<password",
        "<secret",
        "<key",
        "your_",
        "your-",
        "$(",
        "${",
        "{{",
        "}}",
    ];
    if MARKERS.iter().any(|m| l.contains(m)) {
        return true;
    }
    false
}

const PLACEHOLDERS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "pw",
    "secret",
    "secrets",
    "token",
    "key",
    "apikey",
    "api_key",
    "changeme",
    "changeit",
    "example",
    "sample",
    "dummy",
    "test",
    "testing",
    "tester",
    "demo",
    "foo",
    "bar",
    "baz",
    "qux",
    "foobar",
    "foobarbaz",
    "placeholder",
    "redacted",
    "none",
    "null",
    "nil",
    "undefined",
    "empty",
    "blank",
    "default",
    "admin",
    "administrator",
    "root",
    "guest",
    "user",
    "username",
    "login",
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "redis",
    "mongo",
    "mongodb",
    "rabbitmq",
    "rabbit",
    "sa",
    "mypassword",
    "mysecret",
    "mysecretpassword",
    "mysecretkey",
    "mytoken",
    "mykey",
    "yourpassword",
    "yoursecret",
    "yourtoken",
    "yourkey",
    "secretpassword",
    "supersecret",
    "supersecretpassword",
    "topsecret",
    "s3cret",
    "s3cr3t",
    "p4ssw0rd",
    "passw0rd",
    "xxx",
    "xxxx",
    "abc",
    "abc123",
    "abcd",
    "abcdef",
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "qwerty",
    "letmein",
    "hunter",
    "todo",
    "tbd",
    "fixme",
    "unknown",
    "unset",
    "notset",
    "nopassword",
    "nopass",
    "na",
    "n/a",
    "tmp",
    "temp",
    "value",
    "string",
    "text",
    "required",
    "optional",
    "hidden",
    "secure",
    "insecure",
    "private",
    "public",
    "password1",
    "password123",
    "secret123",
    "test123",
    "test1234",
    "admin123",
    "pass123",
    "changeme123",
    "mypass",
    "pa55word",
    "pa$$word",
    "example123",
    "demo123",
    "sekret",
    "geheim",
    "passwort",
    "motdepasse",
    "contrasena",
    "senha",
    "parola",
    "wachtwoord",
    "haslo",
    "losenord",
    "salasana",
    "heslo",
    "jelszo",
    "sifre",
    "kennwort",
    "opensesame",
    "aladdin",
    "alice",
    "bob",
    "johndoe",
    "jdoe",
    "janedoe",
    "hello",
    "helloworld",
    "world",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "ok",
    "enabled",
    "disabled",
    "env",
    "environment",
    "vault",
    "file",
    "stdin",
    "prompt",
    "ask",
    "interactive",
    "keyring",
    "keychain",
    "auto",
    "generate",
    "generated",
    "random",
    "trust",
    "peer",
    "ident",
    "md5",
    "scram",
    "scramsha256",
    "plain",
    "plaintext",
    "bcrypt",
    "argon2",
    "sha256",
    "bearer",
    "basic",
    "oauth",
    "oauth2",
    "jwt",
    "apikeyhere",
    "tokenhere",
    "keyhere",
    "passwordhere",
    "secrethere",
    "local",
    "localhost",
    "dev",
    "development",
    "staging",
    "prod",
    "production",
];

/// "Password" (and "key", "token", "secret") in other languages, as translation files have them.
const PASSWORD_WORDS: &[&str] = &[
    "passwort",
    "kennwort",
    "motdepasse",
    "contraseña",
    "contrasena",
    "clave",
    "senha",
    "palavrapasse",
    "parola",
    "parolachiave",
    "wachtwoord",
    "hasło",
    "haslo",
    "heslo",
    "lösenord",
    "losenord",
    "salasana",
    "jelszó",
    "jelszo",
    "şifre",
    "sifre",
    "parolă",
    "lozinka",
    "geslo",
    "passord",
    "adgangskode",
    "пароль",
    "密码",
    "密碼",
    "口令",
    "パスワード",
    "비밀번호",
    "κωδικός",
    "סיסמה",
    "كلمةالمرور",
    "पासवर्ड",
    "รหัสผ่าน",
    "mậtkhẩu",
    "katasandi",
    "katalaluan",
    "schlüssel",
    "clé",
    "cle",
    "chave",
    "sleutel",
    "nyckel",
    "avain",
    "klucz",
    "ключ",
    "jeton",
    "geheimnis",
    "secreto",
    "segredo",
    "segreto",
    "geheim",
    "sekret",
    "секрет",
    "token",
    "tokens",
];

/// Words that follow `password:` in prose and schemas.
const HARMLESS_WORDS: &[&str] = &[
    "required",
    "optional",
    "invalid",
    "incorrect",
    "wrong",
    "expired",
    "expires",
    "reset",
    "changed",
    "change",
    "updated",
    "update",
    "forgotten",
    "forgot",
    "mismatch",
    "missing",
    "empty",
    "blank",
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "hidden",
    "protected",
    "encrypted",
    "hashed",
    "masked",
    "redacted",
    "filtered",
    "removed",
    "omitted",
    "sensitive",
    "string",
    "str",
    "text",
    "varchar",
    "char",
    "int",
    "integer",
    "number",
    "bool",
    "boolean",
    "value",
    "field",
    "input",
    "type",
    "minimum",
    "maximum",
    "min",
    "max",
    "length",
    "policy",
    "strength",
    "weak",
    "strong",
    "too",
    "short",
    "long",
    "must",
    "should",
    "cannot",
    "can",
    "not",
    "is",
    "was",
    "will",
    "and",
    "or",
    "for",
    "the",
    "a",
    "an",
    "of",
    "to",
    "please",
    "click",
    "here",
    "link",
    "below",
    "above",
    "via",
    "using",
    "with",
    "sent",
    "email",
    "sms",
    "manager",
    "prompt",
    "dialog",
    "form",
    "page",
    "screen",
    "box",
    "login",
    "logout",
    "signin",
    "user",
    "username",
    "same",
    "new",
    "old",
    "current",
    "confirm",
    "confirmation",
    "again",
    "repeat",
    "match",
    "matches",
    "ok",
    "error",
    "failed",
    "failure",
    "success",
    "successful",
    "accepted",
    "rejected",
    "denied",
    "valid",
    "verified",
    "random",
    "auto",
    "automatic",
    "manual",
    "temporary",
    "provided",
    "supplied",
    "set",
    "unknown",
    "enter",
    "entered",
    "typed",
    "shown",
    "stored",
    "saved",
    "sha256",
    "bcrypt",
    "argon2",
    "pbkdf2",
    "plain",
    "plaintext",
    "cleartext",
    "unchanged",
    "disabled",
    "enabled",
    "locked",
    "unlocked",
    "generated",
    "rotated",
    "revoked",
    "used",
    "unused",
    "only",
    "also",
    "then",
    "when",
    "if",
    "it",
    "this",
    "that",
    "these",
    "those",
    "my",
    "your",
    "our",
    "their",
    "his",
    "her",
    "its",
    "be",
    "been",
    "has",
    "have",
    "had",
    "does",
    "do",
    "did",
    "are",
    "were",
    "in",
    "on",
    "at",
    "by",
    "from",
    "as",
    "so",
    "but",
    "because",
    "yet",
    "still",
    "now",
    "never",
    "always",
    "again",
    "ever",
    "expiring",
    "pending",
    "needed",
    "necessary",
    "lost",
    "stolen",
    "leaked",
    "compromised",
    "weak",
    "reuse",
    "reused",
    "complexity",
    "requirements",
    "rules",
    "hint",
    "recovery",
    "protection",
    "authentication",
    "authorization",
    "credentials",
    "credential",
    "secret",
    "password",
    "passwords",
    "token",
    "tokens",
    "key",
    "keys",
];

/// Words that make a quoted phrase an instruction or a description, not a passphrase.
const PHRASE_STOP_WORDS: &[&str] = &[
    "must",
    "least",
    "characters",
    "character",
    "enter",
    "your",
    "please",
    "required",
    "should",
    "contain",
    "password",
    "passwords",
    "minimum",
    "maximum",
    "length",
    "invalid",
    "incorrect",
    "confirm",
    "match",
    "matches",
    "field",
    "here",
    "type",
    "choose",
    "create",
    "new",
    "reset",
    "forgot",
    "forgotten",
    "hidden",
    "optional",
    "example",
    "placeholder",
    "unique",
    "phrase",
    "value",
    "replace",
    "change",
    "insert",
    "secret",
    "token",
];

/// Names and values that say "this is a URL placeholder".
const URL_PLACEHOLDERS: &[&str] = &[
    "password",
    "pass",
    "passwd",
    "pwd",
    "pw",
    "secret",
    "changeme",
    "example",
    "test",
    "dummy",
    "user",
    "username",
    "root",
    "admin",
    "guest",
    "postgres",
    "mysql",
    "redis",
    "mongo",
    "mongodb",
    "rabbitmq",
    "sa",
    "foo",
    "bar",
    "xxx",
    "xxxx",
    "token",
    "apikey",
    "api_key",
    "key",
    "default",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "mypassword",
    "yourpassword",
    "mysecretpassword",
    "secretpassword",
    "userpassword",
    "user_password",
    "dbpassword",
    "db_password",
    "pa55word",
    "open sesame",
    "opensesame",
    "demo",
    "none",
    "null",
    "empty",
    "blank",
    "*",
    "**",
    "pass123",
    "password123",
    "qwerty",
    "hunter",
    "local",
    "localhost",
    "tiger",
    "foobared",
    "guest123",
    "s3cret",
    "changeit",
];

/// Keys in a Kubernetes Secret whose values are public.
const PUBLIC_SECRET_KEYS: &[&str] =
    &["ca.crt", "tls.crt", "namespace", "username", "user", "host", "port", "url", "database", "dbname"];

/// References to where a secret lives, and templates: `${VAR}`, `$VAR`, `{{ x }}`, `%(x)s`,
/// `os.environ[...]`, `process.env.X`, `!Ref X`, `ENC[...]`, `vault:...`, `arn:aws:...`.
pub(super) fn is_reference(v: &str, after: &str) -> bool {
    // `${VAR}`, `$(cmd)`, `$VAR`, `{{ x }}`, `{% x %}`, `{name}`, `<your-key>`, `!Ref X`,
    // `!vault`, `*default_password`, `&anchor`, `@Value`: a reference or template. A random
    // value that merely starts with one of these characters (Django keys do) is not.
    let rest = v.get(1..).unwrap_or("");
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
            && (is_identifier_segment(s)
                || is_code_identifier(s)
                || s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
    };
    let first = v.as_bytes().first().copied().unwrap_or(0);
    let templated = match first {
        b'$' => rest.starts_with(['{', '(']) || ident(rest) || rest.split([':', '-']).next().is_some_and(ident),
        b'{' => rest.starts_with(['{', '%']) || rest.strip_suffix('}').is_some_and(ident),
        b'<' => rest.ends_with('>') || rest.starts_with('%'),
        b'!' | b'&' | b'*' | b'@' => ident(rest) || rest.strip_suffix('(').is_some_and(ident),
        b'%' => {
            rest.starts_with(['(', '{'])
                || matches!(rest, "s" | "d")
                || rest.starts_with("env(")
                || rest.strip_suffix('%').is_some_and(ident)
        }
        b'[' => rest.ends_with(']') && !rest.contains('['),
        _ => false,
    };
    if templated {
        return true;
    }
    if v.starts_with('#') && v[1..].starts_with('{') {
        return true;
    }
    let l = v.to_ascii_lowercase();
    const REF_PREFIXES: &[&str] = &[
        "enc[",
        "enc:",
        "vault:",
        "vault(",
        "arn:",
        "sm://",
        "op://",
        "ref+",
        "secret://",
        "secrets://",
        "awssm://",
        "gcpsm://",
        "azkv://",
        "file:",
        "env:",
        "keyring:",
        "sops:",
        "kms:",
        "ssm:",
        "ssm://",
        "secretsmanager:",
        "keyvault:",
        "lookup(",
        "env(",
        "getenv",
        "os.environ",
        "os.getenv",
        "process.env",
        "std::env",
        "system.getenv",
        "env[",
        "env.",
        "secrets.",
        "settings.",
        "config.",
        "configuration[",
        "var.",
        "vars.",
        "local.",
        "data.",
        "module.",
        "input.",
        "inputs.",
        "params.",
        "args.",
        "opts.",
        "options.",
        "self.",
        "this.",
        "cls.",
        "ctx.",
        "req.",
        "request.",
        "form.",
        "props.",
        "state.",
        "context.",
        "environ[",
        "environment.",
        "import.meta",
        "read_secret",
        "getsecret",
        "get_secret",
        "keyring.",
        "credentials.",
        "creds.",
        "conf.",
        "cfg.",
        "app.config",
        "dotenv",
        "secret(",
        "password(",
        "filesystem.",
        "fs.",
        "open(",
        "cat ",
    ];
    if REF_PREFIXES.iter().any(|p| l.starts_with(p)) {
        return true;
    }
    // A callee or subscripted object: the value is followed by `(` or `[`.
    let a = after.trim_start_matches(' ');
    if (a.starts_with('(') || a.starts_with('[') || a.starts_with("?.") || a.starts_with("::"))
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b':')
    {
        return true;
    }
    // A call: `crypt(%s`, `getpass.getpass(`, `env(`, `get_secret(name)`; not a random key
    // that happens to contain `(` (Django keys do).
    let call = v.find('(').is_some_and(|i| {
        let (callee, args) = (&v[..i], &v[i + 1..]);
        callee.len() >= 2
            && (is_identifier_segment(callee) || is_code_identifier(callee))
            && !callee.bytes().all(|b| b.is_ascii_digit())
            && (args.is_empty()
                || args.starts_with(['%', '$', '"', '\'', ')', '{'])
                || args.strip_suffix(')').is_some_and(|a| {
                    a.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'=' | b',' | b' ' | b':'))
                }))
    });
    call || v.contains("(\"") || v.contains("('") || v.contains("[\"") || v.contains("['") || v.ends_with("()")
}

/// Literals of programming languages and configuration formats.
fn is_literal_keyword(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "true"
            | "false"
            | "null"
            | "none"
            | "nil"
            | "undefined"
            | "nan"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "0"
            | "1"
            | "-1"
            | "n/a"
            | "na"
            | "tbd"
            | "~"
            | "\"\""
            | "''"
            | "nullptr"
            | "void"
            | "default"
            | "required"
            | "optional"
            | "string"
            | "str"
            | "bytes"
            | "secretstr"
            | "secretbytes"
            | "char"
            | "int"
            | "object"
    )
}

/// Shapes that are never secrets, whatever the name: all digits (ids, epochs, snowflakes),
/// versions, dates and times, IPs, URLs, emails, file names and paths, base64 of images,
/// documents and archives.
fn is_always_harmless(v: &str) -> bool {
    v.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'.' || b == b':' || b == b'/' || b == b'+' || b == b' ')
        || is_version(v)
        || is_datetime(v)
        || is_url(v)
        || is_email(v)
        || is_file_name(v)
        || is_path(v)
        || is_binary_base64(v)
        || is_ulid(v)
}

/// Id shapes rejected when the name does not say "credential": UUIDs, hex digests,
/// Mongo ObjectIds.
fn is_id_shape(v: &str) -> bool {
    is_uuid(v) || is_hex_digest(v) || is_object_id(v)
}

fn is_hex(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, &c)| if matches!(i, 8 | 13 | 18 | 23) { c == b'-' } else { c.is_ascii_hexdigit() })
}

fn is_hex_digest(v: &str) -> bool {
    let single_case = !(v.bytes().any(|b| b.is_ascii_lowercase()) && v.bytes().any(|b| b.is_ascii_uppercase()));
    is_hex(v) && single_case && matches!(v.len(), 32 | 40 | 56 | 64 | 96 | 128)
}

fn is_object_id(v: &str) -> bool {
    if v.len() != 24 || !is_hex(v) {
        return false;
    }
    // The first four bytes are the creation time in seconds: 2009 .. 2040.
    u32::from_str_radix(&v[..8], 16).is_ok_and(|t| (1_230_768_000..2_208_988_800).contains(&t))
}

fn is_ulid(v: &str) -> bool {
    const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let b = v.as_bytes();
    if b.len() != 26 || !b.iter().all(|c| CROCKFORD.contains(c)) {
        return false;
    }
    // The first ten characters are milliseconds since the epoch: 2010 .. 2050.
    let ms = b[..10].iter().fold(0u64, |acc, c| acc * 32 + CROCKFORD.iter().position(|x| x == c).unwrap() as u64);
    (1_262_304_000_000..2_524_608_000_000).contains(&ms)
}

fn is_version(v: &str) -> bool {
    let s = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let (core, _) = s.split_once(['-', '+']).unwrap_or((s, ""));
    let parts: Vec<&str> = core.split('.').collect();
    (2..=4).contains(&parts.len())
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    // 2024-05-01, 2024-05-01T10:00:00Z, 2024/05/01, 01/05/2024, 10:00:00
    (b.len() >= 10
        && d(0)
        && d(1)
        && d(2)
        && d(3)
        && matches!(b[4], b'-' | b'/')
        && d(5)
        && d(6)
        && matches!(b[7], b'-' | b'/')
        && d(8)
        && d(9))
        || (b.len() >= 10
            && d(0)
            && d(1)
            && matches!(b[2], b'/' | b'.' | b'-')
            && d(3)
            && d(4)
            && matches!(b[5], b'/' | b'.' | b'-')
            && d(6)
            && d(7)
            && d(8)
            && d(9))
        || (b.len() >= 5 && d(0) && d(1) && b[2] == b':' && d(3) && d(4))
}

pub(super) fn is_url(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    l.find("://").is_some_and(|i| {
        i > 0 && l[..i].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'.' || b == b'-')
    }) || l.starts_with("www.")
}

pub(super) fn is_email(v: &str) -> bool {
    let Some((user, host)) = v.split_once('@') else { return false };
    !user.is_empty()
        && host.contains('.')
        && !host.starts_with('.')
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

pub(super) fn is_file_name(v: &str) -> bool {
    const EXT: &[&str] = &[
        "pem",
        "key",
        "txt",
        "json",
        "yaml",
        "yml",
        "crt",
        "cer",
        "p12",
        "pfx",
        "jks",
        "env",
        "ini",
        "conf",
        "cfg",
        "pub",
        "ppk",
        "gpg",
        "asc",
        "der",
        "csr",
        "toml",
        "xml",
        "properties",
        "keystore",
        "secret",
        "enc",
        "age",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "webp",
        "svg",
        "pdf",
        "csv",
        "zip",
        "gz",
        "tgz",
        "tar",
        "mp4",
        "mp3",
        "wav",
        "html",
        "htm",
        "js",
        "ts",
        "css",
        "py",
        "rb",
        "go",
        "rs",
        "java",
        "sh",
        "log",
        "md",
        "doc",
        "docx",
        "xlsx",
    ];
    match v.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && EXT.contains(&ext.to_ascii_lowercase().as_str())
                && stem.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
                && (stem.len() <= 40 || stem.contains('/'))
        }
        None => false,
    }
}

pub(super) fn is_path(v: &str) -> bool {
    let rest = if let Some(r) = v.strip_prefix("~/").or_else(|| v.strip_prefix("./")).or_else(|| v.strip_prefix("../"))
    {
        r
    } else if let Some(r) = v.strip_prefix('/') {
        r
    } else if v.len() > 3 && v.as_bytes()[1] == b':' && v.as_bytes()[2] == b'\\' {
        &v[3..]
    } else {
        return false;
    };
    let segs: Vec<&str> = rest.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    !segs.is_empty()
        && segs.iter().all(|s| {
            s.len() <= 64
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                && s.split(['_', '-', '.'])
                    .filter(|p| !p.is_empty())
                    .all(|p| is_wordish(p) || p.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Base64 of a binary file (PNG, JPEG, GIF, WebP, PDF, gzip, zip, MP4, XML, SVG) or a data URI.
fn is_binary_base64(v: &str) -> bool {
    const MAGIC: &[&str] = &[
        "iVBORw0KGgo",
        "/9j/",
        "R0lGOD",
        "UklGR",
        "JVBERi0",
        "H4sI",
        "UEsDB",
        "AAAAIGZ0eXA",
        "AAAAGGZ0eXA",
        "AAAAHGZ0eXA",
        "PD94bWwg",
        "PHN2Zy",
        "Qk0",
        "SUkqAA",
        "TU0AKg",
        "T2dnUw",
        "SUQz",
        "AAABAA",
        "d09GR",
        "d09GMg",
        "N3q8rycc",
        "UmFyIRoH",
        "data:",
    ];
    MAGIC.iter().any(|m| v.starts_with(m))
}

/// An identifier or a code path, not a value: `password_hash`, `userPassword`,
/// `settings.SECRET_KEY`, `MY_SECRET_NAME`, `db-password-secret`.
pub(super) fn is_code_identifier(v: &str) -> bool {
    if !v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':')) || v.is_empty() {
        return false;
    }
    let segs: Vec<&str> = v.split(['.', ':']).filter(|s| !s.is_empty()).collect();
    if segs.len() >= 2 {
        // `self.password`, `config.api_key`, `std::env`, `Settings.SECRET`
        return segs.iter().all(|s| is_identifier_segment(s));
    }
    let s = segs.first().copied().unwrap_or("");
    if !s.split(['_', '-']).all(identifier_shape) {
        return false;
    }
    let words = name_words(s);
    // snake_case / kebab-case / camelCase / SCREAMING_SNAKE with at least two word parts.
    words.len() >= 2 && identifier_words(&words)
}

/// The letter case of one identifier part: `user`, `USER`, `userPassword`, `UserPassword`,
/// `password2`; digits only at the end, no two capitals in a row inside a mixed-case part.
/// Random tokens (`WtbKtlir4WG2VEND`) fail it.
fn identifier_shape(part: &str) -> bool {
    let core = part.trim_end_matches(|c: char| c.is_ascii_digit());
    if core.is_empty() {
        return part.len() <= 12;
    }
    let b = core.as_bytes();
    if !b.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    if b.iter().all(u8::is_ascii_lowercase) || b.iter().all(u8::is_ascii_uppercase) {
        return true;
    }
    // camelCase / PascalCase: every capital after the first letter is followed by a lowercase one.
    b.windows(2).enumerate().all(|(i, w)| !(w[0].is_ascii_uppercase() && (w[1].is_ascii_uppercase() && i > 0)))
        && !b[1..].last().is_some_and(u8::is_ascii_uppercase)
}

fn is_identifier_segment(s: &str) -> bool {
    if !s.split(['_', '-']).all(identifier_shape) {
        return false;
    }
    let words = name_words(s);
    s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 12
        || !words.is_empty()
            && (words.len() == 1 && words[0].len() <= 30 && is_wordish(&words[0]) || identifier_words(&words))
}

/// Words of an identifier read like words: `password_hash`, `getSecretValue`. A random
/// token split at its case changes gives many one- and two-letter pieces (`eyJhbGci` is
/// `ey`, `jhb`, `gci`), which identifiers do not have.
fn identifier_words(words: &[String]) -> bool {
    let short = words.iter().filter(|w| w.len() <= 2).count();
    let total: usize = words.iter().map(|w| w.len()).sum();
    short <= 1
        && total * 2 >= words.len() * 7
        && words.iter().all(|w| is_wordish(w) || w.bytes().all(|b| b.is_ascii_digit()))
}

/// A single word, a word with a number (`token2`), or words joined by case or separators.
fn is_word_like(v: &str) -> bool {
    let core = v.trim_end_matches(|c: char| c.is_ascii_digit());
    !core.is_empty() && core.len() <= 24 && core.bytes().all(|b| b.is_ascii_alphabetic()) && is_wordish(core)
}

/// A code a person made up from words and numbers (`SUMMER2024SALE20`, `Blue-Widget-2024`):
/// at most three letter runs, each of one case, three or more letters and word-like.
fn is_human_code(v: &str) -> bool {
    if !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return false;
    }
    let runs: Vec<&str> = v.split(|c: char| !c.is_ascii_alphabetic()).filter(|r| !r.is_empty()).collect();
    !runs.is_empty()
        && runs.len() <= 3
        && runs
            .iter()
            .all(|r| r.len() >= 3 && identifier_shape(r) && name_words(r).iter().all(|w| w.len() >= 3 && is_wordish(w)))
}

/// A run of letters that reads like a word: short, or with vowels where words have them.
fn is_wordish(w: &str) -> bool {
    let core = w.trim_end_matches(|c: char| c.is_ascii_digit());
    if core.is_empty() || core.len() > 24 || !core.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    if core.len() <= 3 {
        return true;
    }
    let r = vowel_ratio(core);
    // Mixed case inside one word part (`cgaTMnTC`) is random, not a word.
    let inner_upper = core.bytes().skip(1).filter(u8::is_ascii_uppercase).count();
    let all_upper = core.bytes().all(|b| b.is_ascii_uppercase());
    (0.15..=0.75).contains(&r) && (inner_upper == 0 || all_upper) && !has_consonant_cluster(core, 5)
}

fn has_consonant_cluster(w: &str, n: usize) -> bool {
    let mut run = 0;
    for b in w.bytes().map(|b| b.to_ascii_lowercase()) {
        if b"aeiouy".contains(&b) {
            run = 0;
        } else {
            run += 1;
            if run >= n {
                return true;
            }
        }
    }
    false
}

fn is_digit_sequence(v: &str) -> bool {
    let b = v.as_bytes();
    b.windows(2).all(|w| w[1] == w[0])
        || b.windows(2).all(|w| w[1] == w[0] + 1)
        || b.windows(2).all(|w| w[0] == w[1] + 1)
}

fn is_year(v: &str) -> bool {
    v.len() == 4 && (v.starts_with("19") || v.starts_with("20"))
}

fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&v[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard or URL-safe base64, padding optional.
fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
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

    fn gs(before: &str, v: &str, after: &str) -> bool {
        generic_secret(v, before, after)
    }

    #[test]
    fn names() {
        assert_eq!(key_name("{\"api_key\": \""), "api_key");
        assert_eq!(key_name("-H 'X-Api-Key: "), "X-Api-Key");
        assert_eq!(key_name("mysql --password="), "password");
        assert_eq!(key_name("{\\\"clientSecret\\\": \\\""), "clientSecret");
        assert_eq!(name_words("DB_PASSWORD"), ["db", "password"]);
        assert_eq!(name_words("clientSecret"), ["client", "secret"]);
        assert_eq!(name_words("x-api-key"), ["x", "api", "key"]);
        assert!(strong_name(&name_words("api_key")));
        assert!(strong_name(&name_words("refresh_token")));
        assert!(!strong_name(&name_words("key")));
        assert!(!strong_name(&name_words("sort_key")));
    }

    #[test]
    fn secrets_after_a_name() {
        assert!(gs("api_key=", "cgaTMnTC0MrAU8urbFt5misIZHbhS4_FvafhdZxE", ""));
        assert!(gs("MY_SERVICE_TOKEN: ", "eQpBenQtYhXjTPQxjqiDoVgzFkQokTBGzv", ""));
        assert!(gs("client_secret='", "uh1vauWv1zh87mTa5Vsqxezy9x", "'"));
        assert!(gs("token=", "9f2a7c1e4b8d3f6a0c5e", ""));
        // hex and UUID keys after an explicit credential name
        assert!(gs("\"api_key\": \"", "5f4dcc3b5aa765d61d8327deb882cf99", "\""));
        assert!(gs("HEROKU_API_KEY=", "3f9a1c2e-7b4d-4e8f-9a6b-1c2d3e4f5a6b", ""));
        // ... but not after a vague one
        assert!(!gs("key=", "5f4dcc3b5aa765d61d8327deb882cf99", ""));
        assert!(!gs("\"key\": \"", "3f9a1c2e-7b4d-4e8f-9a6b-1c2d3e4f5a6b", "\""));
    }

    #[test]
    fn harmless_values_after_a_name() {
        for (b, v, a) in [
            ("token: ", "max_tokens_exceeded", ""),
            ("secret = ", "os.environ.get", "(\"SECRET\")"),
            ("api_key = ", "settings.API_KEY", ""),
            ("API_KEY=", "${API_KEY}", ""),
            ("\"token\": \"", "[REDACTED]", "\""),
            ("\"token\": \"", "[REDACTED:SECRET]", "\""),
            ("api_key: ", "your_api_key_here", ""),
            ("api_key: ", "YOUR_API_KEY", ""),
            ("secret: ", "changeme", ""),
            ("token=", "1716239022000", ""),
            ("token: ", "2024-05-01T10:00:00Z", ""),
            ("access_token: ", "v1.2.3", ""),
            ("api_key: ", "xxxxxxxxxxxxxxxxxxxxxxxx", ""),
            ("\"apiKey\": \"", "sk-...abcd", "\""),
            ("secret: ", "my-app-secret-name", ""),
            ("client_secret: ", "CLIENT_SECRET_NAME", ""),
            ("token: ", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB", ""),
            ("secret: ", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db", ""),
            ("token = ", "request.headers", "[\"X-Token\"]"),
            ("auth_token=", "null", ""),
            ("public_key: ", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", ""),
            ("next_token: ", "eyJsYXN0IjoiYWJjIn0aGVsbG8gd29ybGQ", ""),
            ("password_hash: ", "5f4dcc3b5aa765d61d8327deb882cf99", ""),
            ("cache_key: ", "5d41402abc4b2a76b9719d911017c592", ""),
            ("\"id_token_hint\": \"", "abc", ""),
        ] {
            assert!(!gs(b, v, a), "{b}{v}{a}");
        }
    }

    #[test]
    fn strict_tokens() {
        assert!(random_token("9fK2xLq7vB3nR8tW1mZ4pD6s", "the key is ", ""));
        assert!(!random_token("3f9a1c2e-7b4d-4e8f-9a6b-1c2d3e4f5a6b", "with key ", ""));
        assert!(!random_token("da39a3ee5e6b4b0d3255bfef95601890afd80709", "key ", ""));
        assert!(!random_token("01ARZ3NDEKTSV4RRFFQ69G5FAV", "key ", ""));
        assert!(!random_token("507f1f77bcf86cd799439011", "key ", ""));
        assert!(!random_token("configurationManager", "key ", ""));
        assert!(!random_token("1234567890123456789", "key ", ""));
        assert!(!random_token("SUMMER2024SALE20", "?code=", ""));
        assert!(random_token("kfdygs8y2v32pilpfsm2x0a2ii", "sid=", ""));
    }

    #[test]
    fn bearer_and_authorization() {
        assert!(bearer_token("cgaTMnTC0MrAU8urbFt5misIZHbhS4_FvafhdZxE", "Bearer ", ""));
        assert!(bearer_token("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlMTIz", "Bearer ", ""));
        assert!(!bearer_token("tokens", "Bearer ", " expire"));
        assert!(!bearer_token("***", "Bearer ", ""));
        assert!(!bearer_token("<token>", "Bearer ", ""));
        assert!(!bearer_token("YOUR_ACCESS_TOKEN", "Bearer ", ""));
        assert!(authorization_value("cgaTMnTC0MrAU8urbFt5misIZHbhS4_FvafhdZxE", "Authorization: Bearer ", ""));
        assert!(authorization_value("YWRtaW46czNjcjN0UGFzcw==", "Authorization: Basic ", ""));
        assert!(!authorization_value("dXNlcjpwYXNz", "Authorization: Basic ", ""));
        assert!(!authorization_value("required", "Authorization: ", ""));
        assert!(!authorization_value("AWS4-HMAC-SHA256", "Authorization: ", " Credential=AKIA/2024"));
        assert!(!authorization_value("$TOKEN", "Authorization: Bearer ", ""));
    }

    #[test]
    fn passwords() {
        for (b, v, a) in [
            ("password=", "hunter2", ""),
            ("my password is ", "Summer2024!", ""),
            ("password: ", "Tr0ub4dor&3", ""),
            ("{\"password\": \"", "HgI3HLBk%bvHEz", "\"}"),
            ("PASS=", "letmein99", ""),
            ("\"password\": \"", "sunshine", "\""),
            ("DB_PASSWORD=", "sunshine", "\n"),
            ("password: ", "482913", ""),
        ] {
            assert!(password_value(v, b, a), "{b}{v}{a}");
        }
        for (b, v, a) in [
            ("password: ", "********", ""),
            ("password: ", "[REDACTED]", ""),
            ("reset your password: ", "click", " the link"),
            ("pass: ", "true", ""),
            ("the password is ", "required", ""),
            ("password = ", "os.environ[", "\"DB\"]"),
            ("password=", "password", ""),
            ("password: ", "${DB_PASSWORD}", ""),
            ("password: ", "{{ db_password }}", ""),
            ("password = ", "%(password)s", ""),
            ("password=", "self.password", ""),
            ("password: ", "user_password", ""),
            ("password: ", "changeme", ""),
            ("\"password\": \"", "<your-password>", "\""),
            ("password: ", "(sensitive value)", ""),
            ("password: ", "<hidden>", ""),
            ("password: ", "[FILTERED]", ""),
            ("password: ", "None", ""),
            ("password: ", "1234", ""),
            ("password: ", "please", " use the link"),
            ("password: ", "!vault", " |"),
            ("password: ", "ENC[AES256_GCM,data:abc]", ""),
        ] {
            assert!(!password_value(v, b, a), "{b}{v}{a}");
        }
    }

    #[test]
    fn url_passwords() {
        assert!(url_password("Xk29!vLq", "postgres://app:", "@db.internal/prod"));
        assert!(url_password("Cm!_k20+6SX%6xik-_J?TMS", "mysql://root:", "@mongo-0.svc:3306"));
        assert!(!url_password("8080?next=a", "https://host:", "@b.example.com"));
        assert!(url_password("S3cr3tPa55", "postgres://app:", "@db.internal:5432/prod"));
        assert!(url_password("p%40ss%23word9", "mysql://svc:", "@db/x"));
        assert!(!url_password("password", "postgres://user:", "@localhost/mydb"));
        assert!(!url_password("password", "redis://:", "@localhost"));
        assert!(!url_password("postgres", "postgres://postgres:", "@localhost:5432/postgres"));
        assert!(!url_password("${DB_PASS}", "postgres://app:", "@db/x"));
        assert!(!url_password("***", "postgres://app:", "@db/x"));
        assert!(!url_password("8080", "http://proxy.example.com:", "@x"));
    }

    #[test]
    fn basic() {
        assert!(basic_credentials("YWRtaW46czNjcjN0UGFzcw==", "", ""));
        assert!(!basic_credentials("dXNlcjpwYXNz", "", ""));
        assert!(!basic_credentials("QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "", ""));
        assert!(!basic_credentials("aW5mb3JtYXRpb24", "", ""));
        assert!(!basic_credentials("information", "", ""));
    }

    #[test]
    fn k8s() {
        assert!(k8s_secret_values("  username: YWRtaW4=\n  password: UzNjcjN0UGFzc3cwcmQ=\n", "", ""));
        assert!(!k8s_secret_values("  username: YWRtaW4=\n  password: cGFzc3dvcmQ=\n", "", ""));
        assert!(!k8s_secret_values("  ca.crt: LS0tLS1CRUdJTiBDRVJU\n", "", ""));
        assert!(!k8s_secret_values("[REDACTED:K8S_SECRET]", "", ""));
    }

    #[test]
    fn more_gates() {
        assert!(env_secret("base64:q8Yv3kLx2Pz9Rt4Wm7Nc1Bv6Hs0Jd5Fg8Ke2La9Qw=", "APP_KEY=", ""));
        assert!(env_secret("sk_9fK2xLq7vB3nR8tW1mZ4pD6s", "STRIPE_KEY=", ""));
        assert!(!env_secret("uploads/avatars/42.png", "S3_KEY=", ""));
        assert!(!env_secret("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9fK2xLq7", "PUBLIC_KEY=", ""));
        assert!(password_prose("Summer2024!", "my password is ", ""));
        assert!(!password_prose("correct.", "the password is ", ""));
        assert!(!password_prose("Sunshine", "my password is ", ""));
        assert!(password_value("{Xk2;p9=Lq}", "Pwd=", ";"));
        assert!(password_value("correct horse battery staple", "\"passphrase\": \"", "\""));
        assert!(!password_value("must be at least 8 characters", "\"password\": \"", "\""));
        assert!(!password_value("BP12345X", "\"boarding_pass\": \"", "\""));
        assert!(!password_value("1523", "\"pass\": ", ","));
        assert!(password_value("letmein99", "PASS=", ""));
        assert!(password_value("Xk29!vLq", "DB_PASS=", ""));
        assert!(smtp_auth_plain("AGJvYgBTM2NyM3RQYXNz", "AUTH PLAIN ", ""));
        assert!(!smtp_auth_plain("AGJvYgBwYXNzd29yZA==", "AUTH PLAIN ", ""));
        assert!(k8s_secret_values("{\"password\": \"UzNjcjN0UGFzc3cwcmQ=\", \"username\": \"YWRtaW4=\"}", "", ""));
        assert!(!is_code_identifier("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ"));
        assert!(!password_value("crypt(%s", "SET password = ", ", gen_salt('bf'))"));
        assert!(!password_value("getpass.getpass(", "password = ", "\"Password: \")"));
        assert!(generic_secret("ab(c8!x2k^z0m4p@q7w&e5r9t3y6u1i+o-l=j_h", "SECRET_KEY = '", "'"));
        assert!(generic_secret("(be3stw*^i%i4xuui@6x0cixu81gd@pdoiw7uk*t=ccejr*ol(", "SECRET_KEY = '", "'"));
        assert!(generic_secret("!x2k^z0m4p@q7w&e5r9t3y6u1i+o-l=j_h8c", "SECRET_KEY = '", "'"));
        assert!(!password_value("*default_password", "password: ", ""));
        assert!(!password_value("$DB_PASSWORD", "password: ", ""));
        assert!(!password_value("!Ref", "password: ", " DbPassword"));
        assert!(!password_value("%env(DB_PASSWORD)%", "password: ", ""));
        assert!(!password_value("%(password)s", "password = ", ""));
        assert!(generic_secret("*tyyx(-f5dvcn-kvgw4sjd_e*_eqnra3&og8mw#*bq__g9clzi", "SECRET_KEY = '", "'"));
        assert!(generic_secret("%km6(438kmmw8v74_2&58-3z@66flq7*a13b#0fy9-@qrf7^a1", "SECRET_KEY = '", "'"));
        assert!(session_token("0F6C835377A49562D91FBDA229320EB4", "JSESSIONID=", ""));
        assert!(!session_token("7c2f9e1a-5b3d-4c8e-9f0a-1b2c3d4e5f6a", "session_id=", ""));
        assert!(!session_token("9f2a7c1e4b8d3f6a0c5e9b2d", "assessment_id=", ""));
        assert!(session_token("uatm2omak8qvb9wve86iqxchjk4bd46v", "Cookie: csrftoken=Gh7; sessionid=", ""));
        assert!(session_token(
            "s%3AivqrhCHHbabvkiX6XhaL8y5LpMuO.1BKoVBdAxRvWFGRMxL5v0pWx2zqWX7Ix",
            "set-cookie: connect.sid=",
            ""
        ));
        assert!(!password_value("Contraseña", "\"password\": \"", "\""));
        assert!(!password_value("Mot", "\"password\": \"", " de passe\""));
        assert!(!generic_secret("API-Schl", "\"api_key\": \"", "\u{fc}ssel\""));
        assert!(generic_secret("1BKoVBdAxRvWFGRMxL5v0pWx2zqWX7Ix", "{\\\"refresh_token\\\": \\\"", "\\\"}"));
        assert!(!password_value("Mot de passe", "\"password\": \"", "\""));
        assert!(!password_value("Пароль", "\"password\": \"", "\""));
        assert!(key_value("Qz8Wx2Ec4Rv6Tb8Yn0Um2Ik4Ol6Pp8Aa1Ss3", "stripe_key: ", ""));
        assert!(key_value("R02J8KX4T9QWZ7M3N5P1V6B8C0D2F4G6", "\"routingKey\": \"", "\""));
        assert!(!key_value("Qz8Wx2Ec4Rv6Tb8Yn0Um2Ik4Ol6Pp8Aa1Ss3", "monkey: ", ""));
        assert!(!key_value("5d41402abc4b2a76b9719d911017c592", "object_key: ", ""));
        assert!(!key_value("user:42:profile:settings", "redis_key: ", ""));
        assert!(!key_value("uploads/2024/05/avatar_42.png", "file_key: ", ""));
    }

    #[test]
    fn shapes() {
        assert!(is_uuid("3f9a1c2e-7b4d-4e8f-9a6b-1c2d3e4f5a6b"));
        assert!(is_hex_digest("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
        assert!(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
        assert!(is_object_id("507f1f77bcf86cd799439011"));
        assert!(is_version("v1.2.3") && is_version("1.2.3-rc.1"));
        assert!(is_datetime("2024-05-01T10:00:00Z"));
        assert!(is_binary_base64("iVBORw0KGgoAAAANSUhEUg") && is_binary_base64("/9j/4AAQSkZJRg"));
        assert!(
            is_code_identifier("password_hash")
                && is_code_identifier("self.password")
                && is_code_identifier("userPassword")
        );
        assert!(!is_code_identifier("cgaTMnTC0MrAU8urbFt5misIZHbhS4_FvafhdZxE"));
        assert!(!is_code_identifier("hunter2"));
        assert!(!is_code_identifier("WtbKtlir4WG2VENDHIHNjVnzIdYT2Axx"));
        assert!(!is_code_identifier("PSi60YmbV717"));
        assert!(
            is_code_identifier("getSecretValue")
                && is_code_identifier("MY_SECRET_NAME")
                && is_code_identifier("db-password-secret")
        );
        assert_eq!(b64_decode("dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(percent_decode("p%40ss"), "p@ss");
    }
}
