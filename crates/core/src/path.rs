//! Where a value is in an item: the one path type used in errors, decisions and audit
//! findings.
//!
//! Map keys can be data (an email or an account number used as a key), so [`Path`]'s
//! `Display` shows a segment that does not look like an identifier as `<key>`: a path in a
//! message or a log line never carries a value.

use std::fmt;

/// One step of a path: a map key (or attribute name), or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Name(String),
    Index(usize),
}

/// A path from the item's top level: `profile.emails[2]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(Vec<Segment>);

impl Path {
    /// The item itself.
    pub fn root() -> Self {
        Path(Vec::new())
    }

    /// A top-level attribute.
    pub fn attr(name: &str) -> Self {
        Path(vec![Segment::Name(name.to_string())])
    }

    pub fn child(&self, name: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Name(name.to_string()));
        p
    }

    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(i));
        p
    }

    pub fn push_name(&mut self, name: &str) {
        self.0.push(Segment::Name(name.to_string()));
    }

    pub fn push_index(&mut self, i: usize) {
        self.0.push(Segment::Index(i));
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The top-level attribute this path starts at, if any.
    pub fn top(&self) -> Option<&str> {
        match self.0.first() {
            Some(Segment::Name(n)) => Some(n),
            _ => None,
        }
    }
}

impl FromIterator<Segment> for Path {
    fn from_iter<I: IntoIterator<Item = Segment>>(iter: I) -> Self {
        Path(iter.into_iter().collect())
    }
}

/// A name as it may appear in messages and logs: itself if it looks like an identifier,
/// else `<key>`.
pub fn shown_name(name: &str) -> &str {
    let identifier = name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'#' | b' '))
        && name.bytes().filter(u8::is_ascii_digit).count() < 6
        // A long word with a digit in it is a token, not a name (`sk_live_4eC39HqLyjWD...`).
        && name.split(['_', '-', '#', ' ']).all(|w| w.len() < 12 || (w.len() < 32 && !w.bytes().any(|b| b.is_ascii_digit())));
    if identifier {
        name
    } else {
        "<key>"
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Name(n) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(shown_name(n))?;
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl serde::Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_keys_that_look_like_data() {
        let p = Path::attr("by_email").child("alice@example.com").index(3).child("note");
        assert_eq!(p.to_string(), "by_email.<key>[3].note");
        assert_eq!(Path::attr("accounts").child("DE89370400440532013000").to_string(), "accounts.<key>");
        assert_eq!(Path::attr("X-Api-Key").to_string(), "X-Api-Key");
        assert_eq!(Path::root().to_string(), "");
        assert_eq!(Path::attr("last_seen_at").to_string(), "last_seen_at");
        assert_eq!(Path::attr("m").child("sk_live_4eC39HqLyjWDarjtT1zdp7dc").to_string(), "m.<key>");
        assert_eq!(Path::attr("m").child("ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ").to_string(), "m.<key>");
        assert_eq!(Path::attr("notificationPreferences").to_string(), "notificationPreferences");
        assert_eq!(Path::attr("address_line2").to_string(), "address_line2");
    }
}
