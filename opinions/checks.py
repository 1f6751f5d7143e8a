"""System checks for production (``manage.py check --deploy``, run by ``make serve``).

- opinions.E001: the secret key (or a fallback) is written somewhere in the repository —
  the ``.env.example`` placeholder, a value from the README — so anyone who has read the
  code can sign sessions and password-reset links. The web entry points refuse to start
  with it too (``portal/wsgi.py``).
- opinions.W001 / W002: the shared cache (Redis) has no memory limit, or a policy that
  refuses writes when full instead of evicting: the cache must stay bounded whatever
  visitors ask for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

# Not the repository's own files: tools' and build output, local databases, and .env
# (where the real secret is kept, never committed).
SKIPPED_DIRECTORIES = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "staticfiles",
    "artifacts",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
}
SKIPPED_FILES = {".env"}
SKIPPED_SUFFIXES = {".sqlite3", ".mo", ".pyc"}
MAX_FILE_BYTES = 2_000_000
# Shorter secrets are refused by Django's own check (security.W009).
MIN_SECRET_LENGTH = 16


def repository_files(root: Path) -> Iterator[Path]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if name not in SKIPPED_DIRECTORIES]
        for name in files:
            path = Path(directory, name)
            if name in SKIPPED_FILES or path.suffix in SKIPPED_SUFFIXES:
                continue
            yield path


def secrets_in_repository(secrets: list[str], root: Path | None = None) -> list[tuple[str, Path]]:
    """(secret, first file holding it) for each of ``secrets`` written in a file of the
    repository (the project directory, without .env, .git and installed packages)."""
    wanted = {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH}
    found: dict[str, Path] = {}
    for path in repository_files(root or Path(settings.BASE_DIR)):
        if not wanted - found.keys():
            break
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            content = path.read_bytes()
        except OSError:
            continue
        for secret in wanted - found.keys():
            if secret.encode() in content:
                found[secret] = path
    return [(secret, path) for secret, path in found.items()]


def secret_key_problem() -> str | None:
    """Why the configured secret key must not be used to serve, or None."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    for secret, path in secrets_in_repository(keys):
        which = "DJANGO_SECRET_KEY" if secret == settings.SECRET_KEY else "SECRET_KEY_FALLBACKS"
        relative = path.relative_to(settings.BASE_DIR)
        return (
            f"{which} is written in {relative}, so it is public. Generate one: "
            'python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    return None


@register(Tags.security, deploy=True)
def check_secret_key_not_public(app_configs, **kwargs):
    problem = secret_key_problem()
    return [Error(problem, id="opinions.E001")] if problem else []


# Policies that evict when the limit is reached; every entry has a time to live
# (OPINIONS_CACHE_SECONDS), so the volatile-* ones evict cache entries too.
EVICTING_POLICIES = {
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
}


@register(Tags.caches, deploy=True)
def check_redis_is_bounded(app_configs, **kwargs):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches[settings.OPINIONS_CACHE]
    if not isinstance(backend, RedisCache):
        return []  # memory per process, bounded by MAX_ENTRIES and OPINIONS_LOCAL_CACHE_ENTRIES
    hint = (
        "Set in redis.conf (or with CONFIG SET): maxmemory 256mb and "
        "maxmemory-policy allkeys-lru (see README, Security)."
    )
    try:
        memory = backend._cache.get_client(write=True).info("memory")
    except Exception as error:
        return [
            Warning(
                f"Could not read the Redis memory settings at REDIS_URL: {error}",
                hint=hint,
                id="opinions.W001",
            )
        ]
    problems = []
    if not int(memory.get("maxmemory", 0)):
        problems.append(
            Warning("Redis has no memory limit (maxmemory 0).", hint=hint, id="opinions.W001")
        )
    policy = memory.get("maxmemory_policy", "")
    if policy not in EVICTING_POLICIES:
        problems.append(
            Warning(
                f"Redis maxmemory-policy is {policy or 'unknown'}: a full cache would refuse "
                "writes instead of evicting old entries.",
                hint=hint,
                id="opinions.W002",
            )
        )
    return problems
