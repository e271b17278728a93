//! `GET /api/products/{id}/tryon` on a real server, renderer and store:
//! the PNG is the product drawn as the CLI and the app draw it.

mod common;

use common::{red_square_png, Server};
use vitrine_core::ProductDetail;
use vitrine_render::{Framing, Renderer, View};
use vitrine_tryon::ProductTryOn;

fn png(reply: &common::Reply) -> image::RgbaImage {
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.content_type, "image/png");
    image::load_from_memory(&reply.body)
        .expect("a PNG")
        .to_rgba8()
}

fn reddish(img: &image::RgbaImage) -> usize {
    img.pixels()
        .filter(|p| p[0] > 120 && p[0] as i32 > p[1] as i32 + 60 && p[0] as i32 > p[2] as i32 + 60)
        .count()
}

#[test]
fn a_products_tryon_over_http() {
    let s = Server::start();
    let tk = &s.tokens;
    let up = s.upload_photo(&tk.author, "red tee.png", &red_square_png());
    let id = up["product_id"].as_i64().expect("product id");
    let path = format!("/api/products/{id}/tryon");

    let front = s.get(&format!("{path}?px=256&framing=close"), Some(&tk.reviewer));
    let img = png(&front);
    assert_eq!(img.dimensions(), (256, 256));
    // The photo's red is printed on the garment and is its fill: a close
    // framing is mostly garment.
    let red = reddish(&img);
    assert!(red > 256 * 256 / 8, "only {red} red pixels");
    // A red square is no garment category: the plainest garment.
    assert_eq!(front.header("x-vitrine-garment"), Some("tshirt"));

    // The same product, planned and drawn here through the shared crate,
    // gives the same pixels: one decision for the CLI, server and app.
    let product: ProductDetail = serde_json::from_value(
        s.get(&format!("/api/products/{id}"), Some(&tk.author))
            .json(),
    )
    .expect("product detail");
    let plan = ProductTryOn::plan(&product, None, None, None, "M").expect("plan");
    let renderer = Renderer::new_headless().expect("a graphics adapter (lavapipe)");
    let local = plan
        .prepare(&renderer, View::Front, Framing::Close)
        .expect("prepare")
        .frame(&renderer, None, 256)
        .expect("frame");
    assert!(
        local == img,
        "the server's frame differs from the shared crate's"
    );

    let dress = s.get(
        &format!("{path}?px=256&framing=close&garment=dress"),
        Some(&tk.author),
    );
    assert_eq!(dress.header("x-vitrine-garment"), Some("dress"));
    assert!(png(&dress) != img, "a dress looks like a T-shirt");
    let turned = s.get(
        &format!("{path}?px=256&framing=close&view=34&azimuth=90&size=XL"),
        Some(&tk.admin),
    );
    assert!(png(&turned) != img, "turning changed nothing");
    // Defaults: 1024², the whole figure.
    assert_eq!(
        png(&s.get(&path, Some(&tk.author))).dimensions(),
        (1024, 1024)
    );

    // Bad input.
    s.get(&path, None).assert_problem(401, "unauthorized");
    s.get("/api/products/999999/tryon", Some(&tk.author))
        .assert_problem(404, "not_found");
    s.get(&format!("{path}?px=8"), Some(&tk.author))
        .assert_problem(400, "invalid_input");
    s.get(&format!("{path}?px=4096"), Some(&tk.author))
        .assert_problem(400, "invalid_input");
    let size = s.get(&format!("{path}?size=XXXL"), Some(&tk.author));
    assert_eq!(size.status, 400, "{}", String::from_utf8_lossy(&size.body));
    s.get(&format!("{path}?azimuth=NaN"), Some(&tk.author))
        .assert_problem(400, "invalid_input");
    s.get(&format!("{path}?photo_id=999999"), Some(&tk.author))
        .assert_problem(404, "not_found");
    let cape = s.get(&format!("{path}?garment=cape"), Some(&tk.author));
    assert_eq!(cape.status, 400, "{}", String::from_utf8_lossy(&cape.body));
    let unknown = s.get(&format!("{path}?colour=red"), Some(&tk.author));
    assert_eq!(unknown.status, 400);
}
