//! Whether the briefings cover a question: the evidence behind "The briefings do not cover
//! this question", read off the best passage the ranking found.
//!
//! The question's words are weighed by how informative they are in English
//! ([`english::informativeness`](super::english::informativeness)), not by how rare they
//! are in this library, so the decision means the same in a library of one paragraph and
//! of a million. A word that no passage of the library holds still counts, at
//! `search.unseen_weight` (1 by default) of its weight: an off-topic question is made of
//! such words, and weighed by English, one missing everyday word of a fair question no
//! longer outweighs the rare words the library has.
//!
//! The evidence is the share of that weight the best passage holds (with its title and
//! section), and the share its best sentence holds: a question is covered when their
//! geometric mean reaches `search.min_coverage`. A name (a word written with a capital
//! inside the question) weighs half as much again, and double when no passage holds it:
//! the question is about something the library never mentions. A question none of whose
//! words tells what it is about (the commonest English words, greetings and thanks: "what
//! is it", "thanks!") is chatter, answered on its meaning alone. Pure functions, tested
//! without an index.

use super::Hit;
use super::english::{informativeness, zipf};

/// A searched term of a question, as the decision weighs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionTerm {
    /// The term (a stem of the index's analyzer).
    pub stem: String,
    /// How many passages hold it.
    pub df: u64,
    /// Written with a capital after the question's first word: a name.
    pub name: bool,
}

/// How much more a name weighs than another word of its informativeness: a question's
/// names say what it is about, and a passage without them is about something else
/// ("Who will command the new US headquarters in *Japan*?" of a passage on another war).
const NAME_FACTOR: f32 = 1.5;

/// How much more a name weighs that no passage holds: a question about a person, place or
/// thing the library never mentions is about something else, however many of its other
/// words the library shares ("When did General Hospital begin airing?").
const UNSEEN_NAME_FACTOR: f32 = 2.0;

/// The Zipf frequency (twice in a thousand English words) at and above which a word says
/// nothing of what a question is about: "the", "is", "what", "about", "so", "there",
/// "more". A question made of such words alone ("what is it", "is that so", "of the")
/// shares them with every paragraph, so on its words it is answered by none: it took a
/// quote of whatever paragraph held "the" most. By meaning it still can be. The commonest
/// words that can carry a question lie just below ("people" 6.27, "year", "new", "work",
/// "right", "state" 6.0): "what are people's rights" is a question.
const COMMON_ZIPF: f32 = 6.3;

/// Words of greeting, thanks and assent, and the bot's own name: what members write to
/// the bot that is no question ("thanks!", "hi briefbot", "ok cool", "good night"). Rarer
/// in English than the commonest words, but as telling: a message of these and the
/// commonest words alone is chatter too, and is not answered on its words. ("bot" is not
/// one of them: briefings on disinformation are about bots.)
const SOCIAL_WORDS: &str = "hi hello hey hiya yo thanks thank thx ty cheers ok okay cool \
    nice good great awesome lol haha bye goodbye please pls yes yeah yep nope sorry welcome \
    morning afternoon evening night briefbot";

/// Whether the stem `stem` is one of [`SOCIAL_WORDS`]' (stemmed by the index's analyzer).
fn is_social(stem: &str) -> bool {
    static STEMS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    STEMS
        .get_or_init(|| {
            super::analyze::tokens(SOCIAL_WORDS)
                .into_iter()
                .map(|t| t.stem.to_string())
                .collect()
        })
        .iter()
        .any(|s| s == stem)
}

