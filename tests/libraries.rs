//! Libraries: the shared one and each server's own. What a scope may read, through every
//! handler the bot has (a table over commands, buttons and autocomplete, for every passage
//! of another library), who may change which library, and the ranking of the shared
//! library left as it was.

mod common;

use std::fs;

use briefbot::discord::bot::{Ask, Bot, QuizPress};
use briefbot::discord::unanswered::VotePress;
use briefbot::library::{Library, Rights, Scope};
use briefbot::render::discord::Message;
use common::{Workspace, moderator};

/// Server A has a library of its own (one briefing); server B has none.
const A: u64 = 111;
const B: u64 = 222;

const TIDES: &str = "# Tidal Power\n\n## Plans\n\nThe Severn barrage would make seven percent of \
    British electricity from the tides of the estuary.\n\nIts lagoon would hold back the \
    tide for six hours twice a day.\n\n## Costs\n\nThe barrage would cost more than a new \
    reactor, about 34 billion pounds.\n";

fn workspace_with_a_library() -> Workspace {
    let ws = Workspace::with_fixtures();
    let dir = ws.content().join(format!("servers/{A}"));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("tides.md"), TIDES).unwrap();
    ws
}

/// Everything a message shows, with `id` (what was asked for) replaced, so that the reply
/// about an id of another library can be compared with the reply about an id that does
/// not exist.
fn shown(m: &Message, id: &str) -> String {
    let mut s = m.content.clone();
    if let Some(e) = &m.embed {
        s.push_str(&e.description);
    }
    for b in m.rows.iter().flatten() {
        s.push_str(&b.id);
        s.push_str(&b.label);
    }
    if let Some(menu) = &m.menu {
        s.push_str(&format!("{menu:?}"));
    }
    s.replace(id, "<ID>")
}

/// The live index of `ws` (built first), over every library.
fn engine_of(ws: &Workspace) -> briefbot::search::Engine {
    briefbot::app::open_or_build(&ws.settings(), briefbot::search::Ranking::Full, None)
        .unwrap()
        .engine
}

fn ask(question: &str, guild: Option<u64>, briefing: Option<&str>) -> Ask {
    Ask {
        briefing: briefing.map(str::to_string),
        guild,
        ..Ask::new(question, 42)
    }
}

/// Every reply a member can get about a passage id or a briefing slug, from any command,
/// button or autocomplete of the bot, asked in `guild` (`None`: a DM).
async fn every_reply(bot: &Bot, guild: Option<u64>, id: &str, slug: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |what: &str, text: String| out.push((what.to_string(), text));
    // /passage, the Full and Context buttons.
    push(
        "passage",
        shown(&bot.passage(guild, id, true, false).await, id),
    );
    push(
        "full",
        shown(&bot.passage(guild, id, false, true).await, id),
    );
    // /cite, and its autocomplete by id and by words.
    push("cite", shown(&bot.cite(guild, id).await, id));
    // (Its words search the scope when no id matches: only the choices of A's library
    // are compared, as other words of the two ids find other shared passages.)
    let of_a = |choices: Vec<(String, String)>| -> String {
        let own: Vec<_> = choices
            .into_iter()
            .filter(|(_, v)| v.starts_with(&format!("servers/{A}/")))
            .collect();
        format!("{own:?}")
    };
    push("cite choices", of_a(bot.cite_choices(guild, id).await));
    push(
        "cite choices by words",
        of_a(bot.cite_choices(guild, "Severn barrage tides").await),
    );
    // 👍 and 👎 on the passage.
    for up in [true, false] {
        let voted = bot
            .vote(VotePress {
                question: "What would the Severn barrage make?".into(),
                passage: id.into(),
                up,
                interaction: 9_000 + u64::from(up),
                guild,
                member: 42,
            })
            .await;
        push("vote", shown(&voted.reply, id));
    }
    // /read (and its page buttons, which name the briefing by slug), its autocomplete.
    push(
        "read",
        shown(&bot.read(guild, slug, None, None).await, slug),
    );
    push(
        "read page",
        shown(&bot.read(guild, slug, None, Some(2)).await, slug),
    );
    push(
        "section choices",
        format!("{:?}", bot.section_choices(guild, slug, "").await),
    );
    // /quiz play of the briefing, the quiz's Next button, and a choice on its quiz.
    push("quiz", shown(&bot.quiz(guild, Some(slug), 7).await, slug));
    let press = QuizPress {
        guild,
        channel: 1,
        message: 2,
        user: 42,
    };
    push(
        "quiz answer",
        shown(
            &bot.answer_quiz(press, 7, 0, "0", Some(slug.to_string()))
                .await,
            slug,
        ),
    );
    // /ask restricted to the briefing (and Share, More, "anyway", which ask again).
    push(
        "ask in briefing",
        shown(
            &bot.ask(ask("Severn barrage electricity", guild, Some(slug)))
                .await,
            slug,
        ),
    );
    // Autocomplete of briefings and passage ids, /sources, /settings default_briefing.
    push(
        "briefing choices",
        format!("{:?}", bot.briefing_choices(guild, "tid").await),
    );
    push(
        "passage choices",
        format!("{:?}", bot.passage_choices(guild, id).await),
    );
    push("sources", shown(&bot.sources(guild, 0).await, slug));
    push(
        "find briefing",
        format!("{:?}", bot.find_briefing(guild, slug).await),
    );
    out
}

