//! `vitrine tryon`: a 3D preview of a product photo on a mannequin,
//! rendered offscreen (see vitrine-render).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use image::RgbaImage;
use sha2::{Digest, Sha256};
use vitrine_render::{dominant_colour, BodyType, Garment, Renderer, TryOn, View};

use super::Context;

#[derive(Args)]
pub struct TryOnArgs {
    /// The product photo (its stored cut-out is used when it was ingested)
    photo: PathBuf,
    /// Garment: tshirt
    #[arg(long, default_value = "tshirt")]
    garment: Garment,
    /// Size: S, M, L, XL or XXL (assets/size-chart.toml)
    #[arg(long, default_value = "M")]
    size: String,
    /// Body type: female, male or neutral
    #[arg(long, default_value = "neutral")]
    body: String,
    /// Camera: front, back or 34 (three-quarter)
    #[arg(long, default_value = "front")]
    view: View,
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
    /// Render N times and print the median frame time
    #[arg(long)]
    bench: Option<usize>,
    /// Where to write the PNG
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

/// The photo's cut-out from the store when it was ingested (the store names
/// cut-outs by the original's sha256), else the photo itself: a photo with
/// alpha already is a cut-out; without, it is used whole.
fn load_photo(ctx: &Context, path: &Path) -> Result<RgbaImage> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    if let Ok(dirs) = ctx.dirs() {
        let cutout = dirs.cutouts_dir().join(format!("{sha}.png"));
        if cutout.is_file() {
            tracing::info!(cutout = %cutout.display(), "using the stored cut-out");
            return Ok(image::open(&cutout)
                .with_context(|| format!("cannot decode the stored cut-out {}", cutout.display()))?
                .to_rgba8());
        }
    }
    Ok(image::load_from_memory(&bytes)
        .with_context(|| format!("{} is not an image this build can decode", path.display()))?
        .to_rgba8())
}

pub async fn run(ctx: &Context, args: TryOnArgs) -> Result<()> {
    if !(16..=8192).contains(&args.px) {
        bail!("--px must be between 16 and 8192");
    }
    let photo = load_photo(ctx, &args.photo)?;
    let fill = match &args.fill {
        Some(s) => parse_hex(s)?,
        None => dominant_colour(&photo).unwrap_or([128, 128, 128]),
    };
    let mut tryon = TryOn::new(&args.size, args.view, fill);
    tryon.garment = args.garment;
    tryon.body = parse_body(&args.body)?;
    tryon.azimuth_deg = args.azimuth;
    tryon.distance = args.distance;

    let renderer = Renderer::new_headless()?;
    let img = tryon.render(&renderer, Some(&photo), args.px)?;
    if let Some(n) = args.bench.filter(|&n| n > 0) {
        let mut ms = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            tryon.render(&renderer, Some(&photo), args.px)?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "{}x{} on {}: median {:.1} ms over {n} frames",
            args.px,
            args.px,
            renderer.adapter_name(),
            ms[n / 2]
        );
    }
    img.save(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("{}", args.out.display());
    Ok(())
}
