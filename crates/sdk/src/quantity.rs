//! Kubernetes resource quantities (`50Gi`, `1500M`, `2`).

use kubectl_vllm_core::Quantity;
use serde_json::Value;

/// Bytes in a MiB.
pub const MIB: u64 = 1 << 20;
/// Bytes in a GiB.
pub const GIB: u64 = 1 << 30;

/// The quantity a manifest value holds, parsed exactly as the API server parses it (a JSON
/// number is read as its text, a string with surrounding blanks trimmed, as Kubernetes' JSON
/// decoder does): `None` when it is not a quantity.
#[must_use]
pub fn parse(value: &Value) -> Option<Quantity> {
    match value {
        Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
        Value::String(s) => Quantity::parse(s.trim()).ok(),
        _ => None,
    }
}

/// A quantity in bytes, rounded up to a whole byte, or `None` when it is not a valid quantity or
/// is negative.
#[must_use]
pub fn bytes(value: &Value) -> Option<u64> {
    parse(value)?.ceil_u64()
}

/// A whole, non-negative count (GPUs): `2`, `"2"`, `"2000m"` and `"1e3"` are whole; `"1.5"` and
/// `"500m"` are not.
#[must_use]
pub fn count(value: &Value) -> Option<u64> {
    parse(value)?.to_u64()
}

/// Formats bytes as the smallest whole number of GiB that holds them (`"57Gi"`).
#[must_use]
pub fn gib_ceil(bytes: u64) -> String {
    format!("{}Gi", bytes.div_ceil(GIB))
}

/// Formats bytes as GiB with one decimal (`"51.1 GiB"`).
#[must_use]
pub fn human(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let gib = bytes as f64 / GIB as f64;
    format!("{gib:.1} GiB")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_binary_and_decimal_suffixes() {
        assert_eq!(bytes(&json!("50Gi")), Some(50 * GIB));
        assert_eq!(bytes(&json!("1.5Gi")), Some(3 * GIB / 2));
        assert_eq!(bytes(&json!("100G")), Some(100_000_000_000));
        assert_eq!(bytes(&json!("1e3")), Some(1000));
        assert_eq!(bytes(&json!(1024)), Some(1024));
        assert_eq!(bytes(&json!("lots")), None);
        assert_eq!(bytes(&json!("5e10")), Some(50_000_000_000));
        assert_eq!(bytes(&json!("0.5Ti")), Some(1 << 39));
        assert_eq!(bytes(&json!(" 16Gi ")), Some(16 * GIB));
        assert_eq!(bytes(&json!("-1Gi")), None);
        assert_eq!(count(&json!("2")), Some(2));
        assert_eq!(count(&json!(2)), Some(2));
        assert_eq!(count(&json!(2.0)), Some(2));
        assert_eq!(count(&json!("1e3")), Some(1000));
        assert_eq!(count(&json!("2000m")), Some(2));
        assert_eq!(count(&json!("0.5")), None);
        assert_eq!(count(&json!(1.5)), None);
        assert_eq!(count(&json!("500m")), None);
        assert_eq!(count(&json!("-1")), None);
        assert_eq!(gib_ceil(GIB + 1), "2Gi");
    }
}
