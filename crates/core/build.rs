//! Compresses the rule files and word lists the core embeds (`rules/`): about 0.9 MB of
//! text is most of a function binary's read-only data, and deflated it is a quarter of that.
//! They are inflated once, on first use (`src/embedded.rs`).

use std::path::Path;

const FILES: &[&str] = &[
    "cloud.toml",
    "devtools.toml",
    "observability.toml",
    "comms.toml",
    "payments.toml",
    "saas.toml",
    "ai.toml",
    "keys.toml",
    "generic.toml",
    "pii.toml",
    "national_ids.toml",
    "person.toml",
    "named.toml",
    "attribute_names.toml",
    "names/given.txt",
    "names/surnames.txt",
    "names/common_words.txt",
];

fn main() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded");
    std::fs::create_dir_all(out.join("names")).expect("create OUT_DIR/embedded");
    for file in FILES {
        let src = rules.join(file);
        println!("cargo:rerun-if-changed={}", src.display());
        let text = std::fs::read(&src).unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
        let packed = miniz_oxide::deflate::compress_to_vec(&text, 9);
        std::fs::write(out.join(format!("{file}.z")), packed).expect("write a compressed rule file");
    }
}
