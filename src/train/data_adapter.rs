//! The run worker's data: the data pipeline's `Loader` behind the worker's `ClipSource`
//! (training view with prefetching workers, test view grouped per video, held-out clips).
//! Masks and mixing are drawn by the trainer from (seed, step), not by the loader, so a
//! resumed run draws the same ones.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rand::SeedableRng;

use super::clip_source::{ClipBatch, ClipSource, Label, LabelSpace, TestVideo, Unreadable};
use super::run_config::{Augment, RunConfig, RunKind};
use crate::data::frame_pack::FramePack;
use crate::data::loader::{DataOrder, Loader, LoaderConfig, PackCoverage};
use crate::data::manifest::{LabelKind, Manifest, PathMapping};
use crate::data::registry::{Task, dataset};
use crate::data::view::{ViewConfig, ViewKind, load_clips};
use crate::distributed::DataShard;

pub struct LoaderSource {
    seed: u64,
    clip_shape: [usize; 4],
    train: Option<Loader>,
    test: Option<Loader>,
    /// With several ranks: this rank's share of the test videos and their manifest indices.
    test_share: Option<(Loader, Vec<usize>)>,
    /// Held-out clips come from here (test manifest, else training manifest), test view.
    held_out_entries: Vec<std::path::PathBuf>,
    test_view: ViewConfig,
    /// The loader's skip count already reported.
    reported_skips: usize,
    /// This rank's share of the training data.
    shard: DataShard,
}

fn view(kind: ViewKind, config: &RunConfig) -> ViewConfig {
    let e = crate::model::preset(&config.model.preset)
        .expect("validated preset")
        .encoder;
    let mut v = ViewConfig::new(kind);
    v.size = e.img_size;
    v.clip.frames = e.frames;
    v.clip.stride = config.data.stride;
    v.test_clips = config.data.test_clips;
    // The released fixed crop (rows 0–160, cols 32–192) is for 224² VoxCeleb2 faces and a
    // 160² model; other sizes use the multi-scale crop alone.
    if e.img_size != 160 {
        v.pretrain.fixed_crop = None;
    }
    v.train_short_side = (config.data.train_short_side > 0).then_some(config.data.train_short_side);
    let aug = &mut v.finetune;
    match config.data.augment {
        Augment::Paper => {}
        Augment::Light => {
            aug.rand_augment = None;
            aug.erasing = None;
            aug.scale = (0.8, 1.0);
        }
        Augment::None => {
            aug.rand_augment = None;
            aug.erasing = None;
            aug.scale = (1.0, 1.0);
            aug.ratio = (1.0, 1.0);
            aug.flip_prob = 0.0;
        }
    }
    // Only the paper's recipe pre-trains on the multi-scale crop; the others on whole frames.
    if config.data.augment != Augment::Paper {
        v.pretrain.scales = vec![1.0];
    }
    v
}

fn manifest(path: &str, kind: LabelKind, config: &RunConfig) -> Result<Manifest> {
    let root = Path::new(&config.data.root);
    let mapping = PathMapping {
        data_root: (!config.data.root.is_empty()).then(|| root.to_path_buf()),
        prefix: (!config.data.strip_prefix.is_empty())
            .then(|| (config.data.strip_prefix.clone(), root.to_path_buf())),
    };
    Ok(Manifest::read(Path::new(path), kind, &mapping)?)
}

/// The run's (training, test) manifests, read and checked line by line: what `launch`
/// validates before it creates a run folder, and what the worker opens.
pub fn read_manifests(config: &RunConfig) -> Result<(Option<Manifest>, Option<Manifest>)> {
    let d = &config.data;
    let label_kind = match (config.kind, dataset(&d.dataset)) {
        (RunKind::Pretrain, _) => LabelKind::None,
        (_, Some(i)) => i.label_kind(),
        (_, None) => LabelKind::Class { classes: None },
    };
    let train = (config.kind != RunKind::Eval)
        .then(|| manifest(&d.train, label_kind, config).context("data.train"))
        .transpose()?;
    let test = (config.kind != RunKind::Pretrain)
        .then(|| manifest(&d.test, label_kind, config).context("data.test"))
        .transpose()?;
    if let Some(m) = &train {
        let step = config.optim.batch_size * config.optim.accumulation;
        if m.len() < step {
            bail!(
                "data.train: {} lists {} clips, fewer than one step (optim.batch_size {} × optim.accumulation {} = {step})",
                m.file.display(),
                m.len(),
                config.optim.batch_size,
                config.optim.accumulation
            );
        }
    }
    Ok((train, test))
}

