//! Photo ingest: validate a file, de-duplicate it by content, keep a copy
//! and a thumbnail in the data dir, and record the product, the photo and
//! its colour facts in one transaction.
//!
//! Every rejection is a one-line [`CoreError`] that names the file, and a
//! rejected or failed ingest leaves nothing behind: no rows, no files.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::analysis::{self, CategoryGuess, ImageClassifier};
use crate::colours::{self, area_downsample};
use crate::error::{CoreError, Result};
use crate::kg::KnowledgeGraph;
use crate::label_text::{self, LazyOcr, ReadWhen};
use crate::paths::DataDir;
use crate::store::{self, NewFact, NewPhoto, Store};
use crate::title_facts::{self, TitleFact};
use crate::types::{ColourShare, FactSource, IngestOutcome};

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest width or height accepted, checked from the header before decoding.
pub const MAX_SIDE: u32 = 12_000;
/// Long side of the working copy that thumbnails and colours are made from.
pub const ANALYSIS_SIDE: u32 = 1024;
/// Long side of stored thumbnails.
pub const THUMBNAIL_SIDE: u32 = 256;
/// Memory a decoder may allocate. 1 GiB rather than `image`'s default 512 MiB
/// so that every 8-bit image within `MAX_SIDE` (12000² RGBA is 576 MB) fits.
const MAX_DECODE_BYTES: u64 = 1024 * 1024 * 1024;
/// Colours covering less of the product than this are noise, not facts.
pub const MIN_COLOUR_SHARE: f32 = 0.05;
pub const MAX_COLOUR_FACTS: usize = 4;
/// Lines of printed text kept as facts.
pub const MAX_TEXT_FACTS: usize = 8;

/// What ingest uses beyond the pixels: the knowledge graph and, when
/// installed, the photo classifier. Without them a photo still gets its
/// colours and cut-out.
#[derive(Clone, Default)]
pub struct Understanding {
    pub kg: Option<Arc<KnowledgeGraph>>,
    pub classifier: Option<Arc<dyn ImageClassifier>>,
    /// The merchant's title for the product, when given: it names the
    /// product in the store and votes on the category with the photo.
    pub title: Option<String>,
    /// A vision-language model, when the user configured one: asked for the
    /// product's category and attributes (facts with source `vision`).
    pub vlm: Option<crate::vlm_facts::SharedVlm>,
    /// The OCR models, when installed or asked for: the text printed on
    /// the product (facts with source `ocr`, key `text`), which also votes
    /// on the category and, for paint, names the colour
    /// (`crate::label_text`).
    pub ocr: Option<Arc<LazyOcr>>,
    /// Every photo's text, or only where it can change the answer.
    pub ocr_when: ReadWhen,
    /// Add the photo to this product (another view of it: a catalogue's
    /// second image) instead of making a new product; its facts stay those
    /// of the product's first photo.
    pub product: Option<i64>,
}

/// Ingest a photo file (colours and cut-out; no classifier).
pub async fn ingest_path(store: &Store, dirs: &DataDir, path: &Path) -> Result<IngestOutcome> {
    ingest_path_with(store, dirs, path, &Understanding::default()).await
}

/// Ingest a photo file, classifying it when `understanding` has a classifier.
pub async fn ingest_path_with(
    store: &Store,
    dirs: &DataDir,
    path: &Path,
    understanding: &Understanding,
) -> Result<IngestOutcome> {
    let owned = path.to_path_buf();
    let bytes = blocking(move || read_photo_file(&owned)).await?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source_name = sanitise_source_name(&file_name);
    ingest(
        store,
        dirs,
        path.to_path_buf(),
        source_name,
        bytes,
        understanding,
    )
    .await
}

/// Ingest a photo received as bytes (a drop in the desktop app, an HTTP
/// upload). `source_name` is only a display name: it is sanitised and never
/// used as a path.
pub async fn ingest_bytes(
    store: &Store,
    dirs: &DataDir,
    source_name: &str,
    bytes: &[u8],
) -> Result<IngestOutcome> {
    ingest_bytes_with(store, dirs, source_name, bytes, &Understanding::default()).await
}

