//! Validators for person names and postal addresses (`rules/person.toml`).
//!
//! Names are found by context (a person label, a salutation, a sign-off, an honorific, an email
//! display name) and confirmed here against census-derived name lists shipped as data:
//! `rules/names/given.txt`, `rules/names/surnames.txt`, and `rules/names/common_words.txt`
//! (frequent English words: a token that is one of the ~3,000 most frequent and no name makes a span a non-name,
//! and a name that is also one of them, such as `Mark`, `Rose` or `White`, is *weak*: it
//! confirms a span only with a second name token or in a strong context).
//!
//! Every validator has the engine's signature `fn(span, before, after) -> bool`; `before` and
//! `after` are at most 64 bytes of text around the span. std only.
//!
//! | validator | used by | accepts |
//! |---|---|---|
//! | `person_name` | person labels (`Patient:`, `first_name=`, ...) | 1-4 name tokens; one token only if it is a strong name |
//! | `person_name_full` | generic labels (`name:`, `assignee:`), `assigned to`, email display names | at least two name tokens (or an initial and a surname) |
//! | `person_given` | salutations, self-introductions | like `person_name`, and a single weak name (`Hi Will,`) |
//! | `person_signoff` | sign-offs (`Regards,\nJane`) | like `person_given`; a single token only at the end of a line |
//! | `person_surname` | honorifics (`Mrs. White`, `Dr Nakamura`) | any capitalized non-word after the honorific |
//! | `street_address` | street addresses | not a price, a version, a count or a ranking (`Top 10 ...`) |
//! | `uk_postcode` | UK addresses and postcodes | the postcode's area is one of the 124 real ones |

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// One entry a line; blank lines and `#` comment lines are skipped.
fn load_list(text: &'static str) -> HashSet<&'static str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

fn set_of(
    cell: &'static OnceLock<HashSet<&'static str>>,
    words: &'static [&'static str],
) -> &'static HashSet<&'static str> {
    cell.get_or_init(|| words.iter().copied().collect())
}

fn given() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    S.get_or_init(|| load_list(crate::embedded::embedded!("names/given.txt")))
}

fn surnames() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    S.get_or_init(|| load_list(crate::embedded::embedded!("names/surnames.txt")))
}

/// Frequent English words with their frequency rank (0 = most frequent).
fn common_words() -> &'static HashMap<&'static str, usize> {
    static S: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    S.get_or_init(|| {
        let mut m = HashMap::new();
        for w in crate::embedded::embedded!("names/common_words.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let rank = m.len();
            m.entry(w).or_insert(rank);
        }
        m
    })
}

/// Words this frequent that are no name reject a span (`Order`, `Summary`, `Team`); rarer ones
/// (`doe`, `legion`) only keep a span from being confirmed by themselves.
const VERY_COMMON_RANK: usize = 3000;

/// Never part of a person name in these contexts, even where a list has them: organisation
/// suffixes, roles and departments, placeholders, assistants and bots.
const STOP: &[&str] = &[
    "inc",
    "corp",
    "corporation",
    "co",
    "company",
    "llc",
    "llp",
    "ltd",
    "limited",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sarl",
    "sas",
    "srl",
    "spa",
    "bv",
    "nv",
    "ab",
    "oy",
    "kk",
    "pty",
    "pvt",
    "group",
    "holdings",
    "partners",
    "associates",
    "international",
    "foundation",
    "trust",
    "bank",
    "university",
    "college",
    "school",
    "hospital",
    "clinic",
    "center",
    "centre",
    "department",
    "dept",
    "office",
    "committee",
    "board",
    "council",
    "staff",
    "management",
    "team",
    "teams",
    "all",
    "everyone",
    "everybody",
    "folks",
    "guys",
    "there",
    "world",
    "customer",
    "customers",
    "client",
    "clients",
    "user",
    "users",
    "admin",
    "administrator",
    "root",
    "support",
    "helpdesk",
    "service",
    "services",
    "sales",
    "billing",
    "accounts",
    "account",
    "finance",
    "hr",
    "it",
    "ops",
    "devops",
    "security",
    "legal",
    "marketing",
    "info",
    "contact",
    "noreply",
    "no-reply",
    "system",
    "bot",
    "robot",
    "assistant",
    "ai",
    "claude",
    "chatgpt",
    "gpt",
    "gemini",
    "copilot",
    "alexa",
    "siri",
    "cortana",
    "bixby",
    "google",
    "bard",
    "llama",
    "test",
    "tester",
    "testing",
    "demo",
    "sample",
    "example",
    "placeholder",
    "dummy",
    "foo",
    "bar",
    "baz",
    "qux",
    "unknown",
    "anonymous",
    "anon",
    "none",
    "null",
    "nil",
    "undefined",
    "na",
    "tbd",
    "tba",
    "pending",
    "redacted",
    "hidden",
    "private",
    "deleted",
    "removed",
    "blank",
    "empty",
    "default",
    "new",
    "valued",
    "sir",
    "sirs",
    "madam",
    "madame",
    "mam",
    "maam",
    "mr",
    "mrs",
    "ms",
    "mx",
    "dr",
    "prof",
    "gentlemen",
    "ladies",
    "gents",
    "people",
    "hello",
    "hi",
    "hey",
    "thanks",
    "thank",
    "regards",
    "cheers",
    "best",
    "sincerely",
    "dear",
    "hiring",
    "manager",
    "recruiter",
    "applicant",
    "candidate",
    "member",
    "members",
    "partner",
    "colleague",
    "colleagues",
    "owner",
    "agent",
    "santa",
    "claus",
    "diary",
];

