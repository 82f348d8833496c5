//! `POST /v1/signing-keys/rotate`: an operator-requested rotation, with the same overlap
//! rules as the scheduled one ([`crate::keys::rotation`]): the next version is published
//! now and signs after the publish lead; the current one stops signing then.

use super::error::ApiError;
use crate::error::ErrorCode;
use crate::keys::rotation::{
    changed_versions, key_state, rotate, KeyVersion, RotationPlan, RotationPolicy,
};
use alloc::vec::Vec;

/// Plans a rotation at `now` whether or not one is due. A version already waiting to
/// sign (published, not signing yet) → `conflict`: rotate again once it signs.
pub fn plan_manual_rotation(
    versions: &[KeyVersion],
    now: i64,
    policy: &RotationPolicy,
) -> Result<(KeyVersion, RotationPlan), ApiError> {
    if versions.iter().any(|v| v.signs_from > now) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a new signing key is already published and not signing yet",
        ));
    }
    let mut after: Vec<KeyVersion> = versions.to_vec();
    let new = rotate(&mut after, now, policy);
    let changed = changed_versions(versions, &after, now, policy);
    let state = key_state(&new, now, policy);
    Ok((new, (changed, Some((new, state)))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_the_next_version_with_the_lead() {
        let policy = RotationPolicy::default();
        let v1 = KeyVersion {
            version: 1,
            published_at: 0,
            signs_from: 0,
            signs_until: None,
        };
        let now = 1000;
        let (new, (changed, insert)) = plan_manual_rotation(&[v1], now, &policy).unwrap();
        assert_eq!(new.version, 2);
        assert_eq!(new.published_at, now);
        assert_eq!(new.signs_from, now + policy.publish_lead);
        assert_eq!(insert.map(|(_, s)| s), Some("published"));
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].0.signs_until, Some(now + policy.publish_lead));
        assert_eq!(changed[0].1, "retiring");
        // Again before v2 signs: refused.
        let after = [changed[0].0, new];
        let err = plan_manual_rotation(&after, now + 1, &policy).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        assert!(plan_manual_rotation(&after, now + policy.publish_lead, &policy).is_ok());
    }
}
