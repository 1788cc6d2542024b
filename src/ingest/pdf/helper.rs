//! Reading a PDF in a child process, so that no file can take the briefbot process down.
//!
//! A thread bounds a parser's panics and how long briefbot waits for it, but not its
//! memory (a stream that inflates to gigabytes) nor a stack it overflows, and a thread
//! that spins cannot be stopped. A child process can be: the `briefbot` binary runs
//! itself as `briefbot pdf-extract` with the file on its standard input, under an address
//! space limit (`content.pdf_max_memory_mb`) and a CPU-time limit, and is killed when the
//! time is up. What it prints is the briefing's title and paragraphs as JSON.
//!
//! The binary names itself the helper at start ([`use_helper`]); code that links the
//! library without it (tests, benches) reads PDFs on a thread, as before.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::PdfLimits;
use crate::ingest::{Meta, Paragraph, Parsed};

static HELPER: OnceLock<PathBuf> = OnceLock::new();

/// Reads every PDF from now on by running `exe pdf-extract` (the briefbot binary).
pub fn use_helper(exe: PathBuf) {
    let _ = HELPER.set(exe);
}

pub(super) fn helper() -> Option<&'static PathBuf> {
    HELPER.get()
}

/// What the child prints: a briefing's title and paragraphs, or why it has none.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    Parsed {
        title: Option<String>,
        /// (section, text, page)
        paragraphs: Vec<(Option<String>, String, Option<u32>)>,
    },
    Refused(String),
}

impl Reply {
    pub fn of(result: Result<Parsed, String>) -> Reply {
        match result {
            Ok(parsed) => Reply::Parsed {
                title: parsed.meta.title,
                paragraphs: parsed
                    .paragraphs
                    .into_iter()
                    .map(|p| (p.section, p.text, p.page))
                    .collect(),
            },
            Err(reason) => Reply::Refused(reason),
        }
    }

    fn into_result(self) -> Result<Parsed, String> {
        match self {
            Reply::Parsed { title, paragraphs } => Ok(Parsed {
                meta: Meta {
                    title,
                    ..Meta::default()
                },
                paragraphs: paragraphs
                    .into_iter()
                    .map(|(section, text, page)| Paragraph {
                        section,
                        text,
                        page,
                    })
                    .collect(),
            }),
            Reply::Refused(reason) => Err(reason),
        }
    }
}

/// The limits as the child's arguments.
fn args(limits: &PdfLimits) -> Vec<String> {
    vec![
        "pdf-extract".into(),
        format!("--max-pages={}", limits.max_pages),
        format!("--max-chars={}", limits.max_chars),
        format!("--heading-max-words={}", limits.heading_max_words),
        format!("--timeout-seconds={}", limits.timeout.as_secs_f64()),
    ]
}

/// Reads `bytes` in a child process running `exe`, under `limits`.
pub(super) fn read(exe: &PathBuf, bytes: &[u8], limits: &PdfLimits) -> Result<Parsed, String> {
    // The file reaches the child as a file, not through a pipe: a child that dies before
    // reading it all must not leave briefbot writing into a closed pipe (SIGPIPE).
    let mut input = tempfile::tempfile().map_err(|e| format!("cannot hand the PDF over: {e}"))?;
    input
        .write_all(bytes)
        .and_then(|()| input.seek(SeekFrom::Start(0)).map(drop))
        .map_err(|e| format!("cannot hand the PDF over: {e}"))?;
    let mut command = Command::new(exe);
    command
        .args(args(limits))
        .env_remove("BRIEFBOT_LOG")
        .stdin(Stdio::from(input))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let memory = limits.max_memory_mb.saturating_mul(1024 * 1024);
    // Past the wall-clock limit the child is killed; the CPU limit is its own backstop.
    let cpu = limits.timeout.as_secs() + 2;
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: runs in the forked child before exec and calls only setrlimit, which is
        // async-signal-safe; it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                let set = |resource, value: u64| {
                    let limit = libc::rlimit {
                        rlim_cur: value as libc::rlim_t,
                        rlim_max: value as libc::rlim_t,
                    };
                    if libc::setrlimit(resource, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                };
                set(libc::RLIMIT_AS, memory)?;
                set(libc::RLIMIT_CPU, cpu)?;
                // A crash leaves no core file behind in the content folder's process.
                set(libc::RLIMIT_CORE, 0)
            });
        }
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start the PDF reader ({}): {e}", exe.display()))?;
    // Read on a thread of its own: a child that fills its output pipe never blocks the
    // wait below.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + limits.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "reading it took over {} s (content.pdf_timeout_seconds): is it damaged?",
                    limits.timeout.as_secs_f64()
                ));
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!(
            "broken PDF: reading it needed more than {} MB (content.pdf_max_memory_mb) or \
             crashed the reader ({status})",
            limits.max_memory_mb
        ));
    }
    serde_json::from_slice::<Reply>(&out)
        .map_err(|e| format!("the PDF reader answered nothing readable: {e}"))?
        .into_result()
}
