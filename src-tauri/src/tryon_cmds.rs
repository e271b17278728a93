//! The Try-on screen's commands. A product's scene (mannequin, garment,
//! photos) is built and uploaded once per (product, photos, garment, size)
//! on a blocking thread and kept here; each frame is then one draw from the
//! orbit the page asks for, handed back as raw RGBA bytes through binary
//! IPC (no JSON, no base64), which the page puts on a canvas as it is.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use tauri::ipc::Response;
use tauri::State;
use vitrine_render::{
    Camera, Framing, Garment, Prepared, Quality, Region, RenderError, Renderer, View, SIZES,
};
use vitrine_tryon::{ProductTryOn, RendererCell, TryOnError};

use crate::error::IpcError;
use crate::state::Shell;

type CmdResult<T> = Result<T, IpcError>;

/// Frames the panel may ask for: big enough for a HiDPI panel, small
/// enough to stay interactive on a software rasteriser.
const FRAME_PX: std::ops::RangeInclusive<u32> = 64..=1024;
/// The size of a saved view.
const SAVE_PX: u32 = 1024;

/// The renderer (one device for the app's lifetime, created on first use)
/// and the scene the panel is showing.
#[derive(Default)]
pub struct TryOnState {
    renderer: RendererCell,
    scene: Mutex<Option<Arc<Scene>>>,
}

/// A prepared scene and what it shows (a product's photos, garment and
/// size, as vitrine-tryon chose them).
struct Scene {
    plan: ProductTryOn,
    prepared: Prepared,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl From<RenderError> for IpcError {
    fn from(err: RenderError) -> Self {
        let code = match &err {
            // The message names the packages that give a software adapter.
            RenderError::NoAdapter => "no_gpu_adapter",
            RenderError::UnknownSize(_) | RenderError::BadSize(_) => "bad_request",
            RenderError::Photo(_) => "corrupt_image",
            _ => "render",
        };
        IpcError::new(code, err.to_string())
    }
}

impl From<TryOnError> for IpcError {
    fn from(err: TryOnError) -> Self {
        match err {
            TryOnError::Render(e) => e.into(),
            TryOnError::NoPhoto(_)
            | TryOnError::NotProductPhoto { .. }
            | TryOnError::UnknownSize(_) => IpcError::bad_request(err.to_string()),
            TryOnError::Read { .. } => IpcError::new("missing_file", err.to_string()),
            TryOnError::CutOut { .. } => IpcError::new("corrupt_image", err.to_string()),
        }
    }
}

fn join_error(err: tokio::task::JoinError) -> IpcError {
    IpcError::new("render", format!("the render thread stopped: {err}"))
}

/// What the panel shows next to the picture.
#[derive(Debug, Clone, Serialize)]
pub struct TryOnInfo {
    pub product_id: i64,
    pub photo_id: i64,
    pub back_photo_id: Option<i64>,
    /// `tshirt`, `hoodie`, `polo` or `dress`.
    pub garment: &'static str,
    /// The category fact the garment was chosen from, when it was not
    /// asked for.
    pub category: Option<String>,
    pub size: String,
    pub garments: Vec<&'static str>,
    pub sizes: Vec<&'static str>,
    /// The graphics adapter, and whether it is a software one.
    pub adapter: String,
    pub software: bool,
}

impl TryOnState {
    fn renderer(&self) -> CmdResult<Arc<Renderer>> {
        Ok(self.renderer.get_with(create_renderer)?)
    }

