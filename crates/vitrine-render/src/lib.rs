//! Offscreen 3D try-on previews: a mannequin generated from body
//! measurements (or loaded from glTF), a garment fitted over it and
//! textured with product photos, rendered headless with wgpu (Vulkan or GL;
//! Mesa's lavapipe when there is no GPU). Knows nothing of the store or the UI.

mod ao;
mod body;
mod camera;
mod error;
mod garment;
mod gltf_io;
mod gpu;
mod mesh;
mod texture;
mod turntable;

pub use ao::bake as bake_ambient_occlusion;
pub use body::{Body, BodyType, Measurements, SizeChart, SIZES};
pub use camera::{Camera, Framing, View};
pub use error::{RenderError, Result};
pub use garment::{ground_shadow, Garment};
pub use gltf_io::{export_glb, load_mesh, Part};
pub use gpu::{AdapterChoice, GpuScene, Quality, Region, Renderer, Scene, BACKGROUND};
pub use mesh::{Material, Mesh, Vertex};
pub use texture::{decode_photo, dominant_colour, load_photo, prepare_photo, MAX_TEXTURE_SIDE};
pub use turntable::{angles as turntable_angles, write_apng};

/// One try-on preview: who wears what, seen from where.
#[derive(Clone, Debug)]
pub struct TryOn {
    pub garment: Garment,
    pub body: BodyType,
    pub size: String,
    pub view: View,
    /// The whole figure, or knees to head.
    pub framing: Framing,
    /// Overrides the preset's orbit angle (degrees; 0 = front).
    pub azimuth_deg: Option<f32>,
    /// Overrides the preset's camera distance (metres).
    pub distance: Option<f32>,
    /// The garment's colour where the photos do not reach (sRGB).
    pub fill: [u8; 3],
    /// A user's mannequin instead of the generated one; it is scaled to the
    /// generated one's height, stood on the floor and centred, and the
    /// garment is still fitted to the size chart's body.
    pub mannequin: Option<Mesh>,
}

/// The figure's parts before they are merged for drawing.
pub struct Figure {
    pub height: f32,
    pub mannequin: Mesh,
    pub garment: Mesh,
    pub shadow: Mesh,
}

/// A try-on uploaded to the GPU, ready to be drawn from any angle.
pub struct Prepared {
    pub scene: GpuScene,
    pub camera: Camera,
}

impl Prepared {
    /// One frame, orbited to `azimuth_deg` when given.
    pub fn frame(
        &self,
        renderer: &Renderer,
        azimuth_deg: Option<f32>,
        px: u32,
    ) -> Result<image::RgbaImage> {
        let mut camera = self.camera;
        if let Some(a) = azimuth_deg {
            camera.azimuth = a.to_radians();
        }
        renderer.draw(&self.scene, &camera, px)
    }

    /// The part of a frame seen from `camera` that the figure covers (the
    /// rest is [`BACKGROUND`]): what an interactive view draws.
    pub fn region_from(&self, renderer: &Renderer, camera: &Camera, px: u32) -> Result<Region> {
        renderer.draw_region(&self.scene, camera, px)
    }

    /// [`Prepared::region_from`] at the given quality: [`Quality::Moving`]
    /// for the frames shown while the view turns.
    pub fn region_as(
        &self,
        renderer: &Renderer,
        camera: &Camera,
        px: u32,
        quality: Quality,
    ) -> Result<Region> {
        renderer.draw_region_as(&self.scene, camera, px, quality)
    }

    /// One frame seen from `camera` (e.g. `self.camera.orbited(..)`).
    pub fn frame_from(
        &self,
        renderer: &Renderer,
        camera: &Camera,
        px: u32,
    ) -> Result<image::RgbaImage> {
        renderer.draw(&self.scene, camera, px)
    }
}

