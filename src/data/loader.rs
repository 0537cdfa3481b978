//! Parallel clip loading: worker threads decode and transform, a bounded number of videos
//! is in flight (the prefetch queue), and batches come out in a fixed order whatever the
//! worker timing, so a run is reproducible and can resume mid-epoch from a [`DataOrder`].
//!
//! Randomness: the epoch's order is a shuffle seeded by (seed, epoch); each sample's
//! sampling and augmentation RNG is seeded by (seed, epoch, position), independent of which
//! worker runs it. A sample that cannot be read is skipped, counted and logged, never fatal;
//! the batch is filled from the following samples.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::augment::{MixupConfig, mixup_batch};
use super::error::DataError;
use super::frame_pack::{FramePack, PackLookup};
use super::manifest::{Label, ManifestEntry};
use super::thread_clock::thread_cpu_seconds;
use super::view::{LoadedClips, ViewConfig, load_clips_packed};
use crate::distributed::DataShard;
use crate::model::TubeMask;

/// Where a run is in its data: enough to continue the exact same sequence after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataOrder {
    pub seed: u64,
    pub epoch: u64,
    /// Videos of this epoch already consumed.
    pub position: usize,
}

impl DataOrder {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            epoch: 0,
            position: 0,
        }
    }

    pub fn next_epoch(self) -> Self {
        Self {
            seed: self.seed,
            epoch: self.epoch + 1,
            position: 0,
        }
    }
}

/// Tube masking per sample (pre-training; DESIGN §5: 90%, same positions in every slice).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaskConfig {
    pub ratio: f64,
    /// Spatial patch side in pixels (16).
    pub patch: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoaderConfig {
    pub batch_size: usize,
    pub workers: usize,
    /// Batches decoded ahead of the consumer.
    pub prefetch_batches: usize,
    pub shuffle: bool,
    pub drop_last: bool,
    /// FFmpeg threads per decoder (1: the workers are the parallelism).
    pub decode_threads: usize,
    pub mask: Option<MaskConfig>,
    /// Mixup/cutmix with label smoothing over this many classes.
    pub mixup: Option<(MixupConfig, usize)>,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(1);
        Self {
            batch_size: 8,
            workers,
            prefetch_batches: 2,
            shuffle: true,
            drop_last: true,
            decode_threads: 1,
            mask: None,
            mixup: None,
        }
    }
}

/// One clip ready for the model.
#[derive(Debug, Clone)]
pub struct Sample {
    /// `[3, T, H, W]`, normalised.
    pub data: Vec<f32>,
    pub label: Label,
    /// Index of the video in the loader's list.
    pub video: usize,
    /// Which test clip of the video (0 in training views).
    pub clip: usize,
    pub mask: Option<TubeMask>,
}

/// A batch: clips `[B, 3, T, H, W]` in one buffer plus what goes with them.
#[derive(Debug, Clone)]
pub struct Batch {
    pub clips: Vec<f32>,
    pub shape: [usize; 5],
    pub labels: Vec<Label>,
    pub videos: Vec<usize>,
    pub clip_indices: Vec<usize>,
    /// One tube mask per clip when masking is on.
    pub masks: Vec<TubeMask>,
    /// Soft targets `[B, classes]` when mixup is on.
    pub targets: Option<Vec<f32>>,
    /// The data order after this batch (save it with the checkpoint).
    pub order: DataOrder,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    /// Class labels (panics on non-class labels).
    pub fn classes(&self) -> Vec<usize> {
        self.labels
            .iter()
            .map(|l| l.class().expect("batch holds non-class labels"))
            .collect()
    }

    /// The clips as a burn tensor `[B, 3, T, H, W]`.
    pub fn tensor<B: burn::prelude::Backend>(
        &self,
        device: &B::Device,
    ) -> burn::prelude::Tensor<B, 5> {
        burn::prelude::Tensor::from_data(
            burn::tensor::TensorData::new(self.clips.clone(), self.shape),
            device,
        )
    }
}

