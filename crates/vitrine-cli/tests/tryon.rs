//! `vitrine tryon` end to end on the software adapter (lavapipe).

use std::path::Path;
use std::process::{Command, Output};

fn tryon(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .env("VITRINE_DATA_DIR", data)
        .env("VITRINE_RENDER_ADAPTER", "software")
        .arg("tryon")
        .args(args)
        .output()
        .expect("run vitrine")
}

#[test]
fn renders_a_cut_out_on_the_mannequin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("shirt.png");
    let out = dir.path().join("preview.png");
    image::RgbaImage::from_fn(64, 64, |x, _| {
        if (16..48).contains(&x) {
            image::Rgba([220, 20, 20, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    })
    .save(&photo)
    .expect("write photo");
    let o = tryon(
        dir.path(),
        &[
            photo.to_str().expect("utf8"),
            "--size",
            "L",
            "--view",
            "34",
            "--px",
            "96",
            "--out",
            out.to_str().expect("utf8"),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let img = image::open(&out).expect("preview").to_rgba8();
    assert_eq!(img.dimensions(), (96, 96));
    // The dominant colour (red) is the fill, so the shirt shows red pixels.
    let red = img
        .pixels()
        .filter(|p| p[0] > 100 && p[0] as u32 > 3 * p[1] as u32)
        .count();
    assert!(red > 100, "only {red} red pixels");
}

#[test]
fn missing_or_undecodable_photos_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("p.png");
    let o = tryon(
        dir.path(),
        &["/no/such/photo.png", "--out", out.to_str().expect("utf8")],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read /no/such/photo.png"));
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not an image").expect("write");
    let o = tryon(
        dir.path(),
        &[
            junk.to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not an image"));
    assert!(!out.exists());
}
