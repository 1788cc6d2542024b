//! Votes and what members could not find, as the bot's operations: a 👍 / 👎 (and a 👎's
//! reason), every question counted and every refused one recorded for the report, the
//! members' and servers' recording switches, `/gaps`, and retention. Free of serenity, like
//! [`super::bot`]; the queries are in [`crate::state::gaps`] and [`crate::state::votes`],
//! the grouping in [`crate::gaps`], the messages in [`crate::render::discord::state`].

use std::sync::Arc;
use std::time::Duration;

use super::bot::Bot;
use crate::moderate::Actor;
use crate::render::discord::state as render;
use crate::render::discord::{Message, notice};
use crate::state::gaps::{self, Unanswered};
use crate::state::votes::{self, Vote};
use crate::state::{StateError, now};

/// A 👍 / 👎 press.
#[derive(Debug, Clone)]
pub struct VotePress {
    pub question: String,
    pub passage: String,
    pub up: bool,
    pub interaction: u64,
    pub guild: Option<u64>,
    /// Who pressed: only to honour their `/privacy` choice; never stored with the vote.
    pub member: u64,
}

/// What a vote press gets back.
#[derive(Debug, Clone)]
pub struct Voted {
    pub reply: Message,
    /// A 👎 recorded for the report, which may now be given a reason (the modal).
    pub ask_reason: bool,
}

/// The kinds of reason a 👎 may give.
pub const REASON_KINDS: [&str; 4] = ["wrong paragraph", "not covered", "outdated", "other"];

/// The reason kind a member typed, as one of [`REASON_KINDS`].
pub fn reason_kind(typed: &str) -> &'static str {
    let t = typed.trim().to_lowercase();
    if t.contains("wrong") || t.contains("paragraph") {
        "wrong paragraph"
    } else if t.contains("cover") || t.starts_with("not") || t.contains("missing") {
        "not covered"
    } else if t.contains("out") || t.contains("old") || t.contains("date") {
        "outdated"
    } else {
        "other"
    }
}

impl Bot {
    /// Records a vote (no user id or name), with the index version answering now; a 👎 is
    /// also recorded for the unanswered-questions report (unless the member or the server
    /// turned that off), and may then be given a reason.
    pub async fn vote(&self, press: VotePress) -> Voted {
        let unavailable = |reply| Voted {
            reply,
            ask_reason: false,
        };
        // Within the voter's scope: a passage of another server's library is voted on as
        // one that does not exist (not recorded).
        let engine = self.engine_in(press.guild).await;
        let briefing = match engine.passage(&press.passage) {
            Ok(Some(p)) => p.briefing,
            Ok(None) => return unavailable(notice(super::bot::NO_SUCH_PASSAGE)),
            Err(err) => {
                tracing::error!(error = %crate::error_chain(&err), "passage lookup failed");
                return unavailable(notice(super::bot::SOMETHING_WENT_WRONG));
            }
        };
        let Ok(store) = self.store().await else {
            return unavailable(render::unavailable("Votes are"));
        };
        let vote = Vote {
            at: now(),
            interaction: Some(press.interaction),
            guild: press.guild,
            question: press.question.clone(),
            passage: press.passage.clone(),
            up: press.up,
            index_version: Some(engine.manifest().version.clone()),
        };
        if let Err(err) = votes::record(&store, &vote).await {
            return unavailable(self.failed("Votes are", &err).await);
        }
        let reply = notice(&format!(
            "Thanks: your {} on `{}` is recorded.",
            if press.up { "👍" } else { "👎" },
            press.passage.replace('`', "'")
        ));
        if press.up {
            return Voted {
                reply,
                ask_reason: false,
            };
        }
        let recorded = async {
            if !gaps::may_record(&store, press.member, press.guild).await? {
                return Ok(false);
            }
            let row = Unanswered {
                at: vote.at,
                guild: press.guild,
                kind: gaps::Kind::Down,
                question: press.question,
                index_version: vote.index_version,
                nearest: vec![briefing],
                passage: Some(press.passage),
                reason_kind: None,
                reason: None,
                interaction: Some(press.interaction),
            };
            gaps::record(&store, &row).await
        }
        .await;
        match recorded {
            Ok(ask_reason) => Voted { reply, ask_reason },
            Err(err) => {
                tracing::warn!(error = %crate::error_chain(&err), "a 👎 could not be recorded for the report");
                Voted {
                    reply,
                    ask_reason: false,
                }
            }
        }
    }