/// Forms of address that are surnames on the lists (Bishop, Love, Judge) but, right after a
/// greeting or a label, are an address term: rejected everywhere except after an honorific.
const ADDRESS_TERMS: &[&str] = &[
    "friend",
    "friends",
    "guest",
    "guests",
    "reader",
    "readers",
    "mate",
    "mates",
    "buddy",
    "pal",
    "love",
    "darling",
    "honey",
    "sweetie",
    "babe",
    "baby",
    "doctor",
    "doc",
    "pastor",
    "judge",
    "bishop",
    "lord",
    "god",
    "father",
    "mother",
    "mom",
    "mum",
    "dad",
    "boss",
    "chief",
    "coach",
    "captain",
    "officer",
    "sergeant",
    "nurse",
    "professor",
    "teacher",
    "student",
    "students",
    "class",
    "parent",
    "parents",
    "family",
    "neighbor",
    "neighbour",
    "neighbors",
    "neighbours",
    "angel",
    "king",
    "queen",
    "prince",
    "princess",
    "uncle",
    "aunt",
    "cousin",
    "brother",
    "sister",
    "son",
    "daughter",
    "grandma",
    "grandpa",
    "granny",
];

/// Brands and fictional doctors that follow an honorific: `Dr Pepper`, `Dr. Martens`, `Mr. Bean`.
const HONORIFIC_STOP: &[&str] = &[
    "pepper",
    "martens",
    "oetker",
    "scholl",
    "scholls",
    "seuss",
    "who",
    "evil",
    "octopus",
    "strangelove",
    "jekyll",
    "hyde",
    "frankenstein",
    "no",
    "oz",
    "robot",
    "clean",
    "bean",
    "t",
    "big",
    "right",
    "potato",
    "freeze",
    "fix",
    "fixit",
    "president",
    "speaker",
    "chairman",
    "chair",
    "secretary",
    "chancellor",
    "minister",
    "mayor",
    "universe",
    "world",
    "america",
    "england",
    "out",
];

/// Person-shaped company and brand names.
const BRAND_PAIRS: &[&str] = &[
    "goldman sachs",
    "morgan stanley",
    "merrill lynch",
    "charles schwab",
    "wells fargo",
    "dow jones",
    "baker hughes",
    "harley davidson",
    "rolls royce",
    "johnson controls",
    "ernst young",
    "john deere",
    "ralph lauren",
    "calvin klein",
    "tommy hilfiger",
    "hugo boss",
    "louis vuitton",
    "estee lauder",
    "christian dior",
    "walt disney",
    "marks spencer",
    "procter gamble",
    "jack daniels",
    "ben jerry",
    "dolce gabbana",
    "tory burch",
    "kate spade",
    "michael kors",
    "victoria secret",
    "santa claus",
];