    fn scene(&self) -> CmdResult<Arc<Scene>> {
        lock(&self.scene).clone().ok_or_else(|| {
            IpcError::bad_request("no try-on is prepared: choose a product on the Try-on screen")
        })
    }
}

/// How much lower than the app's other threads the renderer's run (nice).
#[cfg(target_os = "linux")]
const RENDER_NICE: libc::c_int = 5;

/// Creates the renderer on its own thread at a lower priority. A software
/// adapter (llvmpipe) spawns its rasteriser and queue threads there and
/// they inherit it, so a panel turning flat out yields the CPU to the
/// page and the app's main thread, which deliver and paint the frames,
/// instead of starving them (WebKitWebDriver has dropped a session as a
/// hung page while the panel turned on two busy cores).
fn create_renderer() -> Result<Renderer, RenderError> {
    std::thread::Builder::new()
        .name("tryon-renderer".into())
        .spawn(|| {
            lower_thread_priority();
            Renderer::new_headless()
        })
        .map_err(|e| RenderError::Device(format!("cannot start the renderer thread: {e}")))?
        .join()
        .map_err(|_| RenderError::Device("the renderer thread panicked".into()))?
}

#[cfg(target_os = "linux")]
fn lower_thread_priority() {
    // On Linux PRIO_PROCESS with `who` 0 is the calling thread alone, and
    // threads it spawns start with its nice value.
    // SAFETY: setpriority only reads its integer arguments.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, RENDER_NICE) };
    if rc != 0 {
        tracing::debug!(err = %std::io::Error::last_os_error(), "renderer priority unchanged");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_thread_priority() {}

/// Prepares (or keeps, when nothing changed) the try-on of a product.
/// `garment` None: from the product's category. `photo_id` None: the
/// product's first photo.
#[tauri::command]
pub async fn tryon_prepare(
    shell: State<'_, Shell>,
    tryon: State<'_, Arc<TryOnState>>,
    product_id: i64,
    photo_id: Option<i64>,
    back_photo_id: Option<i64>,
    garment: Option<String>,
    size: String,
) -> CmdResult<TryOnInfo> {
    let product = shell.studio().await?.product(product_id).await?;
    let garment = garment
        .map(|g| g.parse::<Garment>())
        .transpose()
        .map_err(IpcError::bad_request)?;
    let plan = ProductTryOn::plan(&product, photo_id, back_photo_id, garment, &size)?;
    let info = |renderer: &Renderer| TryOnInfo {
        product_id,
        photo_id: plan.front.id,
        back_photo_id: plan.back.as_ref().map(|p| p.id),
        garment: plan.garment.key(),
        category: plan.category.clone(),
        size: plan.size.clone(),
        garments: Garment::ALL.iter().map(|g| g.key()).collect(),
        sizes: SIZES.to_vec(),
        adapter: renderer.adapter_name().to_string(),
        software: renderer.is_software(),
    };
    let state = Arc::clone(&tryon);
    let wanted = plan.clone();
    let renderer = tokio::task::spawn_blocking(move || {
        let renderer = state.renderer()?;
        if lock(&state.scene).as_ref().map(|s| &s.plan) == Some(&wanted) {
            return Ok(renderer);
        }
        let prepared = wanted.prepare(&renderer, View::Front, Framing::Full)?;
        *lock(&state.scene) = Some(Arc::new(Scene {
            plan: wanted,
            prepared,
        }));
        Ok::<_, IpcError>(renderer)
    })
    .await
    .map_err(join_error)??;
    Ok(info(&renderer))
}

fn camera(scene: &Scene, azimuth: f32, elevation: f32, zoom: f32) -> Camera {
    scene.prepared.camera.orbited(azimuth, elevation, zoom)
}

/// One `px × px` frame of the prepared try-on as raw bytes: a 16-byte
/// header (x, y, width, height as little-endian u32: where the figure's
/// box sits in the frame), then that box's RGBA rows, top first. The rest
/// of the frame is the background, sRGB (230, 230, 230): the page paints
/// it, so only the figure's pixels cross the IPC.
#[tauri::command]
pub async fn tryon_frame(
    tryon: State<'_, Arc<TryOnState>>,
    azimuth: f32,
    elevation: f32,
    zoom: f32,
    px: u32,
    moving: Option<bool>,
) -> CmdResult<Response> {
    if !FRAME_PX.contains(&px) {
        return Err(IpcError::bad_request(format!(
            "frame size {px} out of range ({}..={})",
            FRAME_PX.start(),
            FRAME_PX.end()
        )));
    }
    let state = Arc::clone(&tryon);
    let pixels = tokio::task::spawn_blocking(move || {
        let renderer = state.renderer()?;
        let scene = state.scene()?;
        let started = std::time::Instant::now();
        let view = camera(&scene, azimuth, elevation, zoom);
        // While the view turns the panel asks for unantialiased frames
        // (a fraction of the CPU on a software rasteriser), then for one
        // final frame where it stops.
        let quality = if moving.unwrap_or(false) {
            Quality::Moving
        } else {
            Quality::Final
        };
        let region = scene.prepared.region_as(&renderer, &view, px, quality)?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::debug!(
            px,
            ms,
            ?quality,
            w = region.image.width(),
            h = region.image.height(),
            "try-on frame"
        );
        Ok::<_, IpcError>(frame_bytes(&region))
    })
    .await
    .map_err(join_error)??;
    Ok(Response::new(pixels))
}

fn frame_bytes(region: &Region) -> Vec<u8> {
    let raw = region.image.as_raw();
    let mut out = Vec::with_capacity(16 + raw.len());
    for v in [
        region.x,
        region.y,
        region.image.width(),
        region.image.height(),
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(raw);
    out
}

/// Where a saved view goes: the data dir's exports, named for what it shows.
fn save_path(data_dir: &Path, plan: &ProductTryOn, azimuth: f32) -> PathBuf {
    data_dir.join(crate::export_cmds::EXPORTS_DIR).join(format!(
        "tryon-{}-{}-{}-{:03}.png",
        plan.product_id,
        plan.garment.key(),
        plan.size,
        azimuth.rem_euclid(360.0).round() as u32 % 360
    ))
}

/// Saves the current view at 1024² as a PNG in the exports folder; resolves
/// with its path.
#[tauri::command]
pub async fn tryon_save_png(
    shell: State<'_, Shell>,
    tryon: State<'_, Arc<TryOnState>>,
    azimuth: f32,
    elevation: f32,
    zoom: f32,
) -> CmdResult<PathBuf> {
    let root = shell.studio().await?.dirs().root().to_path_buf();
    let state = Arc::clone(&tryon);
    tokio::task::spawn_blocking(move || {
        let renderer = state.renderer()?;
        let scene = state.scene()?;
        let img = scene.prepared.frame_from(
            &renderer,
            &camera(&scene, azimuth, elevation, zoom),
            SAVE_PX,
        )?;
        let path = save_path(&root, &scene.plan, azimuth);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                IpcError::new("io", format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        img.save(&path)
            .map_err(|e| IpcError::new("io", format!("cannot write {}: {e}", path.display())))?;
        tracing::info!(path = %path.display(), "try-on view saved");
        Ok(path)
    })
    .await
    .map_err(join_error)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_adapter_is_its_own_code_and_names_the_packages() {
        let err = IpcError::from(RenderError::NoAdapter);
        assert_eq!(err.code, "no_gpu_adapter");
        assert!(err.message.contains("mesa-vulkan-drivers"));
    }

    #[test]
    fn a_frame_is_its_box_then_its_pixels() {
        let region = Region {
            x: 3,
            y: 260,
            image: image::RgbaImage::from_pixel(2, 1, image::Rgba([1, 2, 3, 4])),
        };
        let bytes = frame_bytes(&region);
        assert_eq!(&bytes[..8], &[3, 0, 0, 0, 4, 1, 0, 0]);
        assert_eq!(&bytes[8..16], &[2, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&bytes[16..], &[1, 2, 3, 4, 1, 2, 3, 4]);
    }

    #[test]
    fn saved_views_are_named_for_what_they_show() {
        let photo = vitrine_core::Photo {
            id: 9,
            product_id: 7,
            sha256: String::new(),
            original_path: String::new(),
            thumbnail_path: String::new(),
            cutout_path: None,
            source_name: String::new(),
            width: 1,
            height: 1,
            format: "png".into(),
            created_at: String::new(),
        };
        let plan = ProductTryOn {
            product_id: 7,
            front: photo,
            back: None,
            category: None,
            garment: Garment::Hoodie,
            size: "L".into(),
        };
        let p = save_path(Path::new("/data"), &plan, -35.0);
        assert_eq!(p, Path::new("/data/exports/tryon-7-hoodie-L-325.png"));
    }
}
