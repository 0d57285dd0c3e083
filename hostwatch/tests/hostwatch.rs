//! hostwatch against the real machine: a process that allocates 50 MB in steps (and one that does not
//! grow), bytes sent over loopback, processes that are not there yet or go
//! away, and the ways it stops.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{parse, Helper, Running};
use records::testkit::{bin, cmd, run_bounded};
use records::ProcessSample;

/// A python3 helper: `grow` holds nothing, says `ready`, and on a line from
/// stdin allocates 10 × 5 MB (touched) 200 ms apart, saying `done`; `flat`
/// allocates 50 MB before `ready`. Both hold until stdin closes.
const ALLOCATOR: &str = r#"
import sys, time
blocks = []
if sys.argv[1] == "flat":
    blocks.append(bytearray(b"\x01") * 50_000_000)
print("ready", flush=True)
if sys.argv[1] == "grow":
    sys.stdin.readline()
    for _ in range(10):
        blocks.append(bytearray(b"\x01") * 5_000_000)
        time.sleep(0.2)
    print("done", flush=True)
sys.stdin.read()
"#;

struct Allocator {
    helper: Helper,
    stdin: ChildStdin,
    said: mpsc::Receiver<String>,
}

impl Allocator {
    fn start(mode: &str) -> Allocator {
        let mut helper = Helper::spawn(
            Command::new("python3")
                .args(["-c", ALLOCATOR, mode])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        );
        let stdin = helper.0.stdin.take().unwrap();
        let stdout = helper.0.stdout.take().unwrap();
        let (tx, said) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let a = Allocator {
            helper,
            stdin,
            said,
        };
        a.expect("ready");
        a
    }

    fn expect(&self, word: &str) {
        let line = self
            .said
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the python3 helper did not say {word}"));
        assert_eq!(line, word);
    }
}

#[test]
fn rss_follows_50_mb_in_steps_and_the_leak_check_breaks() {
    let mut a = Allocator::start("grow");
    let pid = a.helper.pid().to_string();
    let check = format!("process:{pid}:rss_growth<10MB/h");
    let mut hw = Running::start(&["--pid", &pid, "--interval", "100ms", "--threshold", &check]);
    hw.wait_hosts(5);
    writeln!(a.stdin, "go").unwrap();
    a.expect("done");
    let grown_at = hw.count_hosts();
    hw.wait_hosts(grown_at + 5);
    hw.signal("INT");
    let (status, text, stderr) = hw.finish();
    assert_eq!(
        status.code(),
        Some(1),
        "the leak check must break: {stderr}"
    );
    let got = parse(&text);
    let rss: Vec<u64> = got.processes.iter().map(|p| p.rss_bytes).collect();
    let (first, last) = (rss[0] as f64, *rss.last().unwrap() as f64);
    let grew = last - first;
    eprintln!(
        "rss {:.1} MB → {:.1} MB: grew {:.2} MB",
        first / 1e6,
        last / 1e6,
        grew / 1e6
    );
    assert!(
        (grew - 50e6).abs() <= 0.05 * 50e6,
        "RSS grew {grew} bytes for 50 MB allocated: {rss:?}"
    );
    // The steps show up one by one, not as one jump.
    let levels = rss.windows(2).filter(|w| w[1] > w[0] + 2_000_000).count();
    assert!(levels >= 5, "{levels} steps seen in {rss:?}");
    assert!(
        stderr.contains(&format!("hostwatch: threshold broken: {check}")),
        "{stderr}"
    );
    assert_eq!(got.thresholds.len(), 1);
    assert!(!got.thresholds[0].ok && got.thresholds[0].value > 10e6);
    let summary = got.summary.unwrap();
    assert!(summary.processes[0].rss_growth_bytes_per_h.unwrap() > 10_000_000);
    assert!(summary.processes[0].rss_peak_bytes as f64 >= last);
}

