//! The examples of README.md and of every docs/ chapter, run: every ```text block with
//! `$ command` lines is replayed in order (README first, then the chapters in [`PAGES`]
//! order) in one scratch folder holding a copy of `configs/`, and what each command prints
//! (stdout, then stderr) must be what the page shows under it. So the examples cannot drift
//! from the program.
//!
//! Commands run through `sh -c`, with `squiggle` (and `cargo run --release --`) meaning this
//! build's binary, and `cargo run --release --example NAME` the library example that
//! `cargo test --release --workspace` built beside it. In the expected text a line `…` stands for any number of lines, a `…`
//! inside a line for any text, and the throughput figure before ` rows/s` is not compared
//! (it is a measurement). A block whose fence follows the comment
//! `<!-- readme: not run … -->` is shown but not run (the comment says why). Files the
//! commands draw under `docs/` must be the ones the repository ships, byte for byte.

use std::path::Path;
use std::process::Command;

use crate::util::*;

/// The pages whose examples run, in the order they are replayed (a later page may use what
/// an earlier one wrote). Every page under docs/ is here; the test says so when one is not.
const PAGES: [&str; 12] = [
    "README.md",
    "docs/lessons.md",
    "docs/seeing-backpropagation.md",
    "docs/playground.md",
    "docs/data-and-epochs.md",
    "docs/classification.md",
    "docs/config.md",
    "docs/backends-and-performance.md",
    "docs/errors.md",
    "docs/testing.md",
    "docs/using-the-crates.md",
    "docs/architecture.md",
];

/// One `$ command` line of a page and the lines printed under it.
struct Example {
    /// The page.
    page: &'static str,
    /// The page's line number of the command, for messages.
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The examples of every ```text block of `page` that is not marked `not run`, in order.
fn examples(page: &'static str, readme: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let lines: Vec<&str> = readme.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] != "```text" {
            i += 1;
            continue;
        }
        let skipped = i > 0 && lines[i - 1].starts_with("<!-- readme: not run");
        let start = i + 1;
        let end = start
            + lines[start..]
                .iter()
                .position(|l| *l == "```")
                .expect("every ```text block is closed");
        if !skipped {
            for (k, line) in lines[start..end].iter().enumerate() {
                if let Some(command) = line.strip_prefix("$ ") {
                    examples.push(Example {
                        page,
                        line: start + k + 1,
                        command: command.to_string(),
                        expected: Vec::new(),
                    });
                } else if let Some(example) = examples.last_mut().filter(|e| e.line > start) {
                    example.expected.push(line.to_string());
                }
            }
        }
        i = end + 1;
    }
    examples
}

/// `x` with the number before each ` rows/s` replaced by `N`.
fn without_throughput(x: &str) -> String {
    let mut out = String::new();
    let mut rest = x;
    while let Some(at) = rest.find(" rows/s") {
        let number_start = rest[..at].rfind(' ').map_or(0, |space| space + 1);
        out.push_str(&rest[..number_start]);
        out.push('N');
        out.push_str(" rows/s");
        rest = &rest[at + " rows/s".len()..];
    }
    out + rest
}

/// Whether `line` matches `pattern`, where `…` in the pattern stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `lines` match `patterns`, where a pattern line `…` stands for any number of lines.
fn lines_match(patterns: &[String], lines: &[String]) -> bool {
    match patterns.split_first() {
        None => lines.is_empty(),
        Some((p, rest)) if p == "…" => (0..=lines.len()).any(|k| lines_match(rest, &lines[k..])),
        Some((p, rest)) => {
            lines.first().is_some_and(|l| line_matches(p, l)) && lines_match(rest, &lines[1..])
        }
    }
}

