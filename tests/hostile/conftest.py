from tests.walkpaths import parametrize_walk_paths, walk_path  # noqa: F401  (the fixture)


def pytest_generate_tests(metafunc):
    parametrize_walk_paths(metafunc, ("test_tar_",))
