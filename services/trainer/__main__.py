"""Entry point for ``python -m services.trainer``."""

from services.trainer.cli import main

raise SystemExit(main())
