"""Observability: request and query timing, error groups, Sentry, external-call monitoring,
health, stats endpoints and alerts. `log_error` is the one helper other apps call directly."""


def log_error(exc: BaseException, **context: object) -> object:
    """Group and log an exception the caller caught (see `monitoring.errors.log_error`)."""
    from monitoring.errors import log_error as _log_error

    return _log_error(exc, **context)