/// Every passage id of server A's library, asked from any other scope (server B, a DM),
/// gets from every handler exactly the reply an id that does not exist gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_librarys_passage_reads_as_no_such_passage_everywhere() {
    let ws = workspace_with_a_library();
    let bot = Bot::new(ws.settings()).unwrap();
    let engine = bot.engine();
    let a_passages: Vec<String> = engine
        .scoped(Scope::Server {
            id: A,
            shared: false,
        })
        .briefings()
        .flat_map(|b| (1..=b.paragraphs).map(move |n| format!("{}:{n}", b.slug)))
        .collect();
    assert_eq!(
        a_passages,
        [
            format!("servers/{A}/tides:1"),
            format!("servers/{A}/tides:2"),
            format!("servers/{A}/tides:3")
        ]
    );
    let slug = format!("servers/{A}/tides");
    let (missing_id, missing_slug) = (
        format!("servers/{A}/nothing:1"),
        format!("servers/{A}/nothing"),
    );
    for scope in [Some(B), None] {
        let missing = every_reply(&bot, scope, &missing_id, &missing_slug).await;
        for id in &a_passages {
            let got = every_reply(&bot, scope, id, &slug).await;
            for ((what, got), (_, expected)) in got.iter().zip(&missing) {
                assert_eq!(got, expected, "{what} of {id} from {scope:?}");
            }
        }
    }
    // And from A itself, the same handlers find them (the table is not vacuous).
    let from_a = every_reply(&bot, Some(A), &a_passages[0], &slug).await;
    let missing = every_reply(&bot, Some(A), &missing_id, &missing_slug).await;
    let differing: Vec<&str> = from_a
        .iter()
        .zip(&missing)
        .filter(|((_, a), (_, m))| a != m)
        .map(|((what, _), _)| what.as_str())
        .collect();
    for what in [
        "passage",
        "full",
        "cite",
        "read",
        "quiz",
        "ask in briefing",
        "passage choices",
        "find briefing",
    ] {
        assert!(
            differing.contains(&what),
            "{what} does not find A's passage in A"
        );
    }
    // What does not name the passage lists A's briefing in A, and nowhere else.
    let listed = |guild| {
        let bot = &bot;
        async move {
            let choices = bot.briefing_choices(guild, "tid").await;
            let sources = shown(&bot.sources(guild, 0).await, "@@nothing@@");
            (
                choices.iter().any(|(_, slug)| slug.ends_with("tides")),
                sources.contains("Tidal Power"),
            )
        }
    };
    assert_eq!(listed(Some(A)).await, (true, true));
    assert_eq!(listed(Some(B)).await, (false, false));
    assert_eq!(listed(None).await, (false, false));
}

