struct Globals {
    view_proj: mat4x4<f32>,
    eye: vec4<f32>,
    light_dir: vec4<f32>,
    // Linear-light fill colour of the garment; w unused.
    fill: vec4<f32>,
};

@group(0) @binding(0) var<uniform> g: Globals;
@group(0) @binding(1) var photo: texture_2d<f32>;
@group(0) @binding(2) var photo_sampler: sampler;
@group(0) @binding(3) var back_photo: texture_2d<f32>;

struct VsIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>,
    @location(3) material: f32,
    @location(4) ao: f32,
};

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>,
    @location(3) @interpolate(flat) material: f32,
    @location(4) ao: f32,
};

@vertex
fn vs_main(v: VsIn) -> VsOut {
    var o: VsOut;
    o.clip = g.view_proj * vec4<f32>(v.position, 1.0);
    o.world = v.position;
    o.normal = v.normal;
    o.uv = v.uv;
    o.material = v.material;
    o.ao = v.ao;
    return o;
}

// Materials (mesh.rs): 0 skin, 1 garment front (front photo), 2 garment
// fill, 3 floor shadow, 4 garment back (back photo, the fill without one).
@fragment
fn fs_main(i: VsOut) -> @location(0) vec4<f32> {
    if (i.material > 2.5 && i.material < 3.5) {
        // Soft ground shadow: darkest under the feet, gone at the rim.
        let d = length(i.uv);
        let a = 0.35 * (1.0 - smoothstep(0.2, 1.0, d));
        return vec4<f32>(0.0, 0.0, 0.0, a);
    }
    var albedo = vec3<f32>(0.78, 0.74, 0.70);
    var spec_strength = 0.08;
    // Panels carry uv = (x across -1..1, v down 0..1); the front photo is
    // seen from the front, the back one from behind (x mirrored). The
    // photos have one mip level, so an explicit level 0 samples exactly
    // what an implicit one would, and may sit in a branch: each fragment
    // fetches only the photo it shows (a CPU rasteriser pays per fetch).
    if (i.material > 3.5) {
        albedo = textureSampleLevel(back_photo, photo_sampler, vec2<f32>(0.5 - 0.5 * i.uv.x, i.uv.y), 0.0).rgb;
        spec_strength = 0.06;
    } else if (i.material > 1.5) {
        albedo = g.fill.rgb;
        spec_strength = 0.06;
    } else if (i.material > 0.5) {
        albedo = textureSampleLevel(photo, photo_sampler, vec2<f32>(0.5 + 0.5 * i.uv.x, i.uv.y), 0.0).rgb;
        spec_strength = 0.06;
    }
    var n = normalize(i.normal);
    let v = normalize(g.eye.xyz - i.world);
    // Seen from inside (through the hem or a sleeve), light the back face;
    // the inside of a garment is in its own shade.
    var inside = 1.0;
    if (dot(n, v) < 0.0) {
        n = -n;
        inside = 0.55;
    }
    let l = normalize(g.light_dir.xyz);
    let ao = clamp(i.ao, 0.0, 1.0) * inside;
    // Fabric: wrapped diffuse (light bleeds a little past the terminator),
    // a broad soft highlight, and a faint sheen at grazing angles.
    let diffuse = max((dot(n, l) + 0.25) / 1.25, 0.0);
    let h = normalize(l + v);
    let spec = pow(max(dot(n, h), 0.0), 16.0) * spec_strength;
    let rim = pow(1.0 - max(dot(n, v), 0.0), 3.0) * 0.04;
    // Hemisphere ambient: brighter from the sky than from the floor, and
    // occluded where the body folds (baked per vertex).
    let hemi = mix(vec3<f32>(0.18, 0.17, 0.16), vec3<f32>(0.42, 0.43, 0.46), 0.5 + 0.5 * n.y);
    let direct = 0.7 * diffuse * mix(1.0, ao, 0.5);
    let rgb = albedo * (hemi * ao + direct) + vec3<f32>(spec + rim) * mix(0.3, 1.0, ao);
    return vec4<f32>(rgb, 1.0);
}
