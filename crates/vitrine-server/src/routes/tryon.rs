//! The try-on preview of a stored product as a PNG, as `vitrine tryon` and
//! the app's Try-on screen draw it (vitrine-tryon decides the photos and
//! the garment).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vitrine_render::{Framing, Garment, Prepared, RenderError, View};
use vitrine_tryon::{ProductTryOn, RendererCell, TryOnError};

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Path, Query};
use crate::state::AppState;

/// Sides a preview may ask for: a thumbnail up to a listing's zoom image.
const PX: std::ops::RangeInclusive<u32> = 64..=2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GarmentName {
    Tshirt,
    Hoodie,
    Polo,
    Dress,
}

impl From<GarmentName> for Garment {
    fn from(g: GarmentName) -> Self {
        match g {
            GarmentName::Tshirt => Garment::TShirt,
            GarmentName::Hoodie => Garment::Hoodie,
            GarmentName::Polo => Garment::Polo,
            GarmentName::Dress => Garment::Dress,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ViewName {
    #[serde(rename = "front")]
    Front,
    #[serde(rename = "back")]
    Back,
    /// Three-quarter.
    #[serde(rename = "34")]
    ThreeQuarter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FramingName {
    /// The whole figure and its shadow.
    Full,
    /// Knees to head, the garment filling the picture.
    Close,
}

/// A size of the size chart (assets/size-chart.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum SizeName {
    S,
    M,
    L,
    XL,
    XXL,
}

impl SizeName {
    fn key(self) -> &'static str {
        match self {
            SizeName::S => "S",
            SizeName::M => "M",
            SizeName::L => "L",
            SizeName::XL => "XL",
            SizeName::XXL => "XXL",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TryOnQuery {
    /// Default: from the product's category (the user's first), else tshirt.
    pub garment: Option<GarmentName>,
    #[param(default = "M")]
    pub size: Option<SizeName>,
    #[param(default = "front")]
    pub view: Option<ViewName>,
    #[param(default = "full")]
    pub framing: Option<FramingName>,
    /// Orbit angle in degrees (0 = front), overriding the view's.
    #[param(minimum = -360.0, maximum = 360.0)]
    pub azimuth: Option<f32>,
    /// The square image's side in pixels.
    #[param(default = 1024, minimum = 64, maximum = 2048)]
    pub px: Option<u32>,
    /// The front photo (default: the product's first).
    pub photo_id: Option<i64>,
    /// A photo for the garment's back (default: the fill colour).
    pub back_photo_id: Option<i64>,
}

/// The renderer and the last scene drawn: a client turning a product
/// around asks for the same scene from several angles, and building one
/// (mesh, occlusion, texture upload) costs more than drawing it.
pub struct TryOnRenderer {
    renderer: RendererCell,
    last: std::sync::Mutex<Option<(SceneKey, Arc<Prepared>)>>,
    /// One render at a time: a software rasteriser already uses every core.
    turn: tokio::sync::Semaphore,
}

#[derive(Debug, Clone, PartialEq)]
struct SceneKey {
    plan: ProductTryOn,
    view: View,
    framing: Framing,
}

impl Default for TryOnRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl TryOnRenderer {
    pub fn new() -> Self {
        Self {
            renderer: RendererCell::default(),
            last: std::sync::Mutex::new(None),
            turn: tokio::sync::Semaphore::new(1),
        }
    }

    fn render(&self, key: SceneKey, azimuth: Option<f32>, px: u32) -> Result<Vec<u8>, TryOnError> {
        let renderer = self.renderer.get()?;
        let cached = {
            let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            last.as_ref()
                .filter(|(k, _)| *k == key)
                .map(|(_, p)| Arc::clone(p))
        };
        let prepared = match cached {
            Some(p) => p,
            None => {
                let p = Arc::new(key.plan.prepare(&renderer, key.view, key.framing)?);
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((key, Arc::clone(&p)));
                p
            }
        };
        let img = prepared.frame(&renderer, azimuth, px)?;
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(RenderError::Image)?;
        Ok(png)
    }
}

impl From<TryOnError> for ApiError {
    fn from(e: TryOnError) -> Self {
        let (status, code) = match &e {
            TryOnError::NoPhoto(_) => (StatusCode::BAD_REQUEST, "no_photo"),
            // The photo named is no sub-resource of this product.
            TryOnError::NotProductPhoto { .. } => (StatusCode::NOT_FOUND, "not_found"),
            TryOnError::UnknownSize(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
            TryOnError::Read { .. } => (StatusCode::NOT_FOUND, "missing_file"),
            TryOnError::CutOut { .. } | TryOnError::Render(RenderError::Photo(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "corrupt_image")
            }
            // The message names the packages that give a software adapter.
            TryOnError::Render(RenderError::NoAdapter) => {
                (StatusCode::SERVICE_UNAVAILABLE, "no_gpu_adapter")
            }
            TryOnError::Render(_) => (StatusCode::INTERNAL_SERVER_ERROR, "render"),
        };
        if status.is_server_error() {
            tracing::warn!(code, error = %e, "try-on failed");
        }
        ApiError::new(status, code, e.to_string())
    }
}

/// A try-on preview of the product on a mannequin, as a PNG: the photo's
/// cut-out printed on the garment its category calls for, rendered
/// offscreen (a GPU, or Mesa's lavapipe). The garment drawn is in the
/// `X-Vitrine-Garment` header.
#[utoipa::path(get, path = "/api/products/{id}/tryon", tag = "skills",
    params(("id" = i64, Path), TryOnQuery),
    responses(
        (status = 200, description = "The preview", content_type = "image/png", body = String),
        (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "The product's photo cannot be decoded", body = Problem),
        (status = 503, description = "No graphics adapter, not even a software one", body = Problem)),
    security(("bearer" = [])))]
pub async fn tryon(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<TryOnQuery>,
) -> ApiResult<Response> {
    let px = q.px.unwrap_or(1024);
    if !PX.contains(&px) {
        return Err(ApiError::bad_request(
            "invalid_input",
            format!("px {px} is out of range ({}..={})", PX.start(), PX.end()),
        ));
    }
    if let Some(a) = q.azimuth.filter(|a| !a.is_finite() || a.abs() > 360.0) {
        return Err(ApiError::bad_request(
            "invalid_input",
            format!("azimuth {a} is out of range (-360..=360 degrees)"),
        ));
    }
    let product = state.studio().product(id).await?;
    let plan = ProductTryOn::plan(
        &product,
        q.photo_id,
        q.back_photo_id,
        q.garment.map(Garment::from),
        q.size.unwrap_or(SizeName::M).key(),
    )?;
    let garment = plan.garment;
    let key = SceneKey {
        plan,
        view: match q.view.unwrap_or(ViewName::Front) {
            ViewName::Front => View::Front,
            ViewName::Back => View::Back,
            ViewName::ThreeQuarter => View::ThreeQuarter,
        },
        framing: match q.framing.unwrap_or(FramingName::Full) {
            FramingName::Full => Framing::Full,
            FramingName::Close => Framing::Close,
        },
    };
    let tryon = state.tryon();
    let _turn = tryon.turn.acquire().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the renderer is closed",
        )
    })?;
    let renderer = Arc::clone(&tryon);
    let started = std::time::Instant::now();
    let png = tokio::task::spawn_blocking(move || renderer.render(key, q.azimuth, px))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "render",
                format!("the render thread stopped: {e}"),
            )
        })??;
    tracing::info!(
        product = id,
        garment = garment.key(),
        px,
        ms = started.elapsed().as_millis() as u64,
        "try-on rendered"
    );
    let mut res = png.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    h.insert("x-vitrine-garment", HeaderValue::from_static(garment.key()));
    Ok(res)
}
