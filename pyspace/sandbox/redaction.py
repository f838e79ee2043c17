"""Masking secret values in what a run shows to people — a safety net, not a guarantee.

Every value a run read with `get_secret` is replaced by `***` in stdout, stderr, error
messages, tracebacks and function results. Only *exact* occurrences are masked: code that
transforms a value (reverses it, base64-encodes it, prints it one character per line) can
still reveal it. Secrets are kept safe by not giving them to code you don't trust.
"""

MASK = "***"


class Redactor:
    """The secret values one run has read, and the masking of them."""

    def __init__(self):
        self._values: set[str] = set()

    def add(self, value: str) -> None:
        """Mask `value` from now on (empty values mask nothing)."""
        if value:
            self._values.add(value)

    def _longest_first(self) -> list[str]:
        # A value that contains another must be masked whole, before the shorter one.
        return sorted(self._values, key=len, reverse=True)

    def text(self, text: str, truncated: bool = False) -> str:
        """`text` with every secret value masked.

        For output cut at the size cap, a tail that could be the start of a value is masked
        too, so truncation never shows the first characters of a secret.
        """
        values = self._longest_first()
        for value in values:
            text = text.replace(value, MASK)
        if truncated:
            text = self._mask_cut_tail(text, values)
        return text

    @staticmethod
    def _mask_cut_tail(text: str, values: list[str]) -> str:
        for value in values:
            for length in range(min(len(value) - 1, len(text)), 0, -1):
                if text.endswith(value[:length]):
                    return text[:-length] + MASK
        return text

    def value(self, value):
        """A JSON value (a function's result) with every string, and every key, masked."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(key): self.value(item) for key, item in value.items()}
        return value
