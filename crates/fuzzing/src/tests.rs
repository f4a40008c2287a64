//! The stable replay: seeds, regressions, and a short deterministic mutation run per target.

use super::{TARGETS, seeds};

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes libFuzzer's mutators like to insert, plus YAML's own punctuation.
const TOKENS: &[&[u8]] = &[
    b"&a ",
    b"*a",
    b"<<: ",
    b"- ",
    b": ",
    b"\n  ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"'",
    b"\"",
    b"#",
    b"|",
    b">-",
    b"---\n",
    b"...\n",
    b"!!str ",
    b"\t",
    b"\r\n",
    b"\xc3\xa9",
    b"~",
    b"0x",
    b"1e3",
    b"Gi",
    b"\\",
    b"--tensor-parallel-size=",
    b"$(VAR)",
    b"\x00",
    b"\x1f",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            2 if at < out.len() => {
                let end = (at + rng.below(16) + 1).min(out.len());
                out.drain(at..end);
            }
            3 if at < out.len() => {
                let end = (at + rng.below(64) + 1).min(out.len());
                let chunk = out[at..end].to_vec();
                out.splice(at..at, chunk);
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(128) + 1).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => out.truncate(at),
        }
    }
    out
}

fn run(name: &str, target: fn(&[u8]), input: &[u8], what: &str) {
    let result = std::panic::catch_unwind(|| target(input));
    assert!(
        result.is_ok(),
        "fuzz target `{name}` fails on {what}; input (escaped): {:?}",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn every_target_has_seeds_from_the_fixtures() {
    for (name, _) in TARGETS {
        assert!(
            seeds::of(name).len() >= 4,
            "target `{name}` has too few seeds"
        );
    }
}

#[test]
fn seeds_and_regressions_pass_every_target() {
    for (name, target) in TARGETS {
        for (i, seed) in seeds::of(name).iter().enumerate() {
            run(name, *target, seed, &format!("seed {i}"));
        }
        for (path, input) in seeds::regressions(name) {
            run(name, *target, &input, &path.display().to_string());
        }
    }
}

/// The smoke run CI makes: a few thousand mutated inputs per target, the same every time.
#[test]
fn a_short_mutation_run_finds_nothing() {
    const PER_SEED: usize = 12;
    for (name, target) in TARGETS {
        let seeds = seeds::of(name);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        for (i, seed) in seeds.iter().enumerate() {
            let other = &seeds[rng.below(seeds.len())];
            for round in 0..PER_SEED {
                let input = mutate(&mut rng, seed, other);
                run(
                    name,
                    *target,
                    &input,
                    &format!("mutation {round} of seed {i}"),
                );
            }
        }
    }
}