/// Counters shared by the workers (read them while or after iterating).
#[derive(Debug, Clone, Default)]
pub struct LoaderStats {
    pub videos_loaded: usize,
    pub videos_skipped: usize,
    pub videos_with_warnings: usize,
    /// Loads of videos shorter than one clip window (frames × stride; every epoch counts
    /// them again): their clips repeat frames, as the released code's loaders do. The first
    /// one met is logged once.
    pub videos_short: usize,
    pub clips: usize,
    pub frames_decoded: usize,
    /// Worker CPU seconds reading files, decoding and transforming.
    pub read_s: f64,
    pub decode_s: f64,
    pub transform_s: f64,
    /// Consumer-thread CPU seconds assembling batches (copies, mixup).
    pub collate_s: f64,
    /// Loads whose frames came from the frame pack, and loads the pack could not serve
    /// because the source changed since it was packed (with a pack; every epoch counts).
    pub videos_from_pack: usize,
    pub videos_pack_stale: usize,
    /// The last few skip messages.
    pub last_errors: Vec<String>,
    /// Every distinct unreadable sample met (`path: reason`), at most
    /// [`LoaderStats::MAX_LISTED`], for the run's error when too many are unreadable.
    pub unreadable: std::collections::BTreeSet<String>,
}

impl LoaderStats {
    pub const MAX_LISTED: usize = 10_000;
}

/// What a frame pack holds of a loader's videos.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PackCoverage {
    pub packed: usize,
    pub missing: usize,
    pub stale: usize,
    pub other_size: usize,
}

/// Where loader messages go (default: stderr).
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

pub struct Loader {
    items: Arc<Vec<(PathBuf, Label)>>,
    view: Arc<ViewConfig>,
    cfg: LoaderConfig,
    stats: Arc<Mutex<LoaderStats>>,
    log: LogSink,
    pack: Option<Arc<FramePack>>,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn derive_seed(seed: u64, epoch: u64, position: u64, stream: u64) -> u64 {
    splitmix(
        splitmix(splitmix(seed ^ stream.wrapping_mul(0xA24B_AED4_963E_E407)) ^ epoch) ^ position,
    )
}

impl Loader {
    pub fn new(entries: &[ManifestEntry], view: ViewConfig, cfg: LoaderConfig) -> Self {
        let items = entries
            .iter()
            .map(|e| (e.path.clone(), e.label.clone()))
            .collect();
        Self {
            items: Arc::new(items),
            view: Arc::new(view),
            cfg,
            stats: Arc::default(),
            log: Arc::new(|m: &str| eprintln!("{m}")),
            pack: None,
        }
    }

