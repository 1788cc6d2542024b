//! Front matter at the top of a Markdown briefing: YAML between `---` lines or TOML
//! between `+++` lines. Known keys: `title`, `url`, `date`, `author`, `tags`; other keys
//! are allowed and ignored.

use super::{Meta, collapse_whitespace};

/// Splits front matter off `text` and reads it. Returns the metadata and the body.
/// A file without front matter gives empty metadata and the whole text.
pub fn split(text: &str) -> Result<(Meta, &str), String> {
    for (fence, kind) in [("---", Kind::Yaml), ("+++", Kind::Toml)] {
        let Some(after_open) = strip_fence_line(text, fence) else {
            continue;
        };
        let Some((inside, body)) = find_closing(after_open, fence) else {
            return Err(format!("front matter opened with {fence} is never closed"));
        };
        let meta = match kind {
            Kind::Yaml => yaml(inside)?,
            Kind::Toml => toml_meta(inside)?,
        };
        return Ok((meta, body));
    }
    Ok((Meta::default(), text))
}

#[derive(Clone, Copy)]
enum Kind {
    Yaml,
    Toml,
}

/// If `text` starts with a line that is exactly `fence`, returns what follows that line.
fn strip_fence_line<'a>(text: &'a str, fence: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(fence)?;
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
}

/// Finds the closing fence line; returns (front matter, body after it).
fn find_closing<'a>(text: &'a str, fence: &str) -> Option<(&'a str, &'a str)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == fence {
            return Some((&text[..offset], &text[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

pub(super) fn yaml(inside: &str) -> Result<Meta, String> {
    if inside.trim().is_empty() {
        return Ok(Meta::default());
    }
    let value: serde_json::Value = serde_saphyr::from_str(inside)
        .map_err(|e| format!("broken YAML front matter: {}", first_line(&e.to_string())))?;
    let serde_json::Value::Object(map) = value else {
        return Err("broken YAML front matter: not a list of `key: value` lines".into());
    };
    let get = |key: &str| map.get(key).and_then(json_scalar);
    let tags = match map.get("tags") {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(json_scalar).collect(),
        Some(other) => json_scalar(other)
            .map(|s| split_tags(&s))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(Meta {
        title: get("title"),
        url: get("url"),
        date: get("date"),
        author: get("author"),
        tags,
    })
}

fn json_scalar(value: &serde_json::Value) -> Option<String> {
    let s = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    non_empty(&s)
}

fn toml_meta(inside: &str) -> Result<Meta, String> {
    let table: toml::Table = inside.parse().map_err(|e: toml::de::Error| {
        format!("broken TOML front matter: {}", first_line(e.message()))
    })?;
    let get = |key: &str| table.get(key).and_then(toml_scalar);
    let tags = match table.get("tags") {
        Some(toml::Value::Array(items)) => items.iter().filter_map(toml_scalar).collect(),
        Some(other) => toml_scalar(other)
            .map(|s| split_tags(&s))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(Meta {
        title: get("title"),
        url: get("url"),
        date: get("date"),
        author: get("author"),
        tags,
    })
}

fn toml_scalar(value: &toml::Value) -> Option<String> {
    let s = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        _ => return None,
    };
    non_empty(&s)
}

fn split_tags(s: &str) -> Vec<String> {
    s.split(',').filter_map(non_empty).collect()
}

fn non_empty(s: &str) -> Option<String> {
    let s = collapse_whitespace(s);
    (!s.is_empty()).then_some(s)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter() {
        let (meta, body) = split(
            "---\ntitle: \"A: B\"\nurl: https://x.org/a\ndate: 2024-04-10\ntags: [defense, japan]\nlicense: x\n---\n# Body\n",
        )
        .unwrap();
        assert_eq!(meta.title.as_deref(), Some("A: B"));
        assert_eq!(meta.url.as_deref(), Some("https://x.org/a"));
        assert_eq!(meta.date.as_deref(), Some("2024-04-10"));
        assert_eq!(meta.tags, ["defense", "japan"]);
        assert_eq!(body, "# Body\n");
    }

    #[test]
    fn toml_front_matter() {
        let (meta, body) = split(
            "+++\ntitle = \"T\"\ndate = 2024-04-10\nauthor = \"Someone\"\ntags = \"a, b\"\n+++\nText\n",
        )
        .unwrap();
        assert_eq!(meta.title.as_deref(), Some("T"));
        assert_eq!(meta.date.as_deref(), Some("2024-04-10"));
        assert_eq!(meta.author.as_deref(), Some("Someone"));
        assert_eq!(meta.tags, ["a", "b"]);
        assert_eq!(body, "Text\n");
    }

    #[test]
    fn no_front_matter() {
        let (meta, body) = split("# Just a heading\n").unwrap();
        assert_eq!(meta, Meta::default());
        assert_eq!(body, "# Just a heading\n");
    }

    #[test]
    fn broken_front_matter_is_an_error() {
        assert!(
            split("---\ntitle: [unclosed\n---\nx\n")
                .unwrap_err()
                .contains("YAML")
        );
        assert!(
            split("---\ntitle: x\nno end\n")
                .unwrap_err()
                .contains("never closed")
        );
        assert!(
            split("+++\ntitle = \n+++\nx\n")
                .unwrap_err()
                .contains("TOML")
        );
        assert!(
            split("---\n- a list\n---\nx\n")
                .unwrap_err()
                .contains("YAML")
        );
    }
}
