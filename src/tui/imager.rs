//! Slow image work off the UI thread: composing reconstruction grids from PNGs, loading
//! attention maps (.npy) and encoding images for the terminal (ratatui-image).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::{DynamicImage, RgbImage};
use ratatui::layout::Rect;
use ratatui_image::Resize;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;

use super::inspect_frame::{FrameJob, FrameReady, frame_with_face};
use super::map_overlay::{Grid, blend_groups, blend_heat};
use super::view_state::{AttnOwner, AttnSel};
use crate::npy::NpyArray;
use crate::session::artifacts::{AttnMap, AttnMeta, ReconKind, ReconMeta};

#[derive(Debug, Clone, PartialEq)]
pub struct ReconKey {
    pub run: String,
    pub step: u64,
    pub sample: usize,
    pub area: Rect,
}

pub struct ReconJob {
    pub key: ReconKey,
    pub dir: PathBuf,
    pub frames: usize,
}

pub struct ReconReady {
    pub key: ReconKey,
    pub protocol: Option<Protocol>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttnKey {
    pub owner: AttnOwner,
    /// The run's step, or the inspection's window (0-based).
    pub step: u64,
    pub sel: AttnSel,
    /// Where the heat map, the assignment and the cross-attention are drawn over the frame.
    pub areas: [Rect; 3],
}

pub struct AttnJob {
    pub key: AttnKey,
    pub dir: PathBuf,
    pub meta: AttnMeta,
    /// The clip's frames, in time order, to draw the maps over: those stored with the maps,
    /// else (older artifacts) the nearest reconstruction's originals; empty when neither.
    pub frame_pngs: Vec<PathBuf>,
}

pub struct AttnReady {
    pub key: AttnKey,
    pub heat: Option<Grid>,
    pub assign: Option<Grid>,
    pub cross: Option<Grid>,
    /// Heat map, assignment and cross-attention blended over the frame (image protocol).
    pub overlays: [Option<Protocol>; 3],
    /// The frame they are blended over (exports draw the same picture at print size).
    pub frame_png: Option<PathBuf>,
    /// Frames (time slices) of the selected map's grid.
    pub frames: usize,
    pub heads: usize,
    pub tokens: usize,
    pub error: Option<String>,
}

pub enum Job {
    Recon(ReconJob),
    Attn(AttnJob),
    Frame(FrameJob),
}

pub enum Done {
    Recon(ReconReady),
    Attn(Box<AttnReady>),
    Frame(FrameReady),
}

/// Does the work; the thread wrapper and the headless driver both call `run`.
pub struct Imager {
    pub picker: Picker,
    cache: HashMap<PathBuf, Arc<NpyArray>>,
}

impl Imager {
    pub fn new(picker: Picker) -> Self {
        Self {
            picker,
            cache: HashMap::new(),
        }
    }

    pub fn run(&mut self, job: Job) -> Done {
        match job {
            Job::Recon(j) => Done::Recon(self.recon(j)),
            Job::Attn(j) => Done::Attn(Box::new(self.attn(j))),
            Job::Frame(j) => Done::Frame(self.frame(j)),
        }
    }

    fn frame(&mut self, job: FrameJob) -> FrameReady {
        let encoded = frame_with_face(&job).and_then(|img| {
            self.picker
                .new_protocol(
                    DynamicImage::ImageRgb8(img),
                    job.key.area,
                    Resize::Scale(None),
                )
                .map_err(|e| format!("encode: {e}"))
        });
        match encoded {
            Ok(p) => FrameReady {
                key: job.key,
                protocol: Some(p),
                error: None,
            },
            Err(e) => FrameReady {
                key: job.key,
                protocol: None,
                error: Some(e),
            },
        }
    }

    fn recon(&mut self, job: ReconJob) -> ReconReady {
        match compose_recon_grid(&job.dir, job.key.sample, job.frames) {
            Ok(img) => match self.picker.new_protocol(
                DynamicImage::ImageRgb8(img),
                job.key.area,
                Resize::Scale(None),
            ) {
                Ok(p) => ReconReady {
                    key: job.key,
                    protocol: Some(p),
                    error: None,
                },
                Err(e) => ReconReady {
                    key: job.key,
                    protocol: None,
                    error: Some(format!("encode: {e}")),
                },
            },
            Err(e) => ReconReady {
                key: job.key,
                protocol: None,
                error: Some(e),
            },
        }
    }

    fn load(&mut self, path: &Path) -> Result<Arc<NpyArray>, String> {
        if let Some(a) = self.cache.get(path) {
            return Ok(a.clone());
        }
        let a = Arc::new(crate::npy::read_f32(path).map_err(|e| format!("{e:#}"))?);
        if self.cache.len() > 16 {
            self.cache.clear();
        }
        self.cache.insert(path.to_path_buf(), a.clone());
        Ok(a)
    }

