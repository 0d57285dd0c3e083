//! The whole API, run against every layout and backend: one suite,
//! parameterized by the server's arguments.

mod common;

use common::{Api, Scratch};
use records::testkit::{self, Server};
use serde_json::{json, Value};
use std::time::Duration;

fn ids(tasks: &Value) -> Vec<i64> {
    tasks
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

fn suite(args: &[&str]) {
    let mut all = vec!["--hash-cost", "4"];
    all.extend_from_slice(args);
    let server = Server::start(&all);
    let api = Api::new(&server.url);

    health(&api);
    registration(&api);
    let a = api.user("alice");
    login_and_me(&api, &a);
    tokens_are_checked(&api, &a);
    tasks_crud(&api, &a);
    listing(&api);
    cross_user(&api);
    refresh_rotates(&api);
    form_login_and_cookie(&api);
    logout_revokes(&api);
    unknown_paths(&api);

    // Secrets never reach the server's log.
    let logs = server.logs().join("\n");
    assert!(!logs.contains(&a.password), "password in logs:\n{logs}");
    assert!(!logs.contains(&a.access), "token in logs:\n{logs}");
    assert_eq!(
        logs.matches("listening on").count(),
        1,
        "exactly one line says `listening on`:\n{logs}"
    );
}

fn health(api: &Api) {
    let r = api.call("GET", "/health", None, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "ok"}));
}

fn registration(api: &Api) {
    let email = common::unique_email("reg");
    let r = api.call(
        "POST",
        "/api/v1/auth/register",
        None,
        Some(json!({"email": email, "password": "pw", "full_name": "Reg User"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["id"].is_i64());
    assert_eq!(r.body["email"], email);
    assert_eq!(r.body["full_name"], "Reg User");
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(r.body.get("password").is_none() && r.body.get("password_hash").is_none());

    let again = api.register(&email, "other");
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.detail().is_string());

    // full_name is optional.
    let r = api.call(
        "POST",
        "/api/v1/auth/register",
        None,
        Some(json!({"email": common::unique_email("noname"), "password": "pw"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["full_name"], Value::Null);

    for bad in [
        json!({"password": "pw"}),
        json!({"email": "no-at-sign", "password": "pw"}),
        json!({"email": common::unique_email("x"), "password": ""}),
        json!({"email": common::unique_email("x")}),
        json!({"email": 5, "password": "pw"}),
        json!(["not", "an", "object"]),
    ] {
        let r = api.call("POST", "/api/v1/auth/register", None, Some(bad.clone()));
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert!(r.detail().is_string(), "{bad}: {}", r.text);
    }
    let r = api.send(
        api.req("POST", "/api/v1/auth/register")
            .header("content-type", "application/json")
            .body("{not json"),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().is_string());
}

fn login_and_me(api: &Api, a: &common::Login) {
    let r = api.login(&a.email, &a.password);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 900, "default --token-ttl 15m");
    assert!(r.body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(r.body["refresh_token"].is_string());

    assert_eq!(api.login(&a.email, "wrong").status, 401);
    assert_eq!(api.login(&common::unique_email("ghost"), "pw").status, 401);
    let r = api.call(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"email": a.email})),
    );
    assert_eq!(r.status, 422);

    let me = api.call("GET", "/api/v1/auth/me", Some(&a.access), None);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["id"], a.id);
    assert_eq!(me.body["email"], a.email);
    assert_eq!(me.body["full_name"], "Test User");
    assert!(me.body["created_at"].is_string());
}

fn tokens_are_checked(api: &Api, a: &common::Login) {
    let me = |rb: reqwest::blocking::RequestBuilder| api.send(rb).status;
    assert_eq!(me(api.req("GET", "/api/v1/auth/me")), 401);
    assert_eq!(me(api.req("GET", "/api/v1/tasks/")), 401);
    assert_eq!(me(api.req("GET", "/api/v1/stats/")), 401);
    assert_eq!(
        me(api.req("GET", "/api/v1/auth/me").bearer_auth("garbage")),
        401
    );
    assert_eq!(
        me(api
            .req("GET", "/api/v1/auth/me")
            .header("authorization", format!("Basic {}", a.access))),
        401
    );
    // Tampered: another user id in the payload, signature unchanged.
    let parts: Vec<&str> = a.access.split('.').collect();
    let forged_payload = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = json!((a.id + 1).to_string());
        engine.encode(serde_json::to_vec(&claims).unwrap())
    };
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    let r = api.call("GET", "/api/v1/auth/me", Some(&tampered), None);
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.detail().is_string());
    // A flipped signature byte.
    let mut sig = parts[2].to_string();
    let last = sig.pop().unwrap();
    sig.push(if last == 'A' { 'B' } else { 'A' });
    let bad_sig = format!("{}.{}.{sig}", parts[0], parts[1]);
    assert_eq!(
        api.call("GET", "/api/v1/auth/me", Some(&bad_sig), None)
            .status,
        401
    );
    // A refresh token is not an access token.
    assert_eq!(
        api.call("GET", "/api/v1/auth/me", Some(&a.refresh), None)
            .status,
        401
    );
}

