//! The terminal loop: one thread selects over input, session updates, images, GPU samples
//! and finished commands (gitui-style); drawing happens here only.

use std::io::IsTerminal;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::layout::Rect;
use ratatui_image::picker::{Picker, ProtocolType};

use super::action::Action;
use super::app::App;
use super::draw::draw;
use super::image_redraw::ImageRedraw;
use super::imager::{Imager, Job};
use super::loader::{Loader, LogWant, POLL_BUDGET};
use super::options::Options;
use super::request::{Request, Update, demo_name};
use crate::session::watcher::SessionWatcher;

enum Msg {
    Input(Event),
    Update(Update),
}

enum LoaderCmd {
    Rescan,
    Fs(Vec<std::path::PathBuf>),
    Log(LogWant),
}

/// How often the session is rescanned even without file events.
const RESCAN_EVERY: Duration = Duration::from_secs(2);

pub fn run(options: Options) -> Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!(
            "not a terminal: the workbench needs an interactive TTY (use `svfap-tui status` for a plain table)"
        );
    }
    let started = Instant::now();
    let protocol = options.image_protocol.clone();
    let mut app = App::new(options, Rect::default()).context("opening the session")?;
    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    let result = run_in(&mut terminal, &mut app, &protocol, started);
    ratatui::restore();
    if let Err(e) = app.save_ui_state() {
        eprintln!("warning: could not save the UI state: {e}");
    }
    result
}

fn picker_for(protocol: &str) -> Picker {
    let forced = match protocol {
        "halfblocks" => Some(ProtocolType::Halfblocks),
        "sixel" => Some(ProtocolType::Sixel),
        "kitty" => Some(ProtocolType::Kitty),
        "iterm2" => Some(ProtocolType::Iterm2),
        _ => None,
    };
    match forced {
        Some(p) => {
            let mut picker = Picker::from_query_stdio().unwrap_or_else(|_| Picker::halfblocks());
            picker.set_protocol_type(p);
            picker
        }
        None => Picker::from_query_stdio().unwrap_or_else(|_| Picker::halfblocks()),
    }
}

fn run_in(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    protocol: &str,
    started: Instant,
) -> Result<()> {
    let size = terminal.size()?;
    app.handle(Action::Resize(size.width, size.height));
    // First frame before anything slow (terminal queries, scans).
    terminal.draw(|f| draw(&app.state, f))?;
    // Session reading starts before the (possibly slow) terminal query.
    let (tx, rx) = channel::<Msg>();
    let loader_tx = spawn_loader(Loader::new(app.state.session.clone()), tx.clone());
    spawn_gpu(tx.clone());
    spawn_host(tx.clone());
    // Plain tmux swallows graphics queries (the query would wait for its timeout) and only
    // half-blocks work there, so "auto" does not ask inside tmux or screen.
    let term = std::env::var("TERM").unwrap_or_default();
    let in_tmux = std::env::var_os("TMUX").is_some()
        || term.starts_with("screen")
        || term.starts_with("tmux");
    let picker = match protocol {
        "halfblocks" => Picker::halfblocks(),
        "auto" if in_tmux => Picker::halfblocks(),
        other => picker_for(other),
    };
    app.state.images.protocol = format!("{:?}", picker.protocol_type()).to_lowercase();
    // Input is read only after the query, which reads its answers from stdin.
    spawn_input(tx.clone());
    let image_tx = spawn_imager(Imager::new(picker), tx.clone());
    let _watcher = SessionWatcher::start(
        &app.state.session.root,
        Duration::from_millis(250),
        loader_tx.clone(),
        LoaderCmd::Fs,
    )
    .map_err(|e| {
        app.state.gui.status = Some((
            format!("file watching unavailable ({e}); rescanning every 2 s"),
            super::state::Level::Warn,
        ))
    })
    .ok();
    if std::env::var_os("SVFAP_TUI_STARTUP_LOG").is_some() {
        eprintln!("startup {:?}", started.elapsed());
    }

    let mut redraw = ImageRedraw::default();
    loop {
        let first = rx.recv_timeout(Duration::from_millis(500));
        let mut msgs: Vec<Msg> = first.into_iter().collect();
        while let Ok(m) = rx.try_recv() {
            msgs.push(m);
            if msgs.len() > 2000 {
                break;
            }
        }
        for m in msgs {
            match m {
                Msg::Input(Event::Key(k)) if k.kind == KeyEventKind::Press => {
                    let a = app.key_action(&k);
                    app.handle(a);
                }
                Msg::Input(Event::Resize(w, h)) => app.handle(Action::Resize(w, h)),
                Msg::Input(_) => {}
                Msg::Update(u) => app.apply(u),
            }
        }
        if app.quit_requested() {
            return Ok(());
        }
        app.state.now = crate::session::now_unix();
        app.request_images();
        app.request_log();
        for r in app.requests.drain(..) {
            dispatch(
                r,
                &loader_tx,
                &image_tx,
                &tx,
                &app.options,
                &app.state.session.root,
            );
        }
        // One frame per batch of messages; messages arriving while drawing form the next batch.
        if redraw.needs_blank_pass(&app.state) {
            app.state.images.blanking = true;
            terminal.draw(|f| draw(&app.state, f))?;
            app.state.images.blanking = false;
        }
        terminal.draw(|f| draw(&app.state, f))?;
    }
}

