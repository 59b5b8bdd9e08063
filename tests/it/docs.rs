//! The documentation does not rot:
//!
//! - every relative link and `#anchor` in the Markdown pages (the README, CONTRIBUTING.md,
//!   `docs/*.md` and the READMEs of `charts/`, `examples/` and `crates/`) points to a file of the
//!   repository and, for an anchor, to a heading of that file as GitHub names it, so a page
//!   moved, renamed or split, or a heading reworded, fails here instead of leaving dead links;
//! - the README and the docs index link every page;
//! - the examples that show output (the curl examples of `docs/validation.md`, the `selector`
//!   transcripts of `docs/cli.md`) are what the real server and the real binary print.
//!
//! The pages are read with pulldown-cmark, a CommonMark parser with GitHub's extensions: it
//! finds the links, reference definitions, headings and fenced code blocks (and knows that a
//! link in code is not a link). What it lacks is written here: GitHub's rule for naming a
//! heading's anchor ([`slug`]), and resolving a link's path against the repository
//! ([`broken`], [`normalize`]). The link checks only read files; the example checks start the
//! real server and run the real binary.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The repository's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every page whose links are checked, as paths relative to the root.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md"), PathBuf::from("CONTRIBUTING.md")];
    pages.extend(
        markdown_files(&root.join("docs"))
            .into_iter()
            .map(|name| Path::new("docs").join(name)),
    );
    for single in ["charts/README.md", "examples/README.md"] {
        if root.join(single).is_file() {
            pages.push(PathBuf::from(single));
        }
    }
    for parent in ["charts", "crates"] {
        for dir in subdirectories(&root.join(parent)) {
            let readme = Path::new(parent).join(dir).join("README.md");
            if root.join(&readme).is_file() {
                pages.push(readme);
            }
        }
    }
    pages
}

/// The names of the `*.md` files directly in `dir`, sorted.
fn markdown_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".md"))
        .collect();
    names.sort();
    names
}

/// The names of the directories directly in `dir`, sorted (none when `dir` does not exist).
fn subdirectories(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.expect("directory entry"))
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// A link found in a page: its 1-based line and its target (as the parser reads it: without
/// `<...>`, an optional title or backslash escapes).
#[derive(Debug, PartialEq, Eq)]
struct Link {
    line: usize,
    target: String,
}

/// The Markdown extensions GitHub renders pages with. Heading attributes (`{#id}`) are left
/// off: GitHub does not read them, so a heading's anchor always comes from its text.
fn github_flavour() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM
}

/// The 1-based line of the byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.bytes().take(offset).filter(|&b| b == b'\n').count() + 1
}

/// Every inline link `[text](target)`, image `![alt](target)` and reference definition
/// `[name]: target` of a page, in order. Code spans and code blocks hold no links.
///
/// A reference link (`[text][name]`, `[name]`) is found once, at its definition, rather than
/// at each use; autolinks (`<https://...>`, `<someone@example.com>`) are never files of ours.
fn links(text: &str) -> Vec<Link> {
    let parser = Parser::new_ext(text, github_flavour()).into_offset_iter();
    let mut found: Vec<(usize, String)> = parser
        .reference_definitions()
        .iter()
        .map(|(_, definition)| (definition.span.start, definition.dest.to_string()))
        .collect();
    for (event, range) in parser {
        if let Event::Start(
            Tag::Link {
                link_type: LinkType::Inline,
                dest_url,
                ..
            }
            | Tag::Image {
                link_type: LinkType::Inline,
                dest_url,
                ..
            },
        ) = event
        {
            found.push((range.start, dest_url.to_string()));
        }
    }
    found.sort_by_key(|(offset, _)| *offset);
    found
        .into_iter()
        .filter(|(_, target)| !target.is_empty())
        .map(|(offset, target)| Link {
            line: line_of(text, offset),
            target,
        })
        .collect()
}

/// The anchors of a page's headings, as GitHub makes them (the parser gives the headings and
/// their rendered text; GitHub's naming rule is ours, in [`slug`]): a repeated anchor gets
/// `-1`, `-2`, ... in order.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(text, github_flavour()) {
        match (&mut heading, event) {
            (None, Event::Start(Tag::Heading { .. })) => heading = Some(String::new()),
            (Some(words), Event::Text(part) | Event::Code(part)) => words.push_str(&part),
            (Some(words), Event::SoftBreak | Event::HardBreak) => words.push(' '),
            (Some(words), Event::End(TagEnd::Heading(_))) => {
                let slug = slug(words);
                heading = None;
                let count = seen.entry(slug.clone()).or_insert(0);
                let anchor = if *count == 0 {
                    slug
                } else {
                    format!("{slug}-{count}")
                };
                *count += 1;
                anchors.insert(anchor);
            }
            _ => {}
        }
    }
    anchors
}

