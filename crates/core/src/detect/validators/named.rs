//! Validators for a value written after a sensitive name inside text (`rules/named.toml`):
//! `"ssn": "..."` in a JSON body, `POSTGRES_PASSWORD: ...` in a compose file,
//! `<password>...</password>`, `X-Auth-Token: ...`, `name_on_card: ...`,
//! `process.env.TOKEN ?? '...'`. The name is judged by the attribute-name dictionary
//! (`rules/attribute_names.toml`): a value is redacted inside text exactly when an attribute
//! of that name would be dropped. Each validator then checks that the value is a value of
//! that kind and not a reference, a placeholder or prose.

use super::generic::{
    env_secret, inside_identifier, is_email, is_masked, is_path, is_placeholder, is_reference, is_url, password_value,
    strip_quotes, truncated_quoted,
};
use crate::names::{NameKind, NameRules};

/// The name a value is written after: the trailing name-like token of `before` once the
/// separator (`:`, `=`, `=>`, `:=`, `??`, `||`, a tag's `>`), quotes and spaces are trimmed.
fn key_of(before: &str) -> &str {
    let t = before.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '\\' | ':' | '=' | '>' | ']' | '?' | '|')
    });
    let start = t
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    t[start..].trim_start_matches(['-', '.'])
}

/// The kind of value the name before the span says it holds, and the phrase that says so.
/// A label in prose may be several words (`2FA recovery seed: `): the last one, two, three
/// or four words are tried, shortest first.
fn kind_of(before: &str) -> Option<(NameKind, String)> {
    let key = key_of(before);
    if key.is_empty() || key.len() > 64 {
        return None;
    }
    let names = NameRules::builtin();
    let mut label = key;
    let start = before.len()
        - before.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '-' && c != '.').len();
    let head = &before[..before.len() - start];
    for _ in 0..4 {
        if let Some(m) = names.check(label) {
            return Some((NameKind::of(&m.phrase, m.category), m.phrase.to_string()));
        }
        // One more word before, on the same line, separated by one space.
        if !head.ends_with(label) {
            return None;
        }
        let rest = &head[..head.len() - label.len()];
        let rest = rest.strip_suffix(' ')?;
        let word_start = rest
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        if word_start == rest.len() {
            return None;
        }
        label = &head[word_start..];
    }
    None
}

fn is_password_phrase(p: &str) -> bool {
    const WORDS: &[&str] = &[
        "pass",
        "pwd",
        "pw",
        "kennwort",
        "contrase",
        "senha",
        "parola",
        "wachtwoord",
        "haslo",
        "hasło",
        "losenord",
        "lösenord",
        "salasana",
        "adgangskode",
        "passord",
        "heslo",
        "jelsz",
        "sifre",
        "şifre",
        "sandi",
    ];
    WORDS.iter().any(|w| p.contains(w)) && !p.contains("passport")
}

fn is_code_phrase(p: &str) -> bool {
    p == "pin" || p.contains("otp") || p.starts_with("cv") || p.ends_with("code") || p.ends_with("codes")
}

/// Not a value at all: empty, masked, a placeholder, a reference to where the value lives.
fn no_value(v: &str, after: &str) -> bool {
    let l = v.to_ascii_lowercase();
    v.is_empty()
        || is_masked(v)
        || is_placeholder(v)
        || is_reference(v, after)
        || matches!(
            l.as_str(),
            "none"
                | "null"
                | "nil"
                | "true"
                | "false"
                | "undefined"
                | "n/a"
                | "na"
                | "unknown"
                | "-"
                | "tbd"
                | "redacted"
        )
        || v.starts_with("${")
        || v.starts_with("{{")
        || v.contains("](")
}

/// A secret after a credential name (`password=`, `"api_key": "`, `X-Auth-Hdr:`): a password
/// may be a word, a code (`pin`, `otp`) is short and has digits, anything else must look
/// machine-made (UUIDs and hex accepted after such a name).
pub fn named_secret(span: &str, before: &str, after: &str) -> bool {
    let Some((NameKind::Secret, phrase)) = kind_of(before) else { return false };
    if truncated_quoted(span, before, after) || inside_identifier(before) {
        return false;
    }
    let v = strip_quotes(span);
    if no_value(v, after) {
        return false;
    }
    if is_password_phrase(&phrase) {
        return password_value(span, before, after);
    }
    if is_code_phrase(&phrase) {
        let n = v.chars().count();
        return (3..=64).contains(&n)
            && v.bytes().any(|b| b.is_ascii_digit())
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !v.bytes().all(|b| b == v.as_bytes()[0]);
    }
    env_secret(span, before, after)
}

