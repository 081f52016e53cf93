"""The sink for undeliverable messages: counted and logged, never silently dropped."""

from __future__ import annotations

import logging
from collections import deque

from ._messages import DeadLetter

__all__ = ["DeadLetters"]

logger = logging.getLogger(__name__)


class DeadLetters:
    """Counts every undeliverable message and keeps the most recent ones for inspection."""

    def __init__(self, keep: int = 1000) -> None:
        self.count = 0
        self.recent: deque[DeadLetter] = deque(maxlen=keep)

    def publish(self, recipient: str, message: object, reason: str) -> None:
        self.count += 1
        letter = DeadLetter(recipient=recipient, message=message, reason=reason)
        self.recent.append(letter)
        logger.info("dead letter to %s (%s): %s", recipient, reason, type(message).__name__)
