//! WebCrypto (`crypto.subtle`, native Ed25519 in workerd): signing with tenant keys and
//! the signature equation of the core's verifier. Imported `CryptoKey`s are cached per
//! isolate; every decision (which key, `alg`, strict encodings, claims) is the core's
//! ([`crate::Verifier::prepare`], [`crate::SignatureCheck::complete`]).

use super::counters;
use crate::jose::{finish_jws, jwt_signing_input};
use crate::{
    Ed25519Verify, SignatureMemo, SigningKey, TokenCache, UnixTime, UntrustedToken, VerifiedClaims,
    VerifyError,
};
use alloc::string::{String, ToString};
use core::cell::RefCell;
use worker::wasm_bindgen::{JsCast, JsValue};

/// DER prefix of a PKCS#8 Ed25519 private key (RFC 8410); the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

std::thread_local! {
    /// The WebCrypto signing key of the last tenant key used, by `kid`.
    static WEBCRYPTO_KEY: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

/// Calls `obj.method(...args)` and awaits the promise it returns.
async fn call_async(obj: &JsValue, method: &str, args: &js_sys::Array) -> Option<JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(obj, &method.into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: js_sys::Promise = f.apply(obj, args).ok()?.dyn_into().ok()?;
    worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
}

fn ed25519_algorithm() -> JsValue {
    let algo = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&algo, &"name".into(), &"Ed25519".into());
    algo.into()
}

/// Signs with WebCrypto (`crypto.subtle`, native Ed25519); `None` when it is unavailable.
async fn webcrypto_sign(kid: &str, seed: &[u8; 32], message: &[u8]) -> Option<[u8; 64]> {
    let subtle = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"subtle".into()))
        .ok()?;
    let cached = WEBCRYPTO_KEY.with(|k| {
        k.try_borrow().ok().and_then(|slot| match slot.as_ref() {
            Some((cached_kid, key)) if cached_kid == kid => Some(key.clone()),
            _ => None,
        })
    });
    let key = match cached {
        Some(key) => key,
        None => {
            let mut der = PKCS8_ED25519_PREFIX.to_vec();
            der.extend_from_slice(seed);
            let usages = js_sys::Array::of1(&"sign".into());
            let args = js_sys::Array::of5(
                &"pkcs8".into(),
                &js_sys::Uint8Array::from(der.as_slice()).into(),
                &ed25519_algorithm(),
                &JsValue::FALSE,
                &usages.into(),
            );
            let key = call_async(&subtle, "importKey", &args).await?;
            WEBCRYPTO_KEY.with(|k| {
                if let Ok(mut slot) = k.try_borrow_mut() {
                    *slot = Some((kid.to_string(), key.clone()));
                }
            });
            key
        }
    };
    let args = js_sys::Array::of3(
        &ed25519_algorithm(),
        &key,
        &js_sys::Uint8Array::from(message).into(),
    );
    let signature = js_sys::Uint8Array::new(&call_async(&subtle, "sign", &args).await?);
    let mut out = [0u8; 64];
    if signature.length() != 64 {
        return None;
    }
    signature.copy_to(&mut out);
    Some(out)
}

/// Signs `claims` as a compact JWT with `key` (the core's signing input and encoding,
/// [`jwt_signing_input`] / [`finish_jws`]): WebCrypto when the seed is known, the core
/// signer otherwise.
pub(crate) async fn sign_jwt(
    key: &SigningKey,
    seed: Option<&[u8; 32]>,
    typ: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let input = jwt_signing_input(key.kid(), Some(typ), claims);
    let native = match seed {
        Some(seed) => webcrypto_sign(key.kid(), seed, input.as_bytes()).await,
        None => None,
    };
    let signature = match native {
        Some(signature) => {
            counters::bump(|c| &c.webcrypto_signs);
            signature
        }
        None => {
            counters::bump(|c| &c.wasm_signs);
            key.sign_raw(input.as_bytes())
        }
    };
    finish_jws(input, &signature)
}

// ------------------------------------------------------------------ WebCrypto verification

std::thread_local! {
    /// Imported WebCrypto public keys, by their 32 bytes (bounded).
    static VERIFY_KEYS: RefCell<alloc::collections::BTreeMap<[u8; 32], JsValue>> =
        const { RefCell::new(alloc::collections::BTreeMap::new()) };
}

/// Verifies with WebCrypto (native Ed25519); `None` when WebCrypto is unavailable.
async fn webcrypto_verify(public: [u8; 32], message: &[u8], signature: &[u8; 64]) -> Option<bool> {
    let subtle = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"subtle".into()))
        .ok()?;
    let cached = VERIFY_KEYS.with(|k| k.try_borrow().ok().and_then(|m| m.get(&public).cloned()));
    let key = match cached {
        Some(key) => key,
        None => {
            let args = js_sys::Array::of5(
                &"raw".into(),
                &js_sys::Uint8Array::from(public.as_slice()).into(),
                &ed25519_algorithm(),
                &JsValue::FALSE,
                &js_sys::Array::of1(&"verify".into()).into(),
            );
            let key = call_async(&subtle, "importKey", &args).await?;
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
        &ed25519_algorithm(),
        &key,
        &js_sys::Uint8Array::from(signature.as_slice()).into(),
        &js_sys::Uint8Array::from(message).into(),
    );
    call_async(&subtle, "verify", &args).await?.as_bool()
}

/// [`crate::Verifier::verify_untrusted`] with the signature equation computed by
/// WebCrypto (the core's backend when WebCrypto is unavailable): the core orders every
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
    let key = TokenCache::key(verifier, raw);
    let hit = TOKEN_CACHE.with(|c| {
        c.try_borrow_mut()
            .ok()
            .and_then(|mut c| c.get(&key, verifier, now))
    });
    if let Some(result) = hit {
        counters::bump(|c| &c.token_cache_hits);
        return result;
    }
    let claims = verify_signature_then_claims(verifier, token, now).await?;
    TOKEN_CACHE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c.insert(key, &claims, raw.len());
        }
    });
    Ok(claims)
}

async fn verify_signature_then_claims(
    verifier: &crate::Verifier,
    token: &UntrustedToken<'_>,
    now: UnixTime,
) -> Result<VerifiedClaims, VerifyError> {
    let check = verifier.prepare(token)?;
    if SIGNATURE_MEMO.with(|m| m.try_borrow().is_ok_and(|m| m.contains(&check))) {
        counters::bump(|c| &c.memo_hits);
        return check.complete(true, now);
    }
    let valid = signature_ok(check.key(), check.message(), check.signature()).await;
    if valid {
        SIGNATURE_MEMO.with(|m| {
            if let Ok(mut m) = m.try_borrow_mut() {
                m.remember(&check);
            }
        });
    }
    check.complete(valid, now)
}

std::thread_local! {
    /// Tokens that verified in this isolate, by token, key set and policy (bounded).
    static TOKEN_CACHE: RefCell<TokenCache> = RefCell::new(TokenCache::default());
    /// Signatures that verified in this isolate (bounded, cleared when full).
    static SIGNATURE_MEMO: RefCell<SignatureMemo> = RefCell::new(SignatureMemo::default());
}

/// The signature equation for a key and a strictly encoded signature (the core's
/// [`crate::Verifier::prepare`] checked both): WebCrypto, or the core's backend when
/// WebCrypto is unavailable.
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
            counters::bump(|c| &c.wasm_verifies);
            crate::RustBackend.verify(key, message, signature)
        }
    }
}