/// A personal identifier or contact value after its name (`"ssn": "`, `dl_number=`,
/// `emergency_phone: `, `geb_datum `): it has digits (or is an upper-case document code),
/// and is not a word or prose.
pub fn named_pii(span: &str, before: &str, after: &str) -> bool {
    let Some((NameKind::Pii, phrase)) = kind_of(before) else { return false };
    if truncated_quoted(span, before, after) || inside_identifier(before) {
        return false;
    }
    let v = strip_quotes(span).trim();
    let n = v.chars().count();
    if !(2..=120).contains(&n) || no_value(v, after) || is_url(v) || is_path(v) {
        return false;
    }
    if is_phone_phrase(&phrase) {
        // `named.phone` reads phone numbers, which end where the digits do.
        return false;
    }
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let code = n >= 6 && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let words = v.split_whitespace().count();
    (digits >= 2 || code) && words <= 6
}

fn is_phone_phrase(p: &str) -> bool {
    ["phone", "tel", "mobile", "msisdn", "fax", "contact number", "rufnummer", "handy", "cell"]
        .iter()
        .any(|w| p.contains(w))
}

/// A phone number after a phone name (`emergency_phone: `, `"msisdn": "`): 6 to 15 digits.
pub fn named_phone(span: &str, before: &str, after: &str) -> bool {
    let Some((NameKind::Pii, phrase)) = kind_of(before) else { return false };
    if !is_phone_phrase(&phrase) || inside_identifier(before) {
        return false;
    }
    // The number ends here, not in the middle of a longer one.
    if after.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return false;
    }
    let digits = span.bytes().filter(u8::is_ascii_digit).count();
    (6..=15).contains(&digits) && !span.bytes().filter(u8::is_ascii_digit).all(|b| b == span.as_bytes()[0])
}

/// A person's name after its label (`patient_name: `, `"first_name": "`): one to six words,
/// each capitalised (or an initial, or a particle such as `van` or `de`), no digits or code.
pub fn named_person(span: &str, before: &str, after: &str) -> bool {
    let Some((NameKind::Person, _)) = kind_of(before) else { return false };
    if truncated_quoted(span, before, after) || inside_identifier(before) {
        return false;
    }
    let v = strip_quotes(span).trim().trim_end_matches([',', '.', ';']);
    looks_like_name(v) && !no_value(v, after)
}

