//! Readings of the machine itself (CPU use, memory, load), through `sysinfo`: what the
//! Monitor's side panel shows where there is no GPU to show (no NVML, a CPU run), so that
//! a CPU run is watched as well as a GPU one.

/// One reading of the machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostReadings {
    /// Busy share of all cores, 0–100.
    pub cpu_percent: f32,
    pub cores: usize,
    pub mem_used: u64,
    pub mem_total: u64,
    /// One-minute load average.
    pub load1: f64,
}

/// Reads the machine; CPU use is the share since the previous `read` (the first reading
/// after start-up is taken over the first second).
pub struct HostSampler {
    system: sysinfo::System,
}

impl Default for HostSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl HostSampler {
    pub fn new() -> Self {
        let mut system = sysinfo::System::new();
        system.refresh_cpu_usage();
        Self { system }
    }

    pub fn read(&mut self) -> HostReadings {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        HostReadings {
            cpu_percent: self.system.global_cpu_usage(),
            cores: self.system.cpus().len(),
            mem_used: self.system.used_memory(),
            mem_total: self.system.total_memory(),
            load1: sysinfo::System::load_average().one,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_of_this_machine_is_plausible() {
        let mut s = HostSampler::new();
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        let r = s.read();
        assert!(r.cores >= 1);
        assert!(r.mem_total > 0 && r.mem_used <= r.mem_total, "{r:?}");
        assert!((0.0..=100.0).contains(&r.cpu_percent), "{r:?}");
    }
}
