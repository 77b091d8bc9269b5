//! `dynamo-shadow rules`: the built-in detection rules and sensitive-name phrases.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use dynamo_shadow_core::names::NameRules;
use dynamo_shadow_core::Sanitizer;

pub fn run() -> ExitCode {
    let s = Sanitizer::default_policy();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let _ = writeln!(out, "{:<32} {:<8} NAME", "ID", "CATEGORY");
    for r in s.detectors().rules() {
        let _ = writeln!(out, "{:<32} {:<8} {}", r.spec.id, r.spec.category, r.spec.name);
    }
    for (phrase, cat) in NameRules::phrases() {
        let _ = writeln!(
            out,
            "{:<32} {:<8} attribute name ending in \"{phrase}\"",
            format!("name:{}", phrase.replace(' ', "_")),
            cat
        );
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}
