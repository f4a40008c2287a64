//! Kubernetes resource quantities (`50Gi`, `1500m`, `5e10`), parsed and written exactly as
//! `k8s.io/apimachinery/pkg/api/resource.ParseQuantity` and `Quantity.String` do.
//!
//! The value is kept exact, as decimal digits and a power of ten, whatever its size: `1e3` is the
//! whole number 1000 (not "a string"), `0.5Ti` is `512Gi`, `3.001n` rounds up to `4n` as the API
//! server rounds it, and `9Ei` is capped at 2⁶³−1 like every binary-suffixed quantity. The tests
//! hold the cases of Kubernetes' own `quantity_test.go`.

use std::cmp::Ordering;
use std::fmt;

/// How a quantity is written, which decides its canonical form (`Format` in Kubernetes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    /// Powers of ten with SI suffixes: `500m`, `2`, `50G`.
    DecimalSi,
    /// Powers of 1024 with binary suffixes: `512Mi`, `50Gi`.
    BinarySi,
    /// A mantissa and a decimal exponent: `5e10`, `1E-3`.
    DecimalExponent,
}

/// Why a string is not a quantity; the messages are Kubernetes' own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantityError {
    /// The string is empty.
    Empty,
    /// It does not have the shape `[+-]digits[.digits][suffix]`.
    Format,
    /// The suffix is none of Kubernetes' (`Ki`…`Ei`, `n`…`E`, `e<exponent>`).
    Suffix,
    /// The number has no digits where Kubernetes needs some (`.e-10`).
    Numeric,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "quantities must be non-empty",
            Self::Format => {
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            }
            Self::Suffix => "unable to parse quantity's suffix",
            Self::Numeric => "unable to parse numeric part of quantity",
        })
    }
}

impl std::error::Error for QuantityError {}

/// A parsed quantity: `digits × 10^exponent`, signed, with the format it was written in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity {
    negative: bool,
    /// Significant decimal digits: no leading or trailing zeros; empty for zero.
    digits: String,
    exponent: i64,
    format: QuantityFormat,
}

/// The largest value a binary-suffixed quantity keeps (`maxAllowed`, 2⁶³−1).
const MAX_ALLOWED: &str = "9223372036854775807";

/// The smallest power of ten a quantity keeps (nano): finer values round up to it.
const NANO: i64 = -9;

