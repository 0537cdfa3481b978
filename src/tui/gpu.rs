//! GPU readings (name, utilisation, memory, power per device) from a [`GpuSource`]: NVML,
//! loaded at run time, in the app; "unavailable" with the reason when there is no driver or
//! no GPU. Sources are read off the UI thread, at most once a second ([`poll`]).

use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuDevice {
    pub name: String,
    pub util_percent: u32,
    pub mem_used: u64,
    pub mem_total: u64,
    pub power_w: Option<f64>,
}

/// What the GPU panel shows: plain data, whichever source it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum GpuReadings {
    /// Before the first reading.
    #[default]
    NotYet,
    /// Why there is nothing (no NVML library, no driver, no GPU).
    Unavailable(String),
    Devices(Vec<GpuDevice>),
}

/// Where GPU readings come from.
pub trait GpuSource {
    fn read(&mut self) -> GpuReadings;
    /// False once readings can no longer change (NVML failed to load), so polling stops.
    fn live(&self) -> bool;
}

/// How often [`poll`] reads in the app.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// Reads `source` every `every` and hands each reading that differs from the one before to
/// `send`, until `send` returns false or the source is no longer live.
pub fn poll(
    source: &mut dyn GpuSource,
    every: Duration,
    mut send: impl FnMut(GpuReadings) -> bool,
) {
    let mut last: Option<GpuReadings> = None;
    loop {
        let readings = source.read();
        if last.as_ref() != Some(&readings) {
            if !send(readings.clone()) {
                return;
            }
            last = Some(readings);
        }
        if !source.live() {
            return;
        }
        std::thread::sleep(every);
    }
}

/// NVML through `nvml-wrapper`, or why it could not be loaded.
pub struct Nvml(Result<nvml_wrapper::Nvml, String>);

impl Nvml {
    pub fn init() -> Self {
        Self(nvml_wrapper::Nvml::init().map_err(|e| short(&format!("NVML: {e}"))))
    }
}

impl GpuSource for Nvml {
    fn read(&mut self) -> GpuReadings {
        let nvml = match &self.0 {
            Ok(n) => n,
            Err(e) => return GpuReadings::Unavailable(e.clone()),
        };
        let count = match nvml.device_count() {
            Ok(c) => c,
            Err(e) => return GpuReadings::Unavailable(short(&format!("NVML: {e}"))),
        };
        let devices: Vec<GpuDevice> = (0..count)
            .filter_map(|i| {
                let d = nvml.device_by_index(i).ok()?;
                let mem = d.memory_info().ok();
                Some(GpuDevice {
                    name: d.name().unwrap_or_else(|_| format!("GPU {i}")),
                    util_percent: d.utilization_rates().map(|u| u.gpu).unwrap_or(0),
                    mem_used: mem.as_ref().map_or(0, |m| m.used),
                    mem_total: mem.as_ref().map_or(0, |m| m.total),
                    power_w: d.power_usage().ok().map(|mw| mw as f64 / 1000.0),
                })
            })
            .collect();
        if devices.is_empty() {
            GpuReadings::Unavailable("no GPU found".into())
        } else {
            GpuReadings::Devices(devices)
        }
    }

    fn live(&self) -> bool {
        self.0.is_ok()
    }
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `readings` in turn; dead after the last.
    struct Scripted(Vec<GpuReadings>);

    impl GpuSource for Scripted {
        fn read(&mut self) -> GpuReadings {
            self.0.remove(0)
        }
        fn live(&self) -> bool {
            !self.0.is_empty()
        }
    }

    fn device(util: u32) -> GpuReadings {
        GpuReadings::Devices(vec![GpuDevice {
            name: "A".into(),
            util_percent: util,
            ..Default::default()
        }])
    }

    #[test]
    fn a_source_that_cannot_load_is_read_once_and_reported_once() {
        let mut source = Scripted(vec![GpuReadings::Unavailable("NVML: no driver".into())]);
        let mut sent = Vec::new();
        poll(&mut source, Duration::ZERO, |r| {
            sent.push(r);
            true
        });
        assert_eq!(sent, [GpuReadings::Unavailable("NVML: no driver".into())]);
    }

    #[test]
    fn only_changed_readings_are_sent() {
        let mut source = Scripted(vec![device(5), device(5), device(7), device(7), device(5)]);
        let mut sent = Vec::new();
        poll(&mut source, Duration::ZERO, |r| {
            sent.push(r);
            true
        });
        assert_eq!(sent, [device(5), device(7), device(5)]);
    }

    #[test]
    fn polling_stops_when_nobody_listens() {
        let mut source = Scripted(vec![device(1), device(2), device(3)]);
        let mut calls = 0;
        poll(&mut source, Duration::ZERO, |_| {
            calls += 1;
            false
        });
        assert_eq!((calls, source.0.len()), (1, 2));
    }
}