/// [`ingest_bytes`] with a classifier when `understanding` has one.
pub async fn ingest_bytes_with(
    store: &Store,
    dirs: &DataDir,
    source_name: &str,
    bytes: &[u8],
    understanding: &Understanding,
) -> Result<IngestOutcome> {
    let source_name = sanitise_source_name(source_name);
    let label = PathBuf::from(&source_name);
    check_size(&label, bytes.len() as u64)?;
    ingest(
        store,
        dirs,
        label,
        source_name,
        bytes.to_vec(),
        understanding,
    )
    .await
}

/// Everything learnt from the pixels, computed off the async runtime.
struct Analysis {
    format: &'static str,
    width: u32,
    height: u32,
    thumbnail_png: Vec<u8>,
    cutout_png: Vec<u8>,
    colours: Vec<ColourShare>,
    category: Option<CategoryGuess>,
    vision: Vec<crate::vlm_facts::VisionFact>,
    text: Vec<vitrine_infer::vision::OcrLine>,
    title: Vec<TitleFact>,
}

async fn ingest(
    store: &Store,
    dirs: &DataDir,
    label: PathBuf,
    source_name: String,
    bytes: Vec<u8>,
    understanding: &Understanding,
) -> Result<IngestOutcome> {
    // Hash before decoding: a duplicate needs no decode at all.
    let (sha, bytes) = blocking(move || Ok((hex::encode(Sha256::digest(&bytes)), bytes))).await?;
    if let Some(photo) = store.photo_by_sha(&sha).await? {
        tracing::info!(file = %label.display(), photo_id = photo.id, "duplicate photo; nothing stored");
        return duplicate_outcome(store, photo).await;
    }

    let (mut analysis, bytes) = {
        let label = label.clone();
        let understanding = understanding.clone();
        blocking(move || analyse(&label, &bytes, &understanding).map(|a| (a, bytes))).await?
    };

    dirs.ensure()?;
    let photos_dir = absolute(&dirs.photos_dir())?;
    let thumbs_dir = absolute(&dirs.thumbs_dir())?;
    let cutouts_dir = absolute(&dirs.cutouts_dir())?;
    let original = photos_dir.join(format!("{sha}.{}", analysis.format));
    let thumbnail = thumbs_dir.join(format!("{sha}.png"));
    let cutout = cutouts_dir.join(format!("{sha}.png"));
    let original_path = utf8(&original)?;
    let thumbnail_path = utf8(&thumbnail)?;
    let cutout_path = utf8(&cutout)?;
    {
        let (original, thumbnail, cutout) = (original.clone(), thumbnail.clone(), cutout.clone());
        let thumb_bytes = std::mem::take(&mut analysis.thumbnail_png);
        let cutout_bytes = std::mem::take(&mut analysis.cutout_png);
        blocking(move || {
            write_atomically(&original, &bytes)?;
            let rest = write_atomically(&thumbnail, &thumb_bytes)
                .and_then(|()| write_atomically(&cutout, &cutout_bytes));
            if let Err(e) = rest {
                remove_quietly(&original);
                remove_quietly(&thumbnail);
                return Err(e);
            }
            Ok(())
        })
        .await?;
    }

    let name = match understanding.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.chars().take(200).collect(),
        _ => product_name(&source_name),
    };
    let saved = save(
        store,
        understanding.product,
        &name,
        &analysis,
        &sha,
        [&original_path, &thumbnail_path, &cutout_path],
        &source_name,
    )
    .await;
    match saved {
        Ok(outcome) => {
            tracing::info!(
                file = %label.display(),
                product_id = outcome.product_id,
                photo_id = outcome.photo.id,
                colours = outcome.facts.len(),
                "photo ingested"
            );
            Ok(outcome)
        }
        Err(err) => {
            // A concurrent ingest of the same file may have won the race to
            // the unique sha256; then the files are its files, and this
            // ingest is simply a duplicate.
            if let Ok(Some(photo)) = store.photo_by_sha(&sha).await {
                return duplicate_outcome(store, photo).await;
            }
            remove_quietly(&original);
            remove_quietly(&thumbnail);
            remove_quietly(&cutout);
            Err(err)
        }
    }
}

