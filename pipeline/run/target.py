"""The adapter a plan or a sync talks to (``open_target``): ``--target`` checked, its base
URL and required options found, its API key read from the environment."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.errors import UsageError
from pipeline.http import RetryPolicy
from pipeline.progress import Progress
from pipeline.requirements import Requirements
from pipeline.secrets import api_key_from_env
from pipeline.target_options import check_options
from pipeline.targets import target_class
from pipeline.targets.base import Target, TargetSettings


def open_target(settings: Settings, progress: Progress | None = None) -> Target:
    """The adapter for ``settings.target``, with its key from the environment."""
    if not settings.target:
        raise UsageError("no target: give --target (one of arnis, consuelo, dmchamp, oliai, zexa)")
    cls = target_class(settings.target)
    # spaces around it (pasted, or in a job file's quotes) would be sent as part of it
    base_url = (settings.base_url or cls.capabilities.default_base_url or "").strip()
    if not base_url:
        raise UsageError(
            f"{settings.target} has no public URL: give your account's API root with --base-url"
        )
    caps = cls.capabilities
    check_options(settings.target, {*caps.known_options, *caps.required_options}, settings.options)
    missing = [o for o in cls.capabilities.required_options if o not in settings.options]
    if missing:
        raise UsageError(
            f"{settings.target} needs --option {missing[0]}=... (or {missing[0]} under [options] in the job file)"
        )
    target_settings = TargetSettings(
        base_url=base_url,
        api_key=api_key_from_env(settings.api_key_env),
        options=dict(settings.options),
        concurrency=settings.concurrency,
        rate_limit=settings.rate_limit,
        chunk_size=settings.chunk_size,
        retry=RetryPolicy(budget=settings.retry_timeout),
    )
    return cls(target_settings, progress)


def requirements_of(settings: Settings) -> tuple[Requirements | None, str]:
    """What ``settings.target`` requires of a contact, and its name (None: no target).
    Its options are checked too: ``validate --config job.toml`` is the dry run of a job
    file, and passes only what ``sync`` would run with."""
    if not settings.target:
        return None, ""
    cls = target_class(settings.target)
    caps = cls.capabilities
    check_options(settings.target, {*caps.known_options, *caps.required_options}, settings.options)
    return cls.capabilities.requires, cls.name