    /// A loader of the videos at `indices` of this one: the same view, settings, log and
    /// pack, its own counters.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            items: Arc::new(indices.iter().map(|&i| self.items[i].clone()).collect()),
            view: self.view.clone(),
            cfg: self.cfg.clone(),
            stats: Arc::default(),
            log: self.log.clone(),
            pack: self.pack.clone(),
        }
    }

    /// The videos and their labels, in manifest order.
    pub fn items(&self) -> &[(PathBuf, Label)] {
        &self.items
    }

    /// Takes frames from `pack` where it holds them (see [`FramePack::lookup`]).
    pub fn with_pack(mut self, pack: Arc<FramePack>) -> Self {
        self.pack = Some(pack);
        self
    }

    /// How many of this loader's videos `pack` can serve at the size its view decodes at.
    pub fn pack_coverage(&self, pack: &FramePack) -> PackCoverage {
        let resize = self.view.decode_resize();
        let mut c = PackCoverage::default();
        for (path, _) in self.items.iter() {
            match pack.lookup(path, resize) {
                PackLookup::Hit(_) => c.packed += 1,
                PackLookup::Missing => c.missing += 1,
                PackLookup::Stale => c.stale += 1,
                PackLookup::OtherSize => c.other_size += 1,
            }
        }
        c
    }

    pub fn with_log(mut self, log: LogSink) -> Self {
        self.log = log;
        self
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn view(&self) -> &ViewConfig {
        &self.view
    }

    /// Videos skipped so far (without copying the lists `stats` copies).
    pub fn videos_skipped(&self) -> usize {
        self.stats.lock().unwrap().videos_skipped
    }

    pub fn stats(&self) -> LoaderStats {
        self.stats.lock().unwrap().clone()
    }

    /// This rank's batches per epoch (whole steps of `shard`), assuming no sample is skipped.
    pub fn share_batches_per_epoch(&self, shard: DataShard) -> usize {
        if shard.world == 1 {
            return self.batches_per_epoch();
        }
        let clips = self.items.len() * self.view.clips_per_video();
        shard.steps_per_epoch(clips, self.cfg.batch_size.max(1)) * shard.accumulation
    }

    /// Batches per epoch, assuming no sample is skipped.
    pub fn batches_per_epoch(&self) -> usize {
        let clips = self.items.len() * self.view.clips_per_video();
        if self.cfg.drop_last {
            clips / self.cfg.batch_size
        } else {
            clips.div_ceil(self.cfg.batch_size)
        }
    }

    /// The video order of an epoch.
    pub fn epoch_order(&self, seed: u64, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        if self.cfg.shuffle {
            order.shuffle(&mut StdRng::seed_from_u64(derive_seed(seed, epoch, 0, 1)));
        }
        order
    }

    /// Iterates the batches of `order.epoch` from `order.position` on.
    pub fn epoch(&self, order: DataOrder) -> EpochIter {
        self.epoch_share(order, DataShard::whole(1))
    }

    /// Iterates this rank's share of `order.epoch` (`DataShard::positions` of the epoch's
    /// order), from index `order.position` of that share on. Each sample is seeded by its
    /// position in the whole epoch, so it is augmented alike whatever the world size.
    pub fn epoch_share(&self, order: DataOrder, shard: DataShard) -> EpochIter {
        let whole = self.epoch_order(order.seed, order.epoch);
        let positions = shard.positions(whole.len(), self.cfg.batch_size.max(1));
        let seeds = Arc::new(positions.clone());
        let perm = Arc::new(positions.iter().map(|&p| whole[p]).collect::<Vec<_>>());
        let in_flight =
            (self.cfg.prefetch_batches.max(1) * self.cfg.batch_size).max(self.cfg.workers);
        let (credit_tx, credit_rx) = bounded::<()>(in_flight);
        for _ in 0..in_flight {
            credit_tx.send(()).unwrap();
        }
        let (job_tx, job_rx) = bounded::<(usize, usize, usize)>(self.cfg.workers.max(1));
        let (res_tx, res_rx) = unbounded::<WorkResult>();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        {
            let perm = perm.clone();
            let stop = stop.clone();
            let start = order.position;
            threads.push(std::thread::spawn(move || {
                for pos in start..perm.len() {
                    if stop.load(Ordering::Relaxed) || credit_rx.recv().is_err() {
                        return;
                    }
                    if job_tx.send((pos, seeds[pos], perm[pos])).is_err() {
                        return;
                    }
                }
            }));
        }
        for _ in 0..self.cfg.workers.max(1) {
            let job_rx = job_rx.clone();
            let res_tx = res_tx.clone();
            let items = self.items.clone();
            let view = self.view.clone();
            let stop = stop.clone();
            let threads_per = self.cfg.decode_threads;
            let mask = self.cfg.mask;
            let pack = self.pack.clone();
            let (seed, epoch) = (order.seed, order.epoch);
            threads.push(std::thread::spawn(move || {
                while let Ok((pos, seed_pos, video)) = job_rx.recv() {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let mut rng =
                        StdRng::seed_from_u64(derive_seed(seed, epoch, seed_pos as u64, 2));
                    let result = load_clips_packed(
                        &items[video].0,
                        pack.as_ref(),
                        &view,
                        threads_per,
                        &mut rng,
                    );
                    let masks = mask.map(|m| {
                        let side = view.size / m.patch.max(1);
                        let spatial = side * side;
                        let masked = (m.ratio * spatial as f64) as usize;
                        (0..view.clips_per_video())
                            .map(|_| TubeMask::random(spatial, masked, &mut rng))
                            .collect()
                    });
                    if res_tx.send((pos, result, masks)).is_err() {
                        return;
                    }
                }
            }));
        }
        EpochIter {
            items: self.items.clone(),
            view: self.view.clone(),
            cfg: self.cfg.clone(),
            stats: self.stats.clone(),
            log: self.log.clone(),
            perm,
            order,
            next_pos: order.position,
            reorder: BTreeMap::new(),
            pending: Vec::new(),
            credit_tx: Some(credit_tx),
            res_rx,
            stop,
            threads,
            batch_no: 0,
        }
    }
}

