//! Offscreen 3D try-on previews: a mannequin generated from body
//! measurements, a garment fitted over it and textured with a product
//! photo, rendered headless with wgpu (Vulkan or GL; Mesa's lavapipe when
//! there is no GPU). Knows nothing of the store or the UI.

mod body;
mod camera;
mod error;
mod garment;
mod gpu;
mod mesh;
mod texture;

pub use body::{Body, BodyType, Measurements, SizeChart, SIZES};
pub use camera::{Camera, View};
pub use error::{RenderError, Result};
pub use garment::{ground_shadow, tshirt, Garment};
pub use gpu::{AdapterChoice, Renderer, Scene};
pub use mesh::{Material, Mesh, Vertex};
pub use texture::{dominant_colour, prepare_photo, MAX_TEXTURE_SIDE};

/// One try-on preview: who wears what, seen from where.
#[derive(Clone, Debug)]
pub struct TryOn {
    pub garment: Garment,
    pub body: BodyType,
    pub size: String,
    pub view: View,
    /// Overrides the preset's orbit angle (degrees; 0 = front).
    pub azimuth_deg: Option<f32>,
    /// Overrides the preset's camera distance (metres).
    pub distance: Option<f32>,
    /// The garment's colour where the photo does not reach (sRGB).
    pub fill: [u8; 3],
}

impl TryOn {
    pub fn new(size: &str, view: View, fill: [u8; 3]) -> TryOn {
        TryOn {
            garment: Garment::TShirt,
            body: BodyType::Neutral,
            size: size.to_string(),
            view,
            azimuth_deg: None,
            distance: None,
            fill,
        }
    }

    /// The scene geometry (ground shadow first so it blends under the
    /// figure) and its camera.
    pub fn build(&self, chart: &SizeChart) -> Result<(Mesh, Camera)> {
        let m = chart.get(self.body, &self.size)?;
        let body = Body::new(&m, self.body);
        let mut mesh = ground_shadow(&body);
        mesh.append(&body.mannequin());
        match self.garment {
            Garment::TShirt => mesh.append(&tshirt(&body, &m)),
        }
        let mut camera = Camera::preset(self.view, body.height);
        if let Some(a) = self.azimuth_deg {
            camera.azimuth = a.to_radians();
        }
        if let Some(d) = self.distance {
            camera.distance = d;
        }
        Ok((mesh, camera))
    }

    /// Renders the preview at `px × px`; `photo` is the product's cut-out
    /// (alpha marks the background) or a plain photo.
    pub fn render(
        &self,
        renderer: &Renderer,
        photo: Option<&image::RgbaImage>,
        px: u32,
    ) -> Result<image::RgbaImage> {
        let chart = SizeChart::builtin()?;
        let (mesh, camera) = self.build(&chart)?;
        let prepared = photo.map(|p| prepare_photo(p, self.fill));
        renderer.render(
            &Scene {
                mesh: &mesh,
                camera,
                photo: prepared.as_ref(),
                fill: self.fill,
            },
            px,
        )
    }
}
