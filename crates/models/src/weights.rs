//! The weights vLLM loads from a model directory, counted exactly and offline: the sharded
//! checkpoint's index (`model.safetensors.index.json`, whose `metadata.total_size` is the tensor
//! bytes and whose `weight_map` names the shards vLLM reads), else the safetensors files' own
//! headers (8 bytes of length, then a JSON table of every tensor's dtype, shape and byte range;
//! only the header is read), else PyTorch `.bin` files by size. Files the index does not name
//! (Mistral's `consolidated.safetensors` beside its shards) and subfolders (`original/`, `metal/`)
//! are not loaded: they count towards the repository only.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The weights vLLM loads, and how they were counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    /// Tensor bytes.
    pub bytes: u64,
    /// Parameters, when every tensor's header was read and none is packed.
    pub parameters: Option<u64>,
    /// What the count comes from (`model.safetensors.index.json`, `safetensors headers`).
    pub source: String,
    /// Whether the weight files themselves are in the directory.
    pub present: bool,
    /// Said to the user: what could not be counted.
    pub notes: Vec<String>,
}

/// Why the weights could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WeightsError(pub String);

/// The largest safetensors header the format allows (its reference reader refuses more).
const MAX_HEADER: u64 = 100_000_000;

/// Floating-point tensor dtypes: one value per element. Integer tensors may pack several
/// (GPTQ's int32, MXFP4's uint8 blocks), so a checkpoint holding one has no exact parameter count.
const FLOAT_DTYPES: &[&str] = &["F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0"];

/// The weights in `dir`, or `None` when it holds neither an index nor weight files.
pub fn weights(dir: &Path) -> Result<Option<Weights>, WeightsError> {
    let index = dir.join("model.safetensors.index.json");
    if index.is_file() {
        return from_index(dir, &index).map(Some);
    }
    let shards = top_level(dir, "safetensors")?;
    if !shards.is_empty() {
        let (bytes, parameters, notes) = headers(&shards)?;
        return Ok(Some(Weights {
            bytes,
            parameters,
            source: "safetensors headers".into(),
            present: true,
            notes,
        }));
    }
    let bins = top_level(dir, "bin")?;
    if !bins.is_empty() {
        let bytes = bins.iter().map(|p| size(p)).sum::<Result<u64, _>>()?;
        return Ok(Some(Weights {
            bytes,
            parameters: None,
            source: "PyTorch .bin file sizes".into(),
            present: true,
            notes: vec![
                "PyTorch .bin weights: counted by file size (a little more than the tensors)"
                    .into(),
            ],
        }));
    }
    Ok(None)
}

fn from_index(dir: &Path, index: &Path) -> Result<Weights, WeightsError> {
    let text = std::fs::read_to_string(index)
        .map_err(|e| WeightsError(format!("cannot read `{}`: {e}", index.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| WeightsError(format!("`{}` is not JSON: {e}", index.display())))?;
    let total = value.pointer("/metadata/total_size");
    let total = total
        .and_then(Value::as_u64)
        .or_else(|| total.and_then(Value::as_str).and_then(|s| s.parse().ok()));
    let shards: BTreeSet<PathBuf> = value
        .get("weight_map")
        .and_then(Value::as_object)
        .map(|m| {
            m.values()
                .filter_map(Value::as_str)
                .map(|f| dir.join(f))
                .collect()
        })
        .unwrap_or_default();
    let present = !shards.is_empty() && shards.iter().all(|s| s.is_file());
    let mut notes = Vec::new();
    let (bytes, parameters) = match (total, present) {
        (Some(total), true) => {
            let shards: Vec<PathBuf> = shards.into_iter().collect();
            let (_, parameters, header_notes) = headers(&shards)?;
            notes.extend(header_notes);
            (total, parameters)
        }
        (Some(total), false) => {
            notes.push("the shards are not in the directory: parameters not counted".into());
            (total, None)
        }
        (None, true) => {
            let shards: Vec<PathBuf> = shards.into_iter().collect();
            let (bytes, parameters, header_notes) = headers(&shards)?;
            notes.extend(header_notes);
            (bytes, parameters)
        }
        (None, false) => {
            return Err(WeightsError(format!(
                "`{}` has no `metadata.total_size` and its shards are not in the directory: the weights cannot be counted (give --weights-mib)",
                index.display()
            )));
        }
    };
    Ok(Weights {
        bytes,
        parameters,
        source: "model.safetensors.index.json".into(),
        present,
        notes,
    })
}

/// Files `*.EXT` directly in `dir`, sorted.
fn top_level(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, WeightsError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| WeightsError(format!("cannot read `{}`: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    Ok(files)
}

fn size(path: &Path) -> Result<u64, WeightsError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| WeightsError(format!("cannot read `{}`: {e}", path.display())))
}

/// Tensor bytes and parameters of safetensors files, from their headers alone.
fn headers(files: &[PathBuf]) -> Result<(u64, Option<u64>, Vec<String>), WeightsError> {
    let mut bytes = 0u64;
    let mut parameters = Some(0u64);
    let mut packed = BTreeSet::new();
    for file in files {
        for tensor in header(file)? {
            bytes += tensor.end - tensor.start;
            if FLOAT_DTYPES.contains(&tensor.dtype.as_str()) {
                parameters = parameters.map(|p| p + tensor.elements);
            } else {
                packed.insert(tensor.dtype);
                parameters = None;
            }
        }
    }
    let notes = if packed.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "integer tensors ({}) may pack several values per element: parameters not counted",
            packed.into_iter().collect::<Vec<_>>().join(", ")
        )]
    };
    Ok((bytes, parameters, notes))
}

