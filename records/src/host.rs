//! Host and process samples from `hostwatch` (`kind: host`, `kind: process`,
//! `kind: host_summary`).
//!
//! Shares of CPU time are integers in permille (‰, thousandths): a host's or
//! a core's `cpu_permille` is its share of that capacity (1000 = every core
//! busy), a process's is its share of *one* core, as `top` shows it (a process
//! busy on four cores reads 4000). Counters of the network and the disks are
//! what moved during the sample's interval (`interval_ns`), not totals since
//! boot. Memory and sizes are bytes.

use serde::{Deserialize, Serialize};

/// One sample of the whole machine (`kind: host`): CPU over the interval that
/// ends at `ts`, memory and load average at `ts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostSample {
    /// Unix epoch nanoseconds, the end of the interval.
    pub ts: u64,
    /// Length of the interval the CPU, network and disk figures cover.
    pub interval_ns: u64,
    /// Online cores.
    pub cpus: u32,
    /// Busy share of all cores: everything but idle and iowait.
    pub cpu_permille: u32,
    /// user + nice.
    pub cpu_user_permille: u32,
    /// system + irq + softirq.
    pub cpu_system_permille: u32,
    pub cpu_iowait_permille: u32,
    /// Time a hypervisor gave to others while this machine wanted to run.
    pub cpu_steal_permille: u32,
    /// One per core, in the kernel's order.
    #[serde(default)]
    pub cores: Vec<CoreSample>,
    /// Load averages × 1000 (`/proc/loadavg`'s 0.52 is 520).
    pub load1_milli: u64,
    pub load5_milli: u64,
    pub load15_milli: u64,
    pub mem_total_bytes: u64,
    /// As `free` counts it: total − free − buffers − page cache − reclaimable slab.
    pub mem_used_bytes: u64,
    /// The kernel's estimate of what can be had without swapping (MemAvailable).
    pub mem_available_bytes: u64,
    /// Buffers + page cache + reclaimable slab (`free`'s buff/cache).
    pub mem_cached_bytes: u64,
    pub swap_total_bytes: u64,
    pub swap_used_bytes: u64,
    /// Network interfaces (all, or those named with `--iface`).
    #[serde(default)]
    pub net: Vec<NetSample>,
    /// Whole disks (partitions, loop and RAM devices left out).
    #[serde(default)]
    pub disks: Vec<DiskSample>,
}

/// One core's share of the interval; the fields mean what the host's do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoreSample {
    /// The kernel's number for the core (`cpu3` is 3).
    pub core: u32,
    pub cpu_permille: u32,
    pub cpu_user_permille: u32,
    pub cpu_system_permille: u32,
    pub cpu_iowait_permille: u32,
    pub cpu_steal_permille: u32,
}

/// What one network interface moved during the interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetSample {
    pub iface: String,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
}

/// What one disk read and wrote during the interval (IOPS = `reads` / interval).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskSample {
    pub device: String,
    pub read_bytes: u64,
    pub write_bytes: u64,
    /// Read requests completed.
    pub reads: u64,
    /// Write requests completed.
    pub writes: u64,
}

/// One watched process at `ts` (`kind: process`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessSample {
    /// Unix epoch nanoseconds, the end of the interval.
    pub ts: u64,
    /// Length of the interval `cpu_permille` covers.
    pub interval_ns: u64,
    /// What chose the process: the `--process` NAME or the `--pid` N it
    /// matched (a child found with `--children` carries its ancestor's).
    pub watch: String,
    pub pid: u32,
    pub ppid: u32,
    /// The kernel's name for it (`comm`, at most 15 bytes).
    pub name: String,
    /// user + system time as a share of one core.
    pub cpu_permille: u32,
    /// Resident set size.
    pub rss_bytes: u64,
    pub threads: u32,
    /// Open file descriptors; absent when /proc does not let us count them
    /// (another user's process, without the privilege).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fds: Option<u32>,
}

/// The closing record of a `hostwatch` run (`kind: host_summary`): what the
/// stderr summary says, for machines.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostSummary {
    /// First sample's interval start and last sample's `ts`, Unix epoch ns.
    pub start: u64,
    pub end: u64,
    pub samples: u64,
    pub cpu_avg_permille: u32,
    pub cpu_peak_permille: u32,
    #[serde(default)]
    pub cores: Vec<CoreSummary>,
    pub mem_used_peak_bytes: u64,
    pub mem_available_min_bytes: u64,
    pub swap_used_peak_bytes: u64,
    #[serde(default)]
    pub processes: Vec<ProcessSummary>,
}

/// Average and peak of one core over the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoreSummary {
    pub core: u32,
    pub cpu_avg_permille: u32,
    pub cpu_peak_permille: u32,
}

/// One `--pid`/`--process` over the run; the figures add up every process
/// it matched at each sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessSummary {
    pub watch: String,
    /// Every process it matched during the run.
    #[serde(default)]
    pub pids: Vec<u32>,
    /// Samples in which at least one of them was alive.
    pub samples: u64,
    pub cpu_avg_permille: u32,
    pub cpu_peak_permille: u32,
    pub rss_peak_bytes: u64,
    /// Theil–Sen slope of RSS after the warm-up, bytes per hour; absent with
    /// fewer than three samples after the warm-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_growth_bytes_per_h: Option<i64>,
    /// Processes that exited while watched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exited: Vec<ProcessExit>,
}

/// A watched process that went away during the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessExit {
    pub pid: u32,
    pub name: String,
    /// When hostwatch found it gone, Unix epoch ns.
    pub ts: u64,
}