fn tasks_crud(api: &Api, a: &common::Login) {
    let t = Some(a.access.as_str());
    let task = api.create_task(&a.access, json!({"title": "Write tests"}));
    assert!(task["id"].is_i64());
    assert_eq!(task["title"], "Write tests");
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["status"], "pending");
    assert_eq!(task["priority"], "medium");
    assert!(task["created_at"].as_str().unwrap().contains('T'));
    assert_eq!(task["created_at"], task["updated_at"]);
    let id = task["id"].as_i64().unwrap();

    let full = api.create_task(
        &a.access,
        json!({"title": "Full", "description": "all fields", "status": "in_progress", "priority": "high"}),
    );
    assert_eq!(full["description"], "all fields");
    assert_eq!(full["status"], "in_progress");
    assert_eq!(full["priority"], "high");

    for bad in [
        json!({}),
        json!({"title": ""}),
        json!({"title": "   "}),
        json!({"title": 7}),
        json!({"title": "x", "status": "done"}),
        json!({"title": "x", "priority": "urgent"}),
    ] {
        let r = api.call("POST", "/api/v1/tasks/", t, Some(bad.clone()));
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert!(r.detail().is_string());
    }
    // Without a trailing slash too.
    let r = api.call(
        "POST",
        "/api/v1/tasks",
        t,
        Some(json!({"title": "no slash"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let no_slash = r.body["id"].as_i64().unwrap();

    let got = api.call("GET", &format!("/api/v1/tasks/{id}"), t, None);
    assert_eq!(got.status, 200);
    assert_eq!(got.body, task);
    assert_eq!(
        api.call("GET", "/api/v1/tasks/999999999", t, None).status,
        404
    );
    let r = api.call("GET", "/api/v1/tasks/abc", t, None);
    assert_eq!(r.status, 422);
    assert!(r.detail().is_string());

    std::thread::sleep(Duration::from_millis(2)); // updated_at must move past created_at
    let put = api.call(
        "PUT",
        &format!("/api/v1/tasks/{id}"),
        t,
        Some(json!({"title": "Write more tests", "description": "d", "status": "in_progress", "priority": "low"})),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.body["id"], id);
    assert_eq!(put.body["title"], "Write more tests");
    assert_eq!(put.body["description"], "d");
    assert_eq!(put.body["status"], "in_progress");
    assert_eq!(put.body["priority"], "low");
    assert_eq!(put.body["created_at"], task["created_at"]);
    assert!(put.body["updated_at"].as_str() > task["updated_at"].as_str());
    // A full update: what is left out goes back to its default.
    let put = api.call(
        "PUT",
        &format!("/api/v1/tasks/{id}"),
        t,
        Some(json!({"title": "Bare"})),
    );
    assert_eq!(put.status, 200);
    assert_eq!(put.body["description"], Value::Null);
    assert_eq!(put.body["status"], "pending");
    assert_eq!(put.body["priority"], "medium");
    assert_eq!(
        api.call(
            "PUT",
            &format!("/api/v1/tasks/{id}"),
            t,
            Some(json!({"description": "no title"}))
        )
        .status,
        422
    );
    assert_eq!(
        api.call(
            "PUT",
            "/api/v1/tasks/999999999",
            t,
            Some(json!({"title": "x"}))
        )
        .status,
        404
    );

    let done = api.call("PATCH", &format!("/api/v1/tasks/{id}/complete"), t, None);
    assert_eq!(done.status, 200);
    assert_eq!(done.body["status"], "completed");
    assert_eq!(done.body["title"], "Bare");
    let undone = api.call("PATCH", &format!("/api/v1/tasks/{id}/incomplete"), t, None);
    assert_eq!(undone.status, 200);
    assert_eq!(undone.body["status"], "pending");
    assert_eq!(
        api.call("PATCH", "/api/v1/tasks/999999999/complete", t, None)
            .status,
        404
    );

    // Stats: pending `id`, in_progress `full`, then complete `no_slash`.
    api.call(
        "PATCH",
        &format!("/api/v1/tasks/{no_slash}/complete"),
        t,
        None,
    );
    let stats = api.call("GET", "/api/v1/stats/", t, None);
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert_eq!(
        stats.body,
        json!({"total": 3, "completed": 1, "pending": 1, "in_progress": 1, "completion_rate": 33.33})
    );
    assert_eq!(api.call("GET", "/api/v1/stats", t, None).body, stats.body);

    let del = api.call("DELETE", &format!("/api/v1/tasks/{id}"), t, None);
    assert_eq!(del.status, 204);
    assert_eq!(
        api.call("GET", &format!("/api/v1/tasks/{id}"), t, None)
            .status,
        404
    );
    assert_eq!(
        api.call("DELETE", &format!("/api/v1/tasks/{id}"), t, None)
            .status,
        404
    );
    assert_eq!(api.call("GET", "/api/v1/stats/", t, None).body["total"], 2);
}

fn listing(api: &Api) {
    let u = api.user("lister");
    let t = Some(u.access.as_str());
    let empty = api.call("GET", "/api/v1/tasks/", t, None);
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body, json!([]));
    assert_eq!(
        api.call("GET", "/api/v1/stats/", t, None).body,
        json!({"total": 0, "completed": 0, "pending": 0, "in_progress": 0, "completion_rate": 0.0})
    );

    let mut made = Vec::new();
    for i in 0..7 {
        let status = ["pending", "in_progress", "completed"][i % 3];
        let task = api.create_task(
            &u.access,
            json!({"title": format!("task {i}"), "status": status}),
        );
        made.push(task["id"].as_i64().unwrap());
    }
    let all = api.call("GET", "/api/v1/tasks/", t, None);
    assert_eq!(ids(&all.body), made, "ordered by id");
    assert_eq!(ids(&api.call("GET", "/api/v1/tasks", t, None).body), made);

    let completed = api.call("GET", "/api/v1/tasks/?status=completed", t, None);
    assert_eq!(ids(&completed.body), vec![made[2], made[5]]);
    assert!(completed
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "completed"));
    let pending = api.call("GET", "/api/v1/tasks/?status=pending", t, None);
    assert_eq!(ids(&pending.body), vec![made[0], made[3], made[6]]);
    let in_progress = api.call("GET", "/api/v1/tasks/?status=in_progress", t, None);
    assert_eq!(ids(&in_progress.body), vec![made[1], made[4]]);

    let page = api.call("GET", "/api/v1/tasks/?limit=3&offset=2", t, None);
    assert_eq!(ids(&page.body), made[2..5].to_vec());
    let tail = api.call("GET", "/api/v1/tasks/?limit=3&offset=6", t, None);
    assert_eq!(ids(&tail.body), vec![made[6]]);
    let past = api.call("GET", "/api/v1/tasks/?offset=100", t, None);
    assert_eq!(past.body, json!([]));
    let both = api.call(
        "GET",
        "/api/v1/tasks/?status=pending&limit=1&offset=1",
        t,
        None,
    );
    assert_eq!(ids(&both.body), vec![made[3]]);
    let big = api.call("GET", "/api/v1/tasks/?limit=5000", t, None);
    assert_eq!(big.status, 200, "limit is capped, not refused");
    assert_eq!(ids(&big.body), made);

    for bad in ["?limit=abc", "?limit=-1", "?offset=x", "?status=done"] {
        let r = api.call("GET", &format!("/api/v1/tasks/{bad}"), t, None);
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert!(r.detail().is_string());
    }
    let stats = api.call("GET", "/api/v1/stats/", t, None).body;
    assert_eq!(
        stats,
        json!({"total": 7, "completed": 2, "pending": 3, "in_progress": 2, "completion_rate": 28.57})
    );
}

fn cross_user(api: &Api) {
    let a = api.user("owner");
    let b = api.user("intruder");
    let task = api.create_task(
        &a.access,
        json!({"title": "private", "description": "mine"}),
    );
    let id = task["id"].as_i64().unwrap();
    let tb = Some(b.access.as_str());
    let path = format!("/api/v1/tasks/{id}");

    for (method, p, body) in [
        ("GET", path.clone(), None),
        ("PUT", path.clone(), Some(json!({"title": "stolen"}))),
        ("PATCH", format!("{path}/complete"), None),
        ("PATCH", format!("{path}/incomplete"), None),
        ("DELETE", path.clone(), None),
    ] {
        let r = api.call(method, &p, tb, body);
        assert_eq!(r.status, 404, "{method} {p} by another user: {}", r.text);
        assert!(!r.text.contains("private"), "{}", r.text);
    }
    assert_eq!(api.call("GET", "/api/v1/tasks/", tb, None).body, json!([]));
    assert_eq!(api.call("GET", "/api/v1/stats/", tb, None).body["total"], 0);

    // The owner's task is untouched.
    let mine = api.call("GET", &path, Some(&a.access), None);
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body, task);
    assert_eq!(
        ids(&api
            .call("GET", "/api/v1/tasks/", Some(&a.access), None)
            .body),
        vec![id]
    );
    assert_eq!(
        api.call("GET", "/api/v1/stats/", Some(&a.access), None)
            .body["total"],
        1
    );
}

