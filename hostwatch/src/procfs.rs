//! Reading Linux's `/proc`: one function per file, each split into the read
//! and a parser over its text, so the parsers are tested on fixed input.
//!
//! Counters are read raw (clock ticks, sectors, bytes since boot); turning
//! two readings into shares and deltas is [`crate::host`]'s and
//! [`crate::procs`]'s job.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where `/proc` is (a directory of fixtures in tests), and the kernel's
/// clock-tick rate and page size, which turn raw counters into seconds and
/// bytes.
#[derive(Clone, Debug)]
pub struct Proc {
    pub root: PathBuf,
    /// USER_HZ: the unit of every CPU-time counter in /proc.
    pub clock_ticks: u64,
    pub page_size: u64,
}

/// CPU time counters of `/proc/stat` for the whole machine or one core, in clock ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

impl CpuTimes {
    /// Every tick the kernel accounted (guest time is already inside user).
    pub fn total(&self) -> u64 {
        self.user
            + self.nice
            + self.system
            + self.idle
            + self.iowait
            + self.irq
            + self.softirq
            + self.steal
    }
}

/// `/proc/stat`: the machine's line, then each core's by number.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stat {
    pub all: CpuTimes,
    pub cores: BTreeMap<u32, CpuTimes>,
}

/// `/proc/meminfo`, the fields we use, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemInfo {
    pub total: u64,
    pub free: u64,
    pub available: u64,
    pub buffers: u64,
    pub cached: u64,
    pub sreclaimable: u64,
    pub swap_total: u64,
    pub swap_free: u64,
}

/// Counters of one network interface since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetCounters {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
}

/// Counters of one block device since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskCounters {
    pub reads: u64,
    pub read_sectors: u64,
    pub writes: u64,
    pub write_sectors: u64,
}

/// What `/proc/PID/stat` tells about one process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub comm: String,
    pub state: char,
    pub ppid: u32,
    /// utime + stime, clock ticks, all threads.
    pub cpu_ticks: u64,
    pub threads: u32,
    /// Clock ticks after boot; with the pid, names one process across pid reuse.
    pub start_ticks: u64,
    pub rss_pages: u64,
}

impl ProcStat {
    /// A zombie (or a dead task not yet gone) has ended; only its parent's wait is missing.
    pub fn ended(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Diskstats reports sectors of 512 bytes whatever the device's own size.
pub const SECTOR_BYTES: u64 = 512;

impl Proc {
    /// The real `/proc` (or `root`), with clock rate and page size from our
    /// own auxiliary vector (falling back to Linux's 100 Hz and 4 KiB).
    ///
    /// Fails with a message for people when `root` does not look like Linux's /proc.
    pub fn open(root: &Path) -> Result<Proc, String> {
        let stat = root.join("stat");
        if let Err(err) = fs::read_to_string(&stat)
            .map_err(|e| e.to_string())
            .and_then(|text| parse_stat(&text).map(|_| ()))
        {
            return Err(format!(
                "cannot read {}: {err}; hostwatch needs Linux's /proc file system \
                 (on another system, or in a container without /proc, it cannot sample)",
                stat.display()
            ));
        }
        let (clock_ticks, page_size) = fs::read("/proc/self/auxv")
            .map(|bytes| auxv_values(&bytes))
            .unwrap_or((None, None));
        Ok(Proc {
            root: root.to_path_buf(),
            clock_ticks: clock_ticks.filter(|&t| t > 0).unwrap_or(100),
            page_size: page_size.filter(|&p| p > 0).unwrap_or(4096),
        })
    }

    fn read(&self, name: &str) -> io::Result<String> {
        fs::read_to_string(self.root.join(name))
    }

    pub fn stat(&self) -> anyhow::Result<Stat> {
        parse_stat(&self.read("stat")?).map_err(anyhow::Error::msg)
    }

    pub fn meminfo(&self) -> anyhow::Result<MemInfo> {
        Ok(parse_meminfo(&self.read("meminfo")?))
    }

    /// `(load1, load5, load15)` × 1000.
    pub fn loadavg(&self) -> anyhow::Result<(u64, u64, u64)> {
        parse_loadavg(&self.read("loadavg")?).map_err(anyhow::Error::msg)
    }

    /// Interfaces of our network namespace.
    pub fn net_dev(&self) -> anyhow::Result<Vec<(String, NetCounters)>> {
        Ok(parse_net_dev(&self.read("net/dev")?))
    }

    pub fn diskstats(&self) -> anyhow::Result<Vec<(String, DiskCounters)>> {
        Ok(parse_diskstats(&self.read("diskstats")?))
    }

    /// Seconds since boot (`/proc/uptime`), the clock of `start_ticks`.
    pub fn uptime(&self) -> Option<f64> {
        self.read("uptime")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// The pids in /proc now.
    pub fn pids(&self) -> io::Result<Vec<u32>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                out.push(pid);
            }
        }
        Ok(out)
    }

