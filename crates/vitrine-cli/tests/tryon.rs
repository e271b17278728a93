//! `vitrine tryon` end to end on the software adapter (lavapipe).

mod common;

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

fn red_cutout(path: &Path) {
    image::RgbaImage::from_fn(64, 64, |x, _| {
        if (16..48).contains(&x) {
            image::Rgba([220, 20, 20, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    })
    .save(path)
    .expect("write photo");
}

#[test]
fn turntables_gltf_round_trip_and_bad_mannequins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("hoodie.png");
    red_cutout(&photo);
    let p = photo.to_str().expect("utf8");
    let spin = dir.path().join("spin.png");
    let glb = dir.path().join("figure.glb");
    let o = tryon(
        dir.path(),
        &[
            p,
            "--garment",
            "hoodie",
            "--px",
            "64",
            "--turntable",
            "3",
            "--export-gltf",
            glb.to_str().expect("utf8"),
            "--out",
            spin.to_str().expect("utf8"),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = std::fs::File::open(&spin).expect("apng");
    let reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("png");
    let frames = reader.info().animation_control().map(|c| c.num_frames);
    assert_eq!(frames, Some(3));

    // The exported figure's first mesh is the mannequin: it loads back.
    let out = dir.path().join("again.png");
    let o = tryon(
        dir.path(),
        &[
            p,
            "--mannequin",
            glb.to_str().expect("utf8"),
            "--px",
            "64",
            "--out",
            out.to_str().expect("utf8"),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.is_file());

    let bad = dir.path().join("bad.glb");
    std::fs::write(&bad, b"glTF but not really").expect("write");
    let out = dir.path().join("never.png");
    let o = tryon(
        dir.path(),
        &[
            p,
            "--mannequin",
            bad.to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("glTF") && err.contains("bad.glb"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
}

/// The garment `--bench` says it drew (`… hoodie on lavapipe: median …`).
fn benched_garment(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout);
    out.lines()
        .find_map(|l| l.split(" on ").next()?.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_string()
}

/// Without `--garment`, a photo that was ingested (and classified as a
/// hoodie by the real classifier) is worn as a hoodie; the same photo in a
/// library that never saw it is a T-shirt.
#[test]
fn without_a_garment_an_ingested_hoodie_is_worn_as_a_hoodie() {
    let data = tempfile::tempdir().expect("tempdir");
    let photo = common::samples().join("hoodie-02.png");
    let o = common::run(
        common::vitrine(data.path())
            .args(["analyze", "--json"])
            .arg(&photo),
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let out = data.path().join("p.png");
    let args = [
        photo.to_str().expect("utf8"),
        "--px",
        "48",
        "--bench",
        "1",
        "--out",
        out.to_str().expect("utf8"),
    ];
    let o = tryon(data.path(), &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(
        benched_garment(&o),
        "hoodie",
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(out.is_file());

    let elsewhere = tempfile::tempdir().expect("tempdir");
    let o = tryon(elsewhere.path(), &args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(benched_garment(&o), "tshirt");
}

/// `--framing close` fills the picture with the garment: seen 1.6 times
/// closer, the shirt covers well over twice the pixels of the full figure.
#[test]
fn close_framing_fills_the_picture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("shirt.png");
    red_cutout(&photo);
    let red_pixels = |framing: &str| {
        let out = dir.path().join(format!("{framing}.png"));
        let o = tryon(
            dir.path(),
            &[
                photo.to_str().expect("utf8"),
                "--framing",
                framing,
                "--px",
                "96",
                "--out",
                out.to_str().expect("utf8"),
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let img = image::open(&out).expect("preview").to_rgba8();
        img.pixels()
            .filter(|p| p[0] > 100 && p[0] as u32 > 3 * p[1] as u32)
            .count()
    };
    let (full, close) = (red_pixels("full"), red_pixels("close"));
    assert!(
        close > full * 2,
        "close framing shows {close} red pixels, the full figure {full}"
    );
    let o = tryon(
        dir.path(),
        &[
            photo.to_str().expect("utf8"),
            "--framing",
            "tight",
            "--out",
            "x.png",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("full or close"));
}