async fn save(
    store: &Store,
    into: Option<i64>,
    name: &str,
    analysis: &Analysis,
    sha: &str,
    [original_path, thumbnail_path, cutout_path]: [&str; 3],
    source_name: &str,
) -> Result<IngestOutcome> {
    let mut tx = store.begin_write().await?;
    let product_id = match into {
        Some(id) => id,
        None => store::insert_product(&mut tx, name).await?,
    };
    let photo = store::insert_photo(
        &mut tx,
        &NewPhoto {
            product_id,
            sha256: sha,
            original_path,
            thumbnail_path,
            cutout_path: Some(cutout_path),
            source_name,
            width: analysis.width,
            height: analysis.height,
            format: analysis.format,
        },
    )
    .await?;
    let mut facts = Vec::new();
    if into.is_none() {
        for fact in machine_facts(product_id, analysis) {
            facts.push(store::insert_fact(&mut tx, &fact).await?);
        }
    }
    tx.commit().await?;
    Ok(IngestOutcome {
        product_id,
        photo,
        duplicate: false,
        facts,
        category: analysis.category.clone(),
    })
}

/// The facts analysis derives: colours, and the category when the
/// classifier was sure enough to name one.
fn machine_facts(product_id: i64, analysis: &Analysis) -> Vec<NewFact> {
    let mut facts = colour_facts(product_id, &analysis.colours);
    if let Some(g) = &analysis.category {
        if let (Some(key), Some(en), Some(zh)) = (&g.key, &g.en, &g.zh) {
            facts.push(NewFact {
                product_id,
                key: "category".into(),
                value: key.clone(),
                label_en: en.clone(),
                label_zh: zh.clone(),
                source: FactSource::Classifier,
                confidence: g.confidence,
                data: json!({
                    "top_level": g.top_level,
                    "model": g.model,
                    "classes": g.classes.iter().take(5).map(|c| json!({
                        "index": c.index,
                        "label": c.label,
                        "p": (f64::from(c.probability) * 1000.0).round() / 1000.0,
                        "category": c.category,
                    })).collect::<Vec<_>>(),
                }),
            });
        }
    }
    for f in &analysis.title {
        facts.push(NewFact {
            product_id,
            key: f.attribute.clone(),
            value: f.value.key.clone(),
            label_en: f.value.en.clone(),
            label_zh: f.value.zh.clone(),
            source: FactSource::Import,
            confidence: title_facts::TITLE_CONFIDENCE,
            data: json!({ "from": "title", "named": f.named }),
        });
    }
    for f in &analysis.vision {
        facts.push(NewFact {
            product_id,
            key: f.key.clone(),
            value: f.value.clone(),
            label_en: f.en.clone(),
            label_zh: f.zh.clone(),
            source: FactSource::Vision,
            confidence: crate::vlm_facts::VISION_CONFIDENCE,
            data: json!({}),
        });
    }
    // The longest lines first: brand names and product words, before
    // stray numbers. Text is data for the prompt, never instructions.
    let mut lines: Vec<&vitrine_infer::vision::OcrLine> = analysis.text.iter().collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.text.chars().count()));
    for l in lines.into_iter().take(MAX_TEXT_FACTS) {
        let text: String = l.text.chars().take(120).collect();
        facts.push(NewFact {
            product_id,
            key: "text".into(),
            value: text.clone(),
            label_en: text.clone(),
            label_zh: text,
            source: FactSource::Ocr,
            confidence: l.confidence,
            data: json!({ "bbox": l.bbox }),
        });
    }
    facts
}