/// A person's name: what `named_person` accepts.
pub(super) fn looks_like_name(v: &str) -> bool {
    const PARTICLES: &[&str] = &[
        "van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "la", "le", "bin", "al", "y", "e", "dos",
        "das", "ten", "ter", "st.", "zu", "af",
    ];
    let n = v.chars().count();
    if !(2..=80).contains(&n) || v.chars().any(|c| c.is_ascii_digit() || "(){}[]=_/@#$%*<>|\\:;!?".contains(c)) {
        return false;
    }
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.is_empty() || words.len() > 6 {
        return false;
    }
    let capitalised = |w: &str| {
        let mut cs = w.chars();
        let first = cs.next().is_some_and(char::is_uppercase);
        // `A.` is an initial; the rest of a word is letters, `'`, `-` or `.`.
        first && cs.all(|c| c.is_alphabetic() || matches!(c, '\'' | '-' | '.' | '’'))
    };
    words.iter().all(|w| capitalised(w) || PARTICLES.contains(&w.to_lowercase().as_str()))
        && words.iter().any(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
}

/// A postal address after its label (`billing_address: `, `"anschrift": "`, or plain
/// `address:` when the value reads like one): letters and a house or postal number, more than
/// one word, not a URL, an email, a path or a network address.
pub fn named_address(span: &str, before: &str, after: &str) -> bool {
    let plain = {
        let key = key_of(before).to_lowercase();
        matches!(
            key.as_str(),
            "address"
                | "adresse"
                | "adres"
                | "adress"
                | "dirección"
                | "direccion"
                | "indirizzo"
                | "endereço"
                | "endereco"
        )
    };
    let labelled = matches!(kind_of(before), Some((NameKind::Address, _)));
    if !(labelled || plain) || truncated_quoted(span, before, after) || inside_identifier(before) {
        return false;
    }
    let v = strip_quotes(span).trim().trim_end_matches([',', '.', ';']);
    let n = v.chars().count();
    if !(6..=160).contains(&n) || no_value(v, after) || is_url(v) || is_email(v) || is_path(v) {
        return false;
    }
    let has_digit = v.bytes().any(|b| b.is_ascii_digit());
    let letters = v.chars().filter(|c| c.is_alphabetic()).count();
    let words = v.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).count();
    if !has_digit || letters < 3 || words < 2 || v.contains("://") || v.contains('@') {
        return false;
    }
    // `address: 10.0.0.5:8080` or `0x7ffd...` are not postal.
    if v.contains(':') || v.starts_with("0x") {
        return false;
    }
    !plain || v.contains(',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_before_a_value_in_any_syntax() {
        for (before, key) in [
            ("{\"api_key\": \"", "api_key"),
            ("  POSTGRES_PASSWORD: ", "POSTGRES_PASSWORD"),
            ("<creds>", "creds"),
            ("X-Auth-Hdr: ", "X-Auth-Hdr"),
            ("process.env.TOKEN ?? '", "process.env.TOKEN"),
            ("\\\"clé_secrète\\\": \\\"", "clé_secrète"),
            ("export RABBITMQ_DEFAULT_PASS='", "RABBITMQ_DEFAULT_PASS"),
            ("settings[\"db_password\"] = \"", "db_password"),
        ] {
            assert_eq!(key_of(before), key, "{before}");
        }
    }

    #[test]
    fn a_label_of_several_words_is_read_whole() {
        assert_eq!(kind_of("2FA recovery seed: ").map(|k| k.0), Some(NameKind::Secret));
        assert_eq!(kind_of("Cloudflare API token: ").map(|k| k.0), Some(NameKind::Secret));
        assert_eq!(kind_of("the token count: "), None);
    }

    #[test]
    fn each_kind_accepts_its_values_and_refuses_the_rest() {
        assert!(named_secret("harbor-dragon-nebula16", "    POSTGRES_PASSWORD: ", "\n"));
        assert!(named_secret(
            "cff62b56548eff925543dfee864482ae80e42006def1b9ef774b89ec67dbcc6d",
            "{\"authkey\": \"",
            "\"}"
        ));
        assert!(named_secret("d4859628-d146-46fd-91f0-d7b3573eeb0b", "$ X-Access-Code: ", "\n"));
        assert!(!named_secret("os.environ[\"DB_PASSWORD\"]", "password = ", "\n"));
        assert!(!named_secret("${DB_PASSWORD}", "POSTGRES_PASSWORD: ", "\n"));
        assert!(!named_secret("[FILTERED]", "password=", " "));
        assert!(!named_secret("abc123def456ghi", "token_count: ", "\n"), "a count, not a token");
        assert!(named_phone("677 30 54 30", "emergency_phone: ", "\n"));
        assert!(!named_pii("677 30 54 30", "emergency_phone: ", "\n"), "phones are named.phone's");
        assert!(!named_phone("2.14.0", "mobile_app: ", "\n"));
        assert!(named_pii("389126643", "\"dl_number\": \"", "\""));
        assert!(named_pii("JWRTKLNXF", "passport_number: ", "\n"));
        assert!(!named_pii("unknown", "passport_number: ", "\n"));
        assert!(!named_pii("see the form", "ssn: ", "\n"));
        assert!(named_person("Vinaya Brahmbhatt", "patient_name: ", "\n"));
        assert!(named_person("Micheletto A. Endrizzi", "full_name: ", "\n"));
        assert!(named_person("Maria de la Cruz", "\"last_name\": \"", "\""));
        assert!(!named_person("models.CharField(max_length=150)", "last_name = ", "\n"));
        assert!(!named_person("{{ user.first_name }}", "first_name: ", "\n"));
        assert!(!named_person("required", "first_name: ", "\n"));
        assert!(named_address("Prinsengracht 169, 9711 LM Groningen", "\"anschrift\": \"", "\""));
        assert!(named_address("Calle Mayor 7, 2º D, 28013 Madrid", "address: ", "\n"));
        assert!(!named_address("10.0.0.5:8080", "address: ", "\n"));
        assert!(!named_address("db.internal", "server_address: ", "\n"));
        assert!(!named_address("Main Street", "address: ", "\n"), "no number: not an address to remove");
    }
}
