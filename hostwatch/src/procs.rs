//! Watched processes: finding them (`--pid`, `--process`, `--children`),
//! sampling each from `/proc/PID`, and noticing when one goes away.
//!
//! Matching by name rescans /proc every interval, so processes that start
//! later (a restarted server, new workers) are picked up; what was already
//! looked at is remembered by pid, so a rescan reads only new processes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use records::{ProcessExit, ProcessSample};

use crate::procfs::Proc;

/// What `--pid` or `--process` asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    Pid(u32),
    /// The kernel's name for the process (`comm`) or argv\[0\]'s file name.
    Name(String),
}

impl Selector {
    /// How samples and thresholds name it: the name, or the pid as text.
    pub fn label(&self) -> String {
        match self {
            Selector::Pid(pid) => pid.to_string(),
            Selector::Name(name) => name.clone(),
        }
    }

    /// How people are told about it.
    pub fn describe(&self) -> String {
        match self {
            Selector::Pid(pid) => format!("--pid {pid}"),
            Selector::Name(name) => format!("--process {name}"),
        }
    }
}

/// What a scan learned about a pid, kept until the pid is gone.
#[derive(Clone, Debug)]
struct Known {
    ppid: u32,
    /// The first selector whose name it matches.
    named: Option<usize>,
    /// A young process may still exec its real program (a shell or a
    /// launcher forks, then execs `tasktracker`): its name is looked at
    /// again until then.
    recheck_until: Option<Instant>,
}

/// How long after its start a process's name is looked at again.
const RECHECK_YOUNG: Duration = Duration::from_secs(3);

/// The previous reading of a watched process.
#[derive(Clone, Debug)]
struct Last {
    start_ticks: u64,
    cpu_ticks: u64,
    at: Instant,
    selector: usize,
    name: String,
}

pub struct Watcher {
    pub selectors: Vec<Selector>,
    children: bool,
    own_pid: u32,
    known: HashMap<u32, Known>,
    last: HashMap<u32, Last>,
    /// Every pid each selector matched during the run.
    pub pids: Vec<BTreeSet<u32>>,
    /// Watched processes that went away, with the selector that had them.
    pub exits: Vec<(usize, ProcessExit)>,
}

impl Watcher {
    pub fn new(selectors: Vec<Selector>, children: bool) -> Watcher {
        let n = selectors.len();
        Watcher {
            selectors,
            children,
            own_pid: std::process::id(),
            known: HashMap::new(),
            last: HashMap::new(),
            pids: vec![BTreeSet::new(); n],
            exits: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.selectors.is_empty()
    }

    fn scans(&self) -> bool {
        self.children
            || self
                .selectors
                .iter()
                .any(|s| matches!(s, Selector::Name(_)))
    }

    /// The processes to watch now, each with the selector that chose it.
    pub fn current(&mut self, proc: &Proc) -> BTreeMap<u32, usize> {
        let mut out = BTreeMap::new();
        if self.scans() {
            self.rescan(proc);
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if let Selector::Pid(pid) = s {
                // Without a scan, whether it still runs is found out when
                // it is read (one read of its stat per tick, not two).
                if !self.scans() || self.known.contains_key(pid) {
                    out.entry(*pid).or_insert(i);
                }
            }
        }
        for (&pid, known) in &self.known {
            if let Some(i) = known.named {
                out.entry(pid).or_insert(i);
            }
        }
        if self.children {
            let mut kids: HashMap<u32, Vec<u32>> = HashMap::new();
            for (&pid, known) in &self.known {
                kids.entry(known.ppid).or_default().push(pid);
            }
            let mut queue: Vec<(u32, usize)> = out.iter().map(|(&p, &i)| (p, i)).collect();
            while let Some((pid, i)) = queue.pop() {
                for &child in kids.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
                    if child != self.own_pid && !out.contains_key(&child) {
                        out.insert(child, i);
                        queue.push((child, i));
                    }
                }
            }
        }
        out
    }

    /// Selectors that match no running process now.
    pub fn unmatched(&mut self, proc: &Proc) -> Vec<Selector> {
        let now = self.current(proc);
        let found: BTreeSet<usize> = now
            .iter()
            .filter(|(&pid, _)| proc.proc_stat(pid).is_some_and(|p| !p.ended()))
            .map(|(_, &i)| i)
            .collect();
        self.selectors
            .iter()
            .enumerate()
            .filter(|(i, _)| !found.contains(i))
            .map(|(_, s)| s.clone())
            .collect()
    }

