//! A stored product's try-on. The CLI (`vitrine tryon`), the server
//! (`GET /api/products/{id}/tryon`) and the app's Try-on screen all draw a
//! product the same way: the photo's stored cut-out (else the photo), the
//! garment its category calls for, the fill from its dominant colour. This
//! crate is that one decision, between the store (vitrine-core) and the
//! renderer (vitrine-render), which know nothing of each other.

mod plan;
mod renderer_cell;

pub use plan::{choose_garment, load_photo, ProductTryOn};
pub use renderer_cell::RendererCell;

use thiserror::Error;
use vitrine_render::RenderError;

#[derive(Debug, Error)]
pub enum TryOnError {
    #[error("product {0} has no photo to try on")]
    NoPhoto(i64),
    #[error("photo {photo} is not a photo of product {product}")]
    NotProductPhoto { photo: i64, product: i64 },
    #[error("unknown size `{0}` (expected {sizes})", sizes = vitrine_render::SIZES.join(", "))]
    UnknownSize(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot decode the cut-out {path}: {source}")]
    CutOut {
        path: String,
        source: image::ImageError,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
}

pub type Result<T> = std::result::Result<T, TryOnError>;