/// A server that turned the shared library off reads its own alone: the shared passages
/// are then as absent as another server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_shared_library_reads_its_own_alone() {
    let ws = workspace_with_a_library();
    let engine = engine_of(&ws);
    let alone = engine.scoped(Scope::Server {
        id: A,
        shared: false,
    });
    assert!(alone.passage("rail:1").unwrap().is_none());
    assert!(
        engine
            .scoped(Scope::Shared)
            .passage("rail:1")
            .unwrap()
            .is_some()
    );
    let hits = alone.search("night trains subsidy", 5, None).unwrap();
    assert!(
        hits.iter().all(|h| h.passage.slug.starts_with("servers/")),
        "{hits:?}"
    );
    // A word only another library holds is as unknown as a word no briefing holds.
    let (_, verdict) = engine
        .scoped(Scope::Shared)
        .search_judged("Severn barrage lagoon", 5, None)
        .unwrap();
    assert!(!verdict.covered, "{verdict:?}");
    let (hits, verdict) = engine
        .scoped(Scope::Server {
            id: A,
            shared: true,
        })
        .search_judged("Severn barrage lagoon", 5, None)
        .unwrap();
    assert!(verdict.covered, "{verdict:?}");
    assert_eq!(hits[0].passage.slug, format!("servers/{A}/tides"));
}

/// A question nothing answers names the nearest briefings of the asker's scope, never
/// another library's (even where that library's come first in the index).
#[test]
fn a_refusal_names_only_the_briefings_the_asker_reads() {
    let ws = Workspace::empty();
    fs::write(
        ws.content().join("zebras.md"),
        "# Zebras\n\nZebras graze the plains.\n",
    )
    .unwrap();
    let dir = ws.content().join(format!("servers/{A}"));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("tides.md"), TIDES).unwrap();
    let engine = engine_of(&ws);
    for (scope, expected) in [
        (Scope::Shared, vec!["Zebras"]),
        (
            Scope::Server {
                id: B,
                shared: true,
            },
            vec!["Zebras"],
        ),
        (
            Scope::Server {
                id: A,
                shared: false,
            },
            vec!["Tidal Power"],
        ),
    ] {
        let answer =
            briefbot::answer::answer(&engine.scoped(scope), "quasar telescopes", 3, None).unwrap();
        assert!(answer.quotes.is_empty());
        assert_eq!(answer.nearest, expected, "{scope:?}");
    }
}

/// The filter is inside tantivy, not applied to a ranked list: a library of one briefing
/// gets its full top k even when the shared library holds hundreds of better matches.
#[test]
fn a_small_library_gets_its_full_top_k() {
    let ws = Workspace::with_fixtures();
    // Many shared paragraphs that match the question better than the server's do.
    for i in 0..40 {
        let text: String = (0..8)
            .map(|j| {
                format!(
                    "Lighthouse keepers log storms, lighthouse {i}-{j}, keepers and storms.\n\n"
                )
            })
            .collect();
        fs::write(
            ws.content().join(format!("lights-{i:02}.md")),
            format!("# Lights {i}\n\n{text}"),
        )
        .unwrap();
    }
    let dir = ws.content().join(format!("servers/{A}"));
    fs::create_dir_all(&dir).unwrap();
    let own: String = (1..=8)
        .map(|n| format!("Paragraph {n}: a lighthouse stands on the point.\n\n"))
        .collect();
    fs::write(dir.join("point.md"), format!("# The Point\n\n{own}")).unwrap();
    let engine = engine_of(&ws);
    let alone = engine.scoped(Scope::Server {
        id: A,
        shared: false,
    });
    let hits = alone.search("lighthouse keepers storms", 8, None).unwrap();
    assert_eq!(hits.len(), 8, "{hits:?}");
    assert!(
        hits.iter()
            .all(|h| h.passage.slug == format!("servers/{A}/point"))
    );
    // Unfiltered, the shared paragraphs come first.
    let all = engine.search("lighthouse keepers storms", 8, None).unwrap();
    assert!(all.iter().all(|h| h.passage.slug.starts_with("lights-")));
}

/// With no server library at all, every scope ranks exactly as the whole index does (the
/// shared library's ranking is what it was before libraries).
#[test]
fn without_server_libraries_every_scope_ranks_as_before() {
    let ws = Workspace::with_fixtures();
    let engine = engine_of(&ws);
    for question in [
        "How deep will the Velmora channel be?",
        "cod quota fleets",
        "night trains subsidy",
        "zeppelin",
    ] {
        let all = engine.search_judged(question, 10, None).unwrap();
        for scope in [
            Scope::Shared,
            Scope::Server {
                id: A,
                shared: true,
            },
        ] {
            let scoped = engine
                .scoped(scope)
                .search_judged(question, 10, None)
                .unwrap();
            assert_eq!(scoped.0, all.0, "{question} in {scope:?}");
            assert_eq!(format!("{:?}", scoped.1), format!("{:?}", all.1));
        }
    }
}

