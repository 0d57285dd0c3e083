//! Which PostgreSQL server to watch: `--url`, else `DATABASE_URL`, else the
//! libpq `PG*` variables; and how to name it without giving its password away.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;
use tokio_postgres::Config;

/// The server to watch, with a printable name that never holds the password.
#[derive(Clone, Debug)]
pub struct Target {
    pub config: Config,
    /// `host:port` (or the socket directory), for messages.
    pub place: String,
    /// The password, kept only to scrub it from messages we did not write.
    secret: Option<String>,
}

/// Where the connection settings came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Flag,
    DatabaseUrl,
    PgEnv,
}

impl Target {
    /// Resolves the server from the flag, then the environment (`env` looks a variable up).
    pub fn resolve(
        url: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Target, Source), String> {
        let nonempty = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let (mut config, source) = if let Some(url) = url {
            (parse(url, "--url")?, Source::Flag)
        } else if let Some(url) = nonempty("DATABASE_URL") {
            (parse(&url, "DATABASE_URL")?, Source::DatabaseUrl)
        } else {
            (from_pg_env(&nonempty)?, Source::PgEnv)
        };
        // libpq's fallbacks, so a URL without them still works as psql would.
        if config.get_password().is_none() {
            if let Some(password) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
                config.password(password);
            }
        }
        if config.get_user().is_none() {
            config.user(
                nonempty("PGUSER")
                    .or_else(|| nonempty("USER"))
                    .unwrap_or_else(|| "postgres".to_string()),
            );
        }
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            config.host("127.0.0.1");
        }
        if config.get_application_name().is_none() {
            config.application_name("pgwatch");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.keepalives(true);
        Ok((Target::new(config), source))
    }

    pub fn new(config: Config) -> Target {
        let place = place_of(&config);
        let secret = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .filter(|p| !p.is_empty());
        Target {
            config,
            place,
            secret,
        }
    }

    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or("postgres")
    }

    /// `text` with the password, should it appear, replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, self.secret.as_deref())
    }
}

/// An error with its causes, `outer: inner: innermost`, as tokio-postgres
/// keeps the useful part ("Connection refused") in the cause.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let said = inner.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = inner.source();
    }
    text
}

fn scrub(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "***"),
        _ => text.to_string(),
    }
}

fn parse(text: &str, from: &str) -> Result<Config, String> {
    let secret = password_in(text);
    Config::from_str(text).map_err(|err| {
        // The parser's message may quote the text it choked on.
        let message = scrub(&describe(&err), secret.as_deref());
        format!("{from} is not a PostgreSQL connection string: {message}")
    })
}

/// The password of a `postgres://user:password@host` URL, to keep it out of messages.
fn password_in(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split('@').next().filter(|_| rest.contains('@'))?;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then(|| password.to_string())
}

fn from_pg_env(env: &impl Fn(&str) -> Option<String>) -> Result<Config, String> {
    let mut config = Config::new();
    if let Some(host) = env("PGHOST") {
        for host in host.split(',') {
            config.host(host.trim());
        }
    }
    if let Some(port) = env("PGPORT") {
        let port: u16 = port
            .trim()
            .parse()
            .map_err(|_| format!("PGPORT `{port}` is not a port number"))?;
        config.port(port);
    }
    if let Some(user) = env("PGUSER") {
        config.user(user);
    }
    if let Some(password) = env("PGPASSWORD") {
        config.password(password);
    }
    if let Some(dbname) = env("PGDATABASE") {
        config.dbname(dbname);
    }
    if let Some(name) = env("PGAPPNAME") {
        config.application_name(name);
    }
    if let Some(secs) = env("PGCONNECT_TIMEOUT") {
        let secs: u64 = secs
            .trim()
            .parse()
            .map_err(|_| format!("PGCONNECT_TIMEOUT `{secs}` is not a number of seconds"))?;
        if secs > 0 {
            config.connect_timeout(Duration::from_secs(secs));
        }
    }
    Ok(config)
}

/// `host:port[,host:port]`, as people would name the server.
fn place_of(config: &Config) -> String {
    let ports = config.get_ports();
    let port_at = |i: usize| {
        ports
            .get(i)
            .or_else(|| (ports.len() == 1).then(|| &ports[0]))
            .copied()
            .unwrap_or(5432)
    };
    let mut names: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]:{}", port_at(i)),
            Host::Tcp(name) => format!("{name}:{}", port_at(i)),
            #[cfg(unix)]
            Host::Unix(path) => format!("{} (port {})", path.display(), port_at(i)),
        })
        .collect();
    if names.is_empty() {
        names = config
            .get_hostaddrs()
            .iter()
            .enumerate()
            .map(|(i, addr)| match addr {
                std::net::IpAddr::V6(a) => format!("[{a}]:{}", port_at(i)),
                std::net::IpAddr::V4(a) => format!("{a}:{}", port_at(i)),
            })
            .collect();
    }
    names.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        let (t, source) = Target::resolve(
            Some("postgres://alice:pw@127.0.0.1:6543/app"),
            env(&[("DATABASE_URL", "postgres://bob@127.0.0.1:1/x")]),
        )
        .unwrap();
        assert_eq!(source, Source::Flag);
        assert_eq!(t.place, "127.0.0.1:6543");
        assert_eq!(t.user(), "alice");
        assert_eq!(t.config.get_dbname(), Some("app"));
    }

    #[test]
    fn database_url_comes_before_pg_variables() {
        let (t, source) = Target::resolve(
            None,
            env(&[
                ("DATABASE_URL", "postgres://bob@localhost/x"),
                ("PGHOST", "10.0.0.1"),
            ]),
        )
        .unwrap();
        assert_eq!(source, Source::DatabaseUrl);
        assert_eq!(t.place, "localhost:5432");
        assert_eq!(t.user(), "bob");
    }

    #[test]
    fn pg_variables_and_defaults_like_libpq() {
        let (t, source) = Target::resolve(
            None,
            env(&[
                ("PGPORT", "5433"),
                ("PGPASSWORD", "hunter2"),
                ("PGDATABASE", "test"),
                ("USER", "carol"),
            ]),
        )
        .unwrap();
        assert_eq!(source, Source::PgEnv);
        assert_eq!(t.place, "127.0.0.1:5433");
        assert_eq!(t.user(), "carol");
        assert_eq!(t.config.get_password(), Some(&b"hunter2"[..]));
        assert_eq!(t.config.get_application_name(), Some("pgwatch"));
        assert!(Target::resolve(None, env(&[("PGPORT", "many")])).is_err());
    }

    #[test]
    fn pgpassword_fills_a_url_without_one() {
        let (t, _) = Target::resolve(
            Some("postgres://dave@127.0.0.1/db"),
            env(&[("PGPASSWORD", "s3cret")]),
        )
        .unwrap();
        assert_eq!(t.config.get_password(), Some(&b"s3cret"[..]));
        assert_eq!(t.scrub("login s3cret failed"), "login *** failed");
    }

    #[test]
    fn bad_urls_do_not_repeat_the_password() {
        let err = Target::resolve(
            Some("postgres://erin:TopSecret99@127.0.0.1:notaport/db"),
            env(&[]),
        )
        .unwrap_err();
        assert!(err.contains("--url"), "{err}");
        assert!(!err.contains("TopSecret99"), "{err}");
    }

    #[test]
    fn passwords_are_found_in_urls() {
        assert_eq!(
            password_in("postgres://u:p%40ss@h/db").as_deref(),
            Some("p%40ss")
        );
        assert_eq!(password_in("postgres://u@h/db"), None);
        assert_eq!(password_in("host=h user=u"), None);
    }
}