async fn duplicate_outcome(store: &Store, photo: crate::types::Photo) -> Result<IngestOutcome> {
    let facts = store.facts(photo.product_id).await?;
    Ok(IngestOutcome {
        product_id: photo.product_id,
        photo,
        duplicate: true,
        facts,
        category: None,
    })
}

/// The colour facts worth keeping: the few colours that cover a real part
/// of the product, with their share as confidence.
fn colour_facts(product_id: i64, colours: &[ColourShare]) -> Vec<NewFact> {
    colours
        .iter()
        .filter(|c| c.share >= MIN_COLOUR_SHARE)
        .take(MAX_COLOUR_FACTS)
        .enumerate()
        .map(|(i, c)| {
            let share = c.share.clamp(0.0, 1.0);
            NewFact {
                product_id,
                key: "colour".into(),
                value: c.key.clone(),
                label_en: c.name_en.clone(),
                label_zh: c.name_zh.clone(),
                source: FactSource::Colour,
                confidence: share,
                data: json!({
                    "hex": c.hex,
                    // Three decimals: more would be noise in prompts and UIs.
                    "share": (f64::from(share) * 1000.0).round() / 1000.0,
                    "rank": i + 1,
                }),
            }
        })
        .collect()
}

/// Read a file for ingest, refusing what is not a photo-sized regular file
/// before reading it.
fn read_photo_file(path: &Path) -> Result<Vec<u8>> {
    let io = |source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CoreError::MissingFile {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(io(e)),
    };
    if meta.is_dir() {
        return Err(CoreError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        // A FIFO or device would block or never end.
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    check_size(path, meta.len())?;
    let file = std::fs::File::open(path).map_err(io)?;
    // Bounded even if the file grows between the check and the read.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    check_size(path, bytes.len() as u64)?;
    Ok(bytes)
}

fn check_size(path: &Path, size: u64) -> Result<()> {
    if size == 0 {
        return Err(CoreError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    if size > MAX_FILE_BYTES {
        return Err(CoreError::FileTooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(())
}

/// Validate, decode and analyse the photo. CPU-bound: call it off the
/// async runtime.
fn analyse(label: &Path, bytes: &[u8], understanding: &Understanding) -> Result<Analysis> {
    let format = sniff_format(label, bytes)?;
    let corrupt = |reason: String| CoreError::CorruptImage {
        path: label.to_path_buf(),
        reason,
    };
    let too_large = |width, height| CoreError::ImageTooLarge {
        path: label.to_path_buf(),
        width,
        height,
        limit: MAX_SIDE,
    };

    // PNG's decoder reads every chunk up to the pixel data before it reports
    // dimensions, so a bare header would fail as "corrupt"; read the IHDR
    // ourselves so an oversized PNG is refused as such, before any decoder
    // exists.
    if format == ImageFormat::Png {
        let (w, h) = png_dimensions(bytes).ok_or_else(|| corrupt("no valid PNG header".into()))?;
        if w > MAX_SIDE || h > MAX_SIDE {
            return Err(too_large(w, h));
        }
    }
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(bytes).map_err(|reason| corrupt(reason.into()))?;
    }

    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| image_error(label, e))?;

    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(too_large(width, height));
    }
    if width == 0 || height == 0 {
        return Err(corrupt(format!("image is {width}x{height} pixels")));
    }
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(corrupt(format!(
            "decoding needs {} MiB, more than the {} MiB limit",
            decoder.total_bytes() >> 20,
            MAX_DECODE_BYTES >> 20
        )));
    }
    // Broken EXIF must not cost the merchant a usable photo.
    let orientation = decoder.orientation().unwrap_or_else(|e| {
        tracing::warn!(file = %label.display(), error = %e, "ignoring unreadable EXIF orientation");
        image::metadata::Orientation::NoTransforms
    });
    let full = DynamicImage::from_decoder(decoder).map_err(|e| image_error(label, e))?;
    let has_alpha = full.color().has_alpha();

    // Work on a bounded copy from here on and free the full decode early.
    // Orientation is applied to the copy: it commutes with a square-bounded
    // downscale and is far cheaper on fewer pixels.
    let mut working = DynamicImage::ImageRgba8(area_downsample(&full, ANALYSIS_SIDE));
    drop(full);
    working.apply_orientation(orientation);
    let (width, height) = if swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    };

    let mut colours = colours::dominant_colours(&working);
    let probabilities = match (&understanding.kg, &understanding.classifier) {
        (Some(_), Some(classifier)) => match classifier.probabilities(&working) {
            Ok(p) => Some((p, classifier.id())),
            // The photo is still worth keeping with its colours.
            Err(e) => {
                tracing::warn!(file = %label.display(), error = %e, "classifier failed; no category");
                None
            }
        },
        _ => None,
    };
    let categorise = |printed: &[String]| {
        let kg = understanding.kg.as_ref()?;
        let (p, id) = probabilities.as_ref()?;
        Some(analysis::categorise_with(
            kg,
            p,
            id,
            analysis::category_threshold(),
            understanding.title.as_deref(),
            printed,
        ))
    };
    let mut category = categorise(&[]);
    let vision = match (&understanding.kg, &understanding.vlm) {
        (Some(kg), Some(vlm)) => match crate::vlm_facts::describe(vlm, kg, &working) {
            Ok(f) => f,
            // As with the classifier: the photo is kept with what else we know.
            Err(e) => {
                tracing::warn!(file = %label.display(), error = %e, "vision model failed; no vision facts");
                Vec::new()
            }
        },
        _ => Vec::new(),
    };
    // Whether the label can settle the category: the classifier is unsure
    // or sees packaging, and there is no title.
    let unsure = understanding.kg.as_ref().is_some_and(|kg| {
        label_text::worth_reading(kg, category.as_ref(), understanding.title.is_some())
    });
    let read = match (&understanding.ocr, understanding.ocr_when) {
        (Some(ocr), ReadWhen::Always) => Some(ocr),
        (Some(ocr), ReadWhen::Unsure) => unsure.then_some(ocr),
        (None, _) => None,
    };
    let text = match read.and_then(|o| o.get()) {
        Some(ocr) => ocr.read_text(&working).unwrap_or_else(|e| {
            tracing::warn!(file = %label.display(), error = %e, "OCR failed; no text facts");
            Vec::new()
        }),
        None => Vec::new(),
    };
    if let Some(kg) = &understanding.kg {
        // A confident classifier's answer stands whatever the print says
        // (a T-shirt's slogan names no product).
        let printed = label_text::printed_categories(kg, &text);
        if unsure && !printed.is_empty() {
            category = categorise(&printed).or(category);
        }
        let key = category.as_ref().and_then(|g| g.key.as_deref());
        // A packaged product's paper label is not its colour (a red wine's
        // bottle is near-black under a white label); the lines read show
        // where the label is.
        if label_text::is_packaged(kg, category.as_ref()) {
            let boxes: Vec<[u32; 4]> = text
                .iter()
                .filter(|l| l.confidence >= label_text::MIN_LINE_CONFIDENCE)
                .map(|l| l.bbox)
                .collect();
            if let Some(beside) = colours::dominant_colours_beside_label(&working, &boxes) {
                if !beside.is_empty() {
                    colours = beside;
                }
            }
        }
        if let Some(c) = label_text::printed_colour(kg, key, &text, &colours) {
            // The label's colour leads; the shares stay the pixels'.
            if let Some(at) = colours.iter().position(|s| s.key == c) {
                let printed = colours.remove(at);
                colours.insert(0, printed);
            }
        }
    }
    let title = match (&understanding.kg, understanding.title.as_deref()) {
        (Some(kg), Some(t)) => title_facts::title_facts(
            kg,
            t,
            category.as_ref().and_then(|g| g.key.as_deref()),
            &colours,
        ),
        _ => Vec::new(),
    };
    let mut cutout_png = Vec::new();
    DynamicImage::ImageRgba8(analysis::cutout(&working.to_rgba8()))
        .write_to(&mut Cursor::new(&mut cutout_png), ImageFormat::Png)
        .map_err(|e| corrupt(format!("cannot encode cut-out: {e}")))?;
    let thumb = area_downsample(&working, THUMBNAIL_SIDE);
    let thumb = if has_alpha {
        DynamicImage::ImageRgba8(thumb)
    } else {
        // Opaque photos make smaller thumbnails without an alpha channel.
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(thumb).to_rgb8())
    };
    let mut thumbnail_png = Vec::new();
    thumb
        .write_to(&mut Cursor::new(&mut thumbnail_png), ImageFormat::Png)
        .map_err(|e| corrupt(format!("cannot encode thumbnail: {e}")))?;

    Ok(Analysis {
        format: match format {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            _ => "webp",
        },
        width,
        height,
        thumbnail_png,
        cutout_png,
        colours,
        category,
        vision,
        text,
        title,
    })
}

