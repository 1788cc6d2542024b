//! British and American spellings of one word: "defence" / "defense", "organisation" /
//! "organization", "programme" / "program", "centre" / "center", "labour" / "labor". A
//! member writes as they were taught, a briefing as its publisher does, and the stemmer
//! leaves the two apart ("organis" / "organiz", "colour" / "color"), so a question was
//! searched without its most telling word.
//!
//! Written here as a few suffix rules rather than taken from a crate: no maintained Rust
//! crate converts between the two (the lists that exist are Python, Perl and R packages).
//! A rule's result counts only when wordfreq's English list (bundled for the search's word
//! weights) holds it as written, so "actor" gives no "actour" and "disaster" no
//! "disastre" (whose stem is "disastrous"'s); the few pairs of two real words a rule
//! would join ("prise" / "prize", "timbre" / "timber") are left out by name.

use super::english;

/// (British ending, American ending, shortest British word the rule applies to): short
/// words are left alone ("four" is not "for", "hours" not "hors").
const RULES: [(&str, &str, usize); 18] = [
    ("our", "or", 6),
    ("ours", "ors", 7),
    ("ence", "ense", 6),
    ("ise", "ize", 5),
    ("ised", "ized", 6),
    ("ises", "izes", 6),
    ("ising", "izing", 7),
    ("isation", "ization", 8),
    ("isations", "izations", 9),
    ("yse", "yze", 5),
    ("ysed", "yzed", 6),
    ("tre", "ter", 5),
    ("tres", "ters", 6),
    ("bre", "ber", 5),
    ("ogue", "og", 6),
    ("ogues", "ogs", 7),
    ("amme", "am", 7),
    ("ammes", "ams", 8),
];

/// Words a rule would pair with another word of another meaning.
const NOT_VARIANTS: [&str; 4] = ["prise", "prize", "timbre", "timber"];

/// The other spellings of `word` (lower-cased): its American form if it is British, its
/// British form if it is American, each only if wordfreq's list holds it.
pub fn other_spellings(word: &str) -> Vec<String> {
    if NOT_VARIANTS.contains(&word) || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for (british, american, shortest) in RULES {
        let candidates = [
            word.strip_suffix(british)
                .filter(|_| word.len() >= shortest)
                .map(|stem| format!("{stem}{american}")),
            word.strip_suffix(american)
                .map(|stem| format!("{stem}{british}"))
                .filter(|other| other.len() >= shortest),
        ];
        for other in candidates.into_iter().flatten() {
            if other != word
                && !NOT_VARIANTS.contains(&other.as_str())
                && !out.contains(&other)
                && english::is_listed(&other)
            {
                out.push(other);
            }
        }
    }
    out
}

/// The other spellings and forms of a question's searched terms, as (stem, term number)
/// pairs: for each word of `question` whose stem is one of `terms`, the stems of its
/// other spellings and of its word's other forms ([`super::families`]: "paid" and
/// "payment" for "pays"), each unless it is a term of the question already.
pub fn variants_of_terms(question: &str, terms: &[String]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for token in super::analyze::tokens(question) {
        let Some(i) = terms.iter().position(|t| **t == *token.stem) else {
            continue;
        };
        let spelt = other_spellings(&question[token.range].to_lowercase())
            .iter()
            .flat_map(|other| super::analyze::tokens(other))
            .map(|t| t.stem.to_string())
            .collect::<Vec<String>>();
        let forms = super::families::other_stems(&token.stem);
        for stem in spelt.iter().chain(forms) {
            if !terms.contains(stem) && !out.iter().any(|(s, _)| s == stem) {
                out.push((stem.clone(), i));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn british_and_american_spellings_find_each_other() {
        for (british, american) in [
            ("defence", "defense"),
            ("organisation", "organization"),
            ("organised", "organized"),
            ("programme", "program"),
            ("programmes", "programs"),
            ("centre", "center"),
            ("labour", "labor"),
            ("neighbours", "neighbors"),
            ("analyse", "analyze"),
            ("catalogue", "catalog"),
            ("licence", "license"),
            ("fibre", "fiber"),
        ] {
            assert_eq!(other_spellings(british), [american], "{british}");
            assert_eq!(other_spellings(american), [british], "{american}");
        }
    }

    #[test]
    fn a_questions_terms_get_their_other_spellings_stems() {
        let question = "What is the Defence budget of the organisation?";
        let terms = crate::search::analyze::query_terms(question, true);
        assert_eq!(terms, ["defenc", "budget", "organis"]);
        assert_eq!(
            variants_of_terms(question, &terms),
            [("defens".to_string(), 0), ("organiz".to_string(), 2)]
        );
        assert!(variants_of_terms("the defense budget", &["budget".into()]).is_empty());
    }

    #[test]
    fn words_that_only_look_alike_are_left_alone() {
        for word in [
            "four", "for", "hour", "your", "actor", "motor", "after", "water", "number", "size",
            "prize", "prise", "timber", "timbre", "sense", "raise", "exercise", "budget",
            "disaster", "monster", "Defence", "1970s",
        ] {
            assert!(
                other_spellings(word).is_empty(),
                "{word}: {:?}",
                other_spellings(word)
            );
        }
    }
}
