//! A policy the host must refuse, for its tests: a well-formed 0.2 policy whose rule reads the
//! filesystem, opens a socket, reads the clocks and asks for random bytes, so the component
//! imports `wasi:filesystem/preopens`, `wasi:sockets/*`, `wasi:clocks/*` and
//! `wasi:random/random`. The host links WASI with nothing granted, so these calls could not reach
//! anything; the allow-list refuses the component before it runs at all. Built with the default
//! policies, never embedded.

use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reports what it finds in the host's root directory and whether a socket opens. Test-only.
    ///
    /// ## Source
    /// The host's sandbox tests.
    pub struct ForbiddenReach {
        id: "forbidden-reach",
        severity: Info,
        fix: None,
        summary: "reads files and opens sockets (must be refused at load)",
    }
}

impl Rule for ForbiddenReach {
    const KINDS: Kinds = Kinds::Only(&["ConfigMap"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        let files = std::fs::read_dir("/").map_or(0, Iterator::count);
        let socket = std::net::TcpStream::connect(("10.0.0.1", 80)).is_ok();
        let now = std::time::SystemTime::now();
        let started = std::time::Instant::now();
        let random = wasip2::random::random::get_random_u64();
        out.report(
            &Pointer::root(),
            format!(
                "{} sees {files} files; socket: {socket}; {now:?} after {:?}; {random}",
                cx.name(),
                started.elapsed()
            ),
        );
    }
}

kubectl_vllm_sdk::policy!(name: "forbidden", rules: [ForbiddenReach]);
