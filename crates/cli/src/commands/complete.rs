//! `kubectl-vllm __complete WORDS...`: completions in cobra's protocol, which kubectl (1.26+)
//! speaks to plugins through the `kubectl_complete-vllm` executable. The last word is the one
//! being completed (empty for a new word). The answer is one candidate per line, optionally
//! `value<TAB>description`, then `:<directive>`: 4 (no file completion) or 0 (the shell completes
//! file names). Everything comes from the clap definition, so a new flag completes without an
//! edit here.

use std::io::Write;

use clap::{Arg, Command, CommandFactory as _};

use crate::ExitStatus;
use crate::args::{Cli, PolicyArgs};
use crate::pipeline::prepare;

/// cobra's `ShellCompDirectiveDefault`: the shell completes file names.
const FILES: u8 = 0;
/// cobra's `ShellCompDirectiveNoFileComp`.
const NO_FILES: u8 = 4;

/// What the word being completed can be.
struct Answer {
    candidates: Vec<(String, String)>,
    directive: u8,
}

impl Answer {
    const fn files() -> Self {
        Self {
            candidates: Vec::new(),
            directive: FILES,
        }
    }

    fn of(candidates: Vec<(String, String)>) -> Self {
        Self {
            candidates,
            directive: NO_FILES,
        }
    }
}

/// Prints the completions of the last of `words`.
pub(crate) fn run(words: &[String], stdout: &mut dyn Write) -> ExitStatus {
    let root = Cli::command();
    let (current, before) = match words.split_last() {
        Some((current, before)) => (current.as_str(), before),
        None => ("", words),
    };
    let answer = complete(&root, before, current);
    let mut out = String::new();
    for (value, help) in answer
        .candidates
        .iter()
        .filter(|(value, _)| value.starts_with(current))
    {
        out.push_str(value);
        if !help.is_empty() {
            out.push('\t');
            out.push_str(help);
        }
        out.push('\n');
    }
    out.push(':');
    out.push_str(&answer.directive.to_string());
    out.push('\n');
    let _ = stdout.write_all(out.as_bytes());
    ExitStatus::Success
}

fn complete(root: &Command, before: &[String], current: &str) -> Answer {
    // Walk the words already typed: subcommands, and flags that took the next word as value.
    let mut command = root;
    let mut path: Vec<&str> = Vec::new();
    let mut pending: Option<&Arg> = None;
    let mut given: Vec<(&Arg, &str)> = Vec::new();
    let mut positionals = 0;
    for word in before {
        if let Some(arg) = pending.take() {
            given.push((arg, word));
            continue;
        }
        if let Some(flag) = word.strip_prefix('-').filter(|f| !f.is_empty()) {
            if flag.contains('=') {
                continue;
            }
            if let Some(arg) = find_flag(command, root, word)
                && arg.get_action().takes_values()
            {
                pending = Some(arg);
            }
            continue;
        }
        if let Some(sub) = command
            .get_subcommands()
            .find(|s| s.get_name() == word && !s.is_hide_set())
        {
            command = sub;
            path.push(sub.get_name());
            continue;
        }
        positionals += 1;
    }
    if let Some(arg) = pending {
        return values(arg, &path, &given, current);
    }
    if let Some((flag, value)) = current.split_once('=')
        && flag.starts_with('-')
    {
        let Some(arg) = find_flag(command, root, flag) else {
            return Answer::of(Vec::new());
        };
        let mut answer = values(arg, &path, &given, value);
        for candidate in &mut answer.candidates {
            candidate.0 = format!("{flag}={}", candidate.0);
        }
        return answer;
    }
    if current.starts_with('-') {
        return Answer::of(flags(command, root));
    }
    if command.has_subcommands() {
        let subcommands = command
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            // Under kubectl, completion comes from kubectl itself.
            .filter(|s| !(path.is_empty() && s.get_name() == "completion"))
            .map(|s| (s.get_name().to_string(), about(s.get_about())))
            .collect();
        return Answer::of(subcommands);
    }
    match command
        .get_positionals()
        .nth(positionals)
        .or_else(|| command.get_positionals().last())
    {
        Some(arg) => values(arg, &path, &given, ""),
        None => Answer::of(Vec::new()),
    }
}