    fn attn(&mut self, job: AttnJob) -> AttnReady {
        let mut out = AttnReady {
            key: job.key.clone(),
            heat: None,
            assign: None,
            cross: None,
            overlays: [None, None, None],
            frame_png: None,
            frames: 0,
            heads: 0,
            tokens: 0,
            error: None,
        };
        let sel = &job.key.sel;
        let Some(map) = job.meta.maps.get(sel.map) else {
            out.error = Some("no attention maps at this step".into());
            return out;
        };
        let arr = match self.load(&job.dir.join(&map.file)) {
            Ok(a) => a,
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        };
        let (t, h, w) = grid_of(map, &arr.shape);
        out.frames = t;
        let frame = sel.frame.min(t.saturating_sub(1));
        if map.kind == "assignment" {
            out.heads = 1;
            out.heat = assignment_grid(&arr, map, frame, t, true);
            out.assign = assignment_grid(&arr, map, frame, t, false);
        } else {
            out.heads = arr.shape.first().copied().unwrap_or(0);
            out.tokens = arr.shape.get(1).copied().unwrap_or(0);
            out.heat = attention_grid(
                &arr,
                sel.head,
                Some(sel.token).filter(|_| map.kind == "cross"),
                frame,
                (t, h, w),
                &map_label(map),
            );
            if map.kind != "cross" {
                // Self-attention: average over queries unless the user picked a token.
                out.heat = attention_grid(
                    &arr,
                    sel.head,
                    None,
                    frame,
                    (t, h, w),
                    &format!("{} · mean of queries", map_label(map)),
                );
            }
        }
        // The spatial bottleneck of the same stage (or any) and its cross-attention.
        let same_stage = |kind: &str| {
            job.meta
                .maps
                .iter()
                .find(|m| m.kind == kind && m.stage == map.stage)
                .or_else(|| job.meta.maps.iter().find(|m| m.kind == kind))
        };
        if map.kind != "assignment"
            && let Some(a) = same_stage("assignment")
            && let Ok(arr) = self.load(&job.dir.join(&a.file))
        {
            out.assign = assignment_grid(
                &arr,
                a,
                frame * grid_of(a, &arr.shape).0.max(1) / t.max(1),
                grid_of(a, &arr.shape).0,
                false,
            );
        }
        if let Some(c) = same_stage("cross")
            && let Ok(carr) = self.load(&job.dir.join(&c.file))
        {
            let (ct, ch, cw) = grid_of(c, &carr.shape);
            let tokens = carr.shape.get(1).copied().unwrap_or(0);
            if out.tokens == 0 {
                out.tokens = tokens;
            }
            let token = if tokens > 0 { sel.token % tokens } else { 0 };
            // Indices are shown 1-based, as in the view's header.
            let label = format!("cross-attn of token {} · b{}", token + 1, c.block);
            out.cross = attention_grid(
                &carr,
                sel.head,
                Some(token),
                frame.min(ct.saturating_sub(1)),
                (ct, ch, cw),
                &label,
            );
        }
        // The input frame of the shown time slice (a slice spans `tubelet` frames).
        let png = (!job.frame_pngs.is_empty()).then(|| {
            let i = frame * job.frame_pngs.len() / t.max(1);
            &job.frame_pngs[i.min(job.frame_pngs.len() - 1)]
        });
        if let Some((path, frame_img)) = png.and_then(|p| Some((p, image::open(p).ok()?))) {
            out.frame_png = Some(path.clone());
            let frame_img = frame_img.to_rgb8();
            let grids = [&out.heat, &out.assign, &out.cross];
            for (i, (grid, area)) in grids.into_iter().zip(job.key.areas).enumerate() {
                let Some(grid) = grid else { continue };
                let blended = if grid.groups > 0 {
                    blend_groups(&frame_img, grid)
                } else {
                    blend_heat(&frame_img, grid)
                };
                out.overlays[i] = self
                    .picker
                    .new_protocol(DynamicImage::ImageRgb8(blended), area, Resize::Scale(None))
                    .ok();
            }
        }
        out
    }
}

fn map_label(m: &AttnMap) -> String {
    format!("b{} {}", m.block, m.kind)
}

/// (T, H, W) of a map's token grid: from `grid` when given, else inferred as square.
pub fn grid_of(map: &AttnMap, shape: &[usize]) -> (usize, usize, usize) {
    if map.grid.len() == 3 && map.grid.iter().all(|&d| d > 0) {
        return (map.grid[0], map.grid[1], map.grid[2]);
    }
    let (t, n) = if map.kind == "assignment" {
        (
            shape.first().copied().unwrap_or(1),
            shape.get(2).copied().unwrap_or(0),
        )
    } else {
        (1, shape.get(2).copied().unwrap_or(0))
    };
    let side = (n as f64).sqrt().round() as usize;
    if side * side == n {
        (t, side, side)
    } else {
        (t, 1, n)
    }
}

/// Attention of (head, query or mean over queries) to the keys of time slice `frame`, H×W.
fn attention_grid(
    arr: &NpyArray,
    head: usize,
    query: Option<usize>,
    frame: usize,
    (t, h, w): (usize, usize, usize),
    label: &str,
) -> Option<Grid> {
    if arr.shape.len() != 3 {
        return None;
    }
    let (heads, nq, nk) = (arr.shape[0], arr.shape[1], arr.shape[2]);
    if heads == 0 || nq == 0 || nk == 0 || h * w == 0 {
        return None;
    }
    let head = head % heads;
    let per_frame = h * w;
    let start = if t * per_frame == nk {
        frame.min(t - 1) * per_frame
    } else {
        0
    };
    let end = (start + per_frame).min(nk);
    let mut values = vec![0f32; per_frame];
    let rows: Vec<usize> = match query {
        Some(q) => vec![q % nq],
        None => (0..nq).collect(),
    };
    for &q in &rows {
        let base = (head * nq + q) * nk;
        for (k, v) in values.iter_mut().enumerate().take(end - start) {
            *v += arr.values.get(base + start + k).copied().unwrap_or(0.0);
        }
    }
    let n = rows.len() as f32;
    values.iter_mut().for_each(|v| *v /= n);
    Some(Grid {
        w,
        h,
        values,
        groups: 0,
        label: format!("{label} · h{} · f{}", head + 1, frame + 1),
    })
}

/// Assignment `[T_i, G, S]` at time slice `frame`: the winning group per position
/// (`prob = false`) or its probability (`prob = true`).
fn assignment_grid(
    arr: &NpyArray,
    map: &AttnMap,
    frame: usize,
    t: usize,
    prob: bool,
) -> Option<Grid> {
    if arr.shape.len() != 3 {
        return None;
    }
    let (ti, g, s) = (arr.shape[0], arr.shape[1], arr.shape[2]);
    if ti == 0 || g == 0 || s == 0 {
        return None;
    }
    let (_, h, w) = grid_of(map, &arr.shape);
    let (h, w) = if h * w == s { (h, w) } else { (1, s) };
    let f = frame.min(ti - 1).min(t.max(1) - 1);
    let mut values = Vec::with_capacity(s);
    for pos in 0..s {
        let mut best = (0usize, f32::MIN);
        for grp in 0..g {
            let v = arr.values[(f * g + grp) * s + pos];
            if v > best.1 {
                best = (grp, v);
            }
        }
        values.push(if prob { best.1 } else { best.0 as f32 });
    }
    let what = if prob {
        "assignment confidence"
    } else {
        "bottleneck group per position"
    };
    Some(Grid {
        w,
        h,
        values,
        groups: if prob { 0 } else { g },
        label: format!("{what} · b{} · t{}", map.block, f + 1),
    })
}

/// Rows original / masked / reconstruction, one column per frame, 2-pixel gaps.
pub fn compose_recon_grid(dir: &Path, sample: usize, frames: usize) -> Result<RgbImage, String> {
    let first = ReconMeta::frame_file(dir, sample, ReconKind::Original, 0);
    let probe = image::open(&first)
        .map_err(|e| format!("{}: {e}", first.display()))?
        .to_rgb8();
    let (fw, fh) = probe.dimensions();
    let gap = 2;
    let frames = frames.max(1) as u32;
    let mut grid = RgbImage::from_pixel(
        frames * (fw + gap) - gap,
        3 * (fh + gap) - gap,
        image::Rgb([16, 16, 16]),
    );
    for (row, kind) in ReconKind::ALL.iter().enumerate() {
        for f in 0..frames {
            let path = ReconMeta::frame_file(dir, sample, *kind, f as usize);
            let Ok(img) = image::open(&path) else {
                continue;
            };
            let mut img = img.to_rgb8();
            if img.dimensions() != (fw, fh) {
                img = image::imageops::resize(&img, fw, fh, image::imageops::FilterType::Nearest);
            }
            image::imageops::replace(
                &mut grid,
                &img,
                (f * (fw + gap)) as i64,
                (row as u32 * (fh + gap)) as i64,
            );
        }
    }
    Ok(grid)
}
