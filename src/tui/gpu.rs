//! GPU utilisation / memory / power through NVML, loaded at run time; "unavailable"
//! (with the reason) when there is no driver or no GPU.

use super::state::{GpuDevice, GpuInfo};

pub struct Gpu {
    nvml: Result<nvml_wrapper::Nvml, String>,
}

impl Default for Gpu {
    fn default() -> Self {
        Self::new()
    }
}

impl Gpu {
    pub fn new() -> Self {
        Self {
            nvml: nvml_wrapper::Nvml::init().map_err(|e| format!("NVML: {e}")),
        }
    }

    pub fn sample(&self) -> GpuInfo {
        let nvml = match &self.nvml {
            Ok(n) => n,
            Err(e) => {
                return GpuInfo {
                    devices: vec![],
                    unavailable: Some(short(e)),
                };
            }
        };
        let count = match nvml.device_count() {
            Ok(c) => c,
            Err(e) => {
                return GpuInfo {
                    devices: vec![],
                    unavailable: Some(short(&e.to_string())),
                };
            }
        };
        let mut devices = Vec::new();
        for i in 0..count {
            let Ok(d) = nvml.device_by_index(i) else {
                continue;
            };
            let mem = d.memory_info().ok();
            devices.push(GpuDevice {
                name: d.name().unwrap_or_else(|_| format!("GPU {i}")),
                util_percent: d.utilization_rates().map(|u| u.gpu).unwrap_or(0),
                mem_used: mem.as_ref().map_or(0, |m| m.used),
                mem_total: mem.as_ref().map_or(0, |m| m.total),
                power_w: d.power_usage().ok().map(|mw| mw as f64 / 1000.0),
            });
        }
        let unavailable = devices.is_empty().then(|| "no GPU found".to_string());
        GpuInfo {
            devices,
            unavailable,
        }
    }
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}
