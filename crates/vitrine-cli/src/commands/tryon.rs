//! `vitrine tryon`: a 3D preview of a product photo on a mannequin,
//! rendered offscreen (see vitrine-render).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use image::RgbaImage;
use sha2::{Digest, Sha256};
use vitrine_core::store::DatabaseTarget;
use vitrine_core::{best_fact, DataDir, Fact, Photo, Store};
use vitrine_render::{
    decode_photo, dominant_colour, load_mesh, turntable_angles, write_apng, BodyType, Framing,
    Garment, Quality, Renderer, SizeChart, TryOn, View,
};
use vitrine_tryon::choose_garment;

use super::Context;

#[derive(Args)]
pub struct TryOnArgs {
    /// The product photo (its stored cut-out is used when it was ingested)
    photo: PathBuf,
    /// Garment: tshirt, hoodie, polo or dress [default: from the product's
    /// stored category when the photo was ingested, else tshirt]
    #[arg(long)]
    garment: Option<Garment>,
    /// A second photo for the garment's back [default: the fill colour]
    #[arg(long)]
    back: Option<PathBuf>,
    /// Size: S, M, L, XL or XXL (assets/size-chart.toml)
    #[arg(long, default_value = "M")]
    size: String,
    /// Body type: female, male or neutral
    #[arg(long, default_value = "neutral")]
    body: String,
    /// Camera: front, back or 34 (three-quarter)
    #[arg(long, default_value = "front")]
    view: View,
    /// Framing: full (the whole figure and its shadow) or close (knees
    /// to head, the garment filling the picture, for a listing)
    #[arg(long, default_value = "full")]
    framing: Framing,
    /// Orbit angle in degrees (0 = front), overriding the view's
    #[arg(long)]
    azimuth: Option<f32>,
    /// Camera distance in metres, overriding the view's
    #[arg(long)]
    distance: Option<f32>,
    /// Garment colour where the photo does not reach, as RRGGBB
    /// [default: the photo's dominant colour]
    #[arg(long)]
    fill: Option<String>,
    /// Output size in pixels (square)
    #[arg(long, default_value_t = 1024)]
    px: u32,
    /// Render N frames orbiting the figure and print the median frame time
    #[arg(long)]
    bench: Option<usize>,
    /// With --bench: draw the frames as the app's panel does while the
    /// view turns (no MSAA; the still that follows is antialiased)
    #[arg(long)]
    moving: bool,
    /// Render N frames over a full turn: numbered PNGs when --out is a
    /// directory, one animated PNG when it ends in .png
    #[arg(long)]
    turntable: Option<usize>,
    /// Milliseconds each turntable frame shows in an animated PNG
    #[arg(long, default_value_t = 80)]
    frame_ms: u16,
    /// Also write the mannequin and garment as binary glTF (.glb)
    #[arg(long)]
    export_gltf: Option<PathBuf>,
    /// Use this mannequin (.glb or .gltf; its first mesh) instead of the
    /// generated one; it is scaled to the size's height
    #[arg(long)]
    mannequin: Option<PathBuf>,
    /// Where to write the PNG (a directory for turntable frames)
    #[arg(long)]
    out: PathBuf,
}

fn parse_body(s: &str) -> Result<BodyType> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "female" => BodyType::Female,
        "male" => BodyType::Male,
        "neutral" => BodyType::Neutral,
        other => bail!("unknown body type `{other}` (female, male or neutral)"),
    })
}

fn parse_hex(s: &str) -> Result<[u8; 3]> {
    let h = s.trim_start_matches('#');
    if h.len() != 6 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!("--fill takes a colour as RRGGBB, not `{s}`");
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).context("hex colour");
    Ok([byte(0)?, byte(2)?, byte(4)?])
}

/// The stored photo with this sha256 and its product's facts, when the
/// photo was ingested. Only an existing store is read: a preview must not
/// create one.
async fn stored(dirs: &DataDir, sha: &str) -> Option<(Photo, Vec<Fact>)> {
    let target = match dirs.database() {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "no database configured; no stored category");
            return None;
        }
    };
    if let DatabaseTarget::SqliteFile(path) = &target {
        if !path.is_file() {
            return None;
        }
    }
    let store = match Store::open_target(&target).await {
        Ok(store) => store,
        Err(e) => {
            tracing::warn!(error = %e, "cannot open the store; no stored category");
            return None;
        }
    };
    let mut found = None;
    if let Ok(Some(photo)) = store.photo_by_sha(sha).await {
        let facts = store.facts(photo.product_id).await.unwrap_or_default();
        found = Some((photo, facts));
    }
    store.close().await;
    found
}