/// Who may change which library, through the bot: a server's moderators their own, the
/// operators every one; refusals name who may, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_change_their_own_library_and_operators_the_shared_one() {
    let ws = workspace_with_a_library();
    let bot = Bot::new(ws.settings()).unwrap();
    let moderator_of = |g: u64| Rights {
        operator: false,
        moderates: Some(g),
    };
    // B's moderator cannot find A's briefing to remove it, nor change the shared library.
    let m = bot
        .remove_briefing(moderator(), moderator_of(B), Some(B), "Tidal Power")
        .await;
    assert!(m.content.contains("no briefing is called"), "{}", m.content);
    assert!(ws.content().join(format!("servers/{A}/tides.md")).is_file());
    let m = bot
        .remove_briefing(moderator(), moderator_of(B), Some(B), "rail")
        .await;
    assert!(m.content.contains("operators"), "{}", m.content);
    assert!(ws.content().join("rail.html").is_file());
    let m = bot
        .add_briefing(
            moderator(),
            moderator_of(B),
            Library::Shared,
            "kelp.md",
            b"# Kelp\n\nKelp forests grow fast.\n".to_vec(),
        )
        .await;
    assert!(m.content.contains("operators"), "{}", m.content);
    assert!(!ws.content().join("kelp.md").exists());
    let m = bot
        .add_briefing(
            moderator(),
            moderator_of(B),
            Library::Server(A),
            "kelp.md",
            b"# Kelp\n\nKelp forests grow fast.\n".to_vec(),
        )
        .await;
    assert!(
        m.content.contains("that server's moderators"),
        "{}",
        m.content
    );
    assert!(!ws.content().join(format!("servers/{A}/kelp.md")).exists());

    // B's reindex reads B's library alone: an edit of A's file waits for A's reindex.
    fs::write(
        ws.content().join(format!("servers/{A}/tides.md")),
        TIDES.replace("seven percent", "eight percent"),
    )
    .unwrap();
    let reindex_own = |g: u64| {
        let bot = &bot;
        async move {
            bot.reindex(
                &moderator(),
                moderator_of(g),
                Some(Library::Server(g)),
                false,
            )
            .await
            .content
        }
    };
    let said = reindex_own(B).await;
    assert!(said.contains("0 briefings"), "{said}");
    let severn = |guild| {
        let bot = &bot;
        async move {
            let m = bot
                .ask(ask("Severn barrage electricity", guild, None))
                .await;
            m.embed.map(|e| e.description).unwrap_or(m.content)
        }
    };
    assert!(severn(Some(A)).await.contains("seven"));
    // A dry run of A's reindex says what would change in A's library, and changes nothing.
    let version = ws.current_version();
    let said = bot
        .reindex(
            &moderator(),
            moderator_of(A),
            Some(Library::Server(A)),
            true,
        )
        .await
        .content;
    assert!(
        said.contains("Dry run") && said.contains("1 briefing,") && said.contains("1 changed"),
        "{said}"
    );
    assert_eq!(ws.current_version(), version);
    let said = reindex_own(A).await;
    assert!(said.contains("1 changed"), "{said}");
    assert!(severn(Some(A)).await.contains("eight"));
    // Nobody but an operator reindexes every library.
    let m = bot
        .reindex(&moderator(), moderator_of(A), None, false)
        .await;
    assert!(m.content.contains("operators"), "{}", m.content);

    // An operator adds to the shared library: every server and DMs read it.
    let m = bot
        .add_briefing(
            moderator(),
            Rights::OPERATOR,
            Library::Shared,
            "kelp.md",
            b"# Kelp\n\nKelp forests grow fast along the cold coasts.\n".to_vec(),
        )
        .await;
    assert!(m.content.contains("**Added**"), "{}", m.content);
    for guild in [Some(A), Some(B), None] {
        let m = bot.ask(ask("kelp forests", guild, None)).await;
        let text = m.embed.map(|e| e.description).unwrap_or(m.content);
        assert!(text.contains("**Kelp** **forests**"), "{guild:?}: {text}");
    }
}