struct Tensor {
    dtype: String,
    elements: u64,
    start: u64,
    end: u64,
}

/// The tensors a safetensors file's header lists; only the header is read.
fn header(path: &Path) -> Result<Vec<Tensor>, WeightsError> {
    let bad = |why: String| {
        WeightsError(format!(
            "`{}` is not a safetensors file: {why}",
            path.display()
        ))
    };
    let mut file = std::fs::File::open(path)
        .map_err(|e| WeightsError(format!("cannot read `{}`: {e}", path.display())))?;
    let file_len = file.metadata().map_or(0, |m| m.len());
    let mut length = [0u8; 8];
    file.read_exact(&mut length)
        .map_err(|_| bad("shorter than its 8-byte header length".into()))?;
    let length = u64::from_le_bytes(length);
    if length > MAX_HEADER || 8 + length > file_len {
        return Err(bad(format!(
            "a header of {length} bytes in a file of {file_len}"
        )));
    }
    let mut text = Vec::new();
    file.take(length)
        .read_to_end(&mut text)
        .map_err(|e| bad(e.to_string()))?;
    let table: serde_json::Map<String, Value> = serde_json::from_slice(&text)
        .map_err(|e| bad(format!("its header is not a JSON object ({e})")))?;
    let data = file_len - 8 - length;
    let mut tensors = Vec::with_capacity(table.len());
    for (name, entry) in table {
        if name == "__metadata__" {
            continue;
        }
        let dtype = entry.get("dtype").and_then(Value::as_str);
        let shape: Option<Vec<u64>> = entry
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|s| s.iter().map(Value::as_u64).collect());
        let offsets: Option<Vec<u64>> = entry
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|s| s.iter().map(Value::as_u64).collect());
        let (Some(dtype), Some(shape), Some(&[start, end])) = (dtype, shape, offsets.as_deref())
        else {
            return Err(bad(format!(
                "tensor `{name}` lacks a dtype, shape or data_offsets"
            )));
        };
        if start > end || end > data {
            return Err(bad(format!(
                "tensor `{name}` spans bytes {start}..{end} of {data}"
            )));
        }
        let elements = shape.iter().try_fold(1u64, |n, d| n.checked_mul(*d));
        let Some(elements) = elements else {
            return Err(bad(format!(
                "tensor `{name}` has more elements than a u64 holds"
            )));
        };
        tensors.push(Tensor {
            dtype: dtype.to_string(),
            elements,
            start,
            end,
        });
    }
    Ok(tensors)
}

/// Bytes of every file under `dir` (the repository as copied blindly), and the top-level
/// subfolders holding weight files vLLM does not load (`original/`, `metal/`).
#[must_use]
pub fn repository(dir: &Path) -> (u64, Vec<String>) {
    fn walk(dir: &Path, total: &mut u64, weights: &mut bool) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == ".git" || name == ".cache" {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(&path, total, weights),
                Ok(t) if t.is_file() => {
                    *total += entry.metadata().map_or(0, |m| m.len());
                    *weights |= path.extension().is_some_and(|e| {
                        ["safetensors", "bin", "pth", "pt", "gguf"]
                            .iter()
                            .any(|w| e == *w)
                    });
                }
                _ => {}
            }
        }
    }
    let mut total = 0;
    let mut extra = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".git" || name == ".cache" {
            continue;
        }
        if path.is_dir() {
            let mut weights = false;
            walk(&path, &mut total, &mut weights);
            if weights {
                extra.push(format!("{name}/"));
            }
        } else {
            total += entry.metadata().map_or(0, |m| m.len());
        }
    }
    extra.sort();
    (total, extra)
}
