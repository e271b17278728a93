//! The headless wgpu renderer: adapter choice, offscreen targets, readback.

use bytemuck::{Pod, Zeroable};
use glam::Vec3;
use image::RgbaImage;
use wgpu::util::DeviceExt;

use crate::camera::Camera;
use crate::error::{RenderError, Result};
use crate::mesh::{Material, Mesh, Vertex};

const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
const SAMPLES: u32 = 4;
/// The studio background: sRGB 230 grey, cleared as linear light.
pub const BACKGROUND: [u8; 4] = [230, 230, 230, 255];
/// Crops are rounded up to whole rasteriser tiles (llvmpipe's are 64 px)
/// so that an orbit reuses a few target sizes instead of making new ones.
const CROP_STEP: u32 = 64;
/// How many crop sizes keep their targets.
const CACHED_TARGETS: usize = 6;

/// How a frame is drawn. `Final` is what every still, saved or tested
/// image uses; `Moving` is for the frames an interactive view shows while
/// it turns, to be followed by a `Final` frame once it stops: the same
/// 512² (or any) frame without multisampling, which on a CPU rasteriser
/// costs a fraction of 4× MSAA (no per-sample depth, stores or resolve).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Quality {
    /// 4× MSAA, resolved.
    #[default]
    Final,
    /// One sample per pixel: edges are aliased.
    Moving,
}

impl Quality {
    fn samples(self) -> u32 {
        match self {
            Quality::Final => SAMPLES,
            Quality::Moving => 1,
        }
    }
}

/// Which adapter to use. Tests force `Software` so that their images do
/// not depend on the GPU; `VITRINE_RENDER_ADAPTER=software` does the same
/// for `AdapterChoice::Auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterChoice {
    /// A hardware adapter when there is one, else a software one.
    Auto,
    /// Only a software (CPU) adapter, e.g. Mesa's lavapipe.
    Software,
}

/// What to draw: a mesh, the camera, the product photos for the front and
/// back panels (prepared: opaque, cropped) and the garment's fill colour
/// (sRGB), used where a photo is missing.
pub struct Scene<'a> {
    pub mesh: &'a Mesh,
    pub camera: Camera,
    pub photo: Option<&'a RgbaImage>,
    pub back: Option<&'a RgbaImage>,
    pub fill: [u8; 3],
}

/// A scene uploaded once and drawn from any camera: what an orbiting view
/// or a turntable re-renders frame after frame.
pub struct GpuScene {
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    /// Index ranges: the garment (drawn from outside, then from inside),
    /// the mannequin (front faces), the floor shadow (blended last).
    garment: std::ops::Range<u32>,
    skin: std::ops::Range<u32>,
    shadow: std::ops::Range<u32>,
    uniforms: wgpu::Buffer,
    bind: wgpu::BindGroup,
    fill: [f32; 3],
    /// Every vertex position, to find where the figure lands on screen.
    positions: Vec<Vec3>,
}

/// Render targets and the readback buffer for one crop size, kept between
/// frames: allocating 1024² MSAA targets costs more than drawing on a CPU.
struct Targets {
    width: u32,
    height: u32,
    samples: u32,
    padded_row: u32,
    /// The multisampled colour target; none at one sample, where the pass
    /// draws straight into `resolved`.
    msaa: Option<wgpu::TextureView>,
    depth: wgpu::TextureView,
    resolved: wgpu::Texture,
    resolved_view: wgpu::TextureView,
    readback: wgpu::Buffer,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Globals {
    view_proj: [[f32; 4]; 4],
    eye: [f32; 4],
    light_dir: [f32; 4],
    fill: [f32; 4],
}

/// The pipelines for one sample count.
struct Pipelines {
    /// Blended over what is drawn: the floor shadow.
    translucent: wgpu::RenderPipeline,
    culled: wgpu::RenderPipeline,
    /// Only faces seen from behind: the insides of a garment.
    inside: wgpu::RenderPipeline,
}

pub struct Renderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// For [`Quality::Final`] and [`Quality::Moving`].
    final_pipelines: Pipelines,
    moving_pipelines: Pipelines,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    adapter_info: wgpu::AdapterInfo,
    /// Most recently used first.
    targets: std::sync::Mutex<Vec<Targets>>,
}

/// The part of a `px × px` frame that is drawn: the figure's bounding box
/// on screen, padded and rounded up to whole tiles. The rest is background,
/// filled on the CPU: on a software rasteriser clearing, resolving and
/// reading back the whole 4× MSAA frame cost more than drawing the figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Crop {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

