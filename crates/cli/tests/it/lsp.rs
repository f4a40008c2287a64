//! `kubectl vllm lsp` driven by a scripted client speaking the protocol over stdio (Content-Length
//! framing, JSON-RPC), as an editor would: diagnostics at UTF-16 ranges on a CRLF file with
//! non-ASCII text, the nearest config applying, hover documentation, a code action whose edit
//! leaves the file clean of its rule, a debounced change, and a cross-file rule that sees the
//! workspace folder's other manifests.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::cli::{command, temp_dir};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(root: &std::path::Path) -> Self {
        let mut child = command()
            .args(["lsp", "--debounce", "100ms"])
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, messages) = channel();
        std::thread::spawn(move || {
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                stdout.read_exact(&mut body).unwrap();
                if send.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            stdin,
            messages,
            next_id: 0,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: &Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response's result.
    fn request(&mut self, method: &str, params: &Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.wait(|m| m["id"] == id && m.get("method").is_none());
        assert!(response.get("error").is_none(), "{response}");
        response["result"].clone()
    }

    /// The next message `wanted` accepts (others are dropped), within 60 s.
    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .messages
                .recv_timeout(left)
                .expect("the server answers within 60 s");
            if wanted(&message) {
                return message;
            }
        }
    }

    /// `shutdown` then `exit`: the server exits 0 within 10 s.
    fn shut_down(mut self) {
        let _ = self.request("shutdown", &Value::Null);
        self.notify("exit", &Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                break;
            }
            assert!(Instant::now() < deadline, "the server exits after `exit`");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        self.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri)
            ["params"]
            .clone()
    }
}

fn uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

/// Byte offset → (line, UTF-16 column), computed here independently of the server.
fn utf16_position(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset];
    let line = before.matches('\n').count() as u64;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[start..].encode_utf16().count() as u64;
    (line, column)
}

/// (line, UTF-16 column) → byte offset.
fn byte_offset(text: &str, line: u64, character: u64) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(usize::try_from(line).unwrap())
        .map(str::len)
        .sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units == character {
            return start + i;
        }
        units += c.len_utf16() as u64;
    }
    text.len()
}

