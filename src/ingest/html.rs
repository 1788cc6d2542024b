//! HTML briefings: title from `<title>` or `<h1>`, sections from `<h2>`–`<h6>`, paragraphs
//! from `<p>` and list items. Scripts, styles, navigation, forms, asides and footers are
//! dropped. The walk is iterative, so deeply nested or unclosed markup cannot overflow the
//! stack; html5ever repairs what is broken.

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

use super::{Meta, Paragraph, Parsed, collapse_whitespace};

/// Elements whose whole subtree is page furniture or not text.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "nav", "footer", "aside", "form", "template", "svg", "iframe",
    "button", "select", "textarea", "head",
];
/// ARIA roles of page furniture.
const DROPPED_ROLES: &[&str] = &[
    "navigation",
    "contentinfo",
    "banner",
    "search",
    "complementary",
];

/// Tags nested deeper than this are refused: html5ever's tree building slows down with
/// the square of the depth, and no article nests that deep.
pub const MAX_DEPTH: usize = 10_000;

/// Elements that are never closed.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen",
];

/// The deepest nesting of open tags, counted on the raw text (a cheap upper bound of
/// what html5ever would build).
pub fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'<') {
        let at = i + off + 1;
        i = at;
        match bytes.get(at) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name: String = text[at..]
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                if !VOID.contains(&name.as_str()) {
                    depth += 1;
                    max = max.max(depth);
                }
            }
            _ => {}
        }
    }
    max
}

/// Parses an `.html` briefing; refuses markup nested deeper than [`MAX_DEPTH`].
pub fn parse_checked(text: &str) -> Result<Parsed, String> {
    let depth = nesting_depth(text);
    if depth > MAX_DEPTH {
        return Err(format!(
            "HTML nested too deeply ({depth} levels of unclosed tags; at most {MAX_DEPTH})"
        ));
    }
    Ok(parse(text))
}

/// Parses an `.html` briefing. Never fails: html5ever accepts any input.
pub fn parse(text: &str) -> Parsed {
    let doc = Html::parse_document(text);
    let mut meta = read_meta(&doc);
    let mut paragraphs = Vec::new();
    let mut section: Option<String> = None;
    let mut first_h1: Option<String> = None;
    let mut skip: Option<NodeId> = None;

    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Close(node) => {
                if skip == Some(node.id()) {
                    skip = None;
                }
            }
            Edge::Open(node) => {
                if skip.is_some() {
                    continue;
                }
                let Some(el) = ElementRef::wrap(node) else {
                    continue;
                };
                let name = el.value().name();
                if is_dropped(el) {
                    skip = Some(node.id());
                    continue;
                }
                match name {
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                        skip = Some(node.id());
                        let heading = text_of(el);
                        if heading.is_empty() {
                            continue;
                        }
                        if name == "h1" && first_h1.is_none() {
                            first_h1 = Some(heading);
                        } else {
                            section = Some(heading);
                        }
                    }
                    "p" => {
                        skip = Some(node.id());
                        push(&mut paragraphs, &section, text_of(el));
                    }
                    "li" | "blockquote" | "dd" | "td" if !has_block_children(el) => {
                        skip = Some(node.id());
                        push(&mut paragraphs, &section, text_of(el));
                    }
                    _ => {}
                }
            }
        }
    }

    meta.title = choose_title(meta.title.take(), first_h1);
    Parsed { meta, paragraphs }
}

fn push(paragraphs: &mut Vec<Paragraph>, section: &Option<String>, text: String) {
    if text.chars().any(char::is_alphanumeric) {
        paragraphs.push(Paragraph {
            section: section.clone(),
            text,
            page: None,
        });
    }
}

/// `<title>` is the title, unless it is the `<h1>` with a site name after it.
fn choose_title(title: Option<String>, h1: Option<String>) -> Option<String> {
    match (title, h1) {
        (Some(t), Some(h)) if t.starts_with(&h) => Some(h),
        (Some(t), _) => Some(t),
        (None, h) => h,
    }
}

fn is_dropped(el: ElementRef<'_>) -> bool {
    let name = el.value().name();
    if DROPPED.contains(&name) {
        return true;
    }
    if let Some(role) = el.value().attr("role")
        && DROPPED_ROLES.contains(&role.trim().to_ascii_lowercase().as_str())
    {
        return true;
    }
    // A page header (outside any article) is the site's banner, not the briefing.
    name == "header"
        && !el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| a.value().name() == "article")
}