impl Crop {
    fn full(px: u32) -> Crop {
        Crop {
            x: 0,
            y: 0,
            width: px,
            height: px,
        }
    }

    /// Where `positions` land in a `px × px` frame seen through
    /// `view_proj`; the whole frame when any is behind the camera.
    fn around(positions: &[Vec3], view_proj: &glam::Mat4, px: u32) -> Crop {
        let (mut lo, mut hi) = (glam::Vec2::splat(f32::MAX), glam::Vec2::splat(f32::MIN));
        for p in positions {
            let c = *view_proj * p.extend(1.0);
            if c.w <= 1e-4 {
                return Crop::full(px);
            }
            // NDC to pixels, y down.
            let s = glam::Vec2::new(c.x / c.w + 1.0, 1.0 - c.y / c.w) * (px as f32 / 2.0);
            lo = lo.min(s);
            hi = hi.max(s);
        }
        if positions.is_empty() {
            return Crop::full(px);
        }
        // Two pixels of margin: MSAA samples and wide lines of the raster
        // rules never reach further than one.
        let span = |lo: f32, hi: f32| -> (u32, u32) {
            let a = (lo.floor() - 2.0).clamp(0.0, px as f32) as u32;
            let b = (hi.ceil() + 2.0).clamp(0.0, px as f32) as u32;
            let len = (b.saturating_sub(a).max(1))
                .div_ceil(CROP_STEP)
                .saturating_mul(CROP_STEP)
                .min(px);
            // Grown to whole tiles around the box, kept inside the frame.
            let start = a.saturating_sub((len - b.saturating_sub(a).min(len)) / 2);
            (start.min(px - len), len)
        };
        let (x, width) = span(lo.x, hi.x);
        let (y, height) = span(lo.y, hi.y);
        Crop {
            x,
            y,
            width,
            height,
        }
    }

    /// Maps clip space of the whole frame onto clip space of the crop.
    fn clip_transform(&self, px: u32) -> glam::Mat4 {
        let (p, w, h) = (px as f32, self.width as f32, self.height as f32);
        let (x0, y0) = (self.x as f32, self.y as f32);
        let sx = p / w;
        let tx = (p - 2.0 * x0 - w) / w;
        let sy = p / h;
        let ty = (h - p + 2.0 * y0) / h;
        glam::Mat4::from_cols(
            glam::Vec4::new(sx, 0.0, 0.0, 0.0),
            glam::Vec4::new(0.0, sy, 0.0, 0.0),
            glam::Vec4::new(0.0, 0.0, 1.0, 0.0),
            glam::Vec4::new(tx, ty, 0.0, 1.0),
        )
    }
}

