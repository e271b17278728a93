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
    /// Index ranges drawn in this order: garment (both sides), mannequin
    /// (front faces), floor shadow (blended over what is already there).
    garment: std::ops::Range<u32>,
    skin: std::ops::Range<u32>,
    shadow: std::ops::Range<u32>,
    uniforms: wgpu::Buffer,
    bind: wgpu::BindGroup,
    fill: [f32; 3],
}

/// Render targets and the readback buffer for one image size, kept between
/// frames: allocating 1024² MSAA targets costs more than drawing on a CPU.
struct Targets {
    px: u32,
    padded_row: u32,
    msaa: wgpu::TextureView,
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

pub struct Renderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::RenderPipeline,
    culled: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    adapter_info: wgpu::AdapterInfo,
    targets: std::sync::Mutex<Option<Targets>>,
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
        let make_pipeline = |cull_mode| {
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
                    count: SAMPLES,
                    ..Default::default()
                },
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some("fs_main"),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: COLOR_FORMAT,
                        blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        // Garments are open surfaces seen from both sides; the mannequin is
        // closed, so its back faces can go (on a CPU rasteriser they cost).
        let pipeline = make_pipeline(None);
        let culled = make_pipeline(Some(wgpu::Face::Back));
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
            pipeline,
            culled,
            layout,
            sampler,
            adapter_info,
            targets: std::sync::Mutex::new(None),
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
        }
    }

    fn make_targets(&self, px: u32) -> Targets {
        let device = &self.device;
        let size = wgpu::Extent3d {
            width: px,
            height: px,
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
        let msaa = target(
            "msaa",
            COLOR_FORMAT,
            SAMPLES,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        let depth = target(
            "depth",
            DEPTH_FORMAT,
            SAMPLES,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        let resolved = target(
            "resolved",
            COLOR_FORMAT,
            1,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        );
        // Rows of a texture-to-buffer copy must be 256-byte aligned.
        let padded_row = (px * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
            * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: padded_row as u64 * px as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        Targets {
            px,
            padded_row,
            msaa: msaa.create_view(&Default::default()),
            depth: depth.create_view(&Default::default()),
            resolved_view: resolved.create_view(&Default::default()),
            resolved,
            readback,
        }
    }

    /// Draws an uploaded scene from `camera` at `px × px` and reads it back.
    pub fn draw(&self, scene: &GpuScene, camera: &Camera, px: u32) -> Result<RgbaImage> {
        if !(16..=8192).contains(&px) {
            return Err(RenderError::BadSize(px));
        }
        let light = Vec3::new(-0.4, 0.8, 0.6).normalize();
        let globals = Globals {
            view_proj: camera.view_proj(1.0).to_cols_array_2d(),
            eye: camera.eye().extend(1.0).to_array(),
            light_dir: light.extend(0.0).to_array(),
            fill: [scene.fill[0], scene.fill[1], scene.fill[2], 1.0],
        };
        self.queue
            .write_buffer(&scene.uniforms, 0, bytemuck::bytes_of(&globals));
        let mut cache = self
            .targets
            .lock()
            .map_err(|_| RenderError::Readback("render targets poisoned".into()))?;
        if cache.as_ref().map(|t| t.px) != Some(px) {
            *cache = Some(self.make_targets(px));
        }
        let t = cache
            .as_ref()
            .ok_or_else(|| RenderError::Readback("no render targets".into()))?;

        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            // Background: a light studio grey (sRGB 0.9 ≈ linear 0.787).
            let bg = srgb_to_linear(230) as f64;
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("tryon"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &t.msaa,
                    depth_slice: None,
                    resolve_target: Some(&t.resolved_view),
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: bg,
                            g: bg,
                            b: bg,
                            a: 1.0,
                        }),
                        store: wgpu::StoreOp::Discard,
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
            pass.set_pipeline(&self.pipeline);
            pass.draw_indexed(scene.garment.clone(), 0, 0..1);
            pass.set_pipeline(&self.culled);
            pass.draw_indexed(scene.skin.clone(), 0, 0..1);
            pass.set_pipeline(&self.pipeline);
            pass.draw_indexed(scene.shadow.clone(), 0, 0..1);
        }
        let size = wgpu::Extent3d {
            width: px,
            height: px,
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
                    rows_per_image: Some(px),
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
        let row = (px * 4) as usize;
        let mut pixels = Vec::with_capacity(row * px as usize);
        {
            let view = t
                .readback
                .get_mapped_range(..)
                .map_err(|e| RenderError::Readback(e.to_string()))?;
            for chunk in view.chunks(t.padded_row as usize) {
                pixels.extend_from_slice(&chunk[..row]);
            }
        }
        t.readback.unmap();
        RgbaImage::from_raw(px, px, pixels)
            .ok_or_else(|| RenderError::Readback("short pixel buffer".into()))
    }
}
