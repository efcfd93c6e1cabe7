//! CPU time spent over a measurement, from the kernel's own accounts: the whole
//! machine's busy time (`/proc/stat`) and this process's (`/proc/self/stat`); and what
//! the machine wrote to its disks (`/proc/vmstat`). Divided by the work done, it says
//! what a transition costs in CPU, a figure far steadier than a rate where the
//! neighbours are other virtual machines: their load lowers our rate, but the time the
//! hypervisor takes from us is steal, not counted as busy. Other processes on this same
//! kernel are counted in the machine's figures (this process's own are not theirs).

use std::time::Instant;

use serde::Serialize;

/// One reading of the counters.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// When.
    at: Instant,
    /// Busy time of every CPU (user, nice, system, irq, softirq), clock ticks.
    machine_ticks: u64,
    /// This process's user + system time, clock ticks.
    own_ticks: u64,
    /// KiB the machine has written to block devices (`pgpgout`).
    disk_kib: u64,
    /// CPUs in `/proc/stat`.
    cpus: usize,
}

/// CPU time over a measured interval.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Usage {
    /// Wall-clock seconds.
    pub seconds: f64,
    /// CPU-seconds the whole machine was busy (this process, a local PostgreSQL server,
    /// and anything else running).
    pub machine_s: f64,
    /// CPU-seconds of this process (server, load generator, SQLite).
    pub own_s: f64,
    /// KiB the machine wrote to its disks (the WAL, and whatever else was flushed).
    pub disk_kib: f64,
    /// CPUs the kernel accounts for (the `cpuN` lines of `/proc/stat`).
    pub cpus: usize,
}

impl Usage {
    /// Machine CPU microseconds per unit of work.
    pub fn machine_us_per(&self, units: f64) -> f64 {
        1e6 * self.machine_s / units.max(1.0)
    }

    /// This process's CPU microseconds per unit of work.
    pub fn own_us_per(&self, units: f64) -> f64 {
        1e6 * self.own_s / units.max(1.0)
    }

    /// KiB written to disk per unit of work.
    pub fn disk_kib_per(&self, units: f64) -> f64 {
        self.disk_kib / units.max(1.0)
    }

    /// Share of the machine's CPUs busy over the interval.
    pub fn busy_share(&self) -> f64 {
        self.machine_s / (self.seconds * self.cpus.max(1) as f64).max(1e-9)
    }
}

fn ticks_per_s() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// The busy ticks of the aggregate `cpu` line of `/proc/stat`.
fn machine_ticks(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal …
    Some(f.first()? + f.get(1)? + f.get(2)? + f.get(5)? + f.get(6)?)
}

/// The `cpuN` lines of `/proc/stat`: the CPUs its busy time is summed over.
fn cpus(stat: &str) -> usize {
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count()
}

/// utime + stime of `/proc/self/stat` (fields 14 and 15; the command name, field 2, is
/// in parentheses and may hold spaces, so count from its closing one).
fn own_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state is field 3, so utime (14) is at index 11 and stime (15) at 12.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// `pgpgout` of `/proc/vmstat`: KiB written to block devices since boot.
fn disk_kib(vmstat: &str) -> Option<u64> {
    vmstat
        .lines()
        .find_map(|l| l.strip_prefix("pgpgout "))?
        .trim()
        .parse()
        .ok()
}

/// Read the counters now (zeros where the kernel does not offer them).
pub fn sample() -> Sample {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let stat = read("/proc/stat");
    Sample {
        at: Instant::now(),
        machine_ticks: machine_ticks(&stat).unwrap_or(0),
        cpus: cpus(&stat),
        own_ticks: own_ticks(&read("/proc/self/stat")).unwrap_or(0),
        disk_kib: disk_kib(&read("/proc/vmstat")).unwrap_or(0),
    }
}

/// The CPU time between two readings.
pub fn between(a: Sample, b: Sample) -> Usage {
    let hz = ticks_per_s();
    Usage {
        seconds: b.at.duration_since(a.at).as_secs_f64(),
        machine_s: b.machine_ticks.saturating_sub(a.machine_ticks) as f64 / hz,
        own_s: b.own_ticks.saturating_sub(a.own_ticks) as f64 / hz,
        disk_kib: b.disk_kib.saturating_sub(a.disk_kib) as f64,
        cpus: b.cpus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_line_counts_user_nice_system_irq_and_softirq_but_not_idle_iowait_or_steal() {
        let stat = "cpu  100 2 30 5000 70 4 6 900 0 0\ncpu0 50 1 15 2500 35 2 3 450 0 0\n\
                    cpu1 50 1 15 2500 35 2 3 450 0 0\nintr 12345\n";
        assert_eq!(machine_ticks(stat), Some(100 + 2 + 30 + 4 + 6));
        assert_eq!(cpus(stat), 2);
    }

    #[test]
    fn own_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
        let stat =
            "4242 (tb (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 567 0 0 20 0 9 0 1 2 3";
        assert_eq!(own_ticks(stat), Some(1234 + 567));
    }

    #[test]
    fn disk_writes_are_the_pgpgout_line() {
        let vmstat = "pgpgin 120\npgpgout 4567\npswpin 0\n";
        assert_eq!(disk_kib(vmstat), Some(4567));
        assert_eq!(disk_kib("pgpgin 1\n"), None);
    }

    #[test]
    fn usage_divides_cpu_time_by_the_work_done() {
        let u = Usage {
            seconds: 10.0,
            machine_s: 15.0,
            own_s: 9.0,
            disk_kib: 60_000.0,
            cpus: 2,
        };
        assert_eq!(u.disk_kib_per(30_000.0), 2.0);
        assert_eq!(u.machine_us_per(30_000.0), 500.0);
        assert_eq!(u.own_us_per(30_000.0), 300.0);
        assert_eq!(u.busy_share(), 0.75);
    }
}
