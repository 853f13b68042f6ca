from __future__ import annotations

import pytest

from components.aws.instance_shapes import InstanceShape, instance_shape


@pytest.mark.parametrize(("instance_type", "shape"), [
    ("ml.m5.large", InstanceShape(2, 0)),
    ("ml.c5.2xlarge", InstanceShape(8, 0)),
    ("ml.g5.xlarge", InstanceShape(4, 1)),
    ("ml.g5.12xlarge", InstanceShape(48, 4)),
    ("g4dn.metal", InstanceShape(96, 8)),
    ("p4d.24xlarge", InstanceShape(96, 8)),
    ("ml.t2.medium", InstanceShape(2, 0)),
    ("m6g.medium", InstanceShape(1, 0)),
])
def test_vcpus_and_gpus_follow_the_size_and_family(instance_type, shape):
    assert instance_shape(instance_type) == shape


def test_unreadable_name_is_rejected():
    with pytest.raises(ValueError, match="cannot read the size"):
        instance_shape("ml.serverless")