impl Quantity {
    /// Parses `text` as `ParseQuantity` does (no surrounding whitespace: the JSON decoder trims it
    /// before, so callers reading a manifest trim first).
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        if text.is_empty() {
            return Err(QuantityError::Empty);
        }
        let parts = split(text)?;
        let (base, exponent, mut format) = suffix(parts.suffix).ok_or(QuantityError::Suffix)?;
        let denom_len = i64::try_from(parts.denom.len()).unwrap_or(i64::MAX);
        // Kubernetes takes a fast path for short numbers and parses the digits as they are
        // written otherwise; only the second refuses a number without any digit (`.e-10`).
        if !parts.has_digits && !fast_path(base, exponent, &parts) {
            return Err(QuantityError::Numeric);
        }
        let mut digits: String = [parts.num, parts.denom].concat();
        let mut power = -denom_len;
        if base == 10 {
            power = power.saturating_add(i64::from(exponent));
        } else {
            digits = multiply(&digits, 1u64 << exponent);
        }
        let mut q = Self {
            negative: !parts.positive,
            digits,
            exponent: power,
            format,
        };
        q.normalize();
        q.round_up_to_nano();
        if format == QuantityFormat::BinarySi {
            if q.magnitude_cmp(&Self::whole(MAX_ALLOWED)) == Ordering::Greater {
                q.digits = MAX_ALLOWED.to_string();
                q.exponent = 0;
            }
            if !q.is_zero() && q.magnitude_cmp(&Self::whole("1")) == Ordering::Less {
                format = QuantityFormat::DecimalSi;
            }
        }
        if q.is_zero() {
            q.negative = false;
        }
        q.format = format;
        Ok(q)
    }

    fn whole(digits: &str) -> Self {
        Self {
            negative: false,
            digits: digits.to_string(),
            exponent: 0,
            format: QuantityFormat::DecimalSi,
        }
    }

    /// The format it was written in (binary quantities under 1 become decimal, as in Kubernetes).
    #[must_use]
    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    /// Whether it is zero.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Whether it is below zero.
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether it is a whole number (`2`, `2000m`, `1e3`), as extended resources such as
    /// `nvidia.com/gpu` must be.
    #[must_use]
    pub fn is_whole(&self) -> bool {
        self.is_zero() || self.exponent >= 0
    }

    /// The value as a non-negative whole number, if it is one and fits.
    #[must_use]
    pub fn to_u64(&self) -> Option<u64> {
        if self.negative || !self.is_whole() {
            return None;
        }
        self.integer_part()
    }

    /// The value rounded up to a whole number (bytes of a memory size), saturating at
    /// `u64::MAX`; `None` when negative.
    #[must_use]
    pub fn ceil_u64(&self) -> Option<u64> {
        if self.negative {
            return None;
        }
        if self.is_whole() {
            return Some(self.integer_part().unwrap_or(u64::MAX));
        }
        // Normalized digits end in a non-zero digit: a fraction always rounds up.
        Some(self.integer_part().unwrap_or(u64::MAX).saturating_add(1))
    }

    /// The value as a float (approximate; `inf` past `f64`'s range).
    #[must_use]
    pub fn to_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let magnitude: f64 = format!("{}e{}", self.digits, self.exponent)
            .parse()
            .unwrap_or(f64::INFINITY);
        if self.negative { -magnitude } else { magnitude }
    }

    /// The whole part of the magnitude, if it fits a `u64`.
    fn integer_part(&self) -> Option<u64> {
        if self.is_zero() {
            return Some(0);
        }
        let len = i64::try_from(self.digits.len()).ok()?;
        let whole_len = len.checked_add(self.exponent)?;
        if whole_len <= 0 {
            return Some(0);
        }
        if whole_len > 20 {
            return None;
        }
        let kept = &self.digits[..usize::try_from(whole_len.min(len)).ok()?];
        let mut value: u64 = kept.parse().ok()?;
        for _ in len..whole_len {
            value = value.checked_mul(10)?;
        }
        Some(value)
    }

    /// Drops leading and trailing zeros into the exponent; zero has no digits.
    fn normalize(&mut self) {
        let trimmed = self.digits.trim_start_matches('0');
        let significant = trimmed.trim_end_matches('0');
        let trailing = trimmed.len() - significant.len();
        self.exponent = self
            .exponent
            .saturating_add(i64::try_from(trailing).unwrap_or(i64::MAX));
        self.digits = significant.to_string();
        if self.digits.is_empty() {
            self.exponent = 0;
        }
    }

    /// Rounds a non-zero value finer than 1n up (away from zero) to the next nano, as
    /// `ParseQuantity` does: "if you want some resources, you should get some".
    fn round_up_to_nano(&mut self) {
        if self.is_zero() || self.exponent >= NANO {
            return;
        }
        let dropped = NANO - self.exponent;
        let len = i64::try_from(self.digits.len()).unwrap_or(i64::MAX);
        let kept = if dropped >= len {
            String::new()
        } else {
            self.digits[..usize::try_from(len - dropped).unwrap_or(0)].to_string()
        };
        self.digits = increment(&kept);
        self.exponent = NANO;
        self.normalize();
    }

    fn magnitude_cmp(&self, other: &Self) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        let order =
            |q: &Self| i128::from(q.exponent) + i128::try_from(q.digits.len()).unwrap_or(i128::MAX);
        order(self).cmp(&order(other)).then_with(|| {
            let (a, b) = (self.digits.as_bytes(), other.digits.as_bytes());
            let n = a.len().max(b.len());
            (0..n)
                .map(|i| (a.get(i).unwrap_or(&b'0'), b.get(i).unwrap_or(&b'0')))
                .map(|(x, y)| x.cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    }

    /// The canonical form the API server stores and prints (`Quantity.String`): `1Gi` for
    /// `1024Mi`, `1500m` for `1.5`, `50e9` for `5e10`, `53687091200` for itself.
    #[must_use]
    pub fn canonical(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let sign = if self.negative { "-" } else { "" };
        if self.format == QuantityFormat::BinarySi
            && self.magnitude_cmp(&Self::whole("1024")) != Ordering::Less
            && self.is_whole()
            && let Some(mut n) = self.integer_part()
        {
            let mut power = 0;
            while n % 1024 == 0 && power < 6 {
                n /= 1024;
                power += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
            return format!("{sign}{n}{suffix}");
        }
        let thousands = self.exponent.div_euclid(3) * 3;
        let zeros = usize::try_from(self.exponent - thousands).unwrap_or(0);
        let mantissa = format!("{}{}", self.digits, "0".repeat(zeros));
        let suffix = match (self.format, thousands) {
            (QuantityFormat::DecimalExponent, 0) => String::new(),
            (QuantityFormat::DecimalExponent, e) => format!("e{e}"),
            (_, -9) => "n".into(),
            (_, -6) => "u".into(),
            (_, -3) => "m".into(),
            (_, 0) => String::new(),
            (_, 3) => "k".into(),
            (_, 6) => "M".into(),
            (_, 9) => "G".into(),
            (_, 12) => "T".into(),
            (_, 15) => "P".into(),
            (_, 18) => "E".into(),
            (_, e) => format!("e{e}"),
        };
        format!("{sign}{mantissa}{suffix}")
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    /// By value (`1Gi` == `1024Mi`); formats do not order.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.magnitude_cmp(other),
            (true, true) => other.magnitude_cmp(self),
        }
    }
}

/// `parseQuantityString`'s pieces.
struct Parts<'a> {
    positive: bool,
    /// Whole digits, leading zeros stripped.
    num: &'a str,
    /// Fraction digits.
    denom: &'a str,
    suffix: &'a str,
    /// Whether any digit was written (a lone `.` has none).
    has_digits: bool,
}

