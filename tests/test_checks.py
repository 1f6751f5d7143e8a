"""Deploy checks (opinions/checks.py): no public secret key, a bounded Redis."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches

from opinions import checks

ROOT = Path(__file__).resolve().parent.parent


def env_example_value(name: str) -> str:
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}="):
            return line.partition("=")[2]
    raise LookupError(name)


PLACEHOLDER = env_example_value("DJANGO_SECRET_KEY")


def ids(problems) -> list[str]:
    return [problem.id for problem in problems]


def test_the_env_example_placeholder_key_is_refused(settings):
    settings.SECRET_KEY = PLACEHOLDER
    problems = checks.check_secret_key_not_public(None)
    assert ids(problems) == ["opinions.E001"]
    assert ".env.example" in problems[0].msg


def test_a_key_written_anywhere_in_the_repository_is_refused(settings):
    settings.SECRET_KEY = settings.INSECURE_SECRET_KEY  # written in portal/settings.py
    assert ids(checks.check_secret_key_not_public(None)) == ["opinions.E001"]


def test_a_public_fallback_key_is_refused_too(settings):
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    settings.SECRET_KEY_FALLBACKS = [PLACEHOLDER]
    assert ids(checks.check_secret_key_not_public(None)) == ["opinions.E001"]


def test_a_generated_key_passes(settings):
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    assert checks.check_secret_key_not_public(None) == []


def test_the_server_refuses_to_start_with_the_placeholder_key():
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": PLACEHOLDER,
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    started = subprocess.run(
        [sys.executable, "-c", "import portal.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and ".env.example" in started.stderr


def redis_cache(settings, location: str) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": settings.REDIS_OPTIONS,
        },
    }
    settings.OPINIONS_CACHE = "redis"


def test_a_memory_cache_needs_no_redis_settings(settings):
    assert checks.check_redis_is_bounded(None) == []


def test_an_unreachable_redis_is_a_warning(settings):
    redis_cache(settings, "redis://127.0.0.1:1/0")  # nothing listens there
    assert ids(checks.check_redis_is_bounded(None)) == ["opinions.W001"]


def test_a_redis_without_a_limit_or_eviction_is_a_warning(settings):
    redis_cache(settings, "redis://127.0.0.1:6379/5")
    try:
        memory = caches["redis"]._cache.get_client().info("memory")
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    expected = []
    if not int(memory["maxmemory"]):
        expected.append("opinions.W001")
    if memory["maxmemory_policy"] not in checks.EVICTING_POLICIES:
        expected.append("opinions.W002")
    assert ids(checks.check_redis_is_bounded(None)) == expected
