"""Entry point for ``python -m services.drift_monitor``."""

from services.drift_monitor.cli import main

raise SystemExit(main())
