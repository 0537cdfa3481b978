//! `svfap-tui data audit MANIFEST`: clip count, class balance, clip lengths against the
//! model's window, resolutions and frame rates, unreadable files, and a contact sheet PNG of
//! sampled middle frames — what to look at before a 100-epoch run.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::Args;
use svfap_tui::data::audit::{audit, sample_for_sheet, spread};
use svfap_tui::data::manifest::{LabelKind, Manifest, PathMapping};
use svfap_tui::data::registry::dataset_named;
use svfap_tui::report::contact_sheet::write_contact_sheet;

use super::bounded;
use super::progress::Progress;

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// A manifest: `path [label]` per line (paths relative to the manifest or `--root`).
    pub manifest: PathBuf,
    /// Dataset (dfew, ferv39k, mafw, …): class names, and labels checked against its classes.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Relative paths are joined to this folder instead of the manifest's.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Contact sheet PNG of sampled middle frames (default: MANIFEST with `.audit.png`).
    #[arg(long)]
    pub sheet: Option<PathBuf>,
    /// Clips on the contact sheet, spread over the classes (0: no sheet; at most 400).
    #[arg(long, default_value_t = 48, value_parser = bounded(0, 400))]
    pub samples: usize,
    /// Also look for a face (MTCNN) on each clip's middle frame, and mark face-less tiles.
    #[arg(long)]
    pub faces: bool,
    /// Clip window in frames (frames × stride) to count shorter clips against (paper: 64).
    #[arg(long, default_value_t = 64, value_parser = bounded(1, 4096))]
    pub window: usize,
}

pub fn run(args: &AuditArgs) -> Result<()> {
    let info = args
        .dataset
        .as_deref()
        .map(dataset_named)
        .transpose()
        .map_err(|e| anyhow!("--dataset: {e}"))?;
    let mapping = PathMapping {
        data_root: args.root.clone(),
        prefix: None,
    };
    // Labels when every line has one (checked against the dataset's classes), else none.
    let kind = info.map_or(LabelKind::Class { classes: None }, |d| d.label_kind());
    let manifest = match Manifest::read(&args.manifest, kind, &mapping) {
        Ok(m) => m,
        Err(e) if info.is_some() => return Err(e.into()),
        Err(_) => Manifest::read(&args.manifest, LabelKind::None, &mapping)?,
    };
    let entries = &manifest.entries;
    let sheet_path = args
        .sheet
        .clone()
        .unwrap_or_else(|| args.manifest.with_extension("audit.png"));
    let sampled = if args.samples > 0 {
        sample_for_sheet(entries, args.samples)
    } else {
        vec![]
    };
    let mut bar = std::sync::Mutex::new(Progress::new(
        args.manifest.display().to_string(),
        "clips",
        entries.len(),
    ));
    let report = audit(entries, &sampled, 96, args.faces, &|done, _| {
        bar.lock().unwrap().update(done)
    });
    bar.get_mut().unwrap().finish();
    let name = |c: usize| -> String {
        info.and_then(|d| d.labels.get(c).map(|s| s.to_string()))
            .unwrap_or_else(|| format!("class {c}"))
    };
    println!(
        "manifest:    {} ({} clips)",
        manifest.file.display(),
        report.clips
    );
    if !report.class_counts.is_empty() {
        let max = *report.class_counts.values().max().unwrap_or(&1);
        let min = *report.class_counts.values().min().unwrap_or(&1);
        println!(
            "classes:     {} (largest/smallest {:.1}×)",
            report.class_counts.len(),
            max as f64 / min.max(1) as f64
        );
        for (c, n) in &report.class_counts {
            let bar = "█".repeat((n * 30).div_ceil(max.max(1)));
            println!(
                "  {c:>3} {:<14} {n:>7} {:5.1}%  {bar}",
                name(*c),
                100.0 * *n as f64 / report.clips as f64
            );
        }
        if let Some(d) = info {
            let missing: Vec<String> = (0..d.num_labels())
                .filter(|c| !report.class_counts.contains_key(c))
                .map(name)
                .collect();
            if !missing.is_empty() {
                println!("  no clips of: {}", missing.join(", "));
            }
        }
    } else {
        println!("classes:     none (no label column)");
    }
    let readable = report.facts.len();
    if let Some((lo, mid, hi)) = spread(report.facts.iter().map(|f| f.frames).collect()) {
        println!("frames:      min {lo}, median {mid}, max {hi}");
        let short = report.shorter_than(args.window);
        println!(
            "             {short} of {readable} clips ({:.1}%) are shorter than a {}-frame window and repeat frames",
            100.0 * short as f64 / readable.max(1) as f64,
            args.window
        );
    }
    let res = report.resolutions();
    let listed: Vec<String> = res
        .iter()
        .rev()
        .take(6)
        .map(|((w, h), n)| format!("{w}×{h} ({n})"))
        .collect();
    println!(
        "resolution:  {}{}",
        listed.join(", "),
        if res.len() > 6 {
            format!(", … {} sizes in all", res.len())
        } else {
            String::new()
        }
    );
    let rates: Vec<String> = report
        .frame_rates()
        .iter()
        .map(|(r, n)| format!("{r} ({n})"))
        .collect();
    println!("frame rate:  {}", rates.join(", "));
    if let Some((with, looked)) = report.with_face() {
        println!(
            "faces:       {with} of {looked} middle frames show a face ({:.1}%)",
            100.0 * with as f64 / looked.max(1) as f64
        );
    }
    println!("unreadable:  {}", report.unreadable.len());
    for (line, _, reason) in report.unreadable.iter().take(20) {
        println!("  line {line}: {reason}");
    }
    if report.unreadable.len() > 20 {
        println!("  … {} more", report.unreadable.len() - 20);
    }
    if !report.samples.is_empty() {
        let tiles: Vec<_> = report
            .samples
            .iter()
            .map(|(i, f)| {
                let e = &entries[*i];
                let label = e.label.class().map(name).unwrap_or_default();
                let no_face = report
                    .facts
                    .iter()
                    .find(|c| c.index == *i)
                    .is_some_and(|c| c.face == Some(false));
                let mark = if no_face { " NO FACE" } else { "" };
                (f.clone(), format!("{} {label}{mark}", e.line))
            })
            .collect();
        let title = format!(
            "{}: middle frames of {} clips (line number, label)",
            args.manifest.display(),
            tiles.len()
        );
        write_contact_sheet(&sheet_path, &title, &tiles, 96, 8).map_err(|e| anyhow!(e))?;
        println!("sheet:       {}", sheet_path.display());
    }
    if readable == 0 {
        bail!(
            "{}: none of the {} clips could be read",
            args.manifest.display(),
            report.clips
        );
    }
    Ok(())
}
