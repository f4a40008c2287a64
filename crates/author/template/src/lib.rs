//! The `{{name}}` policy for kubectl-vllm.
//!
//! Each rule is one module under `rules/`: its doc comment is what `kubectl vllm explain <rule>`
//! prints, and `fixtures/rules/<rule>/` holds a bad and a good manifest whose `# expect:`
//! markers `kubectl vllm policy test` checks. A new rule: a module here, its name in `policy!`
//! below, and its fixtures.

mod rules {
    pub mod {{rule_module}};
}

use rules::{{rule_module}}::{{rule_type}};

kubectl_vllm_sdk::policy!(name: "{{name}}", rules: [{{rule_type}}]);
