"""Two languages without message catalogues: every text is written in Chinese and English side by
side, as ``server.errors.ErrorCode`` does, and the one the request chose is shown. Chinese unless the
user chose English (the language switch sets Django's language cookie; ``LocaleMiddleware`` reads it)."""

from __future__ import annotations

from django.utils import translation


def english() -> bool:
    return (translation.get_language() or "").lower().startswith("en")


def t(zh: str, en: str) -> str:
    return en if english() else zh


def message_language() -> str:
    """The key of a stored bilingual message (``{"zh-hans": ..., "en": ...}``) for this request."""
    return "en" if english() else "zh-hans"
