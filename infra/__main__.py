"""Entry point for both `pulumi up` (Pulumi.yaml `main: infra/`) and `python -m infra` (the plan CLI).

Under the Pulumi engine (or the offline plan's mocks) a resource monitor is configured and this file
runs the stack program; from a shell there is none and it runs the command-line interface.
"""

from pulumi.runtime.settings import get_monitor

if get_monitor() is not None:
    from infra.program import run

    run()
else:
    from infra.cli import main

    raise SystemExit(main())
