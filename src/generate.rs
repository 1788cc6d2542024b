//! A generated corpus for benchmarks: briefings of realistic length over a Zipf-like
//! vocabulary, and questions drawn from their paragraphs, made deterministically from a
//! seed so that anyone can rebuild exactly the same corpus (`briefbot generate`).
//!
//! The random numbers come from SplitMix64, written out here on purpose: its output is
//! fixed by its definition, where a library generator may change between versions.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::ingest::{Briefing, Corpus, Paragraph};

/// Paragraphs per generated briefing.
pub const PARAGRAPHS_PER_BRIEFING: usize = 30;
/// Distinct words of the vocabulary.
pub const VOCABULARY: usize = 50_000;

/// SplitMix64 (Steele, Lea and Flood, 2014).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The vocabulary's words (made of syllables, so they stem like words) and a Zipf
/// sampler over them (exponent 1).
pub struct Vocabulary {
    words: Vec<String>,
    cdf: Vec<f64>,
}

impl Vocabulary {
    pub fn new() -> Vocabulary {
        const ONSETS: &[&str] = &[
            "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr",
            "pl",
        ];
        const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
        let syllables: Vec<String> = ONSETS
            .iter()
            .flat_map(|o| VOWELS.iter().map(move |v| format!("{o}{v}")))
            .collect();
        let words = (0..VOCABULARY)
            .map(|i| {
                let mut n = i;
                let mut w = String::new();
                loop {
                    w.push_str(&syllables[n % syllables.len()]);
                    n /= syllables.len();
                    if n == 0 {
                        break;
                    }
                }
                w.push('n');
                w
            })
            .collect();
        let mut cdf = Vec::with_capacity(VOCABULARY);
        let mut total = 0.0;
        for rank in 1..=VOCABULARY {
            total += 1.0 / rank as f64;
            cdf.push(total);
        }
        cdf.iter_mut().for_each(|c| *c /= total);
        Vocabulary { words, cdf }
    }

    /// A word drawn with Zipf-like frequency.
    pub fn sample(&self, rng: &mut Rng) -> &str {
        let u = rng.unit();
        let i = self.cdf.partition_point(|&c| c < u).min(VOCABULARY - 1);
        &self.words[i]
    }
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::new()
    }
}

/// One paragraph of 60 to 180 words (120 on average), in sentences of 8 to 20 words.
fn paragraph(vocab: &Vocabulary, rng: &mut Rng) -> String {
    let len = 60 + rng.below(121);
    let mut text = String::with_capacity(len * 8);
    let mut in_sentence = 0;
    let mut sentence_len = 8 + rng.below(13);
    for i in 0..len {
        let word = vocab.sample(rng);
        if in_sentence == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.extend(first.to_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push_str(word);
        }
        in_sentence += 1;
        if in_sentence == sentence_len || i + 1 == len {
            text.push('.');
            in_sentence = 0;
            sentence_len = 8 + rng.below(13);
        }
        if i + 1 < len {
            text.push(' ');
        }
    }
    text
}

/// A generated corpus of `paragraphs` paragraphs, in briefings of 30.
pub fn corpus(paragraphs: usize, seed: u64) -> Corpus {
    let vocab = Vocabulary::new();
    let mut rng = Rng::new(seed);
    let briefings = (0..paragraphs.div_ceil(PARAGRAPHS_PER_BRIEFING))
        .map(|b| {
            let n = PARAGRAPHS_PER_BRIEFING.min(paragraphs - b * PARAGRAPHS_PER_BRIEFING);
            let slug = format!("gen-{b:06}");
            Briefing {
                title: format!("Generated briefing {b}"),
                url: None,
                date: None,
                author: None,
                tags: Vec::new(),
                source: format!("{slug}.md"),
                slug,
                paragraphs: (0..n)
                    .map(|p| Paragraph {
                        section: Some(format!("Part {}", p / 10 + 1)),
                        text: paragraph(&vocab, &mut rng),
                        page: None,
                    })
                    .collect(),
                stamp: None,
            }
        })
        .collect();
    Corpus {
        briefings,
        skipped: Vec::new(),
    }
}