fn dispatch(
    r: Request,
    loader: &Sender<LoaderCmd>,
    images: &Sender<Job>,
    tx: &Sender<Msg>,
    options: &Options,
    session: &std::path::Path,
) {
    match r {
        Request::Rescan => {
            let _ = loader.send(LoaderCmd::Rescan);
        }
        Request::Log(want) => {
            let _ = loader.send(LoaderCmd::Log(want));
        }
        Request::Image(job) => {
            let _ = images.send(job);
        }
        Request::Command { what, args } => {
            let launcher = options.launcher.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                let out = launcher.run(&what, &args);
                let _ = tx.send(Msg::Update(Update::Launched(out)));
            });
        }
        Request::Demo { config, make_data } => {
            let launcher = options.launcher.clone();
            let tx = tx.clone();
            let session = session.to_path_buf();
            std::thread::spawn(move || {
                let mut out = launcher.demo(&session, &config, make_data);
                let name = demo_name(&config);
                if !out.ok {
                    out.output = format!("{}: {}", out.what, out.output);
                }
                out.what = name;
                let _ = tx.send(Msg::Update(Update::Launched(out)));
            });
        }
        Request::Export(job) => {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(Msg::Update(Update::Exported(job.run())));
            });
        }
    }
}

fn spawn_input(tx: Sender<Msg>) {
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            if tx.send(Msg::Input(ev)).is_err() {
                break;
            }
        }
    });
}

fn spawn_loader(mut loader: Loader, tx: Sender<Msg>) -> Sender<LoaderCmd> {
    let (ltx, lrx): (Sender<LoaderCmd>, Receiver<LoaderCmd>) = channel();
    std::thread::spawn(move || {
        let mut last_scan: Option<Instant> = None;
        let mut behind = false;
        loop {
            let wait = if behind {
                Duration::ZERO
            } else {
                Duration::from_millis(500)
            };
            let mut rescan = last_scan.is_none_or(|t| t.elapsed() >= RESCAN_EVERY);
            let mut poll = behind;
            let mut cmds: Vec<LoaderCmd> = Vec::new();
            match lrx.recv_timeout(wait) {
                Ok(c) => cmds.push(c),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                Err(_) => {}
            }
            while let Ok(c) = lrx.try_recv() {
                cmds.push(c);
            }
            for c in cmds {
                match c {
                    LoaderCmd::Rescan => rescan = true,
                    LoaderCmd::Fs(paths) => {
                        rescan |= Loader::needs_rescan(&paths);
                        poll = true;
                    }
                    LoaderCmd::Log(want) => {
                        if let Some(log) = loader.want_log(want)
                            && tx.send(Msg::Update(Update::Log(log))).is_err()
                        {
                            return;
                        }
                    }
                }
            }
            if rescan {
                let runs = loader.rescan();
                last_scan = Some(Instant::now());
                let cvs = loader.rescan_cvs();
                let inspections = loader.rescan_inspections();
                if tx.send(Msg::Update(Update::Runs(runs))).is_err()
                    || tx.send(Msg::Update(Update::Cvs(cvs))).is_err()
                    || tx
                        .send(Msg::Update(Update::Inspections(inspections)))
                        .is_err()
                {
                    return;
                }
                poll = true;
            }
            if poll {
                let (deltas, b) = loader.poll_metrics(POLL_BUDGET);
                behind = b;
                for d in deltas {
                    if tx.send(Msg::Update(Update::Metrics(d))).is_err() {
                        return;
                    }
                }
                if let Some(log) = loader.poll_log()
                    && tx.send(Msg::Update(Update::Log(log))).is_err()
                {
                    return;
                }
            }
        }
    });
    ltx
}

fn spawn_imager(mut imager: Imager, tx: Sender<Msg>) -> Sender<Job> {
    let (jtx, jrx) = channel::<Job>();
    std::thread::spawn(move || {
        while let Ok(first) = jrx.recv() {
            // Only the newest job of each kind matters.
            let mut recon = None;
            let mut attn = None;
            let mut frame = None;
            for j in std::iter::once(first).chain(jrx.try_iter()) {
                match j {
                    Job::Recon(_) => recon = Some(j),
                    Job::Attn(_) => attn = Some(j),
                    Job::Frame(_) => frame = Some(j),
                }
            }
            for j in [recon, attn, frame].into_iter().flatten() {
                if tx
                    .send(Msg::Update(Update::Image(Box::new(imager.run(j)))))
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    jtx
}

/// NVML is loaded and read on its own thread: a missing driver costs one message, then the
/// thread ends.
fn spawn_gpu(tx: Sender<Msg>) {
    std::thread::spawn(move || {
        let mut nvml = super::gpu::Nvml::init();
        super::gpu::poll(&mut nvml, super::gpu::POLL_EVERY, |r| {
            tx.send(Msg::Update(Update::Gpu(r))).is_ok()
        });
    });
}

/// The machine's CPU and memory, read every two seconds while the workbench runs.
fn spawn_host(tx: Sender<Msg>) {
    std::thread::spawn(move || {
        let mut sampler = super::host::HostSampler::new();
        loop {
            std::thread::sleep(Duration::from_secs(2));
            if tx.send(Msg::Update(Update::Host(sampler.read()))).is_err() {
                return;
            }
        }
    });
}