/// Runs `command` with `sh -c` in `dir`, `squiggle` on the PATH from `bin`, and the library
/// examples from `examples`.
fn run(command: &str, dir: &Path, bin: &Path, examples: &Path) -> (i32, String) {
    let command = command.replace(
        "cargo run --release --example ",
        &format!("{}/", examples.display()),
    );
    let command = command.replace("cargo run --release --", "squiggle");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&command)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("SQUIGGLE_") || key.starts_with("BURN_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().expect("sh should start");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Every file under `dir` (none when it does not exist).
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn every_example_of_readme_and_docs_prints_what_the_page_shows() {
    let mut listed: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| format!("docs/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|name| name.ends_with(".md"))
        .collect();
    listed.sort();
    for page in &listed {
        assert!(PAGES.contains(&page.as_str()), "{page} is not in PAGES");
    }
    let examples: Vec<Example> = PAGES
        .iter()
        .flat_map(|&page| {
            let text = std::fs::read_to_string(root().join(page))
                .unwrap_or_else(|e| panic!("{page}: {e}"));
            examples(page, &text)
        })
        .collect();
    assert!(examples.len() > 20, "the pages' examples were not found");
    // `cargo test --release --workspace` builds the library examples beside the binary.
    let built = Path::new(env!("CARGO_BIN_EXE_squiggle"))
        .parent()
        .unwrap()
        .join("examples");
    let dir = scratch();
    copy_dir(&root().join("configs"), &dir.path().join("configs"));
    let bin = scratch();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_squiggle"), bin.path().join("squiggle"))
        .unwrap();
    let mut failures = Vec::new();
    for example in &examples {
        let (status, printed) = run(&example.command, dir.path(), bin.path(), &built);
        let got: Vec<String> = printed
            .lines()
            .map(|l| without_throughput(l.trim_end()))
            .collect();
        let want: Vec<String> = example
            .expected
            .iter()
            .map(|l| without_throughput(l.trim_end()))
            .collect();
        if !lines_match(&want, &got) {
            failures.push(format!(
                "{}:{}: $ {}\n(exit {status}) printed:\n{}\nthe page shows:\n{}\n",
                example.page,
                example.line,
                example.command,
                printed.trim_end(),
                example.expected.join("\n")
            ));
        }
    }
    // The pictures the pages show are the ones their commands draw.
    let drawn = dir.path().join("docs");
    for file in files_under(&drawn) {
        let relative = file.strip_prefix(dir.path()).unwrap();
        let shipped = std::fs::read(root().join(relative)).unwrap_or_default();
        if std::fs::read(&file).unwrap() != shipped {
            failures.push(format!(
                "{} is not what the pages' command draws; redraw it with that command",
                relative.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples of README.md and docs/ differ:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}

#[test]
fn the_matcher_elides_lines_and_text() {
    let p = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&p(&["a", "…", "d"]), &p(&["a", "b", "c", "d"])));
    assert!(lines_match(&p(&["a", "…", "b"]), &p(&["a", "b"])));
    assert!(!lines_match(&p(&["a", "…", "d"]), &p(&["a", "b", "c"])));
    assert!(!lines_match(&p(&["a"]), &p(&["a", "b"])));
    assert!(line_matches("x … z", "x y y z"));
    assert!(!line_matches("x … z", "x y y"));
    assert_eq!(
        without_throughput("epoch 1  R² 0.5  125.0k rows/s  *"),
        "epoch 1  R² 0.5  N rows/s  *"
    );
}

/// The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The lines of `text` outside its fenced code blocks, with their line numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            if line.starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .map(|(k, line)| (k + 1, line))
        .collect()
}

#[test]
fn every_link_between_the_pages_reaches_a_file_and_a_heading() {
    let mut broken = Vec::new();
    for page in PAGES {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        // An unclosed fence would hide the rest of the page from this test and the replay.
        let fences = text.lines().filter(|l| l.starts_with("```")).count();
        if fences % 2 == 1 {
            broken.push(format!("{page}: a code block is not closed"));
        }
        for (k, line) in prose(&text) {
            for target in line
                .split("](")
                .skip(1)
                .filter_map(|rest| rest.split(')').next())
            {
                if target.starts_with("http") {
                    continue;
                }
                let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
                let path = if file.is_empty() {
                    root().join(page)
                } else {
                    root().join(page).parent().unwrap().join(file)
                };
                if !path.exists() {
                    broken.push(format!("{page}:{k}: `{target}`: no such file"));
                    continue;
                }
                if fragment.is_empty() || path.extension().is_none_or(|e| e != "md") {
                    continue;
                }
                let headings = std::fs::read_to_string(&path).unwrap();
                let found = prose(&headings)
                    .into_iter()
                    .filter_map(|(_, l)| {
                        l.trim_start_matches('#')
                            .strip_prefix(' ')
                            .filter(|_| l.starts_with('#'))
                    })
                    .any(|h| anchor(h) == fragment);
                if !found {
                    broken.push(format!("{page}:{k}: `{target}`: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert_eq!(
        anchor("`squiggle eval`: a forward pass"),
        "squiggle-eval-a-forward-pass"
    );
}