fn refresh_rotates(api: &Api) {
    let u = api.user("refresher");
    let call = |token: &str| {
        api.call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": token})),
        )
    };
    let r = call(&u.refresh);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "bearer");
    assert!(r.body["expires_in"].as_u64().unwrap() > 0);
    let access = r.body["access_token"].as_str().unwrap();
    let next = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(next, u.refresh);
    let me = api.call("GET", "/api/v1/auth/me", Some(access), None);
    assert_eq!(me.body["id"], u.id);

    assert_eq!(
        call(&u.refresh).status,
        401,
        "the old refresh token is revoked"
    );
    assert_eq!(call(&next).status, 200, "the new one works once");
    assert_eq!(call(&next).status, 401);
    assert_eq!(call("garbage").status, 401);
    assert_eq!(
        call(&u.access).status,
        401,
        "an access token is no refresh token"
    );
    assert_eq!(
        api.call("POST", "/api/v1/auth/refresh", None, Some(json!({})))
            .status,
        422
    );
}

fn form_login_and_cookie(api: &Api) {
    let u = api.user("former");
    let form = |field: &str, password: &str| {
        api.send(
            api.req("POST", "/api/v1/auth/login")
                .form(&[(field, u.email.as_str()), ("password", password)]),
        )
    };
    assert_eq!(form("email", "wrong").status, 401);
    let by_email = form("email", &u.password);
    assert_eq!(by_email.status, 200, "{}", by_email.text);
    assert!(by_email.body["access_token"].is_string());
    let r = form("username", &u.password);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "bearer");
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let with_cookie = |method: &str, path: &str| api.req(method, path).header("cookie", &session);
    let me = api.send(with_cookie("GET", "/api/v1/auth/me"));
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["id"], u.id);
    let made = api.send(with_cookie("POST", "/api/v1/tasks/").json(&json!({"title": "by cookie"})));
    assert_eq!(made.status, 201, "{}", made.text);
    let list = api.send(with_cookie("GET", "/api/v1/tasks/"));
    assert_eq!(ids(&list.body), vec![made.body["id"].as_i64().unwrap()]);
    assert_eq!(
        api.send(with_cookie("GET", "/api/v1/stats/")).body["total"],
        1
    );
    let forged = api.send(
        api.req("GET", "/api/v1/auth/me")
            .header("cookie", "session=deadbeef"),
    );
    assert_eq!(forged.status, 401);
    // JSON logins set no cookie.
    assert!(api
        .login(&u.email, &u.password)
        .headers
        .get("set-cookie")
        .is_none());
}

