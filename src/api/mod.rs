//! The Backend API under `/v1`, sans-I/O: everything the Worker needs to decide about a
//! Backend API request before and after it reads or writes D1.
//!
//! * [`keys`]: the secret key format (`sk_test_…`/`sk_live_…`, CRC32 checksum), hashing
//!   and constant-time verification, and the operator secret;
//! * [`scopes`]: the scope set, the scope each endpoint requires, `scope_escalation`;
//! * [`routes`]: the `/v1` router, `(method, path)` → [`routes::ApiRoute`];
//! * [`requests`]: strict parsing of every body and query into typed structs;
//! * [`merge`]: the metadata deep merge of `PATCH /v1/users/{id}/metadata`;
//! * [`pagination`], [`idempotency`], [`etag`]: list cursors, `Idempotency-Key` replays
//!   and `ETag`/`If-Match`;
//! * [`openapi`]: the OpenAPI 3.1 document of `GET /v1/openapi.json`;
//! * [`cors`]: CORS on `/v1` (the application's allowed origins only);
//! * [`signing`]: the rotation `POST /v1/signing-keys/rotate` asks for;
//! * [`error`]: [`ApiError`] and its JSON reply `{code, message, field?, pointer?, request_id}`.
//!
//! Nothing here reads a clock, the network or randomness: `now` and random bytes are
//! arguments. The HTTP endpoints themselves are wired in the Worker.

pub mod cors;
pub mod error;
pub mod etag;
pub mod idempotency;
pub mod keys;
pub mod merge;
pub mod openapi;
pub mod pagination;
pub mod requests;
pub mod routes;
pub mod scopes;
pub mod signing;

pub use error::ApiError;
