//! Key facts in a sentence, for quizzes: numbers, percentages, sums of money, years, dates,
//! people, organisations, places and nationalities, each with its kind. Plain patterns and
//! word lists (no model): a fact is only offered when its kind is certain enough that a
//! choice of another kind can never stand beside it.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// What a fact is; quiz choices are always of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Year,
    Date,
    Percent,
    Money,
    Number,
    Person,
    Organisation,
    Place,
    Nationality,
}

impl Kind {
    /// The word a quiz uses for the blank: "Which year…", "Which place…".
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Year => "year",
            Kind::Date => "date",
            Kind::Percent => "percentage",
            Kind::Money => "sum",
            Kind::Number => "number",
            Kind::Person => "person",
            Kind::Organisation => "organisation",
            Kind::Place => "place",
            Kind::Nationality => "nationality",
        }
    }
}

/// One fact: where it stands in the sentence, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: Kind,
    pub range: Range<usize>,
}

const MONTHS: &str =
    "January|February|March|April|May|June|July|August|September|October|November|December";

static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|trillion|bn)\b)?|\b\d[\d,]*(?:\.\d+)?\s(?:million|billion|trillion)\s(?:dollars|euros|pounds|yen|yuan)\b)").unwrap()
});
static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d+(?:\.\d+)?(?:\s?%|\s(?:percent|per cent)\b)").unwrap());
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:\d{{1,2}}\s(?:{MONTHS})(?:,?\s\d{{4}})?|(?:{MONTHS})\s\d{{1,2}}(?:st|nd|rd|th)?(?:,\s\d{{4}})?|(?:{MONTHS})\s\d{{4}})\b"
    ))
    .unwrap()
});
/// Four digits from 1000 to 2099 without a thousands comma: a year ("1,400" is a number).
static YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(?:1\d\d\d|20\d\d)\b").unwrap());
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:\s(?:thousand|million|billion|trillion)\b)?|\b\d+(?:\.\d+)?(?:\s(?:thousand|million|billion|trillion)\b)?").unwrap()
});
static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{L}\p{N}][\p{L}\p{N}’'\-]*(?:\.[\p{Lu}]\.?)?\.?").unwrap());

/// Words that make a capitalised name an organisation.
const ORGANISATION_WORDS: &[&str] = &[
    "Academy",
    "Airlines",
    "Dynamics",
    "Electric",
    "Energy",
    "Motors",
    "Mills",
    "Foods",
    "Broadcasting",
    "Club",
    "College",
    "Communications",
    "Corp.",
    "Federation",
    "Foundation",
    "Holdings",
    "Hospital",
    "Inc.",
    "Industries",
    "Laboratories",
    "Ltd",
    "Ministries",
    "Museum",
    "Network",
    "Press",
    "Records",
    "School",
    "Society",
    "Studios",
    "Television",
    "Agency",
    "Air",
    "Alliance",
    "Army",
    "Assembly",
    "Association",
    "Authority",
    "Bank",
    "Board",
    "Bureau",
    "Cabinet",
    "Centre",
    "Center",
    "Command",
    "Commission",
    "Committee",
    "Company",
    "Congress",
    "Corporation",
    "Corps",
    "Council",
    "Court",
    "Department",
    "Forces",
    "Force",
    "Fund",
    "Group",
    "Guard",
    "Institute",
    "League",
    "Ministry",
    "Navy",
    "Office",
    "Organisation",
    "Organization",
    "Parliament",
    "Party",
    "Senate",
    "Service",
    "Union",
    "University",
];

/// Words that make a capitalised name something else (a law, a plan…): never quizzed.
const OTHER_NAME_WORDS: &[&str] = &[
    "Battle",
    "Campaign",
    "Crusade",
    "Dynasty",
    "Empire",
    "Revolution",
    "Era",
    "Age",
    "Award",
    "Prize",
    "Cup",
    "Games",
    "Bowl",
    "Festival",
    "Day",
    "Act",
    "Agreement",
    "Accord",
    "Declaration",
    "Doctrine",
    "Initiative",
    "Plan",
    "Policy",
    "Programme",
    "Program",
    "Strategy",
    "Summit",
    "Treaty",
    "War",
];

/// Titles that are also the first word of company names ("General Electric"): after one
/// of these, a single word is not taken for a person.
const SHARED_TITLES: &[&str] = &[
    "General",
    "Secretary",
    "Director",
    "Chair",
    "Chairman",
    "Vice",
    "Judge",
    "Admiral",
    "Governor",
    "Professor",
    "Commissioner",
    "Ambassador",
    "King",
    "Queen",
];

/// Titles before a person's name.
const TITLES: &[&str] = &[
    "President",
    "Prime",
    "Minister",
    "Chancellor",
    "General",
    "Admiral",
    "Secretary",
    "Senator",
    "Governor",
    "King",
    "Queen",
    "Mr.",
    "Ms.",
    "Mrs.",
    "Dr.",
    "Professor",
    "Judge",
    "Ambassador",
    "Commissioner",
    "Director",
    "Chairman",
    "Chair",
    "Premier",
    "Vice",
];

/// First words of a place's name ("Fort William Henry", "Lake George").
const PLACE_PREFIXES: &[&str] = &["Fort", "Lake", "Mount", "Port", "Cape", "Saint"];

/// Given names: an untitled run of capitalised words is a person only when it starts with
/// one (a title, "President …", makes anyone a person).
const GIVEN_NAMES: &[&str] = &[
    "Abdul",
    "Adam",
    "Ahmed",
    "Alan",
    "Albert",
    "Alexander",
    "Alexandra",
    "Alice",
    "Ali",
    "Amanda",
    "Amy",
    "Ana",
    "Andrew",
    "Angela",
    "Anna",
    "Anne",
    "Anthony",
    "Antonio",
    "Arthur",
    "Barack",
    "Barbara",
    "Ben",
    "Benjamin",
    "Bernard",
    "Bill",
    "Bob",
    "Boris",
    "Brian",
    "Carl",
    "Carlos",
    "Catherine",
    "Charles",
    "Charlotte",
    "Chris",
    "Christian",
    "Christopher",
    "Claire",
    "Daniel",
    "David",
    "Dennis",
    "Diana",
    "Donald",
    "Dmitry",
    "Edward",
    "Elizabeth",
    "Emily",
    "Emma",
    "Emmanuel",
    "Eric",
    "Erik",
    "Eva",
    "Fernando",
    "Francis",
    "Frank",
    "Franklin",
    "Fred",
    "Frederick",
    "Gary",
    "George",
    "Georg",
    "Gerald",
    "Gordon",
    "Hans",
    "Harold",
    "Harry",
    "Helen",
    "Helmut",
    "Henry",
    "Hillary",
    "Hugh",
    "Ian",
    "Isaac",
    "Ivan",
    "Jack",
    "Jacob",
    "James",
    "Jan",
    "Jane",
    "Jean",
    "Jennifer",
    "Jens",
    "Jessica",
    "Jim",
    "Jimmy",
    "Joan",
    "Joe",
    "Johann",
    "John",
    "Jonathan",
    "Jorge",
    "José",
    "Joseph",
    "Juan",
    "Julia",
    "Julian",
    "Karl",
    "Kate",
    "Katherine",
    "Kevin",
    "Klaus",
    "Larry",
    "Laura",
    "Lee",
    "Leo",
    "Leonard",
    "Linda",
    "Lisa",
    "Louis",
    "Lucas",
    "Luis",
    "Margaret",
    "Maria",
    "Marie",
    "Mark",
    "Marshall",
    "Martin",
    "Mary",
    "Matthew",
    "Michael",
    "Michel",
    "Mohammed",
    "Muhammad",
    "Nancy",
    "Nelson",
    "Nicholas",
    "Nicolas",
    "Olaf",
    "Oliver",
    "Olga",
    "Pablo",
    "Patrick",
    "Paul",
    "Pedro",
    "Peter",
    "Philip",
    "Pierre",
    "Rachel",
    "Ralph",
    "Raymond",
    "Richard",
    "Robert",
    "Roger",
    "Ronald",
    "Rose",
    "Samuel",
    "Sarah",
    "Sergei",
    "Simon",
    "Sophie",
    "Stephen",
    "Steven",
    "Susan",
    "Theodore",
    "Thomas",
    "Timothy",
    "Tom",
    "Tony",
    "Victor",
    "Vladimir",
    "Walter",
    "William",
    "Wolfgang",
    "Xi",
    "Yuri",
];

const PLACE_SUFFIXES: &[&str] = &[
    "Park",
    "Square",
    "Street",
    "Avenue",
    "Road",
    "Bridge",
    "Harbour",
    "Harbor",
    "Airport",
    "Sea",
    "Ocean",
    "Strait",
    "Island",
    "Islands",
    "River",
    "Province",
    "City",
    "Gulf",
    "Bay",
    "Peninsula",
    "Region",
    "Mountains",
    "Valley",
    "Coast",
    "Basin",
];

/// Countries, regions and cities often named in briefings.
const PLACES: &[&str] = &[
    "Afghanistan",
    "Africa",
    "Albania",
    "Algeria",
    "America",
    "Americas",
    "Angola",
    "Antarctica",
    "Arctic",
    "Argentina",
    "Armenia",
    "Asia",
    "Australia",
    "Austria",
    "Azerbaijan",
    "Baghdad",
    "Bahrain",
    "Balkans",
    "Baltic",
    "Bangladesh",
    "Beijing",
    "Belarus",
    "Belgium",
    "Berlin",
    "Bolivia",
    "Bosnia",
    "Brazil",
    "Brussels",
    "Bulgaria",
    "Cairo",
    "Cambodia",
    "Cameroon",
    "Canada",
    "Caribbean",
    "Chile",
    "China",
    "Colombia",
    "Congo",
    "Crimea",
    "Croatia",
    "Cuba",
    "Cyprus",
    "Czechia",
    "Delhi",
    "Denmark",
    "Donbas",
    "Egypt",
    "England",
    "Estonia",
    "Ethiopia",
    "Eurasia",
    "Europe",
    "Finland",
    "France",
    "Gaza",
    "Geneva",
    "Georgia",
    "Germany",
    "Ghana",
    "Greece",
    "Greenland",
    "Guam",
    "Haiti",
    "Hawaii",
    "Hong Kong",
    "Hungary",
    "Iceland",
    "India",
    "Indo-Pacific",
    "Indonesia",
    "Iran",
    "Iraq",
    "Ireland",
    "Israel",
    "Italy",
    "Japan",
    "Jordan",
    "Kazakhstan",
    "Kenya",
    "Kosovo",
    "Kuwait",
    "Kyiv",
    "Laos",
    "Latvia",
    "Lebanon",
    "Libya",
    "Lithuania",
    "London",
    "Luxembourg",
    "Malaysia",
    "Mali",
    "Mexico",
    "Moldova",
    "Mongolia",
    "Montenegro",
    "Morocco",
    "Moscow",
    "Myanmar",
    "Nepal",
    "Netherlands",
    "New York",
    "New Zealand",
    "Niger",
    "Nigeria",
    "North Korea",
    "Norway",
    "Okinawa",
    "Oman",
    "Pacific",
    "Pakistan",
    "Palestine",
    "Panama",
    "Paris",
    "Peru",
    "Philippines",
    "Poland",
    "Portugal",
    "Qatar",
    "Romania",
    "Russia",
    "Rwanda",
    "Saudi Arabia",
    "Scotland",
    "Seoul",
    "Serbia",
    "Singapore",
    "Slovakia",
    "Slovenia",
    "Somalia",
    "South Africa",
    "South Korea",
    "Spain",
    "Sudan",
    "Sweden",
    "Switzerland",
    "Syria",
    "Taipei",
    "Taiwan",
    "Tehran",
    "Thailand",
    "Tokyo",
    "Tunisia",
    "Turkey",
    "Ukraine",
    "United Kingdom",
    "United States",
    "Uzbekistan",
    "Venezuela",
    "Vietnam",
    "Wales",
    "Warsaw",
    "Washington",
    "Yemen",
    "Zambia",
    "Zimbabwe",
];

const NATIONALITIES: &[&str] = &[
    "Afghan",
    "African",
    "American",
    "Arab",
    "Asian",
    "Australian",
    "Austrian",
    "Belgian",
    "Brazilian",
    "British",
    "Canadian",
    "Chinese",
    "Czech",
    "Danish",
    "Dutch",
    "Egyptian",
    "English",
    "European",
    "Filipino",
    "Finnish",
    "French",
    "German",
    "Greek",
    "Hungarian",
    "Indian",
    "Indonesian",
    "Iranian",
    "Iraqi",
    "Irish",
    "Israeli",
    "Italian",
    "Japanese",
    "Korean",
    "Mexican",
    "Norwegian",
    "Pakistani",
    "Palestinian",
    "Philippine",
    "Polish",
    "Portuguese",
    "Russian",
    "Saudi",
    "Scottish",
    "Spanish",
    "Swedish",
    "Swiss",
    "Syrian",
    "Taiwanese",
    "Turkish",
    "Ukrainian",
    "Vietnamese",
];

/// Capitalised words that are not names (sentence openers, days, months alone).
const NOT_NAMES: &[&str] = &[
    "A",
    "According",
    "After",
    "Additionally",
    "Also",
    "An",
    "And",
    "As",
    "At",
    "Before",
    "But",
    "By",
    "Despite",
    "During",
    "Each",
    "For",
    "From",
    "Given",
    "He",
    "Her",
    "His",
    "However",
    "I",
    "If",
    "In",
    "It",
    "Its",
    "Moreover",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "No",
    "Not",
    "On",
    "Once",
    "One",
    "Our",
    "She",
    "Significantly",
    "Since",
    "So",
    "Some",
    "Such",
    "That",
    "The",
    "Their",
    "Then",
    "There",
    "These",
    "They",
    "This",
    "Those",
    "Thus",
    "To",
    "Under",
    "We",
    "What",
    "When",
    "Where",
    "Which",
    "While",
    "Who",
    "Why",
    "With",
    "Yet",
    "Many",
    "Most",
    "Both",
    "All",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The facts of `sentence`, in order, without overlaps (the more specific kind wins:
/// money and percentages over numbers, dates over years).
pub fn facts(sentence: &str) -> Vec<Fact> {
    let mut out: Vec<Fact> = Vec::new();
    let add = |kind: Kind, range: Range<usize>, out: &mut Vec<Fact>| {
        if out
            .iter()
            .all(|f| f.range.end <= range.start || range.end <= f.range.start)
        {
            out.push(Fact { kind, range });
        }
    };
    for (re, kind) in [
        (&*MONEY, Kind::Money),
        (&*PERCENT, Kind::Percent),
        (&*DATE, Kind::Date),
    ] {
        for m in re.find_iter(sentence) {
            add(kind, m.range(), &mut out);
        }
    }
    for m in YEAR.find_iter(sentence) {
        // A decade ("1960s") or a number glued to letters is not a year.
        let next = sentence[m.end()..].chars().next();
        if !next.is_some_and(|c| c.is_alphanumeric() || c == '%') {
            add(Kind::Year, m.range(), &mut out);
        }
    }
    for m in NUMBER.find_iter(sentence) {
        let text = m.as_str();
        let next = sentence[m.end()..].chars().next();
        let prev = sentence[..m.start()].chars().next_back();
        let glued = next.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '%')
            || prev.is_some_and(|c| c.is_alphanumeric() || c == '-');
        // Single digits are rarely the point of a sentence.
        if !glued && (text.len() >= 2) {
            add(Kind::Number, m.range(), &mut out);
        }
    }
    for (kind, range) in names(sentence) {
        add(kind, range, &mut out);
    }
    out.sort_by_key(|f| f.range.start);
    out
}

/// Capitalised runs of words, classified; unclassifiable ones are left out.
fn names(sentence: &str) -> Vec<(Kind, Range<usize>)> {
    let words: Vec<Range<usize>> = WORD
        .find_iter(sentence)
        .map(|m| {
            let w = m.as_str();
            // A sentence's final period is not part of the last word.
            let keep_dot = w.len() <= 3 || w.matches('.').count() > 1;
            if w.ends_with('.') && !keep_dot {
                m.start()..m.end() - 1
            } else {
                m.range()
            }
        })
        .collect();
    let capital = |r: &Range<usize>| {
        sentence[r.clone()]
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if !capital(&words[i]) {
            i += 1;
            continue;
        }
        // A run of capitalised words, joined by single spaces (or "of" between two).
        let mut j = i + 1;
        while j < words.len() {
            let gap = &sentence[words[j - 1].end..words[j].start];
            if gap != " " {
                break;
            }
            if capital(&words[j]) {
                j += 1;
            } else if &sentence[words[j].clone()] == "of"
                && j + 1 < words.len()
                && capital(&words[j + 1])
                && &sentence[words[j].end..words[j + 1].start] == " "
            {
                j += 2;
            } else {
                break;
            }
        }
        let run = &words[i..j];
        i = j;
        // A title inside an organisation's name is part of it ("General Pharmaceutical
        // Council"), not a person's title.
        let organisation = run
            .iter()
            .any(|w| ORGANISATION_WORDS.contains(&&sentence[w.clone()]));
        // Titles split a run ("Japanese Prime Minister Fumio Kishida"): what follows a
        // title is a person's name.
        let mut piece: Vec<Range<usize>> = Vec::new();
        let mut titled = false;
        let mut shared_title = false;
        for w in run.iter().chain(std::iter::once(&(0..0))) {
            let is_end = w.is_empty();
            if is_end || (!organisation && TITLES.contains(&&sentence[w.clone()])) {
                // Openers are not part of a name ("However Japan").
                while piece
                    .first()
                    .is_some_and(|f| NOT_NAMES.contains(&&sentence[f.clone()]))
                {
                    piece.remove(0);
                }
                if let Some(last) = piece.last() {
                    // A possessive is not part of the name ("Kishida’s cabinet").
                    let end = ["'s", "’s"]
                        .iter()
                        .find(|p| sentence[..last.end].ends_with(*p))
                        .map_or(last.end, |p| last.end - p.len());
                    if let Some(l) = piece.last_mut() {
                        l.end = end.max(l.start);
                    }
                    let (first, last) = (&piece[0], &piece[piece.len() - 1]);
                    let range = first.start..last.end;
                    let tokens: Vec<&str> = piece.iter().map(|r| &sentence[r.clone()]).collect();
                    let titled = titled && !(shared_title && tokens.len() == 1);
                    if let Some(kind) = classify(&sentence[range.clone()], &tokens, titled) {
                        out.push((kind, range));
                    }
                }
                piece.clear();
                titled = !is_end;
                shared_title = !is_end && SHARED_TITLES.contains(&&sentence[w.clone()]);
            } else {
                piece.push(w.clone());
            }
        }
    }
    out
}

fn classify(text: &str, tokens: &[&str], titled: bool) -> Option<Kind> {
    let last = *tokens.last()?;
    if tokens
        .iter()
        .any(|t| OTHER_NAME_WORDS.contains(t) || NOT_NAMES.contains(t))
    {
        return None;
    }
    let first = tokens[0];
    if PLACES.contains(&text) {
        return Some(Kind::Place);
    }
    if tokens.len() > 1 && tokens.iter().any(|t| ORGANISATION_WORDS.contains(t)) {
        return Some(Kind::Organisation);
    }
    if tokens.len() > 1 && (PLACE_SUFFIXES.contains(&last) || PLACE_PREFIXES.contains(&first)) {
        return Some(Kind::Place);
    }
    if tokens.len() == 1 && NATIONALITIES.contains(&text) {
        return Some(Kind::Nationality);
    }
    // Acronyms (GDP, NATO, PRC) are left out: nothing tells an organisation from a measure.
    let plain = |t: &&str| {
        let mut chars = t.chars();
        chars.next().is_some_and(char::is_uppercase)
            && chars.all(|c| c.is_lowercase() || c == '\'' || c == '’' || c == '-' || c == '.')
    };
    if tokens
        .iter()
        .any(|t| PLACES.contains(t) || NATIONALITIES.contains(t))
    {
        return None;
    }
    let named = (2..=4).contains(&tokens.len()) && GIVEN_NAMES.contains(&first);
    if (titled || named) && tokens.len() <= 4 && tokens.iter().all(plain) {
        return Some(Kind::Person);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, &str)> {
        facts(s)
            .into_iter()
            .map(|f| (f.kind, &s[f.range]))
            .collect()
    }

    #[test]
    fn numbers_dates_and_names_are_told_apart() {
        let s = "On April 10, US President Joe Biden hosted a summit in Washington with Japanese Prime Minister Fumio Kishida.";
        assert_eq!(
            kinds(s),
            vec![
                (Kind::Date, "April 10"),
                (Kind::Person, "Joe Biden"),
                (Kind::Place, "Washington"),
                (Kind::Nationality, "Japanese"),
                (Kind::Person, "Fumio Kishida"),
            ]
        );
        let s = "In 2027, defense spending is expected to reach 2% of GDP, about $48 billion, up 12 percent from 1951 and 70 new agreements.";
        assert_eq!(
            kinds(s),
            vec![
                (Kind::Year, "2027"),
                (Kind::Percent, "2%"),
                (Kind::Money, "$48 billion"),
                (Kind::Percent, "12 percent"),
                (Kind::Year, "1951"),
                (Kind::Number, "70"),
            ]
        );
    }

    #[test]
    fn people_need_a_title_or_a_given_name() {
        let s = "Fred Pierce met Kishida’s staff at Kingston Park, near Fort William Henry, \
                 before the First Crusade film by Hearst Television, with Buyantu Khan.";
        assert_eq!(
            kinds(s),
            vec![
                (Kind::Person, "Fred Pierce"),
                (Kind::Place, "Kingston Park"),
                (Kind::Place, "Fort William Henry"),
                (Kind::Organisation, "Hearst Television"),
            ]
        );
        let s = "General Dynamics and President Kishida’s plan was backed by Secretary Anna Weber and the General Pharmaceutical Council in 1066, not General Electric.";
        assert_eq!(
            kinds(s),
            vec![
                (Kind::Organisation, "General Dynamics"),
                (Kind::Person, "Kishida"),
                (Kind::Person, "Anna Weber"),
                (Kind::Organisation, "General Pharmaceutical Council"),
                (Kind::Year, "1066"),
                (Kind::Organisation, "General Electric"),
            ]
        );
    }

    #[test]
    fn organisations_places_and_other_names() {
        let s = "The US Navy and the Marine Corps answer to NATO in the South China Sea, under the Yoshida Doctrine of 1960s fame.";
        assert_eq!(
            kinds(s),
            vec![
                (Kind::Organisation, "US Navy"),
                (Kind::Organisation, "Marine Corps"),
                (Kind::Place, "South China Sea"),
            ]
        );
    }
}