/// A question drawn from a paragraph: nine of its words, in a random order, and the
/// start of the paragraph as the gold text.
#[derive(Debug, Clone, Serialize)]
pub struct GenQuestion {
    pub id: String,
    pub question: String,
    pub gold_contains: String,
}

/// `count` questions over a generated corpus, drawn with their own seed.
pub fn questions(corpus: &Corpus, count: usize, seed: u64) -> Vec<GenQuestion> {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let all: Vec<&Paragraph> = corpus
        .briefings
        .iter()
        .flat_map(|b| &b.paragraphs)
        .collect();
    (0..count)
        .map(|i| {
            let p = all[rng.below(all.len())];
            let words: Vec<&str> = p.text.split_whitespace().collect();
            let picked: Vec<String> = (0..9)
                .map(|_| {
                    words[rng.below(words.len())]
                        .trim_end_matches('.')
                        .to_lowercase()
                })
                .collect();
            let gold: String = p.text.chars().take(60).collect();
            GenQuestion {
                id: format!("g{i}"),
                question: format!("{}?", picked.join(" ")),
                gold_contains: gold,
            }
        })
        .collect()
}

/// Writes a generated corpus as Markdown briefings under `dir/content/` and 1,000
/// questions to `dir/questions.jsonl`.
pub fn write(dir: &Path, paragraphs: usize, seed: u64) -> std::io::Result<(usize, usize)> {
    let corpus = corpus(paragraphs, seed);
    let content = dir.join("content");
    std::fs::create_dir_all(&content)?;
    for b in &corpus.briefings {
        let mut out = std::io::BufWriter::new(std::fs::File::create(content.join(&b.source))?);
        writeln!(out, "---\ntitle: \"{}\"\n---\n", b.title)?;
        let mut section = None;
        for p in &b.paragraphs {
            if p.section != section {
                writeln!(out, "## {}\n", p.section.as_deref().unwrap_or(""))?;
                section = p.section.clone();
            }
            writeln!(out, "{}\n", p.text)?;
        }
        out.flush()?;
    }
    let mut q = std::io::BufWriter::new(std::fs::File::create(dir.join("questions.jsonl"))?);
    for question in questions(&corpus, 1000, seed) {
        writeln!(
            q,
            "{}",
            serde_json::to_string(&question).expect("serializes")
        )?;
    }
    q.flush()?;
    Ok((corpus.briefings.len(), corpus.passage_count()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_corpus() {
        let a = corpus(75, 7);
        let b = corpus(75, 7);
        assert_eq!(a.briefings, b.briefings);
        assert_eq!(a.passage_count(), 75);
        assert_eq!(a.briefings.len(), 3);
        assert_ne!(corpus(75, 8).briefings, a.briefings);
        let words: usize = a
            .briefings
            .iter()
            .flat_map(|b| &b.paragraphs)
            .map(|p| p.text.split_whitespace().count())
            .sum();
        let mean = words / 75;
        assert!((90..=150).contains(&mean), "mean paragraph length {mean}");
    }

    #[test]
    fn the_vocabulary_is_zipf_like() {
        let v = Vocabulary::new();
        let mut rng = Rng::new(1);
        let mut top = 0;
        for _ in 0..10_000 {
            if v.sample(&mut rng) == v.words[0] {
                top += 1;
            }
        }
        // The most frequent word has about 1/H(50,000) ≈ 9% of the draws.
        assert!((700..=1100).contains(&top), "{top}");
    }

    #[test]
    fn questions_come_from_their_paragraphs() {
        let c = corpus(60, 3);
        for q in questions(&c, 20, 3) {
            let p = c
                .briefings
                .iter()
                .flat_map(|b| &b.paragraphs)
                .find(|p| p.text.starts_with(&q.gold_contains))
                .expect("the gold paragraph exists");
            for w in q.question.trim_end_matches('?').split(' ') {
                assert!(p.text.to_lowercase().contains(w), "{w}");
            }
        }
    }
}