/// A server library is capped by `[libraries]`: past its limits, a clear refusal and
/// nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_library_is_capped_by_its_limits() {
    let ws = workspace_with_a_library();
    let mut settings = ws.settings();
    settings.libraries.max_briefings = 2;
    settings.libraries.max_paragraphs = 5;
    settings.libraries.max_upload_bytes = 200;
    let bot = Bot::new(settings).unwrap();
    let rights = Rights {
        operator: false,
        moderates: Some(A),
    };
    let add = |name: &str, text: String| {
        let bot = &bot;
        let name = name.to_string();
        async move {
            bot.add_briefing(
                moderator(),
                rights,
                Library::Server(A),
                &name,
                text.into_bytes(),
            )
            .await
            .content
            .replace('\\', "")
        }
    };
    let big = format!("# Big\n\n{}\n", "word ".repeat(60));
    let said = add("big.md", big).await;
    assert!(said.contains("libraries.max_upload_bytes"), "{said}");
    let three = "# Three\n\nOne para.\n\nTwo para.\n\nThree para.\n".to_string();
    let said = add("three.md", three).await;
    assert!(
        said.contains(
            "would hold 6 paragraphs, over its limit of 5 (libraries.max_paragraphs); it \
             holds 3 now"
        ),
        "{said}"
    );
    let said = add("one.md", "# One\n\nOne para.\n".to_string()).await;
    assert!(said.contains("**Added**"), "{said}");
    let said = add("two.md", "# Two\n\nOne para.\n".to_string()).await;
    assert!(
        said.contains("holds 2 briefings, its limit (libraries.max_briefings): remove one"),
        "{said}"
    );
    assert!(!ws.content().join(format!("servers/{A}/two.md")).exists());
    // The operators' shared library has no such caps.
    let said = bot
        .add_briefing(
            moderator(),
            Rights::OPERATOR,
            Library::Shared,
            "three.md",
            "# Three\n\nOne para.\n\nTwo para.\n\nThree para.\n".into(),
        )
        .await
        .content;
    assert!(said.contains("**Added**"), "{said}");
}

mod e2e {
    //! The real bot behind a fake Discord: two servers, A (the fake's own) and B, and a DM.

    use super::common::e2e::*;
    use super::common::fake_discord::{FakeDiscord, GUILD_ID, member};
    use serde_json::{Value, json};

    const SERVER_B: u64 = 2001;
    /// One of the bot's operators (`discord.owners`), without Manage Server anywhere.
    const OPERATOR: u64 = 4009;

    /// `/briefing add` of `name` in server A, into `library` (the choice's index: 1 is
    /// shared), by `by`.
    fn add_to(
        fake: &FakeDiscord,
        name: &str,
        bytes: &[u8],
        library: Option<u64>,
        by: Value,
    ) -> String {
        let url = fake.host_file(name, bytes);
        let attachment = "7001";
        let mut options = vec![json!({"name": "file", "type": 11, "value": attachment})];
        if let Some(l) = library {
            options.push(json!({"name": "library", "type": 4, "value": l}));
        }
        command_with(
            fake,
            "briefing",
            json!([{"name": "add", "type": 1, "options": options}]),
            json!({"attachments": {attachment: {"id": attachment, "filename": name,
                "size": bytes.len(), "url": url, "proxy_url": url}}}),
            by,
        )
        .1
    }

    async fn reply(fake: &FakeDiscord, (id, token): (u64, String)) -> String {
        answer_text(fake, (id, token), "the reply").await
    }

    async fn ask_at(fake: &FakeDiscord, guild: Option<u64>, question: &str) -> String {
        let asked = command_at(
            fake,
            guild,
            "ask",
            json!([{"name": "question", "type": 3, "value": question}]),
            member(OTHER, 0, &[]),
        );
        reply(fake, asked).await
    }

