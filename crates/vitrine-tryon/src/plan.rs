//! Which photos, garment and size a stored product is tried on with.

use std::path::Path;

use image::RgbaImage;
use vitrine_core::{best_fact, Photo, ProductDetail};
use vitrine_render::{
    decode_photo, dominant_colour, Framing, Garment, Prepared, Renderer, TryOn, View, SIZES,
};

use crate::{Result, TryOnError};

/// The garment asked for, else the one the category calls for, else a
/// T-shirt: the plainest garment shows any top's photo fairly.
pub fn choose_garment(asked: Option<Garment>, category: Option<&str>) -> Garment {
    asked
        .or_else(|| category.and_then(Garment::from_category))
        .unwrap_or(Garment::TShirt)
}

/// A stored photo as the renderer wants it: its cut-out when there is one
/// (alpha marks the background), else the photo itself.
pub fn load_photo(photo: &Photo) -> Result<RgbaImage> {
    if let Some(cutout) = photo.cutout_path.as_deref().map(Path::new) {
        if cutout.is_file() {
            return image::open(cutout).map(|i| i.to_rgba8()).map_err(|source| {
                TryOnError::CutOut {
                    path: cutout.display().to_string(),
                    source,
                }
            });
        }
        // A data dir copied without its cut-outs still previews.
        tracing::warn!(cutout = %cutout.display(), "stored cut-out missing; using the photo");
    }
    let bytes = std::fs::read(&photo.original_path).map_err(|source| TryOnError::Read {
        path: photo.original_path.clone(),
        source,
    })?;
    Ok(decode_photo(&bytes)?)
}

/// What a product is drawn with.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductTryOn {
    pub product_id: i64,
    pub front: Photo,
    pub back: Option<Photo>,
    /// The category fact that speaks for the product (the user's first),
    /// which chose the garment unless one was asked for.
    pub category: Option<String>,
    pub garment: Garment,
    /// One of [`SIZES`].
    pub size: String,
}

impl ProductTryOn {
    /// `photo_id` None: the product's first photo. `garment` None: from the
    /// product's category. `size` is one of [`SIZES`], in any case.
    pub fn plan(
        product: &ProductDetail,
        photo_id: Option<i64>,
        back_photo_id: Option<i64>,
        garment: Option<Garment>,
        size: &str,
    ) -> Result<Self> {
        let find =
            |id: i64| {
                product.photos.iter().find(|p| p.id == id).cloned().ok_or(
                    TryOnError::NotProductPhoto {
                        photo: id,
                        product: product.id,
                    },
                )
            };
        let front = match photo_id {
            Some(id) => find(id)?,
            None => product
                .photos
                .first()
                .cloned()
                .ok_or(TryOnError::NoPhoto(product.id))?,
        };
        let back = back_photo_id.map(find).transpose()?;
        let size = size.trim().to_ascii_uppercase();
        if !SIZES.contains(&size.as_str()) {
            return Err(TryOnError::UnknownSize(size));
        }
        let category = best_fact(&product.facts, "category").map(|f| f.value.clone());
        Ok(ProductTryOn {
            product_id: product.id,
            garment: choose_garment(garment, category.as_deref()),
            front,
            back,
            category,
            size,
        })
    }

    /// Decodes the photos and uploads the scene, seen from `view` with
    /// `framing`; the garment's fill is the front photo's dominant colour.
    pub fn prepare(&self, renderer: &Renderer, view: View, framing: Framing) -> Result<Prepared> {
        let front = load_photo(&self.front)?;
        let back = self.back.as_ref().map(load_photo).transpose()?;
        let fill = dominant_colour(&front).unwrap_or([128, 128, 128]);
        let mut spec = TryOn::new(&self.size, view, fill);
        spec.garment = self.garment;
        spec.framing = framing;
        let started = std::time::Instant::now();
        let prepared = spec.prepare(renderer, Some(&front), back.as_ref())?;
        tracing::info!(
            product_id = self.product_id,
            garment = self.garment.key(),
            size = %self.size,
            ms = started.elapsed().as_millis() as u64,
            "try-on prepared"
        );
        Ok(prepared)
    }
}

#[cfg(test)]
mod tests;