/// Splits as `parseQuantityString` does: sign, digits, `.digits`, then a suffix of
/// `eEinumkKMGTP` letters and an optional signed integer.
fn split(text: &str) -> Result<Parts<'_>, QuantityError> {
    let bytes = text.as_bytes();
    let end = bytes.len();
    let mut pos = 0;
    let mut positive = true;
    match bytes.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    let sign_end = pos;
    while pos < end && bytes[pos] == b'0' {
        pos += 1;
    }
    if pos == end {
        return Ok(Parts {
            positive,
            num: "",
            denom: "",
            suffix: "",
            has_digits: pos > sign_end,
        });
    }
    let num_start = pos;
    while pos < end && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = &text[num_start..pos];
    let mut denom = "";
    if pos < end && bytes[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < end && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &text[start..pos];
    }
    let has_digits = num_start > sign_end || !num.is_empty() || !denom.is_empty();
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&bytes[pos]) {
        pos += 1;
    }
    if pos < end && matches!(bytes[pos], b'-' | b'+') {
        pos += 1;
    }
    while pos < end && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::Format);
    }
    Ok(Parts {
        positive,
        num,
        denom,
        suffix: &text[suffix_start..],
        has_digits,
    })
}

/// `(base, exponent, format)` of a suffix, as `suffixer.interpret`.
fn suffix(suffix: &str) -> Option<(u32, i32, QuantityFormat)> {
    use QuantityFormat::{BinarySi, DecimalExponent, DecimalSi};
    let decimal = |e| Some((10, e, DecimalSi));
    let binary = |e| Some((2, e, BinarySi));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            // Go's ParseInt: an optional sign, then digits, within int64.
            let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let parsed: i64 = rest.parse().ok()?;
            // Kubernetes keeps the exponent as an int32, truncating (`int32(parsed)`).
            #[allow(clippy::cast_possible_truncation)]
            Some((10, parsed as i32, DecimalExponent))
        }
    }
}

/// Whether `ParseQuantity` takes its int64 fast path, which accepts a number without digits.
fn fast_path(base: u32, exponent: i32, parts: &Parts<'_>) -> bool {
    let digits = i64::try_from(parts.num.len().max(1) + parts.denom.len()).unwrap_or(i64::MAX);
    let (precision, scale) = if base == 10 {
        (18 - digits, i64::from(exponent))
    } else if parts.denom.is_empty() {
        let len = i64::try_from(parts.num.len().max(1)).unwrap_or(i64::MAX);
        (15 - len - i64::from(exponent) * 3 / 10 - 1, 0)
    } else {
        (-1, 0)
    };
    let denom = i64::try_from(parts.denom.len()).unwrap_or(i64::MAX);
    precision >= 0 && scale - denom >= NANO
}

/// `digits × factor`, as decimal digits.
fn multiply(digits: &str, factor: u64) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(digits.len() + 20);
    let mut carry: u128 = 0;
    for d in digits.bytes().rev() {
        let v = u128::from(d - b'0') * u128::from(factor) + carry;
        out.push(b'0' + (v % 10) as u8);
        carry = v / 10;
    }
    while carry > 0 {
        out.push(b'0' + (carry % 10) as u8);
        carry /= 10;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII digits")
}