    /// The choices an autocomplete request got.
    async fn choices(fake: &FakeDiscord, guild: Option<u64>, name: &str, options: Value) -> Value {
        let id = autocomplete_at(fake, guild, name, options, member(OTHER, 0, &[]));
        reply_to(fake, id, "the choices").await.body["data"]["choices"].clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_servers_and_a_dm_each_read_their_own_library() {
        let fake = FakeDiscord::start().await;
        let bot = start(
            &fake,
            &format!(
                "owners = [{OPERATOR}]\ncooldown_actions = 1000\ncooldown_questions = 100\n\
                 cooldown_autocomplete = 1000\n"
            ),
        )
        .await;
        let a_moderator = || member(ASKER, MANAGE_GUILD, &[]);
        let b_moderator = || member(ASKER, MANAGE_GUILD, &[]);

        // A's moderator adds a briefing: A's library, answered within that one reindex.
        let token = add_to(&fake, "tides.md", TIDES.as_bytes(), None, a_moderator());
        let r = fake
            .wait_for(0, "the added report", |r| is_answer_to(r, &token))
            .await;
        assert!(
            shown(&r.body).contains("this server's library"),
            "{}",
            r.body
        );
        let file = bot
            .ws
            .content()
            .join(format!("servers/{GUILD_ID}/tides.md"));
        assert!(file.is_file());
        let question = "What would the Severn barrage make?";
        let asked = command_at(
            &fake,
            Some(GUILD_ID),
            "ask",
            json!([{"name": "question", "type": 3, "value": question}]),
            member(OTHER, 0, &[]),
        );
        let token = asked.1.clone();
        let in_a = fake
            .wait_for(0, "A's answer", |r| is_answer_to(r, &token))
            .await;
        assert!(
            shown(&in_a.body).contains("**Severn** **barrage**"),
            "{}",
            in_a.body
        );
        let own = format!("servers/{GUILD_ID}/tides");
        let buttons: Vec<String> = component_ids(&in_a.body)
            .into_iter()
            .filter(|id| id.contains(&own))
            .collect();
        assert!(buttons.len() >= 3, "{buttons:?}");

        // B's members and DMs never see it: not in answers, ...
        for place in [Some(SERVER_B), None] {
            let answer = ask_at(&fake, place, question).await;
            assert!(!answer.contains("**Severn**"), "{place:?}: {answer}");
            assert!(!answer.contains("Tidal"), "{place:?}: {answer}");
            assert!(!answer.contains(&own), "{place:?}: {answer}");
        }
        // ... not by id (/passage, /cite, every button of A's answer), where it reads
        // exactly as an id that does not exist, ...
        let missing = format!("servers/{GUILD_ID}/nothing");
        let same = |a: &str, b: &str| a.replace(&own, "<ID>") == b.replace(&missing, "<ID>");
        for place in [Some(SERVER_B), None] {
            for command in ["passage", "cite"] {
                let mut got = Vec::new();
                for id in [format!("{own}:1"), format!("{missing}:1")] {
                    let asked = command_at(
                        &fake,
                        place,
                        command,
                        json!([{"name": "id", "type": 3, "value": id}]),
                        member(OTHER, 0, &[]),
                    );
                    got.push(reply(&fake, asked).await);
                }
                assert!(same(&got[0], &got[1]), "/{command} in {place:?}: {got:?}");
                assert!(!got[0].contains("Tidal"), "{got:?}");
            }
            for button in &buttons {
                let mut got = Vec::new();
                for id in [button.clone(), button.replace(&own, &missing)] {
                    let pressed = press_at(&fake, place, &id, member(OTHER, 0, &[]));
                    got.push(shown(&reply_to(&fake, pressed, "the press").await.body));
                }
                assert!(same(&got[0], &got[1]), "{button} in {place:?}: {got:?}");
                assert!(!got[0].contains("barrage would"), "{got:?}");
            }
            // ... nor by autocomplete, /sources or /read.
            let passages = choices(
                &fake,
                place,
                "passage",
                json!([{"name": "id", "type": 3, "value": "servers", "focused": true}]),
            )
            .await;
            assert_eq!(passages, json!([]), "{place:?}");
            let briefings = choices(
                &fake,
                place,
                "ask",
                json!([{"name": "question", "type": 3, "value": "x"},
                       {"name": "briefing", "type": 3, "value": "tid", "focused": true}]),
            )
            .await;
            assert_eq!(briefings, json!([]), "{place:?}");
            let sources = command_at(&fake, place, "sources", json!([]), member(OTHER, 0, &[]));
            assert!(!reply(&fake, sources).await.contains("Tidal"));
            let read = command_at(
                &fake,
                place,
                "read",
                json!([{"name": "briefing", "type": 3, "value": "Tidal Power"}]),
                member(OTHER, 0, &[]),
            );
            let text = reply(&fake, read).await;
            assert!(text.contains("no briefing is called"), "{place:?}: {text}");
        }
        // In A the same autocomplete offers it.
        let passages = choices(
            &fake,
            Some(GUILD_ID),
            "passage",
            json!([{"name": "id", "type": 3, "value": "tides:1", "focused": true}]),
        )
        .await;
        assert_eq!(passages[0]["value"], format!("{own}:1"), "{passages}");

        // B's moderator can neither remove A's briefing nor reindex it.
        let remove = |guild: u64, briefing: &str| {
            command_in(
                &fake,
                guild,
                "briefing",
                json!([{"name": "remove", "type": 1, "options": [
                    {"name": "briefing", "type": 3, "value": briefing}]}]),
                json!({}),
                b_moderator(),
            )
        };
        let said = reply(&fake, remove(SERVER_B, "Tidal Power")).await;
        assert!(said.contains("no briefing is called"), "{said}");
        assert!(file.is_file());
        std::fs::write(&file, TIDES.replace("seven", "eight")).unwrap();
        let reindexed = command_in(
            &fake,
            SERVER_B,
            "reindex",
            json!([]),
            json!({}),
            b_moderator(),
        );
        let report = reply(&fake, reindexed).await;
        assert!(report.contains("0 briefings"), "{report}");
        let in_a = ask_at(&fake, Some(GUILD_ID), question).await;
        assert!(in_a.contains("seven") && !in_a.contains("eight"), "{in_a}");
        // A's own reindex takes the edit in.
        let reindexed = command_in(
            &fake,
            GUILD_ID,
            "reindex",
            json!([]),
            json!({}),
            a_moderator(),
        );
        assert!(reply(&fake, reindexed).await.contains("1 changed"));
        assert!(
            ask_at(&fake, Some(GUILD_ID), question)
                .await
                .contains("eight")
        );

        // Neither server's Manage Server changes the shared library.
        let kelp = b"# Kelp\n\nKelp forests grow fast along the cold coasts.\n";
        let token = add_to(&fake, "kelp.md", kelp, Some(1), a_moderator());
        let r = fake
            .wait_for(0, "the refusal", |r| r.path.contains(&token))
            .await;
        assert!(shown(&r.body).contains("operators"), "{}", r.body);
        assert!(!bot.ws.content().join("kelp.md").exists());
        for guild in [GUILD_ID, SERVER_B] {
            let said = reply(&fake, remove(guild, "us-japan-indo-pacific")).await;
            assert!(said.contains("operators"), "{said}");
        }
        assert!(bot.ws.content().join("us-japan-indo-pacific.txt").is_file());

        // An operator can, from any server, without Manage Server there: every server and
        // DM then reads it.
        let token = add_to(&fake, "kelp.md", kelp, Some(1), member(OPERATOR, 0, &[]));
        let r = fake
            .wait_for(0, "the added report", |r| is_answer_to(r, &token))
            .await;
        assert!(shown(&r.body).contains("the shared library"), "{}", r.body);
        for place in [Some(GUILD_ID), Some(SERVER_B), None] {
            let answer = ask_at(&fake, place, "Where do kelp forests grow?").await;
            assert!(
                answer.contains("**Kelp** **forests**"),
                "{place:?}: {answer}"
            );
        }
        assert_no_mentions_allowed(&fake);

        // Removed from A (not an outage): its library is kept, and `briefbot libraries`
        // says the bot left.
        fake.dispatch(
            "GUILD_DELETE",
            json!({"id": GUILD_ID.to_string(), "unavailable": false}),
        );
        let membership = || {
            let listed = bot.ws.json(&["libraries", "--json"]);
            listed
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["server"] == GUILD_ID)
                .map(|r| r["membership"]["state"].as_str().unwrap().to_string())
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while membership().as_deref() != Some("left") {
            assert!(std::time::Instant::now() < deadline, "{:?}", membership());
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(file.is_file());
    }
}

/// `briefbot libraries` lists every library with its server and whether the bot is still
/// there; `prune` moves aside (never deletes) the libraries of servers it left before the
/// date, and the index no longer holds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libraries_are_listed_and_those_of_servers_left_are_moved_aside() {
    let ws = workspace_with_a_library();
    let gone = ws.content().join(format!("servers/{B}"));
    fs::create_dir_all(&gone).unwrap();
    fs::write(gone.join("cod.md"), "# Cod\n\nThe cod quota falls again.\n").unwrap();
    let store = briefbot::state::Store::open(&ws.settings()).await.unwrap();
    let day = 86_400;
    briefbot::state::servers::seen(&store, A, 1_780_000_000)
        .await
        .unwrap();
    briefbot::state::servers::seen(&store, B, 1_780_000_000)
        .await
        .unwrap();
    briefbot::state::servers::left(&store, B, 1_780_000_000 + 10 * day)
        .await
        .unwrap();
    store.close().await;

    let listed = ws.json(&["libraries", "--json"]);
    let rows: Vec<(String, u64, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["library"].to_string(),
                r["briefings"].as_u64().unwrap(),
                r["membership"]["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("\"shared\"".to_string(), 4, "no_server".to_string()),
            (format!("{{\"server\":{A}}}"), 1, "in".to_string()),
            (format!("{{\"server\":{B}}}"), 1, "left".to_string()),
        ]
    );
    assert!(listed[1]["bytes"].as_u64().unwrap() > 100);

