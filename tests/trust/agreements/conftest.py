"""The articulations app's world (a consortium with people in every agreement role)."""

from tests.articulations.conftest import _today, world  # noqa: F401
