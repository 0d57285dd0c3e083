//! The machine's sample: two readings of /proc's counters turned into shares
//! of the interval between them, plus memory and load at the second.

use std::collections::HashMap;

use records::{CoreSample, DiskSample, HostSample, NetSample};

use crate::procfs::{
    sys_block, CpuTimes, DiskCounters, MemInfo, NetCounters, Proc, Stat, SECTOR_BYTES,
};

/// Keeps the previous reading of every counter.
pub struct HostSampler {
    /// Interfaces to report; empty for all.
    ifaces: Vec<String>,
    /// Whole-disk names from /sys/block (read once: disks seldom come and go).
    sys_block: Option<Vec<String>>,
    last: Option<Counters>,
}

struct Counters {
    stat: Stat,
    net: HashMap<String, NetCounters>,
    disks: HashMap<String, DiskCounters>,
}

impl HostSampler {
    pub fn new(ifaces: Vec<String>) -> HostSampler {
        HostSampler {
            ifaces,
            sys_block: sys_block(),
            last: None,
        }
    }

    /// Names given with --iface that this machine does not have.
    pub fn missing_ifaces(&self, proc: &Proc) -> anyhow::Result<Vec<String>> {
        let have: Vec<String> = proc.net_dev()?.into_iter().map(|(n, _)| n).collect();
        Ok(self
            .ifaces
            .iter()
            .filter(|i| !have.contains(i))
            .cloned()
            .collect())
    }

    fn read(&self, proc: &Proc) -> anyhow::Result<Counters> {
        let net = proc
            .net_dev()?
            .into_iter()
            .filter(|(name, _)| self.ifaces.is_empty() || self.ifaces.contains(name))
            .collect();
        let disks = proc
            .diskstats()?
            .into_iter()
            .filter(|(name, _)| Proc::is_whole_disk(name, self.sys_block.as_deref()))
            .collect();
        Ok(Counters {
            stat: proc.stat()?,
            net,
            disks,
        })
    }

    /// Takes the first reading; samples are differences from it.
    pub fn baseline(&mut self, proc: &Proc) -> anyhow::Result<()> {
        self.last = Some(self.read(proc)?);
        Ok(())
    }

    /// A sample of the interval since the previous reading, which ended
    /// `interval_ns` ago; `ts` is now.
    pub fn sample(&mut self, proc: &Proc, ts: u64, interval_ns: u64) -> anyhow::Result<HostSample> {
        let now = self.read(proc)?;
        let mem = proc.meminfo()?;
        let (load1, load5, load15) = proc.loadavg()?;
        let before = self.last.replace(now);
        let now = self.last.as_ref().unwrap();
        let before = before.as_ref().unwrap_or(now);

        let all = shares(&before.stat.all, &now.stat.all);
        let cores = now
            .stat
            .cores
            .iter()
            .map(|(&core, times)| {
                let prev = before.stat.cores.get(&core).unwrap_or(times);
                let s = shares(prev, times);
                CoreSample {
                    core,
                    cpu_permille: s.busy,
                    cpu_user_permille: s.user,
                    cpu_system_permille: s.system,
                    cpu_iowait_permille: s.iowait,
                    cpu_steal_permille: s.steal,
                }
            })
            .collect::<Vec<_>>();
        let mut net: Vec<NetSample> = now
            .net
            .iter()
            .map(|(iface, c)| {
                let p = before.net.get(iface).unwrap_or(c);
                NetSample {
                    iface: iface.clone(),
                    rx_bytes: c.rx_bytes.saturating_sub(p.rx_bytes),
                    tx_bytes: c.tx_bytes.saturating_sub(p.tx_bytes),
                    rx_packets: c.rx_packets.saturating_sub(p.rx_packets),
                    tx_packets: c.tx_packets.saturating_sub(p.tx_packets),
                }
            })
            .collect();
        net.sort_by(|a, b| a.iface.cmp(&b.iface));
        let mut disks: Vec<DiskSample> = now
            .disks
            .iter()
            .map(|(device, c)| {
                let p = before.disks.get(device).unwrap_or(c);
                DiskSample {
                    device: device.clone(),
                    read_bytes: c.read_sectors.saturating_sub(p.read_sectors) * SECTOR_BYTES,
                    write_bytes: c.write_sectors.saturating_sub(p.write_sectors) * SECTOR_BYTES,
                    reads: c.reads.saturating_sub(p.reads),
                    writes: c.writes.saturating_sub(p.writes),
                }
            })
            .collect();
        disks.sort_by(|a, b| a.device.cmp(&b.device));
        let (mem_used, mem_cached) = used_and_cached(&mem);
        Ok(HostSample {
            ts,
            interval_ns,
            cpus: cores.len().max(1) as u32,
            cpu_permille: all.busy,
            cpu_user_permille: all.user,
            cpu_system_permille: all.system,
            cpu_iowait_permille: all.iowait,
            cpu_steal_permille: all.steal,
            cores,
            load1_milli: load1,
            load5_milli: load5,
            load15_milli: load15,
            mem_total_bytes: mem.total,
            mem_used_bytes: mem_used,
            mem_available_bytes: mem.available,
            mem_cached_bytes: mem_cached,
            swap_total_bytes: mem.swap_total,
            swap_used_bytes: mem.swap_total.saturating_sub(mem.swap_free),
            net,
            disks,
        })
    }
}

/// `free`'s used and buff/cache.
fn used_and_cached(m: &MemInfo) -> (u64, u64) {
    let cached = m.buffers + m.cached + m.sreclaimable;
    let used = m.total.saturating_sub(m.free).saturating_sub(cached);
    (used, cached)
}

/// Permille shares of one interval.
#[derive(Debug, Default, PartialEq)]
struct Shares {
    busy: u32,
    user: u32,
    system: u32,
    iowait: u32,
    steal: u32,
}

fn shares(before: &CpuTimes, after: &CpuTimes) -> Shares {
    let d = |a: u64, b: u64| a.saturating_sub(b);
    let total = d(after.total(), before.total());
    if total == 0 {
        return Shares::default();
    }
    let permille = |ticks: u64| ((ticks as f64 * 1000.0 / total as f64).round() as u32).min(1000);
    let idle = d(after.idle, before.idle);
    let iowait = d(after.iowait, before.iowait);
    Shares {
        busy: permille(total.saturating_sub(idle + iowait)),
        user: permille(d(after.user, before.user) + d(after.nice, before.nice)),
        system: permille(
            d(after.system, before.system)
                + d(after.irq, before.irq)
                + d(after.softirq, before.softirq),
        ),
        iowait: permille(iowait),
        steal: permille(d(after.steal, before.steal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_an_interval() {
        let before = CpuTimes {
            user: 100,
            idle: 100,
            ..CpuTimes::default()
        };
        let after = CpuTimes {
            user: 160,
            system: 10,
            idle: 120,
            iowait: 5,
            steal: 5,
            ..before
        };
        // 100 ticks: 60 user, 10 system, 20 idle, 5 iowait, 5 steal.
        assert_eq!(
            shares(&before, &after),
            Shares {
                busy: 750,
                user: 600,
                system: 100,
                iowait: 50,
                steal: 50
            }
        );
        assert_eq!(shares(&after, &after), Shares::default());
    }

    #[test]
    fn used_memory_as_free_counts_it() {
        let m = MemInfo {
            total: 1000,
            free: 200,
            buffers: 50,
            cached: 100,
            sreclaimable: 50,
            ..MemInfo::default()
        };
        assert_eq!(used_and_cached(&m), (600, 200));
    }
}