/// How the decision is made; from `[search]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Least evidence (0–1) for a question to be answered (`search.min_coverage`).
    pub min_coverage: f32,
    /// Weight (0–1) of a word no passage holds, relative to its English informativeness
    /// (`search.unseen_weight`).
    pub unseen_weight: f32,
    /// Least cosine of the question with the best passage for it to be answered on its
    /// meaning alone, when a model is in use (`search.semantic.min_cosine`).
    pub min_cosine: f32,
    /// The same for the cosine of the question with the best passage's best sentence
    /// (`search.semantic.min_sentence_cosine`): one sentence that says what was asked.
    pub min_sentence_cosine: f32,
    /// A passage whose evidence is under `unrelated_below` (just past `min_coverage`: a
    /// word or two shared by chance) is still refused when its cosine with the question is
    /// under `unrelated_cosine`, when a model is in use
    /// (`search.semantic.unrelated_cosine`, `search.semantic.unrelated_below`).
    pub unrelated_cosine: f32,
    pub unrelated_below: f32,
}

/// The evidence for one question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Share of the question's weight in the best passage, its title or its section.
    pub coverage: f32,
    /// Share of the question's weight in the best passage's best sentence.
    pub sentence_coverage: f32,
    /// The evidence weighed against [`Rule::min_coverage`]: the geometric mean of the two
    /// shares.
    pub evidence: f32,
    /// The cosine of the question with the best passage, when a model is in use.
    pub cosine: Option<f32>,
    /// Whether a word of the question says what it is about: a name, a number or a word
    /// rarer than the commonest, but for greetings and thanks (not so of "what is it", "is
    /// that so", "thanks!"). A question without one is chatter.
    pub telling: bool,
    /// Whether the best passage is quoted as an answer.
    pub covered: bool,
}