/// Opens the run's manifests; returns the source and what its labels mean. A registry
/// dataset fixes the task and the label names; another name is read as classification with
/// classes `0..=max label`.
pub fn open_source(config: &RunConfig) -> Result<(Box<dyn ClipSource>, LabelSpace)> {
    let d = &config.data;
    let info = dataset(&d.dataset);
    let cfg = |shuffle: bool, drop_last: bool| LoaderConfig {
        batch_size: config.optim.batch_size,
        workers: d.workers.max(1),
        shuffle,
        drop_last,
        ..Default::default()
    };
    let train_kind = if config.kind == RunKind::Pretrain {
        ViewKind::Pretrain
    } else {
        ViewKind::Finetune
    };
    let (train, test) = read_manifests(config)?;
    let labels = match (info, &train, &test) {
        _ if config.kind == RunKind::Pretrain => LabelSpace {
            task: Task::Classification,
            names: vec![],
        },
        (Some(i), _, _) => LabelSpace {
            task: i.task,
            names: i.labels.iter().map(|s| s.to_string()).collect(),
        },
        (None, t, s) => {
            let max = t
                .iter()
                .chain(s.iter())
                .flat_map(|m| m.entries.iter())
                .filter_map(|e| e.label.class())
                .max();
            let Some(max) = max else {
                bail!(
                    "data.dataset = \"{}\": unknown dataset and no labels",
                    d.dataset
                )
            };
            LabelSpace {
                task: Task::Classification,
                names: (0..=max).map(|i| format!("class {i}")).collect(),
            }
        }
    };
    let held_out_entries: Vec<_> = test
        .as_ref()
        .or(train.as_ref())
        .map(|m| m.entries.iter().map(|e| e.path.clone()).collect())
        .unwrap_or_default();
    let test_view = view(ViewKind::Test, config);
    let pack = open_pack(config)?;
    let loader = |entries: &[crate::data::manifest::ManifestEntry], v: ViewConfig, c, what| {
        let l = Loader::new(entries, v, c).with_log(quiet_log());
        match &pack {
            Some(p) => {
                let cover = l.pack_coverage(p);
                super::say!("data: {}", describe_coverage(p, cover, entries.len(), what));
                l.with_pack(p.clone())
            }
            None => l,
        }
    };
    let source = LoaderSource {
        seed: config.seed,
        clip_shape: test_view.clip_shape(),
        train: train.map(|m| {
            loader(
                &m.entries,
                view(train_kind, config),
                cfg(true, true),
                "training",
            )
        }),
        test: test.map(|m| loader(&m.entries, test_view.clone(), cfg(false, false), "test")),
        test_share: None,
        held_out_entries,
        test_view,
        reported_skips: 0,
        shard: DataShard::whole(config.optim.accumulation),
    };
    Ok((Box::new(source), labels))
}

/// The run's frame pack (`data.pack`, already resolved by launch), opened once.
fn open_pack(config: &RunConfig) -> Result<Option<Arc<FramePack>>> {
    if config.data.pack.is_empty() {
        return Ok(None);
    }
    let pack = FramePack::open(Path::new(&config.data.pack)).context("data.pack")?;
    Ok(Some(Arc::new(pack)))
}

/// "frame pack P (native size): 1200 of 1200 training videos", plus what it cannot serve.
fn describe_coverage(pack: &FramePack, c: PackCoverage, total: usize, what: &str) -> String {
    let mut line = format!(
        "frame pack {} ({}): {} of {total} {what} videos",
        pack.path().display(),
        pack.size().describe(),
        c.packed
    );
    for (n, why) in [
        (c.missing, "not in it"),
        (c.stale, "changed since packing"),
        (
            c.other_size,
            "packed at another size than this view decodes at",
        ),
    ] {
        if n > 0 {
            line.push_str(&format!("; {n} {why} (decoded from the files)"));
        }
    }
    line
}

/// Loader messages go to the run's log (stderr of the worker).
fn quiet_log() -> crate::data::loader::LogSink {
    std::sync::Arc::new(|m: &str| super::say_err!("data: {m}"))
}

impl ClipSource for LoaderSource {
    fn clip_shape(&self) -> [usize; 4] {
        self.clip_shape
    }

    fn batches_per_epoch(&self) -> usize {
        self.train
            .as_ref()
            .map_or(0, |l| l.share_batches_per_epoch(self.shard))
    }

    fn set_shard(&mut self, shard: DataShard) {
        self.shard = shard;
        // Evaluation is shared too: rank r scores test videos r, r + world, ….
        self.test_share = self.test.as_ref().filter(|_| shard.world > 1).map(|test| {
            let indices: Vec<usize> = (shard.rank..test.len()).step_by(shard.world).collect();
            (test.subset(&indices), indices)
        });
    }