/// Applies LSP text edits (in reverse order, so earlier offsets stay valid).
fn apply(text: &str, edits: &[Value]) -> String {
    let mut edits: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let r = &e["range"];
            let at = |p: &Value| {
                byte_offset(
                    text,
                    p["line"].as_u64().unwrap(),
                    p["character"].as_u64().unwrap(),
                )
            };
            (
                at(&r["start"]),
                at(&r["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new) in edits {
        out.replace_range(start..end, &new);
    }
    out
}

/// A CRLF Deployment with non-ASCII before the flagged argument on its line.
const DEPLOYMENT: &str = "# D\u{e9}ploiement \u{2014} \u{1d11e}\r\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: vllm-x\r\nspec:\r\n  selector: {matchLabels: {app: x}}\r\n  template:\r\n    metadata: {labels: {app: x}}\r\n    spec:\r\n      containers:\r\n      - name: vllm\r\n        image: vllm/vllm-openai:v0.10.2\r\n        args: [\"Qwen/Qwen3-8B\", \"--served-model-name=\u{1d11e}\u{e9}\", \"--host=127.0.0.1\"]\r\n        resources: {limits: {nvidia.com/gpu: 1}}\r\n";

const CLAIM: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: weights\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: fast-disks\n  resources:\n    requests:\n      storage: 100Gi\n";

const CLASS: &str = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: fast-disks\nprovisioner: pd.csi.storage.gke.io\nparameters:\n  type: pd-balanced\nvolumeBindingMode: WaitForFirstConsumer\n";

fn codes(diagnostics: &Value) -> Vec<String> {
    diagnostics["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["code"]
                .as_str()
                .map_or_else(|| format!("(no code) {}", d["message"]), str::to_string)
        })
        .collect()
}

#[test]
fn an_editor_gets_exact_diagnostics_fixes_and_docs() {
    let root = temp_dir("lsp");
    // The nearest config says GKE: the GKE-only rules run.
    std::fs::write(
        root.join(".kubectl-vllm.yaml"),
        "cluster:\n  provider: gke\n",
    )
    .unwrap();
    let deployment = root.join("deploy.yaml");
    std::fs::write(&deployment, DEPLOYMENT).unwrap();
    std::fs::write(root.join("claim.yaml"), CLAIM).unwrap();
    std::fs::write(root.join("class.yaml"), CLASS).unwrap();
    let mut client = Client::start(&root);
    let init = client.request(
        "initialize",
        &json!({"processId": null, "rootUri": uri(&root), "capabilities": {},
               "workspaceFolders": [{"uri": uri(&root), "name": "ws"}]}),
    );
    assert_eq!(init["capabilities"]["hoverProvider"], true, "{init}");
    client.notify("initialized", &json!({}));

    let dep_uri = uri(&deployment);
    client.notify("textDocument/didOpen", &json!({"textDocument": {"uri": dep_uri, "languageId": "yaml", "version": 1, "text": DEPLOYMENT}}),
    );
    let published = client.diagnostics(&dep_uri);
    let found = codes(&published);
    assert!(
        found.contains(&"runtime-ld-library-path-gke".to_string()),
        "{found:?}"
    );
    let host = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "vllm-flag-host-localhost")
        .unwrap_or_else(|| panic!("{found:?}"))
        .clone();
    // The range is the quoted argument, in UTF-16 units past the 𝄞 (two units) and é (one).
    let start = DEPLOYMENT.find("\"--host=127.0.0.1\"").unwrap();
    let end = start + "\"--host=127.0.0.1\"".len();
    let (line, character) = utf16_position(DEPLOYMENT, start);
    assert_eq!((line, character), (13, 59));
    assert_eq!(
        host["range"]["start"],
        json!({"line": line, "character": character}),
        "{host}"
    );
    let (end_line, end_character) = utf16_position(DEPLOYMENT, end);
    assert_eq!(
        host["range"]["end"],
        json!({"line": end_line, "character": end_character})
    );
    assert_eq!(host["severity"], 1);
    assert_eq!(host["source"], "kubectl-vllm");
    assert!(
        host["codeDescription"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/docs/rules/vllm-flag-host-localhost.md"),
        "{host}"
    );

    // Hovering the argument shows the rule's page.
    let hover = client.request(
        "textDocument/hover",
        &json!({"textDocument": {"uri": dep_uri}, "position": host["range"]["start"]}),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.contains("**vllm-flag-host-localhost** (error)"),
        "{markdown}"
    );
    assert!(markdown.contains("## What it does"), "{markdown}");

    // The code actions at the argument: safe ones first; applying the rule's fix clears it.
    let actions = client.request(
        "textDocument/codeAction",
        &json!({"textDocument": {"uri": dep_uri}, "range": host["range"],
               "context": {"diagnostics": [host]}}),
    );
    let actions = actions.as_array().unwrap();
    let preferred: Vec<bool> = actions.iter().map(|a| a["isPreferred"] == true).collect();
    assert!(
        preferred.windows(2).all(|w| w[0] || !w[1]),
        "safe first: {preferred:?}"
    );
    let fix = actions
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .contains("(vllm-flag-host-localhost)")
        })
        .unwrap_or_else(|| panic!("{actions:#?}"));
    let edits = fix["edit"]["changes"][&dep_uri].as_array().unwrap();
    let fixed = apply(DEPLOYMENT, edits);
    assert!(fixed.contains("--host=0.0.0.0"), "{fixed}");
    assert_eq!(
        fixed.matches('\n').count(),
        fixed.matches("\r\n").count(),
        "CRLF kept"
    );
    assert!(fixed.starts_with("# D\u{e9}ploiement"), "the comment kept");
    let linted = command()
        .args([
            "lint",
            "-",
            "--stdin-filename",
            "deploy.yaml",
            "-o",
            "json",
            "--provider",
            "gke",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(fixed.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let report: Value = serde_json::from_slice(&linted.stdout).unwrap();
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "vllm-flag-host-localhost"),
        "{report}"
    );

    // The edit, typed in: after the debounce, diagnostics of version 2 without the finding.
    client.notify("textDocument/didChange", &json!({"textDocument": {"uri": dep_uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let published = client.diagnostics(&dep_uri);
    assert_eq!(published["version"], 2);
    assert!(!codes(&published).contains(&"vllm-flag-host-localhost".to_string()));

    // Cross-file: the claim's StorageClass is in another file of the folder.
    let claim_uri = uri(&root.join("claim.yaml"));
    client.notify("textDocument/didOpen", &json!({"textDocument": {"uri": claim_uri, "languageId": "yaml", "version": 1, "text": CLAIM}}),
    );
    let published = client.diagnostics(&claim_uri);
    assert!(
        !codes(&published).contains(&"sc-not-found".to_string()),
        "{published}"
    );
    std::fs::remove_file(root.join("class.yaml")).unwrap();
    client.notify(
        "textDocument/didSave",
        &json!({"textDocument": {"uri": claim_uri}}),
    );
    let published = client.diagnostics(&claim_uri);
    assert!(
        codes(&published).contains(&"sc-not-found".to_string()),
        "{published}"
    );

    // Another file that cannot be read is said on the document, not swallowed.
    std::fs::write(root.join("broken.yaml"), "kind: [unclosed\n").unwrap();
    client.notify(
        "textDocument/didSave",
        &json!({"textDocument": {"uri": claim_uri}}),
    );
    let published = client.diagnostics(&claim_uri);
    let said = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .starts_with("other manifests of the workspace could not be read")
                && d["message"].as_str().unwrap().contains("broken.yaml")
        });
    assert!(said, "{published}");

    client.shut_down();
}

/// What an editor opens that is no manifest (a CI workflow, a compose file, a chart's template,
/// the config) gets no diagnostic, only a line in the client's log; the neighbours walk skips
/// Helm charts and the config's `exclude`; a saved config applies to the open documents at once.
#[test]
fn an_editor_lints_only_manifests_and_follows_the_saved_config() {
    let root = temp_dir("lsp-scope");
    let config = root.join(".kubectl-vllm.yaml");
    std::fs::write(
        &config,
        "cluster:\n  provider: gke\nexclude: [\"vendor/**\"]\n",
    )
    .unwrap();
    std::fs::write(root.join("claim.yaml"), CLAIM).unwrap();
    std::fs::create_dir_all(root.join("vendor")).unwrap();
    std::fs::write(root.join("vendor/class.yaml"), CLASS).unwrap();
    std::fs::create_dir_all(root.join("chart/templates")).unwrap();
    std::fs::write(
        root.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- with .Values.x }}\n";
    std::fs::write(root.join("chart/templates/deploy.yaml"), template).unwrap();
    // Never opened: only the walk of the folder could read it.
    std::fs::write(root.join("chart/templates/service.yaml"), template).unwrap();
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    let workflow = "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps: [{run: kubectl vllm lint -R deploy/}]\n";
    std::fs::write(root.join(".github/workflows/ci.yml"), workflow).unwrap();
    let compose = "services:\n  web:\n    image: nginx\n";
    std::fs::write(root.join("compose.yaml"), compose).unwrap();

    let mut client = Client::start(&root);
    client.request(
        "initialize",
        &json!({"processId": null, "rootUri": uri(&root), "capabilities": {},
                "workspaceFolders": [{"uri": uri(&root), "name": "root"}]}),
    );
    client.notify("initialized", &json!({}));

    // The excluded copy of the StorageClass is not read: the claim's class is missing. The
    // chart's template (not YAML) is not read either, so nothing says a neighbour was unreadable.
    let claim_uri = uri(&root.join("claim.yaml"));
    client.notify("textDocument/didOpen", &json!({"textDocument": {"uri": claim_uri, "languageId": "yaml", "version": 1, "text": CLAIM}}));
    let published = client.diagnostics(&claim_uri);
    assert_eq!(codes(&published), ["sc-not-found"], "{published}");

    for (path, text, why) in [
        (".github/workflows/ci.yml", workflow, "a hidden path"),
        ("compose.yaml", compose, "names no `apiVersion` or `kind`"),
        (
            "chart/templates/deploy.yaml",
            template,
            "a file of the Helm chart",
        ),
        (".kubectl-vllm.yaml", "exclude: []\n", "a hidden path"),
    ] {
        let path = root.join(path);
        let doc_uri = uri(&path);
        client.notify("textDocument/didOpen", &json!({"textDocument": {"uri": doc_uri, "languageId": "yaml", "version": 1, "text": text}}));
        let log = client.wait(|m| m["method"] == "window/logMessage");
        let line = log["params"]["message"].as_str().unwrap();
        assert!(
            line.contains(&format!("does not lint `{}`", path.display())) && line.contains(why),
            "{line}"
        );
        let published = client.diagnostics(&doc_uri);
        assert_eq!(published["diagnostics"], json!([]), "{path:?}: {published}");
    }

    // The config saved without the exclude: the open claim is linted again and now sees the
    // StorageClass.
    std::fs::write(&config, "cluster:\n  provider: gke\n").unwrap();
    client.notify(
        "textDocument/didSave",
        &json!({"textDocument": {"uri": uri(&config)}}),
    );
    let published = client.diagnostics(&claim_uri);
    assert_eq!(codes(&published), Vec::<String>::new(), "{published}");
    client.shut_down();
}
