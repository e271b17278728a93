//! glTF in and out: the mannequin and garment exported as a binary glTF
//! (`.glb`), and a user's own mannequin loaded from `.glb` or `.gltf`.

use std::borrow::Cow;
use std::path::Path;

use glam::Vec3;
use gltf::json;
use gltf::json::validation::Checked::Valid;
use gltf::json::validation::USize64;

use crate::error::{RenderError, Result};
use crate::mesh::{Material, Mesh, Vertex};

/// One named mesh of an export, with its base colour (linear RGBA).
pub struct Part<'a> {
    pub name: &'a str,
    pub mesh: &'a Mesh,
    pub colour: [f32; 4],
}

fn push_bytes(bin: &mut Vec<u8>, bytes: &[u8]) -> (u64, u64) {
    // Every view starts 4-byte aligned, as glTF requires for floats.
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let offset = bin.len() as u64;
    bin.extend_from_slice(bytes);
    (offset, bytes.len() as u64)
}

fn accessor(
    root: &mut json::Root,
    bin: &mut Vec<u8>,
    bytes: &[u8],
    count: usize,
    (component, type_): (json::accessor::ComponentType, json::accessor::Type),
    bounds: Option<(Vec3, Vec3)>,
    target: json::buffer::Target,
) -> json::Index<json::Accessor> {
    let (offset, length) = push_bytes(bin, bytes);
    let view = root.push(json::buffer::View {
        buffer: json::Index::new(0),
        byte_length: USize64(length),
        byte_offset: Some(USize64(offset)),
        byte_stride: None,
        extensions: None,
        extras: Default::default(),
        name: None,
        target: Some(Valid(target)),
    });
    root.push(json::Accessor {
        buffer_view: Some(view),
        byte_offset: None,
        count: USize64::from(count),
        component_type: Valid(json::accessor::GenericComponentType(component)),
        extensions: None,
        extras: Default::default(),
        type_: Valid(type_),
        min: bounds.map(|(lo, _)| json::Value::from(lo.to_array().to_vec())),
        max: bounds.map(|(_, hi)| json::Value::from(hi.to_array().to_vec())),
        name: None,
        normalized: false,
        sparse: None,
    })
}

