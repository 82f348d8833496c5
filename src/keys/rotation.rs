//! Signing-key rotation with overlap, as pure functions of timestamps.
//!
//! A tenant's key versions live in D1 as rows of timestamps; seeds are re-derived from the
//! master secret ([`derive_signing_seed`](crate::derive_signing_seed)), so no private key is
//! stored. The schedule guarantees:
//!
//! * a new key is **published before it signs**: it appears in the JWKS at `published_at`
//!   and signs from `signs_from = published_at + publish_lead`, so every verifier whose
//!   cached JWKS is younger than `publish_lead` already knows it;
//! * the old key **stays published until every token it signed has expired**:
//!   until `signs_until + max_token_lifetime + skew`.

use alloc::string::String;
use alloc::vec::Vec;

/// One key version's schedule (seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyVersion {
    /// The version number (1, 2, …), part of the key derivation.
    pub version: u32,
    /// When it enters the JWKS.
    pub published_at: i64,
    /// When it starts signing.
    pub signs_from: i64,
    /// When it stops signing (`None`: not scheduled yet).
    pub signs_until: Option<i64>,
}

/// Rotation timing, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// How long a key signs before the next rotation is due (default 30 days).
    pub period: i64,
    /// How long a new key is published before it signs; must exceed the JWKS `max-age`
    /// the edge serves plus clock skew (default 600 s; the JWKS is served with 300 s).
    pub publish_lead: i64,
    /// Longest lifetime of any token the key signs (default 24 h, the template maximum).
    pub max_token_lifetime: i64,
    /// Clock skew verifiers may allow (default 300 s, the core's cap).
    pub skew: i64,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        Self {
            period: 30 * 86_400,
            publish_lead: 600,
            max_token_lifetime: 86_400,
            skew: 300,
        }
    }
}

impl KeyVersion {
    /// Whether this version signs at `now`.
    pub fn signs_at(&self, now: i64) -> bool {
        self.signs_from <= now && self.signs_until.is_none_or(|u| now < u)
    }

    /// Whether this version is in the JWKS at `now`.
    pub fn published_at_time(&self, now: i64, policy: &RotationPolicy) -> bool {
        let until = self.signs_until.map(|u| {
            u.saturating_add(policy.max_token_lifetime)
                .saturating_add(policy.skew)
        });
        self.published_at <= now && until.is_none_or(|u| now < u)
    }
}

/// The version that signs at `now`: among those signing, the one that started last.
pub fn signing_version(versions: &[KeyVersion], now: i64) -> Option<&KeyVersion> {
    versions
        .iter()
        .filter(|v| v.signs_at(now))
        .max_by_key(|v| (v.signs_from, v.version))
}

/// The versions in the JWKS at `now`, in version order.
pub fn published_versions<'a>(
    versions: &'a [KeyVersion],
    now: i64,
    policy: &RotationPolicy,
) -> Vec<&'a KeyVersion> {
    let mut out: Vec<&KeyVersion> = versions
        .iter()
        .filter(|v| v.published_at_time(now, policy))
        .collect();
    out.sort_by_key(|v| v.version);
    out
}

/// Whether a rotation is due at `now`: no key signs, or the signing key has signed for a
/// full period and no successor is scheduled yet.
pub fn rotation_due(versions: &[KeyVersion], now: i64, policy: &RotationPolicy) -> bool {
    let pending = versions.iter().any(|v| v.signs_from > now);
    match signing_version(versions, now) {
        None => !pending,
        Some(cur) => !pending && now >= cur.signs_from.saturating_add(policy.period),
    }
}

/// Schedules the next version at `now`: published now, signing after `publish_lead`
/// (immediately when no key has ever been published), and every open version stops
/// signing when it starts. Returns the new version; `versions` is updated in place.
pub fn rotate(versions: &mut Vec<KeyVersion>, now: i64, policy: &RotationPolicy) -> KeyVersion {
    let next = versions
        .iter()
        .map(|v| v.version)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let first = versions.iter().all(|v| !v.published_at_time(now, policy));
    let signs_from = if first {
        now
    } else {
        now.saturating_add(policy.publish_lead)
    };
    for v in versions.iter_mut() {
        if v.signs_until.is_none_or(|u| u > signs_from) {
            v.signs_until = Some(signs_from.max(v.signs_from));
        }
    }
    let new = KeyVersion {
        version: next,
        published_at: now,
        signs_from,
        signs_until: None,
    };
    versions.push(new);
    new
}

/// Versions that neither sign nor are published any more at `now` (safe to delete).
pub fn retired_versions<'a>(
    versions: &'a [KeyVersion],
    now: i64,
    policy: &RotationPolicy,
) -> Vec<&'a KeyVersion> {
    versions
        .iter()
        .filter(|v| v.signs_until.is_some() && !v.published_at_time(now, policy))
        .collect()
}