#[test]
fn the_leak_check_holds_for_a_process_that_allocated_at_start_up() {
    let a = Allocator::start("flat");
    let pid = a.helper.pid().to_string();
    let check = format!("process:{pid}:rss_growth<10MB/h");
    let out = run_bounded(
        cmd("hostwatch").args([
            "--pid",
            &pid,
            "--interval",
            "100ms",
            "--count",
            "20",
            "--threshold",
            &check,
        ]),
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let got = parse(&String::from_utf8(out.stdout).unwrap());
    assert!(got.processes.iter().all(|p| p.rss_bytes >= 50_000_000));
    assert!(got.thresholds[0].ok);
    assert!(
        stderr.contains(&format!("threshold ok: {check}")),
        "{stderr}"
    );
}

#[test]
fn loopback_counters_move_by_the_bytes_sent() {
    const PAYLOAD: usize = 50_000_000;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0;
        loop {
            match conn.read(&mut buf).unwrap() {
                0 => return total,
                n => total += n,
            }
        }
    });
    let mut hw = Running::start(&["--iface", "lo", "--interval", "100ms"]);
    hw.wait_hosts(3);
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(&vec![7u8; PAYLOAD]).unwrap();
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(receiver.join().unwrap(), PAYLOAD);
    drop(conn);
    let after = hw.count_hosts();
    hw.wait_hosts(after + 3);
    hw.signal("TERM");
    let (status, text, stderr) = hw.finish();
    assert!(status.success(), "{stderr}");
    let got = parse(&text);
    let lo: Vec<_> = got
        .hosts
        .iter()
        .map(|h| {
            assert_eq!(h.net.len(), 1, "--iface lo: only lo");
            h.net[0].clone()
        })
        .collect();
    assert!(lo.iter().all(|n| n.iface == "lo"));
    // Other traffic on lo (other tests, other programs) is taken out as
    // the median interval's, which is ~0 on a quiet machine.
    for (what, f) in [
        (
            "tx",
            (|n: &records::NetSample| n.tx_bytes) as fn(&records::NetSample) -> u64,
        ),
        ("rx", |n: &records::NetSample| n.rx_bytes),
    ] {
        let mut per: Vec<u64> = lo.iter().map(f).collect();
        let total: u64 = per.iter().sum();
        per.sort_unstable();
        let background = per[per.len() / 2] * per.len() as u64;
        let moved = total.saturating_sub(background) as f64;
        eprintln!(
            "lo {what}: {total} bytes in {} samples, {background} background",
            per.len()
        );
        assert!(
            (moved - PAYLOAD as f64).abs() <= 0.05 * PAYLOAD as f64,
            "lo {what} moved {moved} bytes for {PAYLOAD} sent"
        );
    }
}

#[test]
fn a_process_that_matches_nothing_is_exit_2_or_waited_for() {
    let name = format!("hwnone{}", std::process::id());
    let out = run_bounded(
        cmd("hostwatch").args(["--process", &name, "--count", "1"]),
        Duration::from_secs(10),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "hostwatch: error: --process {name} matches no running process (--wait waits for it)"
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // --wait: nothing is sampled until a process of that name runs. The
    // name is a symlink's, which the kernel takes as the process's name.
    let dir = tempfile::tempdir().unwrap();
    let name = format!("hwwait{}", std::process::id());
    let link = dir.path().join(&name);
    std::os::unix::fs::symlink(which("sleep"), &link).unwrap();
    let mut hw = Running::start(&[
        "--process",
        &name,
        "--wait",
        "--interval",
        "100ms",
        "--count",
        "3",
    ]);
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        hw.child.try_wait().unwrap().is_none(),
        "hostwatch ended without the process"
    );
    assert!(
        hw.lines.try_recv().is_err(),
        "sampled before the process ran"
    );
    // Started the way launchers do: a shell that execs the program a moment
    // later, so the pid first shows up under another name.
    let target = Helper::spawn(
        Command::new("sh")
            .arg("-c")
            .arg(format!("sleep 0.3; exec '{}' 30", link.display())),
    );
    let (status, text, stderr) = hw.finish();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("waiting for --process {name}")),
        "{stderr}"
    );
    let got = parse(&text);
    assert_eq!(got.hosts.len(), 3);
    assert!(!got.processes.is_empty(), "{text}");
    assert!(got
        .processes
        .iter()
        .all(|p| p.pid == target.pid() && p.name == name && p.watch == name));
}