fn srgb_to_linear(c: u8) -> f32 {
    let c = c as f32 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

impl Renderer {
    /// A renderer without a window, on the best adapter available.
    pub fn new_headless() -> Result<Renderer> {
        let forced = std::env::var("VITRINE_RENDER_ADAPTER")
            .map(|v| v.eq_ignore_ascii_case("software"))
            .unwrap_or(false);
        Self::with_adapter(if forced {
            AdapterChoice::Software
        } else {
            AdapterChoice::Auto
        })
    }

    pub fn with_adapter(choice: AdapterChoice) -> Result<Renderer> {
        // Vulkan first (lavapipe when there is no GPU), the path the tests
        // pin down; GL only when Vulkan offers nothing at all.
        let adapter = [wgpu::Backends::VULKAN, wgpu::Backends::GL]
            .into_iter()
            .find_map(|backends| {
                let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
                desc.backends = backends;
                let instance = wgpu::Instance::new(desc);
                let request = |force_fallback_adapter| {
                    pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                        power_preference: wgpu::PowerPreference::HighPerformance,
                        force_fallback_adapter,
                        compatible_surface: None,
                        apply_limit_buckets: false,
                    }))
                    .ok()
                };
                match choice {
                    AdapterChoice::Auto => request(false).or_else(|| request(true)),
                    AdapterChoice::Software => request(true),
                }
            })
            .ok_or(RenderError::NoAdapter)?;
        let adapter_info = adapter.get_info();
        tracing::info!(adapter = %adapter_info.name, backend = ?adapter_info.backend, "render adapter");
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("vitrine-render"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| RenderError::Device(e.to_string()))?;

        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("tryon"),
            source: wgpu::ShaderSource::Wgsl(include_str!("shader.wgsl").into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("globals"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("tryon"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let attributes = wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3, 2 => Float32x2, 3 => Float32, 4 => Float32];
        let make_pipeline = |cull_mode, blend, samples| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("tryon"),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some("vs_main"),
                    compilation_options: Default::default(),
                    buffers: &[Some(wgpu::VertexBufferLayout {
                        array_stride: std::mem::size_of::<Vertex>() as u64,
                        step_mode: wgpu::VertexStepMode::Vertex,
                        attributes: &attributes,
                    })],
                },
                primitive: wgpu::PrimitiveState {
                    cull_mode,
                    ..Default::default()
                },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: DEPTH_FORMAT,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: Default::default(),
                    bias: Default::default(),
                }),
                multisample: wgpu::MultisampleState {
                    count: samples,
                    ..Default::default()
                },
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some("fs_main"),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: COLOR_FORMAT,
                        blend,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        // Garments are open surfaces seen from both sides; the mannequin is
        // closed, so its back faces can go (on a CPU rasteriser they cost).
        // Only the shadow is translucent. Cloth and skin are opaque (alpha
        // 1, so blending them gave exactly the source colour), and without
        // blending a CPU rasteriser need not read and sRGB-decode every
        // covered sample before writing it.
        let blended = Some(wgpu::BlendState::ALPHA_BLENDING);
        let pipelines = |samples| Pipelines {
            translucent: make_pipeline(None, blended, samples),
            culled: make_pipeline(Some(wgpu::Face::Back), None, samples),
            inside: make_pipeline(Some(wgpu::Face::Front), None, samples),
        };
        let final_pipelines = pipelines(Quality::Final.samples());
        let moving_pipelines = pipelines(Quality::Moving.samples());
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("photo"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            ..Default::default()
        });
        Ok(Renderer {
            device,
            queue,
            final_pipelines,
            moving_pipelines,
            layout,
            sampler,
            adapter_info,
            targets: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub fn adapter_name(&self) -> &str {
        &self.adapter_info.name
    }

    pub fn is_software(&self) -> bool {
        self.adapter_info.device_type == wgpu::DeviceType::Cpu
    }

    fn upload_photo(&self, photo: Option<&RgbaImage>, fill: [u8; 3]) -> wgpu::TextureView {
        let solid;
        let img = match photo {
            Some(p) => p,
            None => {
                solid = RgbaImage::from_pixel(1, 1, image::Rgba([fill[0], fill[1], fill[2], 255]));
                &solid
            }
        };
        let size = wgpu::Extent3d {
            width: img.width(),
            height: img.height(),
            depth_or_array_layers: 1,
        };
        let texture = self.device.create_texture_with_data(
            &self.queue,
            &wgpu::TextureDescriptor {
                label: Some("photo"),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba8UnormSrgb,
                usage: wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            img.as_raw(),
        );
        texture.create_view(&Default::default())
    }

    /// Renders `scene` to a `px × px` image (sRGB, 4× MSAA resolved).
    pub fn render(&self, scene: &Scene, px: u32) -> Result<RgbaImage> {
        let gpu = self.upload(scene.mesh, scene.photo, scene.back, scene.fill);
        self.draw(&gpu, &scene.camera, px)
    }

    /// Uploads a mesh and its photos for drawing from any camera.
    pub fn upload(
        &self,
        mesh: &Mesh,
        photo: Option<&RgbaImage>,
        back: Option<&RgbaImage>,
        fill: [u8; 3],
    ) -> GpuScene {
        let device = &self.device;
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("globals"),
            size: std::mem::size_of::<Globals>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let front = self.upload_photo(photo, fill);
        let back = self.upload_photo(back, fill);
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("globals"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniforms.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&front),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::TextureView(&back),
                },
            ],
        });
        let vertices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("vertices"),
            contents: bytemuck::cast_slice(&mesh.vertices),
            usage: wgpu::BufferUsages::VERTEX,
        });
        // Front to back as far as it goes: the garment hides most of the
        // torso, so drawing it first lets the depth test skip the skin
        // under it; the shadow blends last, only where it shows.
        let (mut garment, mut skin, mut shadow) = (Vec::new(), Vec::new(), Vec::new());
        for tri in mesh.indices.chunks_exact(3) {
            let m = mesh.vertices.get(tri[0] as usize).map(|v| v.material);
            if m == Some(Material::Skin.id()) {
                skin.extend_from_slice(tri);
            } else if m == Some(Material::Shadow.id()) {
                shadow.extend_from_slice(tri);
            } else {
                garment.extend_from_slice(tri);
            }
        }
        let (g, k) = (garment.len() as u32, skin.len() as u32);
        let n = g + k + shadow.len() as u32;
        garment.extend(skin);
        garment.extend(shadow);
        let indices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("indices"),
            contents: bytemuck::cast_slice(&garment),
            usage: wgpu::BufferUsages::INDEX,
        });
        GpuScene {
            vertices,
            indices,
            garment: 0..g,
            skin: g..g + k,
            shadow: g + k..n,
            uniforms,
            bind,
            fill: fill.map(srgb_to_linear),
            positions: mesh
                .vertices
                .iter()
                .map(|v| Vec3::from(v.position))
                .collect(),
        }
    }

    fn make_targets(&self, width: u32, height: u32, samples: u32) -> Targets {
        let device = &self.device;
        let size = wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        };
        let target = |label, format, samples, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size,
                mip_level_count: 1,
                sample_count: samples,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let msaa = (samples > 1).then(|| {
            target(
                "msaa",
                COLOR_FORMAT,
                samples,
                wgpu::TextureUsages::RENDER_ATTACHMENT,
            )
            .create_view(&Default::default())
        });
        let depth = target(
            "depth",
            DEPTH_FORMAT,
            samples,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        let resolved = target(
            "resolved",
            COLOR_FORMAT,
            1,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        );
        // Rows of a texture-to-buffer copy must be 256-byte aligned.
        let padded_row = (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
            * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: padded_row as u64 * height as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        Targets {
            width,
            height,
            samples,
            padded_row,
            msaa,
            depth: depth.create_view(&Default::default()),
            resolved_view: resolved.create_view(&Default::default()),
            resolved,
            readback,
        }
    }

    /// Draws an uploaded scene from `camera` at `px × px` and reads it back.
    pub fn draw(&self, scene: &GpuScene, camera: &Camera, px: u32) -> Result<RgbaImage> {
        Ok(self.draw_region(scene, camera, px)?.into_frame(px))
    }

    /// Draws the `crop` of a `px × px` frame: an image of the crop's size.
    fn draw_crop(
        &self,
        scene: &GpuScene,
        camera: &Camera,
        px: u32,
        crop: Crop,
        quality: Quality,
    ) -> Result<RgbaImage> {
        let light = Vec3::new(-0.4, 0.8, 0.6).normalize();
        let view_proj = crop.clip_transform(px) * camera.view_proj(1.0);
        let globals = Globals {
            view_proj: view_proj.to_cols_array_2d(),
            eye: camera.eye().extend(1.0).to_array(),
            light_dir: light.extend(0.0).to_array(),
            fill: [scene.fill[0], scene.fill[1], scene.fill[2], 1.0],
        };
        self.queue
            .write_buffer(&scene.uniforms, 0, bytemuck::bytes_of(&globals));
        let samples = quality.samples();
        let pipelines = match quality {
            Quality::Final => &self.final_pipelines,
            Quality::Moving => &self.moving_pipelines,
        };
        let mut cache = self
            .targets
            .lock()
            .map_err(|_| RenderError::Readback("render targets poisoned".into()))?;
        match cache
            .iter()
            .position(|t| (t.width, t.height, t.samples) == (crop.width, crop.height, samples))
        {
            Some(i) => cache[..=i].rotate_right(1),
            None => {
                cache.insert(0, self.make_targets(crop.width, crop.height, samples));
                cache.truncate(CACHED_TARGETS);
            }
        }
        let t = cache
            .first()
            .ok_or_else(|| RenderError::Readback("no render targets".into()))?;

        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            // Background: a light studio grey (sRGB 0.9 ≈ linear 0.787).
            let bg = srgb_to_linear(230) as f64;
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("tryon"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: t.msaa.as_ref().unwrap_or(&t.resolved_view),
                    depth_slice: None,
                    resolve_target: t.msaa.as_ref().map(|_| &t.resolved_view),
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: bg,
                            g: bg,
                            b: bg,
                            a: 1.0,
                        }),
                        // Without MSAA the pass draws the very image read back.
                        store: if t.msaa.is_some() {
                            wgpu::StoreOp::Discard
                        } else {
                            wgpu::StoreOp::Store
                        },
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &t.depth,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_bind_group(0, &scene.bind, &[]);
            pass.set_vertex_buffer(0, scene.vertices.slice(..));
            pass.set_index_buffer(scene.indices.slice(..), wgpu::IndexFormat::Uint32);
            // Nearest first, so the depth test rejects hidden cloth and skin
            // before they are shaded: the garment's outside, the body, then
            // the garment's inside (only seen through the neck, hem and
            // sleeves), then the shadow blended over the floor. Each
            // triangle is drawn once, from whichever side faces the camera.
            pass.set_pipeline(&pipelines.culled);
            pass.draw_indexed(scene.garment.clone(), 0, 0..1);
            pass.draw_indexed(scene.skin.clone(), 0, 0..1);
            pass.set_pipeline(&pipelines.inside);
            pass.draw_indexed(scene.garment.clone(), 0, 0..1);
            pass.set_pipeline(&pipelines.translucent);
            pass.draw_indexed(scene.shadow.clone(), 0, 0..1);
        }
        let size = wgpu::Extent3d {
            width: crop.width,
            height: crop.height,
            depth_or_array_layers: 1,
        };
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &t.resolved,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &t.readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(t.padded_row),
                    rows_per_image: Some(crop.height),
                },
            },
            size,
        );
        self.queue.submit([encoder.finish()]);

        let (tx, rx) = std::sync::mpsc::channel();
        t.readback.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        rx.recv()
            .map_err(|e| RenderError::Readback(e.to_string()))?
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let row = crop.width as usize * 4;
        let mut pixels = Vec::with_capacity(row * crop.height as usize);
        {
            let view = t
                .readback
                .get_mapped_range(..)
                .map_err(|e| RenderError::Readback(e.to_string()))?;
            for chunk in view
                .chunks(t.padded_row as usize)
                .take(crop.height as usize)
            {
                let src = chunk
                    .get(..row)
                    .ok_or_else(|| RenderError::Readback("short pixel buffer".into()))?;
                pixels.extend_from_slice(src);
            }
        }
        t.readback.unmap();
        RgbaImage::from_raw(crop.width, crop.height, pixels)
            .ok_or_else(|| RenderError::Readback("short pixel buffer".into()))
    }

    /// Draws an uploaded scene from `camera` and returns only the part of
    /// the `px × px` frame the figure covers; the rest is [`BACKGROUND`].
    /// What an interactive view wants: fewer bytes to move and to paint.
    pub fn draw_region(&self, scene: &GpuScene, camera: &Camera, px: u32) -> Result<Region> {
        self.draw_region_as(scene, camera, px, Quality::Final)
    }

    /// [`Renderer::draw_region`] at the given quality.
    pub fn draw_region_as(
        &self,
        scene: &GpuScene,
        camera: &Camera,
        px: u32,
        quality: Quality,
    ) -> Result<Region> {
        if !(16..=8192).contains(&px) {
            return Err(RenderError::BadSize(px));
        }
        let crop = Crop::around(&scene.positions, &camera.view_proj(1.0), px);
        Ok(Region {
            x: crop.x,
            y: crop.y,
            image: self.draw_crop(scene, camera, px, crop, quality)?,
        })
    }
}