/// The state a version is in at `now` (the store's informational `state` column):
/// `published` (in the JWKS, not signing yet), `active` (signing), `retiring` (its end
/// is scheduled) or `retired` (out of the JWKS).
pub fn key_state(v: &KeyVersion, now: i64, policy: &RotationPolicy) -> &'static str {
    if !v.published_at_time(now, policy) && v.published_at <= now {
        "retired"
    } else if v.signs_until.is_some() {
        "retiring"
    } else if v.signs_at(now) {
        "active"
    } else {
        "published"
    }
}

/// The versions whose schedule changed between `before` and `after`, with their state.
pub fn changed_versions(
    before: &[KeyVersion],
    after: &[KeyVersion],
    now: i64,
    policy: &RotationPolicy,
) -> Vec<(KeyVersion, &'static str)> {
    after
        .iter()
        .filter(|v| before.iter().any(|b| b.version == v.version && b != *v))
        .map(|v| (*v, key_state(v, now, policy)))
        .collect()
}

/// What a rotation run writes for one tenant: versions whose schedule or state changed,
/// and the new version when a rotation is due.
pub type RotationPlan = (
    Vec<(KeyVersion, &'static str)>,
    Option<(KeyVersion, &'static str)>,
);

/// Plans one tenant's rotation at `now` from its stored versions and states.
pub fn plan_rotation(
    stored: &[(KeyVersion, String)],
    now: i64,
    policy: &RotationPolicy,
) -> RotationPlan {
    let mut versions: Vec<KeyVersion> = stored.iter().map(|(v, _)| *v).collect();
    let new = rotation_due(&versions, now, policy)
        .then(|| rotate(&mut versions, now, policy))
        .map(|v| (v, key_state(&v, now, policy)));
    let changed = stored
        .iter()
        .filter_map(|(before, state)| {
            let after = versions.iter().find(|v| v.version == before.version)?;
            let want = key_state(after, now, policy);
            (after != before || want != state.as_str()).then_some((*after, want))
        })
        .collect();
    (changed, new)
}

/// When no key signs at `now` and a rotation is due (a tenant's first key, or every key
/// retired): the versions after scheduling one, and what to write (the new version is
/// stored `active`). `None` when a key signs or a successor is already scheduled.
pub fn plan_first_key(
    versions: &[KeyVersion],
    now: i64,
    policy: &RotationPolicy,
) -> Option<(Vec<KeyVersion>, RotationPlan)> {
    if signing_version(versions, now).is_some() || !rotation_due(versions, now, policy) {
        return None;
    }
    let mut after = versions.to_vec();
    let new = rotate(&mut after, now, policy);
    let changed = changed_versions(versions, &after, now, policy);
    Some((after, (changed, Some((new, "active")))))
}

/// The version numbers a plan marks `retired`.
pub fn retired_in(changed: &[(KeyVersion, &str)]) -> Vec<u32> {
    changed
        .iter()
        .filter(|(_, s)| *s == "retired")
        .map(|(v, _)| v.version)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn policy() -> RotationPolicy {
        RotationPolicy {
            period: 1000,
            publish_lead: 100,
            max_token_lifetime: 300,
            skew: 10,
        }
    }

    #[test]
    fn first_key_signs_at_once() {
        let mut vs = Vec::new();
        assert!(rotation_due(&vs, 0, &policy()));
        let v1 = rotate(&mut vs, 0, &policy());
        assert_eq!(
            v1,
            KeyVersion {
                version: 1,
                published_at: 0,
                signs_from: 0,
                signs_until: None
            }
        );
        assert_eq!(signing_version(&vs, 0).map(|v| v.version), Some(1));
        assert!(!rotation_due(&vs, 999, &policy()));
        assert!(rotation_due(&vs, 1000, &policy()));
    }

    #[test]
    fn new_key_is_published_before_it_signs_and_old_key_outlives_its_tokens() {
        let p = policy();
        let mut vs = Vec::new();
        rotate(&mut vs, 0, &p);
        let v2 = rotate(&mut vs, 1000, &p);
        assert_eq!(v2.signs_from, 1100);
        // Published at once, but v1 keeps signing during the lead time.
        assert_eq!(published_versions(&vs, 1000, &p).len(), 2);
        assert_eq!(signing_version(&vs, 1099).map(|v| v.version), Some(1));
        assert_eq!(signing_version(&vs, 1100).map(|v| v.version), Some(2));
        // v1 stays published until its last token (signed at 1099, 300 s) has expired + skew.
        assert_eq!(published_versions(&vs, 1100 + 300 + 9, &p).len(), 2);
        assert_eq!(
            published_versions(&vs, 1100 + 300 + 10, &p)
                .iter()
                .map(|v| v.version)
                .collect::<Vec<_>>(),
            [2]
        );
        assert_eq!(
            retired_versions(&vs, 1410, &p)
                .iter()
                .map(|v| v.version)
                .collect::<Vec<_>>(),
            [1]
        );
        assert!(!rotation_due(&vs, 1500, &p), "a successor signs since 1100");
        assert!(rotation_due(&vs, 2100, &p));
    }

    #[test]
    fn rotation_under_traffic_has_zero_failures() {
        // Every second a token is signed with the current key and lives `max_token_lifetime`.
        // It is verified at any moment of its validity (plus skew) by verifiers whose
        // cached JWKS was fetched up to `cache_age` (< publish_lead) earlier. The key that
        // signed it must be in every such snapshot.
        let p = policy();
        let cache_age = 90;
        let mut vs = Vec::new();
        let mut checks = 0;
        for now in 0..5000i64 {
            if rotation_due(&vs, now, &p) {
                rotate(&mut vs, now, &p);
            }
            let signer = signing_version(&vs, now).map(|v| v.version).unwrap();
            let last_valid = now + p.max_token_lifetime + p.skew - 1;
            for verify_at in [now, now + 150, last_valid] {
                for snapshot_age in [0, 45, cache_age] {
                    let snapshot = (verify_at - snapshot_age).max(0);
                    let published = published_versions(&vs, snapshot, &p);
                    assert!(
                        published.iter().any(|v| v.version == signer),
                        "t={now} verify={verify_at} snapshot={snapshot}"
                    );
                    checks += 1;
                }
            }
        }
        assert!(vs.len() >= 5, "{} rotations", vs.len());
        assert_eq!(checks, 5000 * 9);
    }

    #[test]
    fn rotation_plan_publishes_before_signing_and_tracks_states() {
        let p = RotationPolicy {
            period: 100,
            publish_lead: 10,
            max_token_lifetime: 50,
            skew: 5,
        };
        let v1 = KeyVersion {
            version: 1,
            published_at: 0,
            signs_from: 0,
            signs_until: None,
        };
        // Not due: nothing to write.
        let (changed, new) = plan_rotation(&[(v1, "active".into())], 50, &p);
        assert!(changed.is_empty() && new.is_none());
        // Due: v2 published now, signing after the lead; v1 retiring then.
        let (changed, new) = plan_rotation(&[(v1, "active".into())], 100, &p);
        let (v2, state) = new.unwrap();
        assert_eq!(
            (v2.version, v2.published_at, v2.signs_from, state),
            (2, 100, 110, "published")
        );
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].0.signs_until, Some(110));
        assert_eq!(changed[0].1, "retiring");
        // Later runs: v2 becomes active, then v1 retired after its tokens expired + skew.
        let v1r = changed[0].0;
        let stored = [(v1r, "retiring".into()), (v2, "published".into())];
        let (changed, new) = plan_rotation(&stored, 120, &p);
        assert!(new.is_none());
        assert_eq!(changed, vec![(v2, "active")]);
        let stored = [(v1r, "retiring".into()), (v2, "active".into())];
        let (changed, _) = plan_rotation(&stored, 110 + 50 + 5, &p);
        assert_eq!(changed, vec![(v1r, "retired")]);
    }

    #[test]
    fn a_first_key_is_planned_only_when_none_signs() {
        let p = policy();
        let (after, (changed, new)) = plan_first_key(&[], 5, &p).unwrap();
        let (v1, state) = new.unwrap();
        assert_eq!((v1.version, v1.signs_from, state), (1, 5, "active"));
        assert_eq!(after, [v1]);
        assert!(changed.is_empty());
        assert!(plan_first_key(&after, 6, &p).is_none());
        // Every key retired: a new one signs at once, nothing else changes.
        let mut vs = after;
        rotate(&mut vs, 1000, &p);
        let late = 1100 + 300 + 10 + p.period;
        let (after, (changed, new)) = plan_first_key(&vs[..1], late, &p).unwrap();
        assert_eq!(
            new.map(|(v, s)| (v.version, v.signs_from, s)),
            Some((2, late, "active"))
        );
        assert_eq!(after.len(), 2);
        assert_eq!(changed, Vec::new());
        assert_eq!(key_state(&after[0], late, &p), "retired");
    }

    #[test]
    fn key_states_follow_the_schedule() {
        let p = policy();
        let mut vs = Vec::new();
        rotate(&mut vs, 0, &p);
        let v2 = rotate(&mut vs, 1000, &p);
        assert_eq!(key_state(&v2, 1000, &p), "published");
        assert_eq!(key_state(&v2, 1100, &p), "active");
        assert_eq!(key_state(&vs[0], 1000, &p), "retiring");
        assert_eq!(key_state(&vs[0], 1410, &p), "retired");
        let changed = [(vs[0], "retired"), (v2, "active")];
        assert_eq!(retired_in(&changed), [1]);
        let before = [vs[0], v2];
        assert!(changed_versions(&before, &before, 1000, &p).is_empty());
    }
}
