"""A kubectl-vllm policy in Python, built into a WebAssembly component by componentize-py.

It proves the contract (wit/policy.wit) is language-neutral: the host loads it like the Rust
policies, through the same bindings. `./build` makes the component; see README.md.
"""
import json

from wit_world import exports
from wit_world.imports import types as t

RULE = "py-example-revision-history"

DOC = """## What it does

Flags a Deployment that does not set `spec.revisionHistoryLimit`.

## Why is this bad?

Without it Kubernetes keeps 10 old ReplicaSets per Deployment, which clutters the
namespace and `kubectl get rs` output.

## Example

```yaml
apiVersion: apps/v1
kind: Deployment
spec:
  replicas: 1
```

## Fix safety

Safe: adding `revisionHistoryLimit: 3` changes only how many old ReplicaSets are kept.

## Source

Kubernetes documentation, "Deployments: Revision History Limit".
"""


class Policy(exports.Policy):
    def metadata(self) -> t.PolicyInfo:
        return t.PolicyInfo(
            name="py-example",
            version="0.1.0",
            rules=[
                t.RuleInfo(
                    id=RULE,
                    default_severity=t.Severity.WARNING,
                    fix=t.FixAvailability_Always(t.Applicability.SAFE),
                    requires=t.Requirements(providers=[], complete_set=False),
                    summary="Deployment without spec.revisionHistoryLimit",
                    documentation=DOC,
                )
            ],
        )

    def evaluate(self, input: t.Evaluation) -> list:
        if RULE not in input.rules:
            return []
        if input.object_ref.kind != "Deployment":
            return []
        obj = json.loads(input.object)
        spec = obj.get("spec")
        if not isinstance(spec, dict) or "revisionHistoryLimit" in spec:
            return []
        fix = t.Fix(
            title="set spec.revisionHistoryLimit to 3",
            applicability=t.Applicability.SAFE,
            operations=[t.PatchOp_Add(t.PathValue(path="/spec/revisionHistoryLimit", value="3"))],
        )
        return [
            t.Outcome_Finding(
                t.Finding(
                    rule=RULE,
                    message=f"Deployment {input.object_ref.name} does not set spec.revisionHistoryLimit (Kubernetes keeps 10 old ReplicaSets)",
                    help="set spec.revisionHistoryLimit to a small number such as 3",
                    pointer="/spec",
                    severity=None,
                    sub_span=None,
                    fix=fix,
                )
            )
        ]
