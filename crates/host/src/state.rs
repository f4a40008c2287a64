//! What a policy instance's store holds: WASI with nothing granted, its limiter and captured
//! stderr, and the run's [`Shared`] lookups.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::limits::{Limiter, Limits};
use crate::{Cluster, FactTables, Inventory};

/// What every policy of a run may look up.
#[derive(Debug, Default)]
pub struct Shared {
    /// The input set.
    pub inventory: Inventory,
    /// The fact tables (shared by the runs of one config).
    pub facts: Arc<FactTables>,
    /// Cluster facts.
    pub cluster: Cluster,
}

/// Per-instance state.
pub(crate) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) shared: Arc<Shared>,
    /// The unit of the object under evaluation: what its lookups see (`Entry::unit`).
    pub(crate) unit: u32,
    /// The input set changed since the last call: `lifecycle.reset` is due.
    pub(crate) reset_due: bool,
    /// Input sets this instance moved on to (resets called).
    pub(crate) sets: u32,
}

impl State {
    pub(crate) fn new(shared: &Arc<Shared>, limits: &Limits) -> Self {
        let stderr = MemoryOutputPipe::new(64 << 10);
        // Nothing is granted: no preopens, env, args, network or inherited stdio.
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                max: limits.memory_bytes,
                current: 0,
                exceeded: false,
            },
            stderr,
            shared: Arc::clone(shared),
            unit: 0,
            reset_due: false,
            sets: 0,
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
