//! Progress of long work (a full build, embedding, reading many files): one bar style for
//! all of it, drawn on standard error only when it is a terminal (indicatif hides it
//! otherwise), so logs and pipes get nothing extra.

/// A bar of `len` steps labelled `what`.
pub fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(len).with_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{bar:30}} {{pos}}/{{len}} ({{per_sec}}, {{eta}} left)"
        ))
        .expect("a valid template"),
    )
}