fn swaps_axes(o: image::metadata::Orientation) -> bool {
    use image::metadata::Orientation::*;
    matches!(o, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
}

/// The format from the content, never from the name; only JPEG, PNG and
/// WebP pass.
fn sniff_format(label: &Path, bytes: &[u8]) -> Result<ImageFormat> {
    let unsupported = |what: String| CoreError::UnsupportedFormat {
        path: label.to_path_buf(),
        what,
    };
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok(f),
        Ok(other) => Err(unsupported(format!("{other:?}").to_ascii_uppercase())),
        Err(_) => Err(unsupported(describe_unknown(bytes).into())),
    }
}

/// A short human description of content `image` does not recognise.
fn describe_unknown(bytes: &[u8]) -> &'static str {
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        // HEIF is what phones save by default; worth naming precisely.
        return match &bytes[8..12] {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => "HEIC",
            _ => "a video or other ISO media file",
        };
    }
    if bytes.starts_with(b"%PDF") {
        return "PDF";
    }
    let head = &bytes[..bytes.len().min(1024)];
    let text = match std::str::from_utf8(head) {
        Ok(s) => Some(s),
        // The cut at 1024 bytes may split a character; that is still text.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    match text {
        Some(s)
            if s.chars()
                .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0c')) =>
        {
            "text file"
        }
        _ => "unrecognised data",
    }
}

