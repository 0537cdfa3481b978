//! Frame folders (the DFEW / MAFW / FERV39k layout): one image per frame, `.jpg`, `.jpeg` or
//! `.png`, in display order by the number in the file name (`1.jpg < 2.jpg < 10.jpg`;
//! names without a number sort after, by name).

use std::path::{Path, PathBuf};

use super::error::{DataError, DataErrorKind, DataResult};
use super::frame::Frame;
use super::thread_clock::thread_cpu_seconds;

/// The frames of a folder, listed but not yet decoded.
#[derive(Debug, Clone)]
pub struct FrameFolder {
    pub path: PathBuf,
    pub files: Vec<PathBuf>,
}

pub(crate) fn is_frame_file(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("jpg" | "jpeg" | "png")
    )
}

/// Sort key: the last run of digits in the file stem, then the name.
fn frame_key(p: &Path) -> (u64, String) {
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let digits: String = {
        let rev: String = stem
            .chars()
            .rev()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit())
            .collect();
        rev.chars().rev().collect()
    };
    let num = digits.parse::<u64>().unwrap_or(u64::MAX);
    (num, stem.to_string())
}

/// What [`FrameFolder::check`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FolderCheck {
    /// Frames that decode, at the size of the first readable one.
    pub decodable: usize,
    /// Width and height of the first readable frame.
    pub size: Option<(usize, usize)>,
    /// One line per bad frame, naming its file.
    pub problems: Vec<String>,
}

impl FrameFolder {
    pub fn open(path: &Path) -> DataResult<Self> {
        let entries = std::fs::read_dir(path).map_err(|e| DataError::io(path, &e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && is_frame_file(p))
            .collect();
        if files.is_empty() {
            return Err(DataError::new(path, DataErrorKind::EmptyFolder));
        }
        files.sort_by_cached_key(|p| frame_key(p));
        Ok(Self {
            path: path.to_path_buf(),
            files,
        })
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Decodes one frame.
    pub fn read(&self, index: usize) -> DataResult<Frame> {
        self.read_timed(index, &mut 0.0)
    }

    /// Decodes one frame, adding the CPU seconds spent reading the file to `read_s`.
    fn read_timed(&self, index: usize, read_s: &mut f64) -> DataResult<Frame> {
        let file = &self.files[index];
        let t0 = thread_cpu_seconds();
        let bytes = std::fs::read(file)
            .map_err(|e| DataError::new(file, DataErrorKind::Io(e.to_string())))?;
        *read_s += thread_cpu_seconds() - t0;
        if bytes.is_empty() {
            return Err(DataError::new(file, DataErrorKind::Empty));
        }
        let img = image::load_from_memory(&bytes)
            .map_err(|e| DataError::new(file, DataErrorKind::Image(e.to_string())))?;
        let rgb = img.into_rgb8();
        let (w, h) = rgb.dimensions();
        Ok(Frame::new(w as usize, h as usize, rgb.into_raw()))
    }

    /// Decodes the frames at `indices` (repeats allowed). An unreadable frame is replaced by
    /// the nearest readable one and reported in `warnings`; if none of the requested frames
    /// and none of their neighbours can be read, the first error is returned. CPU seconds
    /// spent reading files (not decoding them) are added to `read_s`.
    pub fn read_indices(
        &self,
        indices: &[usize],
        warnings: &mut Vec<String>,
        read_s: &mut f64,
    ) -> DataResult<Vec<Frame>> {
        let mut cache: std::collections::HashMap<usize, Frame> = Default::default();
        let mut out = Vec::with_capacity(indices.len());
        for &i in indices {
            if let Some(f) = cache.get(&i) {
                out.push(f.clone());
                continue;
            }
            let frame = match self.read_timed(i, read_s) {
                Ok(f) => f,
                Err(err) => {
                    let (j, f) = self.nearest_readable(i).ok_or_else(|| err.clone())?;
                    warnings.push(format!(
                        "{err}; used frame {j} ({}) instead",
                        self.files[j].display()
                    ));
                    f
                }
            };
            cache.insert(i, frame.clone());
            out.push(frame);
        }
        let (w, h) = (out[0].width, out[0].height);
        if let Some(bad) = out.iter().position(|f| f.width != w || f.height != h) {
            return Err(DataError::new(
                &self.files[indices[bad]],
                DataErrorKind::Image(format!(
                    "frame is {}x{}, earlier frames are {w}x{h}",
                    out[bad].width, out[bad].height
                )),
            ));
        }
        Ok(out)
    }

    /// Decodes every frame and reports what a loader would trip over: files that cannot be
    /// read or decoded, and frames whose size differs from the first readable one.
    pub fn check(&self) -> FolderCheck {
        let mut check = FolderCheck::default();
        for (i, file) in self.files.iter().enumerate() {
            match self.read(i) {
                Ok(f) => match check.size {
                    None => {
                        check.size = Some((f.width, f.height));
                        check.decodable += 1;
                    }
                    Some((w, h)) if (f.width, f.height) != (w, h) => {
                        check.problems.push(format!(
                            "{}: frame is {}x{}, the first frame is {w}x{h}",
                            file.display(),
                            f.width,
                            f.height
                        ));
                    }
                    Some(_) => check.decodable += 1,
                },
                Err(e) => check.problems.push(e.to_string()),
            }
        }
        check
    }

    fn nearest_readable(&self, i: usize) -> Option<(usize, Frame)> {
        (1..self.len())
            .flat_map(|d| [i.checked_sub(d), Some(i + d)])
            .flatten()
            .filter(|&j| j < self.len())
            .take(8)
            .find_map(|j| self.read(j).ok().map(|f| (j, f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_each_unreadable_or_odd_sized_frame() {
        let dir = tempfile::tempdir().unwrap();
        for (i, (w, h)) in [(8, 6), (8, 6), (8, 6), (6, 8)].iter().enumerate() {
            image::RgbImage::new(*w, *h)
                .save(dir.path().join(format!("{}.png", i + 1)))
                .unwrap();
        }
        std::fs::write(dir.path().join("3.png"), b"not an image").unwrap();
        std::fs::write(dir.path().join("5.jpg"), b"").unwrap();
        let check = FrameFolder::open(dir.path()).unwrap().check();
        assert_eq!(check.decodable, 2);
        assert_eq!(check.size, Some((8, 6)));
        assert_eq!(check.problems.len(), 3, "{:?}", check.problems);
        for (line, name) in check.problems.iter().zip(["3.png", "4.png", "5.jpg"]) {
            assert!(line.contains(name), "{line}");
        }
        assert!(check.problems[1].contains("6x8"), "{}", check.problems[1]);
    }

    #[test]
    fn frames_sort_by_number_not_by_name() {
        let mut v: Vec<PathBuf> = ["10.jpg", "2.jpg", "1.jpg", "img_0003.png"]
            .iter()
            .map(PathBuf::from)
            .collect();
        v.sort_by_cached_key(|p| frame_key(p));
        let names: Vec<_> = v.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(names, ["1.jpg", "2.jpg", "img_0003.png", "10.jpg"]);
    }
}
