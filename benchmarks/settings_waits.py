"""The intake benchmark's settings with a fast password hasher: bench_waits compares servers, and
PBKDF2's deliberate cost per signature would hide them."""

from benchmarks.settings_bench import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