/// Width and height from a PNG's IHDR, which the format requires to be the
/// first chunk.
fn png_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let ihdr = bytes.get(8..24)?;
    if &ihdr[4..8] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(ihdr[8..12].try_into().ok()?);
    let h = u32::from_be_bytes(ihdr[12..16].try_into().ok()?);
    Some((w, h))
}

/// Walk a JPEG's segments to its end-of-image marker.
///
/// The JPEG decoder is lenient: it fills a truncated image with grey and
/// reports success, which would store a half-grey photo and wrong colours.
/// Walking the structure (rather than searching for the marker bytes) is
/// not fooled by an embedded EXIF thumbnail's markers, and tolerates data
/// appended after the image, as phones do for motion photos.
fn check_jpeg_complete(bytes: &[u8]) -> std::result::Result<(), &'static str> {
    const TRUNCATED: &str = "file is truncated (the JPEG data ends before its end-of-image marker)";
    let mut pos = 2; // past SOI, which sniffing already saw
    loop {
        // Markers may be preceded by fill bytes (0xFF) and, in damaged but
        // decodable files, stray bytes; skip to the next marker.
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(TRUNCATED);
        };
        pos += 1;
        match marker {
            0xD9 => return Ok(()),
            // Standalone markers without a length.
            0x00 | 0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let len = match bytes.get(pos..pos + 2) {
            Some(l) => usize::from(u16::from_be_bytes([l[0], l[1]])),
            None => return Err(TRUNCATED),
        };
        if len < 2 {
            return Err("invalid JPEG segment length");
        }
        pos += len;
        if pos > bytes.len() {
            return Err(TRUNCATED);
        }
        if marker == 0xDA {
            // Entropy-coded data follows a scan header; inside it 0xFF is
            // stuffed as FF 00 and restart markers may appear, so the scan
            // ends at the first other marker.
            loop {
                let Some(off) = bytes[pos..].iter().position(|&b| b == 0xFF) else {
                    return Err(TRUNCATED);
                };
                pos += off;
                match bytes.get(pos + 1) {
                    None => return Err(TRUNCATED),
                    Some(0x00 | 0xD0..=0xD7 | 0xFF) => pos += 1,
                    Some(_) => break,
                }
            }
        }
    }
}

