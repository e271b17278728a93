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

struct VsIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>,
    @location(3) material: f32,
};

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>,
    @location(3) @interpolate(flat) material: f32,
};

@vertex
fn vs_main(v: VsIn) -> VsOut {
    var o: VsOut;
    o.clip = g.view_proj * vec4<f32>(v.position, 1.0);
    o.world = v.position;
    o.normal = v.normal;
    o.uv = v.uv;
    o.material = v.material;
    return o;
}

@fragment
fn fs_main(i: VsOut) -> @location(0) vec4<f32> {
    // The photo is sampled before any branch: texture sampling needs
    // uniform control flow.
    let photo_rgb = textureSample(photo, photo_sampler, i.uv).rgb;
    if (i.material > 2.5) {
        // Soft ground shadow: darkest under the feet, gone at the rim.
        let d = length(i.uv);
        let a = 0.35 * (1.0 - smoothstep(0.2, 1.0, d));
        return vec4<f32>(0.0, 0.0, 0.0, a);
    }
    var albedo = vec3<f32>(0.78, 0.74, 0.70);
    var spec_strength = 0.08;
    if (i.material > 1.5) {
        albedo = g.fill.rgb;
        spec_strength = 0.12;
    } else if (i.material > 0.5) {
        albedo = photo_rgb;
        spec_strength = 0.12;
    }
    var n = normalize(i.normal);
    let v = normalize(g.eye.xyz - i.world);
    // Seen from inside (through the hem or a sleeve), light the back face.
    if (dot(n, v) < 0.0) {
        n = -n;
    }
    let l = normalize(g.light_dir.xyz);
    let diffuse = max(dot(n, l), 0.0);
    let h = normalize(l + v);
    let spec = pow(max(dot(n, h), 0.0), 24.0) * spec_strength;
    // Hemisphere ambient: brighter from the sky than from the floor.
    let hemi = mix(vec3<f32>(0.18, 0.17, 0.16), vec3<f32>(0.42, 0.43, 0.46), 0.5 + 0.5 * n.y);
    let rgb = albedo * (hemi + 0.75 * diffuse) + vec3<f32>(spec);
    return vec4<f32>(rgb, 1.0);
}