/// `mesh` scaled and moved onto the generated mannequin's place: the same
/// height, standing on the same floor, centred on the same vertical axis.
fn stand_in(mut mesh: Mesh, generated: &Mesh) -> Mesh {
    let (Some((lo, hi)), Some((glo, ghi))) = (mesh.bounds(), generated.bounds()) else {
        return mesh;
    };
    let k = (ghi.y - glo.y) / (hi.y - lo.y).max(1e-6);
    let foot = |lo: glam::Vec3, hi: glam::Vec3| {
        glam::Vec3::new((lo.x + hi.x) / 2.0, lo.y, (lo.z + hi.z) / 2.0)
    };
    let (from, to) = (foot(lo, hi), foot(glo, ghi));
    for v in &mut mesh.vertices {
        let p = (glam::Vec3::from(v.position) - from) * k + to;
        v.position = p.to_array();
        v.material = Material::Skin.id();
        v.ao = 1.0;
    }
    mesh
}

impl TryOn {
    pub fn new(size: &str, view: View, fill: [u8; 3]) -> TryOn {
        TryOn {
            garment: Garment::TShirt,
            body: BodyType::Neutral,
            size: size.to_string(),
            view,
            framing: Framing::Full,
            azimuth_deg: None,
            distance: None,
            fill,
            mannequin: None,
        }
    }

    /// The mannequin, the garment and the floor shadow, separately.
    pub fn figure(&self, chart: &SizeChart) -> Result<Figure> {
        let m = chart.get(self.body, &self.size)?;
        let ease = chart.ease(self.garment.key(), &self.size)?;
        let body = Body::new(&m, self.body);
        let generated = body.mannequin();
        let mannequin = match &self.mannequin {
            Some(mesh) => stand_in(mesh.clone(), &generated),
            None => generated,
        };
        Ok(Figure {
            height: body.height,
            mannequin,
            garment: self.garment.build(&body, ease),
            shadow: ground_shadow(&body),
        })
    }

    pub fn camera(&self, height: f32) -> Camera {
        let mut camera = Camera::preset(self.view, height).framed(self.framing, height);
        if let Some(a) = self.azimuth_deg {
            camera.azimuth = a.to_radians();
        }
        if let Some(d) = self.distance {
            camera.distance = d;
        }
        camera
    }

    /// The scene geometry (ground shadow first so it blends under the
    /// figure), ambient occlusion baked, and its camera.
    pub fn build(&self, chart: &SizeChart) -> Result<(Mesh, Camera)> {
        let figure = self.figure(chart)?;
        let mut mesh = figure.shadow;
        mesh.append(&figure.mannequin);
        mesh.append(&figure.garment);
        ao::bake(&mut mesh);
        Ok((mesh, self.camera(figure.height)))
    }

    /// Builds the scene and uploads it with the photos: `photo` for the
    /// front, `back` for the back (the fill colour without one). Photos are
    /// product cut-outs (alpha marks the background) or plain photos.
    pub fn prepare(
        &self,
        renderer: &Renderer,
        photo: Option<&image::RgbaImage>,
        back: Option<&image::RgbaImage>,
    ) -> Result<Prepared> {
        let chart = SizeChart::builtin()?;
        let (mesh, camera) = self.build(&chart)?;
        let front = photo.map(|p| prepare_photo(p, self.fill));
        let back = back.map(|p| prepare_photo(p, self.fill));
        Ok(Prepared {
            scene: renderer.upload(&mesh, front.as_ref(), back.as_ref(), self.fill),
            camera,
        })
    }

    /// Renders the preview at `px × px` with a front photo only.
    pub fn render(
        &self,
        renderer: &Renderer,
        photo: Option<&image::RgbaImage>,
        px: u32,
    ) -> Result<image::RgbaImage> {
        self.prepare(renderer, photo, None)?
            .frame(renderer, None, px)
    }

    /// The figure as a binary glTF: the mannequin and the garment as two
    /// nodes, the garment in the fill colour.
    pub fn export_glb(&self, chart: &SizeChart) -> Result<Vec<u8>> {
        let figure = self.figure(chart)?;
        let lin = |c: u8| (c as f32 / 255.0).powf(2.2);
        export_glb(&[
            Part {
                name: "mannequin",
                mesh: &figure.mannequin,
                colour: [0.57, 0.51, 0.46, 1.0],
            },
            Part {
                name: self.garment.key(),
                mesh: &figure.garment,
                colour: [lin(self.fill[0]), lin(self.fill[1]), lin(self.fill[2]), 1.0],
            },
        ])
    }
}
