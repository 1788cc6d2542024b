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

/// What a member's interaction is, for the rate limits: each kind has its own allowance,
/// so that turning pages never costs a question, and typing in an autocomplete box (a
/// request per keystroke) costs neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// A question searched: `/ask`, a mention, a DM, a thread follow-up, More, Share.
    Question,
    /// Any other interaction that does work or writes: votes, Discuss, quiz choices and
    /// Next question, page turns, Full / Context, `/read`, `/quiz`, `/cite`, `/passage`,
    /// `/sources`.
    Action,
    /// An autocomplete request.
    Autocomplete,
}

/// Per-user limits on every kind of [`Use`]: each allows its number per period, refilled
/// evenly (GCRA, through governor).
pub struct Limits<C: Clock = DefaultClock> {
    questions: Cooldown<C>,
    actions: Cooldown<C>,
    autocomplete: Cooldown<C>,
    /// Question limits of servers that set their own (`/settings cooldown_questions`), by
    /// allowance: one limiter per distinct allowance, at most [`MAX_SERVER_QUESTIONS`].
    server_questions: std::sync::Mutex<std::collections::HashMap<u32, Cooldown<C>>>,
    default_questions: u32,
    period: Duration,
    clock: C,
}

/// The largest question allowance a server may set for itself.
pub const MAX_SERVER_QUESTIONS: u32 = 100;

impl Limits {
    /// `questions`, `actions` and `autocomplete` uses per `period` for each user.
    pub fn new(questions: u32, actions: u32, autocomplete: u32, period: Duration) -> Limits {
        Limits::with_clock(
            (questions, actions, autocomplete),
            period,
            DefaultClock::default(),
        )
    }
}

impl<C: Clock + Clone> Limits<C> {
    /// Limits on a given clock (a fake one in tests).
    pub fn with_clock(
        (questions, actions, autocomplete): (u32, u32, u32),
        period: Duration,
        clock: C,
    ) -> Limits<C> {
        Limits {
            questions: Cooldown::with_clock(questions, period, clock.clone()),
            actions: Cooldown::with_clock(actions, period, clock.clone()),
            autocomplete: Cooldown::with_clock(autocomplete, period, clock.clone()),
            server_questions: Default::default(),
            default_questions: questions,
            period,
            clock,
        }
    }

    /// [`Limits::check`] in a server that allows `server_questions` questions per period
    /// instead of the bot's default (other kinds of use are not changed by a server).
    pub fn check_in(
        &self,
        user: u64,
        kind: Use,
        server_questions: Option<u32>,
    ) -> Result<(), Duration> {
        match (kind, server_questions) {
            (Use::Question, Some(n)) if n != self.default_questions => {
                let n = n.clamp(1, MAX_SERVER_QUESTIONS);
                let mut servers = self
                    .server_questions
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                servers
                    .entry(n)
                    .or_insert_with(|| Cooldown::with_clock(n, self.period, self.clock.clone()))
                    .check(user)
            }
            _ => self.check(user, kind),
        }
    }

    /// Records one `use` by `user`; `Err(wait)` when they must wait first.
    pub fn check(&self, user: u64, kind: Use) -> Result<(), Duration> {
        match kind {
            Use::Question => self.questions.check(user),
            Use::Action => self.actions.check(user),
            Use::Autocomplete => self.autocomplete.check(user),
        }
    }

    /// Forgets every user whose allowance is full again (they are limited no more), so the
    /// state holds only the users of the last period, not every user ever seen.
    pub fn prune(&self) {
        self.kinds().iter().for_each(|c| c.prune());
        self.server_questions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .for_each(Cooldown::prune);
    }

    /// How many (user, kind) entries the limits hold now.
    pub fn tracked(&self) -> usize {
        let servers: usize = self
            .server_questions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(Cooldown::tracked)
            .sum();
        self.kinds().iter().map(|c| c.tracked()).sum::<usize>() + servers
    }

    fn kinds(&self) -> [&Cooldown<C>; 3] {
        [&self.questions, &self.actions, &self.autocomplete]
    }
}

