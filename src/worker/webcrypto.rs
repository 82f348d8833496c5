//! WebCrypto (`crypto.subtle`, native Ed25519 in workerd): every Ed25519 operation of
//! the Worker. Tenant keys' public halves are derived here ([`TenantKey::derive`]),
//! tokens and assertions signed here ([`sign_input`]), signatures checked
//! here ([`verify_native`]) or, for the fast path, by the entry module with the keys and
//! checks handed out here ([`imported_signing_key`], [`entry_verify`]): the deployable
//! Worker links no Rust Ed25519 signer or verifier (only the core's key validation, a
//! point decompression). Imported
//! `CryptoKey`s are cached per isolate; every decision (which key, `alg`, strict
//! encodings, claims, the signed bytes) is the core's ([`crate::Verifier::prepare`],
//! [`crate::SignatureCheck::complete`], [`crate::jose::jwt_signing_input`]). Without
//! WebCrypto nothing is signed or derived and every signature fails: closed.

use super::counters;
use crate::encoding::b64;
use crate::jose::jwk::thumbprint_of;
use crate::jose::CacheKey;
use crate::{
    Jwk, PublicKey, SignatureMemo, TokenCache, UnixTime, UntrustedToken, VerifiedClaims,
    VerifyError,
};
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use core::cell::{Cell, RefCell};
use worker::wasm_bindgen::{JsCast, JsValue};

/// DER prefix of a PKCS#8 Ed25519 private key (RFC 8410); the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

std::thread_local! {
    /// The WebCrypto signing key of the last tenant key used, by `kid`.
    static WEBCRYPTO_KEY: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

/// A tenant signing key in the Worker: the seed WebCrypto signs with, its public key and
/// `kid` (the RFC 7638 thumbprint, as [`crate::SigningKey::from_seed`] computes it).
#[derive(Clone)]
pub(crate) struct TenantKey {
    kid: String,
    public: PublicKey,
    seed: [u8; 32],
}

impl core::fmt::Debug for TenantKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TenantKey {
    /// The key of an RFC 8032 seed: its public key exported by WebCrypto (from the
    /// PKCS#8 import of the seed) and validated by the core. `None` without WebCrypto.
    pub(crate) async fn derive(seed: [u8; 32]) -> Option<Self> {
        let subtle = subtle()?;
        let key = import_seed(&subtle, &seed, true).await?;
        let args = js_sys::Array::of2(&"jwk".into(), &key);
        let jwk = call_async(&subtle, &subtle.export_key, &args).await?;
        let x = js_sys::Reflect::get(&jwk, &"x".into()).ok()?.as_string()?;
        let bytes: [u8; 32] = b64::decode(&x).ok()?.try_into().ok()?;
        let public = crate::crypto::validate_public_key(&bytes)?;
        Some(Self {
            kid: thumbprint_of(&public),
            public,
            seed,
        })
    }

    /// The key id put in every token's header.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK (`OKP`, `Ed25519`, `x`, `kid`, `alg: EdDSA`, `use: sig`).
    pub(crate) fn public_jwk(&self) -> Jwk {
        Jwk::from_public_key(self.public, Some(self.kid.clone()))
    }
}

/// `crypto.subtle` with the methods the Worker calls and the `{name: "Ed25519"}`
/// algorithm object, looked up once per isolate (each lookup is a crossing into JS).
struct Subtle {
    subtle: JsValue,
    import_key: js_sys::Function,
    export_key: js_sys::Function,
    sign: js_sys::Function,
    verify: js_sys::Function,
    ed25519: JsValue,
}

std::thread_local! {
    static SUBTLE: RefCell<Option<alloc::rc::Rc<Subtle>>> = const { RefCell::new(None) };
}

/// `crypto.subtle`, if the runtime has it.
fn subtle() -> Option<alloc::rc::Rc<Subtle>> {
    if let Some(s) = SUBTLE.with(|s| s.try_borrow().ok().and_then(|s| s.clone())) {
        return Some(s);
    }
    let subtle = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"subtle".into()))
        .ok()
        .filter(|s| !s.is_undefined())?;
    let method = |name: &str| -> Option<js_sys::Function> {
        js_sys::Reflect::get(&subtle, &name.into())
            .ok()?
            .dyn_into()
            .ok()
    };
    let algo = js_sys::Object::new();
    js_sys::Reflect::set(&algo, &"name".into(), &"Ed25519".into()).ok()?;
    let found = alloc::rc::Rc::new(Subtle {
        import_key: method("importKey")?,
        export_key: method("exportKey")?,
        sign: method("sign")?,
        verify: method("verify")?,
        ed25519: algo.into(),
        subtle,
    });
    SUBTLE.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            *s = Some(alloc::rc::Rc::clone(&found));
        }
    });
    Some(found)
}

