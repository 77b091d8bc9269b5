//! The rule files and word lists from `rules/`, embedded deflated (see `build.rs`) and
//! inflated once per process on first use.

/// The text of one embedded file, by its path under `rules/`.
macro_rules! embedded {
    ($file:literal) => {{
        static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TEXT.get_or_init(|| {
            $crate::embedded::inflate(include_bytes!(concat!(env!("OUT_DIR"), "/embedded/", $file, ".z")), $file)
        })
        .as_str()
    }};
}
pub(crate) use embedded;

pub(crate) fn inflate(packed: &[u8], file: &str) -> String {
    // The bytes were written by our build script from files in this repository: a failure
    // here is a broken build, not bad input.
    let bytes = miniz_oxide::inflate::decompress_to_vec(packed).unwrap_or_else(|_| panic!("embedded {file} inflates"));
    String::from_utf8(bytes).unwrap_or_else(|_| panic!("embedded {file} is UTF-8"))
}