fn which(program: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_process_that_exits_mid_run_is_noted_and_the_host_sampled_on() {
    let mut target = Helper::spawn(Command::new("sleep").arg("60"));
    let pid = target.pid().to_string();
    let mut hw = Running::start(&["--pid", &pid, "--interval", "100ms", "--count", "12"]);
    hw.wait_hosts(4);
    target.0.kill().unwrap();
    target.0.wait().unwrap();
    let (status, text, stderr) = hw.finish();
    assert!(status.success(), "{stderr}");
    let got = parse(&text);
    assert_eq!(got.hosts.len(), 12, "host sampling went on");
    assert!(got.processes.len() >= 3 && got.processes.len() < 10);
    assert!(
        stderr.contains(&format!("process {pid} (sleep) of --pid {pid} exited")),
        "{stderr}"
    );
    let summary = got.summary.unwrap();
    assert_eq!(summary.processes[0].exited.len(), 1);
    assert_eq!(summary.processes[0].exited[0].pid.to_string(), pid);
}

#[test]
fn sigint_and_sigterm_end_it_after_whole_lines_with_a_summary() {
    for signal in ["INT", "TERM"] {
        let mut hw = Running::start(&["--interval", "50ms"]);
        hw.wait_hosts(3);
        hw.signal(signal);
        let (status, text, stderr) = hw.finish();
        assert_eq!(status.code(), Some(0), "SIG{signal}: {stderr}");
        let got = parse(&text);
        let summary = got.summary.expect("summary record last");
        assert_eq!(summary.samples as usize, got.hosts.len());
        assert!(
            stderr.contains(&format!("hostwatch: {} samples over", got.hosts.len())),
            "SIG{signal}: {stderr}"
        );
    }
}

#[test]
fn the_end_of_a_piped_stdin_ends_it() {
    let script = format!(
        "sleep 0.5 | '{}' --interval 100ms",
        bin("hostwatch").display()
    );
    let started = Instant::now();
    let out = run_bounded(
        Command::new("bash").arg("-c").arg(script),
        Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let got = parse(&String::from_utf8(out.stdout).unwrap());
    assert!((2..=8).contains(&got.hosts.len()), "{}", got.hosts.len());
    assert!(got.summary.is_some());
}

#[test]
fn host_samples_add_up() {
    let out = run_bounded(
        cmd("hostwatch").args(["--count", "2", "--interval", "100ms"]),
        Duration::from_secs(10),
    );
    assert!(out.status.success());
    let got = parse(&String::from_utf8(out.stdout).unwrap());
    let cores = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .count();
    for h in &got.hosts {
        assert_eq!(h.cores.len(), cores);
        assert_eq!(h.cpus as usize, cores);
        assert!(h.cpu_permille <= 1000);
        assert!(h.cpu_user_permille + h.cpu_system_permille <= 1001 + h.cpu_steal_permille);
        assert!(h.mem_total_bytes > h.mem_available_bytes && h.mem_available_bytes > 0);
        assert!(h.mem_used_bytes < h.mem_total_bytes);
        assert!(h.swap_used_bytes <= h.swap_total_bytes);
        assert!(h.net.iter().any(|n| n.iface == "lo"));
        assert!(
            (80_000_000..500_000_000).contains(&h.interval_ns),
            "{}",
            h.interval_ns
        );
    }
    assert!(got.hosts[1].ts > got.hosts[0].ts);
}

#[test]
fn children_are_watched_with_their_parent() {
    let parent = Helper::spawn(Command::new("sh").args(["-c", "sleep 5 & sleep 5 & wait"]));
    std::thread::sleep(Duration::from_millis(300));
    let pid = parent.pid().to_string();
    let out = run_bounded(
        cmd("hostwatch").args([
            "--pid",
            &pid,
            "--children",
            "--count",
            "2",
            "--interval",
            "100ms",
        ]),
        Duration::from_secs(10),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = parse(&String::from_utf8(out.stdout).unwrap());
    let last_ts = got.hosts.last().unwrap().ts;
    let last: Vec<&ProcessSample> = got.processes.iter().filter(|p| p.ts == last_ts).collect();
    assert_eq!(last.len(), 3, "sh and its two sleeps: {last:?}");
    assert!(last.iter().all(|p| p.watch == pid));
    assert_eq!(
        last.iter()
            .filter(|p| p.name == "sleep" && p.ppid == parent.pid())
            .count(),
        2
    );
    // The summary's figures add the three up.
    let summary = got.summary.unwrap();
    assert_eq!(summary.processes[0].pids.len(), 3);
}