/// Imports an Ed25519 seed as a WebCrypto private key (PKCS#8), for signing.
async fn import_seed(subtle: &Subtle, seed: &[u8; 32], extractable: bool) -> Option<JsValue> {
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(seed);
    let usages = js_sys::Array::of1(&"sign".into());
    let args = js_sys::Array::of5(
        &"pkcs8".into(),
        &js_sys::Uint8Array::from(der.as_slice()).into(),
        &subtle.ed25519,
        &JsValue::from_bool(extractable),
        &usages.into(),
    );
    call_async(subtle, &subtle.import_key, &args).await
}

/// Calls `subtle.<method>(...args)` and awaits the promise it returns.
async fn call_async(
    subtle: &Subtle,
    method: &js_sys::Function,
    args: &js_sys::Array,
) -> Option<JsValue> {
    let promise: js_sys::Promise = method.apply(&subtle.subtle, args).ok()?.dyn_into().ok()?;
    worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
}

/// Signs `message` with `key` (WebCrypto, native Ed25519); `None` when WebCrypto is
/// unavailable or failed (counted: nothing is signed then).
pub(crate) async fn sign_input(key: &TenantKey, message: &[u8]) -> Option<[u8; 64]> {
    let signature = webcrypto_sign(&key.kid, &key.seed, message).await;
    counters::bump(if signature.is_some() {
        |c| &c.webcrypto_signs
    } else {
        |c| &c.webcrypto_failures
    });
    signature
}

async fn webcrypto_sign(kid: &str, seed: &[u8; 32], message: &[u8]) -> Option<[u8; 64]> {
    let subtle = subtle()?;
    let cached = WEBCRYPTO_KEY.with(|k| {
        k.try_borrow().ok().and_then(|slot| match slot.as_ref() {
            Some((cached_kid, key)) if cached_kid == kid => Some(key.clone()),
            _ => None,
        })
    });
    let key = match cached {
        Some(key) => key,
        None => {
            let key = import_seed(&subtle, seed, false).await?;
            WEBCRYPTO_KEY.with(|k| {
                if let Ok(mut slot) = k.try_borrow_mut() {
                    *slot = Some((kid.to_string(), key.clone()));
                }
            });
            key
        }
    };
    let args = js_sys::Array::of3(
        &subtle.ed25519,
        &key,
        &js_sys::Uint8Array::from(message).into(),
    );
    let signature = js_sys::Uint8Array::new(&call_async(&subtle, &subtle.sign, &args).await?);
    let mut out = [0u8; 64];
    if signature.length() != 64 {
        return None;
    }
    signature.copy_to(&mut out);
    Some(out)
}

// ------------------------------------------------------------------ WebCrypto verification

std::thread_local! {
    /// Imported WebCrypto public keys, by their 32 bytes (bounded).
    static VERIFY_KEYS: RefCell<alloc::collections::BTreeMap<[u8; 32], JsValue>> =
        const { RefCell::new(alloc::collections::BTreeMap::new()) };
}

/// Verifies with WebCrypto (native Ed25519); `None` when WebCrypto is unavailable.
async fn webcrypto_verify(public: [u8; 32], message: &[u8], signature: &[u8; 64]) -> Option<bool> {
    let subtle = subtle()?;
    let cached = VERIFY_KEYS.with(|k| k.try_borrow().ok().and_then(|m| m.get(&public).cloned()));
    let key = match cached {
        Some(key) => key,
        None => {
            let args = js_sys::Array::of5(
                &"raw".into(),
                &js_sys::Uint8Array::from(public.as_slice()).into(),
                &subtle.ed25519,
                &JsValue::FALSE,
                &js_sys::Array::of1(&"verify".into()).into(),
            );
            let key = call_async(&subtle, &subtle.import_key, &args).await?;
            VERIFY_KEYS.with(|k| {
                if let Ok(mut m) = k.try_borrow_mut() {
                    if m.len() >= 256 {
                        m.clear();
                    }
                    m.insert(public, key.clone());
                }
            });
            key
        }
    };
    let args = js_sys::Array::of4(
        &subtle.ed25519,
        &key,
        &js_sys::Uint8Array::from(signature.as_slice()).into(),
        &js_sys::Uint8Array::from(message).into(),
    );
    call_async(&subtle, &subtle.verify, &args).await?.as_bool()
}

