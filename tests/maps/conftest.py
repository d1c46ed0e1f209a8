from tests.support.browser import browser  # noqa: F401 (the browser tests' fixture)
