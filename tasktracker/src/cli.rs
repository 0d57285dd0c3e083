//! The command line, and the settings resolved from it.

use crate::faults::FaultConfig;
use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Arch {
    /// One server does everything.
    Mono,
    /// A gateway in front of user, task and stats services talking HTTP.
    Micro,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::Mono => "mono",
            Arch::Micro => "micro",
        }
    }
}

/// The reference TaskTracker API that loadpipe load-tests: auth with JWTs,
/// per-user tasks and stats, in memory or on PostgreSQL, as one server or as
/// a gateway plus services, with switches that inject faults.
#[derive(Debug, Parser)]
#[command(
    name = "tasktracker",
    version,
    after_help = concat!(
        "Examples:\n  \
        tasktracker --listen 127.0.0.1:0 --hash-cost 4\n  \
        tasktracker --arch micro --database-url postgres://postgres@127.0.0.1:5432/test --pool-size 20\n  \
        tasktracker --fail-rate 0.05 --delay 5ms --stall-every 10s --stall-for 500ms\n  \
        tasktracker --tls --cert-out /tmp/tt.pem\n  \
        curl --cacert /tmp/tt.pem https://localhost:8080/health\n\n\
        Then: seed -s scenarios/tasktracker.toml --target http://127.0.0.1:8080 | hammer -s scenarios/tasktracker.toml | aggregate\n\n\
        Besides the REST API: GET /api/v1/ws, a WebSocket pushing task updates (JSON messages\n\
        subscribe/unsubscribe/ping; auth ?token=JWT or a bearer header), and GET /metrics\n\
        (Prometheus text, no auth). tasktracker/README.md describes both.\n\n",
        records::exit_status_help!()
    )
)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (printed on stderr).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// One server, or a gateway in front of user/task/stats services.
    #[arg(long, value_enum, default_value = "mono")]
    pub arch: Arch,

    /// PostgreSQL connection URL; without it everything lives in memory.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL schema holding the tables (created if missing).
    #[arg(long, value_name = "NAME", default_value = "tasktracker")]
    pub db_schema: String,

    /// PostgreSQL connections per pool (micro: per service).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub pool_size: usize,

    /// Lifetime of access tokens.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration)]
    pub token_ttl: Duration,

    /// Lifetime of refresh tokens and session cookies.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = duration)]
    pub refresh_ttl: Duration,

    /// bcrypt cost of password hashes (4–31; 4 keeps demos quick).
    #[arg(long, value_name = "COST", default_value_t = 10, value_parser = clap::value_parser!(u32).range(4..=31))]
    pub hash_cost: u32,

    /// Secret that signs JWTs; default: random at each start.
    #[arg(long, value_name = "SECRET", hide_default_value = true)]
    pub jwt_secret: Option<String>,

    /// Fraction of requests answered with an injected 500 (0–1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = fraction)]
    pub fail_rate: f64,

    /// Extra latency added to every request.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = duration)]
    pub delay: Duration,

    /// Pause the whole server periodically, starting this long after start…
    #[arg(long, value_name = "DURATION", value_parser = duration, requires = "stall_for")]
    pub stall_every: Option<Duration>,

    /// …for this long each time.
    #[arg(long, value_name = "DURATION", value_parser = duration, requires = "stall_every")]
    pub stall_for: Option<Duration>,

    /// Fraction of requests whose connection is closed without any response (0–1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = fraction)]
    pub drop_rate: f64,

    /// Largest request body accepted (413 beyond it): bytes, or with KB/MB/KiB/MiB.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = size)]
    pub max_body: usize,

    /// Serve HTTPS (HTTP/2 or HTTP/1.1 by ALPN) with a self-signed certificate
    /// made at start, valid for localhost, 127.0.0.1 and ::1.
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    pub tls: bool,

    /// With --tls: write the self-signed certificate (PEM) here before the
    /// "listening on" line, for clients to trust.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub cert_out: Option<PathBuf>,

    /// Serve HTTPS with this PEM certificate chain (with --key).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,

    /// PEM private key of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Require client certificates signed by a CA in this PEM file (mTLS;
    /// needs --tls or --cert/--key).
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Close each WebSocket this long after it opened, with code 1011 (fault).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub ws_close_after: Option<Duration>,

    /// WebSockets accept messages but never answer them nor push updates (fault).
    #[arg(long)]
    pub ws_mute: bool,
}

fn duration(text: &str) -> Result<Duration, String> {
    records::units::parse_duration(text)
}

fn fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number between 0 and 1"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("`{text}` is not between 0 and 1"))
    }
}

/// `1048576`, `512KB`, `1MB` (powers of 1000), `1KiB`, `1MiB` (powers of 1024).
pub fn size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..split]
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 1MB or 65536"))?;
    let scale = match text[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        unit => {
            return Err(format!(
                "`{text}`: unknown size unit `{unit}`; use B, KB, MB, KiB or MiB"
            ))
        }
    };
    Ok((number * scale).round() as usize)
}

impl Args {
    pub fn faults(&self) -> Result<FaultConfig, String> {
        let stall = match (self.stall_every, self.stall_for) {
            (Some(every), Some(length)) => {
                if every.is_zero() || length >= every {
                    return Err("--stall-for must be shorter than --stall-every".into());
                }
                (!length.is_zero()).then_some((every, length))
            }
            _ => None,
        };
        Ok(FaultConfig {
            fail_rate: self.fail_rate,
            drop_rate: self.drop_rate,
            delay: self.delay,
            stall,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(size("1MiB"), Ok(1 << 20));
        assert_eq!(size("1MB"), Ok(1_000_000));
        assert_eq!(size("512"), Ok(512));
        assert_eq!(size("2kb"), Ok(2000));
        assert!(size("lots").is_err());
        assert!(size("1XB").is_err());
    }

    #[test]
    fn stall_must_fit_in_its_period() {
        let args = Args::parse_from(["tasktracker", "--stall-every", "1s", "--stall-for", "2s"]);
        assert!(args.faults().is_err());
        let args = Args::parse_from(["tasktracker", "--stall-every", "1s", "--stall-for", "500ms"]);
        assert!(args.faults().unwrap().stall.is_some());
    }
}
