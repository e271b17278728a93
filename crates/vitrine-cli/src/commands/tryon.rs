//! `vitrine tryon`: a 3D preview of a product photo on a mannequin,
//! rendered offscreen (see vitrine-render).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use image::RgbaImage;
use sha2::{Digest, Sha256};
use vitrine_core::store::DatabaseTarget;
use vitrine_core::{DataDir, Store};
use vitrine_render::{
    decode_photo, dominant_colour, load_mesh, turntable_angles, write_apng, BodyType, Framing,
    Garment, Quality, Renderer, SizeChart, TryOn, View,
};

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

/// What the store knows about an ingested photo: its cut-out (the store
/// names cut-outs by the original's sha256) and the product's category.
struct Stored {
    cutout: Option<PathBuf>,
    category: Option<String>,
}

async fn stored(dirs: &DataDir, sha: &str) -> Stored {
    let cutout = Some(dirs.cutouts_dir().join(format!("{sha}.png"))).filter(|p| p.is_file());
    // Only an existing store is read: a preview must not create one.
    let mut category = None;
    let target = match dirs.database() {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(error = %e, "no database configured; no stored category");
            None
        }
    };
    let exists = match &target {
        Some(DatabaseTarget::SqliteFile(path)) => path.is_file(),
        Some(DatabaseTarget::Postgres(_)) => true,
        None => false,
    };
    if let Some(target) = target.filter(|_| exists) {
        match Store::open_target(&target).await {
            Ok(store) => {
                if let Ok(Some(photo)) = store.photo_by_sha(sha).await {
                    if let Ok(facts) = store.facts(photo.product_id).await {
                        category = facts
                            .into_iter()
                            .find(|f| f.key == "category")
                            .map(|f| f.value);
                    }
                }
                store.close().await;
            }
            Err(e) => tracing::warn!(error = %e, "cannot open the store; no stored category"),
        }
    }
    Stored { cutout, category }
}

/// The photo's stored cut-out when it was ingested, else the photo itself
/// (a photo with alpha already is a cut-out; without, it is used whole),
/// and the stored category if any.
async fn load_photo(ctx: &Context, path: &Path) -> Result<(RgbaImage, Option<String>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let known = match ctx.dirs() {
        Ok(dirs) => stored(&dirs, &sha).await,
        Err(_) => Stored {
            cutout: None,
            category: None,
        },
    };
    if let Some(cutout) = &known.cutout {
        tracing::info!(cutout = %cutout.display(), "using the stored cut-out");
        let img = image::open(cutout)
            .with_context(|| format!("cannot decode the stored cut-out {}", cutout.display()))?
            .to_rgba8();
        return Ok((img, known.category));
    }
    let img = decode_photo(&bytes)
        .with_context(|| format!("{} is not an image this build can decode", path.display()))?;
    Ok((img, known.category))
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
    let garment = match args.garment {
        Some(g) => g,
        None => {
            let g = category
                .as_deref()
                .and_then(Garment::from_category)
                .unwrap_or(Garment::TShirt);
            tracing::info!(category = ?category, garment = g.key(), "garment from the stored category");
            g
        }
    };
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