fn has_block_children(el: ElementRef<'_>) -> bool {
    el.descendent_elements().skip(1).any(|d| {
        matches!(
            d.value().name(),
            "p" | "ul" | "ol" | "li" | "div" | "table" | "blockquote"
        )
    })
}

/// The visible text of an element, white space collapsed, without dropped subtrees.
fn text_of(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    let mut skip: Option<NodeId> = None;
    for edge in el.traverse() {
        match edge {
            Edge::Close(node) => {
                if skip == Some(node.id()) {
                    skip = None;
                }
            }
            Edge::Open(node) if skip.is_none() => match node.value() {
                Node::Text(text) => out.push_str(text),
                Node::Element(e) if e.name() == "br" => out.push(' '),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(node)
                        && child.id() != el.id()
                        && is_dropped(child)
                    {
                        skip = Some(node.id());
                    }
                }
                _ => {}
            },
            Edge::Open(_) => {}
        }
    }
    collapse_whitespace(&out)
}

/// What an HTML page says of itself (title, canonical address, date, author, keywords),
/// its body aside.
pub fn meta_of(text: &str) -> Meta {
    read_meta(&Html::parse_document(text))
}

fn read_meta(doc: &Html) -> Meta {
    let first = |css: &str, attr: Option<&str>| -> Option<String> {
        let selector = Selector::parse(css).expect("static selector");
        doc.select(&selector)
            .filter_map(|el| match attr {
                Some(a) => el.value().attr(a).map(collapse_whitespace),
                None => Some(text_of(el)),
            })
            .find(|s| !s.is_empty())
    };
    let tags = first(r#"meta[name="keywords"]"#, Some("content"))
        .map(|k| {
            k.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Meta {
        title: first("title", None),
        url: first(r#"link[rel="canonical"]"#, Some("href"))
            .or_else(|| first(r#"meta[property="og:url"]"#, Some("content"))),
        date: first(
            r#"meta[property="article:published_time"]"#,
            Some("content"),
        )
        .or_else(|| first(r#"meta[name="date"]"#, Some("content")))
        .or_else(|| first("time[datetime]", Some("datetime"))),
        author: first(r#"meta[name="author"]"#, Some("content")),
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furniture_is_dropped_and_structure_kept() {
        let parsed = parse(
            r#"<html><head><title>Brief | Site</title><style>p{}</style>
            <link rel="canonical" href="https://x.org/brief"><meta name="date" content="2024-05-01">
            </head><body><header><p>Site banner</p></header><nav><p>Home</p></nav>
            <article><h1>Brief</h1><p>Intro <b>words</b><br>here.</p><script>var p = 1;</script>
            <h2>Why?</h2><p>Because.</p><ul><li>one</li><li>two</li></ul></article>
            <footer><p>Copyright</p></footer></body></html>"#,
        );
        assert_eq!(parsed.meta.title.as_deref(), Some("Brief"));
        assert_eq!(parsed.meta.url.as_deref(), Some("https://x.org/brief"));
        assert_eq!(parsed.meta.date.as_deref(), Some("2024-05-01"));
        let got: Vec<_> = parsed
            .paragraphs
            .iter()
            .map(|p| (p.section.as_deref(), p.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (None, "Intro words here."),
                (Some("Why?"), "Because."),
                (Some("Why?"), "one"),
                (Some("Why?"), "two"),
            ]
        );
    }

    #[test]
    fn nesting_is_counted_and_capped() {
        assert_eq!(
            nesting_depth("<p>a<br>b</p><div><img src=x><span>c</span></div>"),
            2
        );
        let deep = "<div>".repeat(MAX_DEPTH + 1);
        assert!(
            parse_checked(&deep)
                .unwrap_err()
                .contains("nested too deeply")
        );
        assert!(parse_checked("<p>fine</p>").is_ok());
    }

    #[test]
    fn deeply_nested_unclosed_markup_does_not_overflow() {
        let mut html = String::from("<title>Deep</title>");
        for _ in 0..5_000 {
            html.push_str("<div>");
        }
        html.push_str("<p>bottom text");
        let parsed = parse(&html);
        assert_eq!(parsed.paragraphs.len(), 1);
        assert_eq!(parsed.paragraphs[0].text, "bottom text");
    }
}