fn image_error(label: &Path, e: ImageError) -> CoreError {
    let path = label.to_path_buf();
    match e {
        ImageError::Unsupported(u) => CoreError::UnsupportedFormat {
            path,
            what: u.to_string(),
        },
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            CoreError::CorruptImage {
                path,
                reason: "file is truncated".into(),
            }
        }
        ImageError::Limits(l) => CoreError::CorruptImage {
            path,
            reason: format!("decoding would exceed a safety limit ({l})"),
        },
        other => CoreError::CorruptImage {
            path,
            reason: one_line(&other.to_string()),
        },
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A display-only name: the last path component, without control
/// characters, bounded in length.
fn sanitise_source_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        "upload".into()
    } else {
        cleaned.into()
    }
}

/// A product name from a file name: `navy_hoodie-front.jpg` → `navy hoodie front`.
fn product_name(source_name: &str) -> String {
    let stem = Path::new(source_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = stem
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        "Untitled product".into()
    } else {
        name
    }
}

/// Write via a temporary file in the same directory and rename, so the
/// destination never holds a partial file.
fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<()> {
    let dir = dest.parent().unwrap_or_else(|| Path::new("."));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CoreError::Io { path, source }
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    tmp.write_all(bytes).map_err(io(dest))?;
    // The original is the merchant's data: make it durable before the row
    // that points at it is committed.
    tmp.as_file().sync_all().map_err(io(dest))?;
    tmp.persist(dest).map_err(|e| io(dest)(e.error))?;
    Ok(())
}

fn remove_quietly(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove file of a failed ingest");
        }
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn utf8(path: &Path) -> Result<String> {
    path.to_str().map(str::to_owned).ok_or_else(|| {
        CoreError::InvalidInput(format!(
            "the data directory path is not valid UTF-8: {}",
            path.display()
        ))
    })
}

