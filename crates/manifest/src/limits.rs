//! Bounds on what one run reads, so that no input can make the loader run for minutes or take
//! gigabytes: bytes per file, documents per file, objects in the run, nesting depth, nodes that
//! aliases expand to, and the length of one scalar. Each exceeded bound is a located input error
//! found before the rest of the file is read or parsed. `--limit NAME=VALUE` raises (or lowers)
//! one; the defaults admit any real manifest set, including a 50 MB rendered bundle and 100,000
//! documents over many files.

use std::fmt;
use std::str::FromStr;

/// The bounds, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// Bytes in one file or on stdin (`file-bytes`, 64 MiB): checked against the file's size
    /// before it is read, and while reading what has no size (a pipe).
    pub file_bytes: u64,
    /// Documents in one file (`documents`, 100,000).
    pub documents: usize,
    /// Objects in one run, over every file (`objects`, 250,000).
    pub objects: usize,
    /// Nesting depth of mappings and sequences (`depth`, 512).
    pub depth: usize,
    /// Nodes that aliases may expand to in one document (`alias-nodes`, 1,000,000: the
    /// "billion laughs" guard).
    pub alias_nodes: usize,
    /// Bytes in one scalar (`scalar-bytes`, 8 MiB; the API server takes at most 3 MiB a request).
    pub scalar_bytes: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            file_bytes: 64 << 20,
            documents: 100_000,
            objects: 250_000,
            depth: 512,
            alias_nodes: 1_000_000,
            scalar_bytes: 8 << 20,
        }
    }
}

impl InputLimits {
    /// No bounds: for text the run's limits already admitted (a document parsed again alone).
    #[must_use]
    pub fn unbounded() -> Self {
        Self {
            file_bytes: u64::MAX,
            documents: usize::MAX,
            objects: usize::MAX,
            depth: usize::MAX,
            alias_nodes: usize::MAX,
            scalar_bytes: usize::MAX,
        }
    }
}

/// The deepest nesting `--limit depth=N` may allow.
pub const MAX_DEPTH: usize = 4096;

/// One bound, by the name `--limit` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`InputLimits::file_bytes`].
    FileBytes,
    /// [`InputLimits::documents`].
    Documents,
    /// [`InputLimits::objects`].
    Objects,
    /// [`InputLimits::depth`].
    Depth,
    /// [`InputLimits::alias_nodes`].
    AliasNodes,
    /// [`InputLimits::scalar_bytes`].
    ScalarBytes,
}

impl Limit {
    /// Every bound, in the order `--help` lists them.
    pub const ALL: [Self; 6] = [
        Self::FileBytes,
        Self::Documents,
        Self::Objects,
        Self::Depth,
        Self::AliasNodes,
        Self::ScalarBytes,
    ];

    /// The name `--limit` takes.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::FileBytes => "file-bytes",
            Self::Documents => "documents",
            Self::Objects => "objects",
            Self::Depth => "depth",
            Self::AliasNodes => "alias-nodes",
            Self::ScalarBytes => "scalar-bytes",
        }
    }

    fn bytes(self) -> bool {
        matches!(self, Self::FileBytes | Self::ScalarBytes)
    }

    /// The end of a message about this bound, with how to raise it past `reached` (the bound, or
    /// the size an input has): "(limit `file-bytes`; raise it with `--limit file-bytes=256Mi`)"
    /// (sizes: the next power of two in MiB above).
    #[must_use]
    pub fn hint(self, reached: u64) -> String {
        let value = if self.bytes() {
            let mib = (reached >> 20).saturating_add(1).next_power_of_two();
            format!("{mib}Mi")
        } else {
            reached.saturating_mul(2).to_string()
        };
        format!(
            "(limit `{}`; raise it with `--limit {}={value}`)",
            self.name(),
            self.name()
        )
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl InputLimits {
    /// The value of one bound.
    #[must_use]
    pub fn get(&self, limit: Limit) -> u64 {
        match limit {
            Limit::FileBytes => self.file_bytes,
            Limit::Documents => self.documents as u64,
            Limit::Objects => self.objects as u64,
            Limit::Depth => self.depth as u64,
            Limit::AliasNodes => self.alias_nodes as u64,
            Limit::ScalarBytes => self.scalar_bytes as u64,
        }
    }

    /// Sets one bound from `NAME=VALUE` (`file-bytes=256Mi`, `documents=500000`): sizes take
    /// Kubernetes quantity suffixes.
    pub fn set(&mut self, setting: &str) -> Result<(), String> {
        let (name, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("`{setting}` is not NAME=VALUE"))?;
        let limit = Limit::ALL
            .into_iter()
            .find(|l| l.name() == name.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Limit::ALL.iter().map(|l| l.name()).collect();
                format!("unknown limit `{name}`: one of {}", names.join(", "))
            })?;
        let quantity = kubectl_vllm_core::Quantity::parse(value.trim())
            .map_err(|e| format!("`{value}` for `{name}`: {e}"))?;
        let n = quantity
            .to_u64()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("`{value}` for `{name}` is not a whole number above 0"))?;
        let size = usize::try_from(n).unwrap_or(usize::MAX);
        if limit == Limit::Depth && size > MAX_DEPTH {
            return Err(format!(
                "`depth` is at most {MAX_DEPTH}: deeper nesting would exhaust the stack of the walks over the tree"
            ));
        }
        match limit {
            Limit::FileBytes => self.file_bytes = n,
            Limit::Documents => self.documents = size,
            Limit::Objects => self.objects = size,
            Limit::Depth => self.depth = size,
            Limit::AliasNodes => self.alias_nodes = size,
            Limit::ScalarBytes => self.scalar_bytes = size,
        }
        Ok(())
    }
}

impl FromStr for InputLimits {
    type Err = String;

    /// Comma-separated `NAME=VALUE` settings over the defaults.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut limits = Self::default();
        for setting in s.split(',').filter(|p| !p.trim().is_empty()) {
            limits.set(setting)?;
        }
        Ok(limits)
    }
}

/// Bytes for messages: `200.0 MiB`, `512 B`.
#[must_use]
pub fn shown_bytes(bytes: u64) -> String {
    if bytes < 1 << 10 {
        format!("{bytes} B")
    } else {
        #[allow(clippy::cast_precision_loss)]
        let mib = bytes as f64 / f64::from(1 << 20);
        if mib < 1.0 {
            format!("{:.1} KiB", mib * 1024.0)
        } else {
            format!("{mib:.1} MiB")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_with_quantity_suffixes_and_refuse_nonsense() {
        let limits: InputLimits = "file-bytes=256Mi, documents=1e6,depth=64".parse().unwrap();
        assert_eq!(limits.file_bytes, 256 << 20);
        assert_eq!(limits.documents, 1_000_000);
        assert_eq!(limits.depth, 64);
        assert_eq!(limits.objects, InputLimits::default().objects);
        for bad in [
            "size=1",
            "depth",
            "depth=0",
            "depth=1.5",
            "depth=lots",
            "depth=5000",
        ] {
            assert!(bad.parse::<InputLimits>().is_err(), "{bad}");
        }
        assert_eq!(
            Limit::FileBytes.hint(64 << 20),
            "(limit `file-bytes`; raise it with `--limit file-bytes=128Mi`)"
        );
        assert_eq!(
            Limit::FileBytes.hint(200 << 20),
            "(limit `file-bytes`; raise it with `--limit file-bytes=256Mi`)"
        );
        assert_eq!(
            Limit::Documents.hint(10),
            "(limit `documents`; raise it with `--limit documents=20`)"
        );
        assert_eq!(shown_bytes(200 << 20), "200.0 MiB");
    }
}