type Pending = (usize, Sample);
/// A worker's answer: position in the epoch, the clips (or why not), the tube masks.
/// Clips (or why not) and tube masks of one video.
type Work = (Result<LoadedClips, DataError>, Option<Vec<TubeMask>>);
type WorkResult = (usize, Result<LoadedClips, DataError>, Option<Vec<TubeMask>>);

/// One epoch's batches, in order. Dropping it stops the workers.
pub struct EpochIter {
    items: Arc<Vec<(PathBuf, Label)>>,
    view: Arc<ViewConfig>,
    cfg: LoaderConfig,
    stats: Arc<Mutex<LoaderStats>>,
    log: LogSink,
    perm: Arc<Vec<usize>>,
    order: DataOrder,
    next_pos: usize,
    reorder: BTreeMap<usize, Work>,
    /// Samples taken from finished videos but not yet batched, with the position after them.
    pending: Vec<Pending>,
    credit_tx: Option<Sender<()>>,
    res_rx: Receiver<WorkResult>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    batch_no: usize,
}

impl EpochIter {
    /// The order after the last batch returned.
    pub fn order(&self) -> DataOrder {
        self.order
    }

    /// Takes the next video's samples in order; None at the end of the epoch.
    fn next_video(&mut self) -> Option<Vec<Sample>> {
        loop {
            if self.next_pos >= self.perm.len() {
                return None;
            }
            while !self.reorder.contains_key(&self.next_pos) {
                let (pos, res, masks) = self.res_rx.recv().ok()?;
                self.reorder.insert(pos, (res, masks));
            }
            let (res, masks) = self.reorder.remove(&self.next_pos).unwrap();
            let pos = self.next_pos;
            self.next_pos += 1;
            if let Some(tx) = &self.credit_tx {
                let _ = tx.send(());
            }
            let video = self.perm[pos];
            let mut stats = self.stats.lock().unwrap();
            match res {
                Ok(loaded) => {
                    stats.videos_loaded += 1;
                    stats.read_s += loaded.read_s;
                    stats.decode_s += loaded.decode_s;
                    stats.transform_s += loaded.transform_s;
                    stats.clips += loaded.clips.len();
                    stats.frames_decoded += loaded.frames_decoded;
                    stats.videos_from_pack +=
                        matches!(loaded.pack, Some(PackLookup::Hit(_))) as usize;
                    let stale = loaded.pack == Some(PackLookup::Stale);
                    stats.videos_pack_stale += stale as usize;
                    let first_stale = stale && stats.videos_pack_stale == 1;
                    let window = self.view.clip.window();
                    let short = loaded.frames_in_file < window;
                    stats.videos_short += short as usize;
                    let first_short = short && stats.videos_short == 1;
                    let warned = !loaded.warnings.is_empty();
                    stats.videos_with_warnings += warned as usize;
                    drop(stats);
                    if first_short {
                        (self.log)(&format!(
                            "note: {}: {} frames, fewer than one clip window ({} frames × stride {} = {window}): its clips repeat frames, as the released code's loaders do (later short videos are only counted)",
                            self.items[video].0.display(),
                            loaded.frames_in_file,
                            self.view.clip.frames,
                            self.view.clip.stride,
                        ));
                    }
                    if first_stale {
                        (self.log)(&format!(
                            "note: {} changed since it was packed: decoded from the file (later changed sources are only counted; `data pack` again refreshes the pack)",
                            self.items[video].0.display(),
                        ));
                    }
                    if warned {
                        (self.log)(&format!(
                            "warning: {}: {}",
                            self.items[video].0.display(),
                            loaded.warnings.join("; ")
                        ));
                    }
                    let mut masks = masks.map(|m| m.into_iter());
                    return Some(
                        loaded
                            .clips
                            .into_iter()
                            .enumerate()
                            .map(|(clip, c)| Sample {
                                data: c.data,
                                label: self.items[video].1.clone(),
                                video,
                                clip,
                                mask: masks.as_mut().and_then(|m| m.next()),
                            })
                            .collect(),
                    );
                }
                Err(e) => {
                    stats.videos_skipped += 1;
                    let msg = format!("skipped sample {video}: {e}");
                    stats.last_errors.push(msg.clone());
                    if stats.unreadable.len() < LoaderStats::MAX_LISTED {
                        stats.unreadable.insert(e.to_string());
                    }
                    if stats.last_errors.len() > 20 {
                        stats.last_errors.remove(0);
                    }
                    drop(stats);
                    (self.log)(&format!("warning: {msg}"));
                }
            }
        }
    }
}