/// GitHub's anchor for a heading's rendered text: lower-cased, with everything but letters,
/// digits, `-`, `_` and spaces removed and spaces turned into `-`. pulldown-cmark does not name
/// headings, so this rule is written here.
fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// What is wrong with `link` on page `page` (relative to `root`), if anything.
fn broken(root: &Path, page: &Path, link: &Link) -> Option<String> {
    let target = link.target.as_str();
    if has_scheme(target) {
        return None;
    }
    let (path, fragment) = match target.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (target, None),
    };
    let resolved = if path.is_empty() {
        page.to_path_buf()
    } else if let Some(from_root) = path.strip_prefix('/') {
        PathBuf::from(from_root)
    } else {
        page.parent().unwrap_or(Path::new("")).join(path)
    };
    let Some(resolved) = normalize(&resolved) else {
        return Some("points outside the repository".to_owned());
    };
    let file = root.join(&resolved);
    if !file.exists() {
        return Some(format!("{} does not exist", resolved.display()));
    }
    let fragment = fragment?;
    if file.extension().and_then(|e| e.to_str()) != Some("md") {
        return None;
    }
    let text = fs::read_to_string(&file).ok()?;
    if anchors(&text).contains(fragment) {
        None
    } else {
        Some(format!(
            "{} has no heading with the anchor #{fragment}",
            resolved.display()
        ))
    }
}

/// Whether a link target is absolute (`https://...`, `mailto:...`): not a file of ours.
fn has_scheme(target: &str) -> bool {
    match target.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !scheme.contains('/')
        }
        None => false,
    }
}

/// `path` with `.` and `..` resolved, or `None` when it climbs above the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Every broken link of the pages under `root`, one line each: `page:line: target: reason`.
fn broken_links(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for page in pages(root) {
        let text = fs::read_to_string(root.join(&page))
            .unwrap_or_else(|err| panic!("{}: {err}", page.display()));
        for link in links(&text) {
            if let Some(reason) = broken(root, &page, &link) {
                problems.push(format!(
                    "{}:{}: {}: {reason}",
                    page.display(),
                    link.line,
                    link.target
                ));
            }
        }
    }
    problems
}

