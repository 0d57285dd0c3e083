//! A small blocking HTTP client for the tasktracker tests.
#![allow(dead_code)]

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub struct Api {
    pub base: String,
    client: Client,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub fn detail(&self) -> &Value {
        &self.body["detail"]
    }
}

pub struct Login {
    pub email: String,
    pub password: String,
    pub id: i64,
    pub access: String,
    pub refresh: String,
}

/// An email no other test run (even on a shared PostgreSQL) has used.
pub fn unique_email(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{tag}-{}-{nanos}-{}@example.com",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_string(),
            client: Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(20))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub fn req(&self, method: &str, path: &str) -> RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub fn send(&self, rb: RequestBuilder) -> Reply {
        let response = rb.send().expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    /// A request with a bearer token and an optional JSON body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut rb = self.req(method, path);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.send(rb)
    }

    pub fn register(&self, email: &str, password: &str) -> Reply {
        self.call(
            "POST",
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": password, "full_name": "Test User"})),
        )
    }

    pub fn login(&self, email: &str, password: &str) -> Reply {
        self.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
    }

    /// Registers and logs in a fresh user.
    pub fn user(&self, tag: &str) -> Login {
        let email = unique_email(tag);
        let password = format!("pw-{tag}-secret");
        let reg = self.register(&email, &password);
        assert_eq!(reg.status, 201, "register: {}", reg.text);
        let login = self.login(&email, &password);
        assert_eq!(login.status, 200, "login: {}", login.text);
        Login {
            id: reg.body["id"].as_i64().unwrap(),
            access: login.body["access_token"].as_str().unwrap().to_string(),
            refresh: login.body["refresh_token"].as_str().unwrap().to_string(),
            email,
            password,
        }
    }

    pub fn create_task(&self, token: &str, body: Value) -> Value {
        let r = self.call("POST", "/api/v1/tasks/", Some(token), Some(body));
        assert_eq!(r.status, 201, "create task: {}", r.text);
        r.body
    }
}

/// PostgreSQL scratch schema, dropped when this guard goes (even on panic).
pub struct Scratch {
    pub schema: String,
}

impl Scratch {
    pub fn new() -> Scratch {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        static N: AtomicU64 = AtomicU64::new(0);
        Scratch {
            schema: format!(
                "tt_test_{}_{}_{}",
                std::process::id(),
                nanos % 1_000_000_000,
                N.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let url = records::testkit::database_url();
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                Ok((client, conn)) => {
                    tokio::spawn(conn);
                    if let Err(e) = client.batch_execute(&sql).await {
                        eprintln!("could not drop scratch schema: {e}");
                    }
                }
                Err(e) => eprintln!("could not drop scratch schema: {e}"),
            }
        });
    }
}
