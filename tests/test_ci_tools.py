"""CI installs every system tool the tests run."""

from tests.support.tools import DEBIAN_PACKAGES, ci_packages


def test_ci_installs_the_package_of_every_tool_the_tests_need():
    assert set(DEBIAN_PACKAGES.values()) <= ci_packages()