    /// `None` when the process is gone.
    pub fn proc_stat(&self, pid: u32) -> Option<ProcStat> {
        let text = fs::read_to_string(self.root.join(pid.to_string()).join("stat")).ok()?;
        parse_proc_stat(&text)
    }

    /// argv\[0\]'s last path component, when readable (kernel threads have none).
    pub fn argv0_name(&self, pid: u32) -> Option<String> {
        let bytes = fs::read(self.root.join(pid.to_string()).join("cmdline")).ok()?;
        let first = bytes.split(|&b| b == 0).next()?;
        let text = String::from_utf8_lossy(first);
        let name = text.rsplit('/').next()?.to_string();
        (!name.is_empty()).then_some(name)
    }

    /// Open descriptors; `None` when we may not look (another user's process).
    pub fn fd_count(&self, pid: u32) -> Option<u32> {
        let dir = fs::read_dir(self.root.join(pid.to_string()).join("fd")).ok()?;
        Some(dir.count() as u32)
    }

    /// Whole disks: those /sys/block lists, without loop, RAM and zram devices.
    /// Without /sys, device names that end in a digit after a letter
    /// (partitions such as sda1) are left out instead.
    pub fn is_whole_disk(name: &str, sys_block: Option<&[String]>) -> bool {
        if ["loop", "ram", "zram", "fd"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            return false;
        }
        match sys_block {
            Some(list) => list.iter().any(|n| n == name),
            None => {
                !(name.starts_with("sd") || name.starts_with("vd") || name.starts_with("hd"))
                    || !name.ends_with(|c: char| c.is_ascii_digit())
            }
        }
    }
}

/// Devices in /sys/block, if there is a /sys.
pub fn sys_block() -> Option<Vec<String>> {
    let dir = fs::read_dir("/sys/block").ok()?;
    Some(
        dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect(),
    )
}

/// AT_CLKTCK and AT_PAGESZ from an auxiliary vector (native-endian word pairs).
fn auxv_values(bytes: &[u8]) -> (Option<u64>, Option<u64>) {
    const AT_PAGESZ: u64 = 6;
    const AT_CLKTCK: u64 = 17;
    let word = std::mem::size_of::<usize>();
    let read = |chunk: &[u8]| -> u64 {
        let mut buf = [0u8; 8];
        if cfg!(target_endian = "little") {
            buf[..word].copy_from_slice(chunk);
            u64::from_le_bytes(buf)
        } else {
            buf[8 - word..].copy_from_slice(chunk);
            u64::from_be_bytes(buf)
        }
    };
    let (mut ticks, mut page) = (None, None);
    for pair in bytes.chunks_exact(2 * word) {
        let (key, value) = (read(&pair[..word]), read(&pair[word..]));
        match key {
            0 => break,
            AT_CLKTCK => ticks = Some(value),
            AT_PAGESZ => page = Some(value),
            _ => {}
        }
    }
    (ticks, page)
}

