"""Turning the services' domain errors into messages a person can act on."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from orchestration.services.runs import RunError

# The exception types a service raises for a request it refuses (not for bugs).
DOMAIN_ERRORS: tuple[type[Exception], ...] = (RunError, ValidationError)


def domain_errors() -> tuple[type[Exception], ...]:
    return DOMAIN_ERRORS


def domain_error_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or exc.__class__.__name__