#[test]
fn every_relative_link_and_anchor_in_the_docs_resolves() {
    let root = root();
    let checked = pages(&root);
    assert!(
        checked.len() >= 8,
        "expected the README, CONTRIBUTING.md and the docs pages, found {checked:?}"
    );
    let problems = broken_links(&root);
    assert!(
        problems.is_empty(),
        "broken links in the documentation:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_readme_and_the_docs_index_link_every_page() {
    let root = root();
    let expected: Vec<String> = markdown_files(&root.join("docs"))
        .into_iter()
        .filter(|name| name != "README.md")
        .collect();
    assert!(!expected.is_empty());
    for (index, prefix) in [("README.md", "docs/"), ("docs/README.md", "")] {
        let text = fs::read_to_string(root.join(index)).expect("index page");
        let targets: BTreeSet<String> = links(&text)
            .into_iter()
            .map(|link| link.target.split('#').next().unwrap_or_default().to_owned())
            .collect();
        for name in &expected {
            let target = format!("{prefix}{name}");
            assert!(targets.contains(&target), "{index} does not link {target}");
        }
    }
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    let targets: Vec<String> = links(&readme).into_iter().map(|link| link.target).collect();
    for page in ["CONTRIBUTING.md", "docs/README.md"] {
        assert!(
            targets.iter().any(|target| target == page),
            "README.md does not link {page}"
        );
    }
}

#[test]
fn anchors_follow_githubs_rules() {
    let page = "# Installing with Helm\n\
                ## Checking an installation: `helm test` and `selftest`\n\
                ### `explain -o text` (the default)\n\
                ## Health, readiness and shutdown\n\
                ### `/validate`\n\
                ## Values\n\
                ## Values\n\
                ```sh\n\
                # not a heading\n\
                ```\n\
                #not a heading either\n\
                ## See [the rules](rules.md) ##\n\
                Underlined *too*\n\
                ================\n\
                ~~~\n\
                # not a heading in a tilde fence\n\
                ~~~\n\
                \x20   # not a heading in an indented block\n";
    let expected: BTreeSet<String> = [
        "installing-with-helm",
        "checking-an-installation-helm-test-and-selftest",
        "explain--o-text-the-default",
        "health-readiness-and-shutdown",
        "validate",
        "values",
        "values-1",
        "see-the-rules",
        "underlined-too",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(anchors(page), expected);
}

#[test]
fn links_are_found_outside_code_only() {
    // A reference definition cannot interrupt a paragraph: it needs the blank line before it,
    // and its uses (`[the CLI][ref]`, `[ref]`) are found once, at the definition.
    let page = "See [the install page](docs/install.md#values) and\n\
                [CONTRIBUTING.md](CONTRIBUTING.md), [the CLI][ref], [ref].\n\
                `[not a link](in-a-code-span.md)` and ``a `[nested](x.md)` span``\n\
                ```text\n\
                [not a link](in-a-fence.md)\n\
                ```\n\
                ![a picture](img/a.png \"title\") and [web](https://example.com/a_(b))\n\
                \n\
                [ref]: <docs/cli.md#check>\n\
                ~~~text\n\
                [ref2]: not-a-definition.md\n\
                ~~~\n\
                <someone@example.com> <https://example.com/auto> [a][missing]\n\
                [ref]: second-definition-is-ignored.md\n";
    let found = links(page);
    let found: Vec<(usize, &str)> = found
        .iter()
        .map(|link| (link.line, link.target.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (1, "docs/install.md#values"),
            (2, "CONTRIBUTING.md"),
            (7, "img/a.png"),
            (7, "https://example.com/a_(b)"),
            (9, "docs/cli.md#check"),
        ]
    );
}

#[test]
fn missing_files_missing_anchors_and_escapes_are_reported() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    fs::create_dir_all(root.join("docs")).expect("docs/");
    fs::write(
        root.join("README.md"),
        "# Front\n\n[ok](docs/a.md#part-one) [self](#front) [web](https://example.com)\n\
         [gone](docs/gone.md) [no anchor](docs/a.md#part-two) [out](../outside.md)\n",
    )
    .expect("README.md");
    fs::write(root.join("CONTRIBUTING.md"), "# Contributing\n").expect("CONTRIBUTING.md");
    fs::write(
        root.join("docs/a.md"),
        "# A\n\n## Part one\n\n[back](../README.md#front) [bad](../README.md#back)\n",
    )
    .expect("docs/a.md");
    assert_eq!(
        broken_links(root),
        vec![
            "README.md:4: docs/gone.md: docs/gone.md does not exist".to_owned(),
            "README.md:4: docs/a.md#part-two: docs/a.md has no heading with the anchor #part-two"
                .to_owned(),
            "README.md:4: ../outside.md: points outside the repository".to_owned(),
            "docs/a.md:5: ../README.md#back: README.md has no heading with the anchor #back"
                .to_owned(),
        ]
    );
}

/// A fenced code block of a page: its info string (`json`, `sh`, ...) and its content.
#[derive(Debug)]
struct CodeBlock {
    info: String,
    content: String,
}

/// Every fenced code block of a page, in order.
fn code_blocks(text: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<CodeBlock> = None;
    for event in Parser::new_ext(text, github_flavour()) {
        match (&mut open, event) {
            (None, Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))) => {
                open = Some(CodeBlock {
                    info: info.trim().to_owned(),
                    content: String::new(),
                });
            }
            (Some(block), Event::Text(part)) => block.content.push_str(&part),
            (Some(_), Event::End(TagEnd::CodeBlock)) => blocks.extend(open.take()),
            _ => {}
        }
    }
    blocks
}

