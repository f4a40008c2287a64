//! Evaluating one policy over every object of the set on several threads.
//!
//! Each worker owns an instance of the policy ([`Policy::fork`]: the compiled code is shared) and
//! takes the next chunk of objects from a shared counter until none is left. Results land in a
//! slot per object, so the caller reads them in input order: the report is the same for any
//! number of workers and any scheduling.

use std::sync::atomic::{AtomicUsize, Ordering};

use kubectl_vllm_host::{Evaluation, Inventory, Outcome, Policy, PolicyError};

/// Objects a worker takes at a time: large enough that the counter is not contended, small
/// enough that both workers finish together.
const CHUNK: usize = 32;

/// One object's evaluation result.
pub type Evaluated = Result<Vec<Outcome>, PolicyError>;

/// Evaluates `policy` on the first `count` objects of `inventory` (the input set, in order) with
/// `rules`, on up to `jobs` threads; the result for object `i` is at index `i`.
pub fn evaluate_all(
    policy: &mut Policy,
    inventory: &Inventory,
    count: usize,
    rules: &[String],
    jobs: usize,
) -> Vec<Evaluated> {
    let workers = jobs.clamp(1, count.div_ceil(CHUNK).max(1));
    if workers == 1 {
        return (0..count)
            .map(|i| evaluate_one(policy, inventory, i, rules))
            .collect();
    }
    let mut forks: Vec<Policy> = (1..workers).map(|_| policy.fork()).collect();
    let next = AtomicUsize::new(0);
    let run = |policy: &mut Policy| {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= count {
                return done;
            }
            for i in start..(start + CHUNK).min(count) {
                done.push((i, evaluate_one(policy, inventory, i, rules)));
            }
        }
    };
    let batches: Vec<Vec<(usize, Evaluated)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = forks
            .iter_mut()
            .map(|fork| scope.spawn(|| run(fork)))
            .collect();
        let mut batches = vec![run(policy)];
        for handle in handles {
            // A worker only panics if the host has a bug; surface it as the panic it is.
            batches.push(
                handle
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
        batches
    });
    let mut slots: Vec<Option<Evaluated>> = (0..count).map(|_| None).collect();
    for (i, result) in batches.into_iter().flatten() {
        slots[i] = Some(result);
    }
    slots
        .into_iter()
        .map(|slot| slot.expect("every object was taken by exactly one worker"))
        .collect()
}

/// Evaluates object `index` (its JSON as the inventory serialized it), its lookups scoped to
/// its unit.
fn evaluate_one(
    policy: &mut Policy,
    inventory: &Inventory,
    index: usize,
    rules: &[String],
) -> Evaluated {
    let entry = inventory
        .entry(index)
        .expect("the input set's objects come first in the inventory");
    let evaluation = Evaluation {
        object_ref: entry.reference.clone(),
        object: entry.json.clone(),
        rules: rules.to_vec(),
    };
    policy.evaluate_in(entry.unit, &evaluation)
}