    /// The reason given in the 👎 modal of vote `interaction`.
    pub async fn vote_reason(&self, interaction: u64, kind: &str, text: &str) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Votes are");
        };
        let text = crate::render::discord::cut(text.trim(), 200);
        let kind = if kind.trim().is_empty() && text.is_empty() {
            return notice("Thanks: your 👎 is recorded.");
        } else {
            reason_kind(kind)
        };
        let text = (!text.is_empty()).then_some(text.as_str());
        match gaps::add_reason(&store, interaction, kind, text).await {
            Ok(true) => notice(&format!(
                "Thanks: your 👎 is recorded, with the reason “{kind}”."
            )),
            Ok(false) => notice(
                "Thanks: your 👎 is recorded (its question is no longer kept, so the reason \
                 was not).",
            ),
            Err(err) => self.failed("Votes are", &err).await,
        }
    }

    /// Counts a question asked and, when the briefings did not cover it, records it for
    /// the unanswered-questions report: in the background, and only if the database is
    /// open now (the answer never waits for it; while it is down, nothing is counted).
    /// Chatter refused for having nothing to look for ("what is it", "is that so": no
    /// word says what it is about) is neither: it is no gap in the briefings.
    pub(super) fn note_question(
        &self,
        asker: u64,
        guild: Option<u64>,
        answer: &crate::answer::Answer,
    ) {
        let Some(store) = self.state.ready() else {
            return;
        };
        if answer.is_chatter() {
            return;
        }
        let refused = (!answer.is_covered()).then(|| Unanswered {
            at: now(),
            guild,
            kind: gaps::Kind::Refused,
            question: answer.question.clone(),
            index_version: Some(answer.index_version.clone()),
            nearest: answer.nearest.clone(),
            passage: None,
            reason_kind: None,
            reason: None,
            interaction: None,
        });
        tokio::spawn(async move {
            let noted = async {
                gaps::count_question(&store, guild, now()).await?;
                if let Some(row) = refused
                    && gaps::may_record(&store, asker, guild).await?
                {
                    gaps::record(&store, &row).await?;
                }
                Ok::<_, StateError>(())
            }
            .await;
            if let Err(err) = noted {
                tracing::warn!(error = %crate::error_chain(&err), "a question could not be noted for the report");
            }
        });
    }

    /// `/privacy questions`: whether a member's unanswered questions are recorded.
    pub async fn set_privacy(&self, member: u64, record: bool) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Privacy settings are");
        };
        match gaps::set_member_recording(&store, member, record, now()).await {
            Ok(()) => notice(if record {
                "Your unanswered questions may be recorded (without your name) for the \
                 moderators' report of what the briefings miss."
            } else {
                "Your questions will not be recorded for the moderators' report: not the \
                 ones the briefings cannot answer, not the ones you vote 👎."
            }),
            Err(err) => self.failed("Privacy settings are", &err).await,
        }
    }

    /// `/settings record_questions`: whether a server's unanswered questions are recorded.
    pub async fn set_server_recording(
        &self,
        actor: &Actor,
        guild: u64,
        record: bool,
    ) -> Result<(), Message> {
        let Ok(store) = self.store().await else {
            return Err(render::unavailable("Settings are"));
        };
        match gaps::set_server_recording(&store, guild, record, actor.id, now()).await {
            Ok(()) => {
                let what = format!("record_questions = {}", if record { "on" } else { "off" });
                self.audit(actor, "settings", "server", &what).await;
                Ok(())
            }
            Err(err) => Err(self.failed("Settings are", &err).await),
        }
    }

    /// `/gaps`: a page of the report on `guild`'s unanswered questions of the last `days`,
    /// for `briefing` (a slug) if one is named.
    pub async fn gaps(
        &self,
        guild: u64,
        days: u32,
        briefing: Option<&str>,
        page: usize,
    ) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("The report is");
        };
        let title = match briefing {
            Some(b) => match self.find_briefing(Some(guild), b).await {
                Some(info) => Some(info.title),
                None => return notice("No briefing is called that: `/sources` lists them."),
            },
            None => None,
        };
        let scope = crate::gaps::Scope {
            guild: Some(guild),
            days,
            now: now(),
            briefing: title.clone(),
        };
        match crate::gaps::build(&store, &scope, self.engine().model().cloned()).await {
            Ok(report) => render::gaps_message(&report, days, briefing, title.as_deref(), page),
            Err(err) => self.failed("The report is", &err).await,
        }
    }

    /// Deletes what the report keeps past `gaps.keep_days`, as of `at`.
    pub async fn prune_gaps(&self, at: i64) {
        let Some(store) = self.state.ready() else {
            return;
        };
        match gaps::prune(&store, at, self.settings.gaps.keep_days).await {
            Ok(n) if n > 0 => tracing::info!(
                deleted = n,
                keep_days = self.settings.gaps.keep_days,
                "old unanswered questions deleted"
            ),
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %crate::error_chain(&err), "old unanswered questions could not be deleted")
            }
        }
    }

    /// Deletes old unanswered questions every hour, forever.
    pub async fn keep_pruning_gaps(self: Arc<Self>) {
        loop {
            self.prune_gaps(now()).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
}
