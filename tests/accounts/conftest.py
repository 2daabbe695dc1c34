"""The fake providers' fixtures (`fake`, `web`) for every OAuth test module here."""

from tests.accounts.test_oauth import fake, web  # noqa: F401 - fixtures, found by name
