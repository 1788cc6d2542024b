//! Finding passage ids (`<slug>:<n>`) by any part of them, for autocompletion, without
//! writing out the ids of briefings that cannot match: a million passages make a million
//! ids, and autocomplete runs on every keystroke.

use super::BriefingInfo;

/// The ids `slug:n` (n from 1 to the briefing's paragraphs) that contain `partial`,
/// compared case-insensitively, in briefing and paragraph order; at most `limit`, none
/// longer than `max_len` bytes.
pub fn passage_ids_containing(
    briefings: &[&BriefingInfo],
    partial: &str,
    limit: usize,
    max_len: usize,
) -> Vec<String> {
    let partial = partial.to_lowercase();
    let wanted = Wanted::new(&partial);
    let mut out = Vec::new();
    for b in briefings {
        if out.len() >= limit {
            break;
        }
        let slug = b.slug.to_lowercase();
        let numbers = wanted.numbers(&slug);
        if matches!(numbers, Numbers::None) {
            continue;
        }
        for n in numbers.smallest()..=b.paragraphs {
            if numbers.admits(n) {
                let id = format!("{}:{n}", b.slug);
                if id.len() <= max_len {
                    out.push(id);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
        }
    }
    out
}

/// The text looked for, taken apart once for every briefing: `partial` lies in `slug:n`
/// in the slug, in `:n`, or across the colon (the end of the slug, the colon, then the
/// start of the number).
struct Wanted<'a> {
    partial: &'a str,
    /// The whole text, when it is digits that can stand inside a number.
    digits: Option<&'a str>,
    /// Each way to split the text at a colon into (end of a slug, start of a number).
    splits: Vec<(&'a str, &'a str)>,
}

impl<'a> Wanted<'a> {
    fn new(partial: &'a str) -> Wanted<'a> {
        let is_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
        Wanted {
            partial,
            digits: (!partial.is_empty() && is_digits(partial)).then_some(partial),
            splits: partial
                .match_indices(':')
                .map(|(k, _)| (&partial[..k], &partial[k + 1..]))
                .filter(|(_, after)| is_digits(after))
                .collect(),
        }
    }

    /// Which paragraph numbers of the briefing with this (lowercased) slug match.
    fn numbers(&self, slug: &str) -> Numbers<'a> {
        if slug.contains(self.partial) {
            return Numbers::All;
        }
        let starts: Vec<&str> = self
            .splits
            .iter()
            .filter(|(before, _)| slug.ends_with(before))
            .map(|(_, after)| *after)
            .collect();
        if starts.iter().any(|d| d.is_empty()) {
            Numbers::All
        } else if self.digits.is_none() && starts.is_empty() {
            Numbers::None
        } else {
            Numbers::Some {
                contains: self.digits,
                starts,
            }
        }
    }
}

/// Which paragraph numbers of one briefing give an id containing the text looked for.
enum Numbers<'a> {
    None,
    All,
    /// Numbers whose decimal form contains `contains` or starts with one of `starts`
    /// (each a string of digits).
    Some {
        contains: Option<&'a str>,
        starts: Vec<&'a str>,
    },
}

impl Numbers<'_> {
    /// No smaller number can match: a number containing (or starting with) digits is at
    /// least their value.
    fn smallest(&self) -> u64 {
        match self {
            Numbers::None | Numbers::All => 1,
            Numbers::Some { contains, starts } => contains
                .iter()
                .chain(starts)
                .map(|d| d.parse::<u64>().unwrap_or(u64::MAX))
                .min()
                .unwrap_or(1)
                .max(1),
        }
    }

    fn admits(&self, n: u64) -> bool {
        match self {
            Numbers::None => false,
            Numbers::All => true,
            Numbers::Some { contains, starts } => {
                let n = n.to_string();
                contains.is_some_and(|d| n.contains(d)) || starts.iter().any(|d| n.starts_with(d))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn briefing(slug: &str, paragraphs: u64) -> BriefingInfo {
        BriefingInfo {
            slug: slug.into(),
            title: String::new(),
            source: String::new(),
            date: None,
            url: None,
            paragraphs,
            first_row: 0,
            stamp: None,
        }
    }

    #[test]
    fn ids_are_found_by_any_part() {
        let owned = [briefing("notes/Fish", 12), briefing("a:b", 3)];
        let bs: Vec<&BriefingInfo> = owned.iter().collect();
        let find = |p: &str| passage_ids_containing(&bs, p, 25, 100);
        assert_eq!(
            find("fish:1"),
            [
                "notes/Fish:1",
                "notes/Fish:10",
                "notes/Fish:11",
                "notes/Fish:12"
            ]
        );
        assert_eq!(find("h:2"), ["notes/Fish:2"]);
        assert_eq!(
            find("1"),
            [
                "notes/Fish:1",
                "notes/Fish:10",
                "notes/Fish:11",
                "notes/Fish:12",
                "a:b:1"
            ]
        );
        assert_eq!(find(":3"), ["notes/Fish:3", "a:b:3"]);
        assert_eq!(find("a:"), ["a:b:1", "a:b:2", "a:b:3"]);
        assert_eq!(find("b:2"), ["a:b:2"]);
        assert_eq!(find("13"), Vec::<String>::new());
        assert_eq!(find("zebra"), Vec::<String>::new());
        assert_eq!(
            passage_ids_containing(&bs, "", 2, 100),
            ["notes/Fish:1", "notes/Fish:2"]
        );
        assert_eq!(
            passage_ids_containing(&bs, "fish", 25, 12),
            [
                "notes/Fish:1",
                "notes/Fish:2",
                "notes/Fish:3",
                "notes/Fish:4",
                "notes/Fish:5",
                "notes/Fish:6",
                "notes/Fish:7",
                "notes/Fish:8",
                "notes/Fish:9"
            ]
        );
    }
}