/// The page `docs/NAME`.
fn page(name: &str) -> String {
    let path = root().join("docs").join(name);
    fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The sample request a documented `curl --data @examples/FILE` sends.
fn sample_review(command: &str) -> serde_json::Value {
    let file = command
        .split_whitespace()
        .find_map(|word| word.strip_prefix("@examples/"))
        .unwrap_or_else(|| panic!("no --data @examples/... in {command}"));
    let text = fs::read_to_string(root().join("examples").join(file)).expect("sample request");
    serde_json::from_str(&text).expect("sample request is JSON")
}

/// The curl examples of "Trying it locally" show what the server answers, byte for byte in
/// meaning: the denial as JSON, as kubectl prints it, and the `/mutate` patch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_curl_examples_show_the_servers_answers() {
    use base64::Engine;
    use base64::prelude::BASE64_STANDARD;

    let text = page("validation.md");
    let blocks = code_blocks(&text);
    let server = crate::support::TestServer::start().await;
    let client = server.client(crate::support::HttpVersion::Http2);
    let mut compared = 0;
    for (i, block) in blocks.iter().enumerate() {
        if block.info != "sh" || !block.content.contains("--data @examples/") {
            continue;
        }
        let review = sample_review(&block.content);
        let path = if block.content.contains("/mutate") {
            "/mutate"
        } else {
            "/validate"
        };
        let answer = client.review(path, &review).await;
        assert_eq!(answer.status, hyper::StatusCode::OK);
        let answer = answer.json();
        let shown = blocks.get(i + 1).expect("the command's output follows it");
        assert_eq!(shown.info, "json", "{}", block.content);
        let shown: serde_json::Value =
            serde_json::from_str(&shown.content).expect("documented output is JSON");
        if path == "/mutate" {
            let patch = answer["response"]["patch"].as_str().expect("a patch");
            let patch = BASE64_STANDARD.decode(patch).expect("base64 patch");
            let patch: serde_json::Value = serde_json::from_slice(&patch).expect("JSON patch");
            assert_eq!(patch, shown, "the /mutate example in docs/validation.md");
        } else {
            assert_eq!(answer, shown, "the /validate example in docs/validation.md");
            // What kubectl prints for it, when the page shows that too.
            if let Some(kubectl) = blocks.get(i + 2).filter(|b| b.info == "text") {
                let status = &answer["response"]["status"];
                let warnings = answer["response"]["warnings"]
                    .as_array()
                    .map(|warnings| {
                        warnings
                            .iter()
                            .map(|w| format!("Warning: {}\n", w.as_str().unwrap_or_default()))
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                let printed = warnings + &crate::support::kubectl_error_text(status);
                assert_eq!(
                    kubectl.content, printed,
                    "the kubectl output in docs/validation.md"
                );
            }
        }
        compared += 1;
    }
    assert_eq!(
        compared, 2,
        "expected the /validate and the /mutate example"
    );
    // "The other samples": one allowed, one allowed with its stored errors as warnings.
    for (sample, warned) in [
        ("validate-valid-peer.json", false),
        ("validate-label-update-on-invalid-peer.json", true),
    ] {
        assert!(text.contains(&format!("`examples/{sample}`")), "{sample}");
        let review = sample_review(&format!("--data @examples/{sample}"));
        let answer = client.review("/validate", &review).await.json();
        assert_eq!(answer["response"]["allowed"], true, "{sample}");
        let warnings = answer["response"]["warnings"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(warnings > 0, warned, "{sample}: {answer}");
    }
    server.stop().await;
}

/// The words of a documented shell command line (`'...'`, `"..."` and bare words).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The `selector` transcripts in docs/cli.md (`$ bgppeer-webhook selector ...` and what it
/// prints, standard output then standard error) are what the binary prints. Pipelines are
/// skipped: they need kubectl.
#[test]
fn the_documented_selector_transcripts_are_the_binarys_output() {
    let text = page("cli.md");
    let transcript = code_blocks(&text)
        .into_iter()
        .find(|block| {
            block.info == "console" && block.content.contains("$ bgppeer-webhook selector")
        })
        .expect("the selector transcript in docs/cli.md");
    let mut checked = 0;
    for session in transcript.content.split("\n\n") {
        let mut lines = session.lines();
        let Some(command) = lines.next().and_then(|line| line.strip_prefix("$ ")) else {
            continue;
        };
        if command.ends_with('\\') || command.contains('|') {
            continue;
        }
        let words = shell_words(command);
        assert_eq!(words[..2], ["bgppeer-webhook", "selector"], "{command}");
        let args: Vec<&str> = words[2..].iter().map(String::as_str).collect();
        let output = crate::binary::run("selector", &args, b"");
        let printed = format!(
            "{}{}",
            crate::binary::stdout(&output),
            crate::binary::stderr(&output)
        );
        let shown: String = lines.map(|line| format!("{line}\n")).collect();
        assert_eq!(printed, shown, "docs/cli.md: $ {command}");
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} transcripts were checked");
}
