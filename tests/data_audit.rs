//! `data audit` through the real binary: balance, lengths, resolutions, unreadable lines and
//! a contact sheet with one tile per sampled clip.

mod common_cli;
mod common_runs;

use common_cli::{ok, svfap};
use common_runs::demo_data;

#[test]
fn audit_reports_balance_lengths_unreadable_lines_and_writes_a_sheet() {
    let data = demo_data();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.csv");
    let test = std::fs::read_to_string(data.join("test.csv")).unwrap();
    // Relative paths resolve under --root: the junk file goes there.
    let junk = data.join(format!("junk-{}.mp4", std::process::id()));
    std::fs::write(&junk, b"junk").unwrap();
    let text = format!(
        "{test}missing.mp4 3\n{} 1\n",
        junk.file_name().unwrap().to_str().unwrap()
    );
    let lines = text.lines().count();
    std::fs::write(&manifest, text).unwrap();
    let sheet = dir.path().join("sheet.png");
    let out = ok(svfap(&[
        "data",
        "audit",
        manifest.to_str().unwrap(),
        "--dataset",
        "dfew",
        "--root",
        data.to_str().unwrap(),
        "--sheet",
        sheet.to_str().unwrap(),
        "--samples",
        "7",
        "--window",
        "32",
    ]));
    assert!(out.contains(&format!("({lines} clips)")), "{out}");
    assert!(out.contains("happy"), "{out}");
    assert!(
        out.contains("frames:      min 16, median 16, max 16"),
        "{out}"
    );
    assert!(
        out.contains("7 of 7 clips (100.0%) are shorter than a 32-frame window"),
        "{out}"
    );
    assert!(out.contains("resolution:  32×32 (7)"), "{out}");
    assert!(out.contains("frame rate:  25.00 (7)"), "{out}");
    assert!(out.contains("unreadable:  2"), "{out}");
    assert!(
        out.contains(&format!("line {}: ", lines - 1)) && out.contains("missing.mp4"),
        "{out}"
    );
    let img = image::open(&sheet).unwrap().into_rgb8();
    // 7 tiles of 96 px in a grid of 8 columns: one row.
    assert_eq!(img.dimensions(), (8 * 100 + 4, 116 + 4 + 24));
}

#[test]
fn audit_of_a_manifest_with_no_readable_clip_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.csv");
    std::fs::write(&manifest, "a.mp4 0\nb.mp4 1\n").unwrap();
    let out = svfap(&[
        "data",
        "audit",
        manifest.to_str().unwrap(),
        "--samples",
        "0",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("none of the 2 clips could be read"), "{err}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("line 1: "),
        "stdout lists each"
    );
}

#[test]
fn audit_with_faces_counts_middle_frames_with_a_face_and_marks_the_rest() {
    let faces = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/faces");
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.csv");
    // cut.mp4's middle frame is inside its cut to a face-less shot.
    std::fs::write(&manifest, "pan.mp4 0\ncut.mp4 1\n").unwrap();
    let sheet = dir.path().join("s.png");
    let out = ok(svfap(&[
        "data",
        "audit",
        manifest.to_str().unwrap(),
        "--root",
        faces.to_str().unwrap(),
        "--faces",
        "--sheet",
        sheet.to_str().unwrap(),
    ]));
    assert!(
        out.contains("faces:       1 of 2 middle frames show a face (50.0%)"),
        "{out}"
    );
    // Without --faces nothing is claimed about faces.
    let out = ok(svfap(&[
        "data",
        "audit",
        manifest.to_str().unwrap(),
        "--root",
        faces.to_str().unwrap(),
        "--samples",
        "0",
    ]));
    assert!(!out.contains("faces:"), "{out}");
}