    fn epoch_batches(
        &mut self,
        epoch: u64,
        position: u64,
    ) -> Box<dyn Iterator<Item = Result<ClipBatch>> + '_> {
        let Some(loader) = self.train.as_ref() else {
            return Box::new(std::iter::empty());
        };
        let order = DataOrder {
            seed: self.seed,
            epoch,
            position: position as usize,
        };
        let reported = &mut self.reported_skips;
        Box::new(loader.epoch_share(order, self.shard).map(move |batch| {
            let skipped_now = loader.stats().videos_skipped;
            let skipped = skipped_now.saturating_sub(*reported) as u64;
            *reported = skipped_now;
            Ok(ClipBatch {
                size: batch.len(),
                labels: batch.labels,
                clips: batch.clips,
                skipped,
                position: batch.order.position as u64,
            })
        }))
    }

    fn test_videos(&mut self) -> Box<dyn Iterator<Item = Result<TestVideo>> + '_> {
        let (loader, global) = match (&self.test_share, &self.test) {
            (Some((share, indices)), _) => (share, Some(indices.clone())),
            (None, Some(test)) => (test, None),
            (None, None) => return Box::new(std::iter::empty()),
        };
        let index = move |v: usize| global.as_ref().map_or(v, |g| g[v]);
        let views = loader.view().clips_per_video();
        let per_clip: usize = self.clip_shape.iter().product();
        let mut batches = loader.epoch(DataOrder::new(self.seed));
        // Clips of one video arrive consecutively (no shuffling): group them.
        let mut current: Option<(usize, Vec<f32>)> = None;
        let mut ready: std::collections::VecDeque<TestVideo> = Default::default();
        Box::new(std::iter::from_fn(move || {
            loop {
                if let Some(v) = ready.pop_front() {
                    return Some(Ok(v));
                }
                let batch = batches.next()?;
                for i in 0..batch.len() {
                    let video = batch.videos[i];
                    let clip = &batch.clips[i * per_clip..(i + 1) * per_clip];
                    match &mut current {
                        Some((v, clips)) if *v == video => clips.extend_from_slice(clip),
                        _ => {
                            if let Some((v, clips)) = current.take() {
                                ready.push_back(TestVideo {
                                    index: index(v),
                                    views: clips.len() / per_clip,
                                    clips,
                                });
                            }
                            current = Some((video, clip.to_vec()));
                        }
                    }
                    if let Some((v, clips)) = current.take_if(|(_, c)| c.len() == views * per_clip)
                    {
                        ready.push_back(TestVideo {
                            index: index(v),
                            views,
                            clips,
                        });
                    }
                }
            }
        }))
    }

    fn test_entries(&self) -> Vec<(String, Label)> {
        self.test.as_ref().map_or_else(Vec::new, |t| {
            t.items()
                .iter()
                .map(|(p, l)| (p.display().to_string(), l.clone()))
                .collect()
        })
    }

    fn videos(&self, test: bool) -> usize {
        let loader = if test { &self.test } else { &self.train };
        loader.as_ref().map_or(0, |l| l.len())
    }

    fn unreadable(&self, test: bool) -> Unreadable {
        let loader = match (test, &self.test_share) {
            (true, Some((share, _))) => Some(share),
            (true, None) => self.test.as_ref(),
            (false, _) => self.train.as_ref(),
        };
        loader.map_or_else(Unreadable::default, |l| {
            let stats = l.stats();
            Unreadable {
                skips: stats.videos_skipped,
                listed: stats.unreadable.into_iter().collect(),
            }
        })
    }

    fn held_out(&mut self, n: usize) -> Result<Vec<(String, Vec<f32>)>> {
        let mut out = Vec::new();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        for path in &self.held_out_entries {
            if out.len() == n {
                break;
            }
            if let Ok(loaded) = load_clips(path, &self.test_view, 1, &mut rng)
                && let Some(clip) = loaded.clips.into_iter().next()
            {
                let name = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push((name, clip.data));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(augment: &str) -> RunConfig {
        let text = format!(
            "format = 1\nkind = \"pretrain\"\nname = \"t\"\n[model]\npreset = \"demo\"\n\
             [data]\ndataset = \"demo\"\ntrain = \"train.csv\"\naugment = \"{augment}\"\n\
             [optim]\nbatch_size = 8\nepochs = 1\nbase_lr = 1e-3\nbetas = [0.9, 0.95]\n"
        );
        RunConfig::parse(&text, Path::new("run.toml"), &[]).unwrap()
    }

    #[test]
    fn light_and_none_pretrain_on_whole_frames_and_paper_on_the_multi_scale_crop() {
        let scales = |augment| view(ViewKind::Pretrain, &config(augment)).pretrain.scales;
        assert_eq!(scales("paper"), vec![1.0, 0.875, 0.75, 0.66]);
        assert_eq!(scales("light"), vec![1.0]);
        assert_eq!(scales("none"), vec![1.0]);
    }
}