/// Part of a square frame: `image` belongs at (`x`, `y`); everything
/// else in the frame is [`BACKGROUND`].
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub image: RgbaImage,
}

impl Region {
    /// The whole `px × px` frame.
    pub fn into_frame(self, px: u32) -> RgbaImage {
        let mut frame = RgbaImage::from_pixel(px, px, image::Rgba(BACKGROUND));
        let (row, frame_row) = (self.image.width() as usize * 4, px as usize * 4);
        let out: &mut [u8] = &mut frame;
        for (i, src) in self.image.as_raw().chunks_exact(row.max(1)).enumerate() {
            let at = (self.y as usize + i) * frame_row + self.x as usize * 4;
            if let Some(dst) = out.get_mut(at..at + row) {
                dst.copy_from_slice(src);
            }
        }
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Garment, TryOn, View};

    #[test]
    fn crops_cover_the_figure_in_whole_tiles_inside_the_frame() {
        let vp = glam::Mat4::IDENTITY;
        // NDC x -0.5..0.25, y -0.2..0.9 in a 512² frame: pixels 128..320 across, 26..205 down.
        let pts = [Vec3::new(-0.5, -0.2, 0.5), Vec3::new(0.25, 0.9, 0.5)];
        let c = Crop::around(&pts, &vp, 512);
        assert_eq!((c.width % CROP_STEP, c.height % CROP_STEP), (0, 0));
        assert!(c.x <= 126 && c.x + c.width >= 322, "{c:?}");
        assert!(c.y <= 24 && c.y + c.height >= 207, "{c:?}");
        assert!(c.x + c.width <= 512 && c.y + c.height <= 512);
        // Off the frame's edge: clamped, never outside.
        let wide = [Vec3::new(-3.0, -0.1, 0.5), Vec3::new(0.99, 0.1, 0.5)];
        let c = Crop::around(&wide, &vp, 100);
        assert_eq!((c.x, c.width), (0, 100));
        // Behind the camera: the whole frame.
        let behind = [Vec3::new(0.0, 0.0, 0.5)];
        let flip = glam::Mat4::from_diagonal(glam::Vec4::new(1.0, 1.0, 1.0, -1.0));
        assert_eq!(Crop::around(&behind, &flip, 256), Crop::full(256));
    }