impl Iterator for EpochIter {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let bs = self.cfg.batch_size.max(1);
        while self.pending.len() < bs {
            match self.next_video() {
                Some(samples) => {
                    let after = self.next_pos;
                    self.pending.extend(samples.into_iter().map(|s| (after, s)));
                }
                None => break,
            }
        }
        if self.pending.is_empty() || (self.pending.len() < bs && self.cfg.drop_last) {
            self.pending.clear();
            self.order.position = self.perm.len();
            return None;
        }
        let collate_start = thread_cpu_seconds();
        let take = bs.min(self.pending.len());
        let samples: Vec<Pending> = self.pending.drain(..take).collect();
        // Resume point: the position after the last video whose clips are all batched.
        let last_after = samples.last().unwrap().0;
        self.order.position = if self.pending.iter().any(|(a, _)| *a == last_after) {
            last_after - 1
        } else {
            last_after
        };
        let [c, t, h, w] = self.view.clip_shape();
        let per = c * t * h * w;
        let mut clips = Vec::with_capacity(take * per);
        let mut labels = Vec::with_capacity(take);
        let mut videos = Vec::with_capacity(take);
        let mut clip_indices = Vec::with_capacity(take);
        let mut masks = Vec::new();
        for (_, s) in samples {
            clips.extend_from_slice(&s.data);
            labels.push(s.label);
            videos.push(s.video);
            clip_indices.push(s.clip);
            if let Some(m) = s.mask {
                masks.push(m);
            }
        }
        let shape = [take, c, t, h, w];
        let targets = self.cfg.mixup.and_then(|(mix, classes)| {
            let cls: Option<Vec<usize>> = labels.iter().map(Label::class).collect();
            cls.map(|cls| {
                let mut rng = StdRng::seed_from_u64(derive_seed(
                    self.order.seed,
                    self.order.epoch,
                    self.order.position as u64,
                    3,
                ));
                mixup_batch(&mix, &mut clips, shape, &cls, classes, &mut rng).0
            })
        });
        self.batch_no += 1;
        self.stats.lock().unwrap().collate_s += thread_cpu_seconds() - collate_start;
        Some(Batch {
            clips,
            shape,
            labels,
            videos,
            clip_indices,
            masks,
            targets,
            order: self.order,
        })
    }
}

impl Drop for EpochIter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.credit_tx = None;
        // Unblock workers waiting to send: drain what is there.
        while self.res_rx.try_recv().is_ok() {}
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