/// The photo as the app and the server draw it when it was ingested (its
/// stored cut-out), else the file itself (a photo with alpha already is a
/// cut-out; without, it is used whole), and the stored category if any.
async fn load_photo(ctx: &Context, path: &Path) -> Result<(RgbaImage, Option<String>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let known = match ctx.dirs() {
        Ok(dirs) => stored(&dirs, &sha).await,
        Err(_) => None,
    };
    if let Some((photo, facts)) = known {
        let category = best_fact(&facts, "category").map(|f| f.value.clone());
        match vitrine_tryon::load_photo(&photo) {
            Ok(img) => return Ok((img, category)),
            Err(e) => tracing::warn!(error = %e, "stored copy unusable; using the file given"),
        }
        let img = decode_photo(&bytes)
            .with_context(|| format!("{} is not an image this build can decode", path.display()))?;
        return Ok((img, category));
    }
    let img = decode_photo(&bytes)
        .with_context(|| format!("{} is not an image this build can decode", path.display()))?;
    Ok((img, None))
}

pub async fn run(ctx: &Context, args: TryOnArgs) -> Result<()> {
    if !(16..=8192).contains(&args.px) {
        bail!("--px must be between 16 and 8192");
    }
    let (photo, category) = load_photo(ctx, &args.photo).await?;
    let back = match &args.back {
        Some(p) => Some(load_photo(ctx, p).await?.0),
        None => None,
    };
    let fill = match &args.fill {
        Some(s) => parse_hex(s)?,
        None => dominant_colour(&photo).unwrap_or([128, 128, 128]),
    };
    let garment = choose_garment(args.garment, category.as_deref());
    if args.garment.is_none() {
        tracing::info!(category = ?category, garment = garment.key(), "garment from the stored category");
    }
    let mut tryon = TryOn::new(&args.size, args.view, fill);
    tryon.garment = garment;
    tryon.body = parse_body(&args.body)?;
    tryon.framing = args.framing;
    tryon.azimuth_deg = args.azimuth;
    tryon.distance = args.distance;
    if let Some(path) = &args.mannequin {
        tryon.mannequin = Some(load_mesh(path)?);
    }
    if let Some(path) = &args.export_gltf {
        let glb = tryon.export_glb(&SizeChart::builtin()?)?;
        std::fs::write(path, glb).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }

    let renderer = Renderer::new_headless()?;
    let prepared = tryon.prepare(&renderer, Some(&photo), back.as_ref())?;
    if let Some(n) = args.bench.filter(|&n| n > 0) {
        // Warm-up: the first frame compiles shaders and allocates targets.
        prepared.frame(&renderer, None, args.px)?;
        let mut ms = Vec::with_capacity(n);
        for a in turntable_angles(n, args.azimuth.unwrap_or(0.0)) {
            let t = Instant::now();
            if args.moving {
                let mut camera = prepared.camera;
                camera.azimuth = a.to_radians();
                prepared
                    .region_as(&renderer, &camera, args.px, Quality::Moving)?
                    .into_frame(args.px);
            } else {
                prepared.frame(&renderer, Some(a), args.px)?;
            }
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "{}x{} {}{} on {}: median {:.1} ms over {n} frames orbiting",
            args.px,
            args.px,
            garment.key(),
            if args.moving {
                " (moving, no MSAA)"
            } else {
                ""
            },
            renderer.adapter_name(),
            ms[n / 2]
        );
    }
    match args.turntable.filter(|&n| n > 1) {
        Some(n) => turntable(&renderer, &prepared, &args, n),
        None => {
            let img = prepared.frame(&renderer, None, args.px)?;
            img.save(&args.out)
                .with_context(|| format!("cannot write {}", args.out.display()))?;
            println!("{}", args.out.display());
            Ok(())
        }
    }
}

fn turntable(
    renderer: &Renderer,
    prepared: &vitrine_render::Prepared,
    args: &TryOnArgs,
    n: usize,
) -> Result<()> {
    let start = args.azimuth.unwrap_or(0.0);
    let animated = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let mut frames = Vec::with_capacity(if animated { n } else { 0 });
    if !animated {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
    }
    for (i, a) in turntable_angles(n, start).into_iter().enumerate() {
        let img = prepared.frame(renderer, Some(a), args.px)?;
        if animated {
            frames.push(img);
        } else {
            let path = args.out.join(format!("frame-{i:03}.png"));
            img.save(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    if animated {
        write_apng(&frames, &args.out, args.frame_ms)?;
    }
    println!("{}", args.out.display());
    Ok(())
}