/// The parts as one binary glTF: a node per part, positions, normals,
/// texture coordinates and a plain coloured material each.
pub fn export_glb(parts: &[Part]) -> Result<Vec<u8>> {
    use json::accessor::{ComponentType, Type};
    use json::buffer::Target;
    let mut root = json::Root {
        asset: json::Asset {
            generator: Some("vitrine-render".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut bin = Vec::new();
    let mut nodes = Vec::new();
    for part in parts.iter().filter(|p| !p.mesh.vertices.is_empty()) {
        let v = &part.mesh.vertices;
        let positions: Vec<[f32; 3]> = v.iter().map(|v| v.position).collect();
        let normals: Vec<[f32; 3]> = v.iter().map(|v| v.normal).collect();
        let uvs: Vec<[f32; 2]> = v.iter().map(|v| v.uv).collect();
        let pos = accessor(
            &mut root,
            &mut bin,
            bytemuck::cast_slice(&positions),
            v.len(),
            (ComponentType::F32, Type::Vec3),
            part.mesh.bounds(),
            Target::ArrayBuffer,
        );
        let nor = accessor(
            &mut root,
            &mut bin,
            bytemuck::cast_slice(&normals),
            v.len(),
            (ComponentType::F32, Type::Vec3),
            None,
            Target::ArrayBuffer,
        );
        let tex = accessor(
            &mut root,
            &mut bin,
            bytemuck::cast_slice(&uvs),
            v.len(),
            (ComponentType::F32, Type::Vec2),
            None,
            Target::ArrayBuffer,
        );
        let idx = accessor(
            &mut root,
            &mut bin,
            bytemuck::cast_slice(&part.mesh.indices),
            part.mesh.indices.len(),
            (ComponentType::U32, Type::Scalar),
            None,
            Target::ElementArrayBuffer,
        );
        let material = root.push(json::Material {
            name: Some(part.name.to_string()),
            double_sided: true,
            pbr_metallic_roughness: json::material::PbrMetallicRoughness {
                base_color_factor: json::material::PbrBaseColorFactor(part.colour),
                metallic_factor: json::material::StrengthFactor(0.0),
                roughness_factor: json::material::StrengthFactor(0.85),
                ..Default::default()
            },
            ..Default::default()
        });
        let attributes = [
            (json::mesh::Semantic::Positions, pos),
            (json::mesh::Semantic::Normals, nor),
            (json::mesh::Semantic::TexCoords(0), tex),
        ]
        .into_iter()
        .map(|(s, a)| (Valid(s), a))
        .collect();
        let mesh = root.push(json::Mesh {
            extensions: None,
            extras: Default::default(),
            name: Some(part.name.to_string()),
            primitives: vec![json::mesh::Primitive {
                attributes,
                extensions: None,
                extras: Default::default(),
                indices: Some(idx),
                material: Some(material),
                mode: Valid(json::mesh::Mode::Triangles),
                targets: None,
            }],
            weights: None,
        });
        nodes.push(root.push(json::Node {
            mesh: Some(mesh),
            name: Some(part.name.to_string()),
            ..Default::default()
        }));
    }
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    root.push(json::Buffer {
        byte_length: USize64(bin.len() as u64),
        extensions: None,
        extras: Default::default(),
        name: None,
        uri: None,
    });
    let scene = root.push(json::Scene {
        extensions: None,
        extras: Default::default(),
        name: Some("try-on".into()),
        nodes,
    });
    root.scene = Some(scene);
    let json = json::serialize::to_vec(&root).map_err(|e| RenderError::Gltf(e.to_string()))?;
    let mut json = json;
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let glb = gltf::binary::Glb {
        header: gltf::binary::Header {
            magic: *b"glTF",
            version: 2,
            length: (12 + 8 + json.len() + 8 + bin.len()) as u32,
        },
        json: Cow::Owned(json),
        bin: Some(Cow::Owned(bin)),
    };
    glb.to_vec().map_err(|e| RenderError::Gltf(e.to_string()))
}

/// The first mesh of a glTF file (every triangle primitive of it, node
/// transforms ignored) as a skin-coloured mesh. Normals are taken from the
/// file when present, else computed.
pub fn load_mesh(path: &Path) -> Result<Mesh> {
    let bytes =
        std::fs::read(path).map_err(|e| RenderError::Gltf(format!("{}: {e}", path.display())))?;
    let bad = |e: &dyn std::fmt::Display| RenderError::Gltf(format!("{}: {e}", path.display()));
    let gltf = gltf::Gltf::from_slice(&bytes).map_err(|e| bad(&e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let buffers =
        gltf::import_buffers(&gltf.document, Some(base), gltf.blob.clone()).map_err(|e| bad(&e))?;
    let first = gltf
        .document
        .meshes()
        .next()
        .ok_or_else(|| bad(&"the file has no mesh"))?;
    let mut mesh = Mesh::default();
    let mut had_normals = true;
    for prim in first.primitives() {
        if prim.mode() != gltf::mesh::Mode::Triangles {
            continue;
        }
        let reader = prim.reader(|b| buffers.get(b.index()).map(|d| &d.0[..]));
        let Some(positions) = reader.read_positions() else {
            continue;
        };
        let positions: Vec<[f32; 3]> = positions.collect();
        let normals: Option<Vec<[f32; 3]>> = reader
            .read_normals()
            .map(|n| n.collect())
            .filter(|n: &Vec<[f32; 3]>| n.len() == positions.len());
        had_normals &= normals.is_some();
        let indices: Vec<u32> = match reader.read_indices() {
            Some(i) => i.into_u32().collect(),
            None => (0..positions.len() as u32).collect(),
        };
        if indices.iter().any(|&i| i as usize >= positions.len()) {
            return Err(bad(&"an index points past the vertices"));
        }
        let part = Mesh {
            vertices: positions
                .iter()
                .enumerate()
                .map(|(i, p)| Vertex {
                    position: *p,
                    normal: normals.as_ref().map_or([0.0, 1.0, 0.0], |n| n[i]),
                    uv: [0.0, 0.0],
                    material: Material::Skin.id(),
                    ao: 1.0,
                })
                .collect(),
            indices: indices[..indices.len() / 3 * 3].to_vec(),
        };
        mesh.append(&part);
    }
    if mesh.triangle_count() == 0 {
        return Err(bad(&"the first mesh has no triangles"));
    }
    if mesh
        .vertices
        .iter()
        .any(|v| !Vec3::from(v.position).is_finite())
    {
        return Err(bad(&"a vertex position is not a finite number"));
    }
    if !had_normals {
        mesh.recompute_normals();
    }
    Ok(mesh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Body, BodyType, SizeChart};

    #[test]
    fn an_exported_mannequin_loads_back_the_same() {
        let chart = SizeChart::builtin().unwrap_or_else(|e| panic!("{e}"));
        let m = chart
            .get(BodyType::Female, "S")
            .unwrap_or_else(|e| panic!("{e}"));
        let body = Body::new(&m, BodyType::Female).mannequin();
        let glb = export_glb(&[Part {
            name: "mannequin",
            mesh: &body,
            colour: [0.8, 0.8, 0.8, 1.0],
        }])
        .unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("m.glb");
        std::fs::write(&path, glb).unwrap_or_else(|e| panic!("{e}"));
        let back = load_mesh(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.indices, body.indices);
        assert_eq!(back.vertices.len(), body.vertices.len());
        for (a, b) in back.vertices.iter().zip(&body.vertices) {
            assert_eq!(a.position, b.position);
            assert_eq!(a.normal, b.normal);
        }
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for (name, bytes) in [
            ("junk.glb", &b"glTF\x02\x00\x00\x00 not really"[..]),
            (
                "junk.gltf",
                &b"{\"asset\": {\"version\": \"2.0\"}, \"meshes\": 3}"[..],
            ),
            ("empty.gltf", &b"{\"asset\": {\"version\": \"2.0\"}}"[..]),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
            match load_mesh(&path) {
                Err(RenderError::Gltf(msg)) => assert!(msg.contains(name), "{msg}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(
            load_mesh(&dir.path().join("missing.glb")),
            Err(RenderError::Gltf(_))
        ));
    }
}