/// Lower-case particles that may stand between name tokens (`Maria de la Cruz`, `Ludwig van Beethoven`).
const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "do", "dos", "das", "du", "la", "le", "ter", "ten",
    "zu", "bin", "ibn", "al", "el", "y", "e",
];

fn stop() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    set_of(&S, STOP)
}
fn address_terms() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    set_of(&S, ADDRESS_TERMS)
}
fn honorific_stop() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    set_of(&S, HONORIFIC_STOP)
}
fn brand_pairs() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    set_of(&S, BRAND_PAIRS)
}

/// Lower-cases and folds a token to the ASCII form the lists use (`Müller` -> `muller`,
/// `Łukasz` -> `lukasz`, `Иванов` -> `ivanov`); `’` becomes `'`.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii() {
            out.push(c);
        } else if c == '\u{2019}' {
            out.push('\'');
        } else if let Some(f) = fold_char(c) {
            out.push_str(f);
        } else {
            out.push(c);
        }
    }
    out
}

/// What the lists say about one capitalized token.
#[derive(Debug, Clone, Copy, Default)]
struct Tok {
    given: bool,
    surname: bool,
    /// A frequent English word.
    common: bool,
    /// One of the most frequent English words.
    very_common: bool,
    stop: bool,
    address_term: bool,
    honorific_stop: bool,
    letters: usize,
    /// All capitals, at most 3 letters and on no list: an acronym (`CI`, `HR`, `USA`).
    acronym: bool,
}

impl Tok {
    fn known(&self) -> bool {
        self.given || self.surname
    }
    /// A name that is not also a common word.
    fn strong(&self) -> bool {
        self.known() && !self.common
    }
    /// A very common word that is no name (`Order`, `Summary`, `Release`), or an acronym.
    fn word(&self) -> bool {
        (self.very_common || self.acronym) && !self.known()
    }
}

enum Part {
    Particle,
    Initial,
    Name(Tok),
}

fn is_initial(t: &str) -> bool {
    let b = t.as_bytes();
    match b.len() {
        1 => b[0].is_ascii_uppercase(),
        _ => b.len() % 2 == 0 && b.len() <= 6 && b.chunks(2).all(|c| c[0].is_ascii_uppercase() && c[1] == b'.'),
    }
}

