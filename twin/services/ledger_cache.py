"""The ledger's balance cache: balances this process committed last, valid while nobody else wrote."""

from __future__ import annotations


class BalanceCache:
    """Balances this process last committed, valid while the ledger's version is the one it wrote.

    Any other writer (another process, or a caller's own transaction) bumps the version, and
    the next batch then reads every balance from the store again.
    """

    MAX_ACCOUNTS = 1_000_000

    def __init__(self) -> None:
        self.version: int | None = None
        self.balances: dict[str, int] = {}
        self.rules: dict[str, tuple[int, bool]] = {}  # account -> (side, may go negative): never stale
        self._pending: tuple[int, dict[str, int], bool] | None = None

    def valid_at(self, version: int) -> dict[str, int]:
        """The cached balances if the store is still at `version`, else nothing."""
        return self.balances if version == self.version else {}

    def stage(self, version: int, balances: dict[str, int], was_valid: bool) -> None:
        """What to remember once the batch's transaction has committed."""
        self._pending = (version, balances, was_valid)

    def confirm(self) -> None:
        """The transaction committed: adopt the staged balances."""
        if self._pending is None:
            return
        version, balances, was_valid = self._pending
        if not was_valid or len(self.balances) > self.MAX_ACCOUNTS:
            self.balances = {}
        if len(self.rules) > self.MAX_ACCOUNTS:
            self.rules = {}
        self.balances.update(balances)
        self.version, self._pending = version, None