fn numbers(fields: &[&str]) -> Vec<u64> {
    fields.iter().map(|f| f.parse().unwrap_or(0)).collect()
}

pub fn parse_stat(text: &str) -> Result<Stat, String> {
    let mut stat = Stat::default();
    let mut seen_all = false;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(label) = fields.next() else { continue };
        let Some(rest) = label.strip_prefix("cpu") else {
            continue;
        };
        let v = numbers(&fields.collect::<Vec<_>>());
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        let times = CpuTimes {
            user: at(0),
            nice: at(1),
            system: at(2),
            idle: at(3),
            iowait: at(4),
            irq: at(5),
            softirq: at(6),
            steal: at(7),
        };
        if rest.is_empty() {
            stat.all = times;
            seen_all = true;
        } else if let Ok(core) = rest.parse() {
            stat.cores.insert(core, times);
        }
    }
    if !seen_all {
        return Err("no `cpu` line".into());
    }
    Ok(stat)
}

pub fn parse_meminfo(text: &str) -> MemInfo {
    let mut m = MemInfo::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let value: u64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        let bytes = match parts.next() {
            Some("kB") => value.saturating_mul(1024),
            _ => value,
        };
        match key {
            "MemTotal" => m.total = bytes,
            "MemFree" => m.free = bytes,
            "MemAvailable" => m.available = bytes,
            "Buffers" => m.buffers = bytes,
            "Cached" => m.cached = bytes,
            "SReclaimable" => m.sreclaimable = bytes,
            "SwapTotal" => m.swap_total = bytes,
            "SwapFree" => m.swap_free = bytes,
            _ => {}
        }
    }
    m
}

pub fn parse_loadavg(text: &str) -> Result<(u64, u64, u64), String> {
    let milli = |s: Option<&str>| -> Result<u64, String> {
        let s = s.ok_or("short /proc/loadavg")?;
        let v: f64 = s.parse().map_err(|_| format!("bad load average `{s}`"))?;
        Ok((v * 1000.0).round() as u64)
    };
    let mut f = text.split_whitespace();
    Ok((milli(f.next())?, milli(f.next())?, milli(f.next())?))
}

pub fn parse_net_dev(text: &str) -> Vec<(String, NetCounters)> {
    let mut out = Vec::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let v = numbers(&rest.split_whitespace().collect::<Vec<_>>());
        if v.len() < 10 {
            continue;
        }
        out.push((
            name.trim().to_string(),
            NetCounters {
                rx_bytes: v[0],
                rx_packets: v[1],
                tx_bytes: v[8],
                tx_packets: v[9],
            },
        ));
    }
    out
}

pub fn parse_diskstats(text: &str) -> Vec<(String, DiskCounters)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let v = numbers(&f[3..10]);
        out.push((
            f[2].to_string(),
            DiskCounters {
                reads: v[0],
                read_sectors: v[2],
                writes: v[4],
                write_sectors: v[6],
            },
        ));
    }
    out
}

