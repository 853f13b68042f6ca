"""mlops-platform CrossGuard policy pack.

``policy.policies.POLICIES`` is the list of policies (importable without starting the pack),
``policy/__main__.py`` serves them to the Pulumi CLI (``pulumi preview --policy-pack policy``) and
``python -m policy.check PLAN.json`` runs the same policies offline over a plan from ``python -m infra plan``.
"""