/// `digits + 1`, as decimal digits (`""` is zero).
fn increment(digits: &str) -> String {
    let mut out: Vec<u8> = digits.bytes().collect();
    for d in out.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return String::from_utf8(out).expect("ASCII digits");
        }
    }
    out.insert(0, b'1');
    String::from_utf8(out).expect("ASCII digits")
}

#[cfg(test)]
mod tests {
    use super::*;
    use QuantityFormat::{BinarySi, DecimalExponent, DecimalSi};

    /// `decQuantity(unscaled, scale, format)` of Kubernetes' tests, as its canonical string.
    fn canonical(text: &str) -> (String, QuantityFormat) {
        let q = Quantity::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (q.canonical(), q.format())
    }

    #[test]
    fn the_issue_table_parses_to_kubernetes_values() {
        for (text, canonical_form, whole, bytes) in [
            ("50Gi", "50Gi", Some(53_687_091_200), Some(53_687_091_200)),
            (
                "53687091200",
                "53687091200",
                Some(53_687_091_200),
                Some(53_687_091_200),
            ),
            ("5e10", "50e9", Some(50_000_000_000), Some(50_000_000_000)),
            ("50G", "50G", Some(50_000_000_000), Some(50_000_000_000)),
            (
                "0.5Ti",
                "512Gi",
                Some(549_755_813_888),
                Some(549_755_813_888),
            ),
            ("1e3", "1e3", Some(1000), Some(1000)),
            ("100m", "100m", None, Some(1)),
            ("1.5", "1500m", None, Some(2)),
            ("2000m", "2", Some(2), Some(2)),
        ] {
            let q = Quantity::parse(text).unwrap();
            assert_eq!(q.canonical(), canonical_form, "{text}");
            assert_eq!(q.to_u64(), whole, "{text}");
            assert_eq!(q.ceil_u64(), bytes, "{text}");
        }
        assert_eq!(Quantity::parse("lots"), Err(QuantityError::Format));
        assert_eq!(Quantity::parse(""), Err(QuantityError::Empty));
        assert!(Quantity::parse("50Gi").unwrap() == Quantity::parse("50Gi").unwrap());
        assert_eq!(
            Quantity::parse("1Gi")
                .unwrap()
                .cmp(&Quantity::parse("1024Mi").unwrap()),
            Ordering::Equal
        );
    }

    /// `TestQuantityParse`: input → the expected quantity (written canonically here) and format.
    #[test]
    fn kubernetes_parse_cases() {
        let cases: &[(&str, &str, QuantityFormat)] = &[
            ("0", "0", DecimalSi),
            ("0n", "0", DecimalSi),
            ("0Ki", "0", BinarySi),
            ("0Ti", "0", BinarySi),
            ("1", "1", DecimalSi),
            ("1Ki", "1Ki", BinarySi),
            ("7Mi", "7Mi", BinarySi),
            ("3Ei", "3Ei", BinarySi),
            ("100Ti", "100Ti", BinarySi),
            ("5n", "5n", DecimalSi),
            ("4u", "4u", DecimalSi),
            ("50k", "50k", DecimalSi),
            ("40T", "40T", DecimalSi),
            ("1E", "1E", DecimalSi),
            ("1E-3", "1e-3", DecimalExponent),
            ("1e3", "1e3", DecimalExponent),
            ("1E18", "1e18", DecimalExponent),
            ("1e14", "100e12", DecimalExponent),
            ("100.035k", "100035", DecimalSi),
            ("0.001", "1m", DecimalSi),
            ("0.0005k", "500m", DecimalSi),
            ("0.50000", "500m", DecimalSi),
            ("0.5e-2", "5e-3", DecimalExponent),
            ("10.035M", "10035k", DecimalSi),
            ("1.2e3", "1200", DecimalExponent),
            ("1.3E+6", "1300e3", DecimalExponent),
            ("1.53E12", "1530e9", DecimalExponent),
            ("9.01", "9010m", DecimalSi),
            ("7.123456M", "7123456", DecimalSi),
            ("6.987654321G", "6987654321", DecimalSi),
            ("1.01E", "1010P", DecimalSi),
            ("3.001n", "4n", DecimalSi),
            ("1.1E-9", "2e-9", DecimalExponent),
            ("0.0000000001", "1n", DecimalSi),
            ("0.5e-9", "1e-9", DecimalExponent),
            ("0.9n", "1n", DecimalSi),
            ("0.00000012345", "124n", DecimalSi),
            ("9Ei", "9223372036854775807", BinarySi),
            ("9223372036854775807Ki", "9223372036854775807", BinarySi),
            ("12E", "12E", DecimalSi),
            ("100.035Ki", "102435840m", BinarySi),
            ("0.5Mi", "512Ki", BinarySi),
            ("0.05Gi", "53687091200m", BinarySi),
            ("0.000000000001Ki", "2n", DecimalSi),
            (".001", "1m", DecimalSi),
            (".0001k", "100m", DecimalSi),
            ("1.", "1", DecimalSi),
            ("1.G", "1G", DecimalSi),
            (".", "0", DecimalSi),
        ];
        for &(text, expected, format) in cases {
            assert_eq!(canonical(text), (expected.to_string(), format), "{text}");
            let negative = Quantity::parse(&format!("-{text}")).unwrap();
            let positive = Quantity::parse(&format!("+{text}")).unwrap();
            assert_eq!(positive.canonical(), expected, "+{text}");
            if expected != "0" {
                assert_eq!(negative.canonical(), format!("-{expected}"), "-{text}");
                assert!(negative < positive, "{text}");
            }
        }
    }