/// Classifies one space-separated token of a candidate span; `None` if it is not name-shaped.
fn classify(t: &str, first: bool, last: bool) -> Option<Part> {
    if !first && !last && PARTICLES.contains(&t) {
        return Some(Part::Particle);
    }
    if is_initial(t) {
        return Some(Part::Initial);
    }
    // Lower-case prefixes: al-Hassan, el-Sayed, d'Artagnan.
    let mut body = t;
    for p in ["al-", "el-", "d'", "d\u{2019}"] {
        if let Some(rest) = t.strip_prefix(p) {
            body = rest;
            break;
        }
    }
    let mut chars = body.chars();
    let c0 = chars.next()?;
    if !c0.is_uppercase() {
        return None;
    }
    let mut letters = 1;
    for c in chars {
        if c.is_alphabetic() {
            letters += 1;
        } else if !matches!(c, '\'' | '\u{2019}' | '-') {
            return None;
        }
    }
    if letters < 2 {
        return None;
    }
    let key = fold(t);
    let key = key.strip_suffix("'s").unwrap_or(&key).to_string();
    let g = given();
    let s = surnames();
    let in_list = |set: &HashSet<&'static str>| -> bool {
        if set.contains(key.as_str()) {
            return true;
        }
        let no_apos = key.replace('\'', "");
        if no_apos != key && set.contains(no_apos.as_str()) {
            return true;
        }
        let body = ["al-", "el-", "d'", "o'"].iter().find_map(|p| key.strip_prefix(p)).unwrap_or(&key);
        if body != key && set.contains(body) {
            return true;
        }
        key.contains('-') && key.split('-').any(|p| p.len() >= 2 && set.contains(p))
    };
    let (given_hit, surname_hit) = (in_list(g), in_list(s));
    Some(Part::Name(Tok {
        given: given_hit,
        surname: surname_hit,
        common: common_words().contains_key(key.as_str()),
        very_common: common_words().get(key.as_str()).is_some_and(|&r| r < VERY_COMMON_RANK),
        stop: stop().contains(key.as_str()),
        address_term: address_terms().contains(key.as_str()),
        honorific_stop: honorific_stop().contains(key.as_str()),
        letters,
        acronym: letters <= 3 && t.chars().all(|c| !c.is_lowercase()),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// After a person label: `Patient:`, `first_name=`.
    Label,
    /// After a generic label (`name:`, `assignee:`) or `assigned to`: two tokens needed.
    Full,
    /// A greeting or a self-introduction: `Hi Will,` is a name.
    Greeting,
    /// After a sign-off; a single token only when it ends the line.
    Signoff,
    /// After an honorific: `Mrs. White`, `Dr Nakamura-Oyelaran`.
    Honorific,
}

/// The tokens of a plain (not inverted) name span, or `None` if one is not name-shaped.
fn parts(span: &str) -> Option<(Vec<Tok>, usize)> {
    let toks: Vec<&str> = span.split([' ', '\t']).filter(|t| !t.is_empty()).collect();
    if toks.is_empty() || toks.len() > 10 {
        return None;
    }
    // A leading honorific the pattern did not take apart (`MR JAMES T KIRK`).
    let toks = match toks.split_first() {
        Some((first, rest)) if !rest.is_empty() && HONORIFICS.contains(&fold(first.trim_end_matches('.')).as_str()) => {
            rest.to_vec()
        }
        _ => toks,
    };
    let mut names = Vec::new();
    let mut initials = 0;
    for (i, t) in toks.iter().enumerate() {
        match classify(t, i == 0, i + 1 == toks.len())? {
            Part::Particle => {}
            Part::Initial => initials += 1,
            Part::Name(tok) => names.push(tok),
        }
    }
    Some((names, initials))
}

const HONORIFICS: &[&str] =
    &["mr", "mrs", "ms", "mx", "dr", "prof", "miss", "sir", "herr", "frau", "mme", "mlle", "sr", "sra"];

fn rejected_token(t: &Tok, ctx: Ctx) -> bool {
    if ctx == Ctx::Honorific {
        // After an honorific a surname wins over a stop word (Mrs. Bishop), brands do not.
        return t.honorific_stop || (t.stop && !t.surname) || t.word();
    }
    t.stop || t.address_term || t.word()
}

fn brand(span: &str) -> bool {
    let key = fold(span);
    let words: Vec<&str> = key.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    words.len() == 2 && brand_pairs().contains(words.join(" ").as_str())
}

/// Judges a plain name span (`Maria de la Cruz`, `J. Smith`, `JOHN A SMITH`).
fn plain(span: &str, ctx: Ctx) -> bool {
    let Some((names, initials)) = parts(span) else { return false };
    let n = names.len();
    if n == 0 || n > 4 || brand(span) {
        return false;
    }
    // After a greeting or a label, a known given name carries the surname with it even when
    // the surname is also a word (`Bonjour Amanda Good,`, `Dear Mark White`).
    let given_first = n >= 2
        && matches!(ctx, Ctx::Greeting | Ctx::Signoff | Ctx::Label)
        && names[0].given
        && !names[0].common
        && !rejected_token(&names[0], ctx);
    if !given_first && names.iter().any(|t| rejected_token(t, ctx)) {
        return false;
    }
    if ctx == Ctx::Honorific {
        // Any capitalized non-word of 2+ letters after an honorific is taken as a surname.
        return names.iter().all(|t| t.known() || t.letters >= 2);
    }
    if n == 1 {
        let t = names[0];
        if initials > 0 {
            // "J. Smith", "A. Müller"
            return t.surname || (ctx != Ctx::Full && t.given);
        }
        return match ctx {
            Ctx::Label => t.strong(),
            Ctx::Full => false,
            Ctx::Greeting | Ctx::Signoff => t.known(),
            Ctx::Honorific => unreachable!(),
        };
    }
    let known = names.iter().filter(|t| t.known()).count();
    if known * 2 < n {
        return false;
    }
    // One name that is no common word, or a weak given name followed by a weak surname
    // ("Mark White", "Bill Gates").
    names.iter().any(Tok::strong) || (names[0].given && names[n - 1].surname)
}

/// Judges `Surname, Given` (`Smith, John`, `Nguyen, Van An`).
fn inverted(left: &str, right: &str) -> bool {
    let (Some((l, li)), Some((r, _))) = (parts(left), parts(right)) else { return false };
    if l.is_empty() || r.is_empty() || l.len() + r.len() > 5 || li > 0 {
        return false;
    }
    if l.iter().chain(r.iter()).any(|t| rejected_token(t, Ctx::Label)) {
        return false;
    }
    let (surname, first) = (l[l.len() - 1], r[0]);
    (surname.surname && !surname.common) || (first.given && !first.common) || (surname.surname && first.given)
}

fn judge(span: &str, ctx: Ctx) -> bool {
    let span = span.trim();
    if span.is_empty() || span.len() > 200 {
        return false;
    }
    if ctx == Ctx::Greeting {
        // "Sarah and Tom", "John, Maria": one name is enough.
        return split_names(span).into_iter().any(|p| plain(p, ctx));
    }
    if let Some((left, right)) = span.split_once(", ") {
        if right.contains(", ") {
            return false;
        }
        // "Jane Doe, Premium": the name before the comma alone (the next word goes with it).
        return inverted(left, right) || (plain(left, ctx) && parts(right).is_some());
    }
    plain(span, ctx)
}

fn split_names(span: &str) -> Vec<&str> {
    let mut out = vec![span];
    for sep in [", ", " and ", " & ", " und ", " et ", " y ", " e "] {
        out = out.into_iter().flat_map(|p| p.split(sep)).collect();
    }
    out
}

/// 1-4 name tokens after a person label; a single token must be a strong name (`Patient: Smith`,
/// not `Customer: Chase`).
pub fn person_name(span: &str, _before: &str, _after: &str) -> bool {
    judge(span, Ctx::Label)
}

/// A full name (two or more name tokens, or an initial and a surname) after a generic label.
pub fn person_name_full(span: &str, _before: &str, _after: &str) -> bool {
    judge(span, Ctx::Full)
}

/// A name in a greeting or self-introduction: a single given name or surname is enough, even a
/// weak one (`Hi Will,`), but not an address term (`Dear Customer`, `Hi Team`, `Hey Claude`).
pub fn person_given(span: &str, _before: &str, _after: &str) -> bool {
    judge(span, Ctx::Greeting)
}

/// A name after a sign-off: like `person_given`, but a single token only when the line ends
/// after it (`Thanks,\nMark`, not `Thanks, Will do.`).
pub fn person_signoff(span: &str, _before: &str, after: &str) -> bool {
    if !judge(span, Ctx::Signoff) {
        return false;
    }
    let single = parts(span.trim()).is_some_and(|(names, initials)| names.len() == 1 && initials == 0);
    if !single {
        return true;
    }
    let rest = after.trim_start_matches([' ', '\t', '.', ',', '!']);
    rest.is_empty()
        || rest.starts_with(['\n', '\r', '"', '<', '}', ']', '|'])
        || rest.starts_with("\\n")
        || rest.starts_with("\\r")
}

/// A surname (or full name) after an honorific; rejects brands (`Dr Pepper`), common words
/// (`Miss Out`) and the `Dr` of a street address (`123 Oak Dr Springfield`).
pub fn person_surname(span: &str, before: &str, _after: &str) -> bool {
    if drive_not_doctor(before) {
        return false;
    }
    judge(span, Ctx::Honorific)
}

/// `before` ends with `<number> <Street> Dr ` (the abbreviation of Drive).
fn drive_not_doctor(before: &str) -> bool {
    let b = before.trim_end();
    let Some(rest) = b.strip_suffix("Dr.").or_else(|| b.strip_suffix("Dr")).or_else(|| b.strip_suffix("DR")) else {
        return false;
    };
    rest.split_whitespace()
        .rev()
        .take(4)
        .any(|w| w.bytes().all(|c| c.is_ascii_digit()) || w.ends_with(|c: char| c.is_ascii_digit()))
}

const NOT_A_HOUSE_NUMBER_BEFORE: &[&str] = &[
    "version", "ver", "v", "page", "pages", "chapter", "step", "steps", "level", "top", "buy", "get", "qty",
    "quantity", "size", "season", "episode", "part", "vol", "volume", "issue", "no", "number", "rank", "ranked", "id",
    "item", "items", "order", "orders", "sku", "pack", "of", "x", "over", "under", "only", "just", "about", "than",
    "best", "first", "last", "all", "these", "those", "the", "my", "our", "your", "their", "its",
];

/// A street address, not a price (`$5 Main Street Burger`), a version, a count or a ranking
/// (`Top 10 Park Avenue Restaurants`); house numbers never start with 0.
pub fn street_address(span: &str, before: &str, _after: &str) -> bool {
    let span = span.trim_start();
    if span.starts_with('0') {
        return false;
    }
    if span.starts_with(|c: char| c.is_ascii_digit()) {
        if let Some(c) = before.chars().last() {
            if matches!(c, '$' | '£' | '€' | '¥' | '#' | '.' | ',' | '/' | '+' | '-' | '*' | '×' | '~' | '@' | '^')
            {
                return false;
            }
        }
        let word = before.trim_end().rsplit(|c: char| !c.is_alphanumeric()).next().unwrap_or("").to_ascii_lowercase();
        if before.ends_with([' ', '\t']) && NOT_A_HOUSE_NUMBER_BEFORE.contains(&word.as_str()) {
            return false;
        }
        if word.bytes().all(|c| c.is_ascii_digit()) && !word.is_empty() && before.ends_with(' ') {
            // "2 x 12 Main Street"? a number right before the house number: a quantity.
            return false;
        }
    }
    true
}

/// The 124 postcode areas of the UK, Channel Islands and Isle of Man (Royal Mail).
const UK_AREAS: &[&str] = &[
    "AB", "AL", "B", "BA", "BB", "BD", "BF", "BH", "BL", "BN", "BR", "BS", "BT", "BX", "CA", "CB", "CF", "CH", "CM",
    "CO", "CR", "CT", "CV", "CW", "DA", "DD", "DE", "DG", "DH", "DL", "DN", "DT", "DY", "E", "EC", "EH", "EN", "EX",
    "FK", "FY", "G", "GL", "GU", "GY", "HA", "HD", "HG", "HP", "HR", "HS", "HU", "HX", "IG", "IM", "IP", "IV", "JE",
    "KA", "KT", "KW", "KY", "L", "LA", "LD", "LE", "LL", "LN", "LS", "LU", "M", "ME", "MK", "ML", "N", "NE", "NG",
    "NN", "NP", "NR", "NW", "OL", "OX", "PA", "PE", "PH", "PL", "PO", "PR", "RG", "RH", "RM", "S", "SA", "SE", "SG",
    "SK", "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST", "SW", "SY", "TA", "TD", "TF", "TN", "TQ", "TR", "TS", "TW",
    "UB", "W", "WA", "WC", "WD", "WF", "WN", "WR", "WS", "WV", "YO", "ZE",
];

/// The span ends with (or is) a UK postcode whose area exists (`SW1A 2AA`, `EC1A1BB`, `GIR 0AA`).
pub fn uk_postcode(span: &str, _before: &str, _after: &str) -> bool {
    let toks: Vec<&str> =
        span.split(|c: char| c.is_whitespace() || c == ',' || c == ';').filter(|t| !t.is_empty()).collect();
    // The outward code: the token before a 3-character inward code, or all but the last 3 characters.
    let outward = match toks.as_slice() {
        [.., outward, inward] if inward.len() == 3 && (2..=4).contains(&outward.len()) => *outward,
        [.., one] if (5..=7).contains(&one.len()) && one.is_ascii() => &one[..one.len() - 3],
        _ => return false,
    };
    if outward == "GIR" {
        return true;
    }
    let area: String = outward.chars().take_while(|c| c.is_ascii_uppercase()).collect();
    UK_AREAS.contains(&area.as_str())
}
/// Lower-case Latin (U+00DF..U+024F) and Cyrillic letters folded to ASCII, as the name lists are.
/// Generated from Unicode decompositions (plus ß, æ, ø, œ, ł, đ, ð, þ, ı and a Cyrillic transliteration).
fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'ъ' | 'ь' => "",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' | 'ǟ' | 'ǡ' | 'ǻ' | 'ȁ' | 'ȃ' | 'ȧ' | 'а' => {
            "a"
        }
        'æ' => "ae",
        'б' => "b",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ч' => "ch",
        'ð' | 'ď' | 'đ' | 'д' => "d",
        'ǆ' | 'ǳ' => "dz",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' | 'ȅ' | 'ȇ' | 'ȩ' | 'е' | 'ё' | 'э' => "e",
        'ƒ' | 'ф' => "f",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' | 'ǧ' | 'ǵ' | 'г' | 'ґ' => "g",
        'ĥ' | 'ħ' | 'ȟ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' | 'ȉ' | 'ȋ' | 'и' | 'і' => "i",
        'ĳ' => "ij",
        'ĵ' | 'ǰ' => "j",
        'ķ' | 'ĸ' | 'ǩ' | 'к' => "k",
        'х' => "kh",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' | 'л' => "l",
        'ǉ' => "lj",
        'м' => "m",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ǹ' | 'н' => "n",
        'ǌ' => "nj",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' | 'ǒ' | 'ǫ' | 'ǭ' | 'ȍ' | 'ȏ' | 'ȫ' | 'ȭ' | 'ȯ'
        | 'ȱ' | 'о' => "o",
        'œ' => "oe",
        'п' => "p",
        'ŕ' | 'ŗ' | 'ř' | 'ȑ' | 'ȓ' | 'р' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' | 'ș' | 'с' => "s",
        'ш' => "sh",
        'щ' => "shch",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' | 'т' => "t",
        'þ' => "th",
        'ц' => "ts",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' | 'ǔ' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' | 'ȕ' | 'ȗ'
        | 'у' => "u",
        'в' => "v",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' | 'ȳ' | 'й' | 'ы' => "y",
        'я' => "ya",
        'є' => "ye",
        'ї' => "yi",
        'ю' => "yu",
        'ź' | 'ż' | 'ž' | 'з' => "z",
        'ж' => "zh",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_load_and_skip_comments() {
        assert!(given().len() > 5000 && given().len() < 9000, "{}", given().len());
        assert!(surnames().len() > 8000 && surnames().len() < 16000, "{}", surnames().len());
        assert!(common_words().len() > 5000);
        for set in [given(), surnames()] {
            assert!(set.iter().all(|w| !w.starts_with('#') && !w.is_empty() && *w == w.to_lowercase()));
        }
        assert!(common_words().keys().all(|w| !w.starts_with('#')));
        assert!(common_words()["the"] < 5 && common_words()["order"] < VERY_COMMON_RANK);
        for n in ["maria", "john", "olga", "wei", "priya", "jurgen", "will"] {
            assert!(given().contains(n), "{n}");
        }
        for n in ["smith", "garcia", "nguyen", "muller", "kowalski", "patel", "zhang", "o'brien", "ivanova"] {
            assert!(surnames().contains(n), "{n}");
        }
    }

    #[test]
    fn folds_like_the_lists() {
        assert_eq!(fold("Müller"), "muller");
        assert_eq!(fold("JOSÉ"), "jose");
        assert_eq!(fold("Łukasz"), "lukasz");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Иванов"), "ivanov");
        assert_eq!(fold("O\u{2019}Brien"), "o'brien");
    }

    #[test]
    fn person_labels() {
        for s in [
            "Maria Gonzalez",
            "Jane Doe",
            "JOHN A SMITH",
            "Priya Patel",
            "Olga",
            "Ivanova",
            "Luca Rossi",
            "Smith, John",
            "Anne-Marie O'Brien",
            "Müller",
            "Smith",
            "José da Silva",
            "J. Smith",
            "Jane Doe, Premium",
            "Wei Zhang",
            "Mark White",
            "Bill Gates",
            "Kowalski",
            "Иван Петров",
            "MR JAMES T KIRK",
            "Mrs. Anne Boleyn",
        ] {
            assert!(person_name(s, "Patient: ", ""), "{s} should be a name");
        }
        for s in [
            "Acme Corp",
            "N",
            "Sales Team",
            "Mozilla",
            "Accounts Payable",
            "Chase",
            "Order Summary",
            "Guest",
            "Unknown",
            "Test User",
            "Morgan Stanley",
            "Goldman Sachs",
            "Grant",
            "Customer",
            "None",
            "Mark",
            "Release Notes",
            "The Billing Queue",
            "Premium Plus",
            "IBM",
        ] {
            assert!(!person_name(s, "Customer: ", ""), "{s} should not be a name");
        }
    }

    #[test]
    fn generic_labels_need_two_tokens() {
        for s in
            ["Maria Garcia", "Tom Becker", "José da Silva", "Wei Zhang", "Sarah Connor", "Nguyen, Van An", "A. Müller"]
        {
            assert!(person_name_full(s, "name: ", ""), "{s}");
        }
        for s in [
            "Order Summary",
            "Setup Python",
            "Jenkins",
            "Build And Deploy",
            "Mozilla",
            "Microsoft Word",
            "Support Team",
            "Jordan",
            "The Billing Queue",
            "Acme Support",
            "Notifications",
            "Billing",
            "Deploy Production",
            "Run Tests",
            "Checkout Code",
            "Install Dependencies",
            "Jenkins CI",
            "Smith LLC",
            "HR Team",
        ] {
            assert!(!person_name_full(s, "name: ", ""), "{s}");
        }
    }

    #[test]
    fn greetings() {
        for s in [
            "Maria Gonzalez",
            "John",
            "Sarah and Tom",
            "Okafor",
            "Jürgen",
            "Will",
            "Mark",
            "John, Maria",
            "Aisha Bello",
            "Camille",
            "Rachel",
        ] {
            assert!(person_given(s, "Hi ", ","), "{s}");
        }
        for s in [
            "Customer",
            "There",
            "World",
            "Team",
            "Claude",
            "Everyone",
            "Friend",
            "Valued Customer",
            "Sir",
            "Legion",
            "Important",
            "Monday",
            "Guest",
            "All",
        ] {
            assert!(!person_given(s, "Dear ", ","), "{s}");
        }
    }

    #[test]
    fn signoffs() {
        assert!(person_signoff("Jane Doe", "Kind regards,\n", "\nAcme Ltd"));
        assert!(person_signoff("Priya Raman", "Thanks, ", ""));
        assert!(person_signoff("Mark", "Cheers,\\n", ""));
        assert!(person_signoff("Lena", "Best,\n\n", "\n--"));
        assert!(person_signoff("Will", "Thanks,\n", "\n"));
        assert!(!person_signoff("Will", "Thanks, ", " do."));
        assert!(!person_signoff("The Acme Team", "Regards,\n", ""));
        assert!(!person_signoff("Sent", "Thanks!\n", " from my iPhone"));
        assert!(!person_signoff("John", "the best, ", " said"));
    }

    #[test]
    fn honorifics() {
        for s in ["Thompson", "Nakamura-Oyelaran", "Schneider", "Maria de la Cruz", "White", "Bishop", "Xiong", "Young"]
        {
            assert!(person_surname(s, "call Mrs. ", ""), "{s}");
        }
        for s in ["Pepper", "Out", "Right Now", "Martens", "Universe", "Acme Corp"] {
            assert!(!person_surname(s, "Dr ", ""), "{s}");
        }
        assert!(!person_surname("Springfield", "123 Oak Dr ", ""));
        assert!(person_surname("Springfield", "seen by Dr ", ""));
    }

    #[test]
    fn street_addresses() {
        assert!(street_address("42 Elm Street", "I moved to ", ""));
        assert!(street_address("Musterstraße 12, 10115 Berlin", "", ""));
        assert!(!street_address("5 Main Street", "$", ""));
        assert!(!street_address("10 Park Avenue", "Top ", ""));
        assert!(!street_address("2 Oak Road", "version ", ""));
        assert!(!street_address("012 Main St", "", ""));
        assert!(!street_address("12 Main St", "3.", ""));
    }

    #[test]
    fn uk_postcodes() {
        for s in [
            "SW1A 2AA",
            "EC1A1BB",
            "GIR 0AA",
            "221B Baker Street, London NW1 6XE",
            "Flat 4, 12 High Street\nOxford\nOX1 4AA",
            "Edinburgh, EH1 1YZ",
            "M1 1AE",
        ] {
            assert!(uk_postcode(s, "", ""), "{s}");
        }
        for s in ["London AA1 1AA", "ZA1 1AA", "12 Main Road, Springfield XY1 2AB", "hello"] {
            assert!(!uk_postcode(s, "", ""), "{s}");
        }
    }
}