/// The argument a `-x` or `--name` word names, in `command` or among the root's global ones.
fn find_flag<'a>(command: &'a Command, root: &'a Command, word: &str) -> Option<&'a Arg> {
    let matches = |arg: &&Arg| {
        if let Some(long) = word.strip_prefix("--") {
            return arg.get_long() == Some(long);
        }
        let mut short = word.chars().skip(1);
        matches!((short.next(), short.next()), (Some(c), None) if arg.get_short() == Some(c))
    };
    command
        .get_arguments()
        .find(matches)
        .or_else(|| root.get_arguments().find(matches))
}

/// Every long flag of `command` (and the root's global ones), with its help.
fn flags(command: &Command, root: &Command) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = command
        .get_arguments()
        .chain(root.get_arguments().filter(|a| a.is_global_set()))
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| {
            let long = a.get_long()?;
            Some((format!("--{long}"), about(a.get_help())))
        })
        .collect();
    out.push(("--help".into(), "Print help".into()));
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The values `arg` takes: its listed values, rule ids, kubeconfig contexts, or file names.
fn values(arg: &Arg, path: &[&str], given: &[(&Arg, &str)], typed: &str) -> Answer {
    let listed: Vec<(String, String)> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| (v.get_name().to_string(), about(v.get_help())))
        .collect();
    if !listed.is_empty() {
        return Answer::of(listed);
    }
    let value_name = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map_or("", |n| n.as_str());
    let explain = path == ["explain"] && arg.get_id() == "rule";
    if explain || value_name == "RULE" {
        // `--select a,b,`: complete the word after the last comma.
        let head = typed.rfind(',').map_or("", |i| &typed[..=i]);
        let ids = rule_ids(given)
            .into_iter()
            .map(|(id, help)| (format!("{head}{id}"), help))
            .collect();
        return Answer::of(ids);
    }
    match (arg.get_long(), value_name) {
        (Some("context"), _) => Answer::of(contexts(given)),
        (_, "FILE" | "PATH" | "DIR" | "FORMAT=PATH") => Answer::files(),
        _ => Answer::of(Vec::new()),
    }
}

/// Rule ids and summaries, from the policies the typed `--config`/`--policy` flags load.
fn rule_ids(given: &[(&Arg, &str)]) -> Vec<(String, String)> {
    let flag = |name: &str| {
        given
            .iter()
            .filter(|(a, _)| a.get_long() == Some(name))
            .map(|(_, v)| std::path::PathBuf::from(v))
            .collect::<Vec<_>>()
    };
    let policies = PolicyArgs {
        config: flag("config").pop(),
        policies: flag("policy"),
        no_default_policies: false,
        jobs: None,
        policy_timeout: std::time::Duration::from_secs(2),
        policy_memory: kubectl_vllm_host::Limits::default().memory_bytes,
    };
    let Some((linter, _)) = prepare(&policies, &mut std::io::sink()) else {
        return Vec::new();
    };
    linter
        .registry()
        .iter()
        .map(|r| (r.id.to_string(), r.summary.clone()))
        .collect()
}

/// The contexts of the kubeconfig (`--kubeconfig` when typed), as kubectl lists them.
fn contexts(given: &[(&Arg, &str)]) -> Vec<(String, String)> {
    let mut kubectl = std::process::Command::new("kubectl");
    kubectl.args(["config", "get-contexts", "-o", "name"]);
    if let Some((_, file)) = given
        .iter()
        .find(|(a, _)| a.get_long() == Some("kubeconfig"))
    {
        kubectl.arg("--kubeconfig").arg(file);
    }
    kubectl
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| (l.trim().to_string(), String::new()))
                .filter(|(l, _)| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A help text's first line, for a completion description.
fn about(help: Option<&clap::builder::StyledStr>) -> String {
    help.map(ToString::to_string)
        .and_then(|h| h.lines().next().map(str::to_string))
        .unwrap_or_default()
}
