//! Starts and stops runs by spawning the `svfap-tui` binary (or a stand-in in tests):
//! `launch <config> --session <dir> --detach`, `resume <run-dir> --detach`, `demo-data <dir>`.
//! Runs are separate processes (DESIGN §2); stop = SIGTERM to the pid in `status.json`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::RunStatus;
use super::layout::RunDir;

/// What a spawned command reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// What was asked, e.g. `launch demo-pretrain.toml`.
    pub what: String,
    pub ok: bool,
    /// Last lines of stdout and stderr (the error when `ok` is false).
    pub output: String,
}

#[derive(Debug, Clone)]
pub struct Launcher {
    /// The binary to run; the current executable by default.
    pub bin: PathBuf,
}

impl Default for Launcher {
    fn default() -> Self {
        let bin = std::env::var_os("SVFAP_TUI_BIN")
            .map(PathBuf::from)
            .or_else(|| std::env::current_exe().ok())
            .unwrap_or_else(|| PathBuf::from("svfap-tui"));
        Self { bin }
    }
}

impl Launcher {
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        Self { bin: bin.into() }
    }

    pub fn launch_args(config: &Path, session: &Path) -> Vec<String> {
        vec![
            "launch".into(),
            config.display().to_string(),
            "--session".into(),
            session.display().to_string(),
            "--detach".into(),
        ]
    }
    pub fn resume_args(run: &RunDir) -> Vec<String> {
        vec![
            "resume".into(),
            run.root.display().to_string(),
            "--detach".into(),
        ]
    }
    pub fn demo_data_args(out: &Path) -> Vec<String> {
        vec!["demo-data".into(), out.display().to_string()]
    }

    /// Runs `bin args…` to completion (the commands detach their workers and return),
    /// capturing output; never panics.
    pub fn run(&self, what: &str, args: &[String]) -> Outcome {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        detach(&mut cmd);
        match cmd.output() {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
                let tail = lines[lines.len().saturating_sub(6)..].join("\n");
                let ok = out.status.success();
                let output = if ok || !tail.is_empty() {
                    tail
                } else {
                    format!("exited with {}", out.status)
                };
                Outcome {
                    what: what.into(),
                    ok,
                    output,
                }
            }
            Err(e) => Outcome {
                what: what.into(),
                ok: false,
                output: format!("cannot run {}: {e}", self.bin.display()),
            },
        }
    }

    pub fn launch(&self, config: &Path, session: &Path) -> Outcome {
        let name = config
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.run(
            &format!("launch {name}"),
            &Self::launch_args(config, session),
        )
    }

    pub fn resume(&self, run: &RunDir) -> Outcome {
        self.run(&format!("resume {}", run.id()), &Self::resume_args(run))
    }

    /// `demo-data <session>/data`, then launch `config`; stops at the first failure.
    pub fn demo(&self, session: &Path, config: &Path, make_data: bool) -> Outcome {
        if make_data {
            let data = session.join("data");
            let out = self.run("demo-data", &Self::demo_data_args(&data));
            if !out.ok {
                return out;
            }
        }
        self.launch(config, session)
    }
}

/// Puts the child in its own process group so Ctrl-C in the TUI does not reach it.
fn detach(cmd: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
}

/// Sends SIGTERM to the run's worker. Only a process that provably is that worker is
/// signalled: the holder of the run's lock (see `run_lock`), whose lock the kernel drops
/// when it dies. A `running` status with no lock holder is a worker that died without
/// saying so; its pid may now belong to anyone, so nothing is sent. Errors say why not.
pub fn stop(run: &RunDir) -> Result<u32, String> {
    let status = RunStatus::read(&run.status_json()).map_err(|e| e.to_string())?;
    let Some(holder) = super::run_lock::holder(run) else {
        return Err(if status.state.is_active() {
            format!(
                "{}: no worker holds the run (it died without updating status.json); \
                 nothing to stop, `r` resumes it",
                run.id()
            )
        } else {
            format!("{} is {}, not running", run.id(), status.state.as_str())
        });
    };
    let pid = holder.pid;
    if pid == 0 || pid > i32::MAX as u32 {
        return Err(format!("{}: the run lock names no pid", run.id()));
    }
    if holder.host != super::host::hostname() {
        return Err(format!(
            "{} runs on host {}, not here",
            run.id(),
            holder.host
        ));
    }
    // SAFETY: kill(2) with a positive pid and SIGTERM has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    if rc == 0 {
        Ok(pid)
    } else {
        Err(format!("kill {pid}: {}", std::io::Error::last_os_error()))
    }
}
