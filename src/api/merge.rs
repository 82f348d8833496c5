//! The metadata deep merge of `PATCH /v1/users/{id}/metadata` (JSON Merge Patch,
//! RFC 7396): `null` deletes a key, objects merge recursively, anything else replaces.
//! The result is re-checked against the bag's caps (512 bytes, depth 8).

use super::error::ApiError;
use crate::templates::user::{MetadataBag, User};
use alloc::string::String;
use serde_json::{Map, Value};

/// Applies `patch` to `target` in place (RFC 7396): for each member of `patch`, `null`
/// removes it from `target`; an object merges into `target`'s object member (an absent
/// or non-object member counts as `{}`, so nested `null`s never land in the result);
/// any other value replaces the member.
pub fn merge_patch(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(key);
            }
            Value::Object(inner) => {
                let slot = target
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(existing) = slot {
                    merge_patch(existing, inner);
                }
            }
            other => {
                target.insert(key.clone(), other.clone());
            }
        }
    }
}

/// `base` with `patch` merged in (see [`merge_patch`]), checked against `bag`'s caps:
/// over 512 bytes or deeper than 8 levels → `validation_failed` naming the bag.
pub fn merge_metadata(
    bag: MetadataBag,
    base: &Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, ApiError> {
    let mut merged = base.clone();
    merge_patch(&mut merged, patch);
    check_metadata(bag, &merged)?;
    Ok(merged)
}

/// `validation_failed` naming the bag unless `map` is within its caps (the same check as
/// `User::set_metadata`).
pub fn check_metadata(bag: MetadataBag, map: &Map<String, Value>) -> Result<(), ApiError> {
    let mut probe = User::new("_").map_err(|e| ApiError::from_user(&e))?;
    probe
        .set_metadata(bag, map.clone())
        .map_err(|e| ApiError::from_user(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn null_deletes_objects_merge_everything_else_replaces() {
        let base = obj(json!({
            "plan": "free",
            "flags": {"beta": true, "old": 1, "deep": {"a": 1, "b": 2}},
            "tags": ["a", "b"],
            "gone": 1,
        }));
        let patch = obj(json!({
            "plan": "pro",
            "flags": {"old": null, "new": "x", "deep": {"b": null, "c": 3}},
            "tags": ["c"],
            "gone": null,
            "absent": null,
            "fresh": {"k": {"n": null, "m": 1}},
        }));
        let merged = merge_metadata(MetadataBag::Public, &base, &patch).unwrap();
        assert_eq!(
            Value::Object(merged),
            json!({
                "plan": "pro",
                "flags": {"beta": true, "new": "x", "deep": {"a": 1, "c": 3}},
                "tags": ["c"],
                "fresh": {"k": {"m": 1}},
            })
        );
    }

    #[test]
    fn objects_replace_scalars_and_scalars_replace_objects() {
        let mut t = obj(json!({"a": 1, "b": {"x": 1}}));
        merge_patch(&mut t, &obj(json!({"a": {"y": null, "z": 2}, "b": 5})));
        assert_eq!(Value::Object(t), json!({"a": {"z": 2}, "b": 5}));
    }

    #[test]
    fn empty_patch_is_identity_and_merge_is_idempotent() {
        let base = obj(json!({"a": {"b": [1, 2]}, "c": "d"}));
        assert_eq!(
            merge_metadata(MetadataBag::Private, &base, &Map::new()).unwrap(),
            base
        );
        let patch = obj(json!({"a": {"b": null, "e": 1}, "c": null}));
        let once = merge_metadata(MetadataBag::Unsafe, &base, &patch).unwrap();
        let twice = merge_metadata(MetadataBag::Unsafe, &once, &patch).unwrap();
        assert_eq!(once, twice);
    }

    #[test]
    fn the_result_is_rechecked_against_the_caps() {
        let base = obj(json!({"a": "x".repeat(300)}));
        let patch = obj(json!({"b": "y".repeat(300)}));
        let err = merge_metadata(MetadataBag::Public, &base, &patch).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(err.field.as_deref(), Some("public_metadata"));
        // Deleting makes room again.
        let patch = obj(json!({"a": null, "b": "y".repeat(300)}));
        assert!(merge_metadata(MetadataBag::Public, &base, &patch).is_ok());
        // Depth: 8 levels including the bag.
        let deep = obj(json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}));
        let err = merge_metadata(MetadataBag::Private, &Map::new(), &deep).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("private_metadata"));
        let ok = obj(json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}));
        assert!(merge_metadata(MetadataBag::Private, &Map::new(), &ok).is_ok());
    }
}