    fn rescan(&mut self, proc: &Proc) {
        let Ok(pids) = proc.pids() else { return };
        let present: BTreeSet<u32> = pids.iter().copied().collect();
        self.known.retain(|pid, _| present.contains(pid));
        let now = Instant::now();
        let uptime = proc.uptime();
        for pid in pids {
            if pid == self.own_pid {
                continue;
            }
            let seen = self.known.get(&pid);
            if seen.is_some_and(|k| k.recheck_until.is_none_or(|t| t <= now)) {
                continue;
            }
            let Some(stat) = proc.proc_stat(pid) else {
                continue;
            };
            // A zombie stays in /proc until reaped; it is not watched.
            if stat.ended() {
                self.known.remove(&pid);
                continue;
            }
            let mut argv0 = None;
            let named = self.selectors.iter().position(|s| match s {
                Selector::Name(name) => {
                    *name == stat.comm
                        || argv0.get_or_insert_with(|| proc.argv0_name(pid)).as_deref()
                            == Some(name.as_str())
                }
                Selector::Pid(_) => false,
            });
            let recheck_until = match seen {
                Some(k) => k.recheck_until.filter(|_| named.is_none()),
                None if named.is_some() => None,
                None => uptime.and_then(|up| {
                    let age = up - stat.start_ticks as f64 / proc.clock_ticks as f64;
                    (age < RECHECK_YOUNG.as_secs_f64()).then(|| {
                        now + RECHECK_YOUNG
                            .mul_f64(1.0 - age.max(0.0) / RECHECK_YOUNG.as_secs_f64())
                    })
                }),
            };
            self.known.insert(
                pid,
                Known {
                    ppid: stat.ppid,
                    named,
                    recheck_until,
                },
            );
        }
    }

    /// Takes readings of the processes to watch; returns samples of those
    /// read before (a process seen for the first time gives its first sample
    /// one interval later), and notes the ones that went away.
    pub fn sample(&mut self, proc: &Proc, ts: u64) -> Vec<ProcessSample> {
        let watched = self.current(proc);
        let mut out = Vec::new();
        let mut next: HashMap<u32, Last> = HashMap::with_capacity(watched.len());
        for (&pid, &selector) in &watched {
            let Some(stat) = proc.proc_stat(pid).filter(|s| !s.ended()) else {
                continue;
            };
            let at = Instant::now();
            if let Some(last) = self
                .last
                .get(&pid)
                .filter(|l| l.start_ticks == stat.start_ticks)
            {
                let secs = at.duration_since(last.at).as_secs_f64();
                let cpu_secs =
                    stat.cpu_ticks.saturating_sub(last.cpu_ticks) as f64 / proc.clock_ticks as f64;
                let cpu_permille = if secs > 0.0 {
                    (cpu_secs / secs * 1000.0).round() as u32
                } else {
                    0
                };
                out.push(ProcessSample {
                    ts,
                    interval_ns: at.duration_since(last.at).as_nanos() as u64,
                    watch: self.selectors[selector].label(),
                    pid,
                    ppid: stat.ppid,
                    name: stat.comm.clone(),
                    cpu_permille,
                    rss_bytes: stat.rss_pages * proc.page_size,
                    threads: stat.threads,
                    fds: proc.fd_count(pid),
                });
            }
            self.pids[selector].insert(pid);
            next.insert(
                pid,
                Last {
                    start_ticks: stat.start_ticks,
                    cpu_ticks: stat.cpu_ticks,
                    at,
                    selector,
                    name: stat.comm,
                },
            );
        }
        for (pid, last) in self.last.drain() {
            if next.contains_key(&pid) {
                continue;
            }
            // Out of the watched set but still running (say, reparented away
            // from a --children tree): not an exit.
            let running = proc
                .proc_stat(pid)
                .is_some_and(|s| !s.ended() && s.start_ticks == last.start_ticks);
            if !running {
                eprintln!(
                    "hostwatch: process {pid} ({}) of {} exited; host sampling goes on",
                    last.name,
                    self.selectors[last.selector].describe()
                );
                self.exits.push((
                    last.selector,
                    ProcessExit {
                        pid,
                        name: last.name,
                        ts,
                    },
                ));
            }
        }
        self.last = next;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn proc() -> Proc {
        Proc::open(Path::new("/proc")).unwrap()
    }

    #[test]
    fn finds_a_child_by_pid_and_by_name_and_notes_its_exit() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let p = proc();
        let mut w = Watcher::new(
            vec![
                Selector::Pid(pid),
                Selector::Name("no-such-name-xyz".into()),
            ],
            false,
        );
        assert_eq!(
            w.unmatched(&p),
            vec![Selector::Name("no-such-name-xyz".into())]
        );
        assert!(w.sample(&p, 1).is_empty(), "first reading is the baseline");
        let samples = w.sample(&p, 2);
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].pid, pid);
        assert_eq!(samples[0].name, "sleep");
        assert_eq!(samples[0].watch, pid.to_string());
        // RSS is the kernel's per-CPU batched count: a fresh `sleep` may read 0.
        assert_eq!(samples[0].threads, 1);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(w.sample(&p, 3).is_empty());
        assert_eq!(w.exits.len(), 1);
        assert_eq!(w.exits[0].1.pid, pid);

        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let mut w = Watcher::new(vec![Selector::Name("sleep".into())], false);
        assert!(w.current(&p).contains_key(&child.id()));
        child.kill().unwrap();
        // Not yet reaped: a zombie, which is not watched.
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!Watcher::new(vec![Selector::Name("sleep".into())], false)
            .current(&p)
            .contains_key(&child.id()));
        child.wait().unwrap();
    }
}