fn logout_revokes(api: &Api) {
    let u = api.user("leaver");
    let r = api.send(api.req("POST", "/api/v1/auth/login").form(&[
        ("email", u.email.as_str()),
        ("password", u.password.as_str()),
    ]));
    let cookie = r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();

    assert_eq!(
        api.call("POST", "/api/v1/auth/logout", None, None).status,
        401
    );
    let out = api.call("POST", "/api/v1/auth/logout", Some(&u.access), None);
    assert_eq!(out.status, 204, "{}", out.text);
    for token in [&u.refresh, &refresh] {
        let r = api.call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": token})),
        );
        assert_eq!(r.status, 401, "refresh token survives logout: {}", r.text);
    }
    let me = api.send(api.req("GET", "/api/v1/auth/me").header("cookie", &cookie));
    assert_eq!(me.status, 401, "session survives logout: {}", me.text);
    // Logging in again works.
    assert_eq!(api.login(&u.email, &u.password).status, 200);
}

fn unknown_paths(api: &Api) {
    let u = api.user("lost");
    let r = api.call("GET", "/api/v1/nothing-here", Some(&u.access), None);
    assert_eq!(r.status, 404);
    assert!(r.detail().is_string());
}

#[test]
fn mono_memory() {
    suite(&[]);
}

