//! Every `ml-connector …` command line the README shows is one the binary accepts (flags and
//! all): the README is a newcomer's first contact, and a command it shows that fails is a bug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::Parser;
use ml_connector_cli::Cli;

/// Command lines in the README's shell blocks that run `ml-connector` (a `cargo run … --`
/// prefix, environment assignments, redirections and comments dropped).
fn readme_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
    let mut out = Vec::new();
    let mut in_shell = false;
    for line in readme.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_shell = matches!(t, "```sh" | "```bash" | "```shell" | "```console");
            continue;
        }
        if !in_shell {
            continue;
        }
        let t = t.trim_start_matches("$ ");
        let t = t.split(" #").next().unwrap_or(t);
        let words: Vec<String> = t
            .split_whitespace()
            .skip_while(|w| w.contains('=') && !w.starts_with('-'))
            .take_while(|w| !matches!(*w, "<" | ">" | "|" | "&&" | "&"))
            .map(|w| w.trim_matches('"').to_string())
            .collect();
        if words.first().is_some_and(|w| w == "ml-connector") {
            out.push(words);
        }
    }
    out
}

#[test]
fn every_command_the_readme_shows_parses() {
    let commands = readme_commands();
    assert!(commands.len() >= 8, "the README shows the operator's commands ({} found)", commands.len());
    for words in &commands {
        if let Err(e) = Cli::try_parse_from(words) {
            panic!("README command `{}` is refused:\n{e}", words.join(" "));
        }
    }
}

#[test]
fn every_command_that_reads_a_config_takes_dash_c() {
    for sub in [
        "serve",
        "check",
        "secret-set x",
        "secret set x",
        "secret list",
        "secret init-key",
        "secret rotate-master",
        "backfill --connection a",
        "reconcile --connection a",
        "replay --connection a",
    ] {
        let mut words = vec!["ml-connector".to_string()];
        words.extend(sub.split_whitespace().map(str::to_string));
        words.extend(["-c".to_string(), "x.toml".to_string()]);
        assert!(Cli::try_parse_from(&words).is_ok(), "`{}` refuses -c", words.join(" "));
    }
}

#[test]
fn the_sample_config_in_the_readme_is_a_valid_config() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
    let block = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.trim_start().starts_with("[host]"))
        .expect("a sample config block");
    let config: ml_connector::config::Config = toml::from_str(block).unwrap_or_else(|e| panic!("{e}"));
    assert!(!config.connections.is_empty() && config.admin.listen.starts_with("127.0.0.1"));
}