/// The command name may hold spaces and parentheses: it ends at the last `)`.
pub fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text.get(open + 1..close)?.to_string();
    let f: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let num = |i: usize| -> Option<u64> { f.get(i)?.parse().ok() };
    Some(ProcStat {
        pid,
        comm,
        state: f.first()?.chars().next()?,
        ppid: num(1)? as u32,
        cpu_ticks: num(11)? + num(12)?,
        threads: num(17)? as u32,
        start_ticks: num(19)?,
        rss_pages: num(21)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_stat() {
        let text = "cpu  42080 1 10597 14710 496 3 206 1703 7 0\n\
                    cpu0 20628 0 4751 8616 82 0 17 792 0 0\n\
                    cpu1 21451 0 5845 6093 413 0 188 910 0 0\n\
                    intr 1 2 3\nctxt 5\n";
        let s = parse_stat(text).unwrap();
        assert_eq!(s.all.user, 42080);
        assert_eq!(s.all.steal, 1703);
        assert_eq!(
            s.all.total(),
            42080 + 1 + 10597 + 14710 + 496 + 3 + 206 + 1703
        );
        assert_eq!(s.cores.len(), 2);
        assert_eq!(s.cores[&1].iowait, 413);
        assert!(parse_stat("intr 1\n").is_err());
    }

    #[test]
    fn reads_meminfo_in_bytes() {
        let m = parse_meminfo(
            "MemTotal:        8135776 kB\nMemFree:  100 kB\nMemAvailable:   6291456 kB\n\
             Buffers: 1 kB\nCached: 2 kB\nSwapCached: 9 kB\nSReclaimable: 3 kB\n\
             SwapTotal: 0 kB\nSwapFree: 0 kB\nHugePages_Total: 0\n",
        );
        assert_eq!(m.total, 8135776 * 1024);
        assert_eq!(m.available, 6291456 * 1024);
        assert_eq!((m.buffers, m.cached, m.sreclaimable), (1024, 2048, 3072));
    }

    #[test]
    fn reads_loadavg_net_and_disks() {
        assert_eq!(
            parse_loadavg("0.52 1.00 12.34 1/123 4567\n"),
            Ok((520, 1000, 12340))
        );
        let net = parse_net_dev(
            "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n\
             \x20   lo:   44876     555    0    0    0     0          0         0    44870     554    0    0    0     0       0          0\n",
        );
        assert_eq!(
            net,
            vec![(
                "lo".to_string(),
                NetCounters {
                    rx_bytes: 44876,
                    rx_packets: 555,
                    tx_bytes: 44870,
                    tx_packets: 554
                }
            )]
        );
        let disks = parse_diskstats(" 253       0 vda 100 5 2000 7 40 3 800 9 0 10 20\n");
        assert_eq!(
            disks[0],
            (
                "vda".to_string(),
                DiskCounters {
                    reads: 100,
                    read_sectors: 2000,
                    writes: 40,
                    write_sectors: 800
                }
            )
        );
    }

    #[test]
    fn reads_a_process_with_an_awkward_name() {
        let text = "17646 (a (b) c) R 17516 17516 8327 0 -1 4194304 100 0 0 0 7 3 0 0 20 0 4 0 34909 3133440 411 18446744073709551615 0";
        let p = parse_proc_stat(text).unwrap();
        assert_eq!(p.pid, 17646);
        assert_eq!(p.comm, "a (b) c");
        assert_eq!((p.state, p.ppid), ('R', 17516));
        assert_eq!((p.cpu_ticks, p.threads), (10, 4));
        assert_eq!((p.start_ticks, p.rss_pages), (34909, 411));
        assert!(!p.ended());
        assert!(parse_proc_stat("garbage").is_none());
    }

    #[test]
    fn whole_disks_only() {
        let sys = vec![
            "vda".to_string(),
            "loop0".to_string(),
            "nvme0n1".to_string(),
        ];
        assert!(Proc::is_whole_disk("vda", Some(&sys)));
        assert!(!Proc::is_whole_disk("vda1", Some(&sys)));
        assert!(!Proc::is_whole_disk("loop0", Some(&sys)));
        assert!(Proc::is_whole_disk("nvme0n1", Some(&sys)));
        assert!(!Proc::is_whole_disk("sda1", None));
        assert!(Proc::is_whole_disk("sda", None));
    }

    #[test]
    fn our_own_auxv_names_the_clock_and_page() {
        let bytes = std::fs::read("/proc/self/auxv").unwrap();
        let (ticks, page) = auxv_values(&bytes);
        assert_eq!(ticks, Some(100));
        assert!(page.is_some_and(|p| p >= 4096), "{page:?}");
    }
}