/// Per-user limit of one kind: `uses` per `period`, refilled evenly (GCRA).
pub struct Cooldown<C: Clock = DefaultClock> {
    limiter: RateLimiter<u64, DefaultKeyedStateStore<u64>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

impl<C: Clock + Clone> Cooldown<C> {
    /// A cooldown on a given clock (a fake one in tests).
    pub fn with_clock(uses: u32, period: Duration, clock: C) -> Cooldown<C> {
        let burst = NonZeroU32::new(uses.max(1)).expect("at least one");
        let every = (period / burst.get()).max(Duration::from_millis(1));
        let quota = Quota::with_period(every)
            .expect("a positive period")
            .allow_burst(burst);
        Cooldown {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            clock,
        }
    }

    /// Records a use by `user`; `Err(wait)` when they must wait first.
    pub fn check(&self, user: u64) -> Result<(), Duration> {
        self.limiter
            .check_key(&user)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn tracked(&self) -> usize {
        self.limiter.len()
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

    fn limits(clock: &FakeRelativeClock) -> Limits<FakeRelativeClock> {
        Limits::with_clock((5, 20, 60), Duration::from_secs(30), clock.clone())
    }

    #[test]
    fn the_sixth_question_in_the_window_waits() {
        let clock = FakeRelativeClock::default();
        let limits = limits(&clock);
        for _ in 0..5 {
            assert!(limits.check(1, Use::Question).is_ok());
        }
        let wait = limits.check(1, Use::Question).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        assert!(
            limits.check(2, Use::Question).is_ok(),
            "another user is not limited"
        );
        clock.advance(Duration::from_secs(6));
        assert!(limits.check(1, Use::Question).is_ok());
        assert!(limits.check(1, Use::Question).is_err());
    }

    #[test]
    fn a_server_may_set_its_own_question_allowance() {
        let clock = FakeRelativeClock::default();
        let limits = limits(&clock);
        // A strict server: 2 questions per period; the bot's default elsewhere (5).
        assert!(limits.check_in(1, Use::Question, Some(2)).is_ok());
        assert!(limits.check_in(1, Use::Question, Some(2)).is_ok());
        assert!(limits.check_in(1, Use::Question, Some(2)).is_err());
        for _ in 0..5 {
            assert!(limits.check_in(1, Use::Question, None).is_ok());
        }
        assert!(limits.check_in(1, Use::Question, None).is_err());
        // A generous one: 8; other kinds of use keep the bot's allowance.
        for _ in 0..8 {
            assert!(limits.check_in(2, Use::Question, Some(8)).is_ok());
        }
        assert!(limits.check_in(2, Use::Question, Some(8)).is_err());
        assert!(limits.check_in(2, Use::Action, Some(8)).is_ok());
        assert!(limits.tracked() >= 3);
        clock.advance(Duration::from_secs(60));
        limits.prune();
        assert_eq!(limits.tracked(), 0, "pruned, server limiters too");
    }

    #[test]
    fn each_kind_of_use_has_its_own_allowance() {
        let clock = FakeRelativeClock::default();
        let limits = limits(&clock);
        for _ in 0..5 {
            limits.check(1, Use::Question).unwrap();
        }
        // Out of questions, a member can still turn pages and vote, up to their own limit.
        for i in 0..20 {
            assert!(limits.check(1, Use::Action).is_ok(), "action {i}");
        }
        assert!(
            limits.check(1, Use::Action).is_err(),
            "the 21st action waits"
        );
        for i in 0..60 {
            assert!(limits.check(1, Use::Autocomplete).is_ok(), "keystroke {i}");
        }
        assert!(limits.check(1, Use::Autocomplete).is_err());
    }

    #[test]
    fn pruning_forgets_users_whose_allowance_is_full_again() {
        let clock = FakeRelativeClock::default();
        let limits = limits(&clock);
        for user in 0..1000 {
            limits.check(user, Use::Question).unwrap();
            limits.check(user, Use::Action).unwrap();
        }
        limits.prune();
        assert_eq!(limits.tracked(), 2000, "recent users are kept");
        clock.advance(Duration::from_secs(31));
        limits.check(5000, Use::Autocomplete).unwrap();
        limits.prune();
        assert_eq!(
            limits.tracked(),
            1,
            "only the user of the last period is left"
        );
        // A pruned user starts with a full allowance, as a new one would.
        for _ in 0..5 {
            assert!(limits.check(7, Use::Question).is_ok());
        }
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