#[test]
fn micro_memory() {
    suite(&["--arch", "micro"]);
}

#[test]
fn mono_postgres() {
    if !testkit::require_postgres() {
        return;
    }
    let scratch = Scratch::new();
    let url = testkit::database_url();
    suite(&[
        "--database-url",
        &url,
        "--db-schema",
        &scratch.schema,
        "--pool-size",
        "4",
    ]);
}

#[test]
fn micro_postgres() {
    if !testkit::require_postgres() {
        return;
    }
    let scratch = Scratch::new();
    let url = testkit::database_url();
    suite(&[
        "--arch",
        "micro",
        "--database-url",
        &url,
        "--db-schema",
        &scratch.schema,
        "--pool-size",
        "4",
    ]);
}

fn expiry(args: &[&str]) {
    let mut all = vec!["--hash-cost", "4", "--token-ttl", "1s"];
    all.extend_from_slice(args);
    let server = Server::start(&all);
    let api = Api::new(&server.url);
    let u = api.user("expiring");
    assert_eq!(api.login(&u.email, &u.password).body["expires_in"], 1);
    assert_eq!(
        api.call("GET", "/api/v1/auth/me", Some(&u.access), None)
            .status,
        200
    );
    // exp has whole-second precision: a 1 s token is dead 2 s after issue.
    std::thread::sleep(Duration::from_millis(2200));
    let r = api.call("GET", "/api/v1/auth/me", Some(&u.access), None);
    assert_eq!(r.status, 401, "expired token accepted: {}", r.text);
    assert_eq!(
        api.call("GET", "/api/v1/tasks/", Some(&u.access), None)
            .status,
        401
    );
    // The refresh token outlives it and brings a working access token.
    let r = api.call(
        "POST",
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": u.refresh})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = r.body["access_token"].as_str().unwrap();
    assert_eq!(
        api.call("GET", "/api/v1/auth/me", Some(fresh), None).status,
        200
    );
}

#[test]
fn expired_token_is_rejected_mono() {
    expiry(&[]);
}

#[test]
fn expired_token_is_rejected_micro() {
    expiry(&["--arch", "micro"]);
}

#[test]
fn micro_services_are_separate_http_servers() {
    let server = Server::start(&["--arch", "micro", "--hash-cost", "4"]);
    let api = Api::new(&server.url);
    let u = api.user("hops");
    let task = api.create_task(&u.access, json!({"title": "via the gateway"}));
    let logs = server.logs();
    let service = |name: &str| -> String {
        let needle = format!("{name} service up at ");
        let line = logs
            .iter()
            .find(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {logs:?}"));
        line.split(&needle).nth(1).unwrap().trim().to_string()
    };
    let (users, tasks, stats) = (service("user"), service("task"), service("stats"));
    assert!(tasks.starts_with("http://127.0.0.1:") && tasks != server.url);
    // The task service holds the data and answers HTTP itself, for the caller
    // the gateway names in x-user-id.
    let direct = Api::new(&tasks);
    let r = direct.send(
        direct
            .req("GET", "/api/v1/tasks/")
            .header("x-user-id", u.id.to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([task]));
    let r = direct.send(direct.req("GET", "/api/v1/tasks/"));
    assert_eq!(r.status, 401, "services trust only the gateway's header");
    // The stats service has no tasks of its own: it asks the task service.
    let s = Api::new(&stats);
    let r = s.send(
        s.req("GET", "/api/v1/stats/")
            .header("x-user-id", u.id.to_string()),
    );
    assert_eq!(r.body["total"], 1, "{}", r.text);
    // The user service knows the user; the task service serves no auth routes.
    let r = Api::new(&users).send(
        Api::new(&users)
            .req("GET", "/api/v1/auth/me")
            .header("x-user-id", u.id.to_string()),
    );
    assert_eq!(r.body["email"], u.email);
    assert_eq!(
        direct.call("GET", "/api/v1/auth/me", None, None).status,
        404
    );
}
