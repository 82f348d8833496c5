//! Prints the Backend API's OpenAPI 3.1 document (`GET /v1/openapi.json`), as the core
//! builds it: `cargo run --example openapi > openapi.json`.

fn main() {
    println!("{}", torii_edge::api::openapi::document());
}
