//! The headless driver: the same app without a terminal or threads, for tests and the TUI
//! benchmark — actions in, background work run inline, state and rendered buffers out.

use ratatui::layout::Rect;

use super::action::Action;
use super::app::App;
use super::gpu::GpuSource;
use super::imager::Imager;
use super::loader::Loader;
use super::options::Options;
use super::request::{Renamed, Request, Update, demo_name};
use super::state::State;

impl App {
    /// An app for tests: fixed clock, half-block images, no threads, no terminal.
    pub fn headless(
        options: Options,
        width: u16,
        height: u16,
        now: f64,
    ) -> anyhow::Result<Headless> {
        let mut app = App::new(options, Rect::new(0, 0, width, height))?;
        app.state.now = now;
        let loader = Loader::new(app.state.session.clone());
        let imager = Imager::new(ratatui_image::picker::Picker::halfblocks());
        let mut h = Headless {
            app,
            loader,
            imager,
            gpu: None,
        };
        h.settle();
        Ok(h)
    }
}

impl Headless {
    /// Like [`App::headless`] with the real clock, for benchmarks.
    pub fn new_for_bench(options: Options, width: u16, height: u16) -> anyhow::Result<Headless> {
        App::headless(options, width, height, crate::session::now_unix())
    }
}

/// Drives an [`App`] by actions alone, running background work inline (`settle`).
pub struct Headless {
    pub app: App,
    pub loader: Loader,
    pub imager: Imager,
    /// Read on every rescan; none by default, so tests do not depend on the machine's GPUs.
    pub gpu: Option<Box<dyn GpuSource>>,
}

impl Headless {
    /// Applies one action and finishes all the work it caused.
    pub fn act(&mut self, action: Action) -> &mut Self {
        self.app.handle(action);
        self.settle();
        self
    }

    pub fn act_all(&mut self, actions: &[Action]) -> &mut Self {
        for a in actions {
            self.act(a.clone());
        }
        self
    }

    pub fn state(&self) -> &State {
        &self.app.state
    }

    /// Runs every queued request to completion, including metrics tails and images.
    pub fn settle(&mut self) {
        for _ in 0..64 {
            self.app.request_images();
            self.app.request_log();
            let reqs: Vec<Request> = self.app.requests.drain(..).collect();
            if reqs.is_empty() {
                break;
            }
            for r in reqs {
                let update = match r {
                    Request::Rescan => {
                        let runs = self.loader.rescan();
                        self.app.apply(Update::Runs(runs));
                        let cvs = self.loader.rescan_cvs();
                        self.app.apply(Update::Cvs(cvs));
                        let inspections = self.loader.rescan_inspections();
                        self.app.apply(Update::Inspections(inspections));
                        loop {
                            let (deltas, behind) = self.loader.poll_metrics(usize::MAX / 4);
                            for d in deltas {
                                self.app.apply(Update::Metrics(d));
                            }
                            if !behind {
                                break;
                            }
                        }
                        if let Some(log) = self.loader.poll_log() {
                            self.app.apply(Update::Log(log));
                        }
                        if let Some(gpu) = &mut self.gpu {
                            self.app.apply(Update::Gpu(gpu.read()));
                        }
                        continue;
                    }
                    Request::Log(want) => match self.loader.want_log(want) {
                        Some(log) => Update::Log(log),
                        None => continue,
                    },
                    Request::Image(job) => Update::Image(Box::new(self.imager.run(job))),
                    Request::Command { what, args } => {
                        Update::Launched(self.app.options.launcher.run(&what, &args))
                    }
                    Request::Demo { config, make_data } => Update::Launched(
                        self.app
                            .options
                            .launcher
                            .demo(&self.app.state.session.root, &config, make_data)
                            .renamed(demo_name(&config)),
                    ),
                    Request::Export(job) => Update::Exported(job.run()),
                };
                self.app.apply(update);
            }
        }
    }

    /// Renders the current state into a test backend buffer.
    pub fn render(&self) -> ratatui::buffer::Buffer {
        let size = self.app.state.size;
        let backend = ratatui::backend::TestBackend::new(size.width, size.height);
        let mut terminal = ratatui::Terminal::new(backend).expect("test terminal");
        terminal
            .draw(|f| super::draw::draw(&self.app.state, f))
            .expect("draw");
        terminal.backend().buffer().clone()
    }
}
