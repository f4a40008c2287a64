//! Durations as kubectl flags and the API server's `?timeout=` write them: `500ms`, `2s`, `5m`,
//! `1h30m`, `1.5s`, or a bare number of seconds. One parser for every front end.

use std::time::Duration;

/// A week: longer is a typo, and `Instant + Duration` must not overflow.
const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// Parses a duration (see the module).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the duration is empty".into());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return within(text, seconds);
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(split);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("invalid duration `{text}`: use ms, s, m or h, as in `5m`"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "invalid duration `{text}`: a unit is missing (ms, s, m or h)"
                ));
            }
            _ => {
                return Err(format!(
                    "invalid duration `{text}`: use ms, s, m or h, as in `5m`"
                ));
            }
        };
        total += number * scale;
        rest = tail;
    }
    within(text, total)
}

fn within(text: &str, seconds: f64) -> Result<Duration, String> {
    if !(0.0..=MAX_SECONDS).contains(&seconds) {
        return Err(format!("`{text}` is negative or longer than a week"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_and_api_server_spellings() {
        for (text, ms) in [
            ("10s", 10_000),
            ("500ms", 500),
            ("1m", 60_000),
            ("2", 2_000),
            ("1h30m", 5_400_000),
            ("1.5s", 1_500),
            ("90s", 90_000),
            ("90", 90_000),
            ("1h30m5s", 5_405_000),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        // Overflow is an error, not a panic.
        for bad in [
            "",
            "x",
            "5d",
            "1h30",
            "-1s",
            "1000h",
            "s",
            "5x",
            "10m3",
            "18446744073709551615",
            "99999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
