from doorstep.sampling.tests.conftest import lane_world  # noqa: F401