    /// The cropped frame is the full frame: same pixels where the figure
    /// is, the same background elsewhere.
    #[test]
    fn a_cropped_frame_matches_the_full_frame() {
        let r = match Renderer::with_adapter(AdapterChoice::Software) {
            Ok(r) => r,
            Err(e) => panic!("{e} (install mesa-vulkan-drivers)"),
        };
        let mut t = TryOn::new("M", View::ThreeQuarter, [40, 60, 150]);
        t.garment = Garment::Hoodie;
        let prepared = t.prepare(&r, None, None).unwrap_or_else(|e| panic!("{e}"));
        let camera = prepared.camera;
        let px = 320;
        let crop = Crop::around(&prepared.scene.positions, &camera.view_proj(1.0), px);
        assert!(crop.width < px, "no crop: {crop:?}");
        let cropped = r
            .draw_region(&prepared.scene, &camera, px)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((cropped.x, cropped.y), (crop.x, crop.y));
        assert_eq!(cropped.image.dimensions(), (crop.width, crop.height));
        let cropped = cropped.into_frame(px);
        let full = r
            .draw_crop(&prepared.scene, &camera, px, Crop::full(px), Quality::Final)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(full.get_pixel(0, 0).0, BACKGROUND, "the cleared background");
        let diffs: Vec<u8> = cropped
            .as_raw()
            .iter()
            .zip(full.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .collect();
        let worst = diffs.iter().copied().max().unwrap_or(0);
        let off = diffs.iter().filter(|&&d| d > 2).count();
        assert!(
            off < 40,
            "{off} channels differ by more than 2 (worst {worst})"
        );
    }

    /// A moving frame is the final frame without antialiasing: the same
    /// box, the same colours inside the figure, differing only along edges.
    #[test]
    fn a_moving_frame_is_the_final_frame_with_rough_edges() {
        let r = match Renderer::with_adapter(AdapterChoice::Software) {
            Ok(r) => r,
            Err(e) => panic!("{e} (install mesa-vulkan-drivers)"),
        };
        let t = TryOn::new("M", View::ThreeQuarter, [40, 60, 150]);
        let prepared = t.prepare(&r, None, None).unwrap_or_else(|e| panic!("{e}"));
        let px = 256;
        let draw = |q| {
            r.draw_region_as(&prepared.scene, &prepared.camera, px, q)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let (fine, rough) = (draw(Quality::Final), draw(Quality::Moving));
        assert_eq!((fine.x, fine.y), (rough.x, rough.y));
        assert_eq!(fine.image.dimensions(), rough.image.dimensions());
        let pixels = fine.image.pixels().zip(rough.image.pixels());
        let (mut differ, mut total) = (0usize, 0usize);
        for (a, b) in pixels {
            total += 1;
            if a.0.iter().zip(b.0).any(|(x, y)| x.abs_diff(y) > 2) {
                differ += 1;
            }
        }
        assert!(differ > 0, "no edge changed: still antialiased?");
        assert!(
            differ * 20 < total,
            "{differ} of {total} pixels differ: more than the edges"
        );
        // Drawn again after the moving frame, the final frame is unchanged.
        assert_eq!(draw(Quality::Final).image.as_raw(), fine.image.as_raw());
    }
}