async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::Task(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names_come_from_file_stems() {
        assert_eq!(product_name("navy_hoodie-front.jpg"), "navy hoodie front");
        assert_eq!(product_name("  __.png"), "Untitled product");
        assert_eq!(product_name("Red  Scarf.webp"), "Red Scarf");
        assert_eq!(product_name("upload"), "upload");
    }

    #[test]
    fn source_names_are_display_only() {
        assert_eq!(sanitise_source_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_source_name("C:\\Users\\me\\shoe.jpg"), "shoe.jpg");
        assert_eq!(sanitise_source_name("a\u{0}b\nc.png"), "abc.png");
        assert_eq!(sanitise_source_name(".."), "upload");
        assert_eq!(sanitise_source_name("dir/"), "upload");
        assert_eq!(sanitise_source_name(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn unknown_content_is_described() {
        assert_eq!(describe_unknown(b"hello, world\n"), "text file");
        assert_eq!(describe_unknown("价格 ¥99".as_bytes()), "text file");
        assert_eq!(
            describe_unknown(&[0, 1, 2, 3, 200, 201]),
            "unrecognised data"
        );
        assert_eq!(describe_unknown(b"\0\0\0\x18ftypheic\0\0\0\0"), "HEIC");
        assert_eq!(describe_unknown(b"%PDF-1.7\n"), "PDF");
    }

    #[test]
    fn jpeg_walk_finds_the_end_or_reports_truncation() {
        let mut jpeg = Vec::new();
        image::DynamicImage::new_rgb8(16, 16)
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(check_jpeg_complete(&jpeg), Ok(()));
        let mut with_trailer = jpeg.clone();
        with_trailer.extend_from_slice(b"\xff\xda trailing motion-photo data");
        assert_eq!(check_jpeg_complete(&with_trailer), Ok(()));
        for cut in [4, jpeg.len() / 2, jpeg.len() - 2] {
            assert!(check_jpeg_complete(&jpeg[..cut]).is_err(), "cut at {cut}");
        }
    }
}

/// What analysis makes of one photo file without storing anything (for
/// evaluations and previews).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PhotoReport {
    pub width: u32,
    pub height: u32,
    pub colours: Vec<ColourShare>,
    pub category: Option<CategoryGuess>,
    /// What the title (if given) states.
    pub title: Vec<TitleFact>,
    /// The text printed on the product, when it was read.
    #[serde(skip)]
    pub text: Vec<vitrine_infer::vision::OcrLine>,
}

/// Analyse a photo file as ingest would, storing nothing.
pub async fn analyse_file(path: &Path, understanding: &Understanding) -> Result<PhotoReport> {
    let owned = path.to_path_buf();
    let understanding = understanding.clone();
    blocking(move || {
        let bytes = read_photo_file(&owned)?;
        let a = analyse(&owned, &bytes, &understanding)?;
        Ok(PhotoReport {
            width: a.width,
            height: a.height,
            colours: a.colours,
            category: a.category,
            title: a.title,
            text: a.text,
        })
    })
    .await
}

/// Analyse a stored photo again (a newer classifier, a changed knowledge
/// graph, a photo from before cut-outs): the machine's facts for its product
/// (colours, category) are replaced, the user's are kept, and the cut-out is
/// (re)written. One transaction: a failure changes nothing.
pub async fn reanalyse(
    store: &Store,
    dirs: &DataDir,
    photo: &crate::types::Photo,
    understanding: &Understanding,
) -> Result<IngestOutcome> {
    let original = PathBuf::from(&photo.original_path);
    let mut analysis = {
        let understanding = understanding.clone();
        let original = original.clone();
        blocking(move || {
            let bytes = read_photo_file(&original)?;
            analyse(&original, &bytes, &understanding)
        })
        .await?
    };
    dirs.ensure()?;
    let cutout = absolute(&dirs.cutouts_dir())?.join(format!("{}.png", photo.sha256));
    let cutout_path = utf8(&cutout)?;
    {
        let cutout = cutout.clone();
        let bytes = std::mem::take(&mut analysis.cutout_png);
        blocking(move || write_atomically(&cutout, &bytes)).await?;
    }
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "DELETE FROM facts WHERE product_id = $1 AND source IN ('colour', 'classifier', 'vision', 'ocr')",
    )
    .bind(photo.product_id)
    .execute(&mut *tx)
    .await?;
    // A new title replaces what the old one stated; without one they stay.
    if understanding
        .title
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty())
    {
        let from = store.backend().json_text("data", "from");
        sqlx::query(&format!(
            "DELETE FROM facts WHERE product_id = $1 AND source = 'import' AND {from} = 'title'"
        ))
        .bind(photo.product_id)
        .execute(&mut *tx)
        .await?;
    }
    for fact in machine_facts(photo.product_id, &analysis) {
        store::insert_fact(&mut tx, &fact).await?;
    }
    sqlx::query("UPDATE photos SET cutout_path = $1 WHERE id = $2")
        .bind(&cutout_path)
        .bind(photo.id)
        .execute(&mut *tx)
        .await?;
    if let Some(t) = understanding
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        sqlx::query("UPDATE products SET name = $1 WHERE id = $2")
            .bind(t.chars().take(200).collect::<String>())
            .bind(photo.product_id)
            .execute(&mut *tx)
            .await?;
    }
    let facts = store::facts_for_product(&mut tx, photo.product_id).await?;
    tx.commit().await?;
    let mut photo = photo.clone();
    photo.cutout_path = Some(cutout_path);
    Ok(IngestOutcome {
        product_id: photo.product_id,
        photo,
        duplicate: true,
        facts,
        category: analysis.category,
    })
}
