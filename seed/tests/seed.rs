//! `seed` against the real tasktracker on loopback.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use records::testkit::{cmd, Server};
use records::{User, Var};

fn tasktracker_scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/tasktracker.toml")
}

fn seed(args: &[&str]) -> Output {
    cmd("seed")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run seed")
}

fn users_of(stdout: &[u8]) -> Vec<User> {
    records::ndjson::read_from(stdout, "seed stdout").expect("User records")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn task_ids(user: &User) -> Vec<String> {
    match user.vars.get("task_ids") {
        Some(Var::List(ids)) => ids.iter().map(records::exchange::value_text).collect(),
        other => panic!("{}: task_ids is {other:?}", user.user),
    }
}

/// Fails the test if `stderr` holds any of the users' secrets.
fn assert_no_secrets(stderr: &str, users: &[User]) {
    for u in users {
        let secrets = u
            .password
            .iter()
            .chain(u.token.iter())
            .chain(u.refresh_token.iter())
            .chain(u.cookies.values());
        for secret in secrets {
            assert!(
                !stderr.contains(secret.as_str()),
                "stderr shows a secret of {}:\n{stderr}",
                u.user
            );
        }
    }
    assert!(!stderr.contains("eyJ"), "stderr shows a JWT:\n{stderr}");
}

/// A small blocking HTTP helper over reqwest (the tests have no runtime of their own).
struct Api {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Api {
        Api {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            http: reqwest::Client::new(),
            base: base.to_string(),
        }
    }

    /// GET `path` with the given headers; retries 5xx (the fault-injecting server) a bounded number of times.
    fn get(&self, path: &str, headers: &[(&str, String)]) -> (u16, serde_json::Value) {
        self.runtime.block_on(async {
            for _ in 0..30 {
                let mut req = self.http.get(format!("{}{path}", self.base));
                for (name, value) in headers {
                    req = req.header(*name, value);
                }
                let resp = req.send().await.expect("GET");
                let status = resp.status().as_u16();
                if status >= 500 {
                    continue;
                }
                let body = resp.bytes().await.unwrap();
                return (status, serde_json::from_slice(&body).unwrap_or_default());
            }
            panic!("GET {path}: 5xx 30 times");
        })
    }

    fn post_json(&self, path: &str, body: serde_json::Value) -> u16 {
        self.runtime.block_on(async {
            self.http
                .post(format!("{}{path}", self.base))
                .json(&body)
                .send()
                .await
                .expect("POST")
                .status()
                .as_u16()
        })
    }

    fn bearer(user: &User) -> Vec<(&'static str, String)> {
        vec![(
            "Authorization",
            format!("Bearer {}", user.token.as_deref().expect("a token")),
        )]
    }

    fn me(&self, user: &User) -> serde_json::Value {
        let (status, body) = self.get("/api/v1/auth/me", &Api::bearer(user));
        assert_eq!(status, 200, "{}: /auth/me", user.user);
        body
    }

    /// IDs of every task the user has.
    fn task_ids(&self, user: &User) -> Vec<String> {
        let (status, body) = self.get("/api/v1/tasks/?limit=1000", &Api::bearer(user));
        assert_eq!(status, 200, "{}: task list", user.user);
        let list = match &body {
            serde_json::Value::Array(items) => items.clone(),
            other => other
                .get("items")
                .or_else(|| other.get("tasks"))
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_else(|| panic!("task list: {other}")),
        };
        list.iter()
            .map(|t| records::exchange::value_text(&t["id"]))
            .collect()
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn seeds_users_with_twenty_tasks_and_seeds_them_again() {
    let server = Server::start(&["--hash-cost", "4"]);
    let scenario = tasktracker_scenario();
    let args = [
        "-s",
        scenario.to_str().unwrap(),
        "--target",
        &server.url,
        "--users",
        "10",
    ];
    let out = seed(&args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let users = users_of(&out.stdout);
    let names: Vec<&str> = users.iter().map(|u| u.user.as_str()).collect();
    let want: Vec<String> = (1..=10)
        .map(|n| format!("loadtest{n}@example.com"))
        .collect();
    assert_eq!(names, want, "users in number order");
    assert!(
        stderr.contains("seed: 10 users (10 created, 0 existed, 0 failed) in "),
        "{stderr}"
    );
    assert_no_secrets(&stderr, &users);

    let api = Api::new(&server.url);
    for user in &users {
        assert_eq!(api.me(user)["email"], user.user.as_str());
        assert_eq!(user.password.as_deref().map(str::is_empty), Some(false));
        assert!(user.refresh_token.is_some() && user.expires_at.is_some());
        let ids = task_ids(user);
        assert_eq!(ids.len(), 20, "{}", user.user);
        assert_eq!(sorted(api.task_ids(user)), sorted(ids), "{}", user.user);
    }

    // Again: every user exists (409), logs in afresh and gets 20 more tasks.
    let again = seed(&args);
    let stderr = text(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(
        stderr.contains("seed: 10 users (0 created, 10 existed, 0 failed) in "),
        "{stderr}"
    );
    let second = users_of(&again.stdout);
    assert_eq!(second.len(), 10);
    assert_no_secrets(&stderr, &second);
    for (user, before) in second.iter().zip(&users) {
        assert_eq!(api.me(user)["email"], user.user.as_str());
        let on_server = api.task_ids(user);
        assert_eq!(on_server.len(), 40, "{}", user.user);
        for id in task_ids(user).iter().chain(task_ids(before).iter()) {
            assert!(on_server.contains(id), "{}: task {id}", user.user);
        }
    }
}

#[test]
fn a_dead_target_exits_3_naming_the_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let scenario = tasktracker_scenario();
    let out = seed(&[
        "-s",
        scenario.to_str().unwrap(),
        "--target",
        &url,
        "--users",
        "5",
        "--retries",
        "1",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "seed: error: cannot reach {url} (connection refused)"
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_scenario_files_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "typo.toml",
            "base_url = \"http://127.0.0.1:9\"\n\n[seed]\nusres = 3\n",
            4,
            "usres",
        ),
        (
            "broken.toml",
            "base_url = \"http://127.0.0.1:9\"\n[seed\nusers = 3\n",
            2,
            "",
        ),
        (
            "placeholder.toml",
            "[seed]\n[seed.register]\nmethod = \"POST\"\npath = \"/r/{usr}\"\n",
            4,
            "{usr}",
        ),
    ];
    for (name, body, line, word) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let out = seed(&["-s", path.to_str().unwrap()]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{}:{line}: ", path.display())),
            "{name}: {stderr}"
        );
        assert!(stderr.contains(word), "{name}: {stderr}");
    }

    let path = dir.path().join("noseed.toml");
    std::fs::write(&path, "name = \"x\"\nbase_url = \"http://127.0.0.1:9\"\n").unwrap();
    let out = seed(&["-s", path.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no [seed] section"), "{stderr}");

    let out = seed(&["-s", dir.path().join("missing.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    let scenario = tasktracker_scenario();
    let out = seed(&["-s", scenario.to_str().unwrap(), "--target", "http://:80"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("target `http://:80`"), "{stderr}");
}

#[test]
fn output_file_is_private_and_failures_keep_secrets_off_stderr() {
    let server = Server::start(&["--hash-cost", "4"]);
    let api = Api::new(&server.url);
    // User 2 exists with another password, so its login will fail.
    assert_eq!(
        api.post_json(
            "/api/v1/auth/register",
            serde_json::json!({"email": "loadtest2@example.com", "password": "not-the-seed-one"}),
        ),
        201
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.ndjson");
    let scenario = tasktracker_scenario();
    let args = [
        "-s",
        scenario.to_str().unwrap(),
        "--target",
        &server.url,
        "--users",
        "3",
        "-o",
        file.to_str().unwrap(),
    ];
    let out = seed(&args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "records go to the file only");
    assert!(
        stderr.contains("seed: failed: user 2 (loadtest2@example.com): POST /api/v1/auth/login: status 401, expected 200"),
        "{stderr}"
    );
    assert!(stderr.contains("Incorrect email or password"), "{stderr}");
    assert!(
        stderr.contains("seed: 3 users (2 created, 0 existed, 1 failed)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 of 3 users could not be made"),
        "{stderr}"
    );
    assert!(!stderr.contains("LoadTest-2-pass"), "{stderr}");

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let users = records::ndjson::read_all::<User>(file.to_str().unwrap(), false)
        .unwrap()
        .0;
    let names: Vec<&str> = users.iter().map(|u| u.user.as_str()).collect();
    assert_eq!(names, ["loadtest1@example.com", "loadtest3@example.com"]);
    assert_no_secrets(&stderr, &users);

    // --allow-partial: the same failure, exit 0, the good users only.
    let mut partial = args.to_vec();
    partial.push("--allow-partial");
    let out = seed(&partial);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("seed: failed: user 2"), "{stderr}");
    let users = records::ndjson::read_all::<User>(file.to_str().unwrap(), false)
        .unwrap()
        .0;
    assert_eq!(users.len(), 2);
    assert_no_secrets(&stderr, &users);
}

#[test]
fn a_success_answer_with_the_wrong_status_is_not_quoted() {
    // A login answer carries tokens: when it is judged wrong, stderr must not show it.
    let server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    let text_of = std::fs::read_to_string(tasktracker_scenario())
        .unwrap()
        .replace(
            "json = { email = \"{user}\", password = \"{password}\" }\nexpect = [200]",
            "json = { email = \"{user}\", password = \"{password}\" }\nexpect = [201]",
        );
    assert!(text_of.contains("expect = [201]\ncapture = { token"));
    let path = dir.path().join("wrong.toml");
    std::fs::write(&path, text_of).unwrap();
    let out = seed(&[
        "-s",
        path.to_str().unwrap(),
        "--target",
        &server.url,
        "--users",
        "2",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("status 200, expected 201"), "{stderr}");
    assert!(
        !stderr.contains("eyJ") && !stderr.contains("token\""),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn form_login_keeps_the_session_cookie() {
    let server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("form.toml");
    std::fs::write(
        &path,
        r#"
[seed]
users = 2
user = "formuser{n}@example.com"
password = "Form-{n}-{n}-pass"

[seed.register]
method = "POST"
path = "/api/v1/auth/register"
json = { email = "{user}", password = "{password}" }
expect = [201, 409]
exists = [409]

[seed.login]
method = "POST"
path = "/api/v1/auth/login"
form = { email = "{user}", password = "{password}" }
expect = [200, 302]

# Runs on the session cookie alone: no token was captured.
[[seed.setup]]
repeat = 3
method = "POST"
path = "/api/v1/tasks/"
json = { title = "form task {i}" }
expect = [201]
append = { task_ids = "/id" }
"#,
    )
    .unwrap();
    let out = seed(&["-s", path.to_str().unwrap(), "--target", &server.url]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let users = users_of(&out.stdout);
    assert_eq!(users.len(), 2);
    assert_no_secrets(&stderr, &users);
    let api = Api::new(&server.url);
    for user in &users {
        assert!(user.token.is_none(), "{}: no token captured", user.user);
        let session = user.cookies.get("session").expect("a session cookie");
        assert_eq!(task_ids(user).len(), 3);
        let (status, me) = api.get(
            "/api/v1/auth/me",
            &[("Cookie", format!("session={session}"))],
        );
        assert_eq!(status, 200, "{}: the cookie alone authenticates", user.user);
        assert_eq!(me["email"], user.user.as_str());
        let (status, _) = api.get("/api/v1/auth/me", &[]);
        assert_eq!(status, 401, "and nothing else does");
    }
}

#[test]
fn retries_ride_out_injected_failures() {
    let server = Server::start(&["--hash-cost", "4", "--fail-rate", "0.3"]);
    let scenario = tasktracker_scenario();
    let out = seed(&[
        "-s",
        scenario.to_str().unwrap(),
        "--target",
        &server.url,
        "--users",
        "5",
        "--retries",
        "12",
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("seed: 5 users ("), "{stderr}");
    assert!(stderr.contains(", 0 failed)"), "{stderr}");
    let users = users_of(&out.stdout);
    assert_eq!(users.len(), 5);
    let api = Api::new(&server.url);
    for user in &users {
        assert_eq!(task_ids(user).len(), 20, "{}", user.user);
        assert_eq!(api.me(user)["email"], user.user.as_str());
    }
}

#[test]
fn a_closed_stdout_is_a_quiet_end() {
    let server = Server::start(&["--hash-cost", "4"]);
    let scenario = tasktracker_scenario();
    let mut child = cmd("seed")
        .args(["-s", scenario.to_str().unwrap(), "--target", &server.url])
        .args(["--users", "3"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before seed writes anything.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn a_target_lost_mid_run_stops_seed_with_exit_3() {
    let mut server = Server::start(&["--hash-cost", "4", "--delay", "50ms"]);
    let url = server.url.clone();
    let scenario = tasktracker_scenario();
    // About 100 s of work at this delay, so the server dies mid-run.
    let child = cmd("seed")
        .args(["-s", scenario.to_str().unwrap(), "--target", &url])
        .args(["--users", "200", "--concurrency", "2", "--retries", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let api = Api::new(&url);
    let registered = (0..200).any(|_| {
        // User 3 is made after the first user (made alone) is complete.
        let login =
            serde_json::json!({"email": "loadtest3@example.com", "password": "LoadTest-3-pass"});
        let status = api.runtime.block_on(async {
            api.http
                .post(format!("{url}/api/v1/auth/login"))
                .json(&login)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        });
        if status != 200 {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        status == 200
    });
    assert!(registered, "seed never registered user 3");
    server.kill();
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("seed: error: lost {url} (")),
        "{stderr}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "seed kept going for {:?}",
        started.elapsed()
    );
    // What was made before is still written, and is complete.
    for user in users_of(&out.stdout) {
        assert_eq!(task_ids(&user).len(), 20, "{}", user.user);
    }
}
