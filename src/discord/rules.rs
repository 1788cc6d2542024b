//! The bot's rules, as pure functions and small types tested without Discord: who is a
//! moderator, how often a user may ask, how a question is checked, and how a follow-up in
//! a thread is asked together with the thread's first question.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// Whether a member may change the index: Manage Server, or one of the moderator roles.
/// The bot checks this itself, whatever the command's default permissions in Discord say.
pub fn is_moderator(manage_guild: bool, member_roles: &[u64], moderator_roles: &[u64]) -> bool {
    manage_guild || member_roles.iter().any(|r| moderator_roles.contains(r))
}

/// Per-user question limit: `questions` per `period`, refilled evenly (GCRA).
pub struct Cooldown<C: Clock = DefaultClock> {
    limiter: RateLimiter<u64, DefaultKeyedStateStore<u64>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

impl Cooldown {
    pub fn new(questions: u32, period: Duration) -> Cooldown {
        Cooldown::with_clock(questions, period, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Cooldown<C> {
    /// A cooldown on a given clock (a fake one in tests).
    pub fn with_clock(questions: u32, period: Duration, clock: C) -> Cooldown<C> {
        let burst = NonZeroU32::new(questions.max(1)).expect("at least one");
        let every = (period / burst.get()).max(Duration::from_millis(1));
        let quota = Quota::with_period(every)
            .expect("a positive period")
            .allow_burst(burst);
        Cooldown {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            clock,
        }
    }

    /// Records a question by `user`; `Err(wait)` when they must wait first.
    pub fn check(&self, user: u64) -> Result<(), Duration> {
        self.limiter
            .check_key(&user)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Why a question is refused before it is searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLong { max: usize, got: usize },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Empty => write!(
                f,
                "Ask a question in words, for example `/ask What is J-JOC?`."
            ),
            Refusal::TooLong { max, got } => write!(
                f,
                "That question is {got} characters long; questions may have at most {max}. \
                 Ask it in fewer words."
            ),
        }
    }
}

/// Checks a question's length (in characters); it is never cut, only refused.
pub fn check_question(question: &str, max_chars: usize) -> Result<&str, Refusal> {
    let q = question.trim();
    let got = q.chars().count();
    if got == 0 {
        Err(Refusal::Empty)
    } else if got > max_chars {
        Err(Refusal::TooLong {
            max: max_chars,
            got,
        })
    } else {
        Ok(q)
    }
}

/// A follow-up asked in a thread, searched together with the thread's first question
/// (so that "and who leads it?" still finds what the thread is about).
pub fn with_thread_context(first_question: &str, followup: &str) -> String {
    format!("{followup} {first_question}")
}

/// The text of a message that mentions the bot, without the mention.
pub fn strip_mention(content: &str, bot_id: u64) -> String {
    content
        .replace(&format!("<@{bot_id}>"), " ")
        .replace(&format!("<@!{bot_id}>"), " ")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn moderators_need_the_permission_or_a_role() {
        assert!(is_moderator(true, &[], &[]));
        assert!(is_moderator(false, &[5, 9], &[9]));
        assert!(!is_moderator(false, &[5], &[9]));
        assert!(!is_moderator(false, &[], &[]));
    }

    #[test]
    fn the_sixth_question_in_the_window_waits() {
        let clock = FakeRelativeClock::default();
        let cooldown = Cooldown::with_clock(5, Duration::from_secs(30), clock.clone());
        for _ in 0..5 {
            assert!(cooldown.check(1).is_ok());
        }
        let wait = cooldown.check(1).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        assert!(cooldown.check(2).is_ok(), "another user is not limited");
        clock.advance(Duration::from_secs(6));
        assert!(cooldown.check(1).is_ok());
        assert!(cooldown.check(1).is_err());
    }

    #[test]
    fn questions_are_refused_not_cut() {
        assert_eq!(check_question("  hi  ", 300), Ok("hi"));
        assert_eq!(check_question("   ", 300), Err(Refusal::Empty));
        let long = "é".repeat(301);
        assert_eq!(
            check_question(&long, 300),
            Err(Refusal::TooLong { max: 300, got: 301 })
        );
        assert!(
            Refusal::TooLong { max: 300, got: 301 }
                .to_string()
                .contains("at most 300")
        );
    }

    #[test]
    fn followups_carry_the_first_question() {
        let q = with_thread_context("What is J-JOC?", "and who leads it?");
        assert!(q.contains("J-JOC") && q.contains("leads"));
        assert_eq!(strip_mention("<@42> what is J-JOC?", 42), "what is J-JOC?");
        assert_eq!(strip_mention("hey <@!42>   ", 42), "hey");
    }
}
