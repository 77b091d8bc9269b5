//! `dynamo-shadow rules`: the built-in detection rules by family, and the sensitive-name phrases.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use dynamo_shadow_core::detect::builtin_specs;
use dynamo_shadow_core::names::NameRules;

pub fn run() -> ExitCode {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut by_family: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for r in builtin_specs() {
        by_family.entry(r.family.as_str()).or_default().push(r);
    }
    for (family, rules) in &by_family {
        let _ = writeln!(out, "# {family} ({} rules)", rules.len());
        let _ = writeln!(out, "{:<44} {:<8} NAME", "ID", "CATEGORY");
        for r in rules {
            let _ = writeln!(out, "{:<44} {:<8} {}", r.id, r.category, r.name);
        }
        let _ = writeln!(out);
    }
    let names = NameRules::builtin();
    let _ = writeln!(out, "# attribute names ({} phrases)", names.phrases().count());
    for (phrase, cat) in names.phrases() {
        let _ = writeln!(
            out,
            "{:<44} {:<8} attribute name ending in \"{phrase}\"",
            format!("name:{}", phrase.replace(' ', "_")),
            cat
        );
    }
    let total: usize = by_family.values().map(Vec::len).sum();
    let _ = writeln!(out, "\n{total} detection rules in {} families", by_family.len());
    let _ = out.flush();
    ExitCode::SUCCESS
}
