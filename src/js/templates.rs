//! JWT templates: [`validate_template`] and [`render_template`] over a user.

use super::*;

fn template_error(e: &TemplateError) -> JsValue {
    let err = coded_error(e.error_code(), &e.to_string());
    if let Some(pointer) = e.pointer() {
        let _ = js_sys::Reflect::set(
            &err,
            &JsValue::from_str("pointer"),
            &JsValue::from_str(pointer),
        );
    }
    err
}

fn user_error(e: &UserError, field: &str) -> JsValue {
    let err = coded_error(e.error_code(), &e.to_string());
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("field"), &JsValue::from_str(field));
    err
}

/// A byte budget from JS (`undefined`: the default; fractions floored, negatives 0).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn budget_of(budget: Option<f64>) -> usize {
    budget.map_or(DEFAULT_TEMPLATE_BUDGET, |b| b.max(0.0) as usize)
}

/// Parses a template as the edge does: strict JSON, ≤ 4 KiB, worst-case size within
/// `budget` bytes, and `lifetime` (seconds) when given.
fn parse_template(
    template_json: &str,
    budget: Option<f64>,
    lifetime: Option<f64>,
) -> Result<Template, TemplateError> {
    let template = Template::parse_with_budget(template_json.as_bytes(), budget_of(budget))?;
    match lifetime {
        #[allow(clippy::cast_possible_truncation)]
        Some(secs) => template.with_lifetime(if secs.is_finite() {
            secs as i64
        } else {
            i64::MAX
        }),
        None => Ok(template),
    }
}

/// Validates a template (JSON text) as the edge does when it is saved; returns its
/// worst-case rendered size in bytes, or throws an `Error` with the core's `code` and
/// `pointer` (RFC 6901, `""` for the whole template).
#[wasm_bindgen(js_name = validateTemplate)]
pub fn validate_template(
    template_json: &str,
    budget: Option<f64>,
    lifetime: Option<f64>,
) -> Result<f64, JsValue> {
    let template =
        parse_template(template_json, budget, lifetime).map_err(|e| template_error(&e))?;
    // Bounded by the budget (or 4 KiB × escaping): exact in f64.
    #[allow(clippy::cast_precision_loss)]
    Ok(template.worst_case_size() as f64)
}

/// The first of `names` present and not null in `user`, as `pick` reads it; a value
/// `pick` refuses (the wrong JSON type) is `InvalidUserField` with `reason`.
fn user_field<'a, T>(
    user: &'a Map<String, Value>,
    names: &[&'static str],
    pick: impl Fn(&'a Value) -> Option<T>,
    reason: &'static str,
) -> Result<Option<T>, (UserError, String)> {
    for name in names {
        match user.get(*name) {
            None | Some(Value::Null) => {}
            Some(value) => {
                return pick(value).map(Some).ok_or_else(|| {
                    (
                        UserError::InvalidUserField {
                            field: name,
                            reason,
                        },
                        (*name).to_string(),
                    )
                })
            }
        }
    }
    Ok(None)
}

fn user_text<'a>(
    user: &'a Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<&'a str>, (UserError, String)> {
    user_field(user, names, Value::as_str, "must be a string")
}

fn user_bag(
    user: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Map<String, Value>, (UserError, String)> {
    Ok(
        user_field(user, names, Value::as_object, "must be an object")?
            .cloned()
            .unwrap_or_default(),
    )
}

/// A [`User`] from JSON: `id`, `email`, `email_verified`, `first_name`, `last_name`,
/// `name`, `public_metadata`, `unsafe_metadata`, `private_metadata` (camelCase accepted).
fn user_from_json(user_json: &str) -> Result<User, (UserError, String)> {
    let bad = |field: &'static str, reason: &'static str| {
        (
            UserError::InvalidUserField { field, reason },
            field.to_string(),
        )
    };
    let v: Map<String, Value> =
        serde_json::from_str(user_json).map_err(|_| bad("user", "must be a JSON object"))?;
    let id = user_text(&v, &["id"])?.ok_or_else(|| bad("id", "is required"))?;
    let email_verified = match v.get("email_verified").or_else(|| v.get("emailVerified")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("email_verified", "must be a boolean")),
    };
    let stored = StoredUser {
        id,
        email: user_text(&v, &["email"])?,
        email_verified,
        first_name: user_text(&v, &["first_name", "firstName"])?,
        last_name: user_text(&v, &["last_name", "lastName"])?,
        name: user_text(&v, &["name"])?,
        public_metadata: user_bag(&v, &["public_metadata", "publicMetadata"])?,
        unsafe_metadata: user_bag(&v, &["unsafe_metadata", "unsafeMetadata"])?,
        private_metadata: user_bag(&v, &["private_metadata", "privateMetadata"])?,
    };
    User::from_stored(stored).map_err(|e| {
        let field = e.field().to_string();
        (e, field)
    })
}

/// Renders a template (JSON text) for a user (JSON text) exactly as the edge mints it;
/// returns the custom claims as JSON text, or throws an `Error` with the core's `code`
/// (and `pointer` for template errors, `field` for user errors).
#[wasm_bindgen(js_name = renderTemplate)]
pub fn render_template(
    template_json: &str,
    user_json: &str,
    budget: Option<f64>,
) -> Result<String, JsValue> {
    let template = parse_template(template_json, budget, None).map_err(|e| template_error(&e))?;
    let user = user_from_json(user_json).map_err(|(e, field)| user_error(&e, &field))?;
    String::from_utf8(template.render_json(&user))
        .map_err(|_| coded_error(ErrorCode::InvalidTemplate, "rendered claims are not UTF-8"))
}

// Only the paths that never build a JsValue can run off wasm32.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_from_json_keep_the_core_caps() {
        let u = user_from_json(
            r#"{"id":"u1","email":"a@b.c","emailVerified":true,"first_name":"A",
                "lastName":"B","public_metadata":{"r":1},"private_metadata":{"s":2}}"#,
        )
        .unwrap();
        assert_eq!(
            (u.id(), u.email(), u.email_verified(), u.name()),
            ("u1", Some("a@b.c"), true, Some("A B".into()))
        );
        assert_eq!(u.private_metadata().len(), 1);
        let field = |json: &str| user_from_json(json).unwrap_err().1;
        assert_eq!(field("[]"), "user");
        assert_eq!(field("{}"), "id");
        assert_eq!(field(r#"{"id":""}"#), "id");
        assert_eq!(field(r#"{"id":"u","email":1}"#), "email");
        assert_eq!(field(r#"{"id":"u","last_name":"\u0000"}"#), "last_name");
        assert_eq!(
            field(r#"{"id":"u","unsafe_metadata":[]}"#),
            "unsafe_metadata"
        );
        assert_eq!(
            user_from_json(r#"{"id":"u","email_verified":1}"#)
                .unwrap_err()
                .0
                .code(),
            "invalid_user_field"
        );
    }

    #[test]
    fn template_options() {
        assert_eq!(budget_of(None), DEFAULT_TEMPLATE_BUDGET);
        assert_eq!(budget_of(Some(-5.0)), 0);
        assert!(parse_template("{}", None, Some(f64::NAN)).is_err());
        assert!(parse_template("{}", None, Some(60.9)).is_ok());
        assert_eq!(
            parse_template(r#"{"a":1}"#, Some(3.0), None)
                .unwrap_err()
                .code(),
            "template_too_large"
        );
    }
}
