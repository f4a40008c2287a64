//! Kubernetes resource quantities (`50Gi`, `1500M`, `2`).

use serde_json::Value;

/// Bytes in a MiB.
pub const MIB: u64 = 1 << 20;
/// Bytes in a GiB.
pub const GIB: u64 = 1 << 30;

/// A quantity in bytes, or `None` when it is not a valid quantity (fractions are rounded up).
#[must_use]
#[allow(clippy::cast_sign_loss)] // `ceil` of a non-negative quantity
pub fn bytes(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.ceil() as u64)),
        Value::String(s) => parse(s),
        _ => None,
    }
}

/// A whole count (GPUs): only integers, written as numbers or strings.
#[must_use]
pub fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn parse(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let multiplier: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "m" => 0.001,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        _ => {
            let (mantissa, exponent) = suffix.split_once(['e', 'E'])?;
            if !mantissa.is_empty() {
                return None;
            }
            10f64.powi(exponent.parse().ok()?)
        }
    };
    #[allow(clippy::cast_sign_loss)]
    Some((number * multiplier).ceil() as u64)
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
        assert_eq!(count(&json!("2")), Some(2));
        assert_eq!(count(&json!("0.5")), None);
        assert_eq!(gib_ceil(GIB + 1), "2Gi");
    }
}