    /// `TestQuantityParse`'s invalid inputs, and ones without digits where Go needs them.
    #[test]
    fn kubernetes_invalid_cases() {
        for text in [
            "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1",
            "1 ", "1e", "lots", "1Ki ", "5 Gi",
        ] {
            assert!(Quantity::parse(text).is_err(), "{text} parsed");
        }
        assert_eq!(Quantity::parse(".e-10"), Err(QuantityError::Numeric));
        assert_eq!(Quantity::parse(".Ei"), Err(QuantityError::Numeric));
        assert!(Quantity::parse(".Ti").unwrap().is_zero());
    }

    /// `TestQuantityString` and `TestQuantityParseEmit`: alternate spellings → canonical.
    #[test]
    fn kubernetes_canonical_forms() {
        for (text, expected) in [
            ("1024Mi", "1Gi"),
            ("307200Ki", "300Mi"),
            ("1025024Mi", "1001Gi"),
            ("1024Gi", "1Ti"),
            ("5000m", "5"),
            ("1000M", "1G"),
            ("0.001T", "1G"),
            ("1000u", "1m"),
            ("1.08", "1080m"),
            ("1080000000n", "1080m"),
            ("1000E", "1e21"),
            ("5000E", "5e21"),
            (".001e12", "1e9"),
            ("0.001e0", "1e-3"),
            ("1000e-12", "1e-9"),
            ("00", "0"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            ("1025", "1025"),
            ("6Ki", "6Ki"),
            // Whole but not a multiple of 1024: binary without a suffix, which reads back as a
            // decimal quantity (found by the `quantity` fuzz target; Kubernetes does the same).
            ("1100687.50Ki", "1127104000"),
            ("1127104000", "1127104k"),
        ] {
            assert_eq!(
                Quantity::parse(text).unwrap().canonical(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn huge_and_tiny_values_stay_exact_and_bounded() {
        let huge = Quantity::parse("99999999999999999999999999").unwrap();
        assert_eq!(huge.to_u64(), None);
        assert_eq!(huge.ceil_u64(), Some(u64::MAX));
        assert_eq!(huge.canonical(), "99999999999999999999999999");
        let far = Quantity::parse("1e2147483647").unwrap();
        assert_eq!(far.canonical(), "10e2147483646");
        assert!(far.to_f64().is_infinite());
        // Kubernetes truncates the exponent to an int32: 2^32 becomes 0.
        assert_eq!(Quantity::parse("1e4294967296").unwrap().canonical(), "1");
        assert_eq!(Quantity::parse("1e-99999999").unwrap().canonical(), "1e-9");
        assert_eq!(
            Quantity::parse("-1e-99999999").unwrap().canonical(),
            "-1e-9"
        );
        assert!(Quantity::parse("+.").unwrap().is_zero());
        assert!(Quantity::parse("-.").unwrap().is_zero());
        assert!(Quantity::parse("e3").unwrap().is_zero());
        assert!(Quantity::parse("1e99999999999999999999").is_err());
    }
}