    // Left on 2026-06-07: a date before that moves nothing.
    let out = ws
        .cmd()
        .args(["libraries", "prune", "--left-before", "2026-06-01"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(gone.is_dir());
    let out = ws
        .cmd()
        .args(["libraries", "prune", "--left-before", "2026-07-01"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("moved the library of server {B}")),
        "{said}"
    );
    assert!(!gone.exists());
    assert!(ws.content().join(format!("servers/{A}/tides.md")).is_file());
    let kept = fs::read_dir(ws.path().join("removed"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join(format!("servers/{B}/cod.md"));
    assert!(kept.is_file(), "moved, not deleted");
    let engine = engine_of(&ws);
    assert!(
        engine
            .passage(&format!("servers/{B}/cod:1"))
            .unwrap()
            .is_none()
    );
    assert!(
        engine
            .passage(&format!("servers/{A}/tides:1"))
            .unwrap()
            .is_some()
    );
}

/// `/settings shared_library:False` in a server: its members then read its own library
/// alone; other servers keep reading the shared one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_can_turn_the_shared_library_off_for_itself() {
    let ws = workspace_with_a_library();
    let bot = Bot::new(ws.settings()).unwrap();
    let night_trains = |guild| {
        let bot = &bot;
        async move {
            let m = bot.ask(ask("night trains subsidy", guild, None)).await;
            m.embed.map(|e| e.description).unwrap_or(m.content)
        }
    };
    assert!(night_trains(Some(A)).await.contains("**subsidy**"));
    let m = bot
        .change_settings(
            &moderator(),
            A,
            vec![briefbot::state::guilds::Change::SharedLibrary(false)],
        )
        .await;
    assert!(
        m.content
            .contains("**Shared library read here** (besides this server's own): no"),
        "{}",
        m.content
    );
    let in_a = night_trains(Some(A)).await;
    assert!(!in_a.contains("**subsidy**"), "{in_a}");
    assert!(
        bot.passage(Some(A), "rail:1", false, false)
            .await
            .content
            .contains("No passage")
    );
    assert!(night_trains(Some(B)).await.contains("**subsidy**"));
    assert!(night_trains(None).await.contains("**subsidy**"));
}

/// A writer started again over the content its index was read from knows every library's
/// part: the watcher's event for a file a server's moderator just added needs no second
/// rebuild, even as the first change after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_a_servers_add_is_not_rebuilt_twice() {
    let ws = workspace_with_a_library();
    drop(Bot::new(ws.settings()).unwrap());
    let bot = Bot::new(ws.settings()).unwrap();
    let rights = Rights {
        operator: false,
        moderates: Some(A),
    };
    let said = bot
        .add_briefing(
            moderator(),
            rights,
            Library::Server(A),
            "kelp.md",
            b"# Kelp\n\nKelp forests grow fast.\n".to_vec(),
        )
        .await
        .content;
    assert!(said.contains("**Added**"), "{said}");
    let added = ws.current_version();
    let path = ws.content().join(format!("servers/{A}/kelp.md"));
    bot.reindex_watched(std::slice::from_ref(&path)).await;
    assert_eq!(ws.current_version(), added, "no second rebuild");
}
