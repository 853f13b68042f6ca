"""The local target: the whole platform on this machine's Docker (no provider keys: pulumi_docker talks to the local
daemon, or to `docker:host` when set), one container per slot, the artifact store's password as an optional
secret."""

from infra.targets import Target, register
from infra.targets.local.composition import PASSWORD_KEY, compose
from infra.targets.local.preflight import CONTAINER, check_local

TARGET = register(Target(cloud="local", compose=compose, preflight=check_local, default_instance_type=CONTAINER,
                         secret_keys=(PASSWORD_KEY,)))
