//! Helpers shared by hostwatch's integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use records::testkit::{cmd, wait_bounded};
use records::{HostSample, HostSummary, ProcessSample, Summary, ThresholdResult};

/// Everything hostwatch wrote, by kind; panics on a torn or foreign line.
#[derive(Debug, Default)]
pub struct Output {
    pub hosts: Vec<HostSample>,
    pub processes: Vec<ProcessSample>,
    pub thresholds: Vec<ThresholdResult>,
    pub summary: Option<HostSummary>,
}

pub fn parse(text: &str) -> Output {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "output ends mid-line: {text:?}"
    );
    let mut out = Output::default();
    for line in text.lines() {
        assert!(out.summary.is_none(), "a line after the summary: {line}");
        match serde_json::from_str::<Summary>(line) {
            Ok(Summary::Host(h)) => out.hosts.push(h),
            Ok(Summary::Process(p)) => out.processes.push(p),
            Ok(Summary::Threshold(t)) => out.thresholds.push(t),
            Ok(Summary::HostSummary(s)) => out.summary = Some(s),
            other => panic!("unexpected line {line}: {other:?}"),
        }
    }
    out
}

/// A running hostwatch whose stdout lines arrive on a channel.
pub struct Running {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Running {
    pub fn start(args: &[&str]) -> Running {
        let mut child = cmd("hostwatch")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hostwatch");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
            stderr,
        }
    }

    /// Waits (at most 20 s) until `n` host samples have been written.
    pub fn wait_hosts(&mut self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.count_hosts() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "hostwatch wrote {} host samples, not {n}, in 20 s: {:?}",
                        self.count_hosts(),
                        self.seen
                    );
                }
            }
        }
    }

    pub fn count_hosts(&self) -> usize {
        self.seen
            .iter()
            .filter(|l| l.starts_with("{\"kind\":\"host\""))
            .count()
    }

    pub fn signal(&self, signal: &str) {
        send_signal(self.child.id(), signal);
    }

    /// Waits for the end (at most 20 s): exit status, all stdout, stderr.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let status = wait_bounded(&mut self.child, Duration::from_secs(20), "hostwatch");
        let mut text: String = self.seen.concat();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            text.push_str(&line);
        }
        (status, text, self.stderr.join().unwrap())
    }
}

pub fn send_signal(pid: u32, signal: &str) {
    // The shell's builtin kill: no unsafe libc call, no procps needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -{signal} {pid}")])
        .status()
        .expect("run sh -c kill");
    assert!(status.success());
}

/// A child killed (and reaped) when the test ends, however it ends.
pub struct Helper(pub Child);

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Helper {
    pub fn spawn(command: &mut Command) -> Helper {
        Helper(command.spawn().expect("start helper"))
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}