/// Judges the best hit of a question whose searched `terms` are given as
/// [`Engine::terms`](super::Engine::terms) gives them.
pub fn judge(terms: &[QuestionTerm], best: Option<&Hit>, rule: Rule) -> Verdict {
    let weights: Vec<f32> = terms
        .iter()
        .map(|t| {
            let w = informativeness(&t.stem);
            match (t.df, t.name) {
                (0, true) => w * rule.unseen_weight * UNSEEN_NAME_FACTOR,
                (0, false) => w * rule.unseen_weight,
                (_, true) => w * NAME_FACTOR,
                _ => w,
            }
        })
        .collect();
    let total: f32 = weights.iter().sum();
    let share = |mask: u32| -> f32 {
        if total <= 0.0 {
            return 0.0;
        }
        let held: f32 = weights
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 32 && mask & (1 << i) != 0)
            .map(|(_, w)| w)
            .sum();
        held / total
    };
    let (coverage, sentence_coverage) = match best {
        Some(hit) => (share(hit.matched), share(hit.sentence_matched)),
        None => (0.0, 0.0),
    };
    // Both must hold: the words in the passage, and together in one of its sentences.
    let evidence = (coverage * sentence_coverage).sqrt();
    let cosine = best.and_then(|h| h.cosine);
    // A paraphrase shares few of the passage's words but its meaning, or one of its
    // sentences' (a higher bar: the best of several sentences is higher by chance too).
    let by_meaning = cosine.is_some_and(|c| c >= rule.min_cosine)
        || best
            .and_then(|h| h.sentence_cosine)
            .is_some_and(|c| c >= rule.min_sentence_cosine);
    // A question that shares a word or two with a passage by chance ("what is the weather
    // in Tokyo" of a briefing on Tokyo's defence budget) has barely enough of its words
    // there, and a meaning far from it.
    let by_chance =
        evidence < rule.unrelated_below && cosine.is_some_and(|c| c < rule.unrelated_cosine);
    // A name ("What is IT?"), a number or any word rarer than the commonest says what the
    // question is about, but for a greeting or thanks.
    let telling = terms
        .iter()
        .any(|t| !is_social(&t.stem) && (t.name || zipf(&t.stem) < COMMON_ZIPF));
    let by_words = telling && evidence >= rule.min_coverage && !by_chance;
    Verdict {
        coverage,
        sentence_coverage,
        evidence,
        cosine,
        telling,
        covered: best.is_some() && (by_words || by_meaning),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(matched: u32, sentence_matched: u32) -> Hit {
        Hit {
            passage: Default::default(),
            score: 1.0,
            highlights: Vec::new(),
            best_sentence: 0..0,
            coverage: 0.0,
            matched,
            sentence_matched,
            cosine: None,
            sentence_cosine: None,
        }
    }

    /// The defaults of `[search]`.
    const RULE: Rule = Rule {
        min_coverage: 0.37,
        unseen_weight: 1.0,
        min_cosine: 0.4,
        min_sentence_cosine: 0.5,
        unrelated_cosine: 0.25,
        unrelated_below: 0.45,
    };

    fn terms(list: &[(&str, u64)]) -> Vec<QuestionTerm> {
        list.iter()
            .map(|(t, n)| QuestionTerm {
                stem: t.to_string(),
                df: *n,
                name: false,
            })
            .collect()
    }

    #[test]
    fn a_common_word_the_library_lacks_does_not_outweigh_the_rare_ones_it_has() {
        // "how often does the quillwort estuary flood", in a library of three paragraphs.
        let t = terms(&[("often", 0), ("quillwort", 1), ("estuari", 1), ("flood", 1)]);
        let v = judge(&t, Some(&hit(0b1110, 0b1110)), RULE);
        assert!(v.covered && v.coverage > 0.8, "{v:?}");
    }

    #[test]
    fn a_question_of_words_the_library_lacks_is_not_covered() {
        // "Who won Super Bowl 50?" of a library that shares only the number.
        let mut t = terms(&[("won", 0), ("super", 0), ("bowl", 0), ("50", 3)]);
        let v = judge(&t, Some(&hit(0b1000, 0b1000)), RULE);
        assert!(!v.covered, "{v:?}");
        // Written as names, the words the library lacks weigh more still.
        t[1].name = true;
        t[2].name = true;
        let names = judge(&t, Some(&hit(0b1000, 0b1000)), RULE);
        assert!(names.evidence < v.evidence, "{names:?} {v:?}");
        assert!(!judge(&t, None, RULE).covered);
        assert!(!judge(&[], Some(&hit(0, 0)), RULE).covered);
    }

    #[test]
    fn the_best_sentence_counts_as_much_as_the_passage() {
        let t = terms(&[("barrag", 4), ("sever", 2)]);
        let scattered = judge(&t, Some(&hit(0b11, 0b01)), RULE);
        let together = judge(&t, Some(&hit(0b11, 0b11)), RULE);
        assert!(together.evidence > scattered.evidence);
        assert_eq!(together.evidence, 1.0);
    }

    #[test]
    fn a_paraphrase_is_answered_on_its_cosine_and_a_stranger_is_not() {
        let terms = vec![
            QuestionTerm {
                stem: "dishwash".into(),
                df: 0,
                name: false,
            },
            QuestionTerm {
                stem: "paid".into(),
                df: 3,
                name: false,
            },
        ];
        // None of the question's words: refused lexically…
        let mut best = hit(0, 0);
        assert!(!judge(&terms, Some(&best), RULE).covered);
        // …answered when its meaning is close enough,
        best.cosine = Some(0.62);
        let v = judge(&terms, Some(&best), RULE);
        assert!(v.covered && v.cosine == Some(0.62), "{v:?}");
        // and still refused when it is not,
        best.cosine = Some(0.2);
        assert!(!judge(&terms, Some(&best), RULE).covered);
        assert!(!judge(&terms, None, RULE).covered);
        // unless one of its sentences says what was asked: its cosine must pass a higher
        // bar than the paragraph's.
        best.sentence_cosine = Some(0.45);
        assert!(!judge(&terms, Some(&best), RULE).covered);
        best.sentence_cosine = Some(0.55);
        assert!(judge(&terms, Some(&best), RULE).covered);
    }

    /// A question of the commonest words alone is refused on its words, however many of
    /// them the passage holds; one telling word, a name or a number is enough, and its
    /// meaning can still answer it.
    #[test]
    fn a_question_of_the_commonest_words_alone_is_not_covered_by_them() {
        for question in [
            &[("the", 9)][..],
            &[("what", 3), ("is", 9), ("it", 7)],
            &[("so", 2)],
            &[("about", 4)],
        ] {
            let t = terms(question);
            let all = (1u32 << t.len()) - 1;
            let v = judge(&t, Some(&hit(all, all)), RULE);
            assert!(!v.covered && v.evidence == 1.0, "{question:?}: {v:?}");
        }
        let mut t = terms(&[("what", 3), ("is", 9), ("it", 7)]);
        t[2].name = true;
        assert!(
            judge(&t, Some(&hit(0b111, 0b111)), RULE).covered,
            "What is IT?"
        );
        for telling in [("flood", 2), ("2027", 1), ("peopl", 4), ("right", 3)] {
            let t = terms(&[("what", 3), telling]);
            assert!(
                judge(&t, Some(&hit(0b11, 0b11)), RULE).covered,
                "{telling:?}"
            );
        }
        let t = terms(&[("so", 2)]);
        let mut best = hit(0b1, 0b1);
        best.cosine = Some(0.62);
        assert!(judge(&t, Some(&best), RULE).covered, "by meaning");
    }

    /// Greetings, thanks and assent are chatter too, written as names or not ("Thanks,
    /// Briefbot!"); a question that holds one is still answered on its other words.
    #[test]
    fn greetings_and_thanks_are_chatter() {
        // The words as the index's analyzer makes them terms ("thanks" → "thank").
        let stemmed = |words: &[&str]| -> Vec<QuestionTerm> {
            crate::search::analyze::tokens(&words.join(" "))
                .into_iter()
                .map(|t| QuestionTerm {
                    stem: t.stem.to_string(),
                    df: 3,
                    name: false,
                })
                .collect()
        };
        // The last word written with a capital or not ("Good Morning", "Hi Briefbot").
        for (words, name) in [
            (&["thanks"][..], false),
            (&["thank", "you"], false),
            (&["hi", "briefbot"], true),
            (&["ok", "cool"], false),
            (&["good", "morning"], true),
            (&["hello", "briefbot"], true),
        ] {
            let mut t = stemmed(words);
            t.last_mut().unwrap().name = name;
            let all = (1u32 << t.len()) - 1;
            let v = judge(&t, Some(&hit(all, all)), RULE);
            assert!(!v.telling && !v.covered, "{words:?}: {v:?}");
        }
        let v = judge(&stemmed(&["night", "trains"]), Some(&hit(0b11, 0b11)), RULE);
        assert!(v.telling && v.covered, "{v:?}");
    }

    /// A passage that holds barely enough of the question's words is refused when its
    /// meaning is far from the question's, and answered when it is not; with more of the
    /// words, or without a model, the cosine is not asked.
    #[test]
    fn a_few_words_shared_by_chance_are_not_an_answer() {
        // "What is the weather in Tokyo today?" of a briefing that mentions Tokyo: one word
        // of three, evidence about .40, just above min_coverage.
        let t = terms(&[("weather", 0), ("tokyo", 5), ("today", 0)]);
        let mut best = hit(0b010, 0b010);
        let lexical = judge(&t, Some(&best), RULE);
        assert!(
            lexical.covered,
            "no model: answered on its words, {lexical:?}"
        );
        assert!(lexical.evidence >= RULE.min_coverage && lexical.evidence < RULE.unrelated_below);
        best.cosine = Some(0.13);
        assert!(
            !judge(&t, Some(&best), RULE).covered,
            "far in meaning: refused"
        );
        best.cosine = Some(0.3);
        assert!(
            judge(&t, Some(&best), RULE).covered,
            "near enough: answered"
        );
        // With most of its words there, a low cosine does not refuse it.
        let mut most = hit(0b011, 0b011);
        most.cosine = Some(0.13);
        let v = judge(&t, Some(&most), RULE);
        assert!(v.evidence >= RULE.unrelated_below && v.covered, "{v:?}");
    }
}
