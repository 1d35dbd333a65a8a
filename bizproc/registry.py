"""One registry shape for what apps plug in: activities, document providers, dialog widgets.

Each holds items by a key the item itself carries (an activity's ``type``, a provider's
``module``, a widget's ``kind``), refuses a key given twice (two modules claiming one type is
a bug to see at start-up, not a silent override) and keeps the order items came in, which the
palette and the lists follow.
"""

from collections.abc import Callable, Iterator


class AlreadyRegistered(Exception):
    pass


class Registry[T]:
    def __init__(self, *, key: Callable[[T], str]) -> None:
        self._key = key
        self._items: dict[str, T] = {}

    def register(self, item: T) -> T:
        """Registers ``item`` and returns it, so that it serves as a decorator."""
        key = self._key(item)
        if key in self._items:
            raise AlreadyRegistered(key)
        self._items[key] = item
        return item

    def find(self, key: str) -> T | None:
        return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def all(self) -> list[T]:
        return list(self._items.values())
