//! Small text, digit and date helpers the validators share (no validators here).

/// The ASCII digits of `s`, as numbers.
pub(super) fn digits(s: &str) -> Vec<u32> {
    s.bytes().filter(u8::is_ascii_digit).map(|b| (b - b'0') as u32).collect()
}

pub(super) fn all_same<T: PartialEq>(d: &[T]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

pub(super) fn number(d: &[u32]) -> u64 {
    d.iter().fold(0u64, |a, &x| a * 10 + x as u64)
}

pub(super) fn leap(y: u32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(super) fn valid_date(y: u32, m: u32, d: u32) -> bool {
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

pub(super) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One of `words` (lowercase) occurs in `text` as a word: it starts at a word boundary and,
/// for words of four bytes or fewer (`sin`, `nhs`, `cpf`), also ends at one (so `sin` is not
/// found in `using`). Longer words match as prefixes (`steuer` in `Steuer-IdNr`).
pub(super) fn has_word(text: &str, words: &[&str]) -> bool {
    // `social_insurance_number`, `steuer-id`: identifiers and hyphens separate words too.
    let lower = text.to_ascii_lowercase().replace(['_', '-'], " ");
    let hay = lower.as_bytes();
    words.iter().any(|w| {
        let w = w.replace(['_', '-'], " ");
        let w = w.as_bytes();
        let mut i = 0;
        while let Some(p) = find(&hay[i..], w) {
            let s = i + p;
            let e = s + w.len();
            let start_ok = s == 0 || !is_word_byte(hay[s - 1]) || !is_word_byte(w[0]);
            let end_ok = w.len() > 4 || e == hay.len() || !hay[e].is_ascii_alphabetic();
            if start_ok && end_ok {
                return true;
            }
            i = s + 1;
        }
        false
    })
}