/// [`crate::Verifier::verify_untrusted`] with the signature equation computed by
/// WebCrypto (failing closed when WebCrypto is unavailable): the core orders every
/// check ([`crate::Verifier::prepare`] / [`crate::SignatureCheck::complete`]); this only
/// makes the native call. A token this isolate already verified under the same keys and
/// policy is a hit in the core's [`TokenCache`] (its time claims re-checked at `now`); a
/// signature already verified under another policy skips the call ([`SignatureMemo`]).
/// `raw` is the compact token `token` was parsed from.
pub(crate) async fn verify_native(
    verifier: &crate::Verifier,
    raw: &str,
    token: &UntrustedToken<'_>,
    now: UnixTime,
) -> Result<VerifiedClaims, VerifyError> {
    let (check, key) = match verify_remembered(verifier, raw, token, now) {
        Remembered::Decided(result) => return result,
        Remembered::Unchecked(check, key) => (check, key),
    };
    let valid = signature_ok(check.key(), check.message(), check.signature()).await;
    complete_check(check, key, valid, raw.len(), now)
}

/// What the isolate's caches say of a token ([`verify_remembered`]).
pub(crate) enum Remembered<'v, 't> {
    /// Decided: a [`TokenCache`] hit, a check the core refuses before any signature, or a
    /// signature in the [`SignatureMemo`] (its claims then checked at `now`).
    Decided(Result<VerifiedClaims, VerifyError>),
    /// Only the signature equation can decide: the prepared check, and the token's
    /// [`TokenCache`] key to remember it under once it verifies.
    Unchecked(crate::SignatureCheck<'v, 't>, CacheKey),
}

/// [`verify_native`] without the native call: the isolate's caches decide, or hand back
/// the check only the signature equation can decide.
pub(crate) fn verify_remembered<'v, 't>(
    verifier: &'v crate::Verifier,
    raw: &str,
    token: &'v UntrustedToken<'t>,
    now: UnixTime,
) -> Remembered<'v, 't> {
    let key = TokenCache::key(verifier, raw);
    let hit = TOKEN_CACHE.with(|c| {
        c.try_borrow_mut()
            .ok()
            .and_then(|mut c| c.get(&key, verifier, now))
    });
    if let Some(result) = hit {
        counters::bump(|c| &c.token_cache_hits);
        return Remembered::Decided(result);
    }
    let check = match verifier.prepare(token) {
        Ok(check) => check,
        Err(e) => return Remembered::Decided(Err(e)),
    };
    if !SIGNATURE_MEMO.with(|m| m.try_borrow().is_ok_and(|m| m.contains(&check))) {
        return Remembered::Unchecked(check, key);
    }
    counters::bump(|c| &c.memo_hits);
    let result = check.complete(true, now);
    if let Ok(claims) = &result {
        remember_verified(key, claims, raw.len());
    }
    Remembered::Decided(result)
}

/// Caches `claims` of a token of `token_len` bytes under its [`TokenCache::key`].
fn remember_verified(key: CacheKey, claims: &VerifiedClaims, token_len: usize) {
    TOKEN_CACHE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c.insert(key, claims, token_len);
        }
    });
}

/// A signature the entry module checks with WebCrypto for the fast path
/// ([`super::fast`]): what to check, handed out by [`entry_verify`].
#[derive(Debug)]
pub(crate) struct PendingSignature {
    /// The public key (32 bytes, validated when its set was loaded).
    pub(crate) key: [u8; 32],
    /// The signing input (`header "." payload`).
    pub(crate) message: String,
    /// The strictly encoded signature.
    pub(crate) signature: [u8; 64],
}

/// Where the entry module's answer to a handed-out check goes: `Some(valid)` once
/// answered (`valid` is `None` when WebCrypto threw).
pub(crate) type Answer = Rc<Cell<Option<Option<bool>>>>;

std::thread_local! {
    /// The check the request being polled has just handed out, with its answer slot
    /// (taken by [`take_handed_out`] right after the poll).
    static HANDED_OUT: RefCell<Option<(PendingSignature, Answer)>> = const { RefCell::new(None) };
}

/// The signature equation of `check`, made by the entry module with WebCrypto: the first
/// poll hands the check out ([`take_handed_out`]) and waits; the fast path resumes the
/// request once the entry answers into its slot. `None` when WebCrypto threw.
pub(crate) async fn entry_verify(check: &crate::SignatureCheck<'_, '_>) -> Option<bool> {
    let answer = Answer::default();
    let pending = PendingSignature {
        key: *check.key().as_bytes(),
        message: String::from_utf8_lossy(check.message()).into_owned(),
        signature: *check.signature(),
    };
    HANDED_OUT.with(|h| {
        if let Ok(mut h) = h.try_borrow_mut() {
            *h = Some((pending, answer.clone()));
        }
    });
    let valid = core::future::poll_fn(|_| match answer.take() {
        Some(valid) => core::task::Poll::Ready(valid),
        None => core::task::Poll::Pending,
    })
    .await;
    counters::bump(match valid {
        Some(_) => |c| &c.webcrypto_verifies,
        None => |c| &c.webcrypto_failures,
    });
    valid
}

/// The check handed out by the last poll ([`entry_verify`]), if any.
pub(crate) fn take_handed_out() -> Option<(PendingSignature, Answer)> {
    HANDED_OUT.with(|h| h.try_borrow_mut().ok().and_then(|mut h| h.take()))
}

/// Completes a check whose signature equation was made natively (`valid`): a valid
/// signature is remembered in the [`SignatureMemo`], the claims are checked at `now`
/// ([`crate::SignatureCheck::complete`]), and a token that verifies is cached under `key`
/// (a token of `token_len` bytes). Failures are never remembered.
pub(crate) fn complete_check(
    check: crate::SignatureCheck<'_, '_>,
    key: CacheKey,
    valid: bool,
    token_len: usize,
    now: UnixTime,
) -> Result<VerifiedClaims, VerifyError> {
    if valid {
        SIGNATURE_MEMO.with(|m| {
            if let Ok(mut m) = m.try_borrow_mut() {
                m.remember(&check);
            }
        });
    }
    let claims = check.complete(valid, now)?;
    remember_verified(key, &claims, token_len);
    Ok(claims)
}

/// The WebCrypto signing key of `kid` if this isolate imported it (the fast path signs
/// with it; without it the request takes the full path, which imports it).
pub(crate) fn imported_signing_key(kid: &str) -> Option<JsValue> {
    WEBCRYPTO_KEY.with(|k| {
        k.try_borrow().ok().and_then(|slot| match slot.as_ref() {
            Some((cached_kid, key)) if cached_kid == kid => Some(key.clone()),
            _ => None,
        })
    })
}

std::thread_local! {
    /// Tokens that verified in this isolate, by token, key set and policy (bounded).
    static TOKEN_CACHE: RefCell<TokenCache> = RefCell::new(TokenCache::default());
    /// Signatures that verified in this isolate (bounded, cleared when full).
    static SIGNATURE_MEMO: RefCell<SignatureMemo> = RefCell::new(SignatureMemo::default());
}

/// The signature equation for a key and a strictly encoded signature (the core's
/// [`crate::Verifier::prepare`] checked both), by WebCrypto: `false` when WebCrypto is
/// unavailable or failed (counted), as for a bad signature.
pub(crate) async fn signature_ok(
    key: &crate::PublicKey,
    message: &[u8],
    signature: &[u8; 64],
) -> bool {
    match webcrypto_verify(*key.as_bytes(), message, signature).await {
        Some(ok) => {
            counters::bump(|c| &c.webcrypto_verifies);
            ok
        }
        None => {
            counters::bump(|c| &c.webcrypto_failures);
            false
        }
    }
}
